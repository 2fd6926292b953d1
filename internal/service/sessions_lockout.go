package service

import (
	"crypto/sha256"
	"sync"
	"time"
)

// accountBackoff slows down password guessing against one account, from
// however many addresses it comes (the HTTP layer's backoff is per
// address). An account's first FailuresAllowed failed sign-ins pass; each
// one after blocks the account for Backoff, doubled per further failure, up
// to BackoffMax; FailureWindow without a failure, or a successful sign-in,
// starts afresh. It is kept per node, in memory, like the other abuse
// limits, and it is keyed by what the caller typed (tenant and normalised
// e-mail address, hashed), whether or not such an account exists: a
// backoff only for real accounts would tell which exist.
//
// Blocking an account is a lever for whoever wants to keep its owner out;
// the backoff therefore grows gradually and never exceeds BackoffMax.
type accountBackoff struct {
	mu    sync.Mutex
	m     map[[32]byte]*signinFailures
	swept time.Time
}

// signinFailures is one account's failed sign-ins.
type signinFailures struct {
	n     int
	last  time.Time
	until time.Time
}

// maxAccountsTracked bounds the table: beyond it idle entries are swept at
// once, and when none are idle new accounts go untracked rather than
// exhaust the node's memory (the per-address backoff still holds).
const maxAccountsTracked = 1 << 18

func accountKey(tenant, email string) [32]byte {
	return sha256.Sum256([]byte("consentgate/signin-account/v1\x00" + tenant + "\x00" + email))
}

// blocked reports whether the account is in a backoff, and for how long.
func (b *accountBackoff) blocked(k [32]byte, now time.Time) (time.Duration, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	f := b.m[k]
	if f == nil || !now.Before(f.until) {
		return 0, false
	}
	return f.until.Sub(now), true
}

// failed counts a failed sign-in and reports whether it started or extended
// a backoff.
func (b *accountBackoff) failed(k [32]byte, now time.Time, cfg SessionConfig) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m == nil {
		b.m = map[[32]byte]*signinFailures{}
	}
	b.sweep(now, cfg)
	f := b.m[k]
	if f == nil || now.Sub(f.last) > cfg.FailureWindow {
		if f == nil && len(b.m) >= maxAccountsTracked {
			return false
		}
		f = &signinFailures{}
		b.m[k] = f
	}
	f.n++
	f.last = now
	over := f.n - cfg.FailuresAllowed
	if over <= 0 {
		return false
	}
	d := cfg.Backoff << min(over-1, 30)
	if d <= 0 || d > cfg.BackoffMax {
		d = cfg.BackoffMax
	}
	f.until = now.Add(d)
	return true
}

// succeeded forgets the account's failures.
func (b *accountBackoff) succeeded(k [32]byte) {
	b.mu.Lock()
	delete(b.m, k)
	b.mu.Unlock()
}

// sweep drops, at most once a minute (or when the table is full), records
// whose window and backoff have passed. b.mu is held.
func (b *accountBackoff) sweep(now time.Time, cfg SessionConfig) {
	if len(b.m) < maxAccountsTracked && now.Sub(b.swept) < time.Minute {
		return
	}
	b.swept = now
	for k, f := range b.m {
		if now.Sub(f.last) > cfg.FailureWindow && !now.Before(f.until) {
			delete(b.m, k)
		}
	}
}
