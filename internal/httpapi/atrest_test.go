package httpapi

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/index"
	"github.com/consentgate/consentgate/internal/ledger"
	"github.com/consentgate/consentgate/internal/service"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/store/sqlite"
	"github.com/consentgate/consentgate/internal/vault"
)

// person is test data whose every spelling must stay out of the files.
type person struct {
	phone, email, name, street string
	spellings                  []string
}

var people = []person{
	{"+45 20 12 34 56", "Anna.Berg@Example.com", "Annabella", "Vesterbrogade",
		[]string{"+4520123456", "4520123456", "20123456", "20 12 34 56", "2012 3456", "anna.berg@example.com", "Anna.Berg@Example.com", "Annabella", "Vesterbrogade"}},
	{"+4531415926", "kirsten.juhl@example.org", "Kirstine", "Noerrebrogade",
		[]string{"+4531415926", "4531415926", "31415926", "31 41 59 26", "kirsten.juhl@example.org", "kirsten.juhl", "Kirstine", "Noerrebrogade"}},
	{"+4560708090", "ole@example.net", "Olufsen", "Amagerbrogade",
		[]string{"+4560708090", "60708090", "60 70 80 90", "ole@example.net", "Olufsen", "Amagerbrogade"}},
}

// The corrected number of person 1, written by a rectification.
var rectified = []string{"+4588776655", "88776655", "88 77 66 55"}

