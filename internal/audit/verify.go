package audit

import (
	"bytes"
	"encoding/hex"
	"fmt"
)

// Head is the chain's stored head: the position and hash of the last
// chained event. It is kept apart from the events so that deleting the
// newest events (truncation) is detected too.
type Head struct {
	Pos  int64
	Hash []byte
}

// Break describes the first place where a chain does not verify.
type Break struct {
	Pos    int64  // chain position where verification failed
	Seq    int64  // store sequence of the event found there (0 when missing)
	ID     string // event id found there ("" when missing)
	Reason string
}

func (b *Break) Error() string {
	if b.ID == "" {
		return fmt.Sprintf("audit chain broken at position %d: %s", b.Pos, b.Reason)
	}
	return fmt.Sprintf("audit chain broken at position %d (event %s, seq %d): %s", b.Pos, b.ID, b.Seq, b.Reason)
}

// Verifier recomputes a chain fed to it in position order. It holds only
// the previous hash, so chains of any length verify in constant memory.
type Verifier struct {
	pos  int64
	prev []byte
}

// NewVerifier returns a verifier for a chain starting at position 1.
func NewVerifier() *Verifier { return &Verifier{} }

// Add checks the next chained event. The first error is a *Break.
func (v *Verifier) Add(e *Event) error {
	want := v.pos + 1
	if e.ChainPos != want {
		if e.ChainPos > want {
			return &Break{Pos: want, Reason: fmt.Sprintf("position %d is missing (the next stored position is %d): an event was deleted", want, e.ChainPos)}
		}
		return &Break{Pos: e.ChainPos, Seq: e.Seq, ID: e.ID, Reason: "position appears twice or out of order"}
	}
	h := Hash(v.prev, want, e)
	if !bytes.Equal(h, e.ChainHash) {
		return &Break{Pos: want, Seq: e.Seq, ID: e.ID,
			Reason: fmt.Sprintf("stored hash %s, recomputed %s: the event, or one before it, was changed or reordered", short(e.ChainHash), short(h))}
	}
	v.pos, v.prev = want, h
	return nil
}

// Finish checks the chain against its stored head and returns the number
// of events verified.
func (v *Verifier) Finish(head Head) (int64, error) {
	switch {
	case head.Pos > v.pos:
		return v.pos, &Break{Pos: v.pos + 1, Reason: fmt.Sprintf("the head records %d events but the chain ends at %d: the newest events were deleted", head.Pos, v.pos)}
	case head.Pos < v.pos:
		return v.pos, &Break{Pos: head.Pos + 1, Reason: fmt.Sprintf("the chain has %d events but the head records %d: the head was rolled back", v.pos, head.Pos)}
	case head.Pos > 0 && !bytes.Equal(head.Hash, v.prev):
		return v.pos, &Break{Pos: head.Pos, Reason: "the head's hash does not match the last event's"}
	}
	return v.pos, nil
}

// Root returns the hash of the last verified event, hex; operators keep it
// outside the database to catch a rewrite of the whole chain.
func (v *Verifier) Root() string { return hex.EncodeToString(v.prev) }

func short(b []byte) string {
	s := hex.EncodeToString(b)
	if len(s) > 16 {
		s = s[:16]
	}
	if s == "" {
		return "(none)"
	}
	return s
}
