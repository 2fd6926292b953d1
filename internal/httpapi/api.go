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
		{"GET", "/v1/ledger/key", a.ledgerKey, true},
		{"GET", "/v1/ledger/checkpoint", a.ledgerCheckpoint, true},
		{"GET", "/v1/ledger/consistency", a.ledgerConsistency, true},
		{"GET", "/v1/events/{id}/receipt", a.eventReceipt, false},
		{"GET", "/v1/contacts/{id}/receipts", a.contactReceipts, false},
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
	a := &API{svc: cfg.Service, log: log, ready: cfg.Ready, metrics: newMetrics(reg, cfg.Service), mux: http.NewServeMux(),
		promHandler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{})}
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
		r = r.WithContext(context.WithValue(r.Context(), requestIDKey, rid))
		w.Header().Set("X-Request-Id", rid)
		sw := &statusWriter{ResponseWriter: w}
		var pr auth.Principal
		var err error
		if !rt.public {
			pr, err = a.authenticate(r)
		}
		if err == nil {
			err = rt.h(sw, r, pr)
		}
		if err != nil {
			ae := apperr.As(err)
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

// authenticate reads the bearer key. Keys are accepted only in the
// Authorization header, never in a URL.
func (a *API) authenticate(r *http.Request) (auth.Principal, error) {
	h := r.Header.Get("Authorization")
	secret, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		return auth.Principal{}, apperr.New(apperr.Unauthenticated, "a valid API key is required (Authorization: Bearer cg_...)")
	}
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
