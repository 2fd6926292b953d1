package inventory

import (
	"fmt"
	"slices"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
)

// DataCategory is a category of personal data the gateway keeps or passes
// on. Retention policies, breach scoping and the record all speak of these.
type DataCategory string

// The data categories. They follow DESIGN §4 (retention policy).
const (
	CatIdentifiers       DataCategory = "identifiers"        // phone numbers, e-mail addresses, WhatsApp ids (sealed)
	CatContactAttributes DataCategory = "contact_attributes" // declared attributes (sealed)
	CatConsentEvidence   DataCategory = "consent_evidence"   // consent events and their evidence
	CatMessageMetadata   DataCategory = "message_metadata"   // outbound message metadata and status timelines
	CatMessageBodies     DataCategory = "message_bodies"     // message text, sealed in the outbox until a final status
	CatInboundMessages   DataCategory = "inbound_messages"   // replies: keyword, outcome, keyed hashes
	CatAuditEvents       DataCategory = "audit_events"
	CatDSRRecords        DataCategory = "dsr_records"
)

// Categories lists every data category in a stable order.
var Categories = []DataCategory{CatIdentifiers, CatContactAttributes, CatConsentEvidence, CatMessageMetadata,
	CatMessageBodies, CatInboundMessages, CatAuditEvents, CatDSRRecords}

// ParseCategory returns the data category named s.
func ParseCategory(s string) (DataCategory, error) {
	if slices.Contains(Categories, DataCategory(s)) {
		return DataCategory(s), nil
	}
	return "", fmt.Errorf("unknown data category %q", s)
}

// categoryTitles are the words the exports use for each category.
var categoryTitles = map[DataCategory]string{
	CatIdentifiers:       "Contact identifiers (phone number, e-mail address, WhatsApp id)",
	CatContactAttributes: "Declared contact attributes",
	CatConsentEvidence:   "Consent events and evidence (source, notice version, time; IP address and user agent for web forms)",
	CatMessageMetadata:   "Message metadata (purpose, channel, sender, status, times; never the text)",
	CatMessageBodies:     "Message text (sealed in the outbox until the message reaches a final status)",
	CatInboundMessages:   "Inbound replies (keyword, outcome, keyed hash of the text)",
	CatAuditEvents:       "Audit events (who accessed which contact, when, why)",
	CatDSRRecords:        "Data-subject requests and their handling",
}

// Title returns the category's description for people.
func (c DataCategory) Title() string {
	if t, ok := categoryTitles[c]; ok {
		return t
	}
	return string(c)
}

// Retention sources: where a retention period in the record comes from.
const (
	SourcePolicy         = "policy"          // a retention policy the tenant set
	SourceGatewayDefault = "gateway_default" // the gateway's default policy, in force while the tenant sets none
	SourceBuiltIn        = "built_in"        // enforced by the gateway's code itself
	SourceDefault        = "default"         // the documented default; nothing enforces it yet
)

// Retention is how long one category of data is kept and what happens at
// the end.
type Retention struct {
	Category DataCategory `json:"category"`
	Period   string       `json:"period"`         // for people: "12 months", "until a final status"
	Days     int          `json:"days,omitempty"` // 0 when the period is an event, not a length
	AtEnd    string       `json:"at_end"`
	Source   string       `json:"source"`
	Enforced bool         `json:"enforced"` // a purge (or the code) applies it
}

// DefaultRetention is the documented default per category, used where no
// policy is in force. Only message bodies are enforced by the code itself
// (the outbox drops the sealed envelope at a final status); the others are
// listed as findings until a purge enforces a policy.
func DefaultRetention() []Retention {
	return []Retention{
		{Category: CatIdentifiers, Period: "while any purpose has a consent or contract for the contact; on erasure at once",
			AtEnd: "crypto-shredded and deleted; a keyed hash stays on the suppression list", Source: SourceDefault},
		{Category: CatContactAttributes, Period: "as the contact's identifiers", AtEnd: "crypto-shredded and deleted", Source: SourceDefault},
		{Category: CatConsentEvidence, Period: "3 years after the consent ends", Days: 1095, AtEnd: "deleted", Source: SourceDefault},
		{Category: CatMessageMetadata, Period: "12 months", Days: 365, AtEnd: "deleted", Source: SourceDefault},
		{Category: CatMessageBodies, Period: "until the message reaches a final status", AtEnd: "sealed envelope dropped",
			Source: SourceBuiltIn, Enforced: true},
		{Category: CatInboundMessages, Period: "12 months", Days: 365, AtEnd: "deleted", Source: SourceDefault},
		{Category: CatAuditEvents, Period: "24 months", Days: 730, AtEnd: "deleted", Source: SourceDefault},
		{Category: CatDSRRecords, Period: "3 years after the request is closed", Days: 1095, AtEnd: "deleted", Source: SourceDefault},
	}
}

// Controller is the tenant as data controller: who the record names and who
// a data subject or an authority contacts.
type Controller struct {
	Name                    string `json:"name"`
	Address                 string `json:"address"`
	Representative          string `json:"representative"`         // Art. 27, for controllers outside the EU
	RepresentativeContact   string `json:"representative_contact"` // e-mail or address of the representative
	DPOName                 string `json:"dpo_name"`
	DPOEmail                string `json:"dpo_email"`
	DPOPhone                string `json:"dpo_phone"`
	PrivacyNoticeURL        string `json:"privacy_notice_url"`
	SupervisoryAuthority    string `json:"supervisory_authority"`
	SupervisoryAuthorityURL string `json:"supervisory_authority_url"`
}

