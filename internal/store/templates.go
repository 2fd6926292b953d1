package store

import (
	"context"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
)

// TemplateStore holds the tenants' message templates: named texts with
// {{placeholder}} parameters, one per (name, channel, language). The text is
// the tenant's own copy, not personal data, so it is kept in clear; the
// parameters a send fills in never reach the store. It is embedded in Tx.
type TemplateStore interface {
	// CreateTemplate stores a template; ErrConflict when the tenant has
	// one of that name, channel and language already.
	CreateTemplate(ctx context.Context, t *Template) error
	// ListTemplates returns the tenant's templates ordered by name,
	// channel and language.
	ListTemplates(ctx context.Context, tenantID string) ([]*Template, error)
	// GetTemplates returns every variant (channel, language) of a name, in
	// the order of ListTemplates; none is an empty list, not an error.
	GetTemplates(ctx context.Context, tenantID, name string) ([]*Template, error)
	// DeleteTemplates removes the variants of a name that match channel and
	// language ("" matches any) and returns how many; ErrNotFound when none
	// matched.
	DeleteTemplates(ctx context.Context, tenantID, name string, ch consent.Channel, language string) (int, error)
}

// Template is one variant of a tenant's message template.
type Template struct {
	TenantID  string
	Name      string
	Channel   consent.Channel
	Language  string // ISO 639-1
	Subject   string // e-mail only; may hold placeholders
	Body      string
	CreatedAt time.Time
}
