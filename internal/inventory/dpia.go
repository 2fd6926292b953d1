package inventory

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
)

// Answers to a screening question.
const (
	Yes     = "yes"
	No      = "no"
	Unknown = "unknown"
)

// Risk levels.
const (
	Low    = "low"
	Medium = "medium"
	High   = "high"
)

// DPIA statuses.
const (
	StatusDraft        = "draft"         // never signed off
	StatusSigned       = "signed"        // signed off, nothing changed since
	StatusReviewNeeded = "review_needed" // signed off, but the worksheet changed since
)

// DPIA outcomes: whether an assessment is required (Art. 35(1), WP248:
// two or more criteria met make it likely).
const (
	OutcomeRequired     = "likely_required"
	OutcomeNotRequired  = "not_required"
	OutcomeUndetermined = "undetermined"
)

// LargeScale is the number of contacts at which the worksheet calls a
// purpose large-scale. The GDPR sets no number; this one is a default the
// compliance role can overrule with a manual answer.
const LargeScale = 10000

// Volumes are what the store knows of a purpose's size.
type Volumes struct {
	Known      bool `json:"known"`
	Consenting int  `json:"consenting_contacts"` // contacts with a granted or pending consent
	Messaged   int  `json:"messaged_contacts"`   // distinct contacts messaged in the last 12 months
}

// Answer is a screening question with its answer and where it came from.
type Answer struct {
	ID        string `json:"id"`
	Question  string `json:"question"`
	Criterion bool   `json:"criterion"` // counts towards the WP248 "two criteria" rule
	Answer    string `json:"answer"`
	Source    string `json:"source"` // configuration, volumes, manual
	Basis     string `json:"basis"`
}

// ManualAnswer is the compliance role's answer, which replaces the
// pre-answer.
type ManualAnswer struct {
	Answer string `json:"answer"`
	Note   string `json:"note"`
}

// Risk is one line of the risk register.
type Risk struct {
	ID         string `json:"id"`
	Risk       string `json:"risk"`
	Likelihood string `json:"likelihood"`
	Severity   string `json:"severity"`
	Measure    string `json:"measure"`
	Residual   string `json:"residual"`
	Owner      string `json:"owner"`
}

// Validate checks a risk the compliance role entered.
func (r Risk) Validate() error {
	levels := []string{Low, Medium, High}
	switch {
	case r.ID == "" || len(r.ID) > 64:
		return fmt.Errorf("risk id must be 1-64 characters")
	case r.Risk == "" || len(r.Risk) > 500 || len(r.Measure) > 2000 || len(r.Owner) > 100:
		return fmt.Errorf("risk %s: risk is 1-500 characters, measure at most 2000, owner at most 100", r.ID)
	case !slices.Contains(levels, r.Likelihood) || !slices.Contains(levels, r.Severity) || !slices.Contains(levels, r.Residual):
		return fmt.Errorf("risk %s: likelihood, severity and residual must be low, medium or high", r.ID)
	}
	return nil
}

// SignOff is the compliance role's approval of a worksheet as it stood.
type SignOff struct {
	By     string    `json:"by"` // the key that signed
	At     time.Time `json:"at"`
	Digest string    `json:"digest"` // the worksheet's digest when signed
	Note   string    `json:"note,omitempty"`
}

// DPIAState is what the compliance role has stored for a purpose.
type DPIAState struct {
	Answers map[string]ManualAnswer
	Risks   []Risk // nil: the generated register
	SignOff *SignOff
}

// DPIA is the worksheet of one purpose.
type DPIA struct {
	Purpose        string    `json:"purpose"`
	PurposeName    string    `json:"purpose_name"`
	Digest         string    `json:"digest"`
	GeneratedAt    time.Time `json:"generated_at"`
	Volumes        Volumes   `json:"volumes"`
	Screening      []Answer  `json:"screening"`
	CriteriaMet    int       `json:"criteria_met"`
	Outcome        string    `json:"outcome"`
	Risks          []Risk    `json:"risks"`
	RisksGenerated bool      `json:"risks_generated"`
	Status         string    `json:"status"`
	SignOff        *SignOff  `json:"sign_off"`
}

