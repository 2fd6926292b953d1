package app

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/inbound"
	"github.com/consentgate/consentgate/internal/store/postgres/pgtest"
	"github.com/consentgate/consentgate/internal/vault"
	"github.com/jackc/pgx/v5"
)

// The multi-process test's sizes. A dispatcher leases at most Batch+Workers
// messages (256+16 by default), so no more than that can be in flight on a
// node when it dies.
const (
	mpPhone         = "+4520123456"
	mpMessages      = 2000
	mpBatch         = 500 // the batch endpoint's limit
	mpLease         = 3 * time.Second
	mpProviderDelay = 20 * time.Millisecond
	// While the messages are being queued the provider answers slowly, so
	// that most of them are still to be sent when node A dies.
	mpQueueingDelay = 100 * time.Millisecond
	mpMaxInFlight   = 256 + 16
)

// TestMultiProcess is issue 9's multi-node test with real processes: two
// `consentgate serve` binaries on one PostgreSQL schema with one master key.
// A STOP through node A's webhook makes node B refuse the next send within
// a second; node A is then killed (SIGKILL) while its dispatcher hands
// messages to an http provider, and node B sends the rest once A's leases
// have run out. Every accepted message reaches the provider; the only
// repeats are messages A had leased when it died, and they carry the same
// idempotency key (the message id), which a provider that honours the key
// drops.
func TestMultiProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs two server processes on PostgreSQL; skipped under -short")
	}
	start := time.Now()
	dsn, schema := pgtest.Schema(t) // skips without PostgreSQL (fails under CI=true)
	bin := buildConsentgate(t)
	t.Logf("built %s in %v", filepath.Base(bin), time.Since(start).Round(time.Millisecond))
	dir := t.TempDir()
	masterKey := writeMasterKey(t, dir)
	pv := newProvider(t, mpProviderDelay)
	e := &mpEnv{t: t, client: &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}}
	t.Cleanup(e.client.CloseIdleConnections)
	e.key = keysCreate(t, bin, withAppName(t, dsn, schema+"-keys"), dir, masterKey)

	node := func(name string) *proc {
		return startProc(t, bin, name, "--db", withAppName(t, dsn, schema+"-"+name),
			"--data", filepath.Join(dir, "data-"+name), "--master-key-file", masterKey, "--outbox-lease", mpLease.String(),
			"--allow-private-egress", "true") // the provider is a test server on 127.0.0.1
	}
	a, b := node("a"), node("b")
	contact, webhookKey := e.setup(a, b, pv.URL+"/send")

	prop, late := e.stopPropagates(a, b, webhookKey)
	t.Logf("STOP through A: B refused the next send after %v", prop.Round(time.Millisecond))

	e.must(a, "PUT", "/v1/contacts/"+contact+"/consents/offers/sms", `{"status":"granted","source":"web"}`, 200)
	t.Logf("re-grant through A reached B after %v", e.waitDecision(b, "consent_granted", time.Second).Round(time.Millisecond))
	e.crashMidDispatch(a, b, pv, dsn, contact)
	reportLate(t, pv, dsn, late)

	if code := b.stop(t); code != 0 {
		t.Errorf("node b exited with %d after SIGINT, want 0", code)
	}
	t.Logf("whole test: %v", time.Since(start).Round(time.Millisecond))
}

