package consent

import "time"

// Reason is the stable code that says why a decision came out as it did. It
// is part of the public API: callers branch on it, so values never change
// meaning.
type Reason string

// Reasons, in the order of the rule in DESIGN §5.
const (
	ReasonPurposeChannelNotAllowed Reason = "purpose_channel_not_allowed"
	ReasonUnknownContact           Reason = "unknown_contact"
	ReasonSuppressed               Reason = "suppressed"
	ReasonRestricted               Reason = "restricted"
	ReasonConsentGranted           Reason = "consent_granted"
	ReasonNoConsent                Reason = "no_consent"
	ReasonConsentPending           Reason = "consent_pending"
	ReasonConsentWithdrawn         Reason = "consent_withdrawn"
	ReasonConsentExpired           Reason = "consent_expired"
	ReasonObjected                 Reason = "objected"
	ReasonLegitimateInterest       Reason = "legitimate_interest"
	ReasonContract                 Reason = "contract"
	ReasonLegalObligation          Reason = "legal_obligation"
	ReasonChannelStopped           Reason = "channel_stopped"
	ReasonUnavailable              Reason = "unavailable" // the gateway could not decide (index not ready, store down): fail closed
)

// Decision answers "may this message be sent now?". EventID is the consent
// event the answer rests on, empty when no event was involved.
type Decision struct {
	Allowed bool   `json:"allowed"`
	Reason  Reason `json:"reason"`
	Basis   Basis  `json:"basis,omitempty"`
	EventID string `json:"event_id,omitempty"`
}

// Subject is what the index knows about the recipient of one decision.
type Subject struct {
	Known      bool  // a contact exists for the identifier (or id) asked about
	Suppressed bool  // the identifier is on the suppression list for this scope
	Restricted bool  // processing restricted under Art. 18
	State      State // consent for (contact, purpose, channel); zero = none
}

// Decide applies the decision rule of DESIGN §5. It is a pure function of its
// inputs and fails closed: a nil purpose, an unknown basis or any state it
// does not recognise yields "not allowed".
func Decide(p *Purpose, ch Channel, s Subject, now time.Time) Decision {
	if p == nil || !p.Allows(ch) {
		return Decision{Reason: ReasonPurposeChannelNotAllowed}
	}
	deny := func(r Reason) Decision { return Decision{Reason: r, Basis: p.Basis, EventID: s.State.EventID} }
	if s.Suppressed {
		return Decision{Reason: ReasonSuppressed, Basis: p.Basis}
	}
	if s.Restricted && p.Basis != BasisLegalObligation {
		return Decision{Reason: ReasonRestricted, Basis: p.Basis}
	}
	st := s.State
	switch p.Basis {
	case BasisConsent:
		switch st.Status {
		case StatusGranted:
			if p.DoubleOptIn && !st.Confirmed {
				return deny(ReasonConsentPending)
			}
			if !st.ExpiresAt.IsZero() && !now.Before(st.ExpiresAt) {
				return deny(ReasonConsentExpired)
			}
			return Decision{Allowed: true, Reason: ReasonConsentGranted, Basis: p.Basis, EventID: st.EventID}
		case StatusPending:
			return deny(ReasonConsentPending)
		case StatusWithdrawn:
			return deny(ReasonConsentWithdrawn)
		case StatusObjected:
			return deny(ReasonObjected)
		default:
			return deny(ReasonNoConsent)
		}
	case BasisLegitimateInterest:
		if !s.Known {
			// Legitimate interest presumes a relationship (the ePrivacy
			// soft opt-in): with no contact record there is none to rely on.
			return deny(ReasonUnknownContact)
		}
		switch st.Status {
		case StatusWithdrawn, StatusObjected:
			return deny(ReasonObjected)
		}
		return Decision{Allowed: true, Reason: ReasonLegitimateInterest, Basis: p.Basis, EventID: st.EventID}
	case BasisContract, BasisLegalObligation:
		switch st.Status {
		case StatusWithdrawn, StatusObjected:
			return deny(ReasonChannelStopped)
		}
		r := ReasonContract
		if p.Basis == BasisLegalObligation {
			r = ReasonLegalObligation
		}
		return Decision{Allowed: true, Reason: r, Basis: p.Basis, EventID: st.EventID}
	}
	return Decision{Reason: ReasonUnavailable}
}