// TransferMechanism is the legal ground for a transfer to a third country
// (GDPR Chapter V).
type TransferMechanism string

// The transfer mechanisms. None means there is no third-country transfer.
const (
	TransferNone       TransferMechanism = "none"
	TransferAdequacy   TransferMechanism = "adequacy"   // Art. 45
	TransferSCCs       TransferMechanism = "sccs"       // Art. 46(2)(c)
	TransferBCRs       TransferMechanism = "bcrs"       // Art. 47
	TransferDerogation TransferMechanism = "derogation" // Art. 49
)

// TransferMechanisms lists the mechanisms in a stable order.
var TransferMechanisms = []TransferMechanism{TransferNone, TransferAdequacy, TransferSCCs, TransferBCRs, TransferDerogation}

// ParseTransfer returns the mechanism named s.
func ParseTransfer(s string) (TransferMechanism, error) {
	if slices.Contains(TransferMechanisms, TransferMechanism(s)) {
		return TransferMechanism(s), nil
	}
	return "", fmt.Errorf("unknown transfer mechanism %q", s)
}

// Processor is a channel provider configured for the tenant: it receives
// identifiers and message text to deliver them.
type Processor struct {
	Channel  consent.Channel   `json:"channel"`
	Kind     string            `json:"kind"`               // provider kind: twilio, smtp, http, sink
	Name     string            `json:"name"`               // legal entity or, when undeclared, the endpoint
	Endpoint string            `json:"endpoint,omitempty"` // host the gateway talks to; never a secret
	Country  string            `json:"country"`            // ISO 3166-1 alpha-2; "" when not declared
	Transfer TransferMechanism `json:"transfer_mechanism"` // "" when not declared
	DPARef   string            `json:"dpa_reference,omitempty"`
	// Internal is true for the sink provider: nothing leaves the gateway,
	// so it is not a processor and not a recipient.
	Internal bool `json:"internal"`
}

// ThirdCountry reports whether the processor's country is outside the EEA.
func (p Processor) ThirdCountry() bool { return p.Country != "" && !InEEA(p.Country) }

// Storage is where the gateway's database lives.
type Storage struct {
	Engine        string `json:"engine"`         // sqlite, postgres
	Country       string `json:"country"`        // ISO 3166-1 alpha-2; "" when not configured
	Region        string `json:"region"`         // free text: data centre, cloud region
	BackupCountry string `json:"backup_country"` // "" when not configured
}

// BackupsLeave reports whether backups are kept in another country than
// the database.
func (s Storage) BackupsLeave() bool {
	return s.BackupCountry != "" && s.Country != "" && s.BackupCountry != s.Country
}

// Attribute is a declared contact attribute with its data category.
type Attribute struct {
	Name     string   `json:"name"`
	Category string   `json:"category"`           // e.g. "contact", "preferences", "special" (Art. 9)
	Purposes []string `json:"purposes,omitempty"` // empty: every purpose
}

// Facts are what the running configuration says about the technical and
// organisational measures. They are facts, not promises: each is read from
// the running system by the service layer.
type Facts struct {
	EncryptionAtRest bool      `json:"encryption_at_rest"` // identifiers and attributes sealed with per-contact keys
	SecureDelete     bool      `json:"secure_delete"`      // freed database pages are zeroed
	LedgerEnabled    bool      `json:"ledger_enabled"`
	LedgerAnchored   bool      `json:"ledger_anchored"` // checkpoints also copied outside the database
	AuditTrail       bool      `json:"audit_trail"`     // reads of personal data are audit events
	RolesInUse       []string  `json:"roles_in_use"`    // roles of active API keys
	TenantKeyCreated time.Time `json:"tenant_key_created"`
	SecretsRotated   time.Time `json:"secrets_rotated,omitzero"` // newest webhook secret rotation
	ForwardTarget    string    `json:"forward_target,omitempty"` // host of the tenant's own webhook
}

// Input is everything the documents are built from.
type Input struct {
	Tenant     string
	Controller Controller
	Purposes   []consent.Purpose
	Attributes []Attribute
	Processors []Processor
	Storage    Storage
	// Retention holds the policies in force; categories it lacks fall back
	// to DefaultRetention.
	Retention []Retention
	Facts     Facts
}

// eea is the European Economic Area: the EU 27 and Iceland, Liechtenstein,
// Norway. A transfer outside it needs a Chapter V mechanism.
var eea = []string{"AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV",
	"LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO"}

// InEEA reports whether the ISO country code is in the EEA.
func InEEA(country string) bool { return slices.Contains(eea, country) }

// adequate lists the countries with a Commission adequacy decision (Art. 45)
// at the time of writing. For the United States it covers only companies
// certified under the EU-US Data Privacy Framework, which the tenant must
// check; the record says so rather than deciding.
var adequate = []string{"AD", "AR", "CA", "FO", "GG", "IL", "IM", "JP", "JE", "NZ", "KR", "CH", "GB", "UY", "US"}

// HasAdequacy reports whether the country has an adequacy decision.
func HasAdequacy(country string) bool { return slices.Contains(adequate, country) }
