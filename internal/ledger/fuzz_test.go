package ledger

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzDecodeLeaf: no input panics, and whatever is accepted is canonical
// (re-encodes to the same bytes) and valid.
func FuzzDecodeLeaf(f *testing.F) {
	for i := range 6 {
		f.Add(testLeaf(i).Encode())
	}
	f.Add([]byte("consentgate-leaf/v1\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := DecodeLeaf(b)
		if err != nil {
			return
		}
		if err := l.Validate(); err != nil {
			t.Fatalf("decoded leaf is invalid: %v", err)
		}
		if !bytes.Equal(l.Encode(), b) {
			t.Fatalf("accepted a non-canonical encoding:\n%q\nre-encodes as\n%q", b, l.Encode())
		}
	})
}

// FuzzParseCheckpoint: no input panics, and whatever is accepted is exactly
// the note the signer produces for the parsed checkpoint: one byte string
// per checkpoint.
func FuzzParseCheckpoint(f *testing.F) {
	s := testSigner(f)
	for _, c := range []Checkpoint{testCheckpoint(), {Origin: testOrigin, Root: emptyRoot, Time: testEpoch}} {
		signed, err := s.Sign(c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(signed)
	}
	f.Add([]byte("consentgate.example/ledger\n1\n\n— x y\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCheckpoint(b, s.VerifierKey())
		if err != nil {
			return
		}
		again, err := s.Sign(c)
		if err != nil {
			t.Fatalf("accepted checkpoint cannot be signed: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("accepted a non-canonical note:\n%q\nwant\n%q", b, again)
		}
	})
}

// FuzzReceipt: no input panics through decoding and verification, and any
// receipt that verifies says exactly what the genuine one says.
func FuzzReceipt(f *testing.F) {
	r, _, s := testReceipt(f, 22)
	good, err := json.Marshal(r)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(bytes.Replace(good, []byte(`"leafIndex":22`), []byte(`"leafIndex":23`), 1))
	f.Add([]byte(`{"proof":{"leafIndex":-1,"inclusion":["AAAA"]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var loose Receipt
		if json.Unmarshal(b, &loose) == nil {
			_ = VerifyReceipt(loose, s.VerifierKey())
		}
		got, err := ParseReceipt(b)
		if err != nil {
			return
		}
		if VerifyReceipt(got, s.VerifierKey()) == nil && !reflect.DeepEqual(got, r) {
			t.Fatalf("a different receipt verifies:\n%+v", got)
		}
	})
}
