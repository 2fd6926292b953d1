package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/channel"
	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/outbox"
	"github.com/consentgate/consentgate/internal/service"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/oklog/ulid/v2"
)

// BenchmarkHTTPSendMessages is POST /v1/messages, durable (SQLite
// synchronous=FULL, group commit), with the dispatcher running at the same
// time and sending every accepted message to the sink: the whole path from
// request to provider on the same 2 cores as the load generator. Each b.N
// iteration is one bounded run of 20,000 sends from 16, 32 or 64
// keep-alive connections to 2,000
// contacts who granted consent; msgs/s is what the dispatcher handed to the
// sink in the same time.
func BenchmarkHTTPSendMessages(b *testing.B) { benchSend(b, benchEnvOrSkip(b, ""), true) }

// BenchmarkHTTPSendAccept is the accept path alone (the first
// figure): POST /v1/messages with no dispatcher draining the queue, so the
// sends and the dispatcher's claims do not share the 2 cores and the one
// SQLite writer. BenchmarkDispatch (internal/outbox) is the other half.
func BenchmarkHTTPSendAccept(b *testing.B) { benchSend(b, benchEnvOrSkip(b, ""), false) }

// BenchmarkHTTPSendMessagesPostgres is the same on PostgreSQL.
func BenchmarkHTTPSendMessagesPostgres(b *testing.B) {
	benchSend(b, benchEnvOrSkip(b, "postgres"), true)
}

// BenchmarkHTTPSendAcceptPostgres is the accept path alone on PostgreSQL,
// the figure issue 9 sets beside SQLite's BenchmarkHTTPSendAccept.
func BenchmarkHTTPSendAcceptPostgres(b *testing.B) {
	benchSend(b, benchEnvOrSkip(b, "postgres"), false)
}

func benchEnvOrSkip(b *testing.B, backend string) *env {
	if backend == "postgres" {
		e, _ := benchEnvOn(b, openPostgres, 2000)
		return e
	}
	e, _ := benchEnv(b, "FULL", 2000)
	return e
}

func benchSend(b *testing.B, e *env, dispatch bool) {
	ctx := context.Background()
	if err := e.store.Write(ctx, func(tx store.Tx) error {
		return tx.CreateSender(ctx, &store.Sender{ID: ulid.Make().String(), TenantID: e.tenant, Channel: consent.SMS,
			Kind: store.SenderAlphanumeric, Address: "ACME", CreatedAt: time.Now()})
	}); err != nil {
		b.Fatal(err)
	}
	sink := channel.NewSink(nil)
	d := outbox.New(outbox.Config{Store: e.store, Service: e.svc, Logger: slog.New(slog.DiscardHandler),
		Adapters: func(channel.Config) (channel.Sender, error) { return sink, nil }})
	e.svc.ConfigureSending(service.SendConfig{DefaultProvider: channel.KindSink, PublicURL: e.srv.URL, Kick: d.Kick})
	if dispatch {
		d.Start()
		defer d.Stop(ctx)
	}
	bodies := make([][]byte, 2000)
	for i := range bodies {
		bodies[i] = fmt.Appendf(nil, `{"to":{"phone":"+45%d"},"channel":"sms","purpose":"offers","sender":"ACME","body":"Offer %d: 20%% off this week"}`, 20100000+i, i)
	}
	url := e.srv.URL + "/v1/messages"
	for _, conc := range []int{16, 32, 64} {
		b.Run(fmt.Sprintf("conns=%d", conc), func(b *testing.B) {
			for b.Loop() {
				before, _ := sink.Count()
				r := load(b, e.keys[auth.Developer], 20000, conc, func(i int) (string, []byte) { return url, bodies[i%len(bodies)] }, "POST", 202)
				after, _ := sink.Count()
				b.ReportMetric(float64(after-before)/r.elapsed.Seconds(), "sent/s")
				r.report(b)
			}
		})
	}
}
