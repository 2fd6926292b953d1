package app

import (
	"fmt"
	"strings"

	"github.com/consentgate/consentgate/internal/service"
)

// checkLocation validates the storage-location settings and puts the
// country codes in upper case. Empty is allowed: the record of processing
// then lists the missing location as a finding instead of refusing to
// start, because a gateway without a declared location still works.
func (c *Config) checkLocation() []error {
	var errs []error
	for _, f := range []struct {
		name string
		v    *string
	}{{"store-country", &c.StoreCountry}, {"backup-country", &c.BackupCountry}} {
		*f.v = strings.ToUpper(strings.TrimSpace(*f.v))
		if *f.v != "" && (len(*f.v) != 2 || strings.Trim(*f.v, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "") {
			errs = append(errs, fmt.Errorf("%s: %q is not a two-letter ISO 3166 country code", f.name, *f.v))
		}
	}
	if len(c.StoreRegion) > 100 {
		errs = append(errs, fmt.Errorf("store-region: at most 100 characters"))
	}
	return errs
}

// RecordsConfig is what the record of processing reads from the running
// configuration.
func (c Config) RecordsConfig() service.RecordsConfig {
	return service.RecordsConfig{StoreCountry: c.StoreCountry, StoreRegion: c.StoreRegion, BackupCountry: c.BackupCountry,
		LedgerAnchored: c.LedgerCheckpointFile != "" || c.LedgerCheckpointURL != ""}
}
