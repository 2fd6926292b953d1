package httpapi

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/channel"
	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/outbox"
	"github.com/consentgate/consentgate/internal/service"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/store/postgres/pgtest"
	"github.com/consentgate/consentgate/internal/store/sqlite"
	"github.com/oklog/ulid/v2"
)

// msgEnv is the API with sending on: senders registered, a dispatcher
// running against a sink that keeps what it was handed.
type msgEnv struct {
	*env
	dbPath string
	sink   *channel.Sink
	mu     sync.Mutex
	sent   []*channel.Message
}

// onMsgEnvs runs fn as a subtest on a sending API over SQLite and over
// PostgreSQL (skipped, saying why, where there is none).
func onMsgEnvs(t *testing.T, fn func(t *testing.T, e *msgEnv)) {
	for _, backend := range []struct {
		name string
		open func(testing.TB) store.Store // nil: SQLite
	}{{"sqlite", nil}, {"postgres", openPostgres}} {
		t.Run(backend.name, func(t *testing.T) {
			if backend.open != nil {
				pgtest.DSN(t)
			}
			fn(t, newMsgEnv(t, service.SendConfig{}, backend.open))
		})
	}
}

// newMsgEnv starts the sending API over SQLite (open nil; the file is kept
// for the plaintext check) or over the store open returns.
func newMsgEnv(t *testing.T, sc service.SendConfig, open func(testing.TB) store.Store) *msgEnv {
	t.Helper()
	e := &msgEnv{}
	if open == nil {
		e.dbPath = filepath.Join(t.TempDir(), "api.db")
		open = func(t testing.TB) store.Store {
			db, err := sqlite.Open(context.Background(), e.dbPath, sqlite.Options{Synchronous: "NORMAL"})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		}
	}
	e.env = newEnv(t, open)
	e.sink = channel.NewSink(func(m *channel.Message) {
		e.mu.Lock()
		e.sent = append(e.sent, m)
		e.mu.Unlock()
	})
	adapters := func(c channel.Config) (channel.Sender, error) {
		if c.Kind == channel.KindSink {
			return e.sink, nil
		}
		c.Egress.AllowPrivate = true // the providers are test servers on 127.0.0.1
		return channel.New(c)
	}
	d := outbox.New(outbox.Config{Store: e.store, Service: e.svc, Logger: slog.New(slog.DiscardHandler), Adapters: adapters,
		Poll: 10 * time.Millisecond, BackoffBase: time.Millisecond})
	sc.DefaultProvider, sc.Kick = channel.KindSink, d.Kick
	if sc.PublicURL == "" {
		sc.PublicURL = e.srv.URL
	}
	e.svc.ConfigureSending(sc)
	e.svc.SetReplyQueue(d)
	d.Start()
	t.Cleanup(func() { d.Stop(context.Background()) })
	for _, tn := range []string{e.tenant, e.other} {
		if err := e.store.Write(context.Background(), func(tx store.Tx) error {
			for _, s := range []*store.Sender{
				{Channel: consent.SMS, Kind: store.SenderAlphanumeric, Address: "ACME"},
				{Channel: consent.Email, Kind: store.SenderEmailDomain, Address: "acme.dk", Purposes: []string{"newsletter", "orders"}},
			} {
				if tn == e.other {
					s.Address += "-OTHER"
				}
				s.ID, s.TenantID, s.CreatedAt = ulid.Make().String(), tn, time.Now()
				if err := tx.CreateSender(context.Background(), s); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// handed returns what the sink was handed for a message id.
func (e *msgEnv) handed(id string) *channel.Message {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		e.mu.Lock()
		for _, m := range e.sent {
			if m.ID == id {
				e.mu.Unlock()
				return m
			}
		}
		e.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
	}
	e.t.Fatalf("message %s never reached the provider", id)
	return nil
}

// waitStatus polls GET /v1/messages/{id} until it shows status.
func (e *msgEnv) waitStatus(id, status string) map[string]any {
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, ans := e.do("GET", "/v1/messages/"+id, e.keys[owner], nil)
		if ans["status"] == status || time.Now().After(deadline) {
			if ans["status"] != status {
				e.t.Fatalf("message %s is %v, want %s", id, ans["status"], status)
			}
			return ans
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// mstep is a step of a sending scenario; check sees the sending
// environment.
type mstep struct {
	step
	check func(t *testing.T, e *msgEnv, vars map[string]string, ans map[string]any)
}

type msgScenario struct {
	name  string
	send  service.SendConfig
	steps []mstep
}

func TestMessageScenarios(t *testing.T) { runMessageScenarios(t, nil) }

// TestMessageScenariosPostgres runs the same table on PostgreSQL.
func TestMessageScenariosPostgres(t *testing.T) {
	pgtest.DSN(t)
	runMessageScenarios(t, openPostgres)
}

func runMessageScenarios(t *testing.T, open func(testing.TB) store.Store) {
	for _, sc := range messageScenarios() {
		t.Run(sc.name, func(t *testing.T) {
			e := newMsgEnv(t, sc.send, open)
			vars := map[string]string{"tenant": e.tenant}
			for _, s := range sc.steps {
				subst := func(x string) string {
					for k, v := range vars {
						x = strings.ReplaceAll(x, "{"+k+"}", v)
					}
					return x
				}
				key := e.keys[s.role]
				if s.foreign {
					key = e.foreign
				}
				var body any
				if s.body != "" {
					body = subst(s.body)
				}
				status, ans := e.do(s.method, subst(s.path), key, body, s.hdr...)
				if status != s.status {
					t.Fatalf("%s: status %d, want %d (%v)", s.name, status, s.status, ans)
				}
				if s.code != "" && ans["code"] != s.code {
					t.Fatalf("%s: code %v, want %s (%v)", s.name, ans["code"], s.code, ans)
				}
				for k, v := range s.want {
					if str, ok := v.(string); ok {
						v = subst(str)
					}
					if got := dig(ans, k); fmt.Sprint(got) != fmt.Sprint(v) {
						t.Fatalf("%s: %s = %v, want %v (%v)", s.name, k, got, v, ans)
					}
				}
				for v, field := range s.save {
					vars[v] = fmt.Sprint(dig(ans, field))
				}
				if s.check != nil {
					s.check(t, e, vars, ans)
				}
			}
			// No identifier and no message text ever reaches a log line, and
			// none is in the database file in clear.
			for _, pii := range []string{"20123456", "anna@example.com", "20% off", "Your order"} {
				if strings.Contains(e.logs.String(), pii) {
					t.Fatalf("log output contains %q", pii)
				}
			}
			if e.dbPath == "" {
				return
			}
			for _, f := range []string{e.dbPath, e.dbPath + "-wal"} {
				raw, _ := os.ReadFile(f)
				for _, pii := range []string{"+4520123456", "anna@example.com", "20% off", "Your order", "hunter2"} {
					if bytes.Contains(raw, []byte(pii)) {
						t.Fatalf("%s holds %q in clear", filepath.Base(f), pii)
					}
				}
			}
		})
	}
}

// dig reads "a.b" (or "a.0.b" into arrays) from a decoded JSON answer.
func dig(ans map[string]any, path string) any {
	var cur any = ans
	for _, k := range strings.Split(path, ".") {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[k]
		case []any:
			var i int
			if _, err := fmt.Sscan(k, &i); err != nil || i >= len(c) {
				return nil
			}
			cur = c[i]
		default:
			return nil
		}
	}
	return cur
}

// rawDo sends a request without a key and returns status, headers and body.
func rawDo(t *testing.T, method, url, ctype string, body []byte, hdr http.Header) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, bytes.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}
