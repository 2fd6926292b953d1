package service

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/consentgate/consentgate/internal/apperr"
	"github.com/consentgate/consentgate/internal/audit"
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
	forms vault.Forms // its blind index (index_forms.go)
}

func (s *Service) normalize(tk *tenantKeys, kind consent.IdentifierKind, value string) (normalized, error) {
	v, err := s.norm.Normalize(kind, value)
	if err != nil {
		return normalized{}, &apperr.Error{Code: apperr.InvalidIdentifier, Message: string(kind) + ": " + err.Error()}
	}
	return normalized{kind: kind, value: v, forms: tk.forms(string(kind), v)}, nil
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
	if err := s.checkAttributes(ctx, pr.TenantID, in.Attributes); err != nil {
		return "", err
	}
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
		ids[i] = store.Identifier{Kind: n.kind, BlindIndex: n.forms.Stored(), Sealed: sealed}
		idx[i] = index.Identifier{Kind: n.kind, BlindIndex: ids[i].BlindIndex}
	}
	ev, err := s.auditEvent(ctx, pr, auditRec{action: audit.ContactCreate, objectType: "contact", objectID: c.ID,
		contactID: c.ID, fields: contactFields(c, ids)})
	if err != nil {
		return "", err
	}
	err = s.commit.do(ctx, func(tx store.Tx) error {
		if err := claimIdentifiers(ctx, tx, tk, pr.TenantID, c.ID, ns); err != nil {
			return err
		}
		if err := tx.CreateContact(ctx, c, ids); err != nil {
			return err
		}
		return writeAudit(ctx, tx, ev)
	}, func() { s.index.PutContact(pr.TenantID, id, false, idx) })
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

// GetContact returns one contact. The read and its audit event share a
// transaction: when the event cannot be written, nothing is returned.
func (s *Service) GetContact(ctx context.Context, pr auth.Principal, id string, rv Reveal) (ContactView, error) {
	if err := authorizeRead(pr, rv); err != nil {
		return ContactView{}, err
	}
	return s.readContact(ctx, pr, audit.ContactRead, rv, func(tx store.Tx) (string, error) { return id, nil })
}

// authorizeRead checks contacts:read and, when the caller asks to reveal,
// contacts:reveal.
func authorizeRead(pr auth.Principal, rv Reveal) error {
	if err := authorize(pr, auth.ContactsRead); err != nil {
		return err
	}
	if rv.Reason != "" {
		return authorize(pr, auth.ContactsReveal)
	}
	return nil
}

// contactFields names the personal-data fields of a contact, for audit
// events: identifier kinds, attributes, locale; never their values.
func contactFields(c *store.Contact, ids []store.Identifier) []string {
	var f []string
	for _, id := range ids {
		f = append(f, "identifiers."+string(id.Kind))
	}
	if len(c.AttributesSealed) > 0 {
		f = append(f, "attributes")
	}
	if c.Locale != "" {
		f = append(f, "locale")
	}
	return f
}

// readContact finds a contact with find and reads it, in one unit with the
// audit event. A lookup that finds no one is recorded too (result
// not_found): searching for a person is processing their data.
func (s *Service) readContact(ctx context.Context, pr auth.Principal, action audit.Action, rv Reveal,
	find func(store.Tx) (string, error)) (ContactView, error) {
	lookup := action == audit.ContactLookup
	if rv.Reason != "" {
		action = audit.ContactReveal
	}
	ev, err := s.auditEvent(ctx, pr, auditRec{action: action, objectType: "contact", reason: rv.Reason})
	if err != nil {
		return ContactView{}, err
	}
	var c *store.Contact
	var ids []store.Identifier
	// A masked read records a read; a reveal shows identifiers in clear and
	// is recorded as durably as a change.
	unit := s.commit.doRead
	if rv.Reason != "" {
		unit = func(ctx context.Context, fn func(store.Tx) error) error { return s.commit.do(ctx, fn, nil) }
	}
	err = unit(ctx, func(tx store.Tx) error {
		id, err := find(tx)
		if errors.Is(err, store.ErrNotFound) && lookup {
			ev.Result = audit.NotFound
			return writeAudit(ctx, tx, ev)
		}
		if err != nil {
			return err
		}
		if c, ids, err = tx.GetContact(ctx, pr.TenantID, id); err != nil {
			return err
		}
		ev.ObjectID, ev.ContactID, ev.Fields = c.ID, c.ID, contactFields(c, ids)
		return writeAudit(ctx, tx, ev)
	})
	if err == nil && c == nil {
		err = store.ErrNotFound
	}
	if err != nil {
		return ContactView{}, storeErr(err, "contact")
	}
	return s.viewContact(ctx, pr, c, ids, rv)
}

// LookupContact finds a contact by one identifier. Identifiers travel in the
// request body, never in a URL, where access logs would keep them.
func (s *Service) LookupContact(ctx context.Context, pr auth.Principal, kind consent.IdentifierKind, value string, rv Reveal) (ContactView, error) {
	if err := authorizeRead(pr, rv); err != nil {
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
	return s.readContact(ctx, pr, audit.ContactLookup, rv, func(tx store.Tx) (string, error) {
		return findContactID(ctx, tx, pr.TenantID, kind, n.forms)
	})
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
	// A reveal is in the audit trail with its reason, sealed; the log
	// carries nothing of it.
	return v, nil
}
