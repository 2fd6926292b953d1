package httpapi

import (
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"strings"

	"github.com/consentgate/consentgate/internal/apperr"
	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/service"
)

// idempotencyKey reads the Idempotency-Key header of a send.
func idempotencyKey(r *http.Request) string {
	return strings.TrimSpace(r.Header.Get("Idempotency-Key"))
}

// withRetryAfter copies a rate limit's wait into the Retry-After header.
func withRetryAfter(w http.ResponseWriter, err error) error {
	var ae *apperr.Error
	if errors.As(err, &ae) && (ae.Code == apperr.RateLimited || ae.Code == apperr.VolumeCapExceeded) {
		if s, ok := ae.Details["retry_after"].(int); ok {
			w.Header().Set("Retry-After", fmt.Sprint(max(s, 1)))
		}
	}
	return err
}

func (a *API) sendMessage(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	var in service.SendInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	v, created, err := a.svc.SendMessage(r.Context(), pr, in, idempotencyKey(r))
	if err != nil {
		return withRetryAfter(w, err)
	}
	if !created {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	w.Header().Set("Location", "/v1/messages/"+v.ID)
	writeJSON(w, http.StatusAccepted, v)
	return nil
}

// sendResult is one element of a batch send's answer.
type sendResult struct {
	*service.MessageView
	Error *sendError `json:"error,omitempty"`
}

type sendError struct {
	Code     apperr.Code `json:"code"`
	Detail   string      `json:"detail"`
	Decision any         `json:"decision,omitempty"`
}

func (a *API) sendMessages(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	var in struct {
		Messages []service.SendInput `json:"messages"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	items, err := a.svc.SendMessages(r.Context(), pr, in.Messages, idempotencyKey(r))
	if err != nil {
		return withRetryAfter(w, err)
	}
	out := make([]sendResult, len(items))
	for i, it := range items {
		if it.Error != nil {
			out[i].Error = &sendError{Code: it.Error.Code, Detail: it.Error.Message, Decision: it.Error.Details["decision"]}
			continue
		}
		out[i].MessageView = it.Message
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"messages": out})
	return nil
}

func (a *API) getMessage(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	v, err := a.svc.GetMessage(r.Context(), pr, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (a *API) putProvider(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	var in service.ProviderInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	v, err := a.svc.PutProvider(r.Context(), pr, r.PathValue("channel"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (a *API) listProviders(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	vs, err := a.svc.ListProviders(r.Context(), pr)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"providers": vs})
	return nil
}

func (a *API) deleteProvider(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	if err := a.svc.DeleteProvider(r.Context(), pr, r.PathValue("channel")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// deliveryReport takes a provider's delivery-status callback. It needs no
// API key: the provider signs it with the tenant's provider secret.
func (a *API) deliveryReport(w http.ResponseWriter, r *http.Request, _ auth.Principal) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		return apperr.New(apperr.TooLarge, "the report is larger than 64 KiB")
	}
	cb := service.StatusCallback{Header: r.Header, Body: body}
	if err := a.svc.RecordDeliveryReport(r.Context(), r.PathValue("tenant"), r.PathValue("channel"), cb); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

var unsubscribePage = template.Must(template.New("unsubscribe").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<meta name="robots" content="noindex"><title>Unsubscribe</title></head>
<body style="font-family:sans-serif;max-width:32em;margin:3em auto">
{{if .Done}}<h1>You are unsubscribed</h1>
<p>You will no longer receive “{{.PurposeName}}” by {{.Channel}}.</p>
{{else}}<h1>Unsubscribe?</h1>
<p>Stop receiving “{{.PurposeName}}” by {{.Channel}}.</p>
<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">
<button type="submit">Unsubscribe</button></form>{{end}}
</body></html>
`))

func writePage(w http.ResponseWriter, u service.Unsubscription) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; form-action 'self'")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(http.StatusOK)
	unsubscribePage.Execute(w, u)
}

// unsubscribeForm shows what the one-click link would stop. A GET changes
// nothing: link scanners and previews fetch every link in a mail.
func (a *API) unsubscribeForm(w http.ResponseWriter, r *http.Request, _ auth.Principal) error {
	u, err := a.svc.CheckUnsubscribe(r.Context(), r.PathValue("token"))
	if err != nil {
		return err
	}
	writePage(w, u)
	return nil
}

// unsubscribe is the RFC 8058 one-click POST (the mail client sends
// "List-Unsubscribe=One-Click"); the confirmation page's button posts the
// same.
func (a *API) unsubscribe(w http.ResponseWriter, r *http.Request, _ auth.Principal) error {
	io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, 4<<10))
	u, err := a.svc.Unsubscribe(r.Context(), r.PathValue("token"))
	if err != nil {
		return err
	}
	writePage(w, u)
	return nil
}
