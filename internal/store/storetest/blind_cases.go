package storetest

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/store"
)

// blindOf is a 32-byte value standing for a blind index or keyed hash
// under the old index key; tagged is its form under the new one, 33 bytes
// starting with 1, as the service's versioned forms are.
func blindOf(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func tagged(v []byte) []byte { return append([]byte{1}, v...) }

// tagFwd forwards an old form to its tagged form and leaves a tagged one
// as it is. Anything else (an empty value above all) fails the test.
func tagFwd(t *testing.T) store.ForwardFunc {
	return func(v []byte) ([]byte, bool, error) {
		switch {
		case len(v) == 33 && v[0] == 1:
			return v, false, nil
		case len(v) == 32:
			return tagged(v), true, nil
		}
		t.Errorf("fwd got %x: neither an old nor a new form", v)
		return nil, false, fmt.Errorf("unexpected value %x", v)
	}
}

// forwardAll runs ForwardBlindForms over one table of one tenant, a write
// transaction per page as a rotation does, and returns the rows rewritten.
func forwardAll(t *testing.T, s store.Store, tenantID string, table store.BlindTable, limit int, fwd store.ForwardFunc) int {
	t.Helper()
	after, total := "", 0
	for pages := 1; ; pages++ {
		var next string
		var n int
		write(t, s, func(tx store.Tx) (err error) {
			next, n, err = tx.ForwardBlindForms(ctx, tenantID, table, after, limit, fwd)
			return err
		})
		total += n
		if next == "" {
			return total
		}
		if next == after {
			t.Fatalf("%s: the cursor stays at %q", table, next)
		}
		if pages > 100 {
			t.Fatalf("%s: no end after %d pages", table, pages)
		}
		after = next
	}
}

// blindSeed is what seedBlind stored for a tenant.
type blindSeed struct {
	contacts []*store.Contact
	users    []*store.User
	messages []*store.Message
	inbound  []*store.InboundMessage
}

// low is an old form that sorts before its tagged form: rewritten, the
// key of its row moves past the cursor and is read again.
var low = make([]byte, 32)

// seedBlind stores rows with index-keyed values for a tenant: the same
// values for every tenant, so that a rewrite that leaks across tenants
// shows. Messages and inbound records are made weeks apart (SQLite keeps
// them in separate partitions), some hold no request hash or an empty
// body hash, and one of each is in the new form already.
func seedBlind(t *testing.T, s store.Store, tenantID string) *blindSeed {
	t.Helper()
	sd := &blindSeed{}
	write(t, s, func(tx store.Tx) error {
		for i := range 4 {
			c := &store.Contact{ID: id("c"), TenantID: tenantID, Locale: "da-DK", WrappedKey: []byte("wk"), CreatedAt: t0, UpdatedAt: t0}
			ids := []store.Identifier{{Kind: consent.KindPhone, BlindIndex: blindOf(fmt.Sprint("phone-", i)), Sealed: []byte("s")}}
			if i < 2 {
				ids = append(ids, store.Identifier{Kind: consent.KindEmail, BlindIndex: blindOf(fmt.Sprint("mail-", i)), Sealed: []byte("s")})
			}
			if i == 3 {
				ids = append(ids, store.Identifier{Kind: consent.KindWhatsApp, BlindIndex: low, Sealed: []byte("s")})
			}
			if err := tx.CreateContact(ctx, c, ids); err != nil {
				return err
			}
			sd.contacts = append(sd.contacts, c)
		}
		for _, sp := range []struct {
			kind   consent.IdentifierKind
			bi     []byte
			scope  string
			reason string
		}{
			{consent.KindPhone, blindOf("phone-0"), "all", "stop"},
			{consent.KindPhone, blindOf("phone-0"), "sms", "stop-sms"},
			{consent.KindEmail, blindOf("mail-0"), "all", "bounce"},
			{consent.KindEmail, blindOf("mail-9"), "email", "complaint"},
			{consent.KindPhone, low, "all", "low"},
			// The same suppression in both forms: the old one goes.
			{consent.KindPhone, blindOf("dup"), "all", "old"},
			{consent.KindPhone, tagged(blindOf("dup")), "all", "new"},
		} {
			if err := tx.AddSuppression(ctx, &store.Suppression{TenantID: tenantID, Kind: sp.kind, BlindIndex: sp.bi,
				Scope: sp.scope, Reason: sp.reason, CreatedAt: t0}); err != nil {
				return err
			}
		}
		for i := range 4 {
			u := &store.User{ID: id("u"), TenantID: tenantID, Role: "support", EmailSealed: []byte("sealed"),
				EmailIndex: blindOf(fmt.Sprint("user-", i)), PasswordHash: "$argon2id$x", CreatedAt: t0}
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
			sd.users = append(sd.users, u)
		}
		c0, c1 := sd.contacts[0].ID, sd.contacts[1].ID
		for _, m := range []struct {
			contact        string
			age            time.Duration
			to, body, req  []byte
			idempotencyKey string
		}{
			{c0, 20 * 24 * time.Hour, blindOf("phone-0"), blindOf("body-0"), blindOf("req-0"), "k0"},
			{c0, 10 * 24 * time.Hour, blindOf("phone-0"), blindOf("body-1"), nil, ""},
			{"", 0, blindOf("stranger"), []byte{}, nil, ""},
			{c1, 0, blindOf("phone-1"), blindOf("body-3"), blindOf("req-3"), "k3"},
			{c1, time.Hour, tagged(blindOf("phone-1")), tagged(blindOf("body-4")), nil, ""}, // forwarded already
		} {
			at := t0.Add(-m.age)
			msg := mkMessage(tenantID, m.contact)
			msg.ID, msg.CreatedAt, msg.UpdatedAt, msg.DueAt = ulidAt(at), at, at, at
			msg.RecipientIndex, msg.BodyHash, msg.RequestHash, msg.IdempotencyKey = m.to, m.body, m.req, m.idempotencyKey
			if err := tx.CreateMessage(ctx, msg); err != nil {
				return err
			}
			sd.messages = append(sd.messages, msg)
		}
		for i, in := range []struct {
			contact    string
			age        time.Duration
			from, text []byte
		}{
			{c0, 20 * 24 * time.Hour, blindOf("phone-0"), blindOf("text-0")},
			{c1, 0, blindOf("phone-1"), blindOf("text-1")},
			{c1, 10 * 24 * time.Hour, blindOf("phone-1"), blindOf("text-2")},
			{c0, time.Hour, tagged(blindOf("phone-0")), tagged(blindOf("text-3"))}, // forwarded already
			{c1, 2 * time.Hour, blindOf("phone-1"), blindOf("text-4")},
		} {
			at := t0.Add(-in.age)
			m := &store.InboundMessage{ID: ulidAt(at), TenantID: tenantID, Channel: consent.SMS, ProviderID: fmt.Sprint("SM-blind-", i),
				SenderID: "s1", ContactID: in.contact, FromIndex: in.from, TextHash: in.text, TextLen: 4, Outcome: "ignored",
				ReceivedAt: at, RecordedAt: at}
			if err := tx.CreateInboundMessage(ctx, m); err != nil {
				return err
			}
			sd.inbound = append(sd.inbound, m)
		}
		return nil
	})
	return sd
}

// How many rows of a seedBlind tenant a rotation rewrites, per table.
var blindRewrites = map[store.BlindTable]int{
	store.BlindIdentifiers:  7, // two kinds, and one of a third
	store.BlindSuppressions: 6, // the one in the new form stays; its twin in the old form goes
	store.BlindUsers:        4,
	store.BlindMessages:     4, // one is in the new form
	store.BlindInbound:      4, // one is in the new form
}

// blindState returns every index-keyed value of a tenant's seeded rows, by
// row, read through the store's own lookups.
func blindState(t *testing.T, s store.Store, tenantID string, sd *blindSeed) map[string][][]byte {
	t.Helper()
	out := map[string][][]byte{}
	read(t, s, func(tx store.Tx) error {
		for _, c := range sd.contacts {
			_, ids, err := tx.GetContact(ctx, tenantID, c.ID)
			if err != nil {
				return err
			}
			for _, i := range ids {
				out["identifier "+c.ID+" "+string(i.Kind)] = [][]byte{i.BlindIndex}
			}
			in, err := tx.ListContactInbound(ctx, tenantID, c.ID, 100)
			if err != nil {
				return err
			}
			for _, m := range in {
				out["inbound "+m.ID] = [][]byte{m.FromIndex, m.TextHash}
			}
		}
		for _, u := range sd.users {
			got, err := tx.GetUser(ctx, tenantID, u.ID)
			if err != nil {
				return err
			}
			out["user "+u.ID] = [][]byte{got.EmailIndex}
		}
		for _, m := range sd.messages {
			got, err := tx.GetMessage(ctx, tenantID, m.ID)
			if err != nil {
				return err
			}
			out["message "+m.ID] = [][]byte{got.RecipientIndex, got.BodyHash, got.RequestHash}
		}
		return tx.ScanSuppressions(ctx, func(sp *store.Suppression) error {
			if sp.TenantID == tenantID {
				out["suppression "+string(sp.Kind)+" "+sp.Scope+" "+sp.Reason] = [][]byte{sp.BlindIndex}
			}
			return nil
		})
	})
	return out
}

// sameState reports the first difference between two blindStates; nil and
// empty values are the same.
func sameState(t *testing.T, what string, got, want map[string][][]byte) {
	t.Helper()
	if !slices.Equal(slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want))) {
		t.Fatalf("%s: rows %v, want %v", what, slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
	}
	for k, w := range want {
		for i := range w {
			if !bytes.Equal(got[k][i], w[i]) {
				t.Errorf("%s: %s value %d = %x, want %x", what, k, i, got[k][i], w[i])
			}
		}
	}
}

