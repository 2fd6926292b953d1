package outbox_test

import (
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/channel"
	"github.com/consentgate/consentgate/internal/store"
)

// BenchmarkDispatch is the dispatcher alone: 20,000 queued messages (SQLite,
// synchronous=NORMAL as in the fixture) leased, decided again, unsealed,
// handed to the sink and recorded. Each b.N iteration drains one such
// queue.
func BenchmarkDispatch(b *testing.B) {
	const n = 20_000
	f := newFixture(b)
	sink := channel.NewSink(nil)
	for b.Loop() {
		b.StopTimer()
		f.queue(n)
		d := f.dispatcher(sink, nil)
		b.StartTimer()
		start := time.Now()
		d.Start()
		for c := f.counts(); c[store.MessageQueued]+c[store.MessageSending] > 0; c = f.counts() {
			time.Sleep(2 * time.Millisecond)
		}
		el := time.Since(start)
		d.Stop(bg)
		b.ReportMetric(n/el.Seconds(), "msgs/s")
	}
}
