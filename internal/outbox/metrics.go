package outbox

import (
	"context"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	outcomes *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer, st store.Store) *metrics {
	m := &metrics{outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "consentgate_outbox_outcomes_total",
		Help: "Dispatch outcomes by status (sent, queued = retry, blocked, dead) and channel.",
	}, []string{"status", "channel"})}
	if reg != nil {
		reg.MustRegister(m.outcomes, &depth{st: st, desc: prometheus.NewDesc("consentgate_outbox_messages",
			"Messages in the outbox by status (dead = dead letters).", []string{"status"}, nil)})
	}
	return m
}

func (m *metrics) outcome(st store.MessageStatus, ch consent.Channel) {
	m.outcomes.WithLabelValues(string(st), string(ch)).Inc()
}

// depth counts the outbox by status when scraped.
type depth struct {
	st   store.Store
	desc *prometheus.Desc
}

func (d *depth) Describe(ch chan<- *prometheus.Desc) { ch <- d.desc }

func (d *depth) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var counts map[store.MessageStatus]int
	if err := d.st.Read(ctx, func(tx store.Tx) (err error) {
		counts, err = tx.CountMessagesByStatus(ctx)
		return err
	}); err != nil {
		return
	}
	for _, s := range []store.MessageStatus{store.MessageQueued, store.MessageSending, store.MessageSent,
		store.MessageDelivered, store.MessageFailed, store.MessageBlocked, store.MessageDead} {
		ch <- prometheus.MustNewConstMetric(d.desc, prometheus.GaugeValue, float64(counts[s]), string(s))
	}
}
