package httpapi

import (
	"strconv"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/service"
	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	requests  *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	decisions *prometheus.CounterVec
}

func newMetrics(reg *prometheus.Registry, svc *service.Service) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "consentgate_http_requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "consentgate_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "consentgate_decisions_total", Help: "Decisions by outcome and reason.",
		}, []string{"allowed", "reason"}),
	}
	reg.MustRegister(m.requests, m.duration, m.decisions)
	if svc != nil {
		ix := svc.Index()
		gauge := func(name, help string, f func() float64) {
			reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f))
		}
		gauge("consentgate_index_ready", "1 when the decision index answers decisions.", func() float64 {
			if ix.Ready() {
				return 1
			}
			return 0
		})
		gauge("consentgate_index_states", "Consent states held in the decision index.", func() float64 { return float64(ix.Stats().States) })
		gauge("consentgate_index_contacts", "Contacts held in the decision index.", func() float64 { return float64(ix.Stats().Contacts) })
	}
	return m
}

func (m *metrics) observe(route string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}

func (m *metrics) decision(d consent.Decision) {
	m.decisions.WithLabelValues(strconv.FormatBool(d.Allowed), string(d.Reason)).Inc()
}
