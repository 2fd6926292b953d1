package ledger

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// ErrBadCheckpoint is wrapped by every error from ParseCheckpoint, so callers
// can tell "this is not a valid checkpoint for that key" from I/O failures.
var ErrBadCheckpoint = errors.New("ledger: bad checkpoint")

// statementHeader starts the text of a signed receipt statement. Origins may
// not start with it, so a statement can never be read as a checkpoint (whose
// first line is the origin) nor a checkpoint as a statement.
const statementHeader = "consentgate-receipt/v1"

// Checkpoint is a signed tree head: the log's size and root hash at one
// moment. The text follows C2SP tlog-checkpoint (origin, size, base64 root)
// with two extension lines: "seq N", which numbers checkpoints so a deleted
// or reordered checkpoint is noticed, and "time T", the operator's claim of
// when the tree had this size.
type Checkpoint struct {
	Origin string    // log identity, also the signing key's name
	Size   int64     // number of leaves in the tree
	Root   tlog.Hash // RFC 6962 root hash of the first Size leaves
	Seq    int64     // 0 for the first checkpoint, then 1, 2, ...
	Time   time.Time // UTC; non-decreasing along Seq
}

// Text returns the checkpoint's note text, the bytes that get signed.
func (c Checkpoint) Text() []byte {
	return fmt.Appendf(nil, "%s\n%d\n%s\nseq %d\ntime %s\n",
		c.Origin, c.Size, c.Root, c.Seq, c.Time.UTC().Format(time.RFC3339Nano))
}

// isPlainText reports whether s is valid UTF-8 without control characters,
// the only text a signed note line may carry.
func isPlainText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// GenerateKey returns a new Ed25519 signer key and its public verifier key
// in the golang.org/x/mod/sumdb/note encodings ("PRIVATE+KEY+origin+hash+key"
// and "origin+hash+key"). The origin names the log, for example
// "consentgate.example/ledger"; the verifier key is what receipt holders and
// auditors need, the signer key stays secret.
func GenerateKey(origin string) (skey, vkey string, err error) {
	if err := checkOrigin(origin); err != nil {
		return "", "", err
	}
	return note.GenerateKey(rand.Reader, origin)
}

// checkOrigin keeps origins to the conservative subset of note names that is
// safe in URLs, file names and log lines, and away from the statement header.
func checkOrigin(origin string) error {
	if !isToken(strings.ReplaceAll(origin, "/", "."), 255, false) {
		return fmt.Errorf("ledger: origin %q: want letters, digits and . _ : - /", origin)
	}
	if strings.HasPrefix(origin, statementHeader[:len("consentgate-receipt")]) {
		return fmt.Errorf("ledger: origin %q is reserved", origin)
	}
	return nil
}

// Signer signs checkpoints and receipt statements with the log's Ed25519 key.
// It also knows its own verifier key, so a node can check what it signed and
// hand the public key out without a second configuration value.
type Signer struct {
	ns   note.Signer
	vkey string
}

// NewSigner parses a signer key as produced by GenerateKey.
func NewSigner(skey string) (*Signer, error) {
	ns, err := note.NewSigner(skey)
	if err != nil {
		return nil, fmt.Errorf("ledger: signer key: %w", err)
	}
	if err := checkOrigin(ns.Name()); err != nil {
		return nil, err
	}
	// note.Signer does not expose the public key, so derive it from the
	// seed: "PRIVATE+KEY+name+hash+base64(0x01 || seed)".
	parts := strings.SplitN(skey, "+", 5)
	raw, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil || len(raw) != 1+ed25519.SeedSize || raw[0] != 1 {
		return nil, errors.New("ledger: signer key: not an Ed25519 key")
	}
	pub := ed25519.NewKeyFromSeed(raw[1:]).Public().(ed25519.PublicKey)
	vkey, err := note.NewEd25519VerifierKey(ns.Name(), pub)
	if err != nil {
		return nil, fmt.Errorf("ledger: signer key: %w", err)
	}
	return &Signer{ns: ns, vkey: vkey}, nil
}

// Origin returns the log identity the signer signs for.
func (s *Signer) Origin() string { return s.ns.Name() }

// VerifierKey returns the public verifier key matching the signer.
func (s *Signer) VerifierKey() string { return s.vkey }

// Sign returns c as a signed note. The origin must be the signer's name,
// because verifiers look the key up by the origin.
func (s *Signer) Sign(c Checkpoint) ([]byte, error) {
	if c.Origin != s.Origin() {
		return nil, fmt.Errorf("ledger: checkpoint origin %q, signer is %q", c.Origin, s.Origin())
	}
	if c.Size < 0 || c.Seq < 0 || c.Time.IsZero() || c.Time.UTC().Year() > 9999 {
		return nil, fmt.Errorf("ledger: checkpoint seq %d size %d time %v: out of range", c.Seq, c.Size, c.Time)
	}
	return note.Sign(&note.Note{Text: string(c.Text())}, s.ns)
}

