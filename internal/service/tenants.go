package service

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/consentgate/consentgate/internal/apperr"
	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/vault"
	"github.com/oklog/ulid/v2"
)

// tenantKeys are a tenant's unwrapped keys, cached: unwrapping on every
// request would cost an AES operation and a store read. A cached keyring is
// compared with the stored one every tenantKeyTTL (keyring.go), so that a key
// rotation run by another process reaches this one within that time.
type tenantKeys struct {
	keys    vault.TenantKeys
	chain   *vault.IndexChain // the blind index's keys (index_forms.go)
	wrapped []byte            // the sealed keyring these keys came from
	checked atomic.Int64      // unix nanoseconds of the last comparison with the store
	busy    atomic.Bool       // one request at a time checks the store
}

func (s *Service) tenantKeys(ctx context.Context, tenantID string) (*tenantKeys, error) {
	s.tenantsMu.RLock()
	tk := s.tenants[tenantID]
	s.tenantsMu.RUnlock()
	if tk != nil {
		age, ttl := time.Now().UnixNano()-tk.checked.Load(), int64(s.tenantKeyTTL())
		if age < ttl {
			return tk, nil
		}
		if tk.busy.CompareAndSwap(false, true) {
			defer tk.busy.Store(false)
			return s.recheckTenantKeys(ctx, tk, tenantID), nil
		}
		if age < 2*ttl {
			return tk, nil // another request is comparing; keys this recent are what a rotation's settle allows for
		}
		// Keys older than a rotation waits for (after an idle spell): a
		// rotation may have finished meanwhile, and writing with them
		// would wrap with a retired key or store an index form no longer
		// looked up. Compare too rather than use them.
		return s.recheckTenantKeys(ctx, tk, tenantID), nil
	}
	var tn *store.Tenant
	if err := s.store.Read(ctx, func(tx store.Tx) (err error) {
		tn, err = tx.GetTenant(ctx, tenantID)
		return err
	}); err != nil {
		return nil, storeErr(err, "tenant")
	}
	keys, err := vault.OpenTenantKeys(s.master, tn.ID, tn.WrappedKey)
	if err != nil {
		// A wrong master key must never look like missing data.
		return nil, apperr.Wrap(err, apperr.Internal, "tenant keys unreadable")
	}
	tk = s.cacheTenantKeys(tenantID, keys, tn.WrappedKey, nil)
	return tk, nil
}

// CheckMasterKey verifies that the master key opens every tenant's keys, so
// that a server started with the wrong key refuses to start instead of
// serving unreadable data.
func (s *Service) CheckMasterKey(ctx context.Context) error {
	var tenants []*store.Tenant
	if err := s.store.Read(ctx, func(tx store.Tx) (err error) {
		tenants, err = tx.ListTenants(ctx)
		return err
	}); err != nil {
		return err
	}
	for _, tn := range tenants {
		_, err := vault.OpenTenantKeys(s.master, tn.ID, tn.WrappedKey)
		if errors.Is(err, vault.ErrKeyringFormat) {
			return fmt.Errorf("the keys of tenant %q: %w", tn.Name, err)
		}
		if err != nil {
			return fmt.Errorf("the master key does not open the keys of tenant %q: wrong or missing master key file", tn.Name)
		}
	}
	return nil
}

// CreateTenant creates a tenant with fresh keys. It is an operator action
// (CLI, demo seeding), not reachable through the tenant API.
func (s *Service) CreateTenant(ctx context.Context, name string) (*store.Tenant, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return nil, apperr.New(apperr.InvalidRequest, "tenant name must be 1-100 characters")
	}
	id := ulid.Make().String()
	keys, wrapped, err := vault.NewTenantKeys(s.master, id)
	if err != nil {
		return nil, err
	}
	tn := &store.Tenant{ID: id, Name: name, WrappedKey: wrapped, CreatedAt: s.now()}
	if err := s.store.Write(ctx, func(tx store.Tx) error { return tx.CreateTenant(ctx, tn) }); err != nil {
		return nil, storeErr(err, "tenant")
	}
	s.cacheTenantKeys(id, keys, wrapped, nil)
	return tn, nil
}