// TestNoPlaintextAtRest writes known identifiers and attributes through the
// API (create, consent with evidence, rectification, erasure), then
// searches the raw database file, its WAL and shared-memory files and the
// captured logs for every spelling of them, in UTF-8 and UTF-16: there must
// be none.
func TestNoPlaintextAtRest(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "atrest.db")
	e := newEnv(t, func(t testing.TB) store.Store {
		db, err := sqlite.Open(context.Background(), path, sqlite.Options{Synchronous: "NORMAL"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
	steps := []step{
		{name: "purpose", method: "POST", path: "/v1/purposes", role: owner, body: newsPurpose, status: 201},
		{name: "declare street", method: "POST", path: "/v1/attributes", role: owner,
			body: `{"name":"street","type":"string","category":"address","purpose":"newsletter","retention_days":30}`, status: 201},
	}
	for i, p := range people {
		steps = append(steps,
			step{name: "create " + p.name, method: "POST", path: "/v1/contacts", role: owner,
				body:   fmt.Sprintf(`{"identifiers":{"phone":%q,"email":%q},"attributes":{"first_name":%q,"street":%q}}`, p.phone, p.email, p.name, p.street),
				status: 201, save: map[string]string{fmt.Sprint("c", i): "id"}},
			step{name: "grant " + p.name, method: "PUT", path: fmt.Sprintf("/v1/contacts/{c%d}/consents/newsletter/sms", i), role: owner,
				body: fmt.Sprintf(`{"status":"granted","source":"web","evidence":{"phone":%q,"name":%q}}`, p.phone, p.name), status: 200},
			step{name: "look up " + p.name, method: "POST", path: "/v1/contacts/lookup", role: owner,
				body: fmt.Sprintf(`{"email":%q}`, p.email), hdr: []string{"X-Reveal-Reason", "support ticket"}, status: 200},
			step{name: "decide " + p.name, method: "POST", path: "/v1/decisions", role: auth.Developer,
				body: fmt.Sprintf(`{"to":{"phone":%q},"channel":"sms","purpose":"newsletter"}`, p.phone), status: 200},
		)
	}
	steps = append(steps,
		step{name: "rectify", method: "POST", path: "/v1/dsr", role: auth.Compliance,
			body: `{"type":"rectification","contact_id":"{c1}","identifiers":{"phone":"+45 88 77 66 55"},"attributes":{"street":"Kongens Nytorv"}}`, status: 201},
		step{name: "access", method: "POST", path: "/v1/dsr", role: auth.Compliance, body: `{"type":"access","contact_id":"{c1}"}`, status: 201},
		step{name: "erase", method: "POST", path: "/v1/dsr", role: auth.Compliance, body: `{"type":"erasure","contact_id":"{c2}"}`, status: 201},
	)
	vars := runSteps(t, e, steps)
	if _, err := e.svc.SequenceLedger(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.LedgerCheckpoint(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The erasure left the ledger verifiable.
	vkey, _ := e.svc.LedgerKey()
	if rep, err := ledger.Verify(context.Background(), e.store.Ledger(), vkey); err != nil {
		t.Fatalf("ledger after erasure: %v (%+v)", err, rep)
	}
	var needles []string
	for _, p := range people {
		needles = append(needles, p.spellings...)
	}
	needles = append(needles, rectified...)
	files, _ := filepath.Glob(path + "*")
	if len(files) < 2 {
		t.Fatalf("expected the database and its WAL, found %v", files)
	}
	for _, f := range append(files, "logs") {
		var data []byte
		if f == "logs" {
			data = []byte(e.logs.String())
		} else {
			var err error
			if data, err = os.ReadFile(f); err != nil {
				t.Fatal(err)
			}
		}
		for _, n := range needles {
			for _, enc := range [][]byte{[]byte(n), []byte(strings.ToLower(n)), utf16le(n)} {
				if bytes.Contains(data, enc) {
					t.Errorf("%s holds %q in clear", filepath.Base(f), n)
				}
			}
		}
	}
	// What was written can be read back through the API: the search above
	// did not pass because nothing was stored.
	runSteps(t, e, []step{{name: "read back", method: "GET", path: "/v1/contacts/" + vars["c1"], role: owner,
		hdr: []string{"X-Reveal-Reason", "test"}, status: 200,
		check: func(t *testing.T, _ *env, _ map[string]string, ans map[string]any) {
			if jpath(ans, "identifiers.phone") != "+4588776655" || jpath(ans, "attributes.street") != "Kongens Nytorv" {
				t.Fatalf("read back %v", ans)
			}
		}}})
}

func utf16le(s string) []byte {
	var b []byte
	for _, r := range utf16.Encode([]rune(s)) {
		b = append(b, byte(r), byte(r>>8))
	}
	return b
}

// TestKeyRotationWhileServing rotates a tenant's data key from a second
// service (as `consentgate keys rotate` does from its own process) while
// the API keeps creating and reading contacts. Every contact stays
// readable throughout; afterwards no wrapped key opens with the old key.
func TestKeyRotationWhileServing(t *testing.T) {
	e := newEnv(t, openSQLite)
	e.svc.SetTenantKeyTTL(20 * time.Millisecond)
	ctx := context.Background()
	runSteps(t, e, []step{{name: "purpose", method: "POST", path: "/v1/purposes", role: owner, body: newsPurpose, status: 201}})
	create := func(i int) string {
		st, ans := e.do("POST", "/v1/contacts", e.keys[owner], fmt.Sprintf(`{"identifiers":{"phone":"+4540%06d"}}`, 120000+i))
		if st != 201 {
			t.Errorf("create %d: %d %v", i, st, ans)
			return ""
		}
		return ans["id"].(string)
	}
	var ids []string
	for i := range 300 {
		ids = append(ids, create(i))
	}
	var tn *store.Tenant
	e.store.Read(ctx, func(tx store.Tx) (err error) { tn, err = tx.GetTenant(ctx, e.tenant); return err })
	before, err := vault.OpenTenantKeys(e.master, e.tenant, tn.WrappedKey)
	if err != nil {
		t.Fatal(err)
	}

	cli := service.New(service.Config{Store: e.store, Index: index.New(), MasterKey: e.master})
	defer cli.Close()
	var (
		stop    atomic.Bool
		wg      sync.WaitGroup
		mu      sync.Mutex
		created []string
		reads   atomic.Int64
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 1000; !stop.Load(); i++ {
			id := create(i)
			mu.Lock()
			created = append(created, id)
			mu.Unlock()
			st, ans := e.do("GET", "/v1/contacts/"+ids[i%len(ids)], e.keys[owner], nil, "X-Reveal-Reason", "rotation test")
			if st != 200 || strings.Contains(fmt.Sprint(ans["identifiers"]), "unreadable") {
				t.Errorf("read during rotation: %d %v", st, ans)
				return
			}
			reads.Add(1)
		}
	}()
	rep, err := cli.RotateTenantKey(ctx, e.tenant, service.RotateOptions{Batch: 64, Settle: 100 * time.Millisecond})
	stop.Store(true)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if rep.Contacts < len(ids) || rep.Unreadable != 0 || rep.ToVersion != before.Version+2 || reads.Load() == 0 {
		t.Fatalf("report %+v after %d reads", rep, reads.Load())
	}
	time.Sleep(50 * time.Millisecond) // the server's cache TTL
	all := append(ids, created...)
	for _, id := range all {
		st, ans := e.do("GET", "/v1/contacts/"+id, e.keys[owner], nil, "X-Reveal-Reason", "rotation test")
		if st != 200 || strings.Contains(fmt.Sprint(ans["identifiers"]), "unreadable") {
			t.Fatalf("after rotation %s: %d %v", id, st, ans)
		}
	}
	e.store.Read(ctx, func(tx store.Tx) error {
		keys, err := tx.ContactKeysAfter(ctx, e.tenant, "", 1_000_000)
		if err != nil || len(keys) != len(all) {
			t.Fatalf("%d wrapped keys, want %d (%v)", len(keys), len(all), err)
		}
		for _, k := range keys {
			if _, err := vault.OpenContactKey(vault.TenantKeys{Enc: before.Data}, e.tenant, k.ID, k.Wrapped); err == nil {
				t.Fatalf("contact %s still opens with the retired key", k.ID)
			}
		}
		return nil
	})
}
