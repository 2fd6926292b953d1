package service

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"strings"

	"github.com/consentgate/consentgate/internal/apperr"
	"github.com/consentgate/consentgate/internal/audit"
	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/keywordflow"
	"github.com/consentgate/consentgate/internal/ledger"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/oklog/ulid/v2"
)

// A receipt link lets the person a consent event is about fetch its
// receipt without an API key: the link is a capability, a tenant id and an
// event id with a MAC under the tenant's index key, so it cannot be guessed
// or changed into another event's link. What it returns holds no
// identifier (pseudonymous ids, keys, hashes), and each fetch is audited.

var errBadReceiptLink = apperr.New(apperr.NotFound, "this receipt link is not valid")

// receiptToken is base64url(tenant ULID ‖ event ULID ‖ 10-byte MAC): 56
// characters, short enough for an SMS confirmation.
func receiptToken(tk *tenantKeys, tenantID, eventID string) string {
	t, err1 := ulid.ParseStrict(tenantID)
	e, err2 := ulid.ParseStrict(eventID)
	if err1 != nil || err2 != nil {
		return ""
	}
	mac := tk.chain.Base().Sum("receipt-link", tenantID+"|"+eventID)
	b := append(append(append(make([]byte, 0, 42), t[:]...), e[:]...), mac[:10]...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// ReceiptLink returns the public link to a consent event's receipt, or ""
// when no public URL is configured.
func (s *Service) ReceiptLink(ctx context.Context, tenantID, eventID string) (string, error) {
	if s.sending == nil || s.sending.cfg.PublicURL == "" {
		return "", nil
	}
	tk, err := s.tenantKeys(ctx, tenantID)
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(s.sending.cfg.PublicURL, "/") + "/r/" + receiptToken(tk, tenantID, eventID), nil
}

// PublicReceipt returns the receipt a receipt link names. Any malformed,
// forged or unknown link answers the same 404.
func (s *Service) PublicReceipt(ctx context.Context, token string) (ledger.Receipt, error) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) != 42 {
		return ledger.Receipt{}, errBadReceiptLink
	}
	var t, e ulid.ULID
	copy(t[:], b[:16])
	copy(e[:], b[16:32])
	tenantID, eventID := t.String(), e.String()
	tk, err := s.tenantKeys(ctx, tenantID)
	if err != nil {
		return ledger.Receipt{}, errBadReceiptLink
	}
	if subtle.ConstantTimeCompare([]byte(receiptToken(tk, tenantID, eventID)), []byte(token)) != 1 {
		return ledger.Receipt{}, errBadReceiptLink
	}
	pr := auth.Principal{TenantID: tenantID}
	ev, err := s.auditEvent(ctx, pr, auditRec{action: audit.ReceiptRead, objectType: "consent_event", objectID: eventID,
		fields: []string{"consent", "evidence_digest"}})
	if err != nil {
		return ledger.Receipt{}, err
	}
	var stored *store.ConsentEvent
	if err := s.commit.doRead(ctx, func(tx store.Tx) (err error) {
		if stored, err = tx.GetConsentEvent(ctx, tenantID, eventID); err != nil {
			return err
		}
		ev.ContactID = stored.ContactID
		return writeAudit(ctx, tx, ev)
	}); err != nil {
		if apperr.CodeOf(storeErr(err, "event")) == apperr.NotFound {
			return ledger.Receipt{}, errBadReceiptLink
		}
		return ledger.Receipt{}, storeErr(err, "event")
	}
	return s.receipt(ctx, pr, stored)
}

// receiptLabels name the receipt link in a confirmation, by language.
var receiptLabels = map[string]string{
	"en": "Receipt", "da": "Kvittering", "nb": "Kvittering", "sv": "Kvitto", "fi": "Kuitti", "de": "Nachweis",
	"nl": "Bewijs", "fr": "Reçu", "es": "Recibo", "it": "Ricevuta", "pt": "Recibo", "pl": "Potwierdzenie",
}

// withReceiptLink appends the link to the receipt of the consent change a
// confirmation confirms, when receipt links are on.
func (j *inboundJob) withReceiptLink(body, lang, kind string) string {
	s := j.s
	if s.sending == nil || !s.sending.cfg.ReceiptLinks || len(j.events) == 0 ||
		(kind != keywordflow.ReplyOptOut && kind != keywordflow.ReplyOptIn) {
		return body
	}
	e := j.events[len(j.events)-1]
	link, err := s.ReceiptLink(j.ctx, e.TenantID, e.ID)
	if err != nil || link == "" {
		return body
	}
	label := receiptLabels[lang]
	if label == "" {
		label = receiptLabels["en"]
	}
	return body + "\n" + label + ": " + link
}
