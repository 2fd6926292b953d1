package inventory

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
)

// NotifyWithin is the Art. 33(1) deadline: the authority is notified
// within 72 hours of becoming aware of a breach.
const NotifyWithin = 72 * time.Hour

// Deadline statuses.
const (
	DeadlineOpen    = "open"    // not notified, time left
	DeadlineOverdue = "overdue" // not notified, time is up
	DeadlineMet     = "met"     // notified in time
	DeadlineLate    = "late"    // notified after 72 hours: Art. 33(1) asks for the reasons
)

// Breach is an entry of the breach register (Art. 33(5)).
type Breach struct {
	ID             string          `json:"id"`
	DiscoveredAt   time.Time       `json:"discovered_at"`
	OccurredFrom   time.Time       `json:"occurred_from"`
	OccurredTo     time.Time       `json:"occurred_to"`
	Nature         string          `json:"nature"`
	Categories     []DataCategory  `json:"categories"`
	Channel        consent.Channel `json:"processor_channel,omitempty"` // the processor involved, by its channel
	ApproxSubjects int             `json:"approx_subjects"`
	ApproxRecords  int             `json:"approx_records"`
	Consequences   string          `json:"consequences"`
	Measures       string          `json:"measures"`
	NotifiedAt     time.Time       `json:"notified_at,omitzero"` // the authority was notified
	LateReason     string          `json:"late_reason,omitempty"`
	RecordedBy     string          `json:"recorded_by"`
	CreatedAt      time.Time       `json:"created_at"`
	UpdatedAt      time.Time       `json:"updated_at"`
	Deadline       time.Time       `json:"deadline"`
	DeadlineStatus string          `json:"deadline_status"`
	HoursLeft      float64         `json:"hours_left"` // negative when overdue; 0 once notified
	Affected       *Affected       `json:"affected,omitempty"`
	Findings       []Finding       `json:"findings"`
}

// Affected is the system's answer to "who and what could be affected".
type Affected struct {
	From       time.Time       `json:"from"`
	To         time.Time       `json:"to"`
	Channel    consent.Channel `json:"processor_channel,omitempty"`
	Categories []CategoryCount `json:"categories"`
	Contacts   int             `json:"contacts"` // distinct contacts over all categories
	// ContactIDs are listed for the compliance role only, and capped.
	ContactIDs []string `json:"contact_ids,omitempty"`
	Truncated  bool     `json:"contact_ids_truncated,omitempty"`
}

// CategoryCount is how much of one data category the window touches.
type CategoryCount struct {
	Category DataCategory `json:"category"`
	Records  int          `json:"records"`
	Contacts int          `json:"contacts"`
	Basis    string       `json:"basis"` // what was counted
}

// Track sets the deadline fields of b as of now.
func Track(b *Breach, now time.Time) {
	b.Deadline = b.DiscoveredAt.Add(NotifyWithin)
	b.HoursLeft = 0
	switch {
	case !b.NotifiedAt.IsZero() && !b.NotifiedAt.After(b.Deadline):
		b.DeadlineStatus = DeadlineMet
	case !b.NotifiedAt.IsZero():
		b.DeadlineStatus = DeadlineLate
	case now.After(b.Deadline):
		b.DeadlineStatus = DeadlineOverdue
		b.HoursLeft = roundHours(b.Deadline.Sub(now))
	default:
		b.DeadlineStatus = DeadlineOpen
		b.HoursLeft = roundHours(b.Deadline.Sub(now))
	}
	b.Findings = []Finding{}
	if b.DeadlineStatus == DeadlineLate && b.LateReason == "" {
		b.Findings = append(b.Findings, Finding{Severity: SeverityWarning, Code: "late_reason_missing",
			Message: "the authority was notified after 72 hours: Art. 33(1) requires the reasons for the delay"})
	}
	if b.Consequences == "" {
		b.Findings = append(b.Findings, Finding{Severity: SeverityWarning, Code: "consequences_missing", Message: "likely consequences are not described (Art. 33(3)(c))"})
	}
	if b.Measures == "" {
		b.Findings = append(b.Findings, Finding{Severity: SeverityWarning, Code: "measures_missing", Message: "measures taken or proposed are not described (Art. 33(3)(d))"})
	}
}

func roundHours(d time.Duration) float64 { return float64(d.Round(time.Minute)/time.Minute) / 60 }

