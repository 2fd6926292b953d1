package httpapi

import (
	"encoding/base64"
	"net/http"
	"strconv"

	"github.com/consentgate/consentgate/internal/apperr"
	"github.com/consentgate/consentgate/internal/auth"
)

// The ledger's public routes carry no personal data: a key, tree sizes and
// hashes. Anyone may fetch them, which is the point: a person or auditor
// checks a receipt without trusting the operator.

func (a *API) ledgerKey(w http.ResponseWriter, r *http.Request, _ auth.Principal) error {
	k, err := a.svc.LedgerKey()
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"key": k, "algorithm": "ed25519", "format": "signed-note verifier key"})
	return nil
}

func (a *API) ledgerCheckpoint(w http.ResponseWriter, r *http.Request, _ auth.Principal) error {
	note, err := a.svc.LedgerCheckpoint(r.Context())
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(note)
	return nil
}

func (a *API) ledgerConsistency(w http.ResponseWriter, r *http.Request, _ auth.Principal) error {
	from, err1 := strconv.ParseInt(r.URL.Query().Get("from"), 10, 64)
	to, err2 := strconv.ParseInt(r.URL.Query().Get("to"), 10, 64)
	if err1 != nil || err2 != nil {
		return apperr.New(apperr.InvalidRequest, "from and to must be tree sizes (integers)")
	}
	proof, err := a.svc.LedgerConsistency(r.Context(), from, to)
	if err != nil {
		return err
	}
	hashes := make([]string, len(proof))
	for i, h := range proof {
		hashes[i] = base64.StdEncoding.EncodeToString(h[:])
	}
	writeJSON(w, http.StatusOK, map[string]any{"from": from, "to": to, "proof": hashes})
	return nil
}

func (a *API) eventReceipt(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	rc, err := a.svc.EventReceipt(r.Context(), pr, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rc)
	return nil
}

func (a *API) contactReceipts(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	rcs, err := a.svc.ContactReceipts(r.Context(), pr, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"receipts": rcs})
	return nil
}

// publicReceipt serves a receipt link (GET /r/{token}): a capability URL
// the person receives in a confirmation, so they can keep proof of what
// they agreed to or withdrew.
func (a *API) publicReceipt(w http.ResponseWriter, r *http.Request, _ auth.Principal) error {
	rc, err := a.svc.PublicReceipt(r.Context(), r.PathValue("token"))
	if err != nil {
		return err
	}
	w.Header().Set("Referrer-Policy", "no-referrer")
	writeJSON(w, http.StatusOK, rc)
	return nil
}
