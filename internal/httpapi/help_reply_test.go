package httpapi

import (
	"context"
	"strings"
	"testing"

	"github.com/consentgate/consentgate/internal/store"
)

// TestHelpFromStrangerIsAnswered: a HELP from a number that is not a contact
// gets its reply, addressed to that number, and no contact is created for it.
func TestHelpFromStrangerIsAnswered(t *testing.T) {
	e := newInboundEnv(t)
	const stranger = "+4531415926"
	if st := e.twilio(stranger, "1234", "HELP", "SMH1", twilioToken); st != 200 {
		t.Fatalf("HELP: %d", st)
	}
	rep := e.replies.Last()
	if rep.Kind != "help" || rep.ContactID != "" || rep.To != stranger || rep.ToKind != "phone" || len(rep.ToBlindIndex) != 32 ||
		!strings.Contains(rep.Body, "Acme A/S") {
		t.Fatalf("reply = %+v", rep)
	}
	n := 0
	e.store.Read(context.Background(), func(tx store.Tx) error {
		return tx.ScanContacts(context.Background(), func(*store.Contact) error { n++; return nil })
	})
	if n != 0 {
		t.Fatalf("%d contacts created for a HELP", n)
	}
}
