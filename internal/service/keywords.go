package service

import (
	"context"
	"errors"
	"strings"

	"github.com/consentgate/consentgate/internal/apperr"
	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/keyword"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/oklog/ulid/v2"
)

// maxKeywordRules bounds a tenant's rules: a classifier is built from all of
// them on every change, and a hundred purpose keywords is already a lot.
const maxKeywordRules = 200

// KeywordRuleInput creates a tenant keyword, such as
// {"phrase":"STOP NEWS","intent":"opt_out","scope":"newsletter","language":"en"}.
type KeywordRuleInput struct {
	Phrase   string `json:"phrase"`
	Intent   string `json:"intent"`
	Action   string `json:"action"`
	Scope    string `json:"scope"`
	Language string `json:"language"`
}

// KeywordRuleView is a tenant keyword as the API shows it.
type KeywordRuleView struct {
	ID string `json:"id"`
	KeywordRuleInput
}

func ruleOf(r *store.KeywordRule) keyword.Rule {
	return keyword.Rule{Phrase: r.Phrase, Intent: keyword.Intent(r.Intent), Action: keyword.Action(r.Action),
		Scope: r.Scope, Language: r.Language}
}

func viewRule(r *store.KeywordRule) KeywordRuleView {
	return KeywordRuleView{ID: r.ID, KeywordRuleInput: KeywordRuleInput{Phrase: r.Phrase, Intent: r.Intent,
		Action: r.Action, Scope: r.Scope, Language: r.Language}}
}

// CreateKeywordRule adds a tenant keyword. The tenant's whole rule set is
// compiled with keyword.New before it is stored, so a rule that would make
// the classifier invalid (a duplicate phrase, an action of another intent)
// is refused here, not at the next inbound message.
func (s *Service) CreateKeywordRule(ctx context.Context, pr auth.Principal, in KeywordRuleInput) (KeywordRuleView, error) {
	if err := authorize(pr, auth.KeywordsWrite); err != nil {
		return KeywordRuleView{}, err
	}
	in.Phrase = strings.TrimSpace(in.Phrase)
	if in.Scope == "" {
		in.Scope = keyword.ScopeSender
	}
	if len(in.Phrase) > 200 {
		return KeywordRuleView{}, apperr.New(apperr.InvalidKeyword, "phrase is longer than 200 bytes")
	}
	r := &store.KeywordRule{ID: ulid.Make().String(), TenantID: pr.TenantID, Phrase: in.Phrase, Intent: in.Intent,
		Action: in.Action, Scope: in.Scope, Language: strings.ToLower(in.Language), CreatedAt: s.now()}
	err := s.commit.do(ctx, func(tx store.Tx) error {
		rules, err := tx.ListKeywordRules(ctx, pr.TenantID)
		if err != nil {
			return err
		}
		if len(rules) >= maxKeywordRules {
			return apperr.New(apperr.InvalidKeyword, "a tenant has at most %d keyword rules", maxKeywordRules)
		}
		if in.Scope != keyword.ScopeSender && in.Scope != keyword.ScopeAll {
			if _, err := tx.GetPurpose(ctx, pr.TenantID, in.Scope); errors.Is(err, store.ErrNotFound) {
				return apperr.New(apperr.UnknownPurpose, "scope %q is neither sender, all nor a purpose key", in.Scope)
			} else if err != nil {
				return err
			}
		}
		krs := make([]keyword.Rule, 0, len(rules)+1)
		for _, x := range append(rules, r) {
			krs = append(krs, ruleOf(x))
		}
		if _, err := keyword.New(krs); errors.Is(err, keyword.ErrDuplicate) {
			return apperr.Wrap(err, apperr.Conflict, "this phrase already exists in this language")
		} else if err != nil {
			return apperr.Wrap(err, apperr.InvalidKeyword, "%v", err)
		}
		return tx.CreateKeywordRule(ctx, r)
	}, func() { s.inbound.dropClassifier(pr.TenantID) })
	if errors.Is(err, store.ErrConflict) {
		return KeywordRuleView{}, apperr.Wrap(err, apperr.Conflict, "this phrase already exists in this language")
	}
	if err != nil {
		return KeywordRuleView{}, storeErr(err, "keyword")
	}
	return viewRule(r), nil
}

