package consent

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	n := Normalizer{DefaultRegion: "DK"}
	tests := []struct {
		kind IdentifierKind
		in   string
		want string // empty: invalid
	}{
		{KindPhone, "+45 20 12 34 56", "+4520123456"},
		{KindPhone, "20 12 34 56", "+4520123456"},
		{KindPhone, "0045 20123456", "+4520123456"},
		{KindPhone, "+1 (415) 555-2671", "+14155552671"},
		{KindPhone, "+44 20 7946 0958", "+442079460958"},
		{KindWhatsApp, "+4520123456", "+4520123456"},
		{KindPhone, "hello", ""},
		{KindPhone, "", ""},
		{KindPhone, "+45 1", ""},
		{KindPhone, strings.Repeat("1", 80), ""},
		{KindEmail, "Anna@Example.COM", "anna@example.com"},
		{KindEmail, " anna@example.com ", "anna@example.com"},
		{KindEmail, "anna@bücher.de", "anna@xn--bcher-kva.de"},
		{KindEmail, "Anna <anna@example.com>", ""},
		{KindEmail, "anna", ""},
		{KindEmail, "anna@localhost", ""},
		{KindEmail, "@example.com", ""},
		{"fax", "123", ""},
	}
	for _, tt := range tests {
		got, err := n.Normalize(tt.kind, tt.in)
		if tt.want == "" {
			if err == nil || !errors.Is(err, ErrInvalidIdentifier) {
				t.Errorf("Normalize(%s, %q) = %q, %v; want ErrInvalidIdentifier", tt.kind, tt.in, got, err)
			}
			if err != nil && tt.in != "" && strings.Contains(err.Error(), strings.TrimSpace(tt.in)) {
				t.Errorf("error text repeats the identifier: %v", err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Normalize(%s, %q) = %q, %v; want %q", tt.kind, tt.in, got, err, tt.want)
		}
	}
	// Without a default region, a national number is refused rather than
	// guessed: a wrong country would address a stranger.
	if _, err := (Normalizer{}).Normalize(KindPhone, "12345678"); err == nil {
		t.Error("national number accepted without a default region")
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"+4512345678", "anna@example.com", "0045 1234", "a@b.c", "\x00", "+"} {
		f.Add(s)
	}
	n := Normalizer{DefaultRegion: "DK"}
	f.Fuzz(func(t *testing.T, s string) {
		for _, k := range IdentifierKinds {
			out, err := n.Normalize(k, s)
			if err != nil {
				continue
			}
			// Normal forms are fixed points: normalising twice changes nothing.
			again, err := n.Normalize(k, out)
			if err != nil || again != out {
				t.Fatalf("%s: %q -> %q -> %q, %v", k, s, out, again, err)
			}
		}
	})
}
