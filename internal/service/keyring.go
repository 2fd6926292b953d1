package service

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/consentgate/consentgate/internal/apperr"
	"github.com/consentgate/consentgate/internal/audit"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/vault"
)

// defaultTenantKeyTTL is how long a cached tenant keyring is used before it
// is compared with the stored one; no request uses one older than two TTLs
// (tenants.go). A rotation waits more than that between publishing a
// keyring and relying on it (2 × TTL + 1 s), so that by then every running
// server has the new keyring (which still opens the old wrappings).
const defaultTenantKeyTTL = 2 * time.Second

// privacyState is the service's privacy bookkeeping: the key cache policy,
// the attribute declarations cache and the purge lock.
type privacyState struct {
	keyTTL atomic.Int64 // nanoseconds; 0: defaultTenantKeyTTL

	attrMu sync.RWMutex
	attrs  map[string]*attrCache

	purgeMu sync.Mutex // one purge pass at a time in this process
}

// SetTenantKeyTTL changes how often cached tenant keys are checked against
// the store (tests shorten it).
func (s *Service) SetTenantKeyTTL(d time.Duration) { s.privacy.keyTTL.Store(int64(d)) }

func (s *Service) tenantKeyTTL() time.Duration {
	if d := time.Duration(s.privacy.keyTTL.Load()); d > 0 {
		return d
	}
	return defaultTenantKeyTTL
}

// cacheTenantKeys puts a tenant's keys in the cache. The index key chain
// of prev is kept when the index keys did not change, so its pooled HMAC
// states survive a data-key rotation. The decision index adopts the chain
// after the cache does: a decision computed with the new keys finds the
// index in the version before, one computed with the old keys is moved
// forward by the index (index.SetChain).
func (s *Service) cacheTenantKeys(tenantID string, keys vault.TenantKeys, wrapped []byte, prev *tenantKeys) *tenantKeys {
	tk := &tenantKeys{keys: keys, wrapped: bytes.Clone(wrapped)}
	if prev != nil && sameIndexKeys(prev.keys, keys) {
		tk.chain = prev.chain
	} else {
		tk.chain = vault.NewIndexChain(keys)
	}
	tk.checked.Store(time.Now().UnixNano())
	s.tenantsMu.Lock()
	s.tenants[tenantID] = tk
	s.tenantsMu.Unlock()
	s.index.SetChain(tenantID, tk.chain)
	return tk
}

func sameIndexKeys(a, b vault.TenantKeys) bool {
	return a.Index == b.Index && slices.Equal(a.IndexNext, b.IndexNext) && a.IndexLow == b.IndexLow && a.IndexWrite == b.IndexWrite
}

// recheckTenantKeys compares the cached keyring with the stored one and
// replaces it when a rotation changed it. Any failure keeps the cached
// keys: after rotate-master, for example, this process's master key no
// longer opens the stored keyring, but the keys it holds are still right
// until the server is restarted with the new master key.
func (s *Service) recheckTenantKeys(ctx context.Context, tk *tenantKeys, tenantID string) *tenantKeys {
	tk.checked.Store(time.Now().UnixNano())
	var tn *store.Tenant
	err := s.store.Read(ctx, func(tx store.Tx) (err error) {
		tn, err = tx.GetTenant(ctx, tenantID)
		return err
	})
	if err != nil || bytes.Equal(tn.WrappedKey, tk.wrapped) {
		return tk
	}
	keys, err := vault.OpenTenantKeys(s.master, tenantID, tn.WrappedKey)
	if err != nil {
		s.log.ErrorContext(ctx, "the stored tenant keyring changed and this master key does not open it (rotate-master ran?); keeping the cached keys until restart",
			"tenant", tenantID)
		return tk
	}
	s.log.InfoContext(ctx, "tenant keyring changed; using the new one", "tenant", tenantID,
		"from_version", tk.keys.Version, "to_version", keys.Version)
	return s.cacheTenantKeys(tenantID, keys, tn.WrappedKey, tk)
}

// RotateOptions tune a tenant key rotation.
type RotateOptions struct {
	// Batch is how many keys are rewrapped per transaction (default 500).
	Batch int
	// Settle is how long to wait between publishing the new key and
	// rewrapping with it, so that running servers pick the keyring up
	// first (default 2 × the key cache TTL + 1 s).
	Settle time.Duration
	// Progress, when set, is called after every batch.
	Progress func(rewrapped int)
}

// RotateReport says what a rotation did.
type RotateReport struct {
	TenantID    string `json:"tenant_id"`
	FromVersion int    `json:"from_version"`
	ToVersion   int    `json:"to_version"`
	Resumed     bool   `json:"resumed"` // an interrupted rotation was finished
	Contacts    int    `json:"contacts_rewrapped"`
	Messages    int    `json:"message_keys_rewrapped"`
	Unreadable  int    `json:"unreadable"` // wrapped keys no key of the keyring opens (already lost)
}

