// Package backoff slows repeated failures down: after a number of failures
// a key (a source address, an account) is blocked for a while, twice as
// long for each further failure, up to a ceiling. The HTTP layer keeps one
// table per source address, sign-in one per account.
package backoff

import (
	"sync"
	"time"
)

// Policy is when and for how long a key is blocked. The first Allowed
// failures pass; each one after blocks the key for First, doubled per
// further failure, up to Max. Window without a failure starts afresh.
type Policy struct {
	Allowed int
	First   time.Duration
	Max     time.Duration
	Window  time.Duration
}

// Failures counts failures per key, in memory. The table is bounded: beyond
// its limit idle records are swept at once, and when none are idle new keys
// go uncounted rather than exhaust memory. The zero value is not usable;
// call New.
type Failures[K comparable] struct {
	mu    sync.Mutex
	m     map[K]*record
	limit int
	swept time.Time
}

type record struct {
	n     int
	last  time.Time
	until time.Time
}

// New returns a table of at most limit keys.
func New[K comparable](limit int) *Failures[K] {
	return &Failures[K]{m: map[K]*record{}, limit: limit}
}

// Blocked reports whether k is blocked at now, and for how much longer.
func (f *Failures[K]) Blocked(k K, now time.Time) (time.Duration, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.m[k]
	if r == nil || !now.Before(r.until) {
		return 0, false
	}
	return r.until.Sub(now), true
}

// Failed counts a failure of k at now and reports whether it started or
// extended a block.
func (f *Failures[K]) Failed(k K, now time.Time, p Policy) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sweep(now, p.Window)
	r := f.m[k]
	if r == nil || now.Sub(r.last) > p.Window {
		if r == nil && len(f.m) >= f.limit {
			return false
		}
		r = &record{}
		f.m[k] = r
	}
	r.n++
	r.last = now
	over := r.n - p.Allowed
	if over <= 0 {
		return false
	}
	d := p.First << min(over-1, 30)
	if d <= 0 || d > p.Max {
		d = p.Max
	}
	r.until = now.Add(d)
	return true
}

// Succeeded forgets k's failures: whoever now gets in is not punished for
// an earlier typo.
func (f *Failures[K]) Succeeded(k K) {
	f.mu.Lock()
	delete(f.m, k)
	f.mu.Unlock()
}

// Len is how many keys the table holds.
func (f *Failures[K]) Len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.m)
}

// sweep drops, at most once a minute (or when the table is full), records
// whose window and block have passed. f.mu is held.
func (f *Failures[K]) sweep(now time.Time, window time.Duration) {
	if len(f.m) < f.limit && now.Sub(f.swept) < time.Minute {
		return
	}
	f.swept = now
	for k, r := range f.m {
		if now.Sub(r.last) > window && !now.Before(r.until) {
			delete(f.m, k)
		}
	}
}
