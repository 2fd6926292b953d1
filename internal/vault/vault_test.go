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
	if err != nil || got != tk {
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
