package httpapi

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/apperr"
	"github.com/consentgate/consentgate/internal/audit"
	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/index"
	"github.com/consentgate/consentgate/internal/service"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/store/postgres/pgtest"
	"github.com/consentgate/consentgate/internal/vault"
)

// TestIndexKeyRotationWhileServing rotates a tenant's blind index key from
// another process while the server decides, creates contacts and sends,
// and checks that nothing is lost on the way: decisions stay right (an
// erased person stays suppressed), identifiers stay unique, idempotency
// keys still recognise their request, an erasure in the middle still finds
// a message stored in the old form, and afterwards every stored value of
// the tenant, and none of the other tenant's, is in the new version.
func TestIndexKeyRotationWhileServing(t *testing.T) { onMsgEnvs(t, testIndexKeyRotation) }

func testIndexKeyRotation(t *testing.T, e *msgEnv) {
	ctx := context.Background()
	e.svc.SetTenantKeyTTL(20 * time.Millisecond)
	pr := auth.Principal{TenantID: e.tenant, KeyID: "test", Role: auth.Owner}
	for _, p := range service.DemoPurposes() {
		if _, err := e.svc.CreatePurpose(ctx, pr, p); err != nil {
			t.Fatal(err)
		}
	}
	const n = 120
	phone := func(i int) string { return fmt.Sprintf("+4540%06d", 100000+i) }
	for i := range n {
		id, err := e.svc.CreateContact(ctx, pr, service.ContactInput{Identifiers: map[string]string{"phone": phone(i)}})
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			if _, err := e.svc.SetConsent(ctx, pr, id, "offers", "sms", service.ConsentInput{Status: "granted"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	const erasedPhone, strangerPhone = "+4540999999", "+4540888888"
	gone, err := e.svc.CreateContact(ctx, pr, service.ContactInput{Identifiers: map[string]string{"phone": erasedPhone}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.CreateDSR(ctx, pr, service.DSRInput{Type: service.DSRErasure, ContactID: gone}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CreateUser(ctx, pr, service.UserInput{Email: "dpo@example.org", Role: "compliance", Password: testPassword}); err != nil {
		t.Fatal(err)
	}
	offer := service.SendInput{To: service.Recipient{Phone: phone(0)}, Channel: "sms", Purpose: "offers", Sender: "ACME", Body: "Offer"}
	first, _, err := e.svc.SendMessage(ctx, pr, offer, "offer-1")
	if err != nil {
		t.Fatal(err)
	}
	// A security code to a number that is no contact: found at erasure by
	// its recipient's blind index only.
	code, _, err := e.svc.SendMessage(ctx, pr, service.SendInput{To: service.Recipient{Phone: strangerPhone}, Channel: "sms",
		Purpose: "2fa", Sender: "ACME", Body: "Code 123456"}, "")
	if err != nil {
		t.Fatal(err)
	}
	// The other tenant's rows must stay as they are.
	opr := auth.Principal{TenantID: e.other, KeyID: "test", Role: auth.Owner}
	if _, err := e.svc.CreateContact(ctx, opr, service.ContactInput{Identifiers: map[string]string{"phone": phone(0)}}); err != nil {
		t.Fatal(err)
	}

	decide := func(p string) consent.Decision {
		d, err := e.svc.Decide(ctx, pr, service.DecisionInput{To: service.Recipient{Phone: p}, Channel: "sms", Purpose: "offers"})
		if err != nil {
			t.Errorf("decide: %v", err)
		}
		return d
	}
	checkDecisions := func(when string, i int) bool {
		p := phone(i % n)
		d := decide(p)
		if (i%n)%2 == 0 && !d.Allowed || (i%n)%2 == 1 && d.Reason != consent.ReasonNoConsent {
			t.Errorf("%s: %s decided %+v", when, p, d)
			return false
		}
		if d := decide(erasedPhone); d.Reason != consent.ReasonSuppressed {
			t.Errorf("%s: the erased person decided %+v", when, d)
			return false
		}
		if _, err := e.svc.CreateContact(ctx, pr, service.ContactInput{Identifiers: map[string]string{"phone": p}}); apperr.CodeOf(err) != apperr.Conflict {
			t.Errorf("%s: a second contact with %s: %v", when, p, err)
			return false
		}
		return true
	}

	var (
		stop    atomic.Bool
		wg      sync.WaitGroup
		mu      sync.Mutex
		created []string
		rounds  atomic.Int64
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; !stop.Load(); i++ {
			if !checkDecisions("during the rotation", i) {
				return
			}
			p := fmt.Sprintf("+4550%06d", 100000+i)
			if _, err := e.svc.CreateContact(ctx, pr, service.ContactInput{Identifiers: map[string]string{"phone": p}}); err != nil {
				t.Errorf("create during the rotation: %v", err)
				return
			}
			mu.Lock()
			created = append(created, p)
			mu.Unlock()
			rounds.Add(1)
		}
	}()

	cli := service.New(service.Config{Store: e.store, Index: index.New(), MasterKey: e.master})
	defer cli.Close()
	var erasedMidway atomic.Bool
	rep, err := cli.RotateIndexKey(ctx, e.tenant, service.RotateOptions{Batch: 16, Settle: 100 * time.Millisecond,
		Progress: func(int) {
			if !erasedMidway.CompareAndSwap(false, true) {
				return
			}
			// The new version is written now, the messages not yet
			// rewritten: the stranger becomes a contact (stored in the new
			// form) and is erased; the code sent to them, stored in the
			// old form, must go too.
			id, err := e.svc.CreateContact(ctx, pr, service.ContactInput{Identifiers: map[string]string{"phone": strangerPhone}})
			if err != nil {
				t.Errorf("stranger: %v", err)
				return
			}
			if _, _, err := e.svc.CreateDSR(ctx, pr, service.DSRInput{Type: service.DSRErasure, ContactID: id}); err != nil {
				t.Errorf("erasing the stranger: %v", err)
			}
		}})
	stop.Store(true)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if rep.FromVersion != 0 || rep.ToVersion != 1 || rep.Unreadable != 0 || rounds.Load() == 0 ||
		rep.Rewritten[string(store.BlindIdentifiers)] < n || rep.Rewritten[string(store.BlindSuppressions)] < 1 ||
		rep.Rewritten[string(store.BlindUsers)] != 1 || rep.Rewritten[string(store.BlindMessages)] < 1 {
		t.Fatalf("report %+v after %d rounds", rep, rounds.Load())
	}
	time.Sleep(60 * time.Millisecond) // the server's key cache TTL

	for i := range n {
		if !checkDecisions("after the rotation", i) {
			t.FailNow()
		}
	}
	for _, p := range created {
		if _, err := e.svc.LookupContact(ctx, pr, consent.KindPhone, p, service.Reveal{}); err != nil {
			t.Fatalf("%s, created during the rotation: %v", p, err)
		}
	}
	if _, err := e.svc.GetMessage(ctx, pr, code.ID); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("the erased stranger's code is still there: %v", err)
	}
	// The erased person asks again, by identifier: the first certificate.
	if _, repeated, err := e.svc.CreateDSR(ctx, pr, service.DSRInput{Type: service.DSRErasure,
		Identifier: &service.IdentifierInput{Kind: "phone", Value: erasedPhone}}); err != nil || !repeated {
		t.Fatalf("erasure asked again: repeated %v, %v", repeated, err)
	}
	if again, queued, err := e.svc.SendMessage(ctx, pr, offer, "offer-1"); err != nil || queued || again.ID != first.ID {
		t.Fatalf("idempotent retry after the rotation: queued %v, %v", queued, err)
	}
	other := offer
	other.Body = "Another offer"
	if _, _, err := e.svc.SendMessage(ctx, pr, other, "offer-1"); apperr.CodeOf(err) != apperr.IdempotencyReused {
		t.Fatalf("key reused for another request after the rotation: %v", err)
	}
	if _, err := e.svc.CreateUser(ctx, pr, service.UserInput{Email: "DPO@example.org", Role: "auditor", Password: testPassword}); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("a second user with the address: %v", err)
	}

	// Every stored value of the tenant is in version 1; the other
	// tenant's are untouched.
	versions := map[string]map[int]int{}
	count := func(tenantID, what string, b []byte) {
		if len(b) == 0 {
			return
		}
		v, _, ok := vault.ParseIndexForm(b)
		if !ok {
			v = -1
		}
		k := tenantID + " " + what
		if versions[k] == nil {
			versions[k] = map[int]int{}
		}
		versions[k][v]++
	}
	e.store.Read(ctx, func(tx store.Tx) error {
		tx.ScanIdentifiers(ctx, func(x *store.Identifier) error { count(x.TenantID, "identifier", x.BlindIndex); return nil })
		tx.ScanSuppressions(ctx, func(s *store.Suppression) error { count(s.TenantID, "suppression", s.BlindIndex); return nil })
		m, err := tx.GetMessage(ctx, e.tenant, first.ID)
		if err != nil {
			t.Fatal(err)
		}
		count(e.tenant, "message", m.RecipientIndex)
		count(e.tenant, "message", m.BodyHash)
		count(e.tenant, "message", m.RequestHash)
		return nil
	})
	for k, vs := range versions {
		want := 1
		if k[:len(e.other)] == e.other {
			want = 0
		}
		if len(vs) != 1 || vs[want] == 0 {
			t.Errorf("%s: stored versions %v, want only %d", k, vs, want)
		}
	}
	if len(versions) < 4 {
		t.Fatalf("checked only %v", versions)
	}
}

// TestIndexKeyRotationResumes interrupts a rotation after it announced the
// new key, checks that a data-key rotation refuses to start meanwhile, and
// runs it again: it resumes and finishes, and the contact is still found.
func TestIndexKeyRotationResumes(t *testing.T) {
	e := newEnv(t, openSQLite)
	ctx := context.Background()
	pr := auth.Principal{TenantID: e.tenant, KeyID: "test", Role: auth.Owner}
	id, err := e.svc.CreateContact(ctx, pr, service.ContactInput{Identifiers: map[string]string{"phone": "+4520123456"}})
	if err != nil {
		t.Fatal(err)
	}
	seq := e.auditSeq()
	cli := service.New(service.Config{Store: e.store, Index: index.New(), MasterKey: e.master})
	defer cli.Close()
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := cli.RotateIndexKey(short, e.tenant, service.RotateOptions{Settle: time.Hour}); err == nil {
		t.Fatal("the rotation did not stop with its context")
	}
	var tn *store.Tenant
	e.store.Read(ctx, func(tx store.Tx) (err error) { tn, err = tx.GetTenant(ctx, e.tenant); return err })
	ring, err := vault.OpenTenantKeys(e.master, e.tenant, tn.WrappedKey)
	if err != nil || ring.IndexPhase() != vault.IndexAnnounced {
		t.Fatalf("after the interruption: phase %d, %v", ring.IndexPhase(), err)
	}
	if _, err := cli.RotateTenantKey(ctx, e.tenant, service.RotateOptions{Settle: time.Millisecond}); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("a data-key rotation started during an index-key rotation: %v", err)
	}
	rep, err := cli.RotateIndexKey(ctx, e.tenant, service.RotateOptions{Settle: 10 * time.Millisecond})
	if err != nil || !rep.Resumed || rep.ToVersion != 1 || rep.Rewritten[string(store.BlindIdentifiers)] != 1 {
		t.Fatalf("resumed: %+v %v", rep, err)
	}
	e.svc.SetTenantKeyTTL(time.Millisecond)
	time.Sleep(5 * time.Millisecond)
	if v, err := e.svc.LookupContact(ctx, pr, consent.KindPhone, "+4520123456", service.Reveal{}); err != nil || v.ID != id {
		t.Fatalf("after the resumed rotation: %v", err)
	}
	if _, err := cli.RotateTenantKey(ctx, e.tenant, service.RotateOptions{Settle: time.Millisecond}); err != nil {
		t.Fatalf("a data-key rotation after it: %v", err)
	}
	// Each published keyring is in the tenant's audit trail, by the
	// operator.
	var steps []string
	for _, ev := range e.auditAfter(seq) {
		if ev.Action == audit.KeyringRotate {
			if ev.TenantID != e.tenant || ev.ActorType != audit.ActorOperator || ev.ObjectID != e.tenant {
				t.Fatalf("keyring event %+v", ev)
			}
			steps = append(steps, ev.Fields...)
		}
	}
	want := []string{"index_key.announce", "index_key.switch", "index_key.settle", "data_key.new", "data_key.retire"}
	if !slices.Equal(steps, want) {
		t.Fatalf("audited steps %v, want %v", steps, want)
	}
}

// TestConcurrentRotationsRefused starts two index-key rotations of one
// tenant at once: the keyring one of them publishes is not the one the
// other read, so that one stops with a conflict instead of writing over
// it, and the tenant ends with one rotation done. (The settle is long
// enough that the second starts before the first is done, even on a slow
// machine.)
func TestConcurrentRotationsRefused(t *testing.T) {
	e := newEnv(t, openSQLite)
	ctx := context.Background()
	var errs [2]error
	var reps [2]service.IndexRotateReport
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cli := service.New(service.Config{Store: e.store, Index: index.New(), MasterKey: e.master})
			defer cli.Close()
			reps[i], errs[i] = cli.RotateIndexKey(ctx, e.tenant, service.RotateOptions{Settle: 300 * time.Millisecond})
		}()
	}
	wg.Wait()
	conflicts := 0
	for i := range 2 {
		if apperr.CodeOf(errs[i]) == apperr.Conflict {
			conflicts++
		} else if errs[i] != nil || reps[i].ToVersion != 1 {
			t.Fatalf("rotation %d: %+v %v", i, reps[i], errs[i])
		}
	}
	if conflicts != 1 {
		t.Fatalf("%d of the two rotations stopped with a conflict: %v", conflicts, errs)
	}
	var tn *store.Tenant
	e.store.Read(ctx, func(tx store.Tx) (err error) { tn, err = tx.GetTenant(ctx, e.tenant); return err })
	ring, err := vault.OpenTenantKeys(e.master, e.tenant, tn.WrappedKey)
	if err != nil || ring.IndexPhase() != vault.IndexSteady || len(ring.IndexNext) != 1 {
		t.Fatalf("after both: phase %d, %d index keys, %v", ring.IndexPhase(), len(ring.IndexNext), err)
	}
}

// TestRotationKeepsIdentifiersUnique (PostgreSQL, where transactions run
// at once): two services create the same identifiers at the same moment
// while a rotation runs. The rotating one adopts each keyring at once, the
// other up to its key cache TTL later, so for a while they write different
// forms, which the unique index cannot compare. Each identifier must still
// end up with one contact.
func TestRotationKeepsIdentifiersUnique(t *testing.T) {
	pgtest.DSN(t)
	e := newEnv(t, openPostgres)
	ctx := context.Background()
	e.svc.SetTenantKeyTTL(150 * time.Millisecond)
	pr := auth.Principal{TenantID: e.tenant, KeyID: "test", Role: auth.Owner}
	cli := service.New(service.Config{Store: e.store, Index: index.New(), MasterKey: e.master})
	defer cli.Close()
	cli.SetTenantKeyTTL(150 * time.Millisecond)
	done := make(chan error, 1)
	go func() {
		_, err := cli.RotateIndexKey(ctx, e.tenant, service.RotateOptions{Settle: 400 * time.Millisecond})
		done <- err
	}()
	created := 0
	for i := 0; ; i++ {
		p := fmt.Sprintf("+4550%06d", 100000+i)
		var errs [2]error
		var wg sync.WaitGroup
		for j, svc := range []*service.Service{e.svc, cli} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[j] = svc.CreateContact(ctx, pr, service.ContactInput{Identifiers: map[string]string{"phone": p}})
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case apperr.CodeOf(err) != apperr.Conflict:
				t.Fatalf("%s: %v", p, err)
			}
		}
		if ok != 1 {
			t.Fatalf("%s: %d contacts created at once, want 1", p, ok)
		}
		created++
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("the rotation (a duplicate would stop its rewrite): %v", err)
			}
			t.Logf("%d identifiers created twice at once across the rotation", created)
			return
		default:
		}
	}
}
