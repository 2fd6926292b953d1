package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/consentgate/consentgate/internal/apperr"
)

// statusFor maps every application error code to its HTTP status; it is the
// only place that does.
func statusFor(c apperr.Code) int {
	switch c {
	case apperr.InvalidRequest:
		return http.StatusBadRequest
	case apperr.InvalidIdentifier, apperr.UnknownPurpose, apperr.UnknownChannel, apperr.InvalidPurpose,
		apperr.InvalidConsent, apperr.ChannelNotAllowed,
		apperr.InvalidMessage, apperr.ChannelNotReady, apperr.InvalidProvider, apperr.IdempotencyReused, apperr.SenderNotAllowed,
		apperr.InvalidKeyword, apperr.InvalidSender, apperr.InvalidTemplate,
		apperr.UndeclaredAttribute, apperr.InvalidAttribute, apperr.InvalidDSR, apperr.InvalidRecord:
		return http.StatusUnprocessableEntity
	case apperr.NotAcceptable:
		return http.StatusNotAcceptable
	case apperr.NotFound, apperr.UnknownSender: // issue 3: an inbound message to an unregistered address is 404 unknown_sender
		return http.StatusNotFound
	case apperr.Conflict, apperr.LegalHold:
		return http.StatusConflict
	case apperr.Unauthenticated, apperr.InvalidCredentials, apperr.InvalidSignature:
		return http.StatusUnauthorized
	case apperr.Forbidden, apperr.NotPermitted:
		return http.StatusForbidden
	case apperr.RateLimited, apperr.VolumeCapExceeded:
		return http.StatusTooManyRequests
	case apperr.TooLarge:
		return http.StatusRequestEntityTooLarge
	case apperr.UnsupportedMedia:
		return http.StatusUnsupportedMediaType
	case apperr.Unavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// Problem is an RFC 9457 problem document with the gateway's stable code.
type Problem struct {
	Type      string         `json:"type"`
	Title     string         `json:"title"`
	Status    int            `json:"status"`
	Code      apperr.Code    `json:"code"`
	Detail    string         `json:"detail,omitempty"`
	RequestID string         `json:"request_id,omitempty"`
	Extra     map[string]any `json:"-"`
}

func problemOf(err *apperr.Error, requestID string) Problem {
	st := statusFor(err.Code)
	return Problem{Type: "https://consentgate.dev/problems/" + string(err.Code), Title: http.StatusText(st),
		Status: st, Code: err.Code, Detail: err.Message, RequestID: requestID, Extra: err.Details}
}

// MarshalJSON flattens Extra into the document, as RFC 9457 extension
// members.
func (p Problem) MarshalJSON() ([]byte, error) {
	type plain Problem
	b, err := json.Marshal(plain(p))
	if err != nil || len(p.Extra) == 0 {
		return b, err
	}
	m := map[string]any{}
	for k, v := range p.Extra {
		m[k] = v
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return json.Marshal(m)
}

func writeProblem(w http.ResponseWriter, p Problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	json.NewEncoder(w).Encode(p)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
