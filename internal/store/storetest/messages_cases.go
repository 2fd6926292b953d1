package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/store"
)

func mkMessage(tenantID, contactID string) *store.Message {
	return &store.Message{ID: id("m"), TenantID: tenantID, ContactID: contactID, Kind: store.MessageKindSend,
		Purpose: "news", Channel: consent.SMS, Sender: "ACME", RecipientKind: consent.KindPhone,
		RecipientIndex: []byte("bi"), Status: store.MessageQueued, Reason: consent.ReasonConsentGranted,
		Basis: consent.BasisConsent, ConsentEventID: "e1", BodyHash: []byte("hash"), BodyLen: 42,
		Sealed: []byte("sealed"), DueAt: t0, CreatedAt: t0, UpdatedAt: t0}
}

func testMessages(t *testing.T, s store.Store) {
	tn := mkTenant(t, s)
	m := mkMessage(tn.ID, "c1")
	m.IdempotencyKey, m.RequestHash = "key-1", []byte("rh")
	write(t, s, func(tx store.Tx) error { return tx.CreateMessage(ctx, m) })
	dup := mkMessage(tn.ID, "c1")
	dup.IdempotencyKey = "key-1"
	wantErr(t, s.Write(ctx, func(tx store.Tx) error { return tx.CreateMessage(ctx, dup) }), store.ErrConflict)
	// Messages without a key never collide on it.
	write(t, s, func(tx store.Tx) error { return tx.CreateMessage(ctx, mkMessage(tn.ID, "c1")) })
	write(t, s, func(tx store.Tx) error { return tx.CreateMessage(ctx, mkMessage(tn.ID, "c1")) })
	ev := &store.MessageEvent{TenantID: tn.ID, MessageID: m.ID, Status: store.MessageQueued, Detail: "consent_granted", At: t0}
	write(t, s, func(tx store.Tx) error { return tx.AppendMessageEvent(ctx, ev) })
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetMessage(ctx, tn.ID, m.ID)
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(got, m) {
			t.Errorf("GetMessage = %+v\nwant %+v", got, m)
		}
		byKey, err := tx.GetMessageByIdempotencyKey(ctx, tn.ID, "key-1")
		if err != nil || byKey.ID != m.ID {
			t.Errorf("GetMessageByIdempotencyKey = %v, %v", byKey, err)
		}
		_, err = tx.GetMessageByIdempotencyKey(ctx, tn.ID, "")
		wantErr(t, err, store.ErrNotFound)
		n, err := tx.CountMessagesSince(ctx, tn.ID, t0)
		if err != nil || n != 3 {
			t.Errorf("CountMessagesSince = %d, %v", n, err)
		}
		n, err = tx.CountMessagesSince(ctx, tn.ID, t0.Add(time.Second))
		if err != nil || n != 0 {
			t.Errorf("CountMessagesSince later = %d, %v", n, err)
		}
		evs, err := tx.ListMessageEvents(ctx, tn.ID, m.ID)
		if err != nil || len(evs) != 1 || !reflect.DeepEqual(evs[0], ev) {
			t.Errorf("ListMessageEvents = %+v, %v", evs, err)
		}
		return nil
	})
}

// testReplies: at most one reply per (tenant, inbound message, kind), and a
// duplicate leaves the transaction usable.
func testReplies(t *testing.T, s store.Store) {
	tn := mkTenant(t, s)
	r := mkMessage(tn.ID, "c1")
	r.Kind, r.InboundID, r.Purpose = "opt_out_confirmation", "in-1", ""
	write(t, s, func(tx store.Tx) error {
		ok, err := tx.CreateReply(ctx, r)
		if err != nil || !ok {
			t.Errorf("first reply: %v, %v", ok, err)
		}
		again := *r
		again.ID = id("m")
		ok, err = tx.CreateReply(ctx, &again)
		if err != nil || ok {
			t.Errorf("second reply stored: %v, %v", ok, err)
		}
		other := *r
		other.ID, other.Kind = id("m"), "help"
		if ok, err := tx.CreateReply(ctx, &other); err != nil || !ok {
			t.Errorf("reply of another kind: %v, %v", ok, err)
		}
		return tx.CreatePurpose(ctx, tn.ID, mkPurpose("after"), t0) // the transaction goes on
	})
	read(t, s, func(tx store.Tx) error {
		n, err := tx.CountMessagesSince(ctx, tn.ID, time.Time{})
		if n != 2 {
			t.Errorf("replies stored = %d", n)
		}
		return err
	})
}

