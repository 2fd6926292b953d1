package ledger

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func testCheckpoint() Checkpoint {
	return Checkpoint{Origin: testOrigin, Size: 900, Root: tlog.RecordHash([]byte("x")), Seq: 7, Time: testEpoch}
}

func TestCheckpointFormat(t *testing.T) {
	s := testSigner(t)
	c := testCheckpoint()
	signed, err := s.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	text, sigs, ok := strings.Cut(string(signed), "\n\n")
	if !ok {
		t.Fatalf("no signature block:\n%s", signed)
	}
	want := testOrigin + "\n900\n" + c.Root.String() + "\nseq 7\ntime 2025-03-14T09:26:53.589793Z"
	if text != want {
		t.Fatalf("text:\n%s\nwant:\n%s", text, want)
	}
	if !strings.HasPrefix(sigs, "— "+testOrigin+" ") || strings.Count(sigs, "\n") != 1 {
		t.Fatalf("signature block %q", sigs)
	}
	// The note is also a C2SP checkpoint as the Go checksum database's
	// tooling reads it: a standard note library accepts our signature.
	v, err := note.NewVerifier(s.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := note.Open(signed, note.VerifierList(v)); err != nil {
		t.Fatal(err)
	}
}

func TestSignParseRoundTrip(t *testing.T) {
	s := testSigner(t)
	for _, c := range []Checkpoint{
		testCheckpoint(),
		{Origin: testOrigin, Size: 0, Root: emptyRoot, Seq: 0, Time: testEpoch.Truncate(time.Second)},
	} {
		signed, err := s.Sign(c)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseCheckpoint(signed, s.VerifierKey())
		if err != nil {
			t.Fatal(err)
		}
		if got != c {
			t.Fatalf("parsed %+v, want %+v", got, c)
		}
	}
}

func TestSignRejects(t *testing.T) {
	s := testSigner(t)
	for name, c := range map[string]Checkpoint{
		"other origin":  {Origin: "other.example/log", Time: testEpoch},
		"negative size": {Origin: testOrigin, Size: -1, Time: testEpoch},
		"zero time":     {Origin: testOrigin},
	} {
		if _, err := s.Sign(c); err == nil {
			t.Errorf("%s: signed", name)
		}
	}
}

func TestParseCheckpointRejects(t *testing.T) {
	s := testSigner(t)
	good, err := s.Sign(testCheckpoint())
	if err != nil {
		t.Fatal(err)
	}
	_, otherV, err := GenerateKey(testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	otherS, _, _ := GenerateKey("other.example/ledger")
	other, err := NewSigner(otherS)
	if err != nil {
		t.Fatal(err)
	}
	cosigned, err := note.Sign(&note.Note{Text: string(testCheckpoint().Text())}, s.ns, other.ns)
	if err != nil {
		t.Fatal(err)
	}
	text, sig, _ := strings.Cut(string(good), "\n\n")
	sigB64 := strings.TrimSuffix(sig[strings.LastIndexByte(sig, ' ')+1:], "\n")
	raw, _ := base64.StdEncoding.DecodeString(sigB64)
	// Ed25519 signatures plus the key hash are 68 bytes: the last base64
	// character has two unused bits, which lenient decoders ignore.
	sloppy := sigB64[:len(sigB64)-2] + string(base64Flip(sigB64[len(sigB64)-2])) + "="
	if d, err := base64.StdEncoding.DecodeString(sloppy); err != nil || !bytes.Equal(d, raw) {
		t.Fatalf("test bug: sloppy base64 %q decodes to something else: %v", sloppy, err)
	}
	resign := func(text string) []byte {
		b, err := note.Sign(&note.Note{Text: text}, s.ns)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cases := map[string]struct {
		note []byte
		key  string
	}{
		"other key, same origin": {good, otherV},
		"altered size":           {[]byte(strings.Replace(string(good), "\n900\n", "\n901\n", 1)), s.VerifierKey()},
		"duplicate signature":    {append(bytes.Clone(good), []byte(sig[strings.Index(sig, "—"):])...), s.VerifierKey()},
		"unknown cosignature":    {cosigned, s.VerifierKey()},
		"sloppy base64":          {[]byte(text + "\n\n— " + testOrigin + " " + sloppy + "\n"), s.VerifierKey()},
		"missing extensions":     {resign(testOrigin + "\n900\n" + testCheckpoint().Root.String() + "\n"), s.VerifierKey()},
		"extra extension":        {resign(text + "\nwitness x\n"), s.VerifierKey()},
		"size leading zero":      {resign(strings.Replace(text, "\n900\n", "\n0900\n", 1) + "\n"), s.VerifierKey()},
		"time not UTC":           {resign(strings.Replace(text, "09:26:53.589793Z", "10:26:53.589793+01:00", 1) + "\n"), s.VerifierKey()},
		"no signature":           {[]byte(text + "\n"), s.VerifierKey()},
		"bad verifier key":       {good, "nonsense"},
	}
	for name, c := range cases {
		if _, err := ParseCheckpoint(c.note, c.key); !errors.Is(err, ErrBadCheckpoint) {
			t.Errorf("%s: ParseCheckpoint = %v, want ErrBadCheckpoint", name, err)
		}
	}
}

// base64Flip returns a base64 character that differs from c only in its
// lowest bit, which is unused in the last character before "=".
func base64Flip(c byte) byte {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	i := strings.IndexByte(alphabet, c)
	return alphabet[i^1]
}

func TestKeys(t *testing.T) {
	skey, vkey, err := GenerateKey(testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	if s.VerifierKey() != vkey || s.Origin() != testOrigin {
		t.Fatalf("signer derived %q / %q, want %q / %q", s.VerifierKey(), s.Origin(), vkey, testOrigin)
	}
	for _, bad := range []string{"", "has space", "a+b", "consentgate-receipt/v1", "ünïcode.example"} {
		if _, _, err := GenerateKey(bad); err == nil {
			t.Errorf("GenerateKey(%q) accepted", bad)
		}
	}
	if _, err := NewSigner(vkey); err == nil {
		t.Error("NewSigner accepted a public key")
	}
}
