package httpapi

import (
	"math"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/consentgate/consentgate/internal/apperr"
	"github.com/consentgate/consentgate/internal/backoff"
)

// Limits are the API's abuse limits, kept in memory on each node (with N
// nodes behind a balancer a client gets up to N times the rates). Token
// buckets bound the request rate per API key and per source address;
// repeated failed authentication from one address is answered 429 with an
// exponentially growing Retry-After, which also keeps a key-guessing flood
// from filling the audit trail. A rate of 0 turns that bucket off.
type Limits struct {
	KeyRate   float64 // requests per second per API key
	KeyBurst  int
	AddrRate  float64 // requests per second per source address (IPv6: per /64)
	AddrBurst int
	// FailuresAllowed failed authentications from one address pass
	// unhindered; each one after blocks the address for FailureBackoff,
	// doubled per further failure, up to FailureBackoffMax. An address with
	// no failure for FailureWindow starts afresh.
	FailuresAllowed   int
	FailureBackoff    time.Duration
	FailureBackoffMax time.Duration
	FailureWindow     time.Duration
	// TrustedProxies are the reverse proxies whose X-Forwarded-For the
	// limits believe. Without them the TCP peer is the source address.
	TrustedProxies []netip.Prefix
}

// DefaultLimits are generous enough for the decision hot path of one
// application (tens of thousands of decisions per second per key) and
// strict on failed authentication.
func DefaultLimits() Limits {
	return Limits{KeyRate: 20000, KeyBurst: 40000, AddrRate: 40000, AddrBurst: 80000,
		FailuresAllowed: 10, FailureBackoff: time.Second, FailureBackoffMax: 15 * time.Minute, FailureWindow: 15 * time.Minute}
}

// maxTracked bounds each table: beyond it, idle entries are swept at once,
// and when none are idle new clients go unlimited rather than exhaust the
// node's memory.
const maxTracked = 1 << 20

type limiter struct {
	cfg   Limits
	now   func() time.Time
	mu    sync.Mutex
	keys  map[string]*tokenBucket
	addrs map[string]*tokenBucket
	swept time.Time
	fails *backoff.Failures[string] // failed authentication per address; locks itself
}

type tokenBucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(cfg Limits, now func() time.Time) *limiter {
	if now == nil {
		now = time.Now
	}
	return &limiter{cfg: cfg, now: now, keys: map[string]*tokenBucket{}, addrs: map[string]*tokenBucket{},
		fails: backoff.New[string](maxTracked), swept: now()}
}

// take takes one token from id's bucket in m; when there is none it
// returns how long until there will be.
func (l *limiter) take(m map[string]*tokenBucket, id string, rate float64, burst int) (time.Duration, bool) {
	if rate <= 0 {
		return 0, true
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	b := m[id]
	if b == nil {
		if len(m) >= maxTracked {
			return 0, true
		}
		b = &tokenBucket{tokens: float64(max(burst, 1)), last: now}
		m[id] = b
	}
	b.tokens = math.Min(float64(max(burst, 1)), b.tokens+now.Sub(b.last).Seconds()*rate)
	b.last = now
	if b.tokens < 1 {
		return time.Duration((1 - b.tokens) / rate * float64(time.Second)), false
	}
	b.tokens--
	return 0, true
}

func (l *limiter) allowKey(id string) (time.Duration, bool) {
	return l.take(l.keys, id, l.cfg.KeyRate, l.cfg.KeyBurst)
}

func (l *limiter) allowAddr(addr string) (time.Duration, bool) {
	return l.take(l.addrs, addr, l.cfg.AddrRate, l.cfg.AddrBurst)
}

// blocked reports whether addr is in a failed-authentication backoff.
func (l *limiter) blocked(addr string) (time.Duration, bool) {
	return l.fails.Blocked(addr, l.now())
}

// failed counts a failed authentication from addr and starts or extends
// its backoff once the allowance is used up.
func (l *limiter) failed(addr string) {
	if l.cfg.FailureBackoff <= 0 {
		return
	}
	l.fails.Failed(addr, l.now(), backoff.Policy{Allowed: l.cfg.FailuresAllowed, First: l.cfg.FailureBackoff,
		Max: l.cfg.FailureBackoffMax, Window: l.cfg.FailureWindow})
}

// succeeded forgets addr's failures: a client that now holds a valid key
// is not punished for an earlier typo.
func (l *limiter) succeeded(addr string) { l.fails.Succeeded(addr) }

// sweep drops, at most once a minute (or when a table is full), buckets
// that have refilled (the failures table sweeps itself). l.mu is held.
func (l *limiter) sweep(now time.Time) {
	full := len(l.keys) >= maxTracked || len(l.addrs) >= maxTracked
	if !full && now.Sub(l.swept) < time.Minute {
		return
	}
	l.swept = now
	idle := func(m map[string]*tokenBucket, rate float64, burst int) {
		for id, b := range m {
			if rate <= 0 || now.Sub(b.last).Seconds()*rate >= float64(burst) {
				delete(m, id)
			}
		}
	}
	idle(l.keys, l.cfg.KeyRate, l.cfg.KeyBurst)
	idle(l.addrs, l.cfg.AddrRate, l.cfg.AddrBurst)
}

// sourceAddr is the address limits apply to: the TCP peer, with IPv6
// grouped by /64 (one subscriber's allocation). When the peer is a trusted
// reverse proxy, the client is the rightmost address of X-Forwarded-For
// that is not itself a trusted proxy: addresses further left were written
// by the client and prove nothing.
func sourceAddr(r *http.Request, trusted ...netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap()
	if len(trusted) > 0 && isTrusted(ip, trusted) {
		hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				break // a malformed hop: stop at the last address we could trust
			}
			ip = hop.Unmap()
			if !isTrusted(ip, trusted) {
				break
			}
		}
	}
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

func isTrusted(ip netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// tooMany is the 429 answer, with the wait the client should keep.
func tooMany(wait time.Duration, what string) error {
	e := apperr.New(apperr.RateLimited, "too many requests from this %s; retry later", what)
	e.Details = map[string]any{"retry_after": int(math.Ceil(max(wait.Seconds(), 1))), "limit": what}
	return e
}
