package httpapi

import (
	"net/http"

	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/service"
)

func (a *API) createSender(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	var in service.SenderInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	v, err := a.svc.CreateSender(r.Context(), pr, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/senders/"+v.ID)
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (a *API) listSenders(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	vs, err := a.svc.ListSenders(r.Context(), pr)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"senders": vs})
	return nil
}

func (a *API) getSender(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	v, err := a.svc.GetSender(r.Context(), pr, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (a *API) putTenantProfile(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	var in service.TenantProfile
	if err := decode(w, r, &in); err != nil {
		return err
	}
	v, err := a.svc.PutTenantProfile(r.Context(), pr, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (a *API) getTenantProfile(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	v, err := a.svc.GetTenantProfile(r.Context(), pr)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (a *API) putWebhookSecret(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	var in service.WebhookSecretInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	v, err := a.svc.PutWebhookSecret(r.Context(), pr, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (a *API) listWebhookSecrets(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	vs, err := a.svc.ListWebhookSecrets(r.Context(), pr)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"webhook_secrets": vs})
	return nil
}

func (a *API) putForwarding(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	var in service.ForwardTargetInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	v, err := a.svc.PutForwardTarget(r.Context(), pr, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (a *API) getForwarding(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	v, err := a.svc.GetForwardTarget(r.Context(), pr)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}
