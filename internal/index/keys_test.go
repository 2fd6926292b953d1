package index

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/vault"
	"github.com/oklog/ulid/v2"
)

// rotated returns the keyring after each phase of an index key rotation.
func rotated(t testing.TB, tk vault.TenantKeys) (announced, switched, settled vault.TenantKeys) {
	t.Helper()
	a, err := tk.AnnounceIndex()
	if err != nil {
		t.Fatal(err)
	}
	return a, a.SwitchIndex(), a.SwitchIndex().SettleIndex()
}

// TestRekey moves an index through a rotation of the index key: every
// contact and suppression stays found, by forms of either version, and an
// erasure after the move suppresses the right hash.
func TestRekey(t *testing.T) {
	tk := vault.TenantKeys{Index: vault.Key{9}}
	c0 := vault.NewIndexChain(tk)
	a, _, done := rotated(t, tk)
	c1 := vault.NewIndexChain(a)
	c2 := vault.NewIndexChain(done)

	ix := New()
	ix.SetChain("t1", c0)
	ix.PutPurpose("t1", offers())
	ix.MarkReady()
	alice, bob := newULID(), newULID()
	ix.PutContact("t1", alice, false, []Identifier{{Kind: consent.KindPhone, BlindIndex: c0.Forms("phone", "alice").Stored()}})
	ix.ApplyConsent("t1", alice, "offers", consent.SMS, consent.State{Status: consent.StatusGranted, EventID: alice.String(), EventSeq: 1})
	ix.PutContact("t1", bob, false, []Identifier{{Kind: consent.KindPhone, BlindIndex: c0.Forms("phone", "bob").Stored()}})
	ix.Suppress("t1", consent.KindPhone, c0.Forms("phone", "stopped").Stored(), "all")

	check := func(step string, c *vault.IndexChain) {
		t.Helper()
		if d, who := ix.DecideIdentifier("t1", consent.KindPhone, c.Forms("phone", "alice"), "offers", consent.SMS, now); !d.Allowed || who != alice {
			t.Fatalf("%s: alice: %+v %v", step, d, who)
		}
		if d, _ := ix.DecideIdentifier("t1", consent.KindPhone, c.Forms("phone", "stopped"), "offers", consent.SMS, now); d.Allowed || d.Reason != consent.ReasonSuppressed {
			t.Fatalf("%s: suppressed identifier: %+v", step, d)
		}
		if d := ix.DecideStored("t1", consent.KindPhone, c0.Forms("phone", "stopped").Stored(), "offers", consent.SMS, now); d.Reason != consent.ReasonSuppressed {
			t.Fatalf("%s: a version-0 stored form: %+v", step, d)
		}
	}
	check("version 0", c0)
	ix.SetChain("t1", c1) // announced: the index moves to version 1 at once
	check("announced, keys of the new chain", c1)
	check("announced, keys of the old chain", c0) // a decision begun before
	// A form written in version 1 by another process goes in.
	carol := newULID()
	ix.PutContact("t1", carol, false, []Identifier{{Kind: consent.KindPhone, BlindIndex: vault.NewIndexChain(done).Forms("phone", "carol").Stored()}})
	if _, who := ix.DecideIdentifier("t1", consent.KindPhone, c1.Forms("phone", "carol"), "offers", consent.SMS, now); who != carol {
		t.Fatal("a version-1 form put in is not found")
	}
	ix.SetChain("t1", c2)
	check("settled", c2)
	ix.SetChain("t1", c0) // an older keyring read late changes nothing
	check("older chain offered", c2)
	// A second rotation: version-0 forms are no longer among a decision's
	// two, so the maps must have moved.
	a2, err := done.AnnounceIndex()
	if err != nil {
		t.Fatal(err)
	}
	c3 := vault.NewIndexChain(a2)
	ix.SetChain("t1", c3)
	check("second rotation", c3)
	if _, who := ix.DecideIdentifier("t1", consent.KindPhone, c3.Forms("phone", "carol"), "offers", consent.SMS, now); who != carol {
		t.Fatal("carol lost in the second rotation")
	}

	ix.EraseContact("t1", bob)
	if d, who := ix.DecideIdentifier("t1", consent.KindPhone, c3.Forms("phone", "bob"), "offers", consent.SMS, now); d.Reason != consent.ReasonSuppressed || who != (ulid.ULID{}) {
		t.Fatalf("erased after the move: %+v", d)
	}
}

// TestNewerFormWaits: a form of a version the index has no key for waits
// for it, and the tenant's decisions fail closed meanwhile, because the
// form may be a suppression.
func TestNewerFormWaits(t *testing.T) {
	tk := vault.TenantKeys{Index: vault.Key{3}}
	c0 := vault.NewIndexChain(tk)
	_, _, done := rotated(t, tk)
	c1 := vault.NewIndexChain(done)

	ix := New()
	ix.SetChain("t1", c0)
	ix.PutPurpose("t1", offers())
	ix.MarkReady()
	ix.Suppress("t1", consent.KindPhone, c1.Forms("phone", "stopped").Stored(), "all")
	if !ix.Waiting("t1") {
		t.Fatal("a form of an unknown version went in")
	}
	if d, _ := ix.DecideIdentifier("t1", consent.KindPhone, c0.Forms("phone", "stopped"), "offers", consent.SMS, now); d.Reason != consent.ReasonUnavailable {
		t.Fatalf("decided while a suppression waits: %+v", d)
	}
	ix.SetChain("t1", c1)
	if ix.Waiting("t1") {
		t.Fatal("still waiting after the chain came")
	}
	if d, _ := ix.DecideIdentifier("t1", consent.KindPhone, c1.Forms("phone", "stopped"), "offers", consent.SMS, now); d.Reason != consent.ReasonSuppressed {
		t.Fatalf("after the chain: %+v", d)
	}

	// With a key source, the index fetches the chain itself.
	ix2 := New()
	ix2.SetChain("t1", c0)
	ix2.PutPurpose("t1", offers())
	ix2.MarkReady()
	var asked atomic.Int32
	ix2.SetKeySource(func(context.Context, string) (*vault.IndexChain, error) { asked.Add(1); return c1, nil })
	ix2.Suppress("t1", consent.KindPhone, c1.Forms("phone", "stopped").Stored(), "all")
	if ix2.Waiting("t1") || asked.Load() != 1 {
		t.Fatalf("the key source was asked %d times", asked.Load())
	}
	if d, _ := ix2.DecideIdentifier("t1", consent.KindPhone, c1.Forms("phone", "stopped"), "offers", consent.SMS, now); d.Reason != consent.ReasonSuppressed {
		t.Fatalf("with a key source: %+v", d)
	}
}

