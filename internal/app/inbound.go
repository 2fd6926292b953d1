package app

import (
	"time"

	"github.com/consentgate/consentgate/internal/service"
)

// forwardEvery is how often the forwarder looks for conversation due for
// the tenants' webhooks; a message waits at most this long on first try.
const forwardEvery = time.Second

// forwardTimeout bounds one delivery to a tenant's webhook.
const forwardTimeout = 10 * time.Second

// startInbound starts the worker that forwards conversation (inbound
// messages that are not keywords) to the tenants' own webhooks.
// The inbound settings are set first, before requests arrive.
func (a *App) startInbound() {
	a.Service.SetInboundConfig(service.InboundConfig{ConfirmWindow: a.cfg.ConfirmWindow, SecretGrace: a.cfg.WebhookSecretGrace})
	a.forwarder = a.Service.StartForwarder(a.egress.HTTPClient(forwardTimeout), forwardEvery)
}

// stopInbound stops it after its current pass; what it has not delivered
// stays sealed in the store for the next start.
func (a *App) stopInbound() { a.forwarder.Stop() }
