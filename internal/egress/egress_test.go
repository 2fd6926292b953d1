package egress

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"
)

func TestCheck(t *testing.T) {
	deny := Policy{}
	for addr, ok := range map[string]bool{
		"203.0.113.7": true, "8.8.8.8": true, "2001:4860:4860::8888": true,
		"127.0.0.1": false, "10.1.2.3": false, "172.16.0.1": false, "192.168.1.1": false, "169.254.169.254": false,
		"100.64.0.1": false, "0.0.0.0": false, "::1": false, "fe80::1": false, "fc00::1": false, "::ffff:127.0.0.1": false,
		"224.0.0.1": false,
	} {
		err := deny.Check(netip.MustParseAddr(addr))
		if (err == nil) != ok {
			t.Errorf("Check(%s) = %v, want allowed=%v", addr, err, ok)
		}
		if err := (Policy{AllowPrivate: true}).Check(netip.MustParseAddr(addr)); err != nil {
			t.Errorf("AllowPrivate refused %s", addr)
		}
	}
}

// TestHTTPClientRefusesLoopback dials for real: the request never reaches
// the server on 127.0.0.1 unless private egress is allowed.
func TestHTTPClientRefusesLoopback(t *testing.T) {
	hit := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hit++ }))
	defer srv.Close()
	if _, err := (Policy{}).HTTPClient(time.Second).Get(srv.URL); err == nil || hit != 0 {
		t.Fatalf("loopback reached: err=%v hits=%d", err, hit)
	}
	resp, err := (Policy{AllowPrivate: true}).HTTPClient(time.Second).Get(srv.URL)
	if err != nil || hit != 1 {
		t.Fatalf("allowed loopback: %v hits=%d", err, hit)
	}
	resp.Body.Close()
}
