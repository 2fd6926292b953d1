package index

import (
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/vault"
	"github.com/oklog/ulid/v2"
)

var now = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

func offers() *consent.Purpose {
	return &consent.Purpose{Key: "offers", Name: "Offers", Category: consent.Marketing, Basis: consent.BasisConsent,
		Channels: []consent.Channel{consent.SMS, consent.WhatsApp}}
}

func newULID() ulid.ULID { return ulid.MustNew(ulid.Now(), rand.Reader) }

// testChain is a tenant's index key chain with no rotation: version 0.
var testChain = vault.NewIndexChain(vault.TenantKeys{Index: vault.Key{7}})

// bi is the stored form of an identifier's blind index.
func bi(s string) []byte { return testChain.Forms("phone", s).Stored() }

// fs is an identifier's blind index as a decision computes it.
func fs(s string) vault.Forms { return testChain.Forms("phone", s) }

func TestDecisions(t *testing.T) {
	ix := New()
	ix.PutPurpose("t1", offers())
	c := newULID()
	ix.PutContact("t1", c, false, []Identifier{{Kind: consent.KindPhone, BlindIndex: bi("phone-1")}})

	if d := ix.DecideContact("t1", c, "offers", consent.SMS, now); d.Reason != consent.ReasonUnavailable {
		t.Fatalf("not-ready index answered: %+v", d)
	}
	ix.MarkReady()
	ev := newULID()
	check := func(name string, got consent.Decision, allowed bool, r consent.Reason) {
		t.Helper()
		if got.Allowed != allowed || got.Reason != r {
			t.Errorf("%s: %+v, want allowed=%v %s", name, got, allowed, r)
		}
	}
	check("no consent", ix.DecideContact("t1", c, "offers", consent.SMS, now), false, consent.ReasonNoConsent)
	ix.ApplyConsent("t1", c, "offers", consent.SMS, consent.State{Status: consent.StatusGranted, EventID: ev.String(), EventSeq: 5})
	d := ix.DecideContact("t1", c, "offers", consent.SMS, now)
	check("granted", d, true, consent.ReasonConsentGranted)
	if d.EventID != ev.String() {
		t.Errorf("event id = %q", d.EventID)
	}
	// Per channel: SMS consent is not WhatsApp consent.
	check("other channel", ix.DecideContact("t1", c, "offers", consent.WhatsApp, now), false, consent.ReasonNoConsent)
	check("channel not in purpose", ix.DecideContact("t1", c, "offers", consent.Email, now), false, consent.ReasonPurposeChannelNotAllowed)
	check("unknown purpose", ix.DecideContact("t1", c, "nope", consent.SMS, now), false, consent.ReasonPurposeChannelNotAllowed)
	check("unknown contact", ix.DecideContact("t1", newULID(), "offers", consent.SMS, now), false, consent.ReasonUnknownContact)
	check("other tenant", ix.DecideContact("t2", c, "offers", consent.SMS, now), false, consent.ReasonPurposeChannelNotAllowed)

	d, who := ix.DecideIdentifier("t1", consent.KindPhone, fs("phone-1"), "offers", consent.SMS, now)
	check("by identifier", d, true, consent.ReasonConsentGranted)
	if who != c {
		t.Errorf("identifier resolved to %v", who)
	}
	d, _ = ix.DecideIdentifier("t1", consent.KindPhone, fs("phone-2"), "offers", consent.SMS, now)
	check("unknown identifier", d, false, consent.ReasonNoConsent)

	// An older event arriving late does not undo the newer one.
	ix.ApplyConsent("t1", c, "offers", consent.SMS, consent.State{Status: consent.StatusWithdrawn, EventSeq: 4})
	check("stale event ignored", ix.DecideContact("t1", c, "offers", consent.SMS, now), true, consent.ReasonConsentGranted)

	ix.Suppress("t1", consent.KindPhone, bi("phone-1"), "sms")
	check("suppressed on sms", ix.DecideContact("t1", c, "offers", consent.SMS, now), false, consent.ReasonSuppressed)
	ix.Suppress("t1", consent.KindPhone, bi("phone-9"), "all")
	d, _ = ix.DecideIdentifier("t1", consent.KindPhone, fs("phone-9"), "offers", consent.SMS, now)
	check("unknown identifier suppressed", d, false, consent.ReasonSuppressed)

	c2 := newULID()
	ix.PutContact("t1", c2, false, nil)
	ix.ApplyConsent("t1", c2, "offers", consent.SMS, consent.State{Status: consent.StatusGranted, EventSeq: 9, ExpiresAt: now})
	check("expired", ix.DecideContact("t1", c2, "offers", consent.SMS, now), false, consent.ReasonConsentExpired)
	ix.SetRestricted("t1", c2, true)
	check("restricted", ix.DecideContact("t1", c2, "offers", consent.SMS, now), false, consent.ReasonRestricted)

	ix.MarkNotReady()
	check("fails closed when not ready", ix.DecideContact("t1", c, "offers", consent.SMS, now), false, consent.ReasonUnavailable)
}

