package service

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"strings"

	"github.com/consentgate/consentgate/internal/apperr"
)

// Meta subscribes a WhatsApp Cloud API webhook with a GET carrying
// hub.mode=subscribe, the verify token the business entered in Meta's
// dashboard, and a challenge to echo. All tenants share one callback URL,
// so the verify token names its tenant: "cgv_<tenant id>_<MAC>", with the
// MAC under the tenant's index key, shown in every WhatsApp webhook-secret
// view. It proves the request is about this tenant's configuration; it is
// not a secret that protects messages (their signatures do that).

const whatsappVerifyPrefix = "cgv_"

func whatsappVerifyToken(tk *tenantKeys, tenantID string) string {
	mac := tk.chain.Base().Sum("whatsapp-verify-token", tenantID)
	return whatsappVerifyPrefix + tenantID + "_" + base64.RawURLEncoding.EncodeToString(mac[:16])
}

// WhatsAppVerifyToken returns the verify token to enter in Meta's
// dashboard for the tenant.
func (s *Service) WhatsAppVerifyToken(ctx context.Context, tenantID string) (string, error) {
	tk, err := s.tenantKeys(ctx, tenantID)
	if err != nil {
		return "", err
	}
	return whatsappVerifyToken(tk, tenantID), nil
}

var errBadVerify = apperr.New(apperr.Forbidden, "the verify token does not match a tenant's WhatsApp webhook")

// VerifyWhatsAppSubscription answers Meta's subscription handshake: the
// challenge when the token is one of ours and the tenant has a WhatsApp
// webhook secret, 403 otherwise.
func (s *Service) VerifyWhatsAppSubscription(ctx context.Context, mode, token, challenge string) (string, error) {
	if mode != "subscribe" || challenge == "" || len(challenge) > 256 || !strings.HasPrefix(token, whatsappVerifyPrefix) {
		return "", errBadVerify
	}
	tenantID, _, ok := strings.Cut(strings.TrimPrefix(token, whatsappVerifyPrefix), "_")
	if !ok || len(tenantID) != 26 {
		return "", errBadVerify
	}
	tk, err := s.tenantKeys(ctx, tenantID)
	if err != nil {
		return "", errBadVerify
	}
	if subtle.ConstantTimeCompare([]byte(whatsappVerifyToken(tk, tenantID)), []byte(token)) != 1 {
		return "", errBadVerify
	}
	if keys, err := s.WebhookKeys(ctx, tenantID, ProviderWhatsApp); err != nil || len(keys) == 0 {
		return "", errBadVerify
	}
	return challenge, nil
}
