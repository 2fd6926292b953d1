package service

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/consentgate/consentgate/internal/apperr"
	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/store"
)

// TemplateInput creates one variant (channel, language) of a message
// template.
type TemplateInput struct {
	Name     string `json:"name"`
	Channel  string `json:"channel"`
	Language string `json:"language"`
	Subject  string `json:"subject,omitempty"` // e-mail only
	Body     string `json:"body"`
}

// TemplateView is a message template as the API shows it.
type TemplateView struct {
	Name         string          `json:"name"`
	Channel      consent.Channel `json:"channel"`
	Language     string          `json:"language"`
	Subject      string          `json:"subject,omitempty"`
	Body         string          `json:"body"`
	Placeholders []string        `json:"placeholders"`
	CreatedAt    time.Time       `json:"created_at"`
}

// TemplateRef is a send's use of a template: which one and the values of
// its placeholders. The values may be personal data: they are only ever
// rendered into the sealed message, never stored, logged or quoted.
type TemplateRef struct {
	Name string `json:"name"`
	// Language is an ISO 639-1 code; empty means the contact's locale
	// language, then "en".
	Language string            `json:"language,omitempty"`
	Params   map[string]string `json:"params,omitempty"`
}

func viewTemplate(t *store.Template) TemplateView {
	_, names, _ := parseTemplate(t.Subject + "\n" + t.Body)
	if names == nil {
		names = []string{}
	}
	return TemplateView{Name: t.Name, Channel: t.Channel, Language: t.Language, Subject: t.Subject, Body: t.Body,
		Placeholders: names, CreatedAt: t.CreatedAt}
}

// CreateTemplate stores a variant of a message template; the same name,
// channel and language twice is a conflict (delete it first to change it).
func (s *Service) CreateTemplate(ctx context.Context, pr auth.Principal, in TemplateInput) (TemplateView, error) {
	if err := authorize(pr, auth.TemplatesWrite); err != nil {
		return TemplateView{}, err
	}
	ch, err := checkTemplateInput(in)
	if err != nil {
		return TemplateView{}, err
	}
	t := &store.Template{TenantID: pr.TenantID, Name: in.Name, Channel: ch, Language: in.Language, Subject: in.Subject,
		Body: in.Body, CreatedAt: s.now().Truncate(time.Microsecond)}
	if err := s.commit.do(ctx, func(tx store.Tx) error { return tx.CreateTemplate(ctx, t) }, nil); err != nil {
		return TemplateView{}, storeErr(err, "template")
	}
	return viewTemplate(t), nil
}

// checkTemplateInput refuses what could not be rendered faithfully.
func checkTemplateInput(in TemplateInput) (consent.Channel, error) {
	if !validTemplateName(in.Name) {
		return "", apperr.New(apperr.InvalidTemplate, "name must be 1-%d characters of a-z, 0-9, _ and -", maxTemplateNameBytes)
	}
	ch, err := consent.ParseChannel(in.Channel)
	if err != nil {
		return "", apperr.Wrap(err, apperr.UnknownChannel, "unknown channel %q", in.Channel)
	}
	if !validLanguage(in.Language) {
		return "", apperr.New(apperr.InvalidTemplate, "language must be an ISO 639-1 code in lower case")
	}
	switch {
	case in.Body == "" || len(in.Body) > maxTemplateBytes:
		return "", apperr.New(apperr.InvalidTemplate, "body is 1-%d bytes", maxTemplateBytes)
	case !utf8.ValidString(in.Body) || !utf8.ValidString(in.Subject):
		return "", apperr.New(apperr.InvalidTemplate, "body and subject must be UTF-8")
	case in.Subject != "" && ch != consent.Email:
		return "", apperr.New(apperr.InvalidTemplate, "only e-mail templates have a subject")
	case strings.ContainsAny(in.Subject, "\r\n\x00") || len(in.Subject) > maxSubjectBytes:
		return "", apperr.New(apperr.InvalidTemplate, "subject must be one line of at most %d bytes", maxSubjectBytes)
	}
	// Subject and body share the placeholder limit: a send fills both.
	if _, _, err := parseTemplate(in.Subject + "\n" + in.Body); err != nil {
		return "", apperr.New(apperr.InvalidTemplate, "%s", err.Error())
	}
	return ch, nil
}

func validLanguage(lang string) bool {
	return len(lang) == 2 && lang[0] >= 'a' && lang[0] <= 'z' && lang[1] >= 'a' && lang[1] <= 'z'
}

// ListTemplates returns the tenant's templates.
func (s *Service) ListTemplates(ctx context.Context, pr auth.Principal) ([]TemplateView, error) {
	if err := authorize(pr, auth.TemplatesRead); err != nil {
		return nil, err
	}
	var ts []*store.Template
	if err := s.store.Read(ctx, func(tx store.Tx) (err error) {
		ts, err = tx.ListTemplates(ctx, pr.TenantID)
		return err
	}); err != nil {
		return nil, storeErr(err, "template")
	}
	out := make([]TemplateView, 0, len(ts))
	for _, t := range ts {
		out = append(out, viewTemplate(t))
	}
	return out, nil
}