// RotateTenantKey replaces the key that wraps the tenant's contact data keys
// while servers keep running:
//
//  1. publish a keyring whose new data key wraps, and whose old one is
//     retired (it still opens, never wraps);
//  2. wait until every server has re-read the keyring (Settle);
//  3. rewrap every contact data key and per-message key, in batches;
//  4. publish the keyring without the retired key.
//
// A rotation that was interrupted (the stored keyring still has a retired
// key) is resumed at step 3. The index key has a rotation of its own
// (RotateIndexKey); the two do not run at once.
func (s *Service) RotateTenantKey(ctx context.Context, tenantID string, opt RotateOptions) (RotateReport, error) {
	if opt.Batch <= 0 {
		opt.Batch = 500
	}
	if opt.Settle == 0 {
		opt.Settle = 2*s.tenantKeyTTL() + time.Second
	}
	rep := RotateReport{TenantID: tenantID}
	ring, wrapped, err := s.storedKeyring(ctx, tenantID)
	if err != nil {
		return rep, err
	}
	if ring.IndexPhase() != vault.IndexSteady {
		return rep, apperr.New(apperr.Conflict, "a rotation of the index key is running: finish it first (keys rotate --index)")
	}
	rep.FromVersion = ring.Version
	if len(ring.Retired) > 0 {
		rep.Resumed = true
	} else {
		if ring, err = ring.RotateData(); err != nil {
			return rep, err
		}
		if wrapped, err = s.publishKeyring(ctx, tenantID, wrapped, ring, "data_key.new"); err != nil {
			return rep, err
		}
	}
	select {
	case <-time.After(opt.Settle):
	case <-ctx.Done():
		return rep, ctx.Err()
	}
	scans := []struct {
		count *int
		after func(store.Tx, string) ([]store.WrappedKey, error)
		set   func(store.Tx, string, []byte) error
		aadID func(string) string
	}{
		{&rep.Contacts, func(tx store.Tx, a string) ([]store.WrappedKey, error) {
			return tx.ContactKeysAfter(ctx, tenantID, a, opt.Batch)
		},
			func(tx store.Tx, id string, w []byte) error { return tx.SetContactKey(ctx, tenantID, id, w) },
			func(id string) string { return id }},
		{&rep.Messages, func(tx store.Tx, a string) ([]store.WrappedKey, error) {
			return tx.MessageKeysAfter(ctx, tenantID, a, opt.Batch)
		},
			func(tx store.Tx, id string, w []byte) error { return tx.SetMessageKey(ctx, tenantID, id, w) },
			messageKeyID},
	}
	for _, sc := range scans {
		after := ""
		for {
			var page []store.WrappedKey
			// One write transaction per batch: reading and rewriting in the
			// same transaction means a concurrent erasure cannot be undone
			// by writing back a key it just destroyed.
			err := s.store.Write(ctx, func(tx store.Tx) error {
				var err error
				if page, err = sc.after(tx, after); err != nil {
					return err
				}
				for _, k := range page {
					nw, changed, err := ring.Rewrap(tenantID, sc.aadID(k.ID), k.Wrapped)
					if errors.Is(err, vault.ErrUnreadable) {
						rep.Unreadable++
						continue
					}
					if err != nil {
						return err
					}
					if changed {
						if err := sc.set(tx, k.ID, nw); err != nil && !errors.Is(err, store.ErrNotFound) {
							return err
						}
						*sc.count++
					}
				}
				return nil
			})
			if err != nil {
				return rep, fmt.Errorf("rewrapping: %w", err)
			}
			if len(page) == 0 {
				break
			}
			after = page[len(page)-1].ID
			if opt.Progress != nil {
				opt.Progress(rep.Contacts + rep.Messages)
			}
		}
	}
	ring = ring.Retire()
	if _, err := s.publishKeyring(ctx, tenantID, wrapped, ring, "data_key.retire"); err != nil {
		return rep, err
	}
	rep.ToVersion = ring.Version
	s.log.InfoContext(ctx, "tenant data key rotated", "tenant", tenantID, "version", ring.Version,
		"contacts", rep.Contacts, "messages", rep.Messages, "unreadable", rep.Unreadable)
	return rep, nil
}

// storedKeyring reads and opens a tenant's keyring from the store, never
// from the cache: a rotation must build on what is stored. It also returns
// the sealed keyring, which publishKeyring expects to replace.
func (s *Service) storedKeyring(ctx context.Context, tenantID string) (vault.TenantKeys, []byte, error) {
	var tn *store.Tenant
	if err := s.store.Read(ctx, func(tx store.Tx) (err error) {
		tn, err = tx.GetTenant(ctx, tenantID)
		return err
	}); err != nil {
		return vault.TenantKeys{}, nil, storeErr(err, "tenant")
	}
	ring, err := vault.OpenTenantKeys(s.master, tenantID, tn.WrappedKey)
	if err != nil {
		return ring, nil, fmt.Errorf("the master key does not open the keys of tenant %q", tn.Name)
	}
	return ring, tn.WrappedKey, nil
}

