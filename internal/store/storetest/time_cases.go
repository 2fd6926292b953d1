package storetest

import (
	"crypto/rand"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/oklog/ulid/v2"
)

// ulidAt is a ULID made at, as the service makes ids: a store may place a
// row by its id's time (SQLite's time partitions).
func ulidAt(at time.Time) string { return ulid.MustNew(ulid.Timestamp(at), rand.Reader).String() }

// testMessagesAcrossTime: messages and inbound records made weeks apart
// behave as one table. Every lookup finds them, the unique constraints
// hold between them (idempotency keys, replies and inbound provider ids
// for 30 days at least: SQLite checks no further back), claims and updates
// reach them, and erasure removes them all.
func testMessagesAcrossTime(t *testing.T, s store.Store) {
	tn := mkTenant(t, s)
	c := mkContact(t, s, tn.ID, "across-bi")
	ages := []time.Duration{29 * 24 * time.Hour, 15 * 24 * time.Hour, 8 * 24 * time.Hour, 0}
	var ms []*store.Message
	for i, age := range ages {
		at := t0.Add(-age)
		m := mkMessage(tn.ID, c.ID)
		m.ID, m.CreatedAt, m.UpdatedAt, m.DueAt = ulidAt(at), at, at, at
		m.IdempotencyKey, m.ProviderRef = "key-"+string(rune('a'+i)), "ref-"+string(rune('a'+i))
		ms = append(ms, m)
		write(t, s, func(tx store.Tx) error { return tx.CreateMessage(ctx, m) })
	}
	oldest := ms[0]

	// The oldest message's key and reply slot are taken, also for a new message.
	dup := mkMessage(tn.ID, c.ID)
	dup.ID, dup.IdempotencyKey = ulidAt(t0), oldest.IdempotencyKey
	wantErr(t, s.Write(ctx, func(tx store.Tx) error { return tx.CreateMessage(ctx, dup) }), store.ErrConflict)
	reply := func(at time.Time) bool {
		r := mkMessage(tn.ID, c.ID)
		r.ID, r.Kind, r.InboundID, r.Purpose, r.CreatedAt = ulidAt(at), "help", "in-across", "", at
		var ok bool
		write(t, s, func(tx store.Tx) (err error) { ok, err = tx.CreateReply(ctx, r); return err })
		return ok
	}
	if !reply(t0.Add(-ages[1])) || reply(t0) {
		t.Error("a second reply to one inbound message, made weeks later, was stored")
	}

	read(t, s, func(tx store.Tx) error {
		for _, m := range ms {
			if got, err := tx.GetMessage(ctx, tn.ID, m.ID); err != nil || got.IdempotencyKey != m.IdempotencyKey {
				t.Errorf("GetMessage(%s) = %v, %v", m.IdempotencyKey, got, err)
			}
		}
		if got, err := tx.GetMessageByIdempotencyKey(ctx, tn.ID, oldest.IdempotencyKey); err != nil || got.ID != oldest.ID {
			t.Errorf("GetMessageByIdempotencyKey(oldest) = %v, %v", got, err)
		}
		if got, err := tx.FindMessageByProviderRef(ctx, tn.ID, consent.SMS, oldest.ProviderRef); err != nil || got.ID != oldest.ID {
			t.Errorf("FindMessageByProviderRef(oldest) = %v, %v", got, err)
		}
		got, err := tx.ListContactMessages(ctx, tn.ID, c.ID, 10)
		if err != nil || len(got) != 5 || !got[0].CreatedAt.After(got[len(got)-1].CreatedAt) {
			t.Errorf("ListContactMessages = %d messages, %v; want 5, newest first", len(got), err)
		}
		return nil
	})

	// Claims reach every partition, oldest due first; updates and events
	// reach the oldest message.
	var claimed []*store.Message
	write(t, s, func(tx store.Tx) (err error) {
		claimed, err = tx.ClaimMessages(ctx, "w1", t0, t0.Add(time.Minute), 10)
		return err
	})
	if len(claimed) != 5 {
		t.Fatalf("claimed %d messages, want 5", len(claimed))
	}
	write(t, s, func(tx store.Tx) error {
		if err := tx.UpdateMessage(ctx, &store.MessageUpdate{TenantID: tn.ID, ID: oldest.ID, LeaseOwner: "w1",
			Status: store.MessageSent, ProviderRef: oldest.ProviderRef, At: t0, DueAt: t0}); err != nil {
			return err
		}
		if err := tx.SetDeliveryStatus(ctx, tn.ID, oldest.ID, store.MessageDelivered, t0); err != nil {
			return err
		}
		return tx.AppendMessageEvent(ctx, &store.MessageEvent{TenantID: tn.ID, MessageID: oldest.ID,
			Status: store.MessageDelivered, At: t0})
	})
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetMessage(ctx, tn.ID, oldest.ID)
		if err != nil || got.Status != store.MessageDelivered {
			t.Errorf("oldest after update = %v, %v", got, err)
		}
		evs, err := tx.ListMessageEvents(ctx, tn.ID, oldest.ID)
		if err != nil || len(evs) != 1 {
			t.Errorf("oldest's events = %d, %v", len(evs), err)
		}
		return nil
	})

	// An inbound provider id is taken for good, whenever the repeat comes.
	in := &store.InboundMessage{ID: ulidAt(t0.Add(-ages[0])), TenantID: tn.ID, Channel: consent.SMS, ProviderID: "SM-across",
		SenderID: "s1", ContactID: c.ID, FromIndex: []byte("across-bi"), TextHash: []byte("h"), TextLen: 4, Outcome: "ignored",
		ReceivedAt: t0.Add(-ages[0]), RecordedAt: t0.Add(-ages[0])}
	write(t, s, func(tx store.Tx) error { return tx.CreateInboundMessage(ctx, in) })
	again := *in
	again.ID, again.ReceivedAt, again.RecordedAt = ulidAt(t0), t0, t0
	wantErr(t, s.Write(ctx, func(tx store.Tx) error { return tx.CreateInboundMessage(ctx, &again) }), store.ErrConflict)

	var counts map[string]int
	write(t, s, func(tx store.Tx) (err error) { counts, err = tx.EraseContact(ctx, tn.ID, c.ID, nil); return err })
	if counts["messages"] != 5 || counts["inbound_messages"] != 1 || counts["message_events"] != 1 {
		t.Errorf("erasure counts = %v, want 5 messages, 1 inbound record, 1 event", counts)
	}
	read(t, s, func(tx store.Tx) error {
		_, err := tx.GetMessage(ctx, tn.ID, oldest.ID)
		wantErr(t, err, store.ErrNotFound)
		return nil
	})
}
