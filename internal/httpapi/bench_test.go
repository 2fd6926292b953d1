package httpapi

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/service"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/store/sqlite"
)

// loadResult is what a bounded loopback load run measured.
type loadResult struct {
	n       int
	elapsed time.Duration
	lat     []time.Duration
	errors  int64
}

func (r loadResult) report(b *testing.B) {
	slices.Sort(r.lat)
	p := func(q float64) float64 { return float64(r.lat[int(q*float64(len(r.lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(float64(r.n)/r.elapsed.Seconds(), "req/s")
	b.ReportMetric(p(0.50), "p50_ms")
	b.ReportMetric(p(0.99), "p99_ms")
	if r.errors > 0 {
		b.Fatalf("%d requests failed", r.errors)
	}
}

// load sends n requests from conc keep-alive connections to 127.0.0.1 and
// records each latency. It is bounded by n and stops by itself.
func load(b *testing.B, key string, n, conc int, next func(i int) (url string, body []byte), method string, want int) loadResult {
	tr := &http.Transport{MaxIdleConnsPerHost: conc, MaxConnsPerHost: conc, DialContext: (&net.Dialer{}).DialContext}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	lat := make([]time.Duration, n)
	var seq, errs atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(seq.Add(1) - 1)
				if i >= n {
					return
				}
				url, body := next(i)
				req, _ := http.NewRequest(method, url, bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+key)
				req.Header.Set("Content-Type", "application/json")
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					errs.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				lat[i] = time.Since(t0)
				if resp.StatusCode != want {
					errs.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return loadResult{n: n, elapsed: time.Since(start), lat: lat, errors: errs.Load()}
}

func benchEnv(b *testing.B, syncMode string, contacts int) (*env, []string) {
	open := func(t testing.TB) store.Store {
		db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "bench.db"), sqlite.Options{Synchronous: syncMode})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	return benchEnvOn(b, open, contacts)
}

// benchEnvOn is benchEnv over any store.
func benchEnvOn(b *testing.B, open func(testing.TB) store.Store, contacts int) (*env, []string) {
	e := newEnv(b, open)
	ctx := context.Background()
	pr := auth.Principal{TenantID: e.tenant, KeyID: "bench", Role: auth.Owner}
	for _, p := range service.DemoPurposes() {
		if _, err := e.svc.CreatePurpose(ctx, pr, p); err != nil {
			b.Fatal(err)
		}
	}
	ids := make([]string, contacts)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for i := range ids {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer func() { <-sem; wg.Done() }()
			id, err := e.svc.CreateContact(ctx, pr, service.ContactInput{Identifiers: map[string]string{"phone": fmt.Sprintf("+45%d", 20100000+i)}})
			if err != nil {
				b.Error(err)
				return
			}
			ids[i] = id
			if _, err := e.svc.SetConsent(ctx, pr, id, "offers", "sms", service.ConsentInput{Status: "granted"}); err != nil {
				b.Error(err)
			}
		}(i)
	}
	wg.Wait()
	return e, ids
}

// BenchmarkHTTPDecisions is POST /v1/decisions over loopback HTTP with the
// load generator in the same process (it shares the 2 cores). Each b.N
// iteration is one bounded run of 20,000 requests from 8, 16 or 32
// keep-alive connections.
func BenchmarkHTTPDecisions(b *testing.B) {
	e, _ := benchEnv(b, "NORMAL", 2000)
	// The decision path is measured, not the abuse limits: one key
	// may make 20,000 requests/s (burst 40,000), which the loopback load
	// exceeds once b.Loop runs more than a run or two.
	e.srv.Close()
	e.srv = httptest.NewServer(New(Config{Service: e.svc, Logger: slog.New(slog.DiscardHandler), Limits: &Limits{},
		Ready: func(context.Context) error { return nil }}))
	b.Cleanup(e.srv.Close)
	bodies := make([][]byte, 2000)
	for i := range bodies {
		bodies[i] = fmt.Appendf(nil, `{"to":{"phone":"+45%d"},"channel":"sms","purpose":"offers"}`, 20100000+i)
	}
	url := e.srv.URL + "/v1/decisions"
	for _, conc := range []int{8, 16, 32} {
		b.Run(fmt.Sprintf("conns=%d", conc), func(b *testing.B) {
			for b.Loop() {
				r := load(b, e.keys[auth.Developer], 20000, conc, func(i int) (string, []byte) { return url, bodies[i%len(bodies)] }, "POST", 200)
				r.report(b)
			}
		})
	}
}

// BenchmarkHTTPConsentWrites is durable consent writes (SQLite
// synchronous=FULL: every commit fsynced; group commit shares one commit
// among concurrent requests) through PUT /v1/contacts/{id}/consents/... .
// Each b.N iteration is one bounded run of 10,000 writes from 64
// connections.
func BenchmarkHTTPConsentWrites(b *testing.B) {
	e, ids := benchEnv(b, "FULL", 2000)
	b.ResetTimer()
	for b.Loop() {
		r := load(b, e.keys[auth.Developer], 10000, 64, func(i int) (string, []byte) {
			st := "granted"
			if (i/len(ids))%2 == 1 {
				st = "withdrawn"
			}
			return e.srv.URL + "/v1/contacts/" + ids[i%len(ids)] + "/consents/offers/sms", []byte(`{"status":"` + st + `","source":"api"}`)
		}, "PUT", 200)
		r.report(b)
	}
}
