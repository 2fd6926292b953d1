package index

import (
	"context"
	"errors"

	"github.com/consentgate/consentgate/internal/vault"
	"github.com/oklog/ulid/v2"
)

// The index holds every blind index of a tenant at one version: the newest
// of the tenant's index key chain that this process has adopted. Stored
// forms (of any version up to it) are moved forward on the way in, and a
// decision takes the form of that version from the two its caller computes.
// When the service adopts a keyring with a new index key (SetChain), the
// tenant's maps are moved to the new version; a form newer than the chain
// the index holds makes it ask KeySource for the tenant's current chain.

// KeySource returns a tenant's current index key chain, read from the
// store (the service's TenantIndexChain).
type KeySource func(ctx context.Context, tenantID string) (*vault.IndexChain, error)

// SetKeySource sets where the index gets a tenant's key chain when it has
// none yet or meets a form newer than the one it holds. Without one, the
// index takes version-0 forms only (tests).
func (ix *Index) SetKeySource(k KeySource) { ix.keys.Store(&k) }

// SetChain adopts a tenant's index key chain. When it is newer than the
// version the tenant's maps are in, new maps are built in the new version
// while decisions keep reading the old ones, and swapped in at the end:
// decisions never wait for the move, updates of the tenant's identifiers
// wait for it (t.wmu). Forms that waited for this key go in afterwards.
func (ix *Index) SetChain(tenantID string, c *vault.IndexChain) {
	t := ix.tenantForWrite(tenantID)
	t.wmu.Lock()
	// t.ver and the maps below change only under t.wmu, which this holds:
	// they are read here without t.mu, as decisions read them.
	if c.Top() < t.ver {
		t.wmu.Unlock()
		return // an older keyring, read before the one adopted
	}
	var moved *movedMaps
	if c.Top() > t.ver {
		moved = t.rekeyed(c)
	}
	t.mu.Lock()
	if moved != nil {
		t.identity, t.suppressed, t.contacts = moved.identity, moved.suppressed, moved.contacts
	}
	t.chain, t.ver = c, c.Top()
	pending := t.pending
	t.pending = nil
	t.mu.Unlock()
	t.wmu.Unlock()
	for _, p := range pending {
		p(ix)
	}
}

type movedMaps struct {
	identity   map[idKey]ulid.ULID
	suppressed map[supKey]struct{}
	contacts   map[ulid.ULID]*contactEntry
}

// rekeyed returns the tenant's maps with every hash moved from t.ver to
// c.Top(). Callers hold t.wmu, so that nothing writes the maps meanwhile;
// contact entries are copied, not changed, because decisions read them.
func (t *tenant) rekeyed(c *vault.IndexChain) *movedMaps {
	to := c.Top()
	fwd := func(h BlindIndex) BlindIndex {
		n, _ := c.ForwardHash(t.ver, h, to)
		return n
	}
	m := &movedMaps{identity: make(map[idKey]ulid.ULID, len(t.identity)),
		suppressed: make(map[supKey]struct{}, len(t.suppressed)),
		contacts:   make(map[ulid.ULID]*contactEntry, len(t.contacts))}
	for id, ce := range t.contacts {
		cp := *ce
		cp.moved = 0
		m.contacts[id] = &cp
	}
	for k, id := range t.identity {
		old := k.bi
		k.bi = fwd(old)
		m.identity[k] = id
		// The contact's own copy of the hash, without a second HMAC.
		if ce := m.contacts[id]; ce != nil && ce.has&(1<<k.kind) != 0 && ce.ids[k.kind] == old {
			ce.ids[k.kind], ce.moved = k.bi, ce.moved|1<<k.kind
		}
	}
	for _, ce := range m.contacts {
		for k := range uint8(len(ce.ids)) {
			if ce.has&(1<<k) != 0 && ce.moved&(1<<k) == 0 {
				ce.ids[k] = fwd(ce.ids[k])
			}
		}
	}
	for k := range t.suppressed {
		k.bi = fwd(k.bi)
		m.suppressed[k] = struct{}{}
	}
	return m
}

// hashes returns the stored forms at the tenant's version, with that
// version; callers hold no lock and check the version again under it.
func (ix *Index) hashes(tenantID string, t *tenant, forms [][]byte) (int, []BlindIndex, error) {
	for attempt := 0; ; attempt++ {
		t.mu.RLock()
		c, ver := t.chain, t.ver
		t.mu.RUnlock()
		out := make([]BlindIndex, len(forms))
		var err error
		for i, f := range forms {
			if c == nil {
				v, h, ok := vault.ParseIndexForm(f)
				switch {
				case !ok:
					err = vault.ErrUnreadable
				case v != 0:
					err = vault.ErrNewerIndexForm
				}
				out[i] = h
			} else {
				out[i], err = c.Forward(f, ver)
			}
			if err != nil {
				break
			}
		}
		if err == nil {
			return ver, out, nil
		}
		if !errors.Is(err, vault.ErrNewerIndexForm) || attempt > 0 || !ix.adopt(tenantID) {
			return ver, nil, err
		}
	}
}

// adopt asks the key source for the tenant's chain and adopts it.
func (ix *Index) adopt(tenantID string) bool {
	ks := ix.keys.Load()
	if ks == nil {
		return false
	}
	c, err := (*ks)(context.Background(), tenantID)
	if err != nil || c == nil {
		return false
	}
	ix.SetChain(tenantID, c)
	return true
}

// update runs apply under the tenant's write lock with the forms at the
// tenant's version. A form no chain of this process reads waits, and the
// tenant's decisions fail closed meanwhile: the form may be a suppression.
func (ix *Index) update(tenantID string, forms [][]byte, apply func(t *tenant, hs []BlindIndex), retry func(*Index)) {
	t := ix.tenantForWrite(tenantID)
	for {
		ver, hs, err := ix.hashes(tenantID, t, forms)
		t.wmu.Lock()
		t.mu.Lock()
		if ver != t.ver {
			// Moved to a new version meanwhile: the hashes are stale, and
			// a form that was too new may be readable now.
			t.mu.Unlock()
			t.wmu.Unlock()
			continue
		}
		if errors.Is(err, vault.ErrNewerIndexForm) {
			t.pending = append(t.pending, retry)
		} else if err == nil {
			apply(t, hs)
		}
		t.mu.Unlock()
		t.wmu.Unlock()
		return
	}
}

// Waiting reports whether forms of a version the index cannot read yet are
// waiting for the tenant's keys; the tenant's decisions fail closed.
func (ix *Index) Waiting(tenantID string) bool {
	t := ix.tenant(tenantID)
	if t == nil {
		return false
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.pending) > 0
}
