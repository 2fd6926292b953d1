package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"

	"github.com/consentgate/consentgate/internal/apperr"
)

// maxBody caps request bodies; a batch of 1,000 decisions fits easily.
const maxBody = 1 << 20

// decode reads one JSON value from the body into v, strictly: the right
// content type, no unknown fields, no trailing data, and a size cap.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && mt != "application/merge-patch+json") {
			return apperr.New(apperr.UnsupportedMedia, "the body must be application/json")
		}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeErr(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return decodeErr(err)
		}
		return apperr.New(apperr.InvalidRequest, "the body must hold exactly one JSON value")
	}
	return nil
}

func decodeErr(err error) error {
	var mbe *http.MaxBytesError
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &mbe):
		return apperr.New(apperr.TooLarge, "the body is larger than %d bytes", maxBody)
	case errors.Is(err, io.EOF):
		return apperr.New(apperr.InvalidRequest, "the body is empty")
	case errors.As(err, &se):
		return apperr.New(apperr.InvalidRequest, "malformed JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		return apperr.New(apperr.InvalidRequest, "field %q must be %s", te.Field, te.Type)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return apperr.New(apperr.InvalidRequest, "malformed JSON: unexpected end")
	}
	// json's "unknown field" error carries the field name only.
	return apperr.Wrap(err, apperr.InvalidRequest, "invalid JSON: %v", err)
}