// TenantByName returns the tenant called name.
func (s *Service) TenantByName(ctx context.Context, name string) (*store.Tenant, error) {
	var tn *store.Tenant
	err := s.store.Read(ctx, func(tx store.Tx) (err error) {
		tn, err = tx.GetTenantByName(ctx, name)
		return err
	})
	return tn, storeErr(err, "tenant")
}

// CreateAPIKey makes a key with a whole role for a tenant, as the operator
// (command line, demo seeding), and returns its secret, which is shown once
// and never stored. Keys made through the API go through CreateKey.
func (s *Service) CreateAPIKey(ctx context.Context, tenantID string, role auth.Role, label string, expires time.Time) (string, *store.APIKey, error) {
	secret, k, _, err := s.createKey(ctx, Operator(tenantID), KeyInput{Role: string(role), Label: label}, expires)
	return secret, k, err
}

// cachedKey is a recently verified key. Keys made by another process (the
// CLI) are found on first use because misses go to the store; a key revoked
// by another process (or node) stops working within keyCacheTTL, one
// revoked through this service at once (RevokeKey drops the entry).
type cachedKey struct {
	key     *store.APIKey
	scopes  []auth.Permission
	expires time.Time
}

const keyCacheTTL = 10 * time.Second

// ErrUnauthenticated is returned for a missing, malformed, unknown, expired
// or revoked key or session; the caller cannot tell which, on purpose.
var errUnauthenticated = apperr.New(apperr.Unauthenticated, "a valid API key or session token is required (Authorization: Bearer ...)")

// Authenticate returns the principal a key secret or session token
// (sessions.go) stands for. Every failure is recorded in the audit trail
// (docs/access.md).
func (s *Service) Authenticate(ctx context.Context, secret string) (auth.Principal, error) {
	if auth.LooksLikeSessionToken(secret) {
		return s.authenticateSession(ctx, secret)
	}
	if !auth.LooksLikeKey(secret) {
		s.recordAuthFailure(ctx, nil)
		return auth.Principal{}, errUnauthenticated
	}
	hash := auth.HashKey(secret)
	var hk [32]byte
	copy(hk[:], hash)
	now := s.now()
	s.keysMu.RLock()
	ck, ok := s.keys[hk]
	s.keysMu.RUnlock()
	if !ok || now.After(ck.expires) {
		var k *store.APIKey
		var scopes []string
		err := s.store.Read(ctx, func(tx store.Tx) (err error) {
			if k, err = tx.GetAPIKeyByHash(ctx, hash); err != nil {
				return err
			}
			scopes, err = tx.APIKeyScopes(ctx, k.TenantID, k.ID)
			return err
		})
		if errors.Is(err, store.ErrNotFound) {
			s.recordAuthFailure(ctx, nil)
			return auth.Principal{}, errUnauthenticated
		}
		if err != nil {
			return auth.Principal{}, storeErr(err, "key")
		}
		ck = cachedKey{key: k, expires: now.Add(keyCacheTTL)}
		for _, sc := range scopes {
			ck.scopes = append(ck.scopes, auth.Permission(sc))
		}
		s.keysMu.Lock()
		s.keys[hk] = ck
		s.keysMu.Unlock()
	}
	k := ck.key
	// The lookup was by hash; compare again in constant time so that no
	// timing difference depends on the secret.
	if subtle.ConstantTimeCompare(k.Hash, hash) != 1 {
		s.recordAuthFailure(ctx, nil)
		return auth.Principal{}, errUnauthenticated
	}
	if !k.RevokedAt.IsZero() || (!k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt)) {
		s.recordAuthFailure(ctx, k)
		return auth.Principal{}, errUnauthenticated
	}
	return auth.Principal{TenantID: k.TenantID, KeyID: k.ID, Role: auth.Role(k.Role), Scopes: ck.scopes}, nil
}

// forgetKey drops a key from the authentication cache, so that a revoked
// key stops working on this node at once.
func (s *Service) forgetKey(hash []byte) {
	var hk [32]byte
	copy(hk[:], hash)
	s.keysMu.Lock()
	delete(s.keys, hk)
	s.keysMu.Unlock()
}
