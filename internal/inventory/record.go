package inventory

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
)

// Record is the record of processing activities (Art. 30(1)) of one tenant
// at one version. Version, Digest and GeneratedAt describe the export; the
// digest covers Body only, so two reads of an unchanged configuration have
// the same digest and the same version.
type Record struct {
	Version     int       `json:"version"`
	Digest      string    `json:"digest"`
	GeneratedAt time.Time `json:"generated_at"`
	Body
}

// Body is the content of the record: what the digest covers.
type Body struct {
	Tenant     string      `json:"tenant"`
	Controller Controller  `json:"controller"`
	Activities []Activity  `json:"activities"`
	Processors []Processor `json:"processors"`
	Storage    Storage     `json:"storage"`
	Retention  []Retention `json:"retention"`
	Measures   []Measure   `json:"measures"`
	Findings   []Finding   `json:"findings"`
}

// Activity is one processing activity: one purpose.
type Activity struct {
	Key                 string            `json:"key"`
	Name                string            `json:"name"`
	Description         string            `json:"description"`
	NoticeVersion       int               `json:"notice_version"`
	Category            consent.Category  `json:"category"`
	Basis               consent.Basis     `json:"basis"`
	BasisArticle        string            `json:"basis_article"`
	Channels            []consent.Channel `json:"channels"`
	DoubleOptIn         bool              `json:"double_opt_in"`
	ConsentValidityDays int               `json:"consent_validity_days"` // 0: until withdrawn
	DataSubjects        string            `json:"data_subjects"`
	DataCategories      []DataCategory    `json:"data_categories"`
	Identifiers         []string          `json:"identifiers"` // kinds of identifier the channels need
	Attributes          []string          `json:"attributes"`  // declared attributes used by the purpose
	Recipients          []string          `json:"recipients"`
	Transfers           []Transfer        `json:"transfers"`
	Retention           []Retention       `json:"retention"`
}

// Transfer is a third-country transfer of an activity.
type Transfer struct {
	Recipient string            `json:"recipient"`
	Country   string            `json:"country"`
	Mechanism TransferMechanism `json:"mechanism"`
}

// Measure is one technical or organisational measure (Art. 32), stated from
// the running configuration.
type Measure struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
}

// Finding severities.
const (
	SeverityCritical = "critical" // the record is incomplete or a transfer lacks a legal ground
	SeverityWarning  = "warning"  // something a DPO must decide or complete
	SeverityInfo     = "info"
)

// Finding is something missing or doubtful in the record. Missing details
// are findings rather than blanks, so an incomplete record says so.
type Finding struct {
	Severity string `json:"severity"`
	Code     string `json:"code"`
	Subject  string `json:"subject,omitempty"`
	Message  string `json:"message"`
}

// Build derives the record's body from the live configuration.
func Build(in Input) Body {
	b := Body{Tenant: in.Tenant, Controller: in.Controller, Storage: in.Storage}
	b.Retention = mergeRetention(in.Retention)
	b.Processors = slices.Clone(in.Processors)
	slices.SortFunc(b.Processors, func(x, y Processor) int { return strings.Compare(string(x.Channel), string(y.Channel)) })
	purposes := slices.Clone(in.Purposes)
	slices.SortFunc(purposes, func(x, y consent.Purpose) int { return strings.Compare(x.Key, y.Key) })
	for _, p := range purposes {
		b.Activities = append(b.Activities, activity(p, in, b.Processors, b.Retention))
	}
	b.Measures = measures(in.Facts, in.Storage)
	b.Findings = findings(in, b)
	if b.Activities == nil {
		b.Activities = []Activity{}
	}
	if b.Processors == nil {
		b.Processors = []Processor{}
	}
	return b
}

// NewRecord builds the record and its digest; the caller sets the version
// from the store's history.
func NewRecord(in Input, at time.Time) Record {
	b := Build(in)
	return Record{Digest: Digest(b), GeneratedAt: at.UTC(), Body: b}
}

// Digest is the SHA-256 of the body's JSON. encoding/json writes struct
// fields in declaration order and sorts map keys, so equal bodies give
// equal bytes.
func Digest(v any) string {
	raw, err := json.Marshal(v)
	if err != nil {
		// Bodies are plain structs of strings, numbers and times: Marshal
		// cannot fail on them.
		panic(fmt.Sprintf("inventory: digest: %v", err))
	}
	h := sha256.Sum256(raw)
	return "sha256:" + hex.EncodeToString(h[:])
}

func mergeRetention(policies []Retention) []Retention {
	out := DefaultRetention()
	for i, d := range out {
		for _, p := range policies {
			if p.Category == d.Category {
				out[i] = p
			}
		}
	}
	return out
}

func basisArticle(b consent.Basis) string {
	switch b {
	case consent.BasisConsent:
		return "Art. 6(1)(a) consent"
	case consent.BasisContract:
		return "Art. 6(1)(b) contract"
	case consent.BasisLegalObligation:
		return "Art. 6(1)(c) legal obligation"
	case consent.BasisLegitimateInterest:
		return "Art. 6(1)(f) legitimate interest"
	}
	return string(b)
}

