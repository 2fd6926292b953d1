package service

import (
	"crypto/sha256"

	"github.com/consentgate/consentgate/internal/backoff"
)

// The per-account sign-in backoff slows down password guessing against one
// account, from however many addresses it comes (the HTTP layer's backoff
// is per address). It is a backoff.Failures table keyed by what the caller
// typed (tenant and normalised e-mail address, hashed), whether or not such
// an account exists: a backoff only for real accounts would tell which
// exist. It is kept per node, in memory, like the other abuse limits.
//
// Blocking an account is a lever for whoever wants to keep its owner out;
// the backoff therefore grows gradually and never exceeds BackoffMax.

// maxAccountsTracked bounds the table: beyond it idle entries are swept at
// once, and when none are idle new accounts go untracked rather than
// exhaust the node's memory (the per-address backoff still holds).
const maxAccountsTracked = 1 << 18

func newAccountBackoff() *backoff.Failures[[32]byte] {
	return backoff.New[[32]byte](maxAccountsTracked)
}

func accountKey(tenant, email string) [32]byte {
	return sha256.Sum256([]byte("consentgate/signin-account/v1\x00" + tenant + "\x00" + email))
}

// backoffPolicy is the account backoff of cfg.
func (cfg SessionConfig) backoffPolicy() backoff.Policy {
	return backoff.Policy{Allowed: cfg.FailuresAllowed, First: cfg.Backoff, Max: cfg.BackoffMax, Window: cfg.FailureWindow}
}
