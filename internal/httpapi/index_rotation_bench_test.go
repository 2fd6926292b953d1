package httpapi

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/index"
	"github.com/consentgate/consentgate/internal/service"
	"github.com/consentgate/consentgate/internal/store"
)

// BenchmarkIndexRotationUnderSends rotates the index key of a tenant with
// 2,000 contacts and 100,000 messages and 100,000 inbound records of the
// last thirty days (random blind indexes and hashes, in five partitions;
// 20,000 of each on PostgreSQL, where seeding goes row by row)
// while one client sends messages one after another. It reports the rows
// rewritten per second (the two settle waits of 50 ms included) and the
// sends' p99 idle and during the rotation: the rewrite shares the single
// SQLite writer with the send path, one batch of 500 rows at a time.
func BenchmarkIndexRotationUnderSends(b *testing.B) {
	for _, backend := range []struct {
		name string
		open func(testing.TB) store.Store
		rows int
	}{{"sqlite", openBenchSQLite, 100_000}, {"postgres", openPostgres, 20_000}} {
		b.Run(backend.name, func(b *testing.B) { benchIndexRotation(b, backend.open, backend.rows) })
	}
}

func benchIndexRotation(b *testing.B, open func(testing.TB) store.Store, rows int) {
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		e, send := sendingBenchEnv(b, open)
		e.svc.SetTenantKeyTTL(10 * time.Millisecond)
		seedTraffic(b, e.store, e.tenant, rows, time.Now().AddDate(0, 0, -30), 30*day-time.Hour, trafficShape{realistic: true})
		idle := p99(send(1000))
		cli := service.New(service.Config{Store: e.store, Index: index.New(), MasterKey: e.master})
		done := make(chan struct{})
		var rep service.IndexRotateReport
		var rerr error
		b.StartTimer()
		start := time.Now()
		go func() {
			defer close(done)
			rep, rerr = cli.RotateIndexKey(ctx, e.tenant, service.RotateOptions{Settle: 50 * time.Millisecond})
		}()
		var during []time.Duration
		for waiting := true; waiting; {
			during = append(during, send(20)...)
			select {
			case <-done:
				waiting = false
			default:
			}
		}
		elapsed := time.Since(start)
		b.StopTimer()
		cli.Close()
		if rerr != nil {
			b.Fatal(rerr)
		}
		n := 0
		for _, c := range rep.Rewritten {
			n += c
		}
		if n < 2*rows {
			b.Fatalf("rewrote %d rows, want at least %d: %+v", n, 2*rows, rep)
		}
		slices.Sort(during)
		b.ReportMetric(float64(n)/elapsed.Seconds(), "rows/s")
		b.ReportMetric(float64(idle.Microseconds()), "idle_send_p99_µs")
		b.ReportMetric(float64(p99(during).Microseconds()), "rotation_send_p99_µs")
		b.ReportMetric(float64(len(during)), "sends_during")
	}
}
