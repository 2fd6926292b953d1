package inventory

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"
)

// PDF layout, in millimetres and points.
const (
	pdfMargin    = 15.0
	pdfLine      = 4.6
	pdfLabelW    = 52.0
	pdfBodyFont  = 9.0
	pdfTableFont = 8.0
)

// WritePDF renders d as an A4 PDF with the core Helvetica font. Text is
// converted to Windows-1252, which covers the Nordic and Western European
// letters tenants write in; other characters become '?'. The creation date
// is the document's own time, so the same document gives the same bytes.
func WritePDF(w io.Writer, d Doc, at time.Time) error {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetMargins(pdfMargin, pdfMargin, pdfMargin)
	pdf.SetAutoPageBreak(true, pdfMargin+5)
	pdf.SetCreationDate(at.UTC())
	pdf.SetModificationDate(at.UTC())
	pdf.SetCatalogSort(true)
	tr := pdf.UnicodeTranslatorFromDescriptor("")
	pdf.SetTitle(d.Title, true)
	pdf.SetCreator("consentgate", false)
	pdf.AliasNbPages("")
	footer := footerText(d.Meta)
	pdf.SetFooterFunc(func() {
		pdf.SetY(-pdfMargin)
		pdf.SetFont("Helvetica", "", 7)
		pdf.CellFormat(0, 4, tr(footer+fmt.Sprintf("  |  page %d of {nb}", pdf.PageNo())), "", 0, "C", false, 0, "")
	})
	pdf.AddPage()
	pageW, _ := pdf.GetPageSize()
	width := pageW - 2*pdfMargin

	pdf.SetFont("Helvetica", "B", 15)
	pdf.MultiCell(width, 7, tr(d.Title), "", "L", false)
	pdf.Ln(2)
	fields(pdf, tr, d.Meta, width)
	for _, s := range d.Sections {
		pdf.Ln(3)
		size := 12.0
		if s.Level >= 3 {
			size = 10.5
		}
		// Keep a heading with at least a few lines of its content.
		if _, h := pdf.GetPageSize(); pdf.GetY() > h-pdfMargin-30 {
			pdf.AddPage()
		}
		pdf.SetFont("Helvetica", "B", size)
		pdf.MultiCell(width, 6, tr(s.Heading), "", "L", false)
		pdf.SetFont("Helvetica", "", pdfBodyFont)
		for _, t := range s.Text {
			pdf.MultiCell(width, pdfLine, tr(t), "", "L", false)
			pdf.Ln(1)
		}
		fields(pdf, tr, s.Fields, width)
		if s.Table != nil {
			table(pdf, tr, *s.Table, width)
		}
	}
	if err := pdf.Error(); err != nil {
		return fmt.Errorf("inventory: pdf: %w", err)
	}
	return pdf.Output(w)
}

func footerText(meta []Field) string {
	var parts []string
	for _, f := range meta {
		if f.Name == "Version" || f.Name == "Digest" {
			parts = append(parts, f.Name+" "+f.Value)
		}
	}
	return strings.Join(parts, "  |  ")
}

func fields(pdf *fpdf.Fpdf, tr func(string) string, fs []Field, width float64) {
	for _, f := range fs {
		lines := max(1, len(pdf.SplitLines([]byte(tr(f.Value)), width-pdfLabelW)))
		breakIfNeeded(pdf, float64(lines)*pdfLine)
		x, y := pdf.GetXY()
		pdf.SetFont("Helvetica", "B", pdfBodyFont)
		pdf.MultiCell(pdfLabelW, pdfLine, tr(f.Name), "", "L", false)
		yl := pdf.GetY()
		pdf.SetXY(x+pdfLabelW, y)
		pdf.SetFont("Helvetica", "", pdfBodyFont)
		pdf.MultiCell(width-pdfLabelW, pdfLine, tr(f.Value), "", "L", false)
		pdf.SetXY(x, max(yl, pdf.GetY()))
	}
}

// table draws a grid whose rows grow to their tallest cell. Each column
// gets the width its longest text needs (capped), scaled to the page, so a
// long message column gets the room it needs and short codes stay narrow.
func table(pdf *fpdf.Fpdf, tr func(string) string, t Table, width float64) {
	pdf.SetFont("Helvetica", "", pdfTableFont)
	if len(t.Rows) == 0 {
		pdf.MultiCell(width, pdfLine, "(none)", "", "L", false)
		return
	}
	widths := columnWidths(pdf, tr, t, width)
	const lh = 3.8
	row := func(cells []string, bold bool) {
		style := ""
		if bold {
			style = "B"
		}
		pdf.SetFont("Helvetica", style, pdfTableFont)
		lines := 1
		for i, c := range cells {
			lines = max(lines, len(pdf.SplitLines([]byte(tr(c)), widths[i]-2)))
		}
		h := float64(lines)*lh + 1
		breakIfNeeded(pdf, h)
		x, y := pdf.GetXY()
		for i, c := range cells {
			pdf.Rect(x, y, widths[i], h, "D")
			pdf.SetXY(x+1, y+0.5)
			pdf.MultiCell(widths[i]-2, lh, tr(c), "", "L", false)
			x += widths[i]
		}
		pdf.SetXY(pdfMargin, y+h)
	}
	row(t.Header, true)
	for _, r := range t.Rows {
		row(r, false)
	}
}

func columnWidths(pdf *fpdf.Fpdf, tr func(string) string, t Table, width float64) []float64 {
	n := len(t.Header)
	need := make([]float64, n)
	for i, h := range t.Header {
		need[i] = pdf.GetStringWidth(tr(h)) + 4
	}
	for _, r := range t.Rows {
		for i := 0; i < n && i < len(r); i++ {
			need[i] = max(need[i], min(pdf.GetStringWidth(tr(r[i]))+4, width*0.6))
		}
	}
	total := 0.0
	for _, w := range need {
		total += w
	}
	out := make([]float64, n)
	for i := range need {
		out[i] = need[i] * width / total
	}
	return out
}

func breakIfNeeded(pdf *fpdf.Fpdf, h float64) {
	_, pageH := pdf.GetPageSize()
	if pdf.GetY()+h > pageH-pdfMargin-5 {
		pdf.AddPage()
	}
}
