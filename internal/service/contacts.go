package service

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/consentgate/consentgate/internal/apperr"
	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/index"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/vault"
	"github.com/oklog/ulid/v2"
	"golang.org/x/text/language"
)

// maxAttributesBytes caps the sealed attributes of one contact: the gateway
// keeps what messaging needs, not a customer database.
const maxAttributesBytes = 4096

// ContactInput creates a contact.
type ContactInput struct {
	Identifiers map[string]string `json:"identifiers"`
	Locale      string            `json:"locale"`
	Attributes  map[string]any    `json:"attributes"`
}

// ContactView is a contact as the API shows it. Identifiers are masked
// unless the caller asked to reveal them and may.
type ContactView struct {
	ID          string            `json:"id"`
	Locale      string            `json:"locale,omitempty"`
	Identifiers map[string]string `json:"identifiers"`
	Attributes  map[string]any    `json:"attributes,omitempty"`
	Restricted  bool              `json:"restricted"`
	Revealed    bool              `json:"revealed"`
	CreatedAt   time.Time         `json:"created_at"`
}

// Reveal asks for identifiers in clear; Reason is required and recorded.
type Reveal struct {
	Reason string
}

type normalized struct {
	kind  consent.IdentifierKind
	value string
	bi    index.BlindIndex
}

func (s *Service) normalize(tk *tenantKeys, kind consent.IdentifierKind, value string) (normalized, error) {
	v, err := s.norm.Normalize(kind, value)
	if err != nil {
		return normalized{}, &apperr.Error{Code: apperr.InvalidIdentifier, Message: string(kind) + ": " + err.Error()}
	}
	return normalized{kind: kind, value: v, bi: tk.blind.Sum(string(kind), v)}, nil
}

// CreateContact creates a contact with its identifiers, sealed, and returns
// its id. An identifier that already belongs to a contact is a conflict.
func (s *Service) CreateContact(ctx context.Context, pr auth.Principal, in ContactInput) (string, error) {
	if err := authorize(pr, auth.ContactsWrite); err != nil {
		return "", err
	}
	tk, err := s.tenantKeys(ctx, pr.TenantID)
	if err != nil {
		return "", err
	}
	if len(in.Identifiers) == 0 {
		return "", apperr.New(apperr.InvalidRequest, "at least one identifier (phone, email, whatsapp) is required")
	}
	var ns []normalized
	for k, v := range in.Identifiers {
		kind, ok := consent.ParseIdentifierKind(k)
		if !ok {
			return "", apperr.New(apperr.InvalidRequest, "unknown identifier kind %q (phone, email, whatsapp)", k)
		}
		n, err := s.normalize(tk, kind, v)
		if err != nil {
			return "", err
		}
		ns = append(ns, n)
	}
	slices.SortFunc(ns, func(a, b normalized) int { return compareStr(string(a.kind), string(b.kind)) })
	if in.Locale != "" {
		tag, err := language.Parse(in.Locale)
		if err != nil {
			return "", apperr.New(apperr.InvalidRequest, "locale is not a BCP 47 language tag")
		}
		in.Locale = tag.String()
	}
	id := ulid.Make()
	c := &store.Contact{ID: id.String(), TenantID: pr.TenantID, Locale: in.Locale, CreatedAt: s.now()}
	c.UpdatedAt = c.CreatedAt
	ck, wrapped, err := vault.NewContactKey(tk.keys, pr.TenantID, c.ID)
	if err != nil {
		return "", err
	}
	c.WrappedKey = wrapped
	if len(in.Attributes) > 0 {
		raw, err := json.Marshal(in.Attributes)
		if err != nil || len(raw) > maxAttributesBytes {
			return "", apperr.New(apperr.InvalidRequest, "attributes must be a JSON object of at most %d bytes", maxAttributesBytes)
		}
		if c.AttributesSealed, err = ck.Seal("attributes", raw); err != nil {
			return "", err
		}
	}
	ids := make([]store.Identifier, len(ns))
	idx := make([]index.Identifier, len(ns))
	for i, n := range ns {
		sealed, err := ck.Seal(string(n.kind), []byte(n.value))
		if err != nil {
			return "", err
		}
		ids[i] = store.Identifier{Kind: n.kind, BlindIndex: n.bi[:], Sealed: sealed}
		idx[i] = index.Identifier{Kind: n.kind, BlindIndex: n.bi}
	}
	err = s.commit.do(ctx, func(tx store.Tx) error { return tx.CreateContact(ctx, c, ids) },
		func() { s.index.PutContact(pr.TenantID, id, false, idx) })
	if errors.Is(err, store.ErrConflict) {
		return "", apperr.Wrap(err, apperr.Conflict, "a contact with one of these identifiers already exists")
	}
	return c.ID, storeErr(err, "contact")
}

func compareStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// GetContact returns one contact.
func (s *Service) GetContact(ctx context.Context, pr auth.Principal, id string, rv Reveal) (ContactView, error) {
	if err := authorize(pr, auth.ContactsRead); err != nil {
		return ContactView{}, err
	}
	if rv.Reason != "" {
		if err := authorize(pr, auth.ContactsReveal); err != nil {
			return ContactView{}, err
		}
	}
	var c *store.Contact
	var ids []store.Identifier
	err := s.store.Read(ctx, func(tx store.Tx) (err error) {
		c, ids, err = tx.GetContact(ctx, pr.TenantID, id)
		return err
	})
	if err != nil {
		return ContactView{}, storeErr(err, "contact")
	}
	return s.viewContact(ctx, pr, c, ids, rv)
}

// LookupContact finds a contact by one identifier. Identifiers travel in the
// request body, never in a URL, where access logs would keep them.
func (s *Service) LookupContact(ctx context.Context, pr auth.Principal, kind consent.IdentifierKind, value string, rv Reveal) (ContactView, error) {
	if err := authorize(pr, auth.ContactsRead); err != nil {
		return ContactView{}, err
	}
	tk, err := s.tenantKeys(ctx, pr.TenantID)
	if err != nil {
		return ContactView{}, err
	}
	n, err := s.normalize(tk, kind, value)
	if err != nil {
		return ContactView{}, err
	}
	var id string
	if err := s.store.Read(ctx, func(tx store.Tx) (err error) {
		id, err = tx.FindContactID(ctx, pr.TenantID, kind, n.bi[:])
		return err
	}); err != nil {
		return ContactView{}, storeErr(err, "contact")
	}
	return s.GetContact(ctx, pr, id, rv)
}

func (s *Service) viewContact(ctx context.Context, pr auth.Principal, c *store.Contact, ids []store.Identifier, rv Reveal) (ContactView, error) {
	tk, err := s.tenantKeys(ctx, pr.TenantID)
	if err != nil {
		return ContactView{}, err
	}
	v := ContactView{ID: c.ID, Locale: c.Locale, Identifiers: map[string]string{}, Restricted: c.Restricted,
		Revealed: rv.Reason != "", CreatedAt: c.CreatedAt}
	ck, err := vault.OpenContactKey(tk.keys, pr.TenantID, c.ID, c.WrappedKey)
	if err != nil {
		// Unreadable data is reported as such, never guessed at.
		s.log.ErrorContext(ctx, "contact key unreadable", "tenant", pr.TenantID, "contact", c.ID, "err", err)
		for _, id := range ids {
			v.Identifiers[string(id.Kind)] = Unreadable
		}
		return v, nil
	}
	for _, id := range ids {
		pt, err := ck.Open(string(id.Kind), id.Sealed)
		switch {
		case err != nil:
			s.log.ErrorContext(ctx, "identifier unreadable", "tenant", pr.TenantID, "contact", c.ID, "kind", id.Kind)
			v.Identifiers[string(id.Kind)] = Unreadable
		case v.Revealed:
			v.Identifiers[string(id.Kind)] = string(pt)
		default:
			v.Identifiers[string(id.Kind)] = Mask(id.Kind, string(pt))
		}
	}
	if len(c.AttributesSealed) > 0 {
		if pt, err := ck.Open("attributes", c.AttributesSealed); err == nil {
			json.Unmarshal(pt, &v.Attributes)
		} else {
			v.Attributes = map[string]any{"_unreadable": true}
		}
	}
	if v.Revealed {
		// The reason itself may hold anything; its length is enough to show
		// one was given. The audit issue records it sealed.
		s.log.InfoContext(ctx, "identifiers revealed", "tenant", pr.TenantID, "key", pr.KeyID, "contact", c.ID, "reason_len", len(rv.Reason))
	}
	return v, nil
}