// testClaim: claiming leases due messages once, expired leases are claimed
// again, updates need the lease, released messages come back.
func testClaim(t *testing.T, s store.Store) {
	tn := mkTenant(t, s)
	var ms []*store.Message
	for i := 0; i < 5; i++ {
		m := mkMessage(tn.ID, "c1")
		m.DueAt = t0.Add(time.Duration(i) * time.Second)
		ms = append(ms, m)
		write(t, s, func(tx store.Tx) error { return tx.CreateMessage(ctx, m) })
	}
	lease := t0.Add(time.Minute)
	var a, b []*store.Message
	write(t, s, func(tx store.Tx) (err error) {
		a, err = tx.ClaimMessages(ctx, "A", t0.Add(2*time.Second), lease, 10)
		return err
	})
	write(t, s, func(tx store.Tx) (err error) {
		b, err = tx.ClaimMessages(ctx, "B", t0.Add(2*time.Second), lease, 10)
		return err
	})
	if len(a) != 3 || len(b) != 0 {
		t.Fatalf("claimed A=%d B=%d, want 3 and 0", len(a), len(b))
	}
	for _, m := range a {
		if m.Status != store.MessageSending || m.LeaseOwner != "A" || m.Attempts != 1 || !m.DueAt.Equal(lease) {
			t.Errorf("claimed message %+v", m)
		}
	}
	done := &store.MessageUpdate{TenantID: tn.ID, ID: a[0].ID, LeaseOwner: "A", Status: store.MessageSent,
		ProviderRef: "prov-1", DropSealed: true, At: t0}
	wantErr(t, s.Write(ctx, func(tx store.Tx) error {
		wrong := *done
		wrong.LeaseOwner = "B"
		return tx.UpdateMessage(ctx, &wrong)
	}), store.ErrNotFound)
	write(t, s, func(tx store.Tx) error { return tx.UpdateMessage(ctx, done) })
	write(t, s, func(tx store.Tx) error { return tx.ReleaseMessages(ctx, "A", []string{a[1].ID}, t0) })
	// B claims after A's lease ran out: the released one and A's last one.
	write(t, s, func(tx store.Tx) (err error) {
		b, err = tx.ClaimMessages(ctx, "B", lease, lease.Add(time.Minute), 10)
		return err
	})
	got := map[string]int{}
	for _, m := range b {
		got[m.ID] = m.Attempts
	}
	if len(b) != 4 || got[a[1].ID] != 1 || got[a[2].ID] != 2 || got[a[0].ID] != 0 {
		t.Errorf("second claim = %v", got)
	}
	// A's lease is gone: its late update is refused.
	wantErr(t, s.Write(ctx, func(tx store.Tx) error {
		late := *done
		late.ID = a[2].ID
		return tx.UpdateMessage(ctx, &late)
	}), store.ErrNotFound)
	read(t, s, func(tx store.Tx) error {
		m, err := tx.GetMessage(ctx, tn.ID, a[0].ID)
		if err != nil {
			return err
		}
		if m.Status != store.MessageSent || m.Sealed != nil || m.ProviderRef != "prov-1" || m.LeaseOwner != "" {
			t.Errorf("sent message = %+v", m)
		}
		found, err := tx.FindMessageByProviderRef(ctx, tn.ID, consent.SMS, "prov-1")
		if err != nil || found.ID != m.ID {
			t.Errorf("FindMessageByProviderRef = %v, %v", found, err)
		}
		counts, err := tx.CountMessagesByStatus(ctx)
		if err != nil || counts[store.MessageSent] != 1 || counts[store.MessageSending] != 4 {
			t.Errorf("CountMessagesByStatus = %v, %v", counts, err)
		}
		return nil
	})
	write(t, s, func(tx store.Tx) error {
		return tx.SetDeliveryStatus(ctx, tn.ID, a[0].ID, store.MessageDelivered, t0)
	})
	// A report on a message that was never sent changes nothing.
	wantErr(t, s.Write(ctx, func(tx store.Tx) error {
		return tx.SetDeliveryStatus(ctx, tn.ID, a[1].ID, store.MessageDelivered, t0)
	}), store.ErrNotFound)
}

