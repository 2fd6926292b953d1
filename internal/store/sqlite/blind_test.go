package sqlite

import (
	"testing"

	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/oklog/ulid/v2"
)

// TestForwardBlindFormsPartitions: the rewrite of a tenant's messages and
// inbound records reaches every partition, including a row that is not in
// the partition its id's time points at (stored under another clock), and
// leaves the other tenant's rows alone.
func TestForwardBlindFormsPartitions(t *testing.T) {
	db := openTest(t)
	a, b := newTenant(t, db, "a"), newTenant(t, db, "b")
	for w := range 4 {
		seedN(t, db, a, week(w), 2, store.MessageDelivered)
		seed(t, db, b, week(w), store.MessageDelivered)
	}
	// An id made now, stored in the partition of three weeks ago.
	var old string
	mustWrite(t, db, func(x *tx) (err error) {
		old, err = x.liveAt(bg, messagesKind, us(week(3)))
		return err
	})
	skewed := &store.Message{ID: ulid.Make().String(), TenantID: a, Kind: store.MessageKindSend, Channel: consent.SMS,
		Sender: "S", RecipientKind: consent.KindPhone, RecipientIndex: []byte("skewed"), Status: store.MessageDelivered,
		Reason: consent.ReasonConsentGranted, BodyHash: []byte("h"), DueAt: week(3), CreatedAt: week(3), UpdatedAt: week(3)}
	mustWrite(t, db, func(x *tx) error {
		_, err := x.exec(bg, in(qCreateMessage, old), messageArgs(skewed)...)
		return err
	})
	if n := count(t, db, `SELECT count(DISTINCT part) FROM messages WHERE tenant_id = ?`, a); n < 4 {
		t.Fatalf("a's messages are in %d partitions, want 4 at least", n)
	}

	fwd := func(v []byte) ([]byte, bool, error) {
		if v[0] == 1 {
			return v, false, nil
		}
		return append([]byte{1}, v...), true, nil
	}
	for table, want := range map[store.BlindTable]int{store.BlindMessages: 9, store.BlindInbound: 8} {
		after, total := "", 0
		for range 20 {
			var n int
			mustWrite(t, db, func(x *tx) (err error) {
				after, n, err = x.ForwardBlindForms(bg, a, table, after, 2, fwd)
				return err
			})
			if total += n; after == "" {
				break
			}
		}
		if after != "" || total != want {
			t.Errorf("%s: rewrote %d rows, want %d; cursor left at %q", table, total, want, after)
		}
	}
	for _, c := range []struct {
		what, q string
		arg     string
		want    int
	}{
		{"a's old forms left in messages", `SELECT count(*) FROM messages WHERE tenant_id = ?
			AND (substr(recipient_index, 1, 1) <> x'01' OR substr(body_hash, 1, 1) <> x'01')`, a, 0},
		{"a's old forms left in inbound records", `SELECT count(*) FROM inbound_messages WHERE tenant_id = ?
			AND (substr(from_index, 1, 1) <> x'01' OR substr(text_hash, 1, 1) <> x'01')`, a, 0},
		{"b's messages in new forms", `SELECT count(*) FROM messages WHERE tenant_id = ? AND substr(recipient_index, 1, 1) = x'01'`, b, 0},
		{"b's inbound records in new forms", `SELECT count(*) FROM inbound_messages WHERE tenant_id = ? AND substr(from_index, 1, 1) = x'01'`, b, 0},
		// x'01736b65776564' is 1 followed by "skewed".
		{"the skewed message rewritten where it is", `SELECT count(*) FROM messages_` + old + `
			WHERE id = ? AND recipient_index = x'01736b65776564'`, skewed.ID, 1},
	} {
		if n := count(t, db, c.q, c.arg); n != c.want {
			t.Errorf("%s: %d, want %d", c.what, n, c.want)
		}
	}
}
