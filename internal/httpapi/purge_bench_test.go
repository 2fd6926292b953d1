package httpapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/channel"
	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/service"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/oklog/ulid/v2"
)

// trafficShape says what the rows the purge benchmarks seed look like.
type trafficShape struct {
	name string
	// realistic rows carry what production rows carry: random blind
	// indexes, a contact, a provider's reference, three status events per
	// message; and as many unexpired rows stay behind as expired ones go.
	// The other shape is the one these benchmarks used first: every row
	// with the same blind index, no contact, no reference, no events, all
	// expired. Every index the purge touches is then in time order, which
	// production data never is.
	realistic bool
	// rows is how many expired rows of each category the benchmark purges:
	// inbound records and finished messages.
	rows     int
	postgres bool // fewer rows: seeding them row by row over the wire is slow
}

var trafficShapes = []trafficShape{
	{name: "realistic", realistic: true, rows: 100_000},
	{name: "sequential", rows: 100_000},
	{name: "realistic-postgres", realistic: true, rows: 50_000, postgres: true},
}

// open returns the store factory the shape's benchmarks run on.
func (s trafficShape) open(t testing.TB) store.Store {
	if s.postgres {
		return openPostgres(t)
	}
	return openBenchSQLite(t)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// seedTraffic stores n finished messages and n inbound records, their
// times spread evenly over span from from, straight into the store.
func seedTraffic(t testing.TB, st store.Store, tenantID string, n int, from time.Time, span time.Duration, shape trafficShape) {
	ctx := context.Background()
	contacts := make([]string, max(1, n/10)) // about ten messages and ten inbound records per contact
	for i := range contacts {
		contacts[i] = ulid.Make().String()
	}
	for done := 0; done < n; {
		err := st.Write(ctx, func(tx store.Tx) error {
			for i := 0; i < 5_000 && done < n; i, done = i+1, done+1 {
				// span/n first: span*done overflows int64 past 26,000 rows of four days.
				at := from.Add(span / time.Duration(n) * time.Duration(done)).Truncate(time.Microsecond)
				id := ulid.MustNew(ulid.Timestamp(at), rand.Reader).String()
				m := &store.Message{ID: id, TenantID: tenantID, Kind: store.MessageKindSend,
					Purpose: "newsletter", Channel: consent.SMS, Sender: "ACME", RecipientKind: consent.KindPhone,
					RecipientIndex: []byte("ri"), Status: store.MessageDelivered, Reason: consent.ReasonConsentGranted,
					BodyHash: []byte("h"), BodyLen: 40, DueAt: at, CreatedAt: at, UpdatedAt: at.Add(5 * time.Second)}
				in := &store.InboundMessage{ID: ulid.MustNew(ulid.Timestamp(at), rand.Reader).String(), TenantID: tenantID,
					Channel: consent.SMS, SenderID: "s", FromIndex: []byte("fi"), TextHash: []byte("th"), TextLen: 4,
					Outcome: "ignored", ReceivedAt: at, RecordedAt: at}
				in.ProviderID = in.ID
				if shape.realistic {
					m.RecipientIndex, m.BodyHash = randomBytes(32), randomBytes(32)
					m.ContactID = contacts[done%len(contacts)]
					m.ProviderRef = "SM" + hex.EncodeToString(randomBytes(16))
					in.FromIndex, in.TextHash = randomBytes(32), randomBytes(32)
					in.ContactID = contacts[(done*7)%len(contacts)]
					in.ProviderID = "SM" + hex.EncodeToString(randomBytes(16))
				}
				if err := tx.CreateMessage(ctx, m); err != nil {
					return err
				}
				if shape.realistic {
					for _, s := range []store.MessageStatus{store.MessageQueued, store.MessageSent, store.MessageDelivered} {
						if err := tx.AppendMessageEvent(ctx, &store.MessageEvent{TenantID: tenantID, MessageID: id, Status: s, At: at}); err != nil {
							return err
						}
					}
				}
				if err := tx.CreateInboundMessage(ctx, in); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// seedPurge seeds what the purge benchmarks purge: shape.rows expired
// messages and inbound records from four days two years ago and, for the
// realistic shapes, as many of each from the last thirty days that stay.
func seedPurge(t testing.TB, e *env, shape trafficShape) {
	now := time.Now()
	seedTraffic(t, e.store, e.tenant, shape.rows, now.AddDate(-2, 0, 0), 4*day, shape)
	if shape.realistic {
		seedTraffic(t, e.store, e.tenant, shape.rows, now.AddDate(0, 0, -30), 30*day-time.Hour, shape)
	}
}

const day = 24 * time.Hour

// timedPost posts body to path as a developer and returns how long the
// answer took; any status but want fails the benchmark.
func timedPost(t testing.TB, e *env, path string, body []byte, want int) time.Duration {
	req, _ := http.NewRequest("POST", e.srv.URL+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+e.keys[auth.Developer])
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	resp, err := e.srv.Client().Do(req)
	if err != nil || resp.StatusCode != want {
		t.Fatalf("POST %s: %v %v", path, resp, err)
	}
	io.Copy(io.Discard, resp.Body) // a body left unread closes the connection: every request would dial anew
	resp.Body.Close()
	return time.Since(start)
}

// decisionLatencies sends n decisions one after another and returns their
// latencies, sorted.
func decisionLatencies(t testing.TB, e *env, n int) []time.Duration {
	body := []byte(`{"to":{"phone":"+4520123456"},"channel":"sms","purpose":"newsletter"}`)
	lat := make([]time.Duration, 0, n)
	for range n {
		lat = append(lat, timedPost(t, e, "/v1/decisions", body, 200))
	}
	slices.Sort(lat)
	return lat
}

func p99(lat []time.Duration) time.Duration { return lat[len(lat)*99/100] }

// purgeWhile runs a purge of the expired rows in e while measure runs
// again and again, and returns the purge rate and the sorted latencies
// measure returned meanwhile. Only the purge is timed.
func purgeWhile(b *testing.B, e *env, rows int, measure func() []time.Duration) (rowsPerSec float64, during []time.Duration) {
	done := make(chan struct{})
	var sums []service.PurgeSummary
	var perr error
	b.StartTimer()
	start := time.Now()
	go func() {
		defer close(done)
		sums, perr = e.svc.Purge(context.Background(), service.PurgeOptions{})
	}()
	for {
		during = append(during, measure()...)
		select {
		case <-done:
		default:
			continue
		}
		break
	}
	elapsed := time.Since(start)
	b.StopTimer()
	if perr != nil {
		b.Fatal(perr)
	}
	n := 0
	for _, s := range sums {
		if s.Category == "message_metadata" || s.Category == "inbound_messages" {
			n += s.Count
		}
	}
	if n != 2*rows {
		b.Fatalf("purged %d rows, want %d", n, 2*rows)
	}
	slices.Sort(during)
	return float64(n) / elapsed.Seconds(), during
}

// sendingBenchEnv is benchEnvOn with a sender and sending to the sink,
// and a client that sends n messages one after another to its 2,000
// contacts and returns their latencies, sorted.
func sendingBenchEnv(b *testing.B, open func(testing.TB) store.Store) (*env, func(n int) []time.Duration) {
	ctx := context.Background()
	e, _ := benchEnvOn(b, open, 2000)
	if err := e.store.Write(ctx, func(tx store.Tx) error {
		return tx.CreateSender(ctx, &store.Sender{ID: ulid.Make().String(), TenantID: e.tenant, Channel: consent.SMS,
			Kind: store.SenderAlphanumeric, Address: "ACME", CreatedAt: time.Now()})
	}); err != nil {
		b.Fatal(err)
	}
	e.svc.ConfigureSending(service.SendConfig{DefaultProvider: channel.KindSink, PublicURL: e.srv.URL})
	next := 0
	return e, func(n int) []time.Duration {
		lat := make([]time.Duration, 0, n)
		for range n {
			body := fmt.Appendf(nil, `{"to":{"phone":"+45%d"},"channel":"sms","purpose":"offers","sender":"ACME","body":"Offer %d"}`,
				20100000+next%2000, next)
			next++
			lat = append(lat, timedPost(b, e, "/v1/messages", body, 202))
		}
		slices.Sort(lat)
		return lat
	}
}

// BenchmarkPurgeUnderLoad purges 200,000 expired rows (inbound records and
// finished messages; 40,000 on PostgreSQL) while decisions are served, and reports the purge rate
// and the decisions' p99 idle and during the purge. Targets: ≥ 100,000
// rows/s, and p99 during ≤ 2 × idle.
func BenchmarkPurgeUnderLoad(b *testing.B) {
	for _, shape := range trafficShapes {
		b.Run(shape.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				e := newEnv(b, shape.open)
				runSteps(b, e, privacySetup())
				seedPurge(b, e, shape)
				idle := p99(decisionLatencies(b, e, 3000))
				rate, during := purgeWhile(b, e, shape.rows, func() []time.Duration { return decisionLatencies(b, e, 50) })
				b.ReportMetric(rate, "rows/s")
				b.ReportMetric(float64(idle.Microseconds()), "idle_p99_µs")
				b.ReportMetric(float64(p99(during).Microseconds()), "purge_p99_µs")
				b.ReportMetric(float64(p99(during))/float64(idle), "p99_during/idle")
			}
		})
	}
}

// BenchmarkPurgeUnderSends purges the same rows while one client sends
// messages (POST /v1/messages, accept path: decide, seal, queue durably)
// one after another, and reports the sends' p99 idle and during the purge:
// the purge shares the single SQLite writer with the send path's group
// commit, and must not stall it.
func BenchmarkPurgeUnderSends(b *testing.B) {
	for _, shape := range trafficShapes {
		b.Run(shape.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				e, send := sendingBenchEnv(b, shape.open)
				seedPurge(b, e, shape)
				idle := p99(send(1000))
				rate, during := purgeWhile(b, e, shape.rows, func() []time.Duration { return send(20) })
				b.ReportMetric(rate, "rows/s")
				b.ReportMetric(float64(idle.Microseconds()), "idle_send_p99_µs")
				b.ReportMetric(float64(p99(during).Microseconds()), "purge_send_p99_µs")
				b.ReportMetric(float64(p99(during))/float64(idle), "p99_during/idle")
				b.ReportMetric(float64(len(during)), "sends_during")
			}
		})
	}
}
