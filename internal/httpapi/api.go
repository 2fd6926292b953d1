// Package httpapi is the REST API under /v1: one route table, strict JSON
// decoding, bearer-key authentication, problem+json errors, metrics and
// request logs that carry ids, never identifiers or message text. Handlers
// only translate between HTTP and the service layer, which decides access.
package httpapi

import (
	"context"
	_ "embed"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/consentgate/consentgate/internal/apperr"
	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/service"
	"github.com/oklog/ulid/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// API serves the REST API.
type API struct {
	svc     *service.Service
	log     *slog.Logger
	ready   func(context.Context) error
	metrics *metrics
	mux     *http.ServeMux
	limits  *limiter

	promHandler http.Handler
}

// Config wires the API.
type Config struct {
	Service  *service.Service
	Logger   *slog.Logger
	Registry *prometheus.Registry
	// Ready reports whether the node can serve (store reachable, index
	// loaded); /readyz answers 503 while it returns an error.
	Ready func(context.Context) error
	// Limits are the abuse limits; nil means DefaultLimits.
	Limits *Limits
}

type handler func(w http.ResponseWriter, r *http.Request, pr auth.Principal) error

// route is one line of the route table. Public routes take no key.
type route struct {
	method, pattern string
	h               handler
	public          bool
}

// routes is the one route table; the OpenAPI test checks it against
// openapi.json in both directions.
func (a *API) routes() []route {
	return []route{
		{"GET", "/healthz", a.healthz, true},
		{"GET", "/readyz", a.readyz, true},
		{"GET", "/openapi.json", a.openapi, true},
		{"GET", "/metrics", a.metricsHandler, true},
		{"POST", "/v1/purposes", a.createPurpose, false},
		{"GET", "/v1/purposes", a.listPurposes, false},
		{"GET", "/v1/purposes/{key}", a.getPurpose, false},
		{"PATCH", "/v1/purposes/{key}", a.updatePurpose, false},
		{"POST", "/v1/contacts", a.createContact, false},
		{"GET", "/v1/contacts/{id}", a.getContact, false},
		{"POST", "/v1/contacts/lookup", a.lookupContact, false},
		{"PUT", "/v1/contacts/{id}/consents/{purpose}/{channel}", a.setConsent, false},
		{"GET", "/v1/contacts/{id}/consents", a.listConsents, false},
		{"POST", "/v1/decisions", a.decide, false},
		{"POST", "/v1/decisions/batch", a.decideBatch, false},
		{"POST", "/v1/senders", a.createSender, false},
		{"GET", "/v1/senders", a.listSenders, false},
		{"GET", "/v1/senders/{id}", a.getSender, false},
		{"POST", "/v1/keywords", a.createKeyword, false},
		{"GET", "/v1/keywords", a.listKeywords, false},
		{"DELETE", "/v1/keywords/{id}", a.deleteKeyword, false},
		{"POST", "/v1/keywords/classify", a.classify, false},
		{"GET", "/v1/reply-templates", a.listReplyTemplates, false},
		{"PUT", "/v1/reply-templates/{kind}/{language}", a.putReplyTemplate, false},
		{"DELETE", "/v1/reply-templates/{kind}/{language}", a.deleteReplyTemplate, false},
		{"POST", "/v1/webhook-secrets", a.putWebhookSecret, false},
		{"GET", "/v1/webhook-secrets", a.listWebhookSecrets, false},
		{"PUT", "/v1/forwarding", a.putForwarding, false},
		{"GET", "/v1/forwarding", a.getForwarding, false},
		{"PUT", "/v1/tenant/profile", a.putTenantProfile, false},
		{"GET", "/v1/tenant/profile", a.getTenantProfile, false},
		{"POST", "/v1/inbound/{channel}", a.inboundGeneric, true},
		{"POST", "/v1/inbound/twilio", a.inboundTwilio, true},
		{"POST", "/v1/inbound/whatsapp-cloud", a.inboundWhatsApp, true},
		{"GET", "/v1/inbound/whatsapp-cloud", a.verifyWhatsApp, true},
		{"POST", "/v1/messages", a.sendMessage, false},
		{"POST", "/v1/messages/batch", a.sendMessages, false},
		{"GET", "/v1/messages/{id}", a.getMessage, false},
		{"POST", "/v1/templates", a.createTemplate, false},
		{"GET", "/v1/templates", a.listTemplates, false},
		{"GET", "/v1/templates/{name}", a.getTemplate, false},
		{"DELETE", "/v1/templates/{name}", a.deleteTemplate, false},
		{"GET", "/v1/providers", a.listProviders, false},
		{"PUT", "/v1/providers/{channel}", a.putProvider, false},
		{"DELETE", "/v1/providers/{channel}", a.deleteProvider, false},
		{"POST", "/v1/delivery-reports/{tenant}/{channel}", a.deliveryReport, true},
		{"GET", "/v1/unsubscribe/{token}", a.unsubscribeForm, true},
		{"POST", "/v1/unsubscribe/{token}", a.unsubscribe, true},
		{"POST", "/v1/keys", a.createKey, false},
		{"GET", "/v1/keys", a.listKeys, false},
		{"DELETE", "/v1/keys/{id}", a.revokeKey, false},
		{"POST", "/v1/users", a.createUser, false},
		{"GET", "/v1/users", a.listUsers, false},
		{"DELETE", "/v1/users/{id}", a.deleteUser, false},
		{"POST", "/v1/sessions", a.signIn, true},
		{"GET", "/v1/sessions", a.listSessions, false},
		{"GET", "/v1/sessions/current", a.currentSession, false},
		{"DELETE", "/v1/sessions/current", a.signOut, false},
		{"DELETE", "/v1/sessions/{id}", a.revokeSession, false},
		{"GET", "/v1/audit", a.listAudit, false},
		{"GET", "/v1/audit/export", a.exportAudit, false},
		{"GET", "/v1/ledger/key", a.ledgerKey, true},
		{"GET", "/v1/ledger/checkpoint", a.ledgerCheckpoint, true},
		{"GET", "/v1/ledger/consistency", a.ledgerConsistency, true},
		{"GET", "/v1/events/{id}/receipt", a.eventReceipt, false},
		{"GET", "/v1/contacts/{id}/receipts", a.contactReceipts, false},
		{"GET", "/r/{token}", a.publicReceipt, true},
		{"POST", "/v1/attributes", a.createAttribute, false},
		{"GET", "/v1/attributes", a.listAttributes, false},
		{"POST", "/v1/dsr", a.createDSR, false},
		{"GET", "/v1/dsr", a.listDSRs, false},
		{"GET", "/v1/dsr/{id}", a.getDSR, false},
		{"POST", "/v1/dsr/{id}/extend", a.extendDSR, false},
		{"POST", "/v1/dsr/{id}/execute", a.executeDSR, false},
		{"GET", "/v1/dsr/{id}/export", a.dsrExport, false},
		{"PUT", "/v1/contacts/{id}/legal-hold", a.putLegalHold, false},
		{"DELETE", "/v1/contacts/{id}/legal-hold", a.deleteLegalHold, false},
		{"GET", "/v1/retention", a.getRetention, false},
		{"PUT", "/v1/retention", a.putRetention, false},
		{"GET", "/v1/retention/purges", a.listPurges, false},
		{"GET", "/v1/ropa", a.getRopa, false},
		{"GET", "/v1/ropa/versions", a.listRopaVersions, false},
		{"GET", "/v1/datamap", a.getDataMap, false},
		{"GET", "/v1/processors", a.listProcessors, false},
		{"PUT", "/v1/processors/{channel}", a.putProcessor, false},
		{"GET", "/v1/dpias", a.listDPIAs, false},
		{"GET", "/v1/dpias/{purpose}", a.getDPIA, false},
		{"PUT", "/v1/dpias/{purpose}", a.putDPIA, false},
		{"POST", "/v1/dpias/{purpose}/signoff", a.signOffDPIA, false},
		{"GET", "/v1/breaches", a.listBreaches, false},
		{"POST", "/v1/breaches", a.createBreach, false},
		{"GET", "/v1/breaches/{id}", a.getBreach, false},
		{"PATCH", "/v1/breaches/{id}", a.updateBreach, false},
		{"GET", "/v1/breaches/{id}/affected", a.breachAffected, false},
		{"GET", "/v1/compliance/figures", a.complianceFigures, false},
	}
}

// New builds the API and its routes.
func New(cfg Config) *API {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	reg := cfg.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	limits := DefaultLimits()
	if cfg.Limits != nil {
		limits = *cfg.Limits
	}
	a := &API{svc: cfg.Service, log: log, ready: cfg.Ready, metrics: newMetrics(reg, cfg.Service), mux: http.NewServeMux(),
		limits: newLimiter(limits, nil), promHandler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{})}
	for _, rt := range a.routes() {
		a.mux.Handle(rt.method+" "+rt.pattern, a.wrap(rt))
	}
	a.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, problemOf(apperr.New(apperr.NotFound, "no such route"), requestID(r)))
	})
	return a
}

