package service

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/consentgate/consentgate/internal/apperr"
	"github.com/consentgate/consentgate/internal/audit"
	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/oklog/ulid/v2"
)

// KeyInput creates an API key through the API.
type KeyInput struct {
	Role string `json:"role"`
	// Scopes narrow the role to these permissions; empty: the whole role.
	Scopes    []string   `json:"scopes"`
	Label     string     `json:"label"`
	ExpiresAt *time.Time `json:"expires_at"`
}

// KeyView is a key as listings show it: never its secret or hash.
type KeyView struct {
	ID        string     `json:"id"`
	Role      string     `json:"role"`
	Scopes    []string   `json:"scopes"`
	Label     string     `json:"label"`
	Hint      string     `json:"hint"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// NewKey is a created key: its view and, this once, its secret.
type NewKey struct {
	KeyView
	Secret string `json:"secret"`
}

func viewKey(k *store.APIKey, scopes []string) KeyView {
	v := KeyView{ID: k.ID, Role: k.Role, Scopes: scopes, Label: k.Label, Hint: k.Hint, CreatedAt: k.CreatedAt}
	if v.Scopes == nil {
		v.Scopes = []string{}
	}
	if !k.ExpiresAt.IsZero() {
		t := k.ExpiresAt
		v.ExpiresAt = &t
	}
	if !k.RevokedAt.IsZero() {
		t := k.RevokedAt
		v.RevokedAt = &t
	}
	return v
}

func keyPrincipal(k *store.APIKey, scopes []string) auth.Principal {
	p := auth.Principal{TenantID: k.TenantID, KeyID: k.ID, Role: auth.Role(k.Role)}
	for _, s := range scopes {
		p.Scopes = append(p.Scopes, auth.Permission(s))
	}
	return p
}

// errTooPowerful refuses to create or revoke a key or user that holds a
// permission the caller does not: keys:manage must not be a way up.
func errTooPowerful(what string) error {
	e := apperr.New(apperr.Forbidden, "a key may not %s with permissions it does not hold itself", what)
	e.Details = map[string]any{"permission": string(auth.KeysManage)}
	return e
}

// CreateKey makes an API key for the caller's tenant. The new key may hold
// no permission the caller lacks.
func (s *Service) CreateKey(ctx context.Context, pr auth.Principal, in KeyInput) (NewKey, error) {
	if err := authorize(pr, auth.KeysManage); err != nil {
		return NewKey{}, err
	}
	var expires time.Time
	if in.ExpiresAt != nil {
		expires = in.ExpiresAt.UTC()
		if !expires.After(s.now()) {
			return NewKey{}, apperr.New(apperr.InvalidRequest, "expires_at lies in the past")
		}
	}
	secret, k, scopes, err := s.createKey(ctx, pr, in, expires)
	if err != nil {
		return NewKey{}, err
	}
	return NewKey{KeyView: viewKey(k, scopes), Secret: secret}, nil
}

func (s *Service) createKey(ctx context.Context, pr auth.Principal, in KeyInput, expires time.Time) (string, *store.APIKey, []string, error) {
	role, err := auth.ParseRole(in.Role)
	if err != nil {
		return "", nil, nil, apperr.Wrap(err, apperr.InvalidRequest, "%v", err)
	}
	perms, err := auth.ParseScopes(role, in.Scopes)
	if err != nil {
		return "", nil, nil, apperr.Wrap(err, apperr.InvalidRequest, "%v", err)
	}
	in.Label = strings.TrimSpace(in.Label)
	if len(in.Label) > 100 {
		return "", nil, nil, apperr.New(apperr.InvalidRequest, "label must be at most 100 characters")
	}
	if !pr.Covers(auth.Principal{Role: role, Scopes: perms}) {
		return "", nil, nil, errTooPowerful("create a key")
	}
	secret, hash, hint, err := auth.NewKeySecret()
	if err != nil {
		return "", nil, nil, err
	}
	scopes := make([]string, len(perms))
	for i, p := range perms {
		scopes[i] = string(p)
	}
	k := &store.APIKey{ID: ulid.Make().String(), TenantID: pr.TenantID, Role: string(role), Label: in.Label,
		Hash: hash, Hint: hint, CreatedAt: s.now(), ExpiresAt: expires}
	ev, err := s.auditEvent(ctx, pr, auditRec{action: audit.KeyCreate, objectType: "key", objectID: k.ID,
		fields: []string{"role", "scopes", "label", "expires_at"}})
	if err != nil {
		return "", nil, nil, err
	}
	err = s.commit.do(ctx, func(tx store.Tx) error {
		if err := tx.CreateAPIKey(ctx, k); err != nil {
			return err
		}
		if len(scopes) > 0 {
			if err := tx.SetAPIKeyScopes(ctx, k.TenantID, k.ID, scopes); err != nil {
				return err
			}
		}
		return writeAudit(ctx, tx, ev)
	}, nil)
	if err != nil {
		return "", nil, nil, storeErr(err, "key")
	}
	return secret, k, scopes, nil
}

// ListKeys returns the tenant's keys, revoked ones included, without their
// secrets or hashes.
func (s *Service) ListKeys(ctx context.Context, pr auth.Principal) ([]KeyView, error) {
	if err := authorize(pr, auth.KeysManage); err != nil {
		return nil, err
	}
	ev, err := s.auditEvent(ctx, pr, auditRec{action: audit.KeyList, objectType: "key", fields: []string{"role", "scopes", "label"}})
	if err != nil {
		return nil, err
	}
	var keys []*store.APIKey
	var scopes map[string][]string
	err = s.commit.doRead(ctx, func(tx store.Tx) (err error) {
		if keys, err = tx.ListAPIKeys(ctx, pr.TenantID); err != nil {
			return err
		}
		if scopes, err = tx.ListAPIKeyScopes(ctx, pr.TenantID); err != nil {
			return err
		}
		return writeAudit(ctx, tx, ev)
	})
	if err != nil {
		return nil, storeErr(err, "key")
	}
	out := make([]KeyView, len(keys))
	for i, k := range keys {
		out[i] = viewKey(k, scopes[k.ID])
	}
	return out, nil
}

// RevokeKey revokes a key of the caller's tenant and drops it from this
// node's authentication cache at once (other nodes within keyCacheTTL). A
// key may revoke itself, or a key no more powerful than itself. Revoking a
// revoked key changes nothing and succeeds.
func (s *Service) RevokeKey(ctx context.Context, pr auth.Principal, id string) error {
	if err := authorize(pr, auth.KeysManage); err != nil {
		return err
	}
	ev, err := s.auditEvent(ctx, pr, auditRec{action: audit.KeyRevoke, objectType: "key", objectID: id, fields: []string{"revoked_at"}})
	if err != nil {
		return err
	}
	var hash []byte
	err = s.commit.do(ctx, func(tx store.Tx) error {
		k, err := tx.GetAPIKey(ctx, pr.TenantID, id)
		if err != nil {
			return err
		}
		scopes, err := tx.APIKeyScopes(ctx, pr.TenantID, id)
		if err != nil {
			return err
		}
		if k.ID != pr.KeyID && !pr.Covers(keyPrincipal(k, scopes)) {
			return errTooPowerful("revoke a key")
		}
		if !k.RevokedAt.IsZero() {
			return nil
		}
		hash = k.Hash
		if err := tx.RevokeAPIKey(ctx, pr.TenantID, id, s.now()); err != nil {
			return err
		}
		return writeAudit(ctx, tx, ev)
	}, func() {
		if hash != nil {
			s.forgetKey(hash)
		}
	})
	if errors.Is(err, store.ErrNotFound) {
		return apperr.Wrap(err, apperr.NotFound, "key not found")
	}
	return storeErr(err, "key")
}