func testChannelProviders(t *testing.T, s store.Store) {
	tn := mkTenant(t, s)
	p := &store.ChannelProvider{TenantID: tn.ID, Channel: consent.Email, Kind: "smtp", Settings: []byte(`{"host":"mx"}`),
		SecretSealed: []byte("sealed"), CreatedAt: t0, UpdatedAt: t0}
	write(t, s, func(tx store.Tx) error { return tx.PutChannelProvider(ctx, p) })
	p2 := *p
	p2.Kind, p2.SecretSealed, p2.UpdatedAt = "http", nil, t0.Add(time.Hour)
	write(t, s, func(tx store.Tx) error { return tx.PutChannelProvider(ctx, &p2) })
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetChannelProvider(ctx, tn.ID, consent.Email)
		if err != nil || !reflect.DeepEqual(got, &p2) {
			t.Errorf("GetChannelProvider = %+v, %v", got, err)
		}
		list, err := tx.ListChannelProviders(ctx, tn.ID)
		if err != nil || len(list) != 1 {
			t.Errorf("ListChannelProviders = %d, %v", len(list), err)
		}
		return nil
	})
	write(t, s, func(tx store.Tx) error { return tx.DeleteChannelProvider(ctx, tn.ID, consent.Email) })
	wantErr(t, s.Write(ctx, func(tx store.Tx) error { return tx.DeleteChannelProvider(ctx, tn.ID, consent.Email) }), store.ErrNotFound)
}

// testMessageTenantIsolation: another tenant's message id is not found,
// not even with the right idempotency key or provider reference.
func testMessageTenantIsolation(t *testing.T, s store.Store) {
	a, b := mkTenant(t, s), mkTenant(t, s)
	m := mkMessage(a.ID, "c1")
	m.IdempotencyKey, m.ProviderRef = "k", "ref"
	write(t, s, func(tx store.Tx) error { return tx.CreateMessage(ctx, m) })
	write(t, s, func(tx store.Tx) error {
		return tx.AppendMessageEvent(ctx, &store.MessageEvent{TenantID: a.ID, MessageID: m.ID, Status: store.MessageQueued, At: t0})
	})
	read(t, s, func(tx store.Tx) error {
		_, err := tx.GetMessage(ctx, b.ID, m.ID)
		wantErr(t, err, store.ErrNotFound)
		_, err = tx.GetMessageByIdempotencyKey(ctx, b.ID, "k")
		wantErr(t, err, store.ErrNotFound)
		_, err = tx.FindMessageByProviderRef(ctx, b.ID, consent.SMS, "ref")
		wantErr(t, err, store.ErrNotFound)
		evs, err := tx.ListMessageEvents(ctx, b.ID, m.ID)
		if err != nil || len(evs) != 0 {
			t.Errorf("ListMessageEvents across tenants = %d, %v", len(evs), err)
		}
		return nil
	})
	// The same idempotency key in another tenant is another request.
	mb := mkMessage(b.ID, "c2")
	mb.IdempotencyKey = "k"
	write(t, s, func(tx store.Tx) error { return tx.CreateMessage(ctx, mb) })
}

