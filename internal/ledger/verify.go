package ledger

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// ErrTampered is wrapped by the error Verify returns when the stored ledger
// is inconsistent, as opposed to when storage could not be read.
var ErrTampered = errors.New("ledger: verification failed")

// verifyChunk is how many leaves Verify reads per storage call. Verify holds
// one chunk and a frontier of at most 63 hashes, so its memory is constant
// whatever the size of the tree.
const verifyChunk = 8192

// maxProblems bounds Report.Problems; one altered leaf also changes every
// interior hash and root above it, and the first findings are what matter.
const maxProblems = 100

// checkpointPage is how many checkpoints Verify reads per storage call.
const checkpointPage = 256

// Report is what Verify checked and found.
type Report struct {
	TreeSize      int64     // leaves in storage
	Root          tlog.Hash // root recomputed from the stored leaves
	Hashes        int64     // stored hashes compared with recomputed ones
	Checkpoints   int64     // stored checkpoints examined
	Anchors       int       // trusted checkpoints examined
	Problems      []string  // the first findings, in the order found
	TotalProblems int       // all findings, including those not listed
}

// VerifyError lists what Verify found wrong; it wraps ErrTampered.
type VerifyError struct {
	Problems []string
	Total    int
}

// Error names the first problem and how many more there are, so one log
// line tells an operator where to start.
func (e *VerifyError) Error() string {
	if e.Total <= 1 {
		return fmt.Sprintf("%v: %s", ErrTampered, e.Problems[0])
	}
	return fmt.Sprintf("%v: %s (and %d more problems)", ErrTampered, e.Problems[0], e.Total-1)
}

// Unwrap lets callers test errors.Is(err, ErrTampered).
func (e *VerifyError) Unwrap() error { return ErrTampered }

// Verify checks a stored ledger from scratch, trusting nothing but the
// verifier key: it recomputes every stored hash from the stored leaves (and
// checks each leaf decodes), checks each stored checkpoint's signature,
// numbering, time order and root against the recomputed tree, and checks
// consistency proofs between successive checkpoints.
//
// Anchors are signed checkpoints obtained outside the store: from receipts,
// a witness or an earlier export. Each must be in storage unchanged and match
// the tree. Without an anchor, deleting the newest checkpoints together with
// the leaves after the remaining ones cannot be told from a shorter log.
//
// A non-nil error wrapping ErrTampered means the ledger is inconsistent; the
// Report then lists the findings. Any other error means storage failed.
func Verify(ctx context.Context, s Storage, verifierKey string, anchors ...[]byte) (Report, error) {
	v, err := note.NewVerifier(verifierKey)
	if err != nil {
		return Report{}, fmt.Errorf("ledger: verify: verifier key: %w", err)
	}
	w := &walker{ctx: ctx, s: s, v: v}
	if w.rep.TreeSize, err = s.TreeSize(ctx); err != nil {
		return w.rep, fmt.Errorf("ledger: verify: tree size: %w", err)
	}
	if err := w.loadAnchors(anchors); err != nil {
		return w.rep, err
	}
	if err := w.walk(); err != nil {
		return w.rep, err
	}
	if w.rep.TotalProblems > 0 {
		return w.rep, &VerifyError{Problems: w.rep.Problems, Total: w.rep.TotalProblems}
	}
	return w.rep, nil
}

// target is a root some checkpoint claims for the tree at a given size.
// Stored checkpoints also carry their valid predecessor, whose consistency
// with them is checked once the root itself has been checked.
type target struct {
	label     string
	cp        Checkpoint
	prev      *Checkpoint
	prevLabel string
}

// frontierNode is one perfect-subtree root of the recomputed tree.
type frontierNode struct {
	index int64 // stored-hash index
	hash  tlog.Hash
}

// walker carries Verify's state through one pass over the storage.
type walker struct {
	ctx       context.Context
	s         Storage
	v         note.Verifier
	rep       Report
	frontier  []frontierNode
	anchors   []target           // sorted by size
	stored    *target            // next stored checkpoint awaiting its size, if any
	seq       int64              // next stored checkpoint to read
	cpBuf     []StoredCheckpoint // read ahead, starting at seq
	prev      *Checkpoint        // last valid stored checkpoint
	prevLabel string
	cpDone    bool
	walked    int64 // leaves recomputed so far
}

func (w *walker) problem(format string, args ...any) {
	w.rep.TotalProblems++
	if len(w.rep.Problems) < maxProblems {
		w.rep.Problems = append(w.rep.Problems, fmt.Sprintf(format, args...))
	}
}