// setup configures the tenant through node A — purpose, contact with
// consent, a short code, the http provider, a generic webhook secret — and
// waits until node B decides on the grant. A first send through B is
// accepted.
func (e *mpEnv) setup(a, b *proc, providerURL string) (contact string, webhookKey []byte) {
	e.t.Helper()
	e.must(a, "POST", "/v1/purposes", `{"key":"offers","name":"Offers","category":"marketing","basis":"consent","channels":["sms"]}`, 201)
	contact = fmt.Sprint(e.must(a, "POST", "/v1/contacts", `{"identifiers":{"phone":"+45 20 12 34 56"}}`, 201)["id"])
	e.must(a, "PUT", "/v1/contacts/"+contact+"/consents/offers/sms", `{"status":"granted","source":"web"}`, 200)
	e.must(a, "POST", "/v1/senders", `{"channel":"sms","kind":"short_code","address":"1234","purposes":["offers"]}`, 201)
	e.must(a, "PUT", "/v1/providers/sms", `{"kind":"http","settings":{"url":"`+providerURL+`"}}`, 200)
	secret := e.must(a, "POST", "/v1/webhook-secrets", `{"provider":"generic"}`, 201)["secret"]
	webhookKey, err := inbound.ParseSecret(fmt.Sprint(secret))
	if err != nil {
		e.t.Fatalf("generic webhook secret %v: %v", secret, err)
	}
	e.t.Logf("grant through A reached B after %v", e.waitDecision(b, "consent_granted", time.Second).Round(time.Millisecond))
	e.must(b, "POST", "/v1/messages", mpOffer, 202)
	return contact, webhookKey
}

const mpOffer = `{"to":{"phone":"` + mpPhone + `"},"channel":"sms","purpose":"offers","sender":"1234","body":"20% off"}`