// ServeHTTP implements http.Handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

type ctxKey int

const requestIDKey ctxKey = 0

func requestID(r *http.Request) string {
	id, _ := r.Context().Value(requestIDKey).(string)
	return id
}

// wrap adds what every route needs: a request id, authentication, error
// rendering, a log line and metrics.
func (a *API) wrap(rt route) http.Handler {
	name := rt.method + " " + rt.pattern
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rid := ulid.Make().String()
		r = r.WithContext(service.WithRequestID(context.WithValue(r.Context(), requestIDKey, rid), rid))
		w.Header().Set("X-Request-Id", rid)
		sw := &statusWriter{ResponseWriter: w}
		var pr auth.Principal
		err := a.admit(r, rt, &pr)
		if err == nil {
			err = rt.h(sw, r, pr)
		}
		if err != nil {
			ae := apperr.As(err)
			if ae.Code == apperr.Forbidden {
				perm, _ := ae.Details["permission"].(string)
				a.svc.RecordDenied(r.Context(), pr, name, perm)
			}
			if ra, ok := ae.Details["retry_after"].(int); ok && ae.Code == apperr.RateLimited {
				sw.Header().Set("Retry-After", strconv.Itoa(ra))
			}
			p := problemOf(ae, rid)
			writeProblem(sw, p)
			if p.Status >= 500 {
				a.log.ErrorContext(r.Context(), "request failed", "request_id", rid, "route", name, "code", ae.Code, "err", ae.Err)
			}
		}
		d := time.Since(start)
		a.metrics.observe(name, sw.status, d)
		if !rt.public {
			// Ids only: the path's ids are pseudonymous; bodies and query
			// strings are never logged.
			a.log.DebugContext(r.Context(), "request", "request_id", rid, "route", name, "status", sw.status,
				"tenant", pr.TenantID, "key", pr.KeyID, "duration_ms", float64(d.Microseconds())/1000)
		}
	})
}

