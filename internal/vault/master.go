package vault

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// MasterKeyFileName is the file the master key is generated into when no
// key file is configured.
const MasterKeyFileName = "master.key"

// LoadMasterKey reads a base64 master key from path. It refuses a file
// readable by others than its owner, a key of the wrong size, and a missing
// file: starting with a different key would make all data unreadable.
func LoadMasterKey(path string) (Key, error) {
	var k Key
	st, err := os.Stat(path)
	if err != nil {
		return k, fmt.Errorf("master key %s: %w", path, err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return k, fmt.Errorf("master key %s: permissions %v are too open (want 0600)", path, st.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return k, fmt.Errorf("master key %s: %w", path, err)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(raw) != KeySize {
		return k, fmt.Errorf("master key %s: not a base64-encoded 32-byte key", path)
	}
	copy(k[:], raw)
	return k, nil
}

// LoadOrCreateMasterKey loads the key at path, creating it (0600) when the
// file does not exist. created tells the caller to warn the operator loudly:
// a generated key lives beside the data it protects and must be backed up
// separately.
func LoadOrCreateMasterKey(path string) (k Key, created bool, err error) {
	k, err = LoadMasterKey(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return k, false, err
	}
	if k, err = NewKey(); err != nil {
		return k, false, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return k, false, err
	}
	// O_EXCL: two processes starting at once must not each write a key.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		k, err = LoadMasterKey(path)
		return k, false, err
	}
	if err != nil {
		return k, false, fmt.Errorf("master key %s: %w", path, err)
	}
	_, werr := f.WriteString(base64.StdEncoding.EncodeToString(k[:]) + "\n")
	if serr := f.Sync(); werr == nil {
		werr = serr
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return k, false, fmt.Errorf("master key %s: %w", path, werr)
	}
	return k, true, nil
}
