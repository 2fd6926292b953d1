package outbox_test

import (
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/channel"
	"github.com/consentgate/consentgate/internal/service"
	"github.com/consentgate/consentgate/internal/store"
)

// TestKeepBodies: a purpose that keeps its texts keeps a sent message's
// sealed text (for the retention purge to delete later); without the flag
// it is deleted once the message is sent.
func TestKeepBodies(t *testing.T) {
	f := newFixture(t)
	keep := true
	if _, err := f.svc.UpdatePurpose(bg, f.pr, "offers", service.PurposeInput{KeepMessageBodies: &keep}); err != nil {
		t.Fatal(err)
	}
	d := f.dispatcher(channel.NewSink(nil), nil)
	d.Start()
	defer d.Stop(bg)
	kept := f.queue(1)[0]
	if c := f.waitIdle(5 * time.Second); c[store.MessageSent] != 1 {
		t.Fatalf("counts = %v", c)
	}
	if m := f.message(kept); m.Sealed == nil || m.WrappedKey != nil && len(m.WrappedKey) == 0 {
		t.Fatalf("text not kept: %+v", m)
	}
	keep = false
	if _, err := f.svc.UpdatePurpose(bg, f.pr, "offers", service.PurposeInput{KeepMessageBodies: &keep}); err != nil {
		t.Fatal(err)
	}
	dropped := f.queue(1)[0]
	if c := f.waitIdle(5 * time.Second); c[store.MessageSent] != 2 {
		t.Fatalf("counts = %v", c)
	}
	if m := f.message(dropped); m.Sealed != nil {
		t.Fatal("text kept without the purpose's flag")
	}
	if m := f.message(kept); m.Sealed == nil {
		t.Fatal("the first text was dropped later")
	}
}
