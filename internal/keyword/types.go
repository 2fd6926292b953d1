package keyword

import "errors"

// Intent is the coarse meaning of a reply. The consent service switches on
// it; the four values are the only ones a [Result] ever carries.
type Intent string

// The intents. IntentNone is a real answer, not an error: most inbound text
// is conversation and must be passed on untouched.
const (
	IntentOptOut Intent = "opt_out"
	IntentOptIn  Intent = "opt_in"
	IntentHelp   Intent = "help"
	IntentNone   Intent = "none"
)

// Action refines an [Intent] into what the consent state machine must do,
// because "STOP" and "STOPALL" withdraw different things and "YES" only
// means something while a double opt-in is pending.
type Action string

// The actions. Each belongs to exactly one intent (see [Action.Intent]).
const (
	// ActionStop withdraws what the scope names: every purpose of the
	// sender for plain STOP, one purpose for a tenant purpose keyword.
	ActionStop Action = "stop"
	// ActionStopAll withdraws every purpose of the tenant on the channel.
	ActionStopAll Action = "stop_all"
	// ActionSubscribe asks for consent (SUBSCRIBE, JOIN); a purpose that
	// needs double opt-in becomes pending.
	ActionSubscribe Action = "subscribe"
	// ActionConfirm is the YES/JA/OUI/SÍ of a double opt-in.
	ActionConfirm Action = "confirm"
	// ActionRestart (START, UNSTOP) restores what the last STOP withdrew.
	ActionRestart Action = "restart"
	// ActionHelp asks for the HELP reply.
	ActionHelp Action = "help"
)

// Intent returns the intent an action belongs to, so that rules can leave
// one of the two implicit, and IntentNone for an unknown action.
func (a Action) Intent() Intent {
	switch a {
	case ActionStop, ActionStopAll:
		return IntentOptOut
	case ActionSubscribe, ActionConfirm, ActionRestart:
		return IntentOptIn
	case ActionHelp:
		return IntentHelp
	}
	return IntentNone
}

// Scopes a keyword can carry besides a tenant's purpose key. Plain STOP
// follows the sender (DESIGN §6); STOPALL reaches the whole tenant.
const (
	ScopeAll    = "all"
	ScopeSender = "sender"
)

// Result is the classification of one message. It holds only static strings
// from the classifier's tables, so returning it does not allocate.
type Result struct {
	Intent   Intent `json:"intent"`
	Action   Action `json:"action,omitempty"`
	Scope    string `json:"scope,omitempty"`    // "all", "sender", or a purpose key
	Language string `json:"language,omitempty"` // ISO 639-1 of the matched keyword
	Keyword  string `json:"keyword,omitempty"`  // canonical keyword, upper case
}

// Rule is a tenant-defined keyword, such as {"STOP NEWS", opt_out, stop,
// "newsletter", "en"} or {"JOIN OFFERS", opt_in, subscribe, "offers", "en"}.
// Tenant rules take precedence over the default packs so that a purpose
// keyword withdraws or grants that purpose only.
type Rule struct {
	// Phrase is one or more words; it is normalised like the message.
	Phrase string
	// Intent must be opt_out, opt_in or help.
	Intent Intent
	// Action may be empty: it then defaults to stop (stop_all for scope
	// "all"), subscribe or help.
	Action Action
	// Scope is a purpose key, "sender" or "all"; empty means "sender".
	Scope string
	// Language is an optional ISO 639-1 code reported with the match.
	Language string
}

// The errors New returns, wrapped with the offending rule or keyword, so
// that an API layer can map them to a validation problem with errors.Is.
var (
	ErrEmptyPhrase   = errors.New("keyword: phrase has no words")
	ErrLongPhrase    = errors.New("keyword: phrase has too many words")
	ErrUnknownIntent = errors.New("keyword: unknown intent")
	ErrBadAction     = errors.New("keyword: action does not belong to intent")
	ErrBadScope      = errors.New("keyword: invalid scope")
	ErrBadLanguage   = errors.New("keyword: language is not an ISO 639-1 code")
	ErrDuplicate     = errors.New("keyword: duplicate phrase")
	// ErrWordConflict means a pack lists a word as a filler (or widening
	// word) and as a negation, which would let "don't stop" pass.
	ErrWordConflict = errors.New("keyword: word is both a filler and a negation")
)
