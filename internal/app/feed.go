package app

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/consentgate/consentgate/internal/index"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/oklog/ulid/v2"
)

// feed keeps the decision index current with consent events written by
// other processes on the same database: operator commands, and on
// PostgreSQL the other nodes. Events written by this process are applied at
// commit already; applying them again here is harmless because the index
// only moves a state forward.
//
// It polls ConsentEventsAfter every 500 ms, and at once when the store
// reports a commit (changeNotifier: PostgreSQL's LISTEN/NOTIFY), so that a
// change on one node reaches the others within milliseconds.
//
// Sequence numbers need care on PostgreSQL: they are handed out before
// commit, so a transaction can commit seq 11 after another committed 12, and
// a rolled-back insert leaves a gap for good. A plain "seq > cursor" poll
// would skip 11 for ever. The feed therefore remembers every seq below the
// highest it has seen that it has not seen yet (a gap), asks for exactly
// those on every poll, and gives a gap up only after a grace period (5 s).
// A gap given up is remembered for a while longer (10 min): the commit
// notification names the seqs it carries, so an event that commits later
// still is fetched then. On every (re)connection the feed also looks again
// at the gaps given up and at the last feedStartWindow seqs below where the
// index was loaded (events in flight during the load), since notifications
// may have been missed. SQLite commits in seq order and never leaves gaps;
// there the gap handling costs nothing.
//
// An event can be the first this node hears of its purpose or contact
// (created through another node): the feed loads them with it. Changes that
// are not consent events (a purpose edited, a contact created, restricted
// or rectified) are read by their update time on every poll
// (fetchChanged). Suppressions added by erasure travel as the erasure's
// marker event; others (none are made today but by erasure) at restart.
//
// The feed fails closed: when polls fail, or the notification connection is
// down, for longer than staleAfter (2 s), it marks the index not ready (every
// decision answers "unavailable"), and ready again once a poll made while
// listening has caught up.
type feed struct {
	st  store.Store
	ix  *index.Index
	log *slog.Logger
	now func() time.Time

	every       time.Duration // poll interval without notifications
	grace       time.Duration // how long a gap may stay open
	keep        time.Duration // how long a gap given up is remembered
	staleAfter  time.Duration // how long without a good poll before failing closed
	readTimeout time.Duration // bound on one read, so a hung database is noticed
	retryMax    time.Duration // longest pause between reconnections

	notifier changeNotifier // nil when the store has none
	wake     chan struct{}
	cancel   context.CancelFunc
	wg       sync.WaitGroup

	mu        sync.Mutex
	epoch     int        // changes at every connect and disconnect of the listener
	listening bool       // the listener is connected
	notes     []seqRange // committed seq ranges reported and not yet looked at
	notesLost bool       // notes overflowed: look at every gap given up

	// Owned by the polling goroutine.
	base      int64      // highest seq when the index was loaded
	hi        int64      // highest seq seen
	pending   []seqRange // seqs in (base, hi] not seen yet, oldest first
	abandoned []seqRange // gaps given up, kept for late notifications
	recheck   []seqRange // ranges notes asked to look at, until a poll succeeds
	epochSeen int        // the listener epoch the last good poll ran in
	lastGood  time.Time  // end of the last good poll
	failed    bool       // the feed marked the index not ready
	changedAt time.Time  // purposes and contacts changed at or after this are read next
}

// changeNotifier is implemented by stores that can report commits of
// consent events by other processes (internal/store/postgres). It keeps
// internal/app free of any driver.
type changeNotifier interface {
	// ListenConsentChanges calls ready once listening, then changed for
	// every commit with its lowest and highest seq, until ctx ends (nil)
	// or the connection fails (an error).
	ListenConsentChanges(ctx context.Context, ready func(), changed func(lo, hi int64)) error
}

// seqRange is an inclusive range of sequence numbers; since is when it was
// first found missing (or given up, for abandoned ranges).
type seqRange struct {
	lo, hi int64
	since  time.Time
}

const (
	feedPage        = 1000   // events per query
	feedPagesPerTx  = 5      // queries per read transaction
	feedStartWindow = 10_000 // seqs below base looked at again on (re)connection
	feedMaxNotes    = 4096   // notes kept between two polls
	feedMaxRanges   = 10_000 // gaps and gaps given up kept at most

	// Purposes and contacts are read by change time, on the store's clock
	// (store.ChangesTx), and can commit out of order: each read goes back
	// changeOverlap, and the first one changeStartWindow before the store's
	// clock read just before the index was loaded.
	changeOverlap     = 10 * time.Second
	changeStartWindow = 5 * time.Minute
)