// testBlindForms covers the rewrite of index-keyed values an index key
// rotation runs: every table, paged with a small limit, revisits included;
// the other tenant untouched; lookups by the new forms; a suppression in
// both forms collapsed; a failing fwd and a duplicate new form aborting.
func testBlindForms(t *testing.T, s store.Store) {
	tn, other := mkTenant(t, s), mkTenant(t, s)
	sd, so := seedBlind(t, s, tn.ID), seedBlind(t, s, other.ID)
	before, otherBefore := blindState(t, s, tn.ID, sd), blindState(t, s, other.ID, so)
	// The old and new forms of the seed are what the test thinks they are.
	if v := before["message "+sd.messages[2].ID]; len(v[1]) != 0 || v[2] != nil {
		t.Fatalf("a message without hashes reads %x", v)
	}

	t.Run("fwd error aborts", func(t *testing.T) {
		boom := errors.New("boom")
		for _, table := range store.BlindTables {
			calls := 0
			err := s.Write(ctx, func(tx store.Tx) error {
				_, _, err := tx.ForwardBlindForms(ctx, tn.ID, table, "", 3, func(v []byte) ([]byte, bool, error) {
					calls++
					return nil, false, boom
				})
				return err
			})
			if !errors.Is(err, boom) || calls == 0 {
				t.Errorf("%s: err = %v after %d calls, want boom", table, err, calls)
			}
		}
		sameState(t, "after a failed rewrite", blindState(t, s, tn.ID, sd), before)
	})

	t.Run("bad arguments", func(t *testing.T) {
		for _, c := range []struct {
			table store.BlindTable
			after string
			limit int
		}{
			{"consent_events", "", 3},
			{store.BlindUsers, "", 0},
			{store.BlindIdentifiers, "phone", 3},
			{store.BlindIdentifiers, "phone/zz", 3},
			{store.BlindSuppressions, "phone/00", 3},
		} {
			err := s.Write(ctx, func(tx store.Tx) error {
				_, _, err := tx.ForwardBlindForms(ctx, tn.ID, c.table, c.after, c.limit, tagFwd(t))
				return err
			})
			if err == nil {
				t.Errorf("ForwardBlindForms(%s, %q, %d) took it", c.table, c.after, c.limit)
			}
		}
	})

	t.Run("forward", func(t *testing.T) {
		for _, table := range store.BlindTables {
			if n := forwardAll(t, s, tn.ID, table, 3, tagFwd(t)); n != blindRewrites[table] {
				t.Errorf("%s: rewrote %d rows, want %d", table, n, blindRewrites[table])
			}
		}
		want := map[string][][]byte{}
		for k, vs := range before {
			if k == "suppression phone all old" {
				continue // the same as "new", which is in the new form already
			}
			next := make([][]byte, len(vs))
			for i, v := range vs {
				if next[i] = v; len(v) == 32 {
					next[i] = tagged(v)
				}
			}
			want[k] = next
		}
		sameState(t, "the tenant after the rewrite", blindState(t, s, tn.ID, sd), want)
		sameState(t, "the other tenant", blindState(t, s, other.ID, so), otherBefore)

		// Done: a second pass reads every row again and changes none.
		for _, table := range store.BlindTables {
			if n := forwardAll(t, s, tn.ID, table, 2, tagFwd(t)); n != 0 {
				t.Errorf("%s: the second pass rewrote %d rows", table, n)
			}
		}

		read(t, s, func(tx store.Tx) error {
			for _, c := range []struct {
				kind consent.IdentifierKind
				bi   []byte
				want string
			}{
				{consent.KindPhone, blindOf("phone-0"), sd.contacts[0].ID},
				{consent.KindEmail, blindOf("mail-1"), sd.contacts[1].ID},
				{consent.KindWhatsApp, low, sd.contacts[3].ID},
			} {
				if got, err := tx.FindContactID(ctx, tn.ID, c.kind, tagged(c.bi)); err != nil || got != c.want {
					t.Errorf("FindContactID(%s, new form) = %q, %v; want %s", c.kind, got, err, c.want)
				}
				_, err := tx.FindContactID(ctx, tn.ID, c.kind, c.bi)
				wantErr(t, err, store.ErrNotFound)
				if got, err := tx.FindContactID(ctx, other.ID, c.kind, c.bi); err != nil || got == c.want {
					t.Errorf("the other tenant's FindContactID(%s, old form) = %q, %v", c.kind, got, err)
				}
				_, err = tx.FindContactID(ctx, other.ID, c.kind, tagged(c.bi))
				wantErr(t, err, store.ErrNotFound)
			}
			for bi, want := range map[string]string{"phone-0": "stop", "dup": "new"} {
				if got, err := tx.FindSuppressionReason(ctx, tn.ID, string(consent.KindPhone), tagged(blindOf(bi))); err != nil || got != want {
					t.Errorf("FindSuppressionReason(%s, new form) = %q, %v; want %q", bi, got, err, want)
				}
				_, err := tx.FindSuppressionReason(ctx, tn.ID, string(consent.KindPhone), blindOf(bi))
				wantErr(t, err, store.ErrNotFound)
			}
			if got, err := tx.FindSuppressionReason(ctx, other.ID, string(consent.KindPhone), blindOf("dup")); err != nil || got != "old" {
				t.Errorf("the other tenant's suppression = %q, %v", got, err)
			}
			for i, u := range sd.users {
				if got, err := tx.GetUserByEmail(ctx, tn.ID, tagged(blindOf(fmt.Sprint("user-", i)))); err != nil || got.ID != u.ID {
					t.Errorf("GetUserByEmail(new form of user %d) = %v, %v", i, got, err)
				}
				_, err := tx.GetUserByEmail(ctx, tn.ID, blindOf(fmt.Sprint("user-", i)))
				wantErr(t, err, store.ErrNotFound)
			}
			if got, err := tx.GetUserByEmail(ctx, other.ID, blindOf("user-0")); err != nil || got.ID != so.users[0].ID {
				t.Errorf("the other tenant's GetUserByEmail(old form) = %v, %v", got, err)
			}
			return nil
		})
	})

	t.Run("revisits", func(t *testing.T) {
		// 00…00 and 00…01 become 01 00…00 and 01 00…01, which sort after
		// both: a page of one row reads each row twice, rewrites it once,
		// and the loop still ends.
		tr := mkTenant(t, s)
		lo0, lo1 := make([]byte, 32), make([]byte, 32)
		lo1[31] = 1
		mkContact(t, s, tr.ID, string(lo0))
		mkContact(t, s, tr.ID, string(lo1))
		write(t, s, func(tx store.Tx) error {
			for _, bi := range [][]byte{lo0, lo1} {
				if err := tx.AddSuppression(ctx, &store.Suppression{TenantID: tr.ID, Kind: consent.KindPhone, BlindIndex: bi,
					Scope: "all", Reason: "r", CreatedAt: t0}); err != nil {
					return err
				}
			}
			return nil
		})
		for _, table := range []store.BlindTable{store.BlindIdentifiers, store.BlindSuppressions} {
			calls, fwd := 0, tagFwd(t)
			n := forwardAll(t, s, tr.ID, table, 1, func(v []byte) ([]byte, bool, error) { calls++; return fwd(v) })
			if n != 2 || calls != 4 {
				t.Errorf("%s: rewrote %d rows in %d calls of fwd, want 2 in 4", table, n, calls)
			}
		}
		read(t, s, func(tx store.Tx) error {
			for _, bi := range [][]byte{lo0, lo1} {
				if _, err := tx.FindContactID(ctx, tr.ID, consent.KindPhone, tagged(bi)); err != nil {
					t.Errorf("FindContactID(%x) after revisits: %v", tagged(bi), err)
				}
				if _, err := tx.FindSuppressionReason(ctx, tr.ID, string(consent.KindPhone), tagged(bi)); err != nil {
					t.Errorf("FindSuppressionReason(%x) after revisits: %v", tagged(bi), err)
				}
			}
			return nil
		})
	})

	t.Run("duplicate new form", func(t *testing.T) {
		// Two stored values with one new form are two rows the unique
		// index would take for one: the rewrite fails, and says where.
		td := mkTenant(t, s)
		v := blindOf("twice")
		mkContact(t, s, td.ID, string(v))
		mkContact(t, s, td.ID, string(tagged(v)))
		write(t, s, func(tx store.Tx) error {
			for _, bi := range [][]byte{v, tagged(v)} {
				if err := tx.CreateUser(ctx, &store.User{ID: id("u"), TenantID: td.ID, Role: "support", EmailSealed: []byte("s"),
					EmailIndex: bi, PasswordHash: "x", CreatedAt: t0}); err != nil {
					return err
				}
			}
			return nil
		})
		for _, table := range []store.BlindTable{store.BlindIdentifiers, store.BlindUsers} {
			err := s.Write(ctx, func(tx store.Tx) error {
				_, _, err := tx.ForwardBlindForms(ctx, td.ID, table, "", 10, tagFwd(t))
				return err
			})
			if !errors.Is(err, store.ErrConflict) || !strings.Contains(fmt.Sprint(err), string(table)) {
				t.Errorf("%s: err = %v, want a conflict naming the table", table, err)
			}
		}
	})

	t.Run("erase by further forms", func(t *testing.T) {
		te := mkTenant(t, s)
		bi := blindOf("erase-me")
		form, unrelated := tagged(bi), tagged(blindOf("someone-else"))
		c := mkContact(t, s, te.ID, string(bi))
		msg := func(contact string, to []byte, age time.Duration) *store.Message {
			at := t0.Add(-age)
			m := mkMessage(te.ID, contact)
			m.ID, m.CreatedAt, m.UpdatedAt, m.DueAt, m.RecipientIndex = ulidAt(at), at, at, at, to
			return m
		}
		byContact, byIndex := msg(c.ID, bi, 0), msg("", bi, 0)
		byForm, byFormOld := msg("", form, 0), msg("", form, 20*24*time.Hour) // SQLite: another partition
		kept := msg("", unrelated, 0)
		inbound := func(from []byte, i int) *store.InboundMessage {
			return &store.InboundMessage{ID: ulidAt(t0), TenantID: te.ID, Channel: consent.SMS, ProviderID: fmt.Sprint("SM-erase-", i),
				SenderID: "s1", FromIndex: from, TextHash: blindOf("t"), TextLen: 1, Outcome: "ignored", ReceivedAt: t0, RecordedAt: t0}
		}
		inForm, inKept := inbound(form, 0), inbound(unrelated, 1)
		write(t, s, func(tx store.Tx) error {
			for _, m := range []*store.Message{byContact, byIndex, byForm, byFormOld, kept} {
				if err := tx.CreateMessage(ctx, m); err != nil {
					return err
				}
			}
			for _, m := range []*store.Message{byForm, byFormOld, kept} {
				if err := tx.AppendMessageEvent(ctx, &store.MessageEvent{TenantID: te.ID, MessageID: m.ID, Status: store.MessageSent, At: t0}); err != nil {
					return err
				}
			}
			for _, in := range []*store.InboundMessage{inForm, inKept} {
				if err := tx.CreateInboundMessage(ctx, in); err != nil {
					return err
				}
				if err := tx.CreateForward(ctx, &store.Forward{ID: id("f"), TenantID: te.ID, InboundID: in.ID, BodySealed: []byte("b"),
					NextAttempt: t0, CreatedAt: t0}); err != nil {
					return err
				}
			}
			return nil
		})
		var counts map[string]int
		write(t, s, func(tx store.Tx) (err error) {
			counts, err = tx.EraseContact(ctx, te.ID, c.ID, [][]byte{form, {}, tagged(blindOf("nobody"))})
			return err
		})
		if counts["messages"] != 4 || counts["message_events"] != 2 || counts["inbound_messages"] != 1 || counts["inbound_forwards"] != 1 {
			t.Errorf("erasure counts = %v, want 4 messages, 2 events, 1 inbound record, 1 forward", counts)
		}
		read(t, s, func(tx store.Tx) error {
			for _, m := range []*store.Message{byContact, byIndex, byForm, byFormOld} {
				_, err := tx.GetMessage(ctx, te.ID, m.ID)
				wantErr(t, err, store.ErrNotFound)
			}
			if _, err := tx.GetMessage(ctx, te.ID, kept.ID); err != nil {
				t.Errorf("a message to another form went: %v", err)
			}
			if evs, err := tx.ListMessageEvents(ctx, te.ID, kept.ID); err != nil || len(evs) != 1 {
				t.Errorf("the kept message's events = %d, %v", len(evs), err)
			}
			if _, err := tx.GetInboundMessage(ctx, te.ID, consent.SMS, inKept.ProviderID); err != nil {
				t.Errorf("an inbound record from another form went: %v", err)
			}
			_, err := tx.GetInboundMessage(ctx, te.ID, consent.SMS, inForm.ProviderID)
			wantErr(t, err, store.ErrNotFound)
			return nil
		})
	})

	t.Run("lock", func(t *testing.T) {
		// Inside a write transaction, again for a key it holds (the locks
		// of one transaction do not wait for each other), and for others.
		write(t, s, func(tx store.Tx) error {
			for _, k := range [][]byte{tagged(blindOf("a")), tagged(blindOf("a")), blindOf("b"), {}} {
				if err := tx.LockBlindIndex(ctx, tn.ID, k); err != nil {
					return err
				}
			}
			return tx.Unit(ctx, func(tx store.Tx) error { return tx.LockBlindIndex(ctx, other.ID, blindOf("a")) })
		})
	})
}
