package app

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/consentgate/consentgate/internal/service"
)

// applyProviders puts the config file's [[provider]] tables into the store
// before the server takes requests, as PUT /v1/providers/{channel} would:
// validated the same way, secrets sealed, audited as the operator. A
// tenant that does not exist or a secret file that cannot be read stops the
// start with a message naming the table.
func (a *App) applyProviders(ctx context.Context) error {
	for i, p := range a.cfg.Providers {
		where := fmt.Sprintf("config: provider %d (%s/%s)", i+1, p.Tenant, p.Channel)
		tn, err := a.Service.TenantByName(ctx, p.Tenant)
		if err != nil {
			return fmt.Errorf("%s: tenant: %w", where, err)
		}
		settings, err := json.Marshal(p.Settings)
		if err != nil {
			return fmt.Errorf("%s: settings: %w", where, err)
		}
		in := service.ProviderInput{Kind: p.Kind, Settings: settings}
		if p.SecretFile != "" {
			b, err := os.ReadFile(p.SecretFile)
			if err != nil {
				return fmt.Errorf("%s: secret file: %w", where, err)
			}
			secret := strings.TrimSpace(string(b))
			in.Secret = &secret
		}
		if _, err := a.Service.PutProvider(ctx, service.Operator(tn.ID), p.Channel, in); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
	}
	return nil
}
