package httpapi

import (
	"net/http"

	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/service"
)

// Privacy routes: attribute declarations, data-subject requests, legal
// holds and retention. Identifiers travel in bodies only.

func (a *API) createAttribute(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	var in service.AttributeInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	v, err := a.svc.DeclareAttribute(r.Context(), pr, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (a *API) listAttributes(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	vs, err := a.svc.ListAttributes(r.Context(), pr)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"attributes": vs})
	return nil
}

func (a *API) createDSR(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	var in service.DSRInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	v, repeated, err := a.svc.CreateDSR(r.Context(), pr, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/dsr/"+v.ID)
	status := http.StatusCreated
	if repeated {
		status = http.StatusOK // a second erasure: the first certificate
	}
	writeJSON(w, status, v)
	return nil
}

func (a *API) listDSRs(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	vs, err := a.svc.ListDSRs(r.Context(), pr, r.URL.Query().Get("status") == "all")
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"requests": vs})
	return nil
}

func (a *API) getDSR(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	v, err := a.svc.GetDSR(r.Context(), pr, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (a *API) extendDSR(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	var in struct {
		Reason string `json:"reason"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	v, err := a.svc.ExtendDSR(r.Context(), pr, r.PathValue("id"), in.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (a *API) executeDSR(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	var in service.DSRInput
	if r.ContentLength != 0 {
		if err := decode(w, r, &in); err != nil {
			return err
		}
	}
	v, err := a.svc.ExecuteDSR(r.Context(), pr, r.PathValue("id"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (a *API) dsrExport(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	ex, err := a.svc.DSRExport(r.Context(), pr, r.PathValue("id"))
	if err != nil {
		return err
	}
	if r.URL.Query().Get("format") == "html" {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
		return ex.WriteHTML(w)
	}
	w.Header().Set("Content-Disposition", `attachment; filename="export-`+ex.RequestID+`.json"`)
	writeJSON(w, http.StatusOK, ex)
	return nil
}

func (a *API) putLegalHold(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	var in struct {
		Reason string `json:"reason"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	v, err := a.svc.SetLegalHold(r.Context(), pr, r.PathValue("id"), in.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (a *API) deleteLegalHold(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	if err := a.svc.ReleaseLegalHold(r.Context(), pr, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) getRetention(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	vs, err := a.svc.GetRetention(r.Context(), pr)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"policies": vs})
	return nil
}

func (a *API) putRetention(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	var in service.RetentionInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	vs, err := a.svc.PutRetention(r.Context(), pr, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"policies": vs})
	return nil
}

func (a *API) listPurges(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	vs, err := a.svc.TenantPurgeLog(r.Context(), pr)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"purges": vs})
	return nil
}