// loadAnchors checks each trusted checkpoint and that storage still holds it.
func (w *walker) loadAnchors(anchors [][]byte) error {
	for i, a := range anchors {
		w.rep.Anchors++
		c, err := parseCheckpoint(a, w.v)
		if err != nil {
			w.problem("trusted checkpoint %d: %v", i, err)
			continue
		}
		label := fmt.Sprintf("trusted checkpoint %d (seq %d, size %d)", i, c.Seq, c.Size)
		got, err := w.s.ReadCheckpoints(w.ctx, c.Seq, 1)
		switch {
		case err != nil:
			return fmt.Errorf("ledger: verify: reading checkpoint %d: %w", c.Seq, err)
		case len(got) == 0:
			w.problem("%s: missing from storage (checkpoints deleted?)", label)
		case !bytes.Equal(got[0].Note, a):
			w.problem("%s: differs from stored checkpoint %d", label, c.Seq)
		}
		w.anchors = append(w.anchors, target{label: label, cp: c})
	}
	slices.SortStableFunc(w.anchors, func(a, b target) int { return cmp.Compare(a.cp.Size, b.cp.Size) })
	return nil
}

// walk streams the leaves in chunks, recomputing and comparing hashes and
// checking every checkpoint root when the recomputed tree reaches its size.
func (w *walker) walk() error {
	if err := w.checkRoots(0); err != nil {
		return err
	}
	for start := int64(0); start < w.rep.TreeSize; {
		leaves, err := w.s.ReadLeaves(w.ctx, start, verifyChunk)
		if err != nil {
			return fmt.Errorf("ledger: verify: reading leaves from %d: %w", start, err)
		}
		if len(leaves) == 0 {
			w.problem("tree size %d but no leaves readable from %d", w.rep.TreeSize, start)
			break
		}
		stop, err := w.walkChunk(start, leaves)
		if err != nil {
			return err
		}
		if stop {
			break
		}
		start += int64(len(leaves))
	}
	w.rep.Root = w.root()
	why := fmt.Sprintf("beyond the %d leaves in storage (leaves truncated?)", w.walked)
	if w.walked < w.rep.TreeSize {
		why = fmt.Sprintf("not checked: verification stopped after %d leaves", w.walked)
	}
	for {
		t, ok, err := w.nextTarget()
		if err != nil || !ok {
			return err
		}
		w.problem("%s: %s", t.label, why)
	}
}

// walkChunk verifies the leaves starting at index start. It reads their
// stored hashes in one call; if some are missing it falls back to one call
// per leaf to name the first leaf without its hashes, and reports stop.
func (w *walker) walkChunk(start int64, leaves [][]byte) (stop bool, err error) {
	end := start + int64(len(leaves))
	lo := tlog.StoredHashIndex(0, start)
	stored, err := w.s.ReadHashes(w.ctx, indexRange(lo, tlog.StoredHashIndex(0, end)))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return false, fmt.Errorf("ledger: verify: reading hashes of leaves %d..%d: %w", start, end-1, err)
	}
	for i, leaf := range leaves {
		n := start + int64(i)
		base := tlog.StoredHashIndex(0, n)
		hs := stored[min(base-lo, int64(len(stored))):]
		if stored == nil {
			hs, err = w.s.ReadHashes(w.ctx, indexRange(base, tlog.StoredHashIndex(0, n+1)))
			if errors.Is(err, ErrNotFound) {
				w.problem("leaf %d: stored hashes missing (%v)", n, bare(err))
				return true, nil
			}
			if err != nil {
				return false, fmt.Errorf("ledger: verify: reading hashes of leaf %d: %w", n, err)
			}
		}
		if err := w.addLeaf(n, leaf, hs); err != nil {
			return false, err
		}
		w.walked = n + 1
		if err := w.checkRoots(n + 1); err != nil {
			return false, err
		}
	}
	return false, nil
}

func indexRange(lo, hi int64) []int64 {
	idx := make([]int64, 0, hi-lo)
	for x := lo; x < hi; x++ {
		idx = append(idx, x)
	}
	return idx
}

// bare drops the package prefix from a nested error, for readable problems.
func bare(err error) string { return strings.TrimPrefix(err.Error(), "ledger: ") }

// addLeaf recomputes the stored hashes of leaf n with tlog and compares them
// with the stored ones, which start at stored[0].
func (w *walker) addLeaf(n int64, leaf []byte, stored []tlog.Hash) error {
	if _, err := DecodeLeaf(leaf); err != nil {
		w.problem("leaf %d: %v", n, bare(err))
	}
	hs, err := tlog.StoredHashesForRecordHash(n, tlog.RecordHash(leaf), tlog.HashReaderFunc(w.readFrontier))
	if err != nil {
		return fmt.Errorf("ledger: verify: leaf %d: %w", n, err)
	}
	for k, h := range hs {
		w.rep.Hashes++
		switch {
		case k >= len(stored):
			w.problem("leaf %d: stored hash %d missing", n, tlog.StoredHashIndex(0, n)+int64(k))
		case stored[k] != h && k == 0:
			w.problem("leaf %d: stored hash differs from recomputed", n)
		case stored[k] != h:
			w.problem("leaf %d: stored interior hash (level %d, node %d) differs from recomputed", n, k, n>>k)
		}
	}
	m := len(hs) - 1
	w.frontier = append(w.frontier[:len(w.frontier)-m], frontierNode{tlog.StoredHashIndex(0, n) + int64(m), hs[m]})
	return nil
}

