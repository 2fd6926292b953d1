package app

import "time"

// forwardEvery is how often the forwarder looks for conversation due for
// the tenants' webhooks; a message waits at most this long on first try.
const forwardEvery = time.Second

// startInbound starts the worker that forwards conversation (inbound
// messages that are not keywords) to the tenants' own webhooks.
func (a *App) startInbound() { a.forwarder = a.Service.StartForwarder(nil, forwardEvery) }

// stopInbound stops it after its current pass; what it has not delivered
// stays sealed in the store for the next start.
func (a *App) stopInbound() { a.forwarder.Stop() }
