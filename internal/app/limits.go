package app

import (
	"errors"
	"fmt"
	"strconv"

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
	return l, errors.Join(errs...)
}
