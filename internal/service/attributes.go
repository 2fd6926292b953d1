package service

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/consentgate/consentgate/internal/apperr"
	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/store"
)

// Attribute types a declaration may name. Dates are ISO 8601 calendar dates
// (2006-01-02): a birthday needs no time of day or zone.
var attributeTypes = []string{"string", "number", "boolean", "date"}

var attrNameRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
var categoryRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// maxAttributeString caps one string attribute: a name or a preference, not
// a document.
const maxAttributeString = 256

// attrCacheTTL bounds how long a declaration made by another process (or
// node) takes to be honoured here.
const attrCacheTTL = 5 * time.Second

type attrCache struct {
	defs    map[string]*store.AttributeDef
	expires time.Time
}

// AttributeInput declares an attribute.
type AttributeInput struct {
	Name          string `json:"name"`
	Type          string `json:"type"`
	Category      string `json:"category"`
	Purpose       string `json:"purpose"`
	RetentionDays int    `json:"retention_days"`
	Description   string `json:"description"`
}

// AttributeView is a declaration as the API shows it.
type AttributeView struct {
	Name          string    `json:"name"`
	Type          string    `json:"type"`
	Category      string    `json:"category"`
	Purpose       string    `json:"purpose"`
	RetentionDays int       `json:"retention_days"`
	Description   string    `json:"description,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
}

func viewAttribute(d *store.AttributeDef) AttributeView {
	return AttributeView{Name: d.Name, Type: d.Type, Category: d.Category, Purpose: d.Purpose,
		RetentionDays: int(d.Retention / (24 * time.Hour)), Description: d.Description, CreatedAt: d.CreatedAt}
}

// DeclareAttribute declares a contact attribute: only declared attributes
// are accepted on contacts (data minimisation). A declaration names why the
// attribute is collected (a purpose of the tenant) and how long it is kept.
func (s *Service) DeclareAttribute(ctx context.Context, pr auth.Principal, in AttributeInput) (AttributeView, error) {
	if err := authorize(pr, auth.PurposesWrite); err != nil {
		return AttributeView{}, err
	}
	switch {
	case !attrNameRE.MatchString(in.Name):
		return AttributeView{}, apperr.New(apperr.InvalidRequest, "name must match %s", attrNameRE)
	case !slices.Contains(attributeTypes, in.Type):
		return AttributeView{}, apperr.New(apperr.InvalidRequest, "type must be one of %s", strings.Join(attributeTypes, ", "))
	case !categoryRE.MatchString(in.Category):
		return AttributeView{}, apperr.New(apperr.InvalidRequest, "category (the data category) must match %s", categoryRE)
	case in.RetentionDays <= 0 || in.RetentionDays > 3650:
		return AttributeView{}, apperr.New(apperr.InvalidRequest, "retention_days must be 1-3650: every attribute needs a retention period")
	case len(in.Description) > 500:
		return AttributeView{}, apperr.New(apperr.InvalidRequest, "description is longer than 500 characters")
	}
	d := &store.AttributeDef{TenantID: pr.TenantID, Name: in.Name, Type: in.Type, Category: in.Category, Purpose: in.Purpose,
		Retention: time.Duration(in.RetentionDays) * 24 * time.Hour, Description: in.Description, CreatedAt: s.now()}
	err := s.store.Write(ctx, func(tx store.Tx) error {
		if _, err := tx.GetPurpose(ctx, pr.TenantID, in.Purpose); errors.Is(err, store.ErrNotFound) {
			return apperr.New(apperr.UnknownPurpose, "unknown purpose %q: an attribute is collected for a declared purpose", in.Purpose)
		} else if err != nil {
			return err
		}
		return tx.CreateAttributeDef(ctx, d)
	})
	if err != nil {
		return AttributeView{}, storeErr(err, "attribute")
	}
	s.privacy.attrMu.Lock()
	delete(s.privacy.attrs, pr.TenantID)
	s.privacy.attrMu.Unlock()
	return viewAttribute(d), nil
}

// ListAttributes returns the tenant's declared attributes.
func (s *Service) ListAttributes(ctx context.Context, pr auth.Principal) ([]AttributeView, error) {
	if err := authorize(pr, auth.PurposesRead); err != nil {
		return nil, err
	}
	defs, err := s.attributeDefs(ctx, pr.TenantID, true)
	if err != nil {
		return nil, err
	}
	out := make([]AttributeView, 0, len(defs))
	for _, d := range defs {
		out = append(out, viewAttribute(d))
	}
	slices.SortFunc(out, func(a, b AttributeView) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func (s *Service) attributeDefs(ctx context.Context, tenantID string, fresh bool) (map[string]*store.AttributeDef, error) {
	now := time.Now()
	if !fresh {
		s.privacy.attrMu.RLock()
		c := s.privacy.attrs[tenantID]
		s.privacy.attrMu.RUnlock()
		if c != nil && now.Before(c.expires) {
			return c.defs, nil
		}
	}
	var defs []*store.AttributeDef
	if err := s.store.Read(ctx, func(tx store.Tx) (err error) {
		defs, err = tx.ListAttributeDefs(ctx, tenantID)
		return err
	}); err != nil {
		return nil, storeErr(err, "attributes")
	}
	m := make(map[string]*store.AttributeDef, len(defs))
	for _, d := range defs {
		m[d.Name] = d
	}
	s.privacy.attrMu.Lock()
	if s.privacy.attrs == nil {
		s.privacy.attrs = map[string]*attrCache{}
	}
	s.privacy.attrs[tenantID] = &attrCache{defs: m, expires: now.Add(attrCacheTTL)}
	s.privacy.attrMu.Unlock()
	return m, nil
}

// checkAttributes refuses attributes the tenant has not declared, and
// values of the wrong type, before anything is sealed or stored.
func (s *Service) checkAttributes(ctx context.Context, tenantID string, attrs map[string]any) error {
	if len(attrs) == 0 {
		return nil
	}
	defs, err := s.attributeDefs(ctx, tenantID, false)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(attrs))
	for k := range attrs {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, name := range names {
		d := defs[name]
		if d == nil {
			// A name declared a moment ago by another process: look again
			// before refusing.
			if defs, err = s.attributeDefs(ctx, tenantID, true); err != nil {
				return err
			}
			if d = defs[name]; d == nil {
				return &apperr.Error{Code: apperr.UndeclaredAttribute,
					Message: "attribute " + name + " is not declared (POST /v1/attributes); only declared attributes are collected",
					Details: map[string]any{"attribute": name}}
			}
		}
		if !valueFits(d.Type, attrs[name]) {
			return &apperr.Error{Code: apperr.InvalidAttribute,
				Message: "attribute " + name + " must be a " + d.Type,
				Details: map[string]any{"attribute": name, "type": d.Type}}
		}
	}
	return nil
}

// valueFits reports whether a decoded JSON value has the declared type. Null
// is refused: an attribute without a value is left out, not stored.
func valueFits(typ string, v any) bool {
	switch typ {
	case "string":
		s, ok := v.(string)
		return ok && len(s) <= maxAttributeString
	case "number":
		_, ok := v.(float64)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "date":
		s, ok := v.(string)
		if !ok {
			return false
		}
		_, err := time.Parse(time.DateOnly, s)
		return err == nil
	}
	return false
}
