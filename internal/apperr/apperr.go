// Package apperr is the one application error type: a stable code that
// clients branch on, a safe message that may be shown to them, optional
// details, and the wrapped cause that only reaches the logs. The HTTP layer
// maps codes to status codes in one place (httpapi.statusFor).
package apperr

import (
	"errors"
	"fmt"
)

// Code is a stable machine-readable error code, part of the public API.
type Code string

// The error codes.
const (
	InvalidRequest      Code = "invalid_request"    // malformed JSON, unknown fields, wrong types
	InvalidIdentifier   Code = "invalid_identifier" // unparseable phone or e-mail
	UnknownPurpose      Code = "unknown_purpose"
	UnknownChannel      Code = "unknown_channel"
	InvalidPurpose      Code = "invalid_purpose"
	InvalidConsent      Code = "invalid_consent"
	ChannelNotAllowed   Code = "channel_not_allowed" // channel not among the purpose's channels
	NotFound            Code = "not_found"
	Conflict            Code = "conflict"
	Unauthenticated     Code = "unauthenticated"
	InvalidCredentials  Code = "invalid_credentials" // a sign-in's tenant, e-mail address or password is wrong (which one is not said)
	Forbidden           Code = "forbidden"
	TooLarge            Code = "request_too_large"
	UnsupportedMedia    Code = "unsupported_media_type"
	Unavailable         Code = "unavailable"
	NotPermitted        Code = "not_permitted"          // the decision refused the message; Details carry it
	RateLimited         Code = "rate_limited"           // per-tenant or per-sender rate exceeded; retry later
	VolumeCapExceeded   Code = "volume_cap_exceeded"    // the tenant's daily message cap is used up
	UnknownSender       Code = "unknown_sender"         // an inbound message to an address no tenant registered
	SenderNotAllowed    Code = "sender_not_allowed"     // a send from an address the tenant has not registered on the channel, or that does not carry the purpose
	InvalidMessage      Code = "invalid_message"        // body, subject or recipient unusable for the channel
	ChannelNotReady     Code = "channel_not_configured" // no provider for the channel
	InvalidProvider     Code = "invalid_provider"
	IdempotencyReused   Code = "idempotency_key_reused" // the key was used for a different request
	InvalidSignature    Code = "invalid_signature"      // an inbound webhook's signature is missing, stale or wrong
	InvalidKeyword      Code = "invalid_keyword"        // a tenant keyword rule or reply template is refused
	InvalidSender       Code = "invalid_sender"         // a sender address does not fit its kind or channel
	InvalidTemplate     Code = "invalid_template"       // a message template, or a send's template reference or parameters, is refused
	UndeclaredAttribute Code = "undeclared_attribute"   // a contact attribute the tenant has not declared (data minimisation)
	InvalidAttribute    Code = "invalid_attribute"      // a declared attribute's value has the wrong type
	LegalHold           Code = "legal_hold"             // erasure blocked by a legal hold; Details carry the reason
	InvalidDSR          Code = "invalid_dsr"            // a data-subject request that cannot be processed as given
	NotAcceptable       Code = "not_acceptable"         // no representation in the requested format (Accept or ?format=)
	InvalidRecord       Code = "invalid_record"         // a DPIA, breach or processor declaration is refused
	Internal            Code = "internal"
)

// Error is an application error.
type Error struct {
	Code    Code
	Message string         // safe to show to the client; never personal data
	Details map[string]any // extra members for the problem document
	Err     error          // the cause, for logs only
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error with a code and a safe message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an error with a code and safe message that keeps cause for
// the logs.
func Wrap(cause error, code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: cause}
}

// CodeOf returns the code of err, Internal when it is not an *Error.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// As returns err as an *Error; errors of other types become Internal with a
// generic message, so nothing unvetted reaches a client.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: Internal, Message: "internal error", Err: err}
}
