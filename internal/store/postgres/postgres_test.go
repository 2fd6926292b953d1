package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/ledger"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/store/postgres"
	"github.com/consentgate/consentgate/internal/store/postgres/pgtest"
	"github.com/consentgate/consentgate/internal/store/storetest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/oklog/ulid/v2"
)

func TestConformance(t *testing.T) {
	pgtest.DSN(t) // skip (or fail under CI) once, not in every case
	storetest.Run(t, func(t *testing.T) store.Store { return pgtest.Open(t) })
}

// TestMigrationsConcurrent starts several nodes on one empty schema at once:
// the advisory lock must let exactly one apply each migration while the
// others wait and then skip it.
func TestMigrationsConcurrent(t *testing.T) {
	dsn, _ := pgtest.Schema(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := postgres.Open(context.Background(), dsn, postgres.Options{MaxConns: 2})
			if err == nil {
				db.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	// And again, with everything applied already.
	db, err := postgres.Open(context.Background(), dsn, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
}

// TestSchemaOption creates the schema named in Options when it is missing.
func TestSchemaOption(t *testing.T) {
	dsn, schema := pgtest.Schema(t)
	db, err := postgres.Open(context.Background(), dsn, postgres.Options{Schema: schema + "_x"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t.Cleanup(func() { pgtest.DropSchema(t, schema+"_x") })
	if err := db.Write(context.Background(), func(tx store.Tx) error {
		return tx.CreateTenant(context.Background(), &store.Tenant{ID: "t1", Name: "n", WrappedKey: []byte{1}})
	}); err != nil {
		t.Fatal(err)
	}
}

// TestErrorMapping: driver errors become store sentinels by SQLSTATE code
// or connection error type, never by message.
func TestErrorMapping(t *testing.T) {
	for _, c := range []struct {
		err  error
		want error
	}{
		{&pgconn.PgError{Code: "23505"}, store.ErrConflict},
		{&pgconn.PgError{Code: "57P01"}, store.ErrUnavailable},
		{&pgconn.PgError{Code: "08006"}, store.ErrUnavailable},
		{&pgconn.PgError{Code: "53300"}, store.ErrUnavailable},
		{&pgconn.PgError{Code: "40001"}, store.ErrUnavailable},
		{&pgconn.PgError{Code: "40P01"}, store.ErrUnavailable},
		{fmt.Errorf("query: %w", pgx.ErrNoRows), store.ErrNotFound},
		{&net.OpError{Op: "dial", Err: errors.New("connection refused")}, store.ErrUnavailable},
	} {
		if got := postgres.MapErr(c.err); !errors.Is(got, c.want) {
			t.Errorf("mapErr(%v) = %v, want %v", c.err, got, c.want)
		}
	}
	for _, err := range []error{&pgconn.PgError{Code: "42P01"}, context.Canceled, errors.New("other")} {
		got := postgres.MapErr(err)
		if errors.Is(got, store.ErrConflict) || errors.Is(got, store.ErrUnavailable) || errors.Is(got, store.ErrNotFound) {
			t.Errorf("mapErr(%v) = %v, want no sentinel", err, got)
		}
	}
	// A server that is not there is unavailable, and the password stays out
	// of the error.
	_, err := postgres.Open(context.Background(), "postgres://u:sekrit@127.0.0.1:1/db?connect_timeout=2", postgres.Options{})
	if !errors.Is(err, store.ErrUnavailable) || strings.Contains(err.Error(), "sekrit") {
		t.Errorf("Open on a closed port = %v", err)
	}
}

func mkTenant(t *testing.T, s store.Store) string {
	t.Helper()
	ctx := context.Background()
	err := s.Write(ctx, func(tx store.Tx) error {
		return tx.CreateTenant(ctx, &store.Tenant{ID: "t1", Name: "t1", WrappedKey: []byte{1}, CreatedAt: time.Now()})
	})
	if err != nil {
		t.Fatal(err)
	}
	return "t1"
}

func purpose(key string) *consent.Purpose {
	return &consent.Purpose{Key: key, Name: key, NoticeVersion: 1, Category: consent.Marketing,
		Basis: consent.BasisConsent, Channels: []consent.Channel{consent.SMS}}
}

func purposeKeys(t *testing.T, s store.Store, tn string) []string {
	t.Helper()
	var keys []string
	err := s.Read(context.Background(), func(tx store.Tx) error {
		ps, err := tx.ListPurposes(context.Background(), tn)
		for _, p := range ps {
			keys = append(keys, p.Key)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// TestUnitsPipelined covers the savepoints that wait for the next
// statement: empty units, nested units, a failing inner unit inside a
// succeeding outer one and the other way round.
func TestUnitsPipelined(t *testing.T) {
	ctx := context.Background()
	s := pgtest.Open(t)
	tn := mkTenant(t, s)
	boom := errors.New("boom")
	create := func(key string) func(store.Tx) error {
		return func(tx store.Tx) error { return tx.CreatePurpose(ctx, tn, purpose(key), time.Now()) }
	}
	err := s.Write(ctx, func(tx store.Tx) error {
		if err := tx.Unit(ctx, func(store.Tx) error { return nil }); err != nil {
			return err
		}
		if err := tx.Unit(ctx, func(store.Tx) error { return boom }); !errors.Is(err, boom) {
			t.Errorf("empty failing unit = %v", err)
		}
		// Outer succeeds, inner fails: a kept, b undone.
		if err := tx.Unit(ctx, func(tx store.Tx) error {
			if err := create("a")(tx); err != nil {
				return err
			}
			if err := tx.Unit(ctx, func(tx store.Tx) error {
				create("b")(tx)
				return boom
			}); !errors.Is(err, boom) {
				t.Errorf("inner unit = %v", err)
			}
			return tx.Unit(ctx, func(store.Tx) error { return nil })
		}); err != nil {
			return err
		}
		// Inner succeeds, outer fails: both undone.
		if err := tx.Unit(ctx, func(tx store.Tx) error {
			if err := tx.Unit(ctx, create("c")); err != nil {
				return err
			}
			return boom
		}); !errors.Is(err, boom) {
			t.Errorf("outer unit = %v", err)
		}
		// A constraint failure leaves the transaction usable.
		if err := tx.Unit(ctx, create("a")); !errors.Is(err, store.ErrConflict) {
			t.Errorf("duplicate in unit = %v", err)
		}
		return tx.Unit(ctx, create("d"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := purposeKeys(t, s, tn); !reflect.DeepEqual(got, []string{"a", "d"}) {
		t.Errorf("purposes = %v, want [a d]", got)
	}
}

// TestWriteRetries: a serialization failure, even inside a unit whose
// error fn swallowed, re-runs the whole transaction; retries are bounded.
func TestWriteRetries(t *testing.T) {
	ctx := context.Background()
	s := pgtest.Open(t)
	tn := mkTenant(t, s)
	const raise = `DO $$ BEGIN RAISE EXCEPTION 'test' USING ERRCODE = '40001'; END $$`
	runs := 0
	err := s.Write(ctx, func(tx store.Tx) error {
		runs++
		if err := tx.CreatePurpose(ctx, tn, purpose("once"), time.Now()); err != nil {
			return err
		}
		if runs == 1 {
			tx.Unit(ctx, func(tx store.Tx) error { return postgres.ExecInTx(ctx, tx, raise) })
		}
		return nil
	})
	if err != nil || runs != 2 {
		t.Fatalf("Write = %v after %d runs, want nil after 2", err, runs)
	}
	if got := purposeKeys(t, s, tn); !reflect.DeepEqual(got, []string{"once"}) {
		t.Errorf("purposes = %v", got)
	}
	runs = 0
	err = s.Write(ctx, func(tx store.Tx) error {
		runs++
		return postgres.ExecInTx(ctx, tx, raise)
	})
	if !errors.Is(err, store.ErrUnavailable) || runs != 5 {
		t.Errorf("Write = %v after %d runs, want ErrUnavailable after 5", err, runs)
	}
}

// TestWriteRetriesDeadlock provokes a real deadlock between two writes; the
// one PostgreSQL aborts runs again and both succeed. It takes about one
// deadlock_timeout (1 s by default).
func TestWriteRetriesDeadlock(t *testing.T) {
	ctx := context.Background()
	s := pgtest.Open(t)
	tn := mkTenant(t, s)
	err := s.Write(ctx, func(tx store.Tx) error {
		if err := tx.CreatePurpose(ctx, tn, purpose("x"), time.Now()); err != nil {
			return err
		}
		return tx.CreatePurpose(ctx, tn, purpose("y"), time.Now())
	})
	if err != nil {
		t.Fatal(err)
	}
	var barrier sync.WaitGroup
	barrier.Add(2)
	var runs atomic.Int32
	update := func(first, second string) error {
		var once sync.Once
		return s.Write(ctx, func(tx store.Tx) error {
			runs.Add(1)
			p := purpose(first)
			p.Name = "updated"
			if err := tx.UpdatePurpose(ctx, tn, p, time.Now()); err != nil {
				return err
			}
			once.Do(func() { barrier.Done(); barrier.Wait() })
			p = purpose(second)
			p.Name = "updated"
			return tx.UpdatePurpose(ctx, tn, p, time.Now())
		})
	}
	errs := make(chan error, 2)
	go func() { errs <- update("x", "y") }()
	go func() { errs <- update("y", "x") }()
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("write = %v", err)
		}
	}
	if n := runs.Load(); n != 3 {
		t.Errorf("runs = %d, want 3 (one retry)", n)
	}
}

// TestListenConsentChanges: a transaction that appended consent events
// notifies the range of their seqs at commit; other schemas' notifications
// and rolled-back transactions are not reported.
func TestListenConsentChanges(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, other := pgtest.Open(t), pgtest.Open(t)
	tn := mkTenant(t, s)
	mkTenant(t, other)
	ready := make(chan struct{})
	got := make(chan [2]int64, 16)
	done := make(chan error, 1)
	go func() {
		done <- s.ListenConsentChanges(ctx, func() { close(ready) }, func(lo, hi int64) { got <- [2]int64{lo, hi} })
	}()
	<-ready
	n := 0
	event := func(tenant string) *store.ConsentEvent {
		n++
		return &store.ConsentEvent{ID: fmt.Sprint("e", n), TenantID: tenant, ContactID: "c", Purpose: "p",
			Channel: consent.SMS, Status: consent.StatusGranted, Source: "api", OccurredAt: time.Now(), RecordedAt: time.Now()}
	}
	if err := other.Write(ctx, func(tx store.Tx) error { return tx.AppendConsentEvent(ctx, event("t1")) }); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if err := s.Write(ctx, func(tx store.Tx) error {
		tx.AppendConsentEvent(ctx, event(tn))
		return boom
	}); !errors.Is(err, boom) {
		t.Fatal(err)
	}
	var e1, e2 *store.ConsentEvent
	if err := s.Write(ctx, func(tx store.Tx) error {
		e1, e2 = event(tn), event(tn)
		if err := tx.AppendConsentEvent(ctx, e1); err != nil {
			return err
		}
		return tx.Unit(ctx, func(tx store.Tx) error { return tx.AppendConsentEvent(ctx, e2) })
	}); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-got:
		if r != [2]int64{e1.Seq, e2.Seq} {
			t.Errorf("notified %v, want [%d %d]", r, e1.Seq, e2.Seq)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("no notification")
	}
	select {
	case r := <-got:
		t.Errorf("unexpected notification %v", r)
	case <-time.After(100 * time.Millisecond):
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("listener ended with %v", err)
	}
}

// TestLedgerTwoNodes: two nodes append to one ledger and sign checkpoints at
// once; the conditional writes make every race a retry, and the result
// verifies from scratch.
func TestLedgerTwoNodes(t *testing.T) {
	ctx := context.Background()
	dsn, _ := pgtest.Schema(t)
	skey, vkey, err := ledger.GenerateKey("test.consentgate.local/ledger")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ledger.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	const batches, perBatch = 10, 20
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	var nodes [2]*postgres.DB
	for i := range nodes {
		db, err := postgres.Open(ctx, dsn, postgres.Options{MaxConns: 4})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		nodes[i] = db
		wg.Add(1)
		go func() {
			defer wg.Done()
			log := ledger.NewLog(db.Ledger())
			for range batches {
				leaves := make([][]byte, perBatch)
				for j := range leaves {
					leaves[j] = ledger.Leaf{EventID: ulid.Make().String(), Tenant: "t1", Contact: ulid.Make().String(),
						Purpose: "news", Channel: "sms", Status: ledger.StatusGranted, Time: time.Now(), Source: "api",
						NoticeVersion: 1, Evidence: strings.Repeat("ab", 32)}.Encode()
				}
				// Like the service's sequencer, go on after a conflict
				// the log's own retries did not resolve.
				_, err := log.Append(ctx, leaves...)
				for errors.Is(err, ledger.ErrConflict) {
					_, err = log.Append(ctx, leaves...)
				}
				if err == nil {
					_, _, err = log.Checkpoint(ctx, signer, time.Now())
					for errors.Is(err, ledger.ErrConflict) {
						_, _, err = log.Checkpoint(ctx, signer, time.Now())
					}
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	rep, err := ledger.Verify(ctx, nodes[0].Ledger(), vkey)
	if err != nil {
		t.Fatalf("verify: %v (%+v)", err, rep)
	}
	if rep.TreeSize != 2*batches*perBatch {
		t.Errorf("tree size %d, want %d", rep.TreeSize, 2*batches*perBatch)
	}
}

// TestPanicReleasesConnection: a panic in fn ends the transaction, so a
// recovered panic (net/http recovers a handler's) leaks no connection and
// holds no lock.
func TestPanicReleasesConnection(t *testing.T) {
	dsn, _ := pgtest.Schema(t)
	db, err := postgres.Open(context.Background(), dsn, postgres.Options{MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	tn := mkTenant(t, db)
	// With one connection in the pool, everything below waits for it: if a
	// panic leaked it, the deadline ends the wait.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, run := range []func(func(store.Tx) error) error{
		func(fn func(store.Tx) error) error { return db.Read(ctx, fn) },
		func(fn func(store.Tx) error) error { return db.Write(ctx, fn) },
	} {
		func() {
			defer func() { recover() }()
			run(func(tx store.Tx) error {
				tx.ListPurposes(ctx, tn)
				panic("boom")
			})
		}()
	}
	if err := db.Write(ctx, func(tx store.Tx) error { return tx.CreatePurpose(ctx, tn, purpose("after"), time.Now()) }); err != nil {
		t.Fatal(err) // and leave the pool open: closing it would wait for the leaked connection
	}
	db.Close()
}