// TestRekeyUnderLoad is a property test: while the index moves to a new
// version and updates keep coming, no decision ever lets a suppressed
// identifier through or fails to find a known contact.
func TestRekeyUnderLoad(t *testing.T) {
	tk := vault.TenantKeys{Index: vault.Key{5}}
	c0 := vault.NewIndexChain(tk)
	a, _, _ := rotated(t, tk)
	c1 := vault.NewIndexChain(a)

	ix := New()
	ix.SetChain("t1", c0)
	ix.PutPurpose("t1", offers())
	const n = 2000
	names := make([]string, n)
	for i := range n {
		names[i] = "p" + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676))
		ix.Suppress("t1", consent.KindPhone, c0.Forms("phone", names[i]).Stored(), "all")
	}
	ix.MarkReady()
	var wg sync.WaitGroup
	var wrong atomic.Int32
	stop := make(chan struct{})
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				c := c0
				if (i+w)%2 == 0 {
					c = c1
				}
				d, _ := ix.DecideIdentifier("t1", consent.KindPhone, c.Forms("phone", names[i%n]), "offers", consent.SMS, now)
				if d.Allowed {
					wrong.Add(1)
				}
			}
		}()
	}
	wg.Add(1)
	go func() { // updates in the old version meanwhile
		defer wg.Done()
		for i := range 500 {
			ix.AddIdentifier("t1", newULID(), Identifier{Kind: consent.KindPhone, BlindIndex: c0.Forms("phone", names[i]).Stored()})
		}
	}()
	ix.SetChain("t1", c1)
	close(stop)
	wg.Wait()
	if wrong.Load() > 0 {
		t.Fatalf("%d decisions let a suppressed identifier through", wrong.Load())
	}
	for _, nm := range names {
		if d, _ := ix.DecideIdentifier("t1", consent.KindPhone, c1.Forms("phone", nm), "offers", consent.SMS, now); d.Allowed {
			t.Fatalf("%s is no longer suppressed after the move", nm)
		}
	}
}

// BenchmarkRekey moves a tenant of 1,000,000 identifiers and 100,000
// suppressions to a new index version while decisions run, and reports the
// longest decision during the move (and over a second before it, idle) and
// the move's own time, which is how long the tenant's identifier updates
// wait.
func BenchmarkRekey(b *testing.B) {
	tk := vault.TenantKeys{Index: vault.Key{5}}
	c0 := vault.NewIndexChain(tk)
	a, _, _ := rotated(b, tk)
	c1 := vault.NewIndexChain(a)
	const contacts, sups = 1_000_000, 100_000
	for range b.N {
		b.StopTimer()
		ix := New()
		ix.SetChain("t1", c0)
		ix.PutPurpose("t1", offers())
		var probe vault.Forms
		for i := range contacts {
			f := c0.Forms("phone", strconv.Itoa(i))
			if i == 0 {
				probe = c1.Forms("phone", "0")
			}
			ix.AddIdentifier("t1", newULID(), Identifier{Kind: consent.KindPhone, BlindIndex: f.Stored()})
		}
		for i := range sups {
			ix.Suppress("t1", consent.KindPhone, c0.Forms("phone", "s"+strconv.Itoa(i)).Stored(), "all")
		}
		ix.MarkReady()
		// The longest decision over a second with nothing else running,
		// to compare with.
		var idle time.Duration
		for t0 := time.Now(); time.Since(t0) < time.Second; {
			t1 := time.Now()
			ix.DecideIdentifier("t1", consent.KindPhone, probe, "offers", consent.SMS, now)
			idle = max(idle, time.Since(t1))
		}
		b.ReportMetric(float64(idle.Microseconds())/1000, "idle-longest-decision-ms")
		stop := make(chan struct{})
		longest := make(chan time.Duration)
		go func() {
			var worst time.Duration
			for {
				select {
				case <-stop:
					longest <- worst
					return
				default:
				}
				t0 := time.Now()
				ix.DecideIdentifier("t1", consent.KindPhone, probe, "offers", consent.SMS, now)
				worst = max(worst, time.Since(t0))
			}
		}()
		b.StartTimer()
		t0 := time.Now()
		ix.SetChain("t1", c1)
		move := time.Since(t0)
		b.StopTimer()
		close(stop)
		b.ReportMetric(float64((<-longest).Microseconds())/1000, "longest-decision-ms")
		b.ReportMetric(float64(move.Milliseconds()), "move-ms")
	}
}