// admit applies the abuse limits and, on routes that need a key,
// authenticates: the source address's rate first, then its failed-
// authentication backoff, then the key, then the key's rate.
func (a *API) admit(r *http.Request, rt route, pr *auth.Principal) error {
	addr := sourceAddr(r, a.limits.cfg.TrustedProxies...)
	if wait, ok := a.limits.allowAddr(addr); !ok {
		return tooMany(wait, "address")
	}
	if rt.public {
		return nil
	}
	if wait, blocked := a.limits.blocked(addr); blocked {
		return tooMany(wait, "address")
	}
	p, err := a.authenticate(r)
	if apperr.CodeOf(err) == apperr.Unauthenticated {
		a.limits.failed(addr)
	}
	if err != nil {
		return err
	}
	a.limits.succeeded(addr)
	*pr = p
	if wait, ok := a.limits.allowKey(p.KeyID); !ok {
		return tooMany(wait, "key")
	}
	return nil
}

// authenticate reads the bearer key. Keys are accepted only in the
// Authorization header, never in a URL. A missing or malformed header goes
// to the service too, which records every failed authentication.
func (a *API) authenticate(r *http.Request) (auth.Principal, error) {
	secret, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return a.svc.Authenticate(r.Context(), strings.TrimSpace(secret))
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

//go:embed openapi.json
var openapiDoc []byte

func (a *API) openapi(w http.ResponseWriter, r *http.Request, _ auth.Principal) error {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openapiDoc)
	return nil
}

func (a *API) healthz(w http.ResponseWriter, r *http.Request, _ auth.Principal) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

func (a *API) readyz(w http.ResponseWriter, r *http.Request, _ auth.Principal) error {
	if a.ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := a.ready(ctx); err != nil {
			return apperr.Wrap(err, apperr.Unavailable, "not ready")
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}

func (a *API) metricsHandler(w http.ResponseWriter, r *http.Request, _ auth.Principal) error {
	a.promHandler.ServeHTTP(w, r)
	return nil
}
