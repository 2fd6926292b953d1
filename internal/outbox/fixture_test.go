package outbox_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/channel"
	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/index"
	"github.com/consentgate/consentgate/internal/outbox"
	"github.com/consentgate/consentgate/internal/service"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/store/sqlite"
	"github.com/consentgate/consentgate/internal/vault"
	"github.com/oklog/ulid/v2"
)

var bg = context.Background()

// fixture is a service over a real SQLite store with one tenant, a
// marketing purpose with consent, a contract purpose, one contact who
// granted the marketing purpose on SMS, and a registered SMS sender.
type fixture struct {
	t       testing.TB
	st      store.Store
	db      *downStore
	svc     *service.Service
	ix      *index.Index
	pr      auth.Principal
	contact string
	kick    func()
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	sq, err := sqlite.Open(bg, filepath.Join(t.TempDir(), "outbox.db"), sqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	return newFixtureOn(t, sq)
}

// newFixtureOn builds the fixture over a given (empty) store.
func newFixtureOn(t testing.TB, st store.Store) *fixture {
	t.Helper()
	db := &downStore{Store: st}
	master, _ := vault.NewKey()
	ix := index.New()
	log := slog.New(slog.DiscardHandler)
	svc := service.New(service.Config{Store: db, Index: ix, MasterKey: master, DefaultRegion: "DK", Logger: log})
	t.Cleanup(func() { svc.Close(); db.Close() })
	if _, err := ix.Load(bg, db); err != nil {
		t.Fatal(err)
	}
	ix.MarkReady()
	f := &fixture{t: t, st: db, db: db, svc: svc, ix: ix}
	tn, err := svc.CreateTenant(bg, "acme")
	if err != nil {
		t.Fatal(err)
	}
	f.pr = auth.Principal{TenantID: tn.ID, KeyID: "k", Role: auth.Owner}
	ptr := func(s string) *string { return &s }
	mk := consent.Marketing
	basis := consent.BasisConsent
	if _, err := svc.CreatePurpose(bg, f.pr, service.PurposeInput{Key: "offers", Name: ptr("Offers"), Category: &mk,
		Basis: &basis, Channels: []consent.Channel{consent.SMS, consent.Email}}); err != nil {
		t.Fatal(err)
	}
	svcCat, contract := consent.Service, consent.BasisContract
	if _, err := svc.CreatePurpose(bg, f.pr, service.PurposeInput{Key: "orders", Name: ptr("Orders"), Category: &svcCat,
		Basis: &contract, Channels: []consent.Channel{consent.SMS, consent.Email}}); err != nil {
		t.Fatal(err)
	}
	if f.contact, err = svc.CreateContact(bg, f.pr, service.ContactInput{Identifiers: map[string]string{"phone": "+4520123456"}, Locale: "da-DK"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SetConsent(bg, f.pr, f.contact, "offers", "sms", service.ConsentInput{Status: consent.StatusGranted}); err != nil {
		t.Fatal(err)
	}
	if err := db.Write(bg, func(tx store.Tx) error {
		return tx.CreateSender(bg, &store.Sender{ID: ulid.Make().String(), TenantID: tn.ID, Channel: consent.SMS,
			Kind: store.SenderAlphanumeric, Address: "ACME", CreatedAt: time.Now()})
	}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	svc.ConfigureSending(service.SendConfig{DefaultProvider: channel.KindSink, PublicURL: "https://cg.example",
		Kick: func() {
			mu.Lock()
			k := f.kick
			mu.Unlock()
			if k != nil {
				k()
			}
		}})
	return f
}

// dispatcher returns a dispatcher over the fixture whose every provider is
// s; Start is left to the caller.
func (f *fixture) dispatcher(s channel.Sender, mod func(*outbox.Config)) *outbox.Dispatcher {
	cfg := outbox.Config{Store: f.st, Service: f.svc, Logger: slog.New(slog.DiscardHandler), Workers: 8,
		Poll: 20 * time.Millisecond, BackoffBase: time.Millisecond, BackoffMax: 5 * time.Millisecond,
		Adapters: func(channel.Config) (channel.Sender, error) { return s, nil }}
	if mod != nil {
		mod(&cfg)
	}
	d := outbox.New(cfg)
	f.kick = d.Kick
	f.svc.SetReplyQueue(d)
	return d
}

// queue sends n offers to the fixture's contact through the service, in
// batches, and returns their ids.
func (f *fixture) queue(n int) []string {
	f.t.Helper()
	var ids []string
	for len(ids) < n {
		b := min(n-len(ids), service.MaxMessageBatch)
		in := make([]service.SendInput, b)
		for i := range in {
			in[i] = service.SendInput{To: service.Recipient{ContactID: f.contact}, Channel: "sms", Purpose: "offers",
				Sender: "ACME", Body: "20% off this week"}
		}
		items, err := f.svc.SendMessages(bg, f.pr, in, "")
		if err != nil {
			f.t.Fatal(err)
		}
		for _, it := range items {
			if it.Error != nil {
				f.t.Fatalf("queue: %v", it.Error)
			}
			ids = append(ids, it.Message.ID)
		}
	}
	return ids
}

// counts returns the outbox by status.
func (f *fixture) counts() map[store.MessageStatus]int {
	f.t.Helper()
	var c map[store.MessageStatus]int
	if err := f.st.Read(bg, func(tx store.Tx) (err error) {
		c, err = tx.CountMessagesByStatus(bg)
		return err
	}); err != nil {
		f.t.Fatal(err)
	}
	return c
}

// waitIdle waits until nothing is queued or sending.
func (f *fixture) waitIdle(timeout time.Duration) map[store.MessageStatus]int {
	f.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		c := f.counts()
		if c[store.MessageQueued] == 0 && c[store.MessageSending] == 0 {
			return c
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("outbox not idle after %v: %v", timeout, c)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (f *fixture) message(id string) *store.Message {
	f.t.Helper()
	var m *store.Message
	if err := f.st.Read(bg, func(tx store.Tx) (err error) {
		m, err = tx.GetMessage(bg, f.pr.TenantID, id)
		return err
	}); err != nil {
		f.t.Fatal(err)
	}
	return m
}

// downStore is a store that can be taken away: while down, every
// transaction fails with store.ErrUnavailable, as a lost database would.
type downStore struct {
	store.Store
	down atomic.Bool
}

func (d *downStore) Read(ctx context.Context, fn func(store.Tx) error) error {
	if d.down.Load() {
		return store.ErrUnavailable
	}
	return d.Store.Read(ctx, fn)
}

func (d *downStore) Write(ctx context.Context, fn func(store.Tx) error) error {
	if d.down.Load() {
		return store.ErrUnavailable
	}
	return d.Store.Write(ctx, fn)
}

func (d *downStore) WriteRelaxed(ctx context.Context, fn func(store.Tx) error) error {
	if d.down.Load() {
		return store.ErrUnavailable
	}
	return d.Store.WriteRelaxed(ctx, fn)
}