// ParseCheckpoint verifies signed against verifierKey and parses it. It is
// strict: the origin must be the key's name, the text must be exactly what
// Checkpoint.Text produces, and the signature lines must be canonical and
// unique, so no two different byte strings pass for the same checkpoint.
// Signatures by other keys are rejected too: a witness cosignature scheme
// would pass its keys explicitly rather than have unknown lines ride along.
func ParseCheckpoint(signed []byte, verifierKey string) (Checkpoint, error) {
	v, err := note.NewVerifier(verifierKey)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("%w: verifier key: %v", ErrBadCheckpoint, err)
	}
	return parseCheckpoint(signed, v)
}

func parseCheckpoint(signed []byte, v note.Verifier) (Checkpoint, error) {
	n, err := openNote(signed, v)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("%w: %v", ErrBadCheckpoint, err)
	}
	lines := strings.Split(strings.TrimSuffix(n.Text, "\n"), "\n")
	if len(lines) != 5 {
		return Checkpoint{}, fmt.Errorf("%w: %d text lines, want 5", ErrBadCheckpoint, len(lines))
	}
	c := Checkpoint{Origin: lines[0]}
	if c.Origin != v.Name() {
		return Checkpoint{}, fmt.Errorf("%w: origin %q, key is for %q", ErrBadCheckpoint, c.Origin, v.Name())
	}
	if c.Size, err = parseCanonicalInt(lines[1]); err != nil {
		return Checkpoint{}, fmt.Errorf("%w: size: %v", ErrBadCheckpoint, err)
	}
	if c.Root, err = parseHash(lines[2]); err != nil {
		return Checkpoint{}, fmt.Errorf("%w: root: %v", ErrBadCheckpoint, err)
	}
	seq, ok := strings.CutPrefix(lines[3], "seq ")
	if c.Seq, err = parseCanonicalInt(seq); !ok || err != nil {
		return Checkpoint{}, fmt.Errorf("%w: line 4: want \"seq N\"", ErrBadCheckpoint)
	}
	ts, ok := strings.CutPrefix(lines[4], "time ")
	if c.Time, err = parseCanonicalTime(ts); !ok || err != nil || c.Time.IsZero() {
		return Checkpoint{}, fmt.Errorf("%w: line 5: want \"time <UTC RFC 3339>\"", ErrBadCheckpoint)
	}
	if !bytes.Equal(c.Text(), []byte(n.Text)) {
		return Checkpoint{}, fmt.Errorf("%w: text is not canonical", ErrBadCheckpoint)
	}
	return c, nil
}

// openNote verifies a signed note with v and rejects the malleable forms
// note.Open tolerates: signatures by other keys, duplicate signature lines and
// base64 with non-zero padding bits. It thereby accepts exactly one byte
// string per signed text. Its errors are bare; callers say what the note was.
func openNote(signed []byte, v note.Verifier) (*note.Note, error) {
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		var unverified *note.UnverifiedNoteError
		if errors.As(err, &unverified) {
			return nil, fmt.Errorf("no signature by %s", v.Name())
		}
		return nil, err
	}
	if len(n.UnverifiedSigs) > 0 {
		return nil, fmt.Errorf("signature by unknown key %s", n.UnverifiedSigs[0].Name)
	}
	sigs := signed[len(n.Text)+1:]
	count := 0
	for line := range strings.SplitSeq(strings.TrimSuffix(string(sigs), "\n"), "\n") {
		b64 := line[strings.LastIndexByte(line, ' ')+1:]
		if _, err := base64.StdEncoding.Strict().DecodeString(b64); err != nil {
			return nil, errors.New("non-canonical signature encoding")
		}
		count++
	}
	if count != len(n.Sigs) {
		return nil, errors.New("duplicate signature lines")
	}
	return n, nil
}

// parseCanonicalInt parses a non-negative decimal without sign or leading
// zeros, the only form the ledger writes.
func parseCanonicalInt(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != s {
		return 0, fmt.Errorf("%q is not a canonical non-negative decimal", s)
	}
	return n, nil
}

// parseHash decodes a base64 hash strictly (padding bits must be zero).
func parseHash(s string) (tlog.Hash, error) {
	var h tlog.Hash
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != tlog.HashSize {
		return h, fmt.Errorf("%q is not a base64 SHA-256 hash", s)
	}
	copy(h[:], b)
	return h, nil
}
