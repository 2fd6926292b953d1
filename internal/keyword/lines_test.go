package keyword

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestClassifyLines(t *testing.T) {
	in := "STOP\r\nNej tak\n\nWhere is the bus stop?\nJA\nHJÆLP <3 & more\n"
	var out bytes.Buffer
	if err := ClassifyLines(strings.NewReader(in), &out, "da"); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`{"text":"STOP","intent":"opt_out","action":"stop","scope":"sender","language":"da","keyword":"STOP"}`,
		`{"text":"Nej tak","intent":"opt_out","action":"stop","scope":"sender","language":"da","keyword":"NEJ"}`,
		`{"text":"","intent":"none","action":"","scope":"","language":"","keyword":""}`,
		`{"text":"Where is the bus stop?","intent":"none","action":"","scope":"","language":"","keyword":""}`,
		`{"text":"JA","intent":"opt_in","action":"confirm","scope":"sender","language":"da","keyword":"JA"}`,
		`{"text":"HJÆLP <3 & more","intent":"none","action":"","scope":"","language":"","keyword":""}`,
	}
	got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(got) != len(want) {
		t.Fatalf("%d lines out, want %d:\n%s", len(got), len(want), out.String())
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d:\n got %s\nwant %s", i+1, got[i], want[i])
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(got[i]), &v); err != nil {
			t.Errorf("line %d is not JSON: %v", i+1, err)
		}
	}
}

func TestClassifyLinesNoTrailingNewline(t *testing.T) {
	var out bytes.Buffer
	if err := ClassifyLines(strings.NewReader("help"), &out, ""); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"intent":"help"`) || strings.Count(out.String(), "\n") != 1 {
		t.Errorf("output = %q", out.String())
	}
}

func TestClassifyLinesTooLong(t *testing.T) {
	in := strings.Repeat("x", MaxLineBytes+1)
	if err := ClassifyLines(strings.NewReader(in), &bytes.Buffer{}, ""); err == nil {
		t.Error("a line over MaxLineBytes was accepted")
	}
}

type failWriter struct{}

var errWrite = errors.New("disk full")

func (failWriter) Write([]byte) (int, error) { return 0, errWrite }

func TestClassifyLinesWriteError(t *testing.T) {
	err := ClassifyLines(strings.NewReader("STOP\n"), failWriter{}, "")
	if !errors.Is(err, errWrite) {
		t.Errorf("err = %v, want the writer's error", err)
	}
}
