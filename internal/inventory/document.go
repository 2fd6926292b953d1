package inventory

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
)

// Doc is a document laid out for people: the one model that the Markdown
// and PDF renderers share, so both always hold the same content.
type Doc struct {
	Title    string
	Meta     []Field // version, digest, generated at: also in each PDF page footer
	Sections []Section
}

// Field is a label and its value.
type Field struct{ Name, Value string }

// Section is a heading with text, fields and an optional table.
type Section struct {
	Heading string
	Level   int // 2 or 3
	Text    []string
	Fields  []Field
	Table   *Table
}

// Table is a header and rows of cells.
type Table struct {
	Header []string
	Rows   [][]string
}

// Missing is written where a required value is not set: an export never
// shows a silent blank.
const Missing = "MISSING (see findings)"

func orMissing(s string) string {
	if s == "" {
		return Missing
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// WriteMarkdown renders d as CommonMark with GitHub tables.
func WriteMarkdown(w io.Writer, d Doc) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", d.Title)
	for _, f := range d.Meta {
		fmt.Fprintf(&b, "- **%s:** %s\n", f.Name, mdText(f.Value))
	}
	for _, s := range d.Sections {
		level := max(2, min(s.Level, 4))
		fmt.Fprintf(&b, "\n%s %s\n\n", strings.Repeat("#", level), mdText(s.Heading))
		for _, t := range s.Text {
			fmt.Fprintf(&b, "%s\n\n", mdText(t))
		}
		for _, f := range s.Fields {
			fmt.Fprintf(&b, "- **%s:** %s\n", f.Name, mdText(f.Value))
		}
		if len(s.Fields) > 0 && s.Table != nil {
			b.WriteString("\n")
		}
		if t := s.Table; t != nil {
			if len(t.Rows) == 0 {
				b.WriteString("(none)\n")
				continue
			}
			b.WriteString("| " + strings.Join(mdCells(t.Header), " | ") + " |\n")
			b.WriteString("|" + strings.Repeat(" --- |", len(t.Header)) + "\n")
			for _, r := range t.Rows {
				b.WriteString("| " + strings.Join(mdCells(r), " | ") + " |\n")
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mdText keeps tenant-supplied text from turning into markup: a purpose
// description must not be able to inject a heading, a link or HTML into
// the DPO's document. Underscores stay: inside words (data category codes)
// CommonMark does not read them as emphasis.
func mdText(s string) string {
	r := strings.NewReplacer("\\", "\\\\", "<", "&lt;", ">", "&gt;", "[", "\\[", "]", "\\]", "*", "\\*",
		"`", "\\`", "#", "\\#", "\r\n", " ", "\n", " ")
	return r.Replace(s)
}

func mdCells(cells []string) []string {
	out := make([]string, len(cells))
	for i, c := range cells {
		out[i] = strings.ReplaceAll(mdText(c), "|", "\\|")
	}
	return out
}

// writeCSV writes rows with the first as header. Cells that a spreadsheet
// would run as a formula are prefixed with an apostrophe (CSV injection):
// purpose names and descriptions come from tenants.
func writeCSV(w io.Writer, rows [][]string) error {
	cw := csv.NewWriter(w)
	for _, r := range rows {
		safe := make([]string, len(r))
		for i, c := range r {
			if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
				c = "'" + c
			}
			safe[i] = c
		}
		if err := cw.Write(safe); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
