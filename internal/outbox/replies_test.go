package outbox_test

import (
	"sync"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/channel"
	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/service"
	"github.com/consentgate/consentgate/internal/store"
)

// TestRepliesToContactAndStranger: a reply to a contact goes to the
// contact's number; a reply to someone who is not a contact goes to the
// number it carries, sealed under its own key; a second reply of the same
// kind to the same inbound message is dropped; neither keeps its text after
// it was sent.
func TestRepliesToContactAndStranger(t *testing.T) {
	f := newFixture(t)
	var mu sync.Mutex
	got := map[string]*channel.Message{}
	d := f.dispatcher(channel.NewSink(func(m *channel.Message) {
		mu.Lock()
		got[m.To] = m
		mu.Unlock()
	}), nil)
	replies := []service.Reply{
		{TenantID: f.pr.TenantID, ContactID: f.contact, Channel: consent.SMS, Sender: "ACME", Kind: "opt_out_confirmation",
			Body: "Du er afmeldt.", Language: "da", InboundID: "SM1"},
		{TenantID: f.pr.TenantID, Channel: consent.SMS, Sender: "ACME", Kind: "help", Body: "Acme: reply STOP to stop.",
			Language: "en", InboundID: "SM2", To: "+4531415926", ToKind: consent.KindPhone, ToBlindIndex: make([]byte, 32)},
		{TenantID: f.pr.TenantID, ContactID: f.contact, Channel: consent.SMS, Sender: "ACME", Kind: "opt_out_confirmation",
			Body: "Du er afmeldt.", Language: "da", InboundID: "SM1"}, // a webhook retry
	}
	for _, r := range replies {
		if err := f.st.Write(bg, func(tx store.Tx) error { return d.QueueReply(bg, tx, r) }); err != nil {
			t.Fatal(err)
		}
	}
	d.Start()
	defer d.Stop(bg)
	c := f.waitIdle(5 * time.Second)
	if c[store.MessageSent] != 2 {
		t.Fatalf("counts = %v, want 2 sent", c)
	}
	mu.Lock()
	defer mu.Unlock()
	if m := got["+4520123456"]; m == nil || m.Body != "Du er afmeldt." {
		t.Errorf("reply to the contact: %+v", m)
	}
	if m := got["+4531415926"]; m == nil || m.Body != "Acme: reply STOP to stop." || m.From != "ACME" {
		t.Errorf("reply to the stranger: %+v", m)
	}
}
