// Package keywordflow is the consent state machine of keyword replies
// (DESIGN §6): given what a message asked for (a keyword.Result), the
// purposes in play and the contact's current states on the channel, it says
// which consent changes to record and which reply to send. It is a pure
// function — no store, no clock, no I/O — so that every transition is a row
// of a table test, and the service only carries the plan out.
package keywordflow

import (
	"slices"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/keyword"
)

// DefaultConfirmWindow is how long a pending double opt-in waits for YES.
const DefaultConfirmWindow = 24 * time.Hour

// Reply kinds, as service.Reply.Kind carries them.
const (
	ReplyOptOut      = "opt_out_confirmation"
	ReplyOptIn       = "opt_in_confirmation"
	ReplyDoubleOptIn = "double_opt_in_request"
	ReplyHelp        = "help"
)

// Outcomes, as recorded on the inbound message.
const (
	OutcomeOptOut    = "opt_out"
	OutcomeOptIn     = "opt_in"
	OutcomePending   = "pending"
	OutcomeRestored  = "restored"
	OutcomeHelp      = "help"
	OutcomeForwarded = "forwarded"
)

// Purpose is what the flow needs to know about a purpose.
type Purpose struct {
	Key         string
	Basis       consent.Basis
	DoubleOptIn bool
	Lifetime    time.Duration // 0: consent does not expire
}

// State is a contact's current consent for one purpose on the channel.
type State struct {
	Status     consent.Status
	Confirmed  bool
	ExpiresAt  time.Time
	RecordedAt time.Time // when the state was entered (a pending one's start)
}

// StopItem is one consent a STOP withdrew, with the state it had.
type StopItem struct {
	Purpose   string
	Status    consent.Status
	Confirmed bool
	ExpiresAt time.Time
}

// Input is everything the decision depends on.
type Input struct {
	Result keyword.Result
	// SenderPurposes are the purposes the receiving sender carries that
	// use this channel; TenantPurposes are all the tenant's purposes that
	// use it (a superset). Both in a stable order.
	SenderPurposes []Purpose
	TenantPurposes []Purpose
	// Current holds the contact's states on the channel by purpose key;
	// nil or missing entries are "none". A contact that does not exist yet
	// has none.
	Current map[string]State
	// LastStop is what the contact's last STOP on this channel withdrew.
	LastStop      []StopItem
	Now           time.Time
	ConfirmWindow time.Duration // 0: DefaultConfirmWindow
}

// Change is one consent event to record.
type Change struct {
	Purpose   string
	Status    consent.Status
	Confirmed bool
	ExpiresAt time.Time
}

// Plan is what to do about one message.
type Plan struct {
	Outcome string // one of the Outcome constants
	Reply   string // one of the Reply constants; empty: no reply
	Changes []Change
	// Purposes the reply speaks about: what stopped, started, is pending.
	Affected []string
	// Continuing are the purposes still active on the channel after an
	// opt-out, for "what continues" in the reply.
	Continuing []string
	// SaveStop, when not nil, replaces the contact's last-STOP record;
	// ClearStop deletes it (it was used by START).
	SaveStop  []StopItem
	ClearStop bool
	// NeedsContact is set when the plan records consent and the sender of
	// the message is not a contact yet.
	NeedsContact bool
}

// Decide returns the plan for one classified message.
func Decide(in Input) Plan {
	if in.ConfirmWindow <= 0 {
		in.ConfirmWindow = DefaultConfirmWindow
	}
	switch in.Result.Action {
	case keyword.ActionStop, keyword.ActionStopAll:
		return stop(in)
	case keyword.ActionSubscribe:
		return subscribe(in, targets(in))
	case keyword.ActionConfirm:
		return confirm(in)
	case keyword.ActionRestart:
		return restart(in)
	case keyword.ActionHelp:
		return Plan{Outcome: OutcomeHelp, Reply: ReplyHelp}
	}
	return Plan{Outcome: OutcomeForwarded}
}

// targets are the purposes a keyword's scope names: all the tenant's on the
// channel, the sender's, or one purpose. A purpose keyword for a purpose the
// channel does not carry falls back to the sender's purposes: when in doubt
// about an opt-out's scope, the wider one is the lawful one.
func targets(in Input) []Purpose {
	switch in.Result.Scope {
	case keyword.ScopeAll:
		return in.TenantPurposes
	case keyword.ScopeSender, "":
		return in.SenderPurposes
	}
	for _, p := range in.TenantPurposes {
		if p.Key == in.Result.Scope {
			return []Purpose{p}
		}
	}
	return in.SenderPurposes
}

func (in Input) state(key string) State {
	if s, ok := in.Current[key]; ok {
		return s
	}
	return State{Status: consent.StatusNone}
}

