package app

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/consentgate/consentgate/internal/httpapi"
)

// limits reads the API's abuse limits from the configuration; an unset
// value keeps its default. Bursts are two seconds' worth.
func (c *Config) limits() (httpapi.Limits, error) {
	l := httpapi.DefaultLimits()
	var errs []error
	rate := func(name, v string, dst *float64, burst *int) {
		if v == "" {
			return
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 {
			errs = append(errs, fmt.Errorf("%s: %q is not a positive number", name, v))
			return
		}
		*dst, *burst = f, int(2*f)+1
	}
	rate("rate-per-key", c.RatePerKey, &l.KeyRate, &l.KeyBurst)
	rate("rate-per-address", c.RatePerAddress, &l.AddrRate, &l.AddrBurst)
	if v := c.AuthFailuresAllowed; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			errs = append(errs, fmt.Errorf("auth-failures-allowed: %q is not a whole number", v))
		} else {
			l.FailuresAllowed = n
		}
	}
	for _, f := range strings.Split(c.TrustedProxies, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		pfx, err := netip.ParsePrefix(f)
		if err != nil {
			ip, ierr := netip.ParseAddr(f)
			if ierr != nil {
				errs = append(errs, fmt.Errorf("trusted-proxies: %q is not an address or CIDR prefix", f))
				continue
			}
			pfx = netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen())
		}
		l.TrustedProxies = append(l.TrustedProxies, pfx.Masked())
	}
	return l, errors.Join(errs...)
}