// newFeed makes the feed for an index loaded at seq cursor; changedFrom is
// the store's change clock read just before the load (changeClock).
func newFeed(st store.Store, ix *index.Index, cursor int64, changedFrom time.Time, log *slog.Logger) *feed {
	f := &feed{st: st, ix: ix, log: log, now: time.Now, base: cursor, hi: cursor,
		every: 500 * time.Millisecond, grace: 5 * time.Second, keep: 10 * time.Minute,
		staleAfter: 2 * time.Second, readTimeout: 2 * time.Second, retryMax: 2 * time.Second,
		wake: make(chan struct{}, 1), epochSeen: -1, changedAt: changedFrom.Add(-changeStartWindow)}
	if n, ok := st.(changeNotifier); ok {
		f.notifier = n
	} else {
		f.epochSeen = 0 // nothing to listen to: every successful poll is good
	}
	return f
}

func (f *feed) start() {
	ctx, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	f.lastGood = f.now() // the index was loaded just now
	if f.notifier != nil {
		f.wg.Add(1)
		go f.listen(ctx)
	}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		t := time.NewTicker(f.every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			case <-f.wake:
			}
			f.round(ctx)
		}
	}()
}

func (f *feed) stop() {
	if f.cancel != nil {
		f.cancel()
		f.wg.Wait()
	}
}

