package httpapi

import (
	"errors"
	"io"
	"mime"
	"net/http"

	"github.com/consentgate/consentgate/internal/apperr"
	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/inbound"
	"github.com/consentgate/consentgate/internal/service"
	"github.com/consentgate/consentgate/internal/store"
)

// The inbound webhooks are public routes: providers cannot send a bearer
// key. Each is authenticated by its provider's signature, checked with the
// secret of the tenant that owns the destination address, before anything
// is stored. Order: read (bounded) → decode → route → verify → act.

// inboundErr maps the decoders' errors onto application errors.
func inboundErr(err error) error {
	switch {
	case errors.Is(err, inbound.ErrTooLarge):
		return apperr.New(apperr.TooLarge, "the message text or body is too large")
	case errors.Is(err, inbound.ErrSignature):
		return apperr.New(apperr.InvalidSignature, "the webhook signature is missing, stale or does not match")
	case errors.Is(err, inbound.ErrMalformed):
		return apperr.Wrap(err, apperr.InvalidRequest, "the payload is malformed")
	}
	return err
}

// readBody reads at most limit bytes of the body.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, apperr.New(apperr.TooLarge, "the body is larger than %d bytes", limit)
	}
	if err != nil {
		return nil, apperr.Wrap(err, apperr.InvalidRequest, "the body could not be read")
	}
	return b, nil
}

func (a *API) inboundGeneric(w http.ResponseWriter, r *http.Request, _ auth.Principal) error {
	ch, err := consent.ParseChannel(r.PathValue("channel"))
	if err != nil {
		return apperr.Wrap(err, apperr.UnknownChannel, "unknown channel %q", r.PathValue("channel"))
	}
	body, err := readBody(w, r, inbound.MaxBodyBytes)
	if err != nil {
		return err
	}
	m, err := inbound.DecodeGeneric(ch, body)
	if err != nil {
		return inboundErr(err)
	}
	ctx := r.Context()
	sn, err := a.svc.RouteInbound(ctx, ch, m.To)
	if err != nil {
		return err
	}
	keys, err := a.svc.WebhookKeys(ctx, sn.TenantID, service.ProviderGeneric)
	if err != nil {
		return err
	}
	if err := inbound.VerifyGeneric(keys, r.Header.Get(inbound.HeaderWebhookID), r.Header.Get(inbound.HeaderWebhookTimestamp),
		r.Header.Get(inbound.HeaderWebhookSignature), body, a.svc.Now()); err != nil {
		return inboundErr(err)
	}
	res, err := a.svc.HandleInbound(ctx, sn, m)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// twimlEmpty answers Twilio: replies go out through the outbox, not TwiML.
const twimlEmpty = `<?xml version="1.0" encoding="UTF-8"?><Response></Response>`

func (a *API) inboundTwilio(w http.ResponseWriter, r *http.Request, _ auth.Principal) error {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		return apperr.New(apperr.UnsupportedMedia, "Twilio webhooks are application/x-www-form-urlencoded")
	}
	r.Body = http.MaxBytesReader(w, r.Body, inbound.MaxBodyBytes)
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return apperr.New(apperr.TooLarge, "the body is larger than %d bytes", inbound.MaxBodyBytes)
		}
		return apperr.New(apperr.InvalidRequest, "the form body is malformed")
	}
	m, err := inbound.DecodeTwilio(r.PostForm)
	if err != nil {
		return inboundErr(err)
	}
	ctx := r.Context()
	sn, err := a.svc.RouteInbound(ctx, m.Channel, m.To)
	if err != nil {
		return err
	}
	keys, err := a.svc.WebhookKeys(ctx, sn.TenantID, service.ProviderTwilio)
	if err != nil {
		return err
	}
	if err := inbound.VerifyTwilio(keys, requestURL(r), r.PostForm, r.Header.Get(inbound.HeaderTwilioSignature)); err != nil {
		return inboundErr(err)
	}
	res, err := a.svc.HandleInbound(ctx, sn, m)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Consentgate-Outcome", res.Outcome)
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, twimlEmpty)
	return nil
}

// requestURL is the URL the provider called, which Twilio signs. Behind a
// TLS-terminating proxy the scheme and host come from X-Forwarded-Proto and
// X-Forwarded-Host; trusting them is safe here because the URL only narrows
// what a valid signature covers, and forging one still needs the token.
func requestURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "https" || p == "http" {
		scheme = p
	}
	host := r.Host
	if h := r.Header.Get("X-Forwarded-Host"); h != "" {
		host = h
	}
	return scheme + "://" + host + r.URL.RequestURI()
}

func (a *API) inboundWhatsApp(w http.ResponseWriter, r *http.Request, _ auth.Principal) error {
	body, err := readBody(w, r, inbound.MaxBodyBytes)
	if err != nil {
		return err
	}
	msgs, err := inbound.DecodeWhatsApp(body)
	if err != nil {
		return inboundErr(err)
	}
	ctx := r.Context()
	// Every message is routed and every tenant's signature checked before
	// any message is acted on, so a bad signature stores nothing.
	senders := make([]*store.Sender, len(msgs))
	verified := map[string]bool{}
	for i, m := range msgs {
		sn, err := a.svc.RouteInbound(ctx, m.Channel, m.To)
		if err != nil {
			return err
		}
		senders[i] = sn
		if verified[sn.TenantID] {
			continue
		}
		keys, err := a.svc.WebhookKeys(ctx, sn.TenantID, service.ProviderWhatsApp)
		if err != nil {
			return err
		}
		if err := inbound.VerifyWhatsApp(keys, body, r.Header.Get(inbound.HeaderHubSignature)); err != nil {
			return inboundErr(err)
		}
		verified[sn.TenantID] = true
	}
	results := make([]service.InboundResult, 0, len(msgs))
	for i, m := range msgs {
		res, err := a.svc.HandleInbound(ctx, senders[i], m)
		if err != nil {
			return err
		}
		results = append(results, res)
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": results})
	return nil
}

// verifyWhatsApp answers Meta's webhook subscription handshake (GET with
// hub.mode, hub.verify_token, hub.challenge): the challenge as plain text
// when the verify token is a tenant's, 403 otherwise.
func (a *API) verifyWhatsApp(w http.ResponseWriter, r *http.Request, _ auth.Principal) error {
	q := r.URL.Query()
	ch, err := a.svc.VerifyWhatsAppSubscription(r.Context(), q.Get("hub.mode"), q.Get("hub.verify_token"), q.Get("hub.challenge"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	io.WriteString(w, ch)
	return nil
}