// Questions are the screening question ids, for validating manual answers.
var Questions = []string{"evaluation_scoring", "automated_decisions", "systematic_monitoring", "sensitive_data",
	"large_scale", "matching_combining", "vulnerable_subjects", "innovative_technology", "prevents_rights", "third_country"}

// BuildDPIA fills the worksheet of purpose p from the configuration, the
// volumes and the stored state.
func BuildDPIA(p consent.Purpose, in Input, v Volumes, st DPIAState, at time.Time) DPIA {
	d := DPIA{Purpose: p.Key, PurposeName: p.Name, GeneratedAt: at.UTC(), Volumes: v}
	d.Screening = screening(p, in, v)
	for i, a := range d.Screening {
		if m, ok := st.Answers[a.ID]; ok {
			d.Screening[i].Answer, d.Screening[i].Source, d.Screening[i].Basis = m.Answer, "manual", m.Note
		}
	}
	unknown := 0
	for _, a := range d.Screening {
		if a.Criterion && a.Answer == Yes {
			d.CriteriaMet++
		}
		if a.Criterion && a.Answer == Unknown {
			unknown++
		}
	}
	switch {
	case d.CriteriaMet >= 2:
		d.Outcome = OutcomeRequired
	case d.CriteriaMet+unknown >= 2:
		d.Outcome = OutcomeUndetermined
	default:
		d.Outcome = OutcomeNotRequired
	}
	d.Risks, d.RisksGenerated = st.Risks, st.Risks == nil
	if d.RisksGenerated {
		d.Risks = defaultRisks(p, in)
	}
	// The digest covers what a sign-off approves: the purpose as
	// configured, the answers (not the counts behind them, which move
	// every day) and the risks.
	ans := make([]string, len(d.Screening))
	for i, a := range d.Screening {
		ans[i] = a.ID + "=" + a.Answer
	}
	d.Digest = Digest(struct {
		P consent.Purpose
		A []string
		R []Risk
	}{p, ans, d.Risks})
	d.SignOff = st.SignOff
	switch {
	case st.SignOff == nil:
		d.Status = StatusDraft
	case st.SignOff.Digest == d.Digest:
		d.Status = StatusSigned
	default:
		d.Status = StatusReviewNeeded
	}
	return d
}

// specialCategories are attribute category names that declare data of
// Art. 9 (special categories) or Art. 10 (criminal offences). Attribute
// categories are free names chosen by the tenant; these are the ones the
// worksheet recognises.
var specialCategories = []string{"special", "special_category", "health", "biometric", "genetic", "ethnicity", "ethnic_origin",
	"political", "political_opinions", "religion", "religious_beliefs", "trade_union", "sex_life", "sexual_orientation", "criminal"}

// SpecialCategory reports whether an attribute category names special
// category (or criminal offence) data.
func SpecialCategory(category string) bool { return slices.Contains(specialCategories, category) }

func yesNo(b bool) string {
	if b {
		return Yes
	}
	return No
}

func purposeProcessors(p consent.Purpose, in Input) []Processor {
	var out []Processor
	for _, pr := range in.Processors {
		if p.Allows(pr.Channel) && !pr.Internal {
			out = append(out, pr)
		}
	}
	return out
}