// TestConcurrentUpdatesConverge is a property test: however concurrent
// writers interleave their updates, each state ends at the event with the
// highest sequence, and readers never see a state that was never written.
func TestConcurrentUpdatesConverge(t *testing.T) {
	for round := 0; round < 20; round++ {
		ix := New()
		ix.PutPurpose("t", offers())
		ix.MarkReady()
		contacts := make([]ulid.ULID, 8)
		for i := range contacts {
			contacts[i] = newULID()
			ix.PutContact("t", contacts[i], false, nil)
		}
		type ev struct {
			c   int
			seq int64
			st  consent.Status
		}
		var events []ev
		for seq := int64(1); seq <= 400; seq++ {
			st := consent.StatusGranted
			if mrand.IntN(2) == 0 {
				st = consent.StatusWithdrawn
			}
			events = append(events, ev{mrand.IntN(len(contacts)), seq, st})
		}
		want := map[int]consent.Status{}
		for _, e := range events {
			want[e.c] = e.st // seqs are increasing: the last one wins
		}
		mrand.Shuffle(len(events), func(i, j int) { events[i], events[j] = events[j], events[i] })
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := w; i < len(events); i += 4 {
					e := events[i]
					ix.ApplyConsent("t", contacts[e.c], "offers", consent.SMS, consent.State{Status: e.st, EventSeq: e.seq})
					d := ix.DecideContact("t", contacts[mrand.IntN(len(contacts))], "offers", consent.SMS, now)
					switch d.Reason {
					case consent.ReasonConsentGranted, consent.ReasonConsentWithdrawn, consent.ReasonNoConsent:
					default:
						t.Errorf("impossible decision %+v", d)
					}
				}
			}(w)
		}
		wg.Wait()
		for c, st := range want {
			d := ix.DecideContact("t", contacts[c], "offers", consent.SMS, now)
			if (st == consent.StatusGranted) != d.Allowed {
				t.Fatalf("round %d contact %d: decision %+v, want status %s", round, c, d, st)
			}
		}
	}
}

func benchIndex(b *testing.B, n int) (*Index, []ulid.ULID) {
	ix := New()
	ix.PutPurpose("t", offers())
	news := offers()
	news.Key = "newsletter"
	ix.PutPurpose("t", news)
	ids := make([]ulid.ULID, n)
	for i := range ids {
		ids[i] = newULID()
		ix.PutContact("t", ids[i], false, []Identifier{{Kind: consent.KindPhone, BlindIndex: bi(fmt.Sprint(i))}})
		ix.ApplyConsent("t", ids[i], "offers", consent.SMS, consent.State{Status: consent.StatusGranted, EventID: ids[i].String(), EventSeq: int64(2 * i)})
		ix.ApplyConsent("t", ids[i], "newsletter", consent.SMS, consent.State{Status: consent.StatusWithdrawn, EventID: ids[i].String(), EventSeq: int64(2*i + 1)})
	}
	ix.MarkReady()
	return ix, ids
}

// BenchmarkDecideContact is the decision from the in-memory index on one
// core (run with -cpu 1), over 100,000 contacts × 2 states.
func BenchmarkDecideContact(b *testing.B) {
	ix, ids := benchIndex(b, 100_000)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		d := ix.DecideContact("t", ids[i%len(ids)], "offers", consent.SMS, now)
		if !d.Allowed {
			b.Fatal(d)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
}

// BenchmarkDecideParallel runs decisions on every core at once.
func BenchmarkDecideParallel(b *testing.B) {
	ix, ids := benchIndex(b, 100_000)
	b.RunParallel(func(pb *testing.PB) {
		i := mrand.IntN(len(ids))
		for pb.Next() {
			ix.DecideContact("t", ids[i%len(ids)], "offers", consent.SMS, now)
			i++
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
}

// BenchmarkMemoryPerState reports the heap used per (contact, purpose,
// channel) state, for a contact with one identifier and two states.
func BenchmarkMemoryPerState(b *testing.B) {
	const n = 200_000
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		ix, _ := benchIndex(b, n)
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "bytes/contact")
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(2*n), "bytes/state")
		runtime.KeepAlive(ix)
	}
}
