package vault

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestEnvelope(t *testing.T) {
	master, _ := NewKey()
	tk, wrapped, err := NewTenantKeys(master, "t1")
	if err != nil {
		t.Fatal(err)
	}
	got, err := OpenTenantKeys(master, "t1", wrapped)
	if err != nil || got.Enc != tk.Enc || got.Index != tk.Index || got.Version != 1 {
		t.Fatalf("tenant keys round trip: %v", err)
	}
	if _, err := OpenTenantKeys(master, "t2", wrapped); !errors.Is(err, ErrUnreadable) {
		t.Fatalf("tenant keys opened for another tenant: %v", err)
	}
	other, _ := NewKey()
	if _, err := OpenTenantKeys(other, "t1", wrapped); !errors.Is(err, ErrUnreadable) {
		t.Fatalf("tenant keys opened with a wrong master key: %v", err)
	}

	ck, wck, err := NewContactKey(tk, "t1", "c1")
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := ck.Seal("phone", []byte("+4520123456"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("20123456")) {
		t.Fatal("plaintext visible in ciphertext")
	}
	ck2, err := OpenContactKey(tk, "t1", "c1", wck)
	if err != nil {
		t.Fatal(err)
	}
	pt, err := ck2.Open("phone", sealed)
	if err != nil || string(pt) != "+4520123456" {
		t.Fatalf("open = %q, %v", pt, err)
	}
	// The associated data binds the field and the contact.
	if _, err := ck2.Open("email", sealed); !errors.Is(err, ErrUnreadable) {
		t.Fatal("ciphertext opened as another field")
	}
	if _, err := OpenContactKey(tk, "t1", "c2", wck); !errors.Is(err, ErrUnreadable) {
		t.Fatal("contact key opened for another contact")
	}
	// A flipped bit anywhere is detected, never a plaintext fallback.
	for i := range sealed {
		bad := bytes.Clone(sealed)
		bad[i] ^= 1
		if _, err := ck2.Open("phone", bad); !errors.Is(err, ErrUnreadable) {
			t.Fatalf("corruption at byte %d not detected", i)
		}
	}
	if _, err := OpenContactKey(tk, "t1", "c1", nil); !errors.Is(err, ErrShredded) {
		t.Fatal("destroyed key not reported as shredded")
	}
}

func TestBlindIndex(t *testing.T) {
	k1, _ := NewKey()
	k2, _ := NewKey()
	a, b := NewBlindIndexer(k1), NewBlindIndexer(k2)
	if a.Sum("phone", "+4520123456") != a.Sum("phone", "+4520123456") {
		t.Fatal("blind index not deterministic")
	}
	if a.Sum("phone", "+4520123456") == a.Sum("whatsapp", "+4520123456") {
		t.Fatal("kind not bound into the blind index")
	}
	if a.Sum("phone", "+4520123456") == b.Sum("phone", "+4520123456") {
		t.Fatal("two tenants share a blind index")
	}
}

func TestMasterKeyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", MasterKeyFileName)
	k, created, err := LoadOrCreateMasterKey(path)
	if err != nil || !created {
		t.Fatalf("create: %v %v", created, err)
	}
	k2, created, err := LoadOrCreateMasterKey(path)
	if err != nil || created || k2 != k {
		t.Fatalf("reload: %v %v", created, err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadMasterKey(path); err == nil {
		t.Fatal("world-readable master key accepted")
	}
	if err := os.WriteFile(path, []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, 0o600)
	if _, err := LoadMasterKey(path); err == nil {
		t.Fatal("malformed master key accepted")
	}
}

func FuzzOpen(f *testing.F) {
	k, _ := NewKey()
	s, _ := Seal(k, []byte("x"), nil)
	f.Add(s)
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		if pt, err := Open(k, b, nil); err == nil && !bytes.Equal(b, s) {
			t.Fatalf("forged ciphertext opened: %q", pt)
		}
	})
}

func BenchmarkContactCreateCrypto(b *testing.B) {
	master, _ := NewKey()
	tk, _, _ := NewTenantKeys(master, "t1")
	bi := NewBlindIndexer(tk.Index)
	for b.Loop() {
		ck, _, err := NewContactKey(tk, "t1", "01JDEMO")
		if err != nil {
			b.Fatal(err)
		}
		bi.Sum("phone", "+4520123456")
		if _, err := ck.Seal("phone", []byte("+4520123456")); err != nil {
			b.Fatal(err)
		}
	}
}

func TestKeyringRotation(t *testing.T) {
	master, _ := NewKey()
	tk, _, err := NewTenantKeys(master, "t1")
	if err != nil {
		t.Fatal(err)
	}
	// A v1 keyring (the bare 64 bytes) still opens, as version 1.
	legacy, _ := Seal(master, append(append([]byte{}, tk.Enc[:]...), tk.Index[:]...), tenantAAD("t1"))
	old, err := OpenTenantKeys(master, "t1", legacy)
	if err != nil || old.Enc != tk.Enc || old.Data != tk.Enc || old.Version != 1 {
		t.Fatalf("legacy keyring: %v", err)
	}
	tk = old
	ck, wrapped, _ := NewContactKey(tk, "t1", "c1")
	sealed, _ := ck.Seal("phone", []byte("+4520123456"))

	rot, err := tk.RotateData()
	if err != nil || rot.Data == tk.Data || rot.Enc != tk.Enc || rot.Index != tk.Index || rot.Version != 2 || len(rot.Retired) != 1 {
		t.Fatalf("rotate: %+v %v", rot.Version, err)
	}
	blob, err := SealTenantKeys(master, "t1", rot)
	if err != nil {
		t.Fatal(err)
	}
	back, err := OpenTenantKeys(master, "t1", blob)
	if err != nil || back.Data != rot.Data || back.Enc != tk.Enc || back.Version != 2 || len(back.Retired) != 1 || back.Retired[0] != tk.Enc {
		t.Fatalf("keyring round trip: %v", err)
	}
	// During the rotation the old wrapping still opens.
	if _, err := OpenContactKey(back, "t1", "c1", wrapped); err != nil {
		t.Fatalf("retired key does not open: %v", err)
	}
	nw, changed, err := back.Rewrap("t1", "c1", wrapped)
	if err != nil || !changed {
		t.Fatalf("rewrap: %v %v", changed, err)
	}
	if _, changed, _ := back.Rewrap("t1", "c1", nw); changed {
		t.Fatal("rewrapped twice")
	}
	done := back.Retire()
	if _, err := OpenContactKey(done, "t1", "c1", wrapped); !errors.Is(err, ErrUnreadable) {
		t.Fatal("the retired key still opens after Retire")
	}
	ck2, err := OpenContactKey(done, "t1", "c1", nw)
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := ck2.Open("phone", sealed); err != nil || string(pt) != "+4520123456" {
		t.Fatalf("data sealed before the rotation: %q %v", pt, err)
	}
}
