package consent

import (
	"testing"
	"time"
)

func TestDecide(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	news := &Purpose{Key: "newsletter", Category: Marketing, Basis: BasisConsent, Channels: []Channel{SMS, Email}, DoubleOptIn: true}
	offers := &Purpose{Key: "offers", Category: Marketing, Basis: BasisConsent, Channels: []Channel{SMS, WhatsApp}}
	li := &Purpose{Key: "tips", Category: Marketing, Basis: BasisLegitimateInterest, Channels: []Channel{Email}}
	orders := &Purpose{Key: "order-updates", Category: Service, Basis: BasisContract, Channels: []Channel{SMS, Email}}
	legal := &Purpose{Key: "recall", Category: Service, Basis: BasisLegalObligation, Channels: []Channel{SMS}}
	granted := State{Status: StatusGranted, EventID: "e1"}
	confirmed := State{Status: StatusGranted, Confirmed: true, EventID: "e2"}
	known := func(s State) Subject { return Subject{Known: true, State: s} }

	tests := []struct {
		name    string
		p       *Purpose
		ch      Channel
		s       Subject
		allowed bool
		reason  Reason
		eventID string
	}{
		{"unknown purpose", nil, SMS, known(granted), false, ReasonPurposeChannelNotAllowed, ""},
		{"channel not allowed", offers, Email, known(granted), false, ReasonPurposeChannelNotAllowed, ""},
		{"suppressed beats consent", offers, SMS, Subject{Known: true, Suppressed: true, State: granted}, false, ReasonSuppressed, ""},
		{"suppressed beats contract", orders, SMS, Subject{Known: true, Suppressed: true}, false, ReasonSuppressed, ""},
		{"restricted blocks consent", offers, SMS, Subject{Known: true, Restricted: true, State: granted}, false, ReasonRestricted, ""},
		{"restricted blocks contract", orders, SMS, Subject{Known: true, Restricted: true}, false, ReasonRestricted, ""},
		{"restricted passes legal obligation", legal, SMS, Subject{Known: true, Restricted: true}, true, ReasonLegalObligation, ""},
		{"consent granted", offers, SMS, known(granted), true, ReasonConsentGranted, "e1"},
		{"no consent", offers, SMS, known(State{}), false, ReasonNoConsent, ""},
		{"unknown contact no consent", offers, SMS, Subject{}, false, ReasonNoConsent, ""},
		{"double opt-in unconfirmed", news, SMS, known(granted), false, ReasonConsentPending, "e1"},
		{"double opt-in confirmed", news, SMS, known(confirmed), true, ReasonConsentGranted, "e2"},
		{"pending", news, SMS, known(State{Status: StatusPending, EventID: "e3"}), false, ReasonConsentPending, "e3"},
		{"withdrawn", offers, SMS, known(State{Status: StatusWithdrawn, EventID: "e4"}), false, ReasonConsentWithdrawn, "e4"},
		{"objected under consent", offers, SMS, known(State{Status: StatusObjected}), false, ReasonObjected, ""},
		{"expired", offers, SMS, known(State{Status: StatusGranted, ExpiresAt: now}), false, ReasonConsentExpired, ""},
		{"not yet expired", offers, SMS, known(State{Status: StatusGranted, ExpiresAt: now.Add(time.Second)}), true, ReasonConsentGranted, ""},
		{"legitimate interest", li, Email, known(State{}), true, ReasonLegitimateInterest, ""},
		{"legitimate interest unknown contact", li, Email, Subject{}, false, ReasonUnknownContact, ""},
		{"legitimate interest objected", li, Email, known(State{Status: StatusObjected}), false, ReasonObjected, ""},
		{"legitimate interest withdrawn", li, Email, known(State{Status: StatusWithdrawn}), false, ReasonObjected, ""},
		{"contract", orders, SMS, known(State{}), true, ReasonContract, ""},
		{"contract unknown contact", orders, SMS, Subject{}, true, ReasonContract, ""},
		{"contract channel stopped", orders, SMS, known(State{Status: StatusWithdrawn}), false, ReasonChannelStopped, ""},
		{"legal obligation stopped", legal, SMS, known(State{Status: StatusObjected}), false, ReasonChannelStopped, ""},
		{"unknown basis fails closed", &Purpose{Key: "x", Basis: "vital", Channels: []Channel{SMS}}, SMS, known(granted), false, ReasonUnavailable, ""},
		{"unknown status fails closed", offers, SMS, known(State{Status: "weird"}), false, ReasonNoConsent, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Decide(tt.p, tt.ch, tt.s, now)
			if d.Allowed != tt.allowed || d.Reason != tt.reason {
				t.Fatalf("Decide = %+v, want allowed=%v reason=%s", d, tt.allowed, tt.reason)
			}
			if tt.eventID != "" && d.EventID != tt.eventID {
				t.Fatalf("event id = %q, want %q", d.EventID, tt.eventID)
			}
		})
	}
}

func TestPurposeValidate(t *testing.T) {
	ok := Purpose{Key: "newsletter", Name: "News", Category: Marketing, Basis: BasisConsent, Channels: []Channel{SMS}}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid purpose refused: %v", err)
	}
	bad := map[string]func(p *Purpose){
		"key upper":           func(p *Purpose) { p.Key = "News" },
		"key empty":           func(p *Purpose) { p.Key = "" },
		"no name":             func(p *Purpose) { p.Name = "" },
		"category":            func(p *Purpose) { p.Category = "spam" },
		"basis":               func(p *Purpose) { p.Basis = "whim" },
		"no channels":         func(p *Purpose) { p.Channels = nil },
		"bad channel":         func(p *Purpose) { p.Channels = []Channel{"pigeon"} },
		"doi without consent": func(p *Purpose) { p.Basis = BasisLegitimateInterest; p.DoubleOptIn = true },
		"marketing contract":  func(p *Purpose) { p.Basis = BasisContract },
		"negative lifetime":   func(p *Purpose) { p.Lifetime = -time.Hour },
	}
	for name, mutate := range bad {
		p := ok
		p.Channels = append([]Channel(nil), ok.Channels...)
		mutate(&p)
		if err := p.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// BenchmarkDecide measures the rule itself, without the index lookup.
func BenchmarkDecide(b *testing.B) {
	now := time.Now()
	p := &Purpose{Key: "offers", Category: Marketing, Basis: BasisConsent, Channels: []Channel{SMS, WhatsApp}}
	s := Subject{Known: true, State: State{Status: StatusGranted, EventID: "01J"}}
	for b.Loop() {
		if !Decide(p, SMS, s, now).Allowed {
			b.Fatal("denied")
		}
	}
}