// GetTemplate returns the variants of a template name, narrowed by channel
// and language when they are given. None (or another tenant's) is not
// found.
func (s *Service) GetTemplate(ctx context.Context, pr auth.Principal, name, channel, language string) ([]TemplateView, error) {
	if err := authorize(pr, auth.TemplatesRead); err != nil {
		return nil, err
	}
	var ts []*store.Template
	if err := s.store.Read(ctx, func(tx store.Tx) (err error) {
		ts, err = tx.GetTemplates(ctx, pr.TenantID, name)
		return err
	}); err != nil {
		return nil, storeErr(err, "template")
	}
	var out []TemplateView
	for _, t := range ts {
		if (channel == "" || string(t.Channel) == channel) && (language == "" || t.Language == language) {
			out = append(out, viewTemplate(t))
		}
	}
	if len(out) == 0 {
		return nil, apperr.New(apperr.NotFound, "template not found")
	}
	return out, nil
}

// DeleteTemplate removes the variants of a name that match channel and
// language (empty: any) and returns how many.
func (s *Service) DeleteTemplate(ctx context.Context, pr auth.Principal, name, channel, language string) (int, error) {
	if err := authorize(pr, auth.TemplatesWrite); err != nil {
		return 0, err
	}
	var ch consent.Channel
	if channel != "" {
		var err error
		if ch, err = consent.ParseChannel(channel); err != nil {
			return 0, apperr.Wrap(err, apperr.UnknownChannel, "unknown channel %q", channel)
		}
	}
	var n int
	err := s.commit.do(ctx, func(tx store.Tx) (err error) {
		n, err = tx.DeleteTemplates(ctx, pr.TenantID, name, ch, language)
		return err
	}, nil)
	if err != nil {
		return 0, storeErr(err, "template")
	}
	return n, nil
}

// checkTemplateRef checks a send's template reference before anything is
// read: the name, the language and the bounds on the parameters.
func checkTemplateRef(ref *TemplateRef) error {
	if !validTemplateName(ref.Name) {
		return apperr.New(apperr.InvalidTemplate, "template name must be 1-%d characters of a-z, 0-9, _ and -", maxTemplateNameBytes)
	}
	if ref.Language != "" && !validLanguage(ref.Language) {
		return apperr.New(apperr.InvalidTemplate, "template language must be an ISO 639-1 code in lower case")
	}
	if len(ref.Params) > maxTemplateParams {
		return apperr.New(apperr.InvalidTemplate, "a send carries at most %d template parameters", maxTemplateParams)
	}
	for k, v := range ref.Params {
		// The name may be quoted in an error (it is the caller's schema);
		// the value never is.
		if !validPlaceholder(k) {
			return apperr.New(apperr.InvalidTemplate, "template parameter names are 1-%d characters of a-z, 0-9 and _", maxPlaceholderName)
		}
		if !utf8.ValidString(v) || utf8.RuneCountInString(v) > maxTemplateParamLen {
			return apperr.New(apperr.InvalidTemplate, "template parameter %q must be UTF-8 of at most %d characters", k, maxTemplateParamLen)
		}
	}
	return nil
}

// renderFor picks the variant of a send's template for the channel and
// language and renders it. Without a language the contact's locale
// language is tried, then "en".
func renderFor(ctx context.Context, tx store.Tx, tenantID string, ch consent.Channel, ref *TemplateRef, locale string) (subject, body string, err error) {
	ts, err := tx.GetTemplates(ctx, tenantID, ref.Name)
	if err != nil {
		return "", "", err
	}
	langs := []string{ref.Language}
	if ref.Language == "" {
		langs = []string{"en"}
		if l := localeLanguage(locale); l != "" && l != "en" {
			langs = []string{l, "en"}
		}
	}
	var t *store.Template
	for _, l := range langs {
		for _, c := range ts {
			if t == nil && c.Channel == ch && c.Language == l {
				t = c
			}
		}
	}
	if t == nil {
		return "", "", apperr.New(apperr.InvalidTemplate, "no template %q for channel %s in language %s", ref.Name, ch, strings.Join(langs, " or "))
	}
	if subject, err = renderText(t.Subject, ref.Params); err == nil {
		body, err = renderText(t.Body, ref.Params)
	}
	return subject, body, err
}

func renderText(text string, params map[string]string) (string, error) {
	parts, _, err := parseTemplate(text)
	if err == nil {
		text, err = renderTemplate(parts, params)
	}
	if err != nil {
		return "", apperr.New(apperr.InvalidTemplate, "template: %s", err.Error())
	}
	return text, nil
}

// localeLanguage is the ISO 639-1 part of a locale such as "da-DK".
func localeLanguage(locale string) string {
	l, _, _ := strings.Cut(strings.ReplaceAll(locale, "_", "-"), "-")
	l = strings.ToLower(l)
	if !validLanguage(l) {
		return ""
	}
	return l
}