func screening(p consent.Purpose, in Input, v Volumes) []Answer {
	conf := func(id, q string, crit bool, ans, basis string) Answer {
		return Answer{ID: id, Question: q, Criterion: crit, Answer: ans, Source: "configuration", Basis: basis}
	}
	marketing := p.Category == consent.Marketing
	var out []Answer
	if marketing {
		out = append(out, conf("evaluation_scoring", "Does the processing evaluate or score people (profiling)?", true, Unknown,
			"the gateway keeps no profile, but who receives a marketing message is chosen by the controller's application: answer for it"))
	} else {
		out = append(out, conf("evaluation_scoring", "Does the processing evaluate or score people (profiling)?", true, No,
			"a "+string(p.Category)+" message goes to the person the order or account concerns; the gateway keeps no profile"))
	}
	out = append(out,
		conf("automated_decisions", "Are decisions with legal or similarly significant effect made automatically (Art. 22)?", true, No,
			"the gateway's only automated decision is whether a message may be sent, which protects the person"),
		conf("systematic_monitoring", "Are people systematically monitored?", true, No,
			"the gateway records delivery status and replies to its own messages only; it does not observe behaviour"))
	special := slices.ContainsFunc(in.Attributes, func(a Attribute) bool {
		return SpecialCategory(a.Category) && (len(a.Purposes) == 0 || slices.Contains(a.Purposes, p.Key))
	})
	switch {
	case special:
		out = append(out, conf("sensitive_data", "Are special categories of data (Art. 9) or highly personal data processed?", true, Yes,
			"a special-category attribute is declared for the purpose"))
	case p.Category == consent.Transactional:
		out = append(out, conf("sensitive_data", "Are special categories of data (Art. 9) or highly personal data processed?", true, No,
			"transactional messages (codes, receipts) and no special-category attribute declared"))
	default:
		out = append(out, conf("sensitive_data", "Are special categories of data (Art. 9) or highly personal data processed?", true, Unknown,
			"no special-category attribute is declared, but message text is not inspected: confirm what the messages say"))
	}
	large := Answer{ID: "large_scale", Question: fmt.Sprintf("Is the processing large-scale (%d contacts or more)?", LargeScale),
		Criterion: true, Answer: Unknown, Source: "volumes", Basis: "volumes unknown"}
	if v.Known {
		n := max(v.Consenting, v.Messaged)
		large.Answer = yesNo(n >= LargeScale)
		large.Basis = fmt.Sprintf("%d contacts hold a consent; %d were messaged in the last 12 months", v.Consenting, v.Messaged)
	}
	out = append(out, large)
	if marketing {
		out = append(out, conf("matching_combining", "Are data sets matched or combined?", true, Unknown,
			"contact lists may be imported or combined by the controller's application: answer for it"))
	} else {
		out = append(out, conf("matching_combining", "Are data sets matched or combined?", true, No,
			"the purpose uses the identifiers the person gave for the service"))
	}
	out = append(out,
		conf("vulnerable_subjects", "Are the data subjects vulnerable (children, employees, patients)?", true, Unknown,
			"the gateway cannot tell who the contacts are: answer for the audience"),
		conf("innovative_technology", "Is new technology used in a novel way?", true, No,
			"established messaging channels: "+joinCh(p.Channels)),
		conf("prevents_rights", "Does the processing keep people from exercising a right or using a service?", true, No,
			"STOP and its translations opt out on every channel; consent is per channel; opt-outs apply before the next message"))
	var third []string
	for _, pr := range purposeProcessors(p, in) {
		if pr.ThirdCountry() {
			third = append(third, pr.Name+" in "+pr.Country)
		}
	}
	out = append(out, conf("third_country", "Is data transferred outside the EEA?", false, yesNo(len(third) > 0),
		"processors: "+strings.Join(orNone(third), ", ")))
	return out
}