// ListKeywordRules returns the tenant's keywords.
func (s *Service) ListKeywordRules(ctx context.Context, pr auth.Principal) ([]KeywordRuleView, error) {
	if err := authorize(pr, auth.KeywordsRead); err != nil {
		return nil, err
	}
	var rules []*store.KeywordRule
	if err := s.store.Read(ctx, func(tx store.Tx) (err error) {
		rules, err = tx.ListKeywordRules(ctx, pr.TenantID)
		return err
	}); err != nil {
		return nil, storeErr(err, "keyword")
	}
	out := make([]KeywordRuleView, 0, len(rules))
	for _, r := range rules {
		out = append(out, viewRule(r))
	}
	return out, nil
}

// DeleteKeywordRule removes a tenant keyword.
func (s *Service) DeleteKeywordRule(ctx context.Context, pr auth.Principal, id string) error {
	if err := authorize(pr, auth.KeywordsWrite); err != nil {
		return err
	}
	err := s.commit.do(ctx, func(tx store.Tx) error { return tx.DeleteKeywordRule(ctx, pr.TenantID, id) },
		func() { s.inbound.dropClassifier(pr.TenantID) })
	return storeErr(err, "keyword")
}

// ClassifyResult is one classified text, as the API shows it.
type ClassifyResult struct {
	Text string `json:"text"`
	keyword.Result
}

// Classify classifies texts with the tenant's keyword configuration.
func (s *Service) Classify(ctx context.Context, pr auth.Principal, texts []string, lang string) ([]ClassifyResult, error) {
	if err := authorize(pr, auth.KeywordsRead); err != nil {
		return nil, err
	}
	if len(texts) == 0 || len(texts) > 1000 {
		return nil, apperr.New(apperr.InvalidRequest, "give either text or texts (1-1000 messages)")
	}
	c, err := s.classifier(ctx, pr.TenantID)
	if err != nil {
		return nil, err
	}
	out := make([]ClassifyResult, len(texts))
	for i, t := range texts {
		out[i] = ClassifyResult{Text: t, Result: c.Classify(t, lang)}
	}
	return out, nil
}

// classifier returns the tenant's compiled classifier, cached and rebuilt
// when a rule changes (on this node at once, on others within the TTL).
// Tenants without rules share keyword.Default().
func (s *Service) classifier(ctx context.Context, tenantID string) (*keyword.Classifier, error) {
	now := s.now()
	if c, ok := cacheGet(&s.inbound, s.inbound.classifiers, tenantID); ok && now.Before(c.expires) {
		return c.c, nil
	}
	var rules []*store.KeywordRule
	if err := s.store.Read(ctx, func(tx store.Tx) (err error) {
		rules, err = tx.ListKeywordRules(ctx, tenantID)
		return err
	}); err != nil {
		return nil, storeErr(err, "keyword")
	}
	c := keyword.Default()
	if len(rules) > 0 {
		krs := make([]keyword.Rule, len(rules))
		for i, r := range rules {
			krs[i] = ruleOf(r)
		}
		var err error
		if c, err = keyword.New(krs); err != nil {
			// Rules are validated when stored; a set that no longer
			// compiles must not stop opt-outs: fall back to the packs.
			s.log.ErrorContext(ctx, "tenant keyword rules do not compile; using the default packs", "tenant", tenantID, "err", err)
			c = keyword.Default()
		}
	}
	s.inbound.putClassifier(tenantID, cachedClassifier{c: c, expires: now.Add(inboundCacheTTL)})
	return c, nil
}
