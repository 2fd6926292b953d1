package postgres_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/store/postgres/pgtest"
	"github.com/oklog/ulid/v2"
)

// messageBatcher is what the service's group commit asks of a Tx that can
// create many messages in one statement.
type messageBatcher interface {
	CreateMessages(ctx context.Context, ms []*store.Message) []error
}

func newMessage(tenantID, idem string) *store.Message {
	at := time.Now().UTC().Truncate(time.Microsecond)
	return &store.Message{ID: ulid.Make().String(), TenantID: tenantID, ContactID: "c1", Kind: store.MessageKindSend,
		Purpose: "news", Channel: consent.SMS, Sender: "ACME", RecipientKind: consent.KindPhone,
		RecipientIndex: []byte("bi"), Status: store.MessageQueued, Reason: consent.ReasonConsentGranted,
		Basis: consent.BasisConsent, ConsentEventID: "e1", BodyHash: []byte("hash"), BodyLen: 42,
		Sealed: []byte("sealed"), IdempotencyKey: idem, DueAt: at, CreatedAt: at, UpdatedAt: at}
}

// TestCreateMessages: one statement creates every message that
// CreateMessage would create, each on its own; the others get ErrConflict
// (a taken id or idempotency key, also within the batch) or their own error,
// and the transaction goes on.
func TestCreateMessages(t *testing.T) {
	ctx := context.Background()
	s := pgtest.Open(t)
	tn := mkTenant(t, s)
	first := newMessage(tn, "k1")
	if err := s.Write(ctx, func(tx store.Tx) error { return tx.CreateMessage(ctx, first) }); err != nil {
		t.Fatal(err)
	}
	plain := newMessage(tn, "")
	plain.ContactID, plain.WrappedKey, plain.RequestHash = "", []byte("wrapped"), nil
	ms := []*store.Message{plain, newMessage(tn, "k1"), newMessage(tn, "k2"), newMessage(tn, "k2"),
		newMessage(tn, ""), newMessage(tn, "")}
	ms[2].RequestHash = []byte("rh")
	ms[5].ID = first.ID
	want := []error{nil, store.ErrConflict, nil, store.ErrConflict, nil, store.ErrConflict}
	var errs []error
	if err := s.Write(ctx, func(tx store.Tx) error {
		errs = tx.(messageBatcher).CreateMessages(ctx, ms)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for i := range ms {
		if !errors.Is(errs[i], want[i]) || (want[i] == nil) != (errs[i] == nil) {
			t.Errorf("message %d: %v, want %v", i, errs[i], want[i])
		}
	}
	for _, i := range []int{0, 2, 4} {
		var got *store.Message
		if err := s.Read(ctx, func(tx store.Tx) (err error) { got, err = tx.GetMessage(ctx, tn, ms[i].ID); return err }); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if !reflect.DeepEqual(got, ms[i]) {
			t.Errorf("message %d read back as\n%+v\nwant\n%+v", i, got, ms[i])
		}
	}

	// A message the statement cannot take at all (no such tenant) fails
	// alone: the others are created one by one.
	bad, good := newMessage("no-such-tenant", ""), newMessage(tn, "k3")
	if err := s.Write(ctx, func(tx store.Tx) error {
		errs = tx.(messageBatcher).CreateMessages(ctx, []*store.Message{bad, good})
		return tx.CreatePurpose(ctx, tn, purpose("after"), time.Now())
	}); err != nil {
		t.Fatal(err)
	}
	if errs[0] == nil || errors.Is(errs[0], store.ErrConflict) || errs[1] != nil {
		t.Errorf("errs = %v, want [foreign key violation, nil]", errs)
	}
	if err := s.Read(ctx, func(tx store.Tx) error {
		_, err := tx.GetMessageByIdempotencyKey(ctx, tn, "k3")
		return err
	}); err != nil {
		t.Errorf("the good message: %v", err)
	}
	if got := purposeKeys(t, s, tn); !reflect.DeepEqual(got, []string{"after"}) {
		t.Errorf("purposes = %v, want [after]: the transaction must go on", got)
	}
}

// TestContactKeys: the dispatcher's read of many contacts' keys returns
// the tenant's existing contacts only.
func TestContactKeys(t *testing.T) {
	ctx := context.Background()
	s := pgtest.Open(t)
	tn := mkTenant(t, s)
	if err := s.Write(ctx, func(tx store.Tx) error {
		if err := tx.CreateTenant(ctx, &store.Tenant{ID: "t2", Name: "t2", WrappedKey: []byte{2}, CreatedAt: time.Now()}); err != nil {
			return err
		}
		for _, c := range []*store.Contact{{ID: "a", TenantID: tn, WrappedKey: []byte("ka")},
			{ID: "b", TenantID: tn, WrappedKey: []byte("kb")}, {ID: "c", TenantID: "t2", WrappedKey: []byte("kc")}} {
			if err := tx.CreateContact(ctx, c, nil); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var got map[string][]byte
	err := s.Read(ctx, func(tx store.Tx) (err error) {
		got, err = tx.(interface {
			ContactKeys(context.Context, string, []string) (map[string][]byte, error)
		}).ContactKeys(ctx, tn, []string{"a", "b", "c", "missing"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string][]byte{"a": []byte("ka"), "b": []byte("kb")}; !reflect.DeepEqual(got, want) {
		t.Errorf("ContactKeys = %q, want %q", got, want)
	}
}
