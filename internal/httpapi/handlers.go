package httpapi

import (
	"net/http"
	"strings"

	"github.com/consentgate/consentgate/internal/apperr"
	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/service"
)

func (a *API) createPurpose(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	var in service.PurposeInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	v, err := a.svc.CreatePurpose(r.Context(), pr, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/purposes/"+v.Key)
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (a *API) listPurposes(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	ps, err := a.svc.ListPurposes(r.Context(), pr)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"purposes": ps})
	return nil
}

func (a *API) getPurpose(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	v, err := a.svc.GetPurpose(r.Context(), pr, r.PathValue("key"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (a *API) updatePurpose(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	var in service.PurposeInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	v, err := a.svc.UpdatePurpose(r.Context(), pr, r.PathValue("key"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (a *API) createContact(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	var in service.ContactInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	id, err := a.svc.CreateContact(r.Context(), pr, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/contacts/"+id)
	writeJSON(w, http.StatusCreated, map[string]string{"id": id})
	return nil
}

// reveal reads the X-Reveal-Reason header: identifiers come back in clear
// only when the caller gives a reason (and its role allows it).
func reveal(r *http.Request) (service.Reveal, error) {
	reason := strings.TrimSpace(r.Header.Get("X-Reveal-Reason"))
	if len(reason) > 500 {
		return service.Reveal{}, apperr.New(apperr.InvalidRequest, "X-Reveal-Reason is longer than 500 characters")
	}
	return service.Reveal{Reason: reason}, nil
}

func (a *API) getContact(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	rv, err := reveal(r)
	if err != nil {
		return err
	}
	v, err := a.svc.GetContact(r.Context(), pr, r.PathValue("id"), rv)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (a *API) lookupContact(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	var in struct {
		Phone    string `json:"phone"`
		Email    string `json:"email"`
		WhatsApp string `json:"whatsapp"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	var kind consent.IdentifierKind
	var value string
	n := 0
	for k, v := range map[consent.IdentifierKind]string{consent.KindPhone: in.Phone, consent.KindEmail: in.Email, consent.KindWhatsApp: in.WhatsApp} {
		if v != "" {
			kind, value = k, v
			n++
		}
	}
	if n != 1 {
		return apperr.New(apperr.InvalidRequest, "give exactly one of phone, email, whatsapp")
	}
	rv, err := reveal(r)
	if err != nil {
		return err
	}
	v, err := a.svc.LookupContact(r.Context(), pr, kind, value, rv)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (a *API) setConsent(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	var in service.ConsentInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	v, err := a.svc.SetConsent(r.Context(), pr, r.PathValue("id"), r.PathValue("purpose"), r.PathValue("channel"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (a *API) listConsents(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	vs, err := a.svc.ListConsents(r.Context(), pr, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"consents": vs})
	return nil
}

func (a *API) decide(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	var in service.DecisionInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	d, err := a.svc.Decide(r.Context(), pr, in)
	if err != nil {
		return err
	}
	a.metrics.decision(d)
	writeJSON(w, http.StatusOK, d)
	return nil
}

// batchResult is one element of a batch answer: the decision's fields, or
// an error with its code.
type batchResult struct {
	*consent.Decision
	Error *batchError `json:"error,omitempty"`
}

type batchError struct {
	Code   apperr.Code `json:"code"`
	Detail string      `json:"detail"`
}

func (a *API) decideBatch(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	var in struct {
		Decisions []service.DecisionInput `json:"decisions"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	items, err := a.svc.DecideBatch(r.Context(), pr, in.Decisions)
	if err != nil {
		return err
	}
	out := make([]batchResult, len(items))
	for i, it := range items {
		if it.Error != nil {
			out[i].Error = &batchError{Code: it.Error.Code, Detail: it.Error.Message}
			continue
		}
		out[i].Decision = it.Decision
		a.metrics.decision(*it.Decision)
	}
	writeJSON(w, http.StatusOK, map[string]any{"decisions": out})
	return nil
}
