package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/consentgate/consentgate/internal/apperr"
	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/channel"
	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/vault"
)

// ProviderInput configures the provider of one channel.
type ProviderInput struct {
	Kind     string          `json:"kind"`
	Settings json.RawMessage `json:"settings"`
	// Secret is the password or token. It is sealed at once and never
	// returned; leave it out on an update to keep the stored one.
	Secret *string `json:"secret"`
}

// ProviderView is a provider as the API shows it: the settings, and only
// whether a secret is set.
type ProviderView struct {
	Channel   consent.Channel `json:"channel"`
	Kind      string          `json:"kind"`
	Settings  json.RawMessage `json:"settings"`
	HasSecret bool            `json:"has_secret"`
	UpdatedAt time.Time       `json:"updated_at"`
}

func viewProvider(p *store.ChannelProvider) ProviderView {
	return ProviderView{Channel: p.Channel, Kind: p.Kind, Settings: json.RawMessage(p.Settings),
		HasSecret: p.SecretSealed != nil, UpdatedAt: p.UpdatedAt}
}

func providerAAD(tenantID string, ch consent.Channel) []byte {
	return []byte("consentgate/provider-secret/v1|" + tenantID + "|" + string(ch))
}

func openProviderSecret(tk *tenantKeys, tenantID string, ch consent.Channel, sealed []byte) (string, error) {
	pt, err := vault.Open(tk.keys.Enc, sealed, providerAAD(tenantID, ch))
	return string(pt), err
}

const maxSettingsBytes = 16 << 10

// PutProvider creates or replaces the tenant's provider for a channel. The
// configuration is checked by building the adapter once, so a wrong setting
// is refused here and not discovered as a dead letter.
func (s *Service) PutProvider(ctx context.Context, pr auth.Principal, channelName string, in ProviderInput) (ProviderView, error) {
	if err := authorize(pr, auth.ProvidersManage); err != nil {
		return ProviderView{}, err
	}
	ch, err := consent.ParseChannel(channelName)
	if err != nil {
		return ProviderView{}, apperr.Wrap(err, apperr.UnknownChannel, "unknown channel %q", channelName)
	}
	if len(in.Settings) == 0 || string(in.Settings) == "null" {
		in.Settings = json.RawMessage("{}")
	}
	var compact bytes.Buffer
	if len(in.Settings) > maxSettingsBytes || json.Compact(&compact, in.Settings) != nil || in.Settings[0] != '{' {
		return ProviderView{}, apperr.New(apperr.InvalidProvider, "settings must be a JSON object of at most %d bytes", maxSettingsBytes)
	}
	tk, err := s.tenantKeys(ctx, pr.TenantID)
	if err != nil {
		return ProviderView{}, err
	}
	now := s.now()
	p := &store.ChannelProvider{TenantID: pr.TenantID, Channel: ch, Kind: in.Kind, Settings: compact.Bytes(), CreatedAt: now, UpdatedAt: now}
	err = s.commit.do(ctx, func(tx store.Tx) error {
		secret := ""
		if in.Secret != nil {
			secret = *in.Secret
		} else if old, err := tx.GetChannelProvider(ctx, pr.TenantID, ch); err == nil && old.SecretSealed != nil {
			if secret, err = openProviderSecret(tk, pr.TenantID, ch, old.SecretSealed); err != nil {
				return apperr.Wrap(err, apperr.Internal, "the stored secret is unreadable")
			}
		} else if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		a, err := channel.New(channel.Config{Kind: in.Kind, Channel: ch, Settings: p.Settings, Secret: secret})
		if err != nil {
			return apperr.Wrap(err, apperr.InvalidProvider, "%v", err)
		}
		defer a.Close()
		if !slices.Contains(a.Capabilities().Channels, ch) {
			return apperr.New(apperr.InvalidProvider, "a %s provider does not carry channel %s", in.Kind, ch)
		}
		if secret != "" {
			if p.SecretSealed, err = vault.Seal(tk.keys.Enc, []byte(secret), providerAAD(pr.TenantID, ch)); err != nil {
				return err
			}
		}
		return tx.PutChannelProvider(ctx, p)
	}, nil)
	if err != nil {
		return ProviderView{}, storeErr(err, "provider")
	}
	s.log.InfoContext(ctx, "channel provider set", "tenant", pr.TenantID, "key", pr.KeyID, "channel", ch, "kind", in.Kind)
	return viewProvider(p), nil
}

