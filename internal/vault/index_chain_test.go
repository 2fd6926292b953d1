package vault

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"
)

// TestIndexRotationPhases walks a keyring through two rotations of the
// index key and checks, at each phase, what is written and looked up, that
// the keyring survives sealing, and that every stored form moves forward
// to the value a fresh computation gives.
func TestIndexRotationPhases(t *testing.T) {
	master, _ := NewKey()
	tk, _, err := NewTenantKeys(master, "t1")
	if err != nil {
		t.Fatal(err)
	}
	reopen := func(tk TenantKeys) TenantKeys {
		t.Helper()
		blob, err := SealTenantKeys(master, "t1", tk)
		if err != nil {
			t.Fatal(err)
		}
		back, err := OpenTenantKeys(master, "t1", blob)
		if err != nil {
			t.Fatal(err)
		}
		return back
	}
	v0 := NewIndexChain(tk).Forms("phone", "+4520123456")
	stored0 := v0.Stored()
	if len(stored0) != 32 || len(v0.Lookups()) != 1 {
		t.Fatalf("version 0: %d bytes, %d lookups", len(stored0), len(v0.Lookups()))
	}
	// Version 0 is the blind index as it always was.
	if want := NewBlindIndexer(tk.Index).Sum("phone", "+4520123456"); !bytes.Equal(stored0, want[:]) {
		t.Fatal("version 0 is not the plain blind index")
	}

	a, err := tk.AnnounceIndex()
	if err != nil {
		t.Fatal(err)
	}
	a = reopen(a)
	if a.IndexPhase() != IndexAnnounced || a.Version != tk.Version+1 || a.Index != tk.Index || a.Enc != tk.Enc || a.Data != tk.Data {
		t.Fatalf("announced: phase %d version %d", a.IndexPhase(), a.Version)
	}
	if _, err := a.AnnounceIndex(); err == nil {
		t.Fatal("a second rotation started while one runs")
	}
	ca := NewIndexChain(a)
	fa := ca.Forms("phone", "+4520123456")
	if !bytes.Equal(fa.Stored(), stored0) {
		t.Fatal("announced: the old version is not the one written")
	}
	l := fa.Lookups()
	if len(l) != 2 || !bytes.Equal(l[0], stored0) || len(l[1]) != 33 || l[1][0] != 1 {
		t.Fatalf("announced lookups: %x", l)
	}
	// Version 1 is HMAC(K1, version 0), so a stored form moves forward alone.
	m := hmac.New(sha256.New, a.IndexNext[0][:])
	m.Write(stored0)
	if !bytes.Equal(l[1][1:], m.Sum(nil)) {
		t.Fatal("version 1 is not the chained HMAC of version 0")
	}

	s := reopen(a.SwitchIndex())
	cs := NewIndexChain(s)
	fs := cs.Forms("phone", "+4520123456")
	if s.IndexPhase() != IndexSwitched || !bytes.Equal(fs.Stored(), l[1]) || len(fs.Lookups()) != 2 {
		t.Fatalf("switched: phase %d", s.IndexPhase())
	}
	next, changed, err := cs.ForwardStored(stored0)
	if err != nil || !changed || !bytes.Equal(next, l[1]) {
		t.Fatalf("forward: %x %v %v", next, changed, err)
	}
	if again, changed, err := cs.ForwardStored(next); err != nil || changed || !bytes.Equal(again, next) {
		t.Fatal("a forwarded form moved again")
	}
	if !fs.Matches(stored0) || !fs.Matches(next) || fs.Matches(cs.Forms("phone", "+4520123457").Stored()) {
		t.Fatal("matches")
	}

	done := reopen(s.SettleIndex())
	cd := NewIndexChain(done)
	fd := cd.Forms("phone", "+4520123456")
	if done.IndexPhase() != IndexSteady || len(fd.Lookups()) != 1 || fd.Matches(stored0) || !fd.Matches(next) {
		t.Fatalf("settled: phase %d, lookups %d", done.IndexPhase(), len(fd.Lookups()))
	}

	// A second rotation chains on: version 2 from version 0 in two steps.
	a2, err := done.AnnounceIndex()
	if err != nil {
		t.Fatal(err)
	}
	c2 := NewIndexChain(reopen(a2.SwitchIndex().SettleIndex()))
	h2, err := c2.Forward(stored0, 2)
	if err != nil {
		t.Fatal(err)
	}
	f2 := c2.Forms("phone", "+4520123456")
	if cur, _ := f2.At(2); cur != h2 || !bytes.Equal(f2.Stored(), EncodeIndexForm(2, h2)) {
		t.Fatal("version 2 differs between forwarding and computing")
	}
	if prev, _ := f2.At(1); !bytes.Equal(EncodeIndexForm(1, prev), next) {
		t.Fatal("version 1 differs between forwarding and computing")
	}
	// A form of a version the chain does not know, and garbage.
	if _, err := cd.Forward(EncodeIndexForm(2, h2), 1); !errors.Is(err, ErrNewerIndexForm) {
		t.Fatalf("newer form: %v", err)
	}
	if _, err := cd.Forward([]byte("short"), 1); !errors.Is(err, ErrUnreadable) {
		t.Fatalf("garbage: %v", err)
	}
	// The link MACs stay on version 0 through every rotation.
	if c2.Base().Sum("k", "v") != NewBlindIndexer(tk.Index).Sum("k", "v") {
		t.Fatal("the base indexer changed")
	}
}

