package httpapi

import (
	"net/http"

	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/service"
)

func (a *API) createKeyword(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	var in service.KeywordRuleInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	v, err := a.svc.CreateKeywordRule(r.Context(), pr, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/keywords/"+v.ID)
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (a *API) listKeywords(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	vs, err := a.svc.ListKeywordRules(r.Context(), pr)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"keywords": vs})
	return nil
}

func (a *API) deleteKeyword(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	if err := a.svc.DeleteKeywordRule(r.Context(), pr, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// classifyRequest takes one text or many; language is the conversation's
// language hint.
type classifyRequest struct {
	Text     string   `json:"text"`
	Texts    []string `json:"texts"`
	Language string   `json:"language"`
}

func (a *API) classify(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	var in classifyRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	// The shape is checked by the service, after it has authorized the
	// caller: an unauthorized caller learns nothing about what it sent.
	texts := in.Texts
	if in.Text != "" {
		texts = nil // both given: invalid
		if len(in.Texts) == 0 {
			texts = []string{in.Text}
		}
	}
	rs, err := a.svc.Classify(r.Context(), pr, texts, in.Language)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": rs})
	return nil
}

func (a *API) listReplyTemplates(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	vs, err := a.svc.ListReplyTemplates(r.Context(), pr)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"reply_templates": vs})
	return nil
}

func (a *API) putReplyTemplate(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	var in struct {
		Body string `json:"body"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	v, err := a.svc.PutReplyTemplate(r.Context(), pr, r.PathValue("kind"), r.PathValue("language"), in.Body)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (a *API) deleteReplyTemplate(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	if err := a.svc.DeleteReplyTemplate(r.Context(), pr, r.PathValue("kind"), r.PathValue("language")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
