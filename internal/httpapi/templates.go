package httpapi

import (
	"net/http"

	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/service"
)

func (a *API) createTemplate(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	var in service.TemplateInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	v, err := a.svc.CreateTemplate(r.Context(), pr, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/templates/"+v.Name)
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (a *API) listTemplates(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	vs, err := a.svc.ListTemplates(r.Context(), pr)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"templates": vs})
	return nil
}

// getTemplate answers the variants of a name, narrowed by ?channel= and
// ?language=.
func (a *API) getTemplate(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	q := r.URL.Query()
	vs, err := a.svc.GetTemplate(r.Context(), pr, r.PathValue("name"), q.Get("channel"), q.Get("language"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"name": r.PathValue("name"), "templates": vs})
	return nil
}

// deleteTemplate removes every variant of a name, or those of ?channel=
// and ?language=.
func (a *API) deleteTemplate(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	q := r.URL.Query()
	if _, err := a.svc.DeleteTemplate(r.Context(), pr, r.PathValue("name"), q.Get("channel"), q.Get("language")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
