package service

import (
	"sync"
	"time"

	"github.com/consentgate/consentgate/internal/keyword"
	"github.com/consentgate/consentgate/internal/keywordflow"
	"github.com/consentgate/consentgate/internal/store"
)

// inboundCacheTTL bounds how long this node trusts a cached sender, keyword
// configuration or webhook secret. A change made on this node is seen at
// once (the cache entry is dropped); one made on another node within the TTL.
const inboundCacheTTL = 10 * time.Second

// InboundConfig holds the settings of inbound messaging.
type InboundConfig struct {
	// ConfirmWindow is how long a pending double opt-in waits for YES;
	// keywordflow.DefaultConfirmWindow (24 h) when zero.
	ConfirmWindow time.Duration
	// SecretGrace is how long the previous webhook secret stays valid
	// after a rotation; 24 h when zero.
	SecretGrace time.Duration
}

// inboundState is the Service's inbound caches. Its zero value is ready:
// the maps are made on first use, so Service.New needs no change for it.
type inboundState struct {
	mu          sync.Mutex
	cfg         InboundConfig
	senders     map[string]cachedSender     // channel + "|" + address
	classifiers map[string]cachedClassifier // tenant id
	secrets     map[string]cachedSecret     // tenant id + "|" + provider
	replyConfs  map[string]cachedReplyConf  // tenant id
	targets     map[string]cachedTarget     // tenant id: has a forwarding webhook (forward_status.go)
}

// cachedReplyConf is what every reply of a tenant needs besides the
// message: read once per TTL instead of three queries per reply.
type cachedReplyConf struct {
	name      string
	profile   *store.TenantProfile // nil when not set
	overrides []*store.ReplyTemplate
	expires   time.Time
}

type cachedSender struct {
	s       *store.Sender
	expires time.Time
}

type cachedClassifier struct {
	c       *keyword.Classifier
	expires time.Time
}

type cachedSecret struct {
	keys    [][]byte
	expires time.Time
}

// SetInboundConfig sets the inbound settings. Call it once at start-up.
func (s *Service) SetInboundConfig(cfg InboundConfig) {
	s.inbound.mu.Lock()
	s.inbound.cfg = cfg
	s.inbound.mu.Unlock()
}

func (s *Service) inboundConfig() InboundConfig {
	s.inbound.mu.Lock()
	defer s.inbound.mu.Unlock()
	c := s.inbound.cfg
	if c.ConfirmWindow <= 0 {
		c.ConfirmWindow = keywordflow.DefaultConfirmWindow
	}
	if c.SecretGrace <= 0 {
		c.SecretGrace = 24 * time.Hour
	}
	return c
}

// cacheGet and cachePut keep the three caches behind one lock: entries are
// few (one per tenant or sender) and reads are a map lookup.
func cacheGet[V any](st *inboundState, m map[string]V, key string) (V, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	v, ok := m[key]
	return v, ok
}

func (st *inboundState) putSender(key string, v cachedSender) {
	st.mu.Lock()
	if st.senders == nil {
		st.senders = map[string]cachedSender{}
	}
	st.senders[key] = v
	st.mu.Unlock()
}

func (st *inboundState) putClassifier(tenantID string, v cachedClassifier) {
	st.mu.Lock()
	if st.classifiers == nil {
		st.classifiers = map[string]cachedClassifier{}
	}
	st.classifiers[tenantID] = v
	st.mu.Unlock()
}

func (st *inboundState) dropClassifier(tenantID string) {
	st.mu.Lock()
	delete(st.classifiers, tenantID)
	st.mu.Unlock()
}

func (st *inboundState) putSecret(key string, v cachedSecret) {
	st.mu.Lock()
	if st.secrets == nil {
		st.secrets = map[string]cachedSecret{}
	}
	st.secrets[key] = v
	st.mu.Unlock()
}

func (st *inboundState) dropSecret(key string) {
	st.mu.Lock()
	delete(st.secrets, key)
	st.mu.Unlock()
}

// Now is the service's clock, for the HTTP layer's signature timestamps:
// the same injected clock as every expiry the service checks.
func (s *Service) Now() time.Time { return s.now() }

func (st *inboundState) putReplyConf(tenantID string, v cachedReplyConf) {
	st.mu.Lock()
	if st.replyConfs == nil {
		st.replyConfs = map[string]cachedReplyConf{}
	}
	st.replyConfs[tenantID] = v
	st.mu.Unlock()
}

func (st *inboundState) dropReplyConf(tenantID string) {
	st.mu.Lock()
	delete(st.replyConfs, tenantID)
	st.mu.Unlock()
}