// stop withdraws every targeted purpose that is not already withdrawn or
// objected — including ones in state none, because for a legitimate
// interest, contract or legal obligation purpose "none" still allows
// messages, and the person has just said no.
func stop(in Input) Plan {
	ts := targets(in)
	if in.Result.Action == keyword.ActionStopAll {
		ts = in.TenantPurposes
	}
	p := Plan{Outcome: OutcomeOptOut, Reply: ReplyOptOut}
	var saved []StopItem
	for _, t := range ts {
		st := in.state(t.Key)
		if st.Status == consent.StatusWithdrawn || st.Status == consent.StatusObjected {
			p.Affected = append(p.Affected, t.Key) // already stopped: still named in the reply
			continue
		}
		p.Changes = append(p.Changes, Change{Purpose: t.Key, Status: consent.StatusWithdrawn})
		p.Affected = append(p.Affected, t.Key)
		saved = append(saved, StopItem{Purpose: t.Key, Status: st.Status, Confirmed: st.Confirmed, ExpiresAt: st.ExpiresAt})
	}
	if len(saved) > 0 {
		// A STOP that changed nothing keeps the earlier record, so that
		// START still restores what was actually withdrawn.
		p.SaveStop = saved
		p.NeedsContact = true
	}
	for _, t := range in.TenantPurposes {
		if slices.Contains(p.Affected, t.Key) {
			continue
		}
		if active(t, in.state(t.Key), in.Now) {
			p.Continuing = append(p.Continuing, t.Key)
		}
	}
	return p
}

// active reports whether a purpose still reaches the person.
func active(p Purpose, s State, now time.Time) bool {
	switch s.Status {
	case consent.StatusWithdrawn, consent.StatusObjected:
		return false
	case consent.StatusGranted:
		return (!p.DoubleOptIn || s.Confirmed) && (s.ExpiresAt.IsZero() || now.Before(s.ExpiresAt))
	}
	return p.Basis != consent.BasisConsent && s.Status == consent.StatusNone
}

// subscribe asks for consent to each target: granted at once, or pending
// with a YES request where the purpose needs double opt-in. Purposes already
// granted and confirmed stay as they are (no event), but are named.
func subscribe(in Input, ts []Purpose) Plan {
	p := Plan{Outcome: OutcomeOptIn, Reply: ReplyOptIn}
	pending := false
	for _, t := range ts {
		st := in.state(t.Key)
		p.Affected = append(p.Affected, t.Key)
		switch {
		case st.Status == consent.StatusGranted && (st.Confirmed || !t.DoubleOptIn) && (st.ExpiresAt.IsZero() || in.Now.Before(st.ExpiresAt)):
			continue
		case t.DoubleOptIn:
			pending = true
			if st.Status == consent.StatusPending && in.Now.Sub(st.RecordedAt) < in.ConfirmWindow {
				continue // ask again, but do not restart the window with a new event
			}
			p.Changes = append(p.Changes, Change{Purpose: t.Key, Status: consent.StatusPending})
		default:
			p.Changes = append(p.Changes, grant(t, in.Now))
		}
	}
	if pending {
		p.Outcome, p.Reply = OutcomePending, ReplyDoubleOptIn
	}
	p.NeedsContact = len(p.Changes) > 0
	return p
}

func grant(t Purpose, now time.Time) Change {
	c := Change{Purpose: t.Key, Status: consent.StatusGranted, Confirmed: true}
	if t.Lifetime > 0 {
		c.ExpiresAt = now.Add(t.Lifetime)
	}
	return c
}

// confirm grants every purpose pending on the channel within the window. A
// YES with nothing pending is conversation ("yes, see you at 5") and goes
// to the tenant.
func confirm(in Input) Plan {
	p := Plan{Outcome: OutcomeOptIn, Reply: ReplyOptIn}
	for _, t := range in.TenantPurposes {
		st := in.state(t.Key)
		if st.Status != consent.StatusPending || in.Now.Sub(st.RecordedAt) >= in.ConfirmWindow || in.Now.Before(st.RecordedAt) {
			continue
		}
		p.Changes = append(p.Changes, grant(t, in.Now))
		p.Affected = append(p.Affected, t.Key)
	}
	if len(p.Changes) == 0 {
		return Plan{Outcome: OutcomeForwarded}
	}
	return p
}

// restart puts back exactly what the last STOP withdrew, where it is still
// withdrawn (a later opt-in wins over the old record). Without a STOP to
// undo, START is an opt-in to the sender's purposes.
func restart(in Input) Plan {
	if len(in.LastStop) == 0 {
		return subscribe(in, targets(in))
	}
	p := Plan{Outcome: OutcomeRestored, Reply: ReplyOptIn, ClearStop: true}
	for _, it := range in.LastStop {
		if in.state(it.Purpose).Status != consent.StatusWithdrawn || !hasPurpose(in.TenantPurposes, it.Purpose) {
			continue
		}
		p.Changes = append(p.Changes, Change{Purpose: it.Purpose, Status: it.Status, Confirmed: it.Confirmed, ExpiresAt: it.ExpiresAt})
		p.Affected = append(p.Affected, it.Purpose)
	}
	return p
}

func hasPurpose(ps []Purpose, key string) bool {
	return slices.ContainsFunc(ps, func(p Purpose) bool { return p.Key == key })
}