func TestKeyringFormats(t *testing.T) {
	master, _ := NewKey()
	tk, blob, err := NewTenantKeys(master, "t1")
	if err != nil {
		t.Fatal(err)
	}
	pt, err := Open(master, blob, tenantAAD("t1"))
	if err != nil || pt[0] != keyringFormat {
		t.Fatalf("a keyring without index rotations is not v2: %v", err)
	}
	a, _ := tk.AnnounceIndex()
	enc, err := encodeKeyring(a)
	if err != nil || enc[0] != keyringFormatIndex {
		t.Fatalf("v3: %v", err)
	}
	for i := range len(enc) {
		if i == 2*KeySize {
			continue // the v1 format's length
		}
		if _, err := decodeKeyring(enc[:i]); err == nil {
			t.Fatalf("a keyring cut to %d of %d bytes decodes", i, len(enc))
		}
	}
	bad := bytes.Clone(enc)
	bad[len(bad)-2] = 2 // low > write
	if _, err := decodeKeyring(bad); err == nil {
		t.Fatal("inconsistent index versions decode")
	}
	future := bytes.Clone(enc)
	future[0] = keyringFormatIndex + 1
	if _, err := decodeKeyring(future); !errors.Is(err, ErrKeyringFormat) {
		t.Fatalf("a keyring of a later format: %v", err)
	}
	incons := a
	incons.IndexLow = 2
	if _, err := encodeKeyring(incons); err == nil {
		t.Fatal("inconsistent index versions encode")
	}
}

func FuzzDecodeKeyring(f *testing.F) {
	tk, _, _ := NewTenantKeys(Key{1}, "t")
	v2, _ := encodeKeyring(tk)
	a, _ := tk.AnnounceIndex()
	v3, _ := encodeKeyring(a)
	f.Add(v2)
	f.Add(v3)
	f.Add(make([]byte, 64))
	f.Fuzz(func(t *testing.T, b []byte) {
		tk, err := decodeKeyring(b)
		if err != nil {
			return
		}
		if tk.IndexLow > tk.IndexWrite || tk.IndexWrite > len(tk.IndexNext) || len(tk.Retired) > maxRetired {
			t.Fatalf("decoded an inconsistent keyring: %+v", tk)
		}
		if len(b) == 64 {
			return // v1 is re-encoded as v2
		}
		again, err := encodeKeyring(tk)
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

func FuzzParseIndexForm(f *testing.F) {
	f.Add(make([]byte, 32))
	f.Add(append([]byte{1}, make([]byte, 32)...))
	f.Add([]byte{0})
	f.Fuzz(func(t *testing.T, b []byte) {
		v, h, ok := ParseIndexForm(b)
		if !ok {
			return
		}
		if v < 0 || v > MaxIndexVersion || !bytes.Equal(EncodeIndexForm(v, h), b) {
			t.Fatalf("%x parsed as version %d but does not encode back", b, v)
		}
	})
}

// BenchmarkForms is the blind index a decision computes, before any
// rotation and after one and three: one HMAC per version.
func BenchmarkForms(b *testing.B) {
	tk := TenantKeys{Index: Key{1}}
	for rotations := range 4 {
		if rotations == 0 || rotations == 1 || rotations == 3 {
			c := NewIndexChain(tk)
			b.Run(fmt.Sprintf("rotations=%d", rotations), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					c.Forms("phone", "+4520123456")
				}
			})
		}
		a, _ := tk.AnnounceIndex()
		tk = a.SwitchIndex().SettleIndex()
	}
}
