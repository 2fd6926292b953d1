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
	InvalidRequest    Code = "invalid_request"    // malformed JSON, unknown fields, wrong types
	InvalidIdentifier Code = "invalid_identifier" // unparseable phone or e-mail
	UnknownPurpose    Code = "unknown_purpose"
	UnknownChannel    Code = "unknown_channel"
	InvalidPurpose    Code = "invalid_purpose"
	InvalidConsent    Code = "invalid_consent"
	ChannelNotAllowed Code = "channel_not_allowed" // channel not among the purpose's channels
	NotFound          Code = "not_found"
	Conflict          Code = "conflict"
	Unauthenticated   Code = "unauthenticated"
	Forbidden         Code = "forbidden"
	TooLarge          Code = "request_too_large"
	UnsupportedMedia  Code = "unsupported_media_type"
	Unavailable       Code = "unavailable"
	Internal          Code = "internal"
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