// ListProviders returns the tenant's providers, without secrets.
func (s *Service) ListProviders(ctx context.Context, pr auth.Principal) ([]ProviderView, error) {
	if err := authorize(pr, auth.ProvidersManage); err != nil {
		return nil, err
	}
	var ps []*store.ChannelProvider
	if err := s.store.Read(ctx, func(tx store.Tx) (err error) {
		ps, err = tx.ListChannelProviders(ctx, pr.TenantID)
		return err
	}); err != nil {
		return nil, storeErr(err, "provider")
	}
	out := make([]ProviderView, len(ps))
	for i, p := range ps {
		out[i] = viewProvider(p)
	}
	return out, nil
}

// DeleteProvider removes the tenant's provider for a channel.
func (s *Service) DeleteProvider(ctx context.Context, pr auth.Principal, channelName string) error {
	if err := authorize(pr, auth.ProvidersManage); err != nil {
		return err
	}
	ch, err := consent.ParseChannel(channelName)
	if err != nil {
		return apperr.Wrap(err, apperr.UnknownChannel, "unknown channel %q", channelName)
	}
	err = s.commit.do(ctx, func(tx store.Tx) error { return tx.DeleteChannelProvider(ctx, pr.TenantID, ch) }, nil)
	return storeErr(err, "provider")
}

// StatusCallback is a provider's delivery report as it arrived.
type StatusCallback struct {
	Header http.Header
	Body   []byte
}

// RecordDeliveryReport verifies a provider's delivery report with the
// secret of the tenant's provider for the channel, and moves the message it
// names from sent to delivered or failed, with a timeline entry. A report
// for an unknown message is ignored (the provider must not retry it); one
// that does not verify is refused.
func (s *Service) RecordDeliveryReport(ctx context.Context, tenantID, channelName string, cb StatusCallback) error {
	ch, err := consent.ParseChannel(channelName)
	if err != nil {
		return apperr.New(apperr.NotFound, "unknown channel")
	}
	cfg, _, err := s.ProviderConfig(ctx, tenantID, ch)
	if err != nil || cfg.Secret == "" {
		// No provider, or one without a secret: nothing can verify a report.
		return apperr.New(apperr.Unauthenticated, "delivery report not accepted")
	}
	var rep channel.StatusReport
	switch cfg.Kind {
	case channel.KindHTTP:
		if err := channel.VerifyStandardWebhook(cfg.Secret, cb.Header, cb.Body, s.now()); err != nil {
			return apperr.Wrap(err, apperr.Unauthenticated, "delivery report signature does not verify")
		}
		rep, err = channel.ParseJSONStatus(cb.Body)
	case channel.KindTwilio:
		var set channel.TwilioSettings
		json.Unmarshal(cfg.Settings, &set)
		form, perr := url.ParseQuery(string(cb.Body))
		if perr != nil || set.StatusCallback == "" {
			return apperr.New(apperr.Unauthenticated, "delivery report not accepted")
		}
		if err := channel.VerifyTwilio(cfg.Secret, set.StatusCallback, form, cb.Header.Get("X-Twilio-Signature")); err != nil {
			return apperr.Wrap(err, apperr.Unauthenticated, "delivery report signature does not verify")
		}
		rep, err = channel.ParseTwilioStatus(form)
	default:
		return apperr.New(apperr.Unauthenticated, "delivery report not accepted")
	}
	if err != nil {
		return apperr.Wrap(err, apperr.InvalidRequest, "malformed delivery report")
	}
	if rep.Outcome == "" {
		return nil
	}
	status := store.MessageDelivered
	if rep.Outcome == channel.Failed {
		status = store.MessageFailed
	}
	now := s.now()
	err = s.commit.do(ctx, func(tx store.Tx) error {
		var m *store.Message
		var err error
		if rep.MessageID != "" {
			m, err = tx.GetMessage(ctx, tenantID, rep.MessageID)
		} else {
			m, err = tx.FindMessageByProviderRef(ctx, tenantID, ch, rep.ProviderRef)
		}
		if err != nil {
			return err
		}
		if err := tx.SetDeliveryStatus(ctx, tenantID, m.ID, status, now); err != nil {
			return err
		}
		ev := &store.MessageEvent{TenantID: tenantID, MessageID: m.ID, Status: status, Detail: rep.ErrorCode, At: now}
		if err := tx.AppendMessageEvent(ctx, ev); err != nil {
			return err
		}
		return s.ForwardStatus(ctx, tx, m, ev, m.ProviderRef)
	}, nil)
	if errors.Is(err, store.ErrNotFound) {
		s.log.InfoContext(ctx, "delivery report for no sent message ignored", "tenant", tenantID, "channel", ch)
		return nil
	}
	return storeErr(err, "message")
}
