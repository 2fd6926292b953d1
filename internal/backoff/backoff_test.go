package backoff

import (
	"testing"
	"time"
)

var policy = Policy{Allowed: 2, First: time.Second, Max: 5 * time.Second, Window: time.Minute}

// TestFailures walks one key through its allowance, the doubling blocks,
// the ceiling, a success and the window.
func TestFailures(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	for _, tc := range []struct {
		name    string
		steps   func(f *Failures[string], now time.Time)
		at      time.Duration // when Blocked is asked, after t0
		blocked time.Duration // 0: not blocked
	}{
		{"within the allowance", func(f *Failures[string], now time.Time) { fail(f, now, 2) }, 0, 0},
		{"the first failure over", func(f *Failures[string], now time.Time) { fail(f, now, 3) }, 0, time.Second},
		{"doubles", func(f *Failures[string], now time.Time) { fail(f, now, 5) }, 0, 4 * time.Second},
		{"stops at the ceiling", func(f *Failures[string], now time.Time) { fail(f, now, 40) }, 0, 5 * time.Second},
		{"a block ends", func(f *Failures[string], now time.Time) { fail(f, now, 3) }, time.Second, 0},
		{"a success forgets", func(f *Failures[string], now time.Time) { fail(f, now, 5); f.Succeeded("k") }, 0, 0},
		{"the window forgets", func(f *Failures[string], now time.Time) {
			fail(f, now, 2)
			f.Failed("k", now.Add(2*time.Minute), policy)
		}, 2 * time.Minute, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := New[string](10)
			tc.steps(f, t0)
			d, blocked := f.Blocked("k", t0.Add(tc.at))
			if blocked != (tc.blocked > 0) || d != tc.blocked {
				t.Fatalf("Blocked = %v, %v; want %v", d, blocked, tc.blocked)
			}
			if _, other := f.Blocked("other", t0); other {
				t.Fatal("another key is blocked")
			}
		})
	}
}

func fail(f *Failures[string], now time.Time, n int) {
	for range n {
		f.Failed("k", now, policy)
	}
}

// TestFailuresBounded: a full table sweeps what has expired, and counts no
// new key while every record is live.
func TestFailuresBounded(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	f := New[int](3)
	for k := range 3 {
		f.Failed(k, t0, policy)
	}
	f.Failed(99, t0, policy)
	if n := f.Len(); n != 3 {
		t.Fatalf("a full table of live records took a new key: %d keys", n)
	}
	later := t0.Add(2 * time.Minute)
	f.Failed(99, later, policy)
	if n := f.Len(); n != 1 {
		t.Fatalf("%d keys after the sweep, want only the new one", n)
	}
}
