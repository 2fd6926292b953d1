package inventory

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Format is an export format.
type Format string

// The export formats.
const (
	JSON     Format = "json"
	CSV      Format = "csv"
	Markdown Format = "markdown"
	PDF      Format = "pdf"
	Mermaid  Format = "mermaid"
)

// ContentType is the media type of each format.
func (f Format) ContentType() string {
	switch f {
	case JSON:
		return "application/json"
	case CSV:
		return "text/csv; charset=utf-8"
	case Markdown:
		return "text/markdown; charset=utf-8"
	case PDF:
		return "application/pdf"
	case Mermaid:
		return "text/vnd.mermaid; charset=utf-8"
	}
	return "application/octet-stream"
}

// Extension is the file name extension of each format.
func (f Format) Extension() string {
	switch f {
	case Markdown:
		return "md"
	case Mermaid:
		return "mmd"
	}
	return string(f)
}

// ParseFormat accepts a format name or a common alias ("md").
func ParseFormat(s string) (Format, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "json":
		return JSON, true
	case "csv":
		return CSV, true
	case "markdown", "md":
		return Markdown, true
	case "pdf":
		return PDF, true
	case "mermaid", "mmd":
		return Mermaid, true
	}
	return "", false
}

// RecordFormats are the formats of the record, the DPIA and the breach
// report; the data map has JSON and Mermaid.
var (
	RecordFormats  = []Format{JSON, CSV, Markdown, PDF}
	DataMapFormats = []Format{JSON, Mermaid, Markdown}
)

// ErrFormat is returned for a format a document does not come in.
type ErrFormat struct {
	Format  Format
	Allowed []Format
}

func (e ErrFormat) Error() string {
	names := make([]string, len(e.Allowed))
	for i, f := range e.Allowed {
		names[i] = string(f)
	}
	return fmt.Sprintf("format %q is not one of %s", e.Format, strings.Join(names, ", "))
}

func check(f Format, allowed []Format) error {
	if !slices.Contains(allowed, f) {
		return ErrFormat{Format: f, Allowed: allowed}
	}
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// WriteRecord renders the record in format f.
func WriteRecord(w io.Writer, r Record, f Format) error {
	if err := check(f, RecordFormats); err != nil {
		return err
	}
	switch f {
	case JSON:
		return writeJSON(w, r)
	case CSV:
		return writeCSV(w, recordRows(r))
	case Markdown:
		return WriteMarkdown(w, RecordDoc(r))
	}
	return WritePDF(w, RecordDoc(r), r.GeneratedAt)
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func joinCh[T ~string](xs []T) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = string(x)
	}
	return strings.Join(s, ", ")
}

func retentionText(rs []Retention) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = fmt.Sprintf("%s: %s (%s)", r.Category, r.Period, r.Source)
	}
	return strings.Join(parts, "; ")
}

func transfersText(ts []Transfer) string {
	if len(ts) == 0 {
		return "none"
	}
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = fmt.Sprintf("%s to %s on %s", t.Recipient, orDash(t.Country), orMissing(string(t.Mechanism)))
	}
	return strings.Join(parts, "; ")
}

func validity(days int) string {
	if days == 0 {
		return "until withdrawn"
	}
	return strconv.Itoa(days) + " days"
}

// recordRows is the spreadsheet form: one row per activity, with the
// record's version and digest on each row so a row pasted elsewhere still
// says where it came from.
func recordRows(r Record) [][]string {
	rows := [][]string{{"record_version", "record_digest", "controller", "dpo", "activity", "name", "category", "lawful_basis",
		"channels", "double_opt_in", "consent_validity", "notice_version", "data_subjects", "data_categories", "identifiers",
		"attributes", "recipients", "third_country_transfers", "retention", "storage", "findings"}}
	dpo := strings.TrimSpace(r.Controller.DPOName + " " + r.Controller.DPOEmail)
	storage := storageText(r.Storage)
	for _, a := range r.Activities {
		n := 0
		for _, f := range r.Findings {
			if f.Subject == a.Key || f.Subject == "controller" || f.Subject == "storage" {
				n++
			}
		}
		rows = append(rows, []string{strconv.Itoa(r.Version), r.Digest, orMissing(r.Controller.Name), orMissing(dpo),
			a.Key, a.Name, string(a.Category), a.BasisArticle, joinCh(a.Channels), strconv.FormatBool(a.DoubleOptIn),
			validity(a.ConsentValidityDays), strconv.Itoa(a.NoticeVersion), a.DataSubjects, joinCh(a.DataCategories),
			strings.Join(a.Identifiers, ", "), strings.Join(orNone(a.Attributes), ", "), strings.Join(orNone(a.Recipients), "; "),
			transfersText(a.Transfers), retentionText(a.Retention), storage, strconv.Itoa(n)})
	}
	return rows
}