// readFrontier serves tlog the recomputed (never the stored) sibling hashes.
func (w *walker) readFrontier(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		j := slices.IndexFunc(w.frontier, func(f frontierNode) bool { return f.index == x })
		if j < 0 {
			return nil, fmt.Errorf("hash %d not on the frontier", x)
		}
		out[i] = w.frontier[j].hash
	}
	return out, nil
}

// root folds the frontier into the root of the tree walked so far, exactly
// as tlog.TreeHash folds the stored frontier.
func (w *walker) root() tlog.Hash {
	if len(w.frontier) == 0 {
		return emptyRoot
	}
	h := w.frontier[len(w.frontier)-1].hash
	for i := len(w.frontier) - 2; i >= 0; i-- {
		h = tlog.NodeHash(w.frontier[i].hash, h)
	}
	return h
}

// checkRoots compares the recomputed root of the first n leaves with every
// checkpoint of size n.
func (w *walker) checkRoots(n int64) error {
	for {
		t, ok, err := w.peekTarget()
		if err != nil || !ok || t.cp.Size > n {
			return err
		}
		w.popTarget()
		switch {
		case t.cp.Size < n:
			w.problem("%s: out of order, root not checked", t.label)
		case t.cp.Root != w.root():
			w.problem("%s: root mismatch", t.label)
		}
		if p := t.prev; p != nil && p.Size > 0 {
			proof, err := tlog.ProveTree(t.cp.Size, p.Size, hashReader(w.ctx, w.s))
			if err == nil {
				err = VerifyConsistency(*p, t.cp, proof)
			}
			if err != nil {
				w.problem("%s: not consistent with %s: %v", t.label, t.prevLabel, bare(err))
			}
		}
	}
}

func (w *walker) nextTarget() (target, bool, error) {
	t, ok, err := w.peekTarget()
	if ok {
		w.popTarget()
	}
	return t, ok, err
}

// peekTarget returns the pending target with the smallest size, reading the
// next valid stored checkpoint when none is pending.
func (w *walker) peekTarget() (target, bool, error) {
	for w.stored == nil && !w.cpDone {
		if err := w.readCheckpoint(); err != nil {
			return target{}, false, err
		}
	}
	switch {
	case w.stored != nil && (len(w.anchors) == 0 || w.stored.cp.Size <= w.anchors[0].cp.Size):
		return *w.stored, true, nil
	case len(w.anchors) > 0:
		return w.anchors[0], true, nil
	}
	return target{}, false, nil
}

func (w *walker) popTarget() {
	if w.stored != nil && (len(w.anchors) == 0 || w.stored.cp.Size <= w.anchors[0].cp.Size) {
		w.stored = nil
	} else {
		w.anchors = w.anchors[1:]
	}
}

// readCheckpoint reads stored checkpoint w.seq, checks everything that can be
// checked without the leaves, and makes it the pending stored target.
func (w *walker) readCheckpoint() error {
	if len(w.cpBuf) == 0 {
		got, err := w.s.ReadCheckpoints(w.ctx, w.seq, checkpointPage)
		if err != nil {
			return fmt.Errorf("ledger: verify: reading checkpoints from %d: %w", w.seq, err)
		}
		if len(got) == 0 {
			w.cpDone = true
			return nil
		}
		w.cpBuf = got
	}
	seq, sc := w.seq, w.cpBuf[0]
	w.cpBuf = w.cpBuf[1:]
	w.seq++
	w.rep.Checkpoints++
	c, err := parseCheckpoint(sc.Note, w.v)
	if err != nil {
		w.problem("checkpoint %d: %v", seq, strings.TrimPrefix(err.Error(), ErrBadCheckpoint.Error()+": "))
		return nil
	}
	label := fmt.Sprintf("checkpoint %d (size %d)", seq, c.Size)
	if sc.Seq != seq || c.Seq != seq {
		w.problem("checkpoint %d: holds seq %d (stored) / %d (signed): checkpoints deleted or reordered?", seq, sc.Seq, c.Seq)
	}
	if sc.Size != c.Size {
		w.problem("%s: stored size %d differs from signed size", label, sc.Size)
	}
	t := &target{label: label, cp: c}
	if p := w.prev; p != nil {
		if c.Time.Before(p.Time) {
			w.problem("%s: time %s is before %s's %s", label, c.Time.Format(time.RFC3339Nano), w.prevLabel, p.Time.Format(time.RFC3339Nano))
		}
		if c.Size < p.Size {
			w.problem("%s: smaller than %s", label, w.prevLabel)
			return nil
		}
		t.prev, t.prevLabel = p, w.prevLabel
	}
	w.prev, w.prevLabel = &c, label
	w.stored = t
	return nil
}
