package ledger

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestLeafEncodingIsCanonical(t *testing.T) {
	l := testLeaf(7)
	got := string(l.Encode())
	want := "consentgate-leaf/v1\n" +
		"event " + l.EventID + "\n" +
		"tenant acme-dk\n" +
		"contact " + l.Contact + "\n" +
		"purpose 2fa\n" +
		"channel email\n" +
		"status withdrawn\n" +
		"time 2025-03-14T09:27:04.089793Z\n" +
		"source import\n" +
		"notice 3\n" +
		"evidence " + l.Evidence + "\n"
	if got != want {
		t.Fatalf("Encode:\n%s\nwant:\n%s", got, want)
	}
	// The same instant in another zone, or with a monotonic reading, encodes
	// identically: the encoding never depends on how the time was obtained.
	l2 := l
	l2.Time = l.Time.In(time.FixedZone("CET", 3600))
	if !bytes.Equal(l2.Encode(), l.Encode()) {
		t.Fatal("encoding depends on the time zone")
	}
	l3 := l
	l3.Time = time.Now()
	l3.Time = l3.Time.Add(l.Time.Sub(l3.Time))
	if !bytes.Equal(l3.Encode(), l.Encode()) {
		t.Fatal("encoding depends on the monotonic clock reading")
	}
}

func TestLeafRoundTrip(t *testing.T) {
	for i := range 60 {
		l := testLeaf(i)
		b := l.Encode()
		got, err := DecodeLeaf(b)
		if err != nil {
			t.Fatalf("leaf %d: %v", i, err)
		}
		if !got.Time.Equal(l.Time) || got.Time.Location() != time.UTC {
			t.Fatalf("leaf %d: time %v, want %v in UTC", i, got.Time, l.Time)
		}
		got.Time = l.Time
		if got != l {
			t.Fatalf("leaf %d: decoded %+v, want %+v", i, got, l)
		}
		if !bytes.Equal(got.Encode(), b) {
			t.Fatalf("leaf %d: re-encoding differs", i)
		}
	}
}

func TestDecodeLeafRejects(t *testing.T) {
	good := string(testLeaf(3).Encode())
	replace := func(old, new string) string {
		if !strings.Contains(good, old) {
			t.Fatalf("test bug: %q not in leaf", old)
		}
		return strings.Replace(good, old, new, 1)
	}
	l := testLeaf(3)
	cases := map[string]string{
		"empty":                "",
		"other version":        replace("consentgate-leaf/v1", "consentgate-leaf/v2"),
		"missing final LF":     strings.TrimSuffix(good, "\n"),
		"trailing data":        good + "extra 1\n",
		"CRLF":                 strings.ReplaceAll(good, "\n", "\r\n"),
		"fields reordered":     replace("tenant acme-dk\ncontact "+l.Contact, "contact "+l.Contact+"\ntenant acme-dk"),
		"two spaces":           replace("tenant acme-dk", "tenant  acme-dk"),
		"space in tenant":      replace("tenant acme-dk", "tenant acme dk"),
		"empty tenant":         replace("tenant acme-dk", "tenant "),
		"lower-case ULID":      replace(l.EventID, strings.ToLower(l.EventID)),
		"ULID overflow":        replace(l.EventID, "8"+l.EventID[1:]),
		"ULID with I":          replace(l.EventID, "I"+l.EventID[1:]),
		"unknown status":       replace("status pending", "status maybe"),
		"upper-case channel":   replace("channel sms", "channel SMS"),
		"non-UTC time":         replace("T09:26:58.089793Z", "T10:26:58.089793+01:00"),
		"untrimmed fraction":   replace("T09:26:58.089793Z", "T09:26:58.089793000Z"),
		"lower-case z":         replace("T09:26:58.089793Z", "T09:26:58.089793z"),
		"notice leading zero":  replace("notice 4", "notice 04"),
		"notice negative":      replace("notice 4", "notice -4"),
		"notice plus":          replace("notice 4", "notice +4"),
		"evidence upper case":  replace(l.Evidence, strings.ToUpper(l.Evidence)),
		"evidence short":       replace(l.Evidence, l.Evidence[:62]),
		"PII in purpose":       replace("purpose 2fa", "purpose jane@example.com"),
		"newline in source":    replace("source import", "source import\nsource api"),
		"oversized":            good + strings.Repeat("x", MaxLeafSize),
		"missing evidence key": replace("evidence "+l.Evidence+"\n", ""),
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := DecodeLeaf([]byte(in)); !errors.Is(err, ErrMalformedLeaf) {
				t.Fatalf("DecodeLeaf accepted it or failed oddly: %v", err)
			}
		})
	}
}

func TestValidateRejectsZeroTime(t *testing.T) {
	l := testLeaf(1)
	l.Time = time.Time{}
	if err := l.Validate(); err == nil {
		t.Fatal("zero time accepted")
	}
	l.Time = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := l.Validate(); err == nil {
		t.Fatal("year 10000 accepted")
	}
}