func storageText(s Storage) string {
	out := fmt.Sprintf("%s in %s", orDash(s.Engine), orMissing(s.Country))
	if s.Region != "" {
		out += " (" + s.Region + ")"
	}
	return out + "; backups in " + orMissing(s.BackupCountry)
}

// RecordDoc lays the record out for Markdown and PDF.
func RecordDoc(r Record) Doc {
	c := r.Controller
	title := c.Name
	if title == "" {
		title = r.Tenant
	}
	d := Doc{Title: "Record of processing activities: " + title, Meta: []Field{
		{"Version", strconv.Itoa(r.Version)}, {"Digest", r.Digest}, {"Generated at", stamp(r.GeneratedAt)},
		{"Tenant", r.Tenant}, {"Legal basis", "GDPR Art. 30(1), generated from the running configuration"}}}
	d.Sections = append(d.Sections, Section{Heading: "Controller", Level: 2, Fields: []Field{
		{"Name", orMissing(c.Name)}, {"Address", orMissing(c.Address)},
		{"Representative (Art. 27)", orDash(c.Representative)}, {"Representative contact", orDash(c.RepresentativeContact)},
		{"Data protection officer", orMissing(c.DPOName)}, {"DPO e-mail", orMissing(c.DPOEmail)}, {"DPO phone", orDash(c.DPOPhone)},
		{"Privacy notice", orMissing(c.PrivacyNoticeURL)},
		{"Supervisory authority", orMissing(c.SupervisoryAuthority)}, {"Authority URL", orDash(c.SupervisoryAuthorityURL)}}})
	d.Sections = append(d.Sections, findingsSection(r.Findings))
	for _, a := range r.Activities {
		d.Sections = append(d.Sections, Section{Heading: "Activity: " + a.Name + " (" + a.Key + ")", Level: 2,
			Text: []string{a.Description}, Fields: []Field{
				{"Purpose category", string(a.Category)}, {"Lawful basis", a.BasisArticle},
				{"Channels", joinCh(a.Channels)}, {"Double opt-in", strconv.FormatBool(a.DoubleOptIn)},
				{"Consent validity", validity(a.ConsentValidityDays)}, {"Notice version", strconv.Itoa(a.NoticeVersion)},
				{"Data subjects", a.DataSubjects}, {"Personal data", joinCh(a.DataCategories)},
				{"Identifiers", strings.Join(a.Identifiers, ", ")}, {"Declared attributes", strings.Join(orNone(a.Attributes), ", ")},
				{"Recipients", strings.Join(orNone(a.Recipients), "; ")}, {"Third-country transfers", transfersText(a.Transfers)},
				{"Retention", retentionText(a.Retention)}, {"Security measures", "see Technical and organisational measures"}}})
	}
	pt := &Table{Header: []string{"Channel", "Provider", "Processor", "Country", "Transfer", "DPA"}}
	for _, p := range r.Processors {
		name := p.Name
		if p.Internal {
			name += " (internal: nothing leaves the gateway)"
		}
		pt.Rows = append(pt.Rows, []string{string(p.Channel), p.Kind, name, orMissing(p.Country), orMissing(string(p.Transfer)), orDash(p.DPARef)})
	}
	d.Sections = append(d.Sections, Section{Heading: "Processors", Level: 2, Table: pt})
	d.Sections = append(d.Sections, Section{Heading: "Storage location", Level: 2, Fields: []Field{
		{"Database", orDash(r.Storage.Engine)}, {"Country", orMissing(r.Storage.Country)}, {"Region", orDash(r.Storage.Region)},
		{"Backups kept in", orMissing(r.Storage.BackupCountry)}, {"Backups leave the country", strconv.FormatBool(r.Storage.BackupsLeave())}}})
	rt := &Table{Header: []string{"Data category", "Period", "At the end", "Source", "Enforced"}}
	for _, x := range r.Retention {
		rt.Rows = append(rt.Rows, []string{x.Category.Title(), x.Period, x.AtEnd, x.Source, strconv.FormatBool(x.Enforced)})
	}
	d.Sections = append(d.Sections, Section{Heading: "Retention", Level: 2, Table: rt})
	mt := &Table{Header: []string{"Measure", "Detail"}}
	for _, m := range r.Measures {
		mt.Rows = append(mt.Rows, []string{m.Title, m.Detail})
	}
	d.Sections = append(d.Sections, Section{Heading: "Technical and organisational measures", Level: 2, Table: mt})
	return d
}

func findingsSection(fs []Finding) Section {
	t := &Table{Header: []string{"Severity", "Code", "Subject", "Finding"}}
	for _, f := range fs {
		t.Rows = append(t.Rows, []string{f.Severity, f.Code, f.Subject, f.Message})
	}
	return Section{Heading: fmt.Sprintf("Findings (%d)", len(fs)), Level: 2, Table: t}
}