// testMarkMessages: many outcomes recorded at once behave as UpdateMessage
// plus AppendMessageEvent would one by one, lost leases and a repeated
// message included.
func testMarkMessages(t *testing.T, s store.Store) {
	tn := mkTenant(t, s)
	var ms []*store.Message
	for range 3 {
		m := mkMessage(tn.ID, "c1")
		ms = append(ms, m)
		write(t, s, func(tx store.Tx) error { return tx.CreateMessage(ctx, m) })
	}
	lease := t0.Add(time.Minute)
	write(t, s, func(tx store.Tx) (err error) {
		_, err = tx.ClaimMessages(ctx, "A", t0, lease, 10)
		return err
	})
	at, retryAt := t0.Add(time.Second), t0.Add(time.Hour)
	outs := []store.MessageOutcome{
		{Update: &store.MessageUpdate{TenantID: tn.ID, ID: ms[0].ID, LeaseOwner: "A", Status: store.MessageSent,
			ProviderRef: "ref-0", DropSealed: true, At: at}, Detail: "accepted"},
		{Update: &store.MessageUpdate{TenantID: tn.ID, ID: ms[1].ID, LeaseOwner: "A", Status: store.MessageQueued,
			DueAt: retryAt, LastError: "timeout", At: at}, Detail: "retry"},
		{Update: &store.MessageUpdate{TenantID: tn.ID, ID: ms[2].ID, LeaseOwner: "B", Status: store.MessageSent, At: at},
			Detail: "accepted"}, // B never held the lease
		{Update: &store.MessageUpdate{TenantID: tn.ID, ID: ms[0].ID, LeaseOwner: "A", Status: store.MessageFailed, At: at},
			Detail: "again"}, // the first outcome released the lease
		{Update: &store.MessageUpdate{TenantID: "other-tenant", ID: ms[1].ID, LeaseOwner: "A", Status: store.MessageSent,
			At: at}, Detail: "foreign"},
	}
	var seqs []int64
	write(t, s, func(tx store.Tx) (err error) {
		seqs, err = tx.MarkMessages(ctx, outs)
		return err
	})
	if len(seqs) != len(outs) || seqs[0] == 0 || seqs[1] == 0 || seqs[0] == seqs[1] || seqs[2] != 0 || seqs[3] != 0 || seqs[4] != 0 {
		t.Fatalf("MarkMessages seqs = %v", seqs)
	}
	read(t, s, func(tx store.Tx) error {
		m0, err := tx.GetMessage(ctx, tn.ID, ms[0].ID)
		if err != nil {
			return err
		}
		if m0.Status != store.MessageSent || m0.Sealed != nil || m0.ProviderRef != "ref-0" || m0.LeaseOwner != "" || !m0.UpdatedAt.Equal(at) {
			t.Errorf("sent message = %+v", m0)
		}
		m1, err := tx.GetMessage(ctx, tn.ID, ms[1].ID)
		if err != nil {
			return err
		}
		if m1.Status != store.MessageQueued || !m1.DueAt.Equal(retryAt) || m1.LastError != "timeout" || m1.Sealed == nil || m1.LeaseOwner != "" {
			t.Errorf("retried message = %+v", m1)
		}
		m2, err := tx.GetMessage(ctx, tn.ID, ms[2].ID)
		if err != nil {
			return err
		}
		if m2.Status != store.MessageSending || m2.LeaseOwner != "A" {
			t.Errorf("message of a lost lease = %+v", m2)
		}
		for i, want := range []*store.MessageEvent{
			{Seq: seqs[0], TenantID: tn.ID, MessageID: ms[0].ID, Status: store.MessageSent, Detail: "accepted", At: at},
			{Seq: seqs[1], TenantID: tn.ID, MessageID: ms[1].ID, Status: store.MessageQueued, Detail: "retry", At: at},
			nil,
		} {
			evs, err := tx.ListMessageEvents(ctx, tn.ID, ms[i].ID)
			if err != nil {
				return err
			}
			if want == nil && len(evs) != 0 || want != nil && (len(evs) != 1 || !reflect.DeepEqual(evs[0], want)) {
				t.Errorf("events of message %d = %+v, want %+v", i, evs, want)
			}
		}
		return nil
	})
	// Nothing to record is no error.
	write(t, s, func(tx store.Tx) error {
		seqs, err := tx.MarkMessages(ctx, nil)
		if err == nil && len(seqs) != 0 {
			t.Errorf("MarkMessages(nil) = %v", seqs)
		}
		return err
	})
}
