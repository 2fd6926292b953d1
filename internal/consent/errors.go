package consent

import "errors"

// Validation errors of the domain. The service layer maps them to stable API
// error codes; they never carry personal data in their text.
var (
	ErrUnknownChannel    = errors.New("unknown channel")
	ErrUnknownCategory   = errors.New("unknown category")
	ErrUnknownBasis      = errors.New("unknown lawful basis")
	ErrUnknownStatus     = errors.New("unknown consent status")
	ErrInvalidPurpose    = errors.New("invalid purpose")
	ErrInvalidIdentifier = errors.New("invalid identifier")
)