// WriteBreach renders the report for the authority in format f.
func WriteBreach(w io.Writer, b Breach, c Controller, f Format) error {
	if err := check(f, RecordFormats); err != nil {
		return err
	}
	switch f {
	case JSON:
		return writeJSON(w, struct {
			Controller Controller `json:"controller"`
			Breach
		}{c, b})
	case CSV:
		d := BreachDoc(b, c)
		rows := [][]string{{"section", "field", "value"}}
		for _, m := range d.Meta {
			rows = append(rows, []string{"report", m.Name, m.Value})
		}
		for _, s := range d.Sections {
			for _, fl := range s.Fields {
				rows = append(rows, []string{s.Heading, fl.Name, fl.Value})
			}
			if s.Table != nil {
				for _, r := range s.Table.Rows {
					rows = append(rows, []string{s.Heading, r[0], strings.Join(r[1:], "; ")})
				}
			}
		}
		return writeCSV(w, rows)
	case Markdown:
		return WriteMarkdown(w, BreachDoc(b, c))
	}
	return WritePDF(w, BreachDoc(b, c), b.UpdatedAt)
}

func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return stamp(t)
}

// BreachDoc lays the report out along Art. 33(3).
func BreachDoc(b Breach, c Controller) Doc {
	deadline := fmt.Sprintf("%s (%s", stamp(b.Deadline), b.DeadlineStatus)
	if b.DeadlineStatus == DeadlineOpen || b.DeadlineStatus == DeadlineOverdue {
		deadline += fmt.Sprintf(", %.1f hours left", b.HoursLeft)
	}
	deadline += ")"
	cats := make([]string, len(b.Categories))
	for i, x := range b.Categories {
		cats[i] = x.Title()
	}
	d := Doc{Title: "Personal data breach " + b.ID, Meta: []Field{
		{"Discovered at", stamp(b.DiscoveredAt)}, {"Notification deadline (Art. 33(1))", deadline},
		{"Authority notified at", when(b.NotifiedAt)}, {"Report generated", stamp(b.UpdatedAt)}}}
	d.Sections = append(d.Sections,
		Section{Heading: "Controller and contact point (Art. 33(3)(b))", Level: 2, Fields: []Field{
			{"Controller", orMissing(c.Name)}, {"Address", orMissing(c.Address)}, {"Data protection officer", orMissing(c.DPOName)},
			{"DPO e-mail", orMissing(c.DPOEmail)}, {"DPO phone", orDash(c.DPOPhone)}, {"Supervisory authority", orMissing(c.SupervisoryAuthority)}}},
		Section{Heading: "Nature of the breach (Art. 33(3)(a))", Level: 2, Text: []string{orMissing(b.Nature)}, Fields: []Field{
			{"Occurred", when(b.OccurredFrom) + " to " + when(b.OccurredTo)},
			{"Processor involved", orDash(string(b.Channel))},
			{"Categories of personal data", strings.Join(orNone(cats), "; ")},
			{"Approximate number of data subjects", strconv.Itoa(b.ApproxSubjects)},
			{"Approximate number of records", strconv.Itoa(b.ApproxRecords)}}},
		Section{Heading: "Likely consequences (Art. 33(3)(c))", Level: 2, Text: []string{orMissing(b.Consequences)}},
		Section{Heading: "Measures taken or proposed (Art. 33(3)(d))", Level: 2, Text: []string{orMissing(b.Measures)}})
	if b.LateReason != "" {
		d.Sections = append(d.Sections, Section{Heading: "Reasons for the delay (Art. 33(1))", Level: 2, Text: []string{b.LateReason}})
	}
	if a := b.Affected; a != nil {
		t := &Table{Header: []string{"Data category", "Records", "Contacts", "Counted"}}
		for _, x := range a.Categories {
			t.Rows = append(t.Rows, []string{x.Category.Title(), strconv.Itoa(x.Records), strconv.Itoa(x.Contacts), x.Basis})
		}
		d.Sections = append(d.Sections, Section{Heading: "Scope computed by the gateway", Level: 2, Fields: []Field{
			{"Window", stamp(a.From) + " to " + stamp(a.To)}, {"Distinct contacts", strconv.Itoa(a.Contacts)}}, Table: t})
	}
	d.Sections = append(d.Sections, findingsSection(b.Findings))
	return d
}