// stopPropagates posts a signed STOP to node A's generic webhook, then
// sends through node B every 20 ms until B refuses with consent_withdrawn.
// It returns how long after A's answer that took (more than a second fails
// the test) and the ids of the sends B accepted in the meantime.
func (e *mpEnv) stopPropagates(a, b *proc, webhookKey []byte) (time.Duration, []string) {
	e.t.Helper()
	body := []byte(`{"from":"` + mpPhone + `","to":"1234","text":"STOP","id":"sms-stop-1"}`)
	now := time.Now()
	status, ans := e.do(a, "POST", "/v1/inbound/sms", string(body), map[string]string{
		inbound.HeaderWebhookID:        "wh-stop-1",
		inbound.HeaderWebhookTimestamp: fmt.Sprint(now.Unix()),
		inbound.HeaderWebhookSignature: inbound.SignGeneric(webhookKey, "wh-stop-1", now, body),
	})
	stopped := time.Now()
	if status != 200 {
		e.t.Fatalf("STOP through A: %d %v", status, ans)
	}
	var late []string
	for {
		status, ans := e.do(b, "POST", "/v1/messages", mpOffer, nil)
		took := time.Since(stopped)
		if status == 403 {
			if ans["code"] != "not_permitted" || reasonOf(ans) != "consent_withdrawn" {
				e.t.Fatalf("B refused with %v, want not_permitted / consent_withdrawn", ans)
			}
			return took, late
		}
		if status != 202 {
			e.t.Fatalf("send through B after the STOP: %d %v", status, ans)
		}
		late = append(late, fmt.Sprint(ans["id"]))
		if took > time.Second {
			e.t.Fatalf("B still accepts sends %v after the STOP was taken by A", took.Round(time.Millisecond))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func reasonOf(problem map[string]any) string {
	d, _ := problem["decision"].(map[string]any)
	return fmt.Sprint(d["reason"])
}

// crashMidDispatch queues mpMessages through node A, kills A with SIGKILL
// while its dispatcher is sending them, and checks that node B
// delivers the rest: every accepted id at least once, repeats only for
// messages A had leased at the kill, none before it.
func (e *mpEnv) crashMidDispatch(a, b *proc, pv *provider, dsn, contact string) {
	t := e.t
	t.Helper()
	queued := time.Now()
	pv.setDelay(mpQueueingDelay)
	ids := e.queue(a, contact, mpMessages)
	pv.setDelay(mpProviderDelay)
	t.Logf("queued %d messages through A in %v", len(ids), time.Since(queued).Round(time.Millisecond))
	waitUntil(t, 30*time.Second, "a tenth of the messages delivered", func() bool { return pv.delivered(ids) >= mpMessages/10 })
	a.kill()
	killed := time.Now()
	atKill := pv.delivered(ids)
	if atKill == len(ids) {
		t.Fatal("every message was delivered before A was killed: the test did not kill A mid-dispatch")
	}
	waitUntil(t, 40*time.Second, "every accepted message delivered", func() bool { return pv.delivered(ids) == len(ids) })
	takeover := time.Since(killed)
	attempts := waitAllSent(t, dsn, ids)

	posts, badKeys := pv.snapshot()
	dupIDs, dupPosts, leasedAtKill := 0, 0, 0
	for _, id := range ids {
		if attempts[id] > 1 {
			leasedAtKill++
		}
		ts := posts[id]
		if len(ts) < 2 {
			continue
		}
		dupIDs++
		dupPosts += len(ts) - 1
		if ts[1].Before(killed) {
			t.Errorf("message %s posted twice before the kill (%v, %v)", id, ts[0], ts[1])
		}
		if attempts[id] < 2 {
			t.Errorf("message %s posted %d times but claimed once: it was not in flight at the kill", id, len(ts))
		}
	}
	if badKeys > 0 {
		t.Errorf("%d posts carried an Idempotency-Key other than the message id", badKeys)
	}
	if dupIDs > mpMaxInFlight {
		t.Errorf("%d messages posted twice; at most %d can have been in flight on A", dupIDs, mpMaxInFlight)
	}
	t.Logf("A killed with %d of %d delivered; B delivered the rest %v after the kill (lease %v)",
		atKill, len(ids), takeover.Round(time.Millisecond), mpLease)
	t.Logf("accepted %d, delivered %d distinct (none lost); A held %d leases at the kill; "+
		"%d messages posted again with the same idempotency key (%d repeat posts)",
		len(ids), pv.delivered(ids), leasedAtKill, dupIDs, dupPosts)
}

// reportLate logs what became of the sends node B accepted after node A had
// taken the STOP, inside the propagation bound: the dispatcher's second
// decision should block them, unless its node was still as stale as when
// it accepted them.
func reportLate(t *testing.T, pv *provider, dsn string, ids []string) {
	t.Helper()
	if len(ids) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	posts, _ := pv.snapshot()
	for _, id := range ids {
		var status, reason string
		if err := conn.QueryRow(ctx, `SELECT status, reason FROM messages WHERE id = $1`, id).Scan(&status, &reason); err != nil {
			t.Fatalf("message %s: %v", id, err)
		}
		t.Logf("B accepted message %s after the STOP had been taken by A: now %s %s, posted to the provider %d times",
			id, status, reason, len(posts[id]))
	}
}

// queue sends n marketing messages to the contact through the batch
// endpoint and returns the accepted ids.
func (e *mpEnv) queue(p *proc, contact string, n int) []string {
	e.t.Helper()
	type item struct {
		To      map[string]string `json:"to"`
		Channel string            `json:"channel"`
		Purpose string            `json:"purpose"`
		Sender  string            `json:"sender"`
		Body    string            `json:"body"`
	}
	var ids []string
	for len(ids) < n {
		var batch struct {
			Messages []item `json:"messages"`
		}
		for i := len(ids); i < min(n, len(ids)+mpBatch); i++ {
			batch.Messages = append(batch.Messages, item{To: map[string]string{"contact_id": contact},
				Channel: "sms", Purpose: "offers", Sender: "1234", Body: fmt.Sprintf("Offer %d", i)})
		}
		body, _ := json.Marshal(batch)
		ans := e.must(p, "POST", "/v1/messages/batch", string(body), 202)
		items, _ := ans["messages"].([]any)
		if len(items) != len(batch.Messages) {
			e.t.Fatalf("batch answered %d items for %d messages", len(items), len(batch.Messages))
		}
		for _, it := range items {
			m, _ := it.(map[string]any)
			if m["status"] != "queued" || m["id"] == nil {
				e.t.Fatalf("batch item not queued: %v", m)
			}
			ids = append(ids, fmt.Sprint(m["id"]))
		}
	}
	return ids
}

// waitAllSent waits until the store shows every message sent, and returns
// each one's claim count (attempts): above one only for a message whose
// lease ran out, that is one A held when it died.
func waitAllSent(t *testing.T, dsn string, ids []string) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	attempts := map[string]int{}
	waitUntil(t, 15*time.Second, "every message marked sent", func() bool {
		rows, err := conn.Query(ctx, `SELECT id, status, attempts FROM messages WHERE id = ANY($1)`, ids)
		if err != nil {
			t.Fatal(err)
		}
		sent := 0
		for rows.Next() {
			var id, status string
			var n int
			if err := rows.Scan(&id, &status, &n); err != nil {
				t.Fatal(err)
			}
			if status == "sent" {
				sent++
			} else if status != "sending" && status != "queued" {
				t.Fatalf("message %s ended %s", id, status)
			}
			attempts[id] = n
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return sent == len(ids)
	})
	return attempts
}

// waitUntil polls cond every 20 ms and fails the test after limit.
func waitUntil(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(limit); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", limit, what)
		}
	}
}

// mpEnv calls the nodes' API with the tenant's owner key.
type mpEnv struct {
	t      *testing.T
	client *http.Client
	key    string
}

func (e *mpEnv) do(p *proc, method, path, body string, hdr map[string]string) (int, map[string]any) {
	e.t.Helper()
	req, err := http.NewRequest(method, "http://"+p.addr+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if !strings.HasPrefix(path, "/v1/inbound/") {
		req.Header.Set("Authorization", "Bearer "+e.key)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("node %s: %s %s: %v", p.name, method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

func (e *mpEnv) must(p *proc, method, path, body string, want int) map[string]any {
	e.t.Helper()
	status, ans := e.do(p, method, path, body, nil)
	if status != want {
		e.t.Fatalf("node %s: %s %s: %d %v, want %d", p.name, method, path, status, ans, want)
	}
	return ans
}

// waitDecision polls a node's decision for the test's phone every 20 ms
// until its reason is want, and returns how long that took.
func (e *mpEnv) waitDecision(p *proc, want string, limit time.Duration) time.Duration {
	e.t.Helper()
	start := time.Now()
	var last any
	for time.Since(start) < limit {
		_, ans := e.do(p, "POST", "/v1/decisions", `{"to":{"phone":"`+mpPhone+`"},"channel":"sms","purpose":"offers"}`, nil)
		if last = ans["reason"]; last == want {
			return time.Since(start)
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.t.Fatalf("node %s: decision %v after %v, want %s", p.name, last, limit, want)
	return 0
}

// provider is the http channel provider: it records when each message id
// was posted, checks that the Idempotency-Key is the id, and answers 200
// after a delay, so that sends are in flight when a node dies.
type provider struct {
	*httptest.Server
	delay   atomic.Int64 // time.Duration
	mu      sync.Mutex
	posts   map[string][]time.Time
	badKeys int
}

func newProvider(t *testing.T, delay time.Duration) *provider {
	pv := &provider{posts: map[string][]time.Time{}}
	pv.setDelay(delay)
	pv.Server = httptest.NewServer(http.HandlerFunc(pv.serve)) // 127.0.0.1
	t.Cleanup(pv.Close)
	return pv
}

func (pv *provider) serve(w http.ResponseWriter, r *http.Request) {
	var m struct {
		ID string `json:"id"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&m); err != nil || m.ID == "" {
		http.Error(w, "not a message", http.StatusBadRequest)
		return
	}
	pv.mu.Lock()
	pv.posts[m.ID] = append(pv.posts[m.ID], time.Now())
	if r.Header.Get("Idempotency-Key") != m.ID {
		pv.badKeys++
	}
	pv.mu.Unlock()
	select {
	case <-time.After(time.Duration(pv.delay.Load())):
	case <-r.Context().Done():
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"id":"prov-%s"}`, m.ID)
}

func (pv *provider) setDelay(d time.Duration) { pv.delay.Store(int64(d)) }

// delivered counts the ids that were posted at least once.
func (pv *provider) delivered(ids []string) int {
	pv.mu.Lock()
	defer pv.mu.Unlock()
	n := 0
	for _, id := range ids {
		if len(pv.posts[id]) > 0 {
			n++
		}
	}
	return n
}

func (pv *provider) snapshot() (map[string][]time.Time, int) {
	pv.mu.Lock()
	defer pv.mu.Unlock()
	out := make(map[string][]time.Time, len(pv.posts))
	for id, ts := range pv.posts {
		out[id] = append([]time.Time(nil), ts...)
	}
	return out, pv.badKeys
}

// buildConsentgate builds the binary once for the test, with the race
// detector when the test runs with it (GOFLAGS come from the environment).
func buildConsentgate(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("building consentgate needs the go command: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "consentgate")
	args := []string{"build", "-o", bin}
	if raceEnabled() {
		args = append(args, "-race")
	}
	cmd := exec.Command(goTool, append(args, "github.com/consentgate/consentgate/cmd/consentgate")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return bin
}

func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// writeMasterKey writes the key file both nodes share, as an operator
// copies it to every node before the first start.
func writeMasterKey(t *testing.T, dir string) string {
	t.Helper()
	k, err := vault.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "master.key")
	if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(k[:])+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// keysCreate creates the tenant and its owner key with the binary, and
// returns the key it printed.
func keysCreate(t *testing.T, bin, dsn, dir, masterKey string) string {
	t.Helper()
	cmd := exec.Command(bin, "keys", "create", "--db", dsn, "--data", filepath.Join(dir, "data-keys"),
		"--master-key-file", masterKey, "--tenant", "acme", "--role", "owner")
	cmd.Env = childEnv()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("keys create: %v\n%s", err, stderr.String())
	}
	key := strings.TrimSpace(string(out))
	if !regexp.MustCompile(`^cg_[a-z2-7]{32}$`).MatchString(key) {
		t.Fatalf("keys create printed %q", out)
	}
	return key
}

// withAppName labels a node's database connections.
func withAppName(t *testing.T, dsn, name string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("application_name", name)
	u.RawQuery = q.Encode()
	return u.String()
}

// childEnv is the test's environment without CONSENTGATE_* settings, so
// that nothing but the flags configures the nodes.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CONSENTGATE_") {
			env = append(env, kv)
		}
	}
	return env
}

// proc is one `consentgate serve` process with its output.
type proc struct {
	name, addr     string
	cmd            *exec.Cmd
	stdout, stderr *lockedBuffer
	exited         chan struct{}
}

// startProc starts `consentgate serve` on 127.0.0.1:0 and reads its address
// from stdout. The process is stopped when the test ends, and its output
// printed if the test failed.
func startProc(t *testing.T, bin, name string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	p.cmd.Env = childEnv()
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.stop(t)
		if strings.Contains(p.stderr.String(), "DATA RACE") {
			t.Errorf("node %s: the race detector reported a data race", p.name)
		}
		if t.Failed() {
			t.Logf("node %s stdout:\n%s\nnode %s stderr (last 32 KiB):\n%s", p.name, p.stdout.String(), p.name, tail(p.stderr.String(), 32<<10))
		}
	})
	addrRE := regexp.MustCompile(`listening on http://(127\.0\.0\.1:\d+)`)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m := addrRE.FindStringSubmatch(p.stdout.String()); m != nil {
			p.addr = m[1]
			return p
		}
		select {
		case <-p.exited:
			t.Fatalf("node %s exited before listening: %s", name, p.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("node %s printed no address within 30s: %s", name, p.stderr.String())
		}
	}
}

// kill ends the process with SIGKILL, as a machine dies, and waits for it.
func (p *proc) kill() {
	p.cmd.Process.Kill()
	<-p.exited
}

// stop asks the process to shut down (SIGINT, as Ctrl-C) and returns its
// exit code; after 20 s it is killed.
func (p *proc) stop(t *testing.T) int {
	select {
	case <-p.exited:
		return p.cmd.ProcessState.ExitCode()
	default:
	}
	p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second):
		t.Errorf("node %s did not stop within 20s of SIGINT; killing it", p.name)
		p.kill()
	}
	return p.cmd.ProcessState.ExitCode()
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