func (f *feed) poke() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// listen keeps a notification connection open, reconnecting with a growing
// pause (reset once a connection has lasted).
func (f *feed) listen(ctx context.Context) {
	defer f.wg.Done()
	pause := 100 * time.Millisecond
	for {
		began := f.now()
		err := f.notifier.ListenConsentChanges(ctx, func() {
			f.mu.Lock()
			f.epoch++
			f.listening = true
			f.mu.Unlock()
			f.poke()
		}, f.note)
		f.mu.Lock()
		if f.listening {
			f.epoch++
			f.listening = false
		}
		f.mu.Unlock()
		if ctx.Err() != nil {
			return
		}
		f.log.Warn("consent change feed: notification connection lost; reconnecting", "err", err)
		if f.now().Sub(began) > 10*time.Second {
			pause = 100 * time.Millisecond
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
		pause = min(2*pause, f.retryMax)
	}
}

// note records a commit reported by the notifier and wakes the poller.
func (f *feed) note(lo, hi int64) {
	f.mu.Lock()
	if len(f.notes) < feedMaxNotes {
		f.notes = append(f.notes, seqRange{lo: lo, hi: hi})
	} else {
		f.notesLost = true
	}
	f.mu.Unlock()
	f.poke()
}

// round is one poll and its consequences for readiness.
func (f *feed) round(ctx context.Context) {
	f.mu.Lock()
	epoch, listening := f.epoch, f.listening
	notes, lost := f.notes, f.notesLost
	f.notes, f.notesLost = nil, false
	f.mu.Unlock()
	f.noteRechecks(notes, lost)
	ranges := append([]seqRange(nil), f.recheck...)
	if f.notifier != nil && listening && epoch != f.epochSeen {
		// First poll on a new connection: notifications may have been
		// missed while there was none, so look again at every gap given
		// up and at the window below base (events in flight while the
		// index loaded).
		ranges = append(ranges, f.abandoned...)
		if f.base > 0 {
			ranges = append(ranges, seqRange{lo: max(1, f.base-feedStartWindow+1), hi: f.base})
		}
	}
	err := f.poll(ctx, append(ranges, f.pending...))
	if err != nil && ctx.Err() == nil {
		f.log.Warn("consent change feed", "err", err)
	}
	f.expire()
	f.mu.Lock()
	good := err == nil && epoch == f.epoch && (f.notifier == nil || f.listening)
	f.mu.Unlock()
	now := f.now()
	if good {
		f.epochSeen, f.lastGood = epoch, now
		f.recheck = nil
	}
	switch stale := now.Sub(f.lastGood) > f.staleAfter; {
	case stale && !f.failed:
		f.failed = true
		f.ix.MarkNotReady()
		f.log.Error("consent change feed: no complete poll for too long; decisions fail closed until it recovers",
			"last_good", f.lastGood, "listening", listening)
	case !stale && f.failed:
		f.failed = false
		f.ix.MarkReady()
		f.log.Info("consent change feed recovered; decisions answered again")
	}
}

// noteRechecks turns notes into ranges to fetch: the parts that fall on a
// gap given up or at or below base (a late commit of an event the feed has
// not seen). Seqs above hi are fetched by the poll anyway, pending gaps on
// every poll, and the rest of (base, hi] has been seen. The ranges stay in
// f.recheck until a poll succeeds.
func (f *feed) noteRechecks(notes []seqRange, lost bool) {
	for _, n := range notes {
		if n.lo <= f.base {
			f.recheck = append(f.recheck, seqRange{lo: n.lo, hi: min(n.hi, f.base)})
		}
		for _, a := range f.abandoned {
			if lo, hi := max(a.lo, n.lo), min(a.hi, n.hi); lo <= hi {
				f.recheck = append(f.recheck, seqRange{lo: lo, hi: hi})
			}
		}
	}
	if lost {
		f.recheck = append(f.recheck, f.abandoned...)
	}
	if n := len(f.recheck) - feedMaxRanges; n > 0 {
		f.log.Warn("consent change feed: too many ranges to look at again; dropping the oldest", "count", n)
		f.recheck = f.recheck[n:]
	}
}

// poll fetches the events inside ranges, then what is new, in read
// transactions of bounded size, until caught up.
func (f *feed) poll(ctx context.Context, ranges []seqRange) error {
	for {
		more := false
		rctx, cancel := context.WithTimeout(ctx, f.readTimeout)
		err := f.st.Read(rctx, func(tx store.Tx) error {
			var err error
			ranges, err = f.fetchRanges(rctx, tx, ranges)
			if err != nil || len(ranges) > 0 {
				more = true
				return err
			}
			if more, err = f.fetchNew(rctx, tx); err != nil || more {
				return err
			}
			more, err = f.fetchChanged(rctx, tx)
			return err
		})
		cancel()
		if err != nil || !more {
			return err
		}
	}
}

// fetchRanges fetches the events inside ranges, at most feedPagesPerTx
// queries' worth, and returns the ranges it did not get to.
func (f *feed) fetchRanges(ctx context.Context, tx store.Tx, ranges []seqRange) ([]seqRange, error) {
	for q := 0; len(ranges) > 0 && q < feedPagesPerTx; q++ {
		r := &ranges[0]
		n := int(min(r.hi-r.lo+1, feedPage))
		evs, err := tx.ConsentEventsAfter(ctx, r.lo-1, n)
		if err != nil {
			return ranges, err
		}
		for _, e := range evs {
			if e.Seq > r.hi {
				break
			}
			if err := f.apply(ctx, tx, e, true); err != nil {
				return ranges, err
			}
		}
		if len(evs) == n && evs[n-1].Seq < r.hi {
			r.lo = evs[n-1].Seq + 1
			continue
		}
		ranges = ranges[1:]
	}
	return ranges, nil
}

// fetchNew applies events above hi, noting the seqs it skips as gaps, and
// says whether there may be more.
func (f *feed) fetchNew(ctx context.Context, tx store.Tx) (bool, error) {
	for q := 0; q < feedPagesPerTx; q++ {
		evs, err := tx.ConsentEventsAfter(ctx, f.hi, feedPage)
		if err != nil {
			return false, err
		}
		for _, e := range evs {
			if e.Seq > f.hi+1 {
				f.pending = append(f.pending, seqRange{lo: f.hi + 1, hi: e.Seq - 1, since: f.now()})
			}
			if err := f.apply(ctx, tx, e, false); err != nil {
				return false, err
			}
			f.hi = e.Seq
		}
		if len(evs) < feedPage {
			return false, nil
		}
	}
	return true, nil
}

// fetchChanged reads purposes and contacts changed since f.changedAt and
// puts them into the index as they are now; reading one twice is harmless.
func (f *feed) fetchChanged(ctx context.Context, tx store.Tx) (more bool, err error) {
	ps, err := tx.PurposesUpdatedSince(ctx, f.changedAt, feedPage)
	if err != nil {
		return false, err
	}
	cs, err := tx.ContactsUpdatedSince(ctx, f.changedAt, feedPage)
	if err != nil {
		return false, err
	}
	newest := f.changedAt
	for _, p := range ps {
		f.ix.PutPurpose(p.TenantID, p.Purpose)
		newest = maxTime(newest, p.ChangedAt)
	}
	for _, c := range cs {
		id, err := ulid.ParseStrict(c.Contact.ID)
		if err != nil {
			continue
		}
		xs := make([]index.Identifier, len(c.Identifiers))
		for i, x := range c.Identifiers {
			xs[i].Kind = x.Kind
			xs[i].BlindIndex = x.BlindIndex
		}
		if f.ix.HasContact(c.Contact.TenantID, id) {
			f.ix.ReplaceIdentifiers(c.Contact.TenantID, id, xs)
			f.ix.SetRestricted(c.Contact.TenantID, id, c.Contact.Restricted)
		} else {
			f.ix.PutContact(c.Contact.TenantID, id, c.Contact.Restricted, xs)
		}
		newest = maxTime(newest, c.ChangedAt)
	}
	switch {
	case len(ps) == feedPage || len(cs) == feedPage:
		// A full page: continue from its last row (>=, so rows sharing that
		// time are read again, not skipped).
		last := f.changedAt
		if len(ps) == feedPage {
			last = ps[len(ps)-1].ChangedAt
		}
		if len(cs) == feedPage && (len(ps) < feedPage || cs[len(cs)-1].ChangedAt.Before(last)) {
			last = cs[len(cs)-1].ChangedAt
		}
		more = last.After(f.changedAt)
		f.changedAt = last
	case newest.Add(-changeOverlap).After(f.changedAt):
		f.changedAt = newest.Add(-changeOverlap)
	}
	return more, nil
}

// changeClock reads the store's change clock (store.ChangesTx).
func changeClock(ctx context.Context, st store.Store) (now time.Time, err error) {
	err = st.Read(ctx, func(tx store.Tx) error {
		now, err = tx.ChangeClock(ctx)
		return err
	})
	return now, err
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// apply puts an event into the index. An event can be the first news of its
// purpose or contact (created on another node): those are read in the same
// transaction first, so the decision has everything it needs. A late event
// (from a range) is applied only when the feed has not seen it.
func (f *feed) apply(ctx context.Context, tx store.Tx, e *store.ConsentEvent, late bool) error {
	if late {
		var inGap, givenUp bool
		f.pending, inGap = cut(f.pending, e.Seq)
		f.abandoned, givenUp = cut(f.abandoned, e.Seq)
		switch {
		case givenUp:
			f.log.Info("consent change feed: applying an event that committed long after later ones", "seq", e.Seq)
		case !inGap && e.Seq > f.base:
			return nil // seen before
		}
	}
	if f.ix.Purpose(e.TenantID, e.Purpose) == nil {
		p, err := tx.GetPurpose(ctx, e.TenantID, e.Purpose)
		if err == nil {
			f.ix.PutPurpose(e.TenantID, p)
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	if id, err := ulid.ParseStrict(e.ContactID); err == nil && !f.ix.HasContact(e.TenantID, id) {
		c, ids, err := tx.GetContact(ctx, e.TenantID, e.ContactID)
		if err == nil {
			xs := make([]index.Identifier, len(ids))
			for i, x := range ids {
				xs[i].Kind = x.Kind
				xs[i].BlindIndex = x.BlindIndex
			}
			f.ix.PutContact(e.TenantID, id, c.Restricted, xs)
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	if err := f.ix.ApplyEvent(e); err != nil {
		f.log.Warn("consent change feed: event skipped", "event", e.ID, "err", err)
	}
	return nil
}

// cut removes seq from the range that holds it, splitting it in two, and
// says whether one held it.
func cut(rs []seqRange, seq int64) ([]seqRange, bool) {
	for i, r := range rs {
		if seq < r.lo || seq > r.hi {
			continue
		}
		switch {
		case r.lo == r.hi:
			return append(rs[:i], rs[i+1:]...), true
		case seq == r.lo:
			rs[i].lo++
		case seq == r.hi:
			rs[i].hi--
		default:
			rs = append(rs[:i+1], rs[i:]...)
			rs[i].hi, rs[i+1].lo = seq-1, seq+1
		}
		return rs, true
	}
	return rs, false
}

// expire gives up gaps older than the grace period (kept as abandoned for
// late notifications when there is a notifier) and forgets abandoned ones
// older than keep. Both lists are capped, oldest dropped first.
func (f *feed) expire() {
	now := f.now()
	kept := f.pending[:0]
	for _, r := range f.pending {
		if now.Sub(r.since) < f.grace {
			kept = append(kept, r)
			continue
		}
		f.log.Debug("consent change feed: gap given up (rolled back or very late)", "from", r.lo, "to", r.hi)
		if f.notifier != nil {
			f.abandoned = append(f.abandoned, seqRange{lo: r.lo, hi: r.hi, since: now})
		}
	}
	f.pending = kept
	i := 0
	for i < len(f.abandoned) && now.Sub(f.abandoned[i].since) > f.keep {
		i++
	}
	f.abandoned = f.abandoned[i:]
	if n := len(f.pending) - feedMaxRanges; n > 0 {
		f.log.Warn("consent change feed: too many gaps; giving up the oldest", "count", n)
		f.pending = f.pending[n:]
	}
	if n := len(f.abandoned) - feedMaxRanges; n > 0 {
		f.abandoned = f.abandoned[n:]
	}
}