func dataSubjects(p consent.Purpose) string {
	switch p.Basis {
	case consent.BasisConsent:
		return "customers and prospects who consented to " + p.Name
	case consent.BasisLegitimateInterest:
		return "existing customers (soft opt-in) who have not objected"
	case consent.BasisContract:
		return "customers with a contract or order"
	case consent.BasisLegalObligation:
		return "people the law requires the controller to inform"
	}
	return "contacts"
}

func activity(p consent.Purpose, in Input, procs []Processor, ret []Retention) Activity {
	a := Activity{Key: p.Key, Name: p.Name, Description: p.Description, NoticeVersion: p.NoticeVersion,
		Category: p.Category, Basis: p.Basis, BasisArticle: basisArticle(p.Basis), Channels: slices.Clone(p.Channels),
		DoubleOptIn: p.DoubleOptIn, ConsentValidityDays: int(p.Lifetime / (24 * time.Hour)), DataSubjects: dataSubjects(p),
		Identifiers: []string{}, Attributes: []string{}, Recipients: []string{}, Transfers: []Transfer{}}
	slices.Sort(a.Channels)
	for _, c := range a.Channels {
		if k := string(c.IdentifierKind()); !slices.Contains(a.Identifiers, k) {
			a.Identifiers = append(a.Identifiers, k)
		}
	}
	slices.Sort(a.Identifiers)
	for _, at := range in.Attributes {
		if len(at.Purposes) == 0 || slices.Contains(at.Purposes, p.Key) {
			a.Attributes = append(a.Attributes, at.Name)
		}
	}
	slices.Sort(a.Attributes)
	a.DataCategories = []DataCategory{CatIdentifiers}
	if len(a.Attributes) > 0 {
		a.DataCategories = append(a.DataCategories, CatContactAttributes)
	}
	// Every purpose keeps consent events: for consent and legitimate
	// interest they are the basis, for the others they record STOPs.
	a.DataCategories = append(a.DataCategories, CatConsentEvidence, CatMessageMetadata, CatMessageBodies, CatInboundMessages)
	for _, r := range ret {
		if slices.Contains(a.DataCategories, r.Category) {
			a.Retention = append(a.Retention, r)
		}
	}
	for _, c := range a.Channels {
		for _, pr := range procs {
			if pr.Channel != c || pr.Internal {
				continue
			}
			name := pr.Name + " (" + string(c) + ")"
			a.Recipients = append(a.Recipients, name)
			if pr.ThirdCountry() {
				a.Transfers = append(a.Transfers, Transfer{Recipient: name, Country: pr.Country, Mechanism: pr.Transfer})
			}
		}
	}
	if in.Facts.ForwardTarget != "" {
		a.Recipients = append(a.Recipients, "the controller's own webhook at "+in.Facts.ForwardTarget+" (replies that are not keywords)")
	}
	return a
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func measures(f Facts, st Storage) []Measure {
	day := func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.UTC().Format(time.DateOnly)
	}
	ms := []Measure{
		{ID: "encryption_at_rest", Title: "Encryption at rest: " + onOff(f.EncryptionAtRest),
			Detail: "identifiers and attributes are sealed with AES-256-GCM under a per-contact key wrapped by the tenant key; lookups use a keyed hash (blind index); erasure destroys the contact key"},
		{ID: "key_management", Title: "Tenant key created " + day(f.TenantKeyCreated),
			Detail: "the tenant key is wrapped by the master key kept outside the database; webhook secrets last rotated " + day(f.SecretsRotated)},
		{ID: "minimisation", Title: "Message text not kept",
			Detail: "message text travels sealed in the outbox and is dropped when the message reaches a final status; logs carry ids only"},
		{ID: "access_control", Title: "Role-based access; roles in use: " + strings.Join(orNone(f.RolesInUse), ", "),
			Detail: "every API key has one role; identifiers are masked unless a role with the reveal permission gives a reason; every query is filtered by tenant"},
		{ID: "audit", Title: "Audit trail of personal-data access: " + onOff(f.AuditTrail),
			Detail: "reads of personal data are recorded as audit events in the same transaction"},
		{ID: "consent_ledger", Title: "Tamper-evident consent ledger: " + onOff(f.LedgerEnabled),
			Detail: "consent events are leaves of a Merkle log with signed checkpoints; checkpoints copied outside the database: " + onOff(f.LedgerAnchored)},
		{ID: "fail_closed", Title: "Every message is decided",
			Detail: "no message leaves without a lawful basis for its purpose and channel; errors and unknown input refuse the message; opt-outs apply before the next message"},
	}
	if st.Engine == "sqlite" {
		ms = append(ms, Measure{ID: "secure_delete", Title: "Secure delete: " + onOff(f.SecureDelete),
			Detail: "SQLite overwrites freed pages, so deleted ciphertexts do not linger in the database file"})
	}
	return ms
}

func orNone(s []string) []string {
	if len(s) == 0 {
		return []string{"none"}
	}
	return s
}
