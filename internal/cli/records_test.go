package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRopaCommand writes the record of a data directory as JSON and PDF,
// keeps its version while nothing changes, and refuses an unknown format.
func TestRopaCommand(t *testing.T) {
	data := t.TempDir()
	var out, errb bytes.Buffer
	if rc := Main(context.Background(), []string{"keys", "create", "--data", data, "--tenant", "acme", "--role", "compliance"}, testEnv(&out, &errb)); rc != 0 {
		t.Fatalf("keys create: %d %s", rc, errb.String())
	}
	for i := range 2 {
		out.Reset()
		errb.Reset()
		rc := Main(context.Background(), []string{"ropa", "--data", data, "--format", "json", "--store-country", "dk", "--backup-country", "DK"}, testEnv(&out, &errb))
		if rc != 0 {
			t.Fatalf("ropa: %d %s", rc, errb.String())
		}
		var rec struct {
			Version  int    `json:"version"`
			Digest   string `json:"digest"`
			Tenant   string `json:"tenant"`
			Storage  struct{ Country string }
			Findings []struct{ Code string }
		}
		if err := json.Unmarshal(out.Bytes(), &rec); err != nil {
			t.Fatalf("ropa json: %v\n%s", err, out.String())
		}
		if rec.Version != 1 || rec.Tenant != "acme" || rec.Storage.Country != "DK" || !strings.HasPrefix(rec.Digest, "sha256:") {
			t.Fatalf("run %d: %+v", i, rec)
		}
		if !strings.Contains(out.String(), "controller_name_missing") || !strings.Contains(errb.String(), "version 1") {
			t.Errorf("run %d: missing profile not a finding, or no summary: %s", i, errb.String())
		}
	}
	pdfFile := filepath.Join(t.TempDir(), "ropa.pdf")
	if rc := Main(context.Background(), []string{"ropa", "--data", data, "--format", "pdf", "--out", pdfFile}, testEnv(&out, &errb)); rc != 0 {
		t.Fatalf("ropa pdf: %d %s", rc, errb.String())
	}
	if b, err := os.ReadFile(pdfFile); err != nil || !bytes.HasPrefix(b, []byte("%PDF-")) {
		t.Fatalf("ropa pdf: %v %q", err, b[:min(len(b), 10)])
	}
	errb.Reset()
	if rc := Main(context.Background(), []string{"ropa", "--data", data, "--format", "docx"}, testEnv(&out, &errb)); rc != 2 || !strings.Contains(errb.String(), "unknown format") {
		t.Errorf("unknown format: %d %s", rc, errb.String())
	}
	errb.Reset()
	if rc := Main(context.Background(), []string{"ropa", "--data", data, "--what", "datamap", "--format", "pdf"}, testEnv(&out, &errb)); rc != 2 {
		t.Errorf("data map as pdf: %d %s", rc, errb.String())
	}
}
