package service

import (
	"context"
	"errors"
	"time"

	"github.com/consentgate/consentgate/internal/apperr"
	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/store"
)

// DemoTenant is the name of the tenant serve --demo seeds.
const DemoTenant = "demo"

func ptr[T any](v T) *T { return &v }

// DemoPurposes are the purposes of the demo tenant: one of each shape the
// decision distinguishes.
func DemoPurposes() []PurposeInput {
	return []PurposeInput{
		{Key: "newsletter", Name: ptr("Newsletter"), Description: ptr("A monthly newsletter with news and tips. At most 2 messages a month."),
			Category: ptr(consent.Marketing), Basis: ptr(consent.BasisConsent), Channels: []consent.Channel{consent.SMS, consent.Email},
			DoubleOptIn: ptr(true), ConsentLifetimeDays: ptr(730)},
		{Key: "offers", Name: ptr("Offers"), Description: ptr("Personal offers and discounts. At most 4 messages a month."),
			Category: ptr(consent.Marketing), Basis: ptr(consent.BasisConsent), Channels: []consent.Channel{consent.SMS, consent.WhatsApp},
			DoubleOptIn: ptr(false), ConsentLifetimeDays: ptr(365)},
		{Key: "order-updates", Name: ptr("Order updates"), Description: ptr("Messages about orders you placed: confirmation, dispatch, delivery."),
			Category: ptr(consent.Service), Basis: ptr(consent.BasisContract), Channels: []consent.Channel{consent.SMS, consent.Email}},
		{Key: "2fa", Name: ptr("Security codes"), Description: ptr("One-time codes to sign in to your account."),
			Category: ptr(consent.Transactional), Basis: ptr(consent.BasisContract), Channels: []consent.Channel{consent.SMS}},
	}
}

// SeedDemo makes sure the demo tenant and its purposes exist and returns a
// fresh owner key for it. Running it again adds a key and changes nothing
// else.
func (s *Service) SeedDemo(ctx context.Context) (tenantID, key string, err error) {
	tn, err := s.TenantByName(ctx, DemoTenant)
	if apperr.CodeOf(err) == apperr.NotFound {
		tn, err = s.CreateTenant(ctx, DemoTenant)
	}
	if err != nil {
		return "", "", err
	}
	pr := auth.Principal{TenantID: tn.ID, Role: auth.Owner, KeyID: "demo-seed"}
	for _, p := range DemoPurposes() {
		if _, err := s.CreatePurpose(ctx, pr, p); err != nil && !errors.Is(err, store.ErrConflict) {
			return "", "", err
		}
	}
	key, _, err = s.CreateAPIKey(ctx, tn.ID, auth.Owner, "demo", time.Time{})
	return tn.ID, key, err
}