func defaultRisks(p consent.Purpose, in Input) []Risk {
	rs := []Risk{
		{ID: "unlawful_message", Risk: "A message is sent without a lawful basis", Likelihood: Low, Severity: Medium,
			Measure: "every message is decided against the consent state of its purpose and channel, failing closed", Residual: Low, Owner: "compliance"},
		{ID: "opt_out_missed", Risk: "An opt-out is missed or applied late", Likelihood: Low, Severity: Medium,
			Measure: "forgiving keyword matching in 12 languages; the decision index changes before the reply; one confirmation", Residual: Low, Owner: "compliance"},
	}
	rest := Risk{ID: "exposure_at_rest", Risk: "Identifiers exposed from the database or a backup", Likelihood: Low, Severity: High,
		Measure: "identifiers sealed with per-contact keys; master key kept outside the database", Residual: Low, Owner: "operations"}
	if !in.Facts.EncryptionAtRest {
		rest.Likelihood, rest.Residual, rest.Measure = Medium, High, "none: encryption at rest is off"
	}
	rs = append(rs, rest)
	procs := purposeProcessors(p, in)
	pr := Risk{ID: "exposure_at_processor", Risk: "Identifiers and text exposed at a channel provider", Likelihood: Low, Severity: Medium,
		Measure: "data processing agreement (Art. 28); only the identifier and text of each message are passed on", Residual: Low, Owner: "controller"}
	for _, x := range procs {
		if x.Country == "" || x.Transfer == "" || x.DPARef == "" {
			pr.Likelihood, pr.Residual = Medium, Medium
			pr.Measure += "; details of " + x.Name + " are incomplete"
		}
		if x.ThirdCountry() && (x.Transfer == TransferNone || x.Transfer == "") {
			pr.Residual = High
			pr.Measure += "; transfer to " + x.Country + " without a mechanism"
		}
	}
	rs = append(rs, pr)
	access := Risk{ID: "unneeded_access", Risk: "Staff see identifiers they do not need", Likelihood: Low, Severity: Medium,
		Measure: "one role per key; identifiers masked unless revealed with a reason", Residual: Low, Owner: "compliance"}
	if !in.Facts.AuditTrail {
		access.Residual = Medium
		access.Measure += "; no audit trail of reads yet"
	}
	rs = append(rs, access)
	if p.Category == consent.Marketing {
		rs = append(rs, Risk{ID: "over_messaging", Risk: "People receive more or other messages than the notice promised", Likelihood: Medium,
			Severity: Low, Measure: "the notice states what and how often; each consent records the notice version shown", Residual: Low, Owner: "marketing"})
	}
	return rs
}

// WriteDPIA renders the worksheet in format f.
func WriteDPIA(w io.Writer, d DPIA, f Format) error {
	if err := check(f, RecordFormats); err != nil {
		return err
	}
	switch f {
	case JSON:
		return writeJSON(w, d)
	case CSV:
		rows := [][]string{{"dpia_digest", "purpose", "section", "id", "item", "answer_or_likelihood", "severity", "measure_or_basis", "residual", "owner_or_source"}}
		for _, a := range d.Screening {
			rows = append(rows, []string{d.Digest, d.Purpose, "screening", a.ID, a.Question, a.Answer, "", a.Basis, "", a.Source})
		}
		for _, r := range d.Risks {
			rows = append(rows, []string{d.Digest, d.Purpose, "risk", r.ID, r.Risk, r.Likelihood, r.Severity, r.Measure, r.Residual, r.Owner})
		}
		return writeCSV(w, rows)
	case Markdown:
		return WriteMarkdown(w, DPIADoc(d))
	}
	return WritePDF(w, DPIADoc(d), d.GeneratedAt)
}

// DPIADoc lays the worksheet out for Markdown and PDF.
func DPIADoc(d DPIA) Doc {
	sign := "not signed off"
	if s := d.SignOff; s != nil {
		sign = "signed off by " + s.By + " at " + stamp(s.At)
		if s.Note != "" {
			sign += ": " + s.Note
		}
	}
	doc := Doc{Title: "DPIA worksheet: " + d.PurposeName + " (" + d.Purpose + ")", Meta: []Field{
		{"Digest", d.Digest}, {"Generated at", stamp(d.GeneratedAt)}, {"Status", d.Status}, {"Sign-off", sign},
		{"Outcome", d.Outcome + " (" + strconv.Itoa(d.CriteriaMet) + " of 9 criteria met; GDPR Art. 35, WP248)"}}}
	st := &Table{Header: []string{"Question", "Answer", "Source", "Basis"}}
	for _, a := range d.Screening {
		st.Rows = append(st.Rows, []string{a.Question, a.Answer, a.Source, a.Basis})
	}
	doc.Sections = append(doc.Sections, Section{Heading: "Screening", Level: 2, Table: st})
	rt := &Table{Header: []string{"Risk", "Likelihood", "Severity", "Measure", "Residual", "Owner"}}
	for _, r := range d.Risks {
		rt.Rows = append(rt.Rows, []string{r.Risk, r.Likelihood, r.Severity, r.Measure, r.Residual, r.Owner})
	}
	note := "entered by the compliance role"
	if d.RisksGenerated {
		note = "generated from the configuration; the compliance role may replace it"
	}
	doc.Sections = append(doc.Sections, Section{Heading: "Risk register", Level: 2, Text: []string{"Register " + note + "."}, Table: rt})
	return doc
}