// errKeyringChanged is returned when the stored keyring is not the one a
// rotation built on: another rotation (or rotate-master) ran meanwhile,
// and writing over it would lose its keys.
var errKeyringChanged = apperr.New(apperr.Conflict, "the tenant's keyring changed while this rotation ran (another rotation?); run it again")

// publishKeyring replaces the stored keyring prev with ring, records the
// rotation's step in the tenant's audit trail, and returns the new sealed
// keyring.
func (s *Service) publishKeyring(ctx context.Context, tenantID string, prev []byte, ring vault.TenantKeys, step string) ([]byte, error) {
	ev, err := s.auditEvent(ctx, Operator(tenantID), auditRec{action: audit.KeyringRotate, objectType: "tenant_keyring",
		objectID: tenantID, fields: []string{step}})
	if err != nil {
		return nil, err
	}
	wrapped, err := vault.SealTenantKeys(s.master, tenantID, ring)
	if err != nil {
		return nil, err
	}
	if err := s.store.Write(ctx, func(tx store.Tx) error {
		tn, err := tx.GetTenant(ctx, tenantID)
		if err != nil {
			return err
		}
		if !bytes.Equal(tn.WrappedKey, prev) {
			return errKeyringChanged
		}
		if err := tx.UpdateTenantKey(ctx, tenantID, wrapped); err != nil {
			return err
		}
		return writeAudit(ctx, tx, ev)
	}); err != nil {
		return nil, storeErr(err, "tenant") // errKeyringChanged passes as it is
	}
	s.tenantsMu.RLock()
	cached := s.tenants[tenantID]
	s.tenantsMu.RUnlock()
	s.cacheTenantKeys(tenantID, ring, wrapped, cached)
	return wrapped, nil
}

// MasterRotateReport says what rotate-master did.
type MasterRotateReport struct {
	Tenants      int  `json:"tenants"`
	LedgerKey    bool `json:"ledger_key"`
	PurgeRecords int  `json:"purge_records_resigned"`
}

// RotateMasterKey rewraps every tenant keyring and the ledger's signing key
// with next, and re-signs the purge log, in one transaction: either all of
// it is under the new master key or none. The service keeps using the old
// key afterwards; a server must be restarted with the new key file.
func (s *Service) RotateMasterKey(ctx context.Context, next vault.Key) (MasterRotateReport, error) {
	var rep MasterRotateReport
	if next == s.master {
		return rep, errors.New("the new master key is the current one")
	}
	err := s.store.Write(ctx, func(tx store.Tx) error {
		rep = MasterRotateReport{}
		tenants, err := tx.ListTenants(ctx)
		if err != nil {
			return err
		}
		for _, tn := range tenants {
			ring, err := vault.OpenTenantKeys(s.master, tn.ID, tn.WrappedKey)
			if err != nil {
				return fmt.Errorf("the current master key does not open the keys of tenant %q", tn.Name)
			}
			wrapped, err := vault.SealTenantKeys(next, tn.ID, ring)
			if err != nil {
				return err
			}
			if err := tx.UpdateTenantKey(ctx, tn.ID, wrapped); err != nil {
				return err
			}
			if err := s.audited(ctx, tx, Operator(tn.ID), auditRec{action: audit.KeyringRotate, objectType: "tenant_keyring",
				objectID: tn.ID, fields: []string{"master_key"}}); err != nil {
				return err
			}
			rep.Tenants++
		}
		_, sealed, err := tx.GetLedgerKey(ctx, ledgerKeyName)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return err
		default:
			skey, err := vault.Open(s.master, sealed, ledgerKeyAAD())
			if err != nil {
				return errors.New("the current master key does not open the ledger key")
			}
			resealed, err := vault.Seal(next, skey, ledgerKeyAAD())
			if err != nil {
				return err
			}
			if err := tx.UpdateLedgerKey(ctx, ledgerKeyName, resealed); err != nil {
				return err
			}
			rep.LedgerKey = true
		}
		recs, err := tx.ListPurgeRecords(ctx, "", 1<<30)
		if err != nil {
			return err
		}
		for _, r := range recs {
			// A record that does not verify under the old key is left as it
			// is: re-signing would launder a forgery.
			if !hmac.Equal(r.Signature, purgeSignature(s.master, r)) {
				continue
			}
			if err := tx.SetPurgeSignature(ctx, r.ID, purgeSignature(next, r)); err != nil {
				return err
			}
			rep.PurgeRecords++
		}
		return nil
	})
	return rep, err
}

// purgeSignature signs a purge record with a key derived from the master
// key, so that a summary edited in the database no longer verifies.
func purgeSignature(master vault.Key, r *store.PurgeRecord) []byte {
	k := hmac.New(sha256.New, master[:])
	k.Write([]byte("consentgate/purge-log/v1"))
	m := hmac.New(sha256.New, k.Sum(nil))
	fmt.Fprintf(m, "%s|%s|%s|%d|%d|%d", r.ID, r.TenantID, r.Category, r.Count, r.Cutoff.UnixMicro(), r.At.UnixMicro())
	return m.Sum(nil)
}
