package app

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/consentgate/consentgate/internal/channel"
	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/outbox"
	"github.com/consentgate/consentgate/internal/service"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/oklog/ulid/v2"
	"github.com/prometheus/client_golang/prometheus"
)

// sendConfig reads the sending settings (docs/sending.md).
func (c *Config) sendConfig() (service.SendConfig, error) {
	var sc service.SendConfig
	var errs []error
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" {
			errs = append(errs, errors.New("public-url: must be an absolute http(s) URL without a query"))
		}
		sc.PublicURL = strings.TrimSuffix(c.PublicURL, "/")
	}
	if c.ReceiptLinks != "" {
		b, err := strconv.ParseBool(c.ReceiptLinks)
		if err != nil {
			errs = append(errs, fmt.Errorf("receipt-links: %q is not true or false", c.ReceiptLinks))
		}
		sc.ReceiptLinks = b
	}
	num := func(name, v string, dst *float64) {
		if v == "" {
			return
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 {
			errs = append(errs, fmt.Errorf("%s: %q is not a non-negative number", name, v))
		}
		*dst = f
	}
	num("send-rate-tenant", c.SendRateTenant, &sc.TenantRate)
	num("send-rate-sender", c.SendRateSender, &sc.SenderRate)
	var capf float64
	num("send-daily-cap", c.SendDailyCap, &capf)
	sc.DailyCap = int(capf)
	return sc, errors.Join(errs...)
}

// startOutbox configures sending and starts the dispatcher, before the
// server takes requests. Under --demo every channel a tenant has not
// configured goes to the sink, which logs message ids and sends nothing.
func (a *App) startOutbox(reg prometheus.Registerer, addr string) error {
	sc, err := a.cfg.sendConfig()
	if err != nil {
		return err
	}
	if sc.PublicURL == "" {
		sc.PublicURL = "http://" + addr
	}
	sink := channel.NewSink(func(m *channel.Message) {
		a.log.Info("sink: message handed over (not sent)", "message", m.ID, "channel", m.Channel)
	})
	adapters := func(c channel.Config) (channel.Sender, error) {
		if c.Kind == channel.KindSink {
			return sink, nil
		}
		c.Egress = a.egress
		return channel.New(c)
	}
	a.outbox = outbox.New(outbox.Config{Store: a.Store, Service: a.Service, Logger: a.log, Registry: reg, Adapters: adapters,
		Lease: a.cfg.OutboxLease})
	if a.cfg.Demo {
		sc.DefaultProvider = channel.KindSink
		if err := a.seedDemoSenders(context.Background()); err != nil {
			return err
		}
	}
	sc.Kick = a.outbox.Kick
	a.Service.ConfigureSending(sc)
	a.Service.SetReplyQueue(a.outbox)
	a.outbox.Start()
	a.log.Info("outbox started", "sending", sc.String())
	return nil
}

// stopOutbox drains the dispatcher: after the server stopped accepting,
// before the committer flushes and the store closes.
func (a *App) stopOutbox(ctx context.Context) error {
	if a.outbox == nil {
		return nil
	}
	return a.outbox.Stop(ctx)
}

// seedDemoSenders registers the demo tenant's sender addresses, so that the
// demo can send at once.
func (a *App) seedDemoSenders(ctx context.Context) error {
	tn, err := a.Service.TenantByName(ctx, service.DemoTenant)
	if err != nil {
		return nil // no demo tenant (yet): nothing to seed
	}
	senders := []*store.Sender{
		{Channel: consent.SMS, Kind: store.SenderAlphanumeric, Address: "DEMO"},
		{Channel: consent.Email, Kind: store.SenderEmailDomain, Address: "demo.example"},
		{Channel: consent.WhatsApp, Kind: store.SenderWhatsApp, Address: "+4570000000"},
	}
	return a.Store.Write(ctx, func(tx store.Tx) error {
		for _, s := range senders {
			if _, err := tx.FindSender(ctx, s.Channel, s.Address); err == nil {
				continue
			}
			s.ID, s.TenantID, s.CreatedAt = ulid.Make().String(), tn.ID, tn.CreatedAt
			if err := tx.CreateSender(ctx, s); err != nil && !errors.Is(err, store.ErrConflict) {
				return err
			}
		}
		return nil
	})
}
