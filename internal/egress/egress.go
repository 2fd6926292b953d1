// Package egress decides which addresses the gateway may connect to on a
// tenant's behalf. Provider URLs, SMTP hosts and forwarding webhooks are
// set by tenants; without a check a tenant admin could make the gateway
// call its own internal services (server-side request forgery). The check
// runs on the address actually dialled, after DNS resolution, so a name
// that resolves to an internal address (or is rebound to one) is refused
// too.
package egress

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// Policy is a node's egress rule for tenant-configured destinations.
type Policy struct {
	// AllowPrivate permits loopback, private, link-local and other
	// non-public addresses: for development, tests, and providers reached
	// over a private network on purpose.
	AllowPrivate bool
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// Check refuses an address the policy does not allow.
func (p Policy) Check(ip netip.Addr) error {
	if p.AllowPrivate {
		return nil
	}
	ip = ip.Unmap()
	if ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() || cgnat.Contains(ip) {
		return fmt.Errorf("egress: %s is not a public address (set --allow-private-egress to allow it)", ip)
	}
	return nil
}

func (p Policy) control(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("egress: %q is not an address", host)
	}
	return p.Check(ip)
}

// DialContext dials like net.Dialer, refusing addresses the policy does
// not allow.
func (p Policy) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	d := net.Dialer{Timeout: 10 * time.Second, Control: p.control}
	return d.DialContext(ctx, network, address)
}

// HTTPClient returns a client that dials through the policy, with a
// timeout, and that never follows redirects (a redirect would carry the
// request to a host nobody configured).
func (p Policy) HTTPClient(timeout time.Duration) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil // a proxy would dial on our behalf, past the check
	tr.DialContext = p.DialContext
	return &http.Client{Timeout: timeout, Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
}
