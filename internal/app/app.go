// Package app wires the gateway together: configuration → store → keys →
// service → decision index → HTTP server, and takes it down again in order
// (stop accepting, finish requests, flush writes, close the store). Tests
// start it on 127.0.0.1:0 with a temporary data directory.
package app

import (
	"context"
	"errors"
	"fmt"
	"github.com/consentgate/consentgate/internal/egress"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/consentgate/consentgate/internal/httpapi"
	"github.com/consentgate/consentgate/internal/index"
	"github.com/consentgate/consentgate/internal/outbox"
	"github.com/consentgate/consentgate/internal/periodic"
	"github.com/consentgate/consentgate/internal/service"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/store/postgres"
	"github.com/consentgate/consentgate/internal/store/sqlite"
	"github.com/consentgate/consentgate/internal/vault"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// DBFileName is the SQLite database file inside the data directory.
const DBFileName = "consentgate.db"

// App is a running gateway.
type App struct {
	cfg     Config
	log     *slog.Logger
	Store   store.Store
	Service *service.Service
	Index   *index.Index
	feed    *feed
	outbox  *outbox.Dispatcher // sending.go
	// egress is the policy for tenant-configured destinations.
	egress egress.Policy
	// sequencer moves committed consent events into the ledger.
	sequencer *sequencer
	forwarder *service.Forwarder // inbound.go
	purger    *periodic.Runner   // purge.go: the retention purge on a schedule
	sweeper   *periodic.Runner   // sessions.go: deletes ended web UI sessions
	srv       *http.Server
	ln        net.Listener
	served    chan error
}

// NewLogger returns the structured logger the config asks for.
func NewLogger(cfg Config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	lvl.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// OpenStore opens the store and the master key of a data directory: what
// both the server and the operator commands need.
func OpenStore(ctx context.Context, cfg Config, log *slog.Logger) (store.Store, vault.Key, error) {
	if err := cfg.EnsureDataDir(); err != nil {
		return nil, vault.Key{}, fmt.Errorf("data directory: %w", err)
	}
	key, created, err := vault.LoadOrCreateMasterKey(cfg.MasterKeyFile)
	if err != nil {
		return nil, key, err
	}
	if created {
		log.Warn("GENERATED A NEW MASTER KEY: back it up now, apart from the data; without it every identifier in the database is unreadable",
			"path", cfg.MasterKeyFile)
	}
	var st store.Store
	if cfg.DB != "" {
		st, err = postgres.Open(ctx, cfg.DB, postgres.Options{})
	} else {
		st, err = sqlite.Open(ctx, filepath.Join(cfg.Data, DBFileName), sqlite.Options{Synchronous: cfg.Synchronous})
	}
	if err != nil {
		return nil, key, err
	}
	return st, key, nil
}

// Open builds the gateway: store, service and a loaded decision index. It
// refuses to start when the master key does not open the stored tenants.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	st, key, err := OpenStore(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	ix := index.New()
	svc := service.New(service.Config{Store: st, Index: ix, MasterKey: key, DefaultRegion: cfg.DefaultRegion, Logger: log})
	svc.ConfigureRecords(cfg.RecordsConfig())
	sc, _ := cfg.sessionConfig() // checked by Validate
	svc.ConfigureSessions(sc)
	if err := svc.CheckMasterKey(ctx); err != nil {
		svc.Close()
		st.Close()
		return nil, err
	}
	start := time.Now()
	changedFrom, err := changeClock(ctx, st)
	if err != nil {
		svc.Close()
		st.Close()
		return nil, fmt.Errorf("reading the store's clock: %w", err)
	}
	// The index asks the service for a tenant's index keys when it meets
	// a blind index of a version it does not hold yet (a rotation).
	ix.SetKeySource(svc.TenantIndexChain)
	seq, err := ix.Load(ctx, st)
	if err != nil {
		svc.Close()
		st.Close()
		return nil, fmt.Errorf("loading the decision index: %w", err)
	}
	if err := svc.OpenLedger(ctx, service.LedgerOptions{Origin: cfg.LedgerOrigin,
		CheckpointFile: cfg.LedgerCheckpointFile, CheckpointURL: cfg.LedgerCheckpointURL}); err != nil {
		svc.Close()
		st.Close()
		return nil, err
	}
	stats := ix.Stats()
	log.Info("decision index loaded", "contacts", stats.Contacts, "states", stats.States, "duration", time.Since(start).Round(time.Millisecond))
	ix.MarkReady()
	return &App{cfg: cfg, log: log, Store: st, Service: svc, Index: ix, feed: newFeed(st, ix, seq, changedFrom, log),
		sequencer: newSequencer(svc, cfg.LedgerCheckpointInterval, log), purger: newPurger(svc, log),
		sweeper: newSessionSweeper(svc, log)}, nil
}

// Start listens and serves in the background.
func (a *App) Start() error {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	limits, err := a.cfg.limits()
	if err != nil {
		return err
	}
	if a.egress, err = a.cfg.egress(); err != nil {
		return err
	}
	api := httpapi.New(httpapi.Config{Service: a.Service, Logger: a.log, Registry: reg, Ready: a.ready, Limits: &limits})
	ln, err := net.Listen("tcp", a.cfg.Addr)
	if err != nil {
		return err
	}
	a.ln = ln
	if err := a.applyProviders(context.Background()); err != nil {
		ln.Close()
		return err
	}
	if err := a.startOutbox(reg, ln.Addr().String()); err != nil {
		ln.Close()
		return err
	}
	a.srv = &http.Server{Handler: api, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10,
		ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelWarn)}
	a.served = make(chan error, 1)
	go func() { a.served <- a.srv.Serve(ln) }()
	a.feed.start()
	a.sequencer.start()
	a.startInbound()
	a.purger.Start()
	a.sweeper.Start()
	a.log.Info("consentgate listening", "addr", ln.Addr().String(), "store", a.Store.Dialect())
	return nil
}

// Addr is the address the server listens on.
func (a *App) Addr() string { return a.ln.Addr().String() }

func (a *App) ready(ctx context.Context) error {
	if !a.Index.Ready() {
		return errors.New("decision index not ready")
	}
	return a.Store.Read(ctx, func(tx store.Tx) error {
		_, err := tx.ListTenants(ctx)
		return err
	})
}

// Shutdown stops in order: no new connections, in-flight requests finish,
// queued writes are committed, the change feed stops, the store closes.
func (a *App) Shutdown(ctx context.Context) error {
	var errs []error
	if a.srv != nil {
		if err := a.srv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("http shutdown: %w", err))
		}
		if err := <-a.served; err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	a.stopInbound()
	a.purger.Stop()
	a.sweeper.Stop()
	if err := a.stopOutbox(ctx); err != nil { // drain sends before the committer and the store go
		errs = append(errs, err)
	}
	a.feed.stop()
	a.Service.Close()
	a.sequencer.stop() // after the last consent write: its final pass sequences them
	if err := a.Store.Close(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
