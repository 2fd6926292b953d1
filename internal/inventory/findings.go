package inventory

import (
	"fmt"
	"slices"
)

// findings lists what is missing or doubtful, in a stable order: controller
// details, storage, processors, retention, measures, activities.
func findings(in Input, b Body) []Finding {
	var fs []Finding
	add := func(sev, code, subject, format string, args ...any) {
		fs = append(fs, Finding{Severity: sev, Code: code, Subject: subject, Message: fmt.Sprintf(format, args...)})
	}
	c := in.Controller
	if c.Name == "" {
		add(SeverityCritical, "controller_name_missing", "controller", "the controller's name is not set (PUT /v1/tenant/profile controller_name); Art. 30(1)(a)")
	}
	if c.Address == "" {
		add(SeverityWarning, "controller_address_missing", "controller", "the controller's address is not set (controller_address); Art. 30(1)(a)")
	}
	if c.DPOName == "" {
		add(SeverityCritical, "dpo_name_missing", "controller", "the data protection officer's name is not set (dpo_name); Art. 30(1)(a), 37(7)")
	}
	if c.DPOEmail == "" && c.DPOPhone == "" {
		add(SeverityCritical, "dpo_contact_missing", "controller", "no contact for the data protection officer (dpo_email or dpo_phone); Art. 37(7)")
	}
	if c.PrivacyNoticeURL == "" {
		add(SeverityWarning, "privacy_notice_missing", "controller", "no privacy notice URL: HELP replies cannot link to it; Art. 13")
	}
	if c.SupervisoryAuthority == "" {
		add(SeverityWarning, "supervisory_authority_missing", "controller", "the lead supervisory authority is not set (supervisory_authority); breach reports go there (Art. 33)")
	}
	if c.Representative == "" {
		add(SeverityInfo, "representative_not_set", "controller", "no EU representative is named; one is required only when the controller is established outside the EU (Art. 27)")
	}
	st := in.Storage
	if st.Country == "" {
		add(SeverityCritical, "storage_country_missing", "storage", "the database's country is not configured (store-country); the record cannot state where data is kept")
	} else if !InEEA(st.Country) {
		add(SeverityWarning, "storage_outside_eea", "storage", "the database is kept in %s, outside the EEA: a Chapter V transfer mechanism is needed", st.Country)
	}
	if st.BackupCountry == "" {
		add(SeverityWarning, "backup_country_missing", "storage", "where backups are kept is not configured (backup-country)")
	} else if st.BackupsLeave() {
		sev := SeverityInfo
		if !InEEA(st.BackupCountry) {
			sev = SeverityCritical
		}
		add(sev, "backups_leave_country", "storage", "backups are kept in %s, the database in %s", st.BackupCountry, st.Country)
	}
	for _, p := range b.Processors {
		if p.Internal {
			add(SeverityInfo, "internal_provider", string(p.Channel), "the %s channel uses the %s provider: nothing is delivered and no processor receives data", p.Channel, p.Kind)
			continue
		}
		if p.Country == "" {
			add(SeverityCritical, "processor_country_missing", string(p.Channel), "the country of the %s processor %s is not declared (PUT /v1/processors/%s)", p.Channel, p.Name, p.Channel)
		}
		if p.Transfer == "" {
			add(SeverityCritical, "transfer_mechanism_missing", string(p.Channel), "the transfer mechanism of the %s processor %s is not declared", p.Channel, p.Name)
		} else if p.ThirdCountry() && p.Transfer == TransferNone {
			add(SeverityCritical, "transfer_without_mechanism", string(p.Channel), "the %s processor %s is in %s, outside the EEA, but no transfer mechanism is declared", p.Channel, p.Name, p.Country)
		} else if p.Transfer == TransferAdequacy && p.Country != "" && !HasAdequacy(p.Country) {
			add(SeverityCritical, "adequacy_not_available", string(p.Channel), "%s has no adequacy decision; the %s processor needs another mechanism", p.Country, p.Channel)
		} else if p.Transfer == TransferAdequacy && p.Country == "US" {
			add(SeverityInfo, "dpf_certification", string(p.Channel), "adequacy for the United States covers only companies certified under the EU-US Data Privacy Framework: check that %s is", p.Name)
		}
		if p.DPARef == "" {
			add(SeverityWarning, "dpa_missing", string(p.Channel), "no data processing agreement is referenced for the %s processor %s (Art. 28(3))", p.Channel, p.Name)
		}
	}
	for _, r := range b.Retention {
		switch {
		case r.Source == SourceDefault:
			add(SeverityWarning, "retention_default", string(r.Category),
				"no retention policy is in force for %s: the record states the documented default (%s), which nothing enforces yet", r.Category, r.Period)
		case !r.Enforced:
			add(SeverityInfo, "retention_not_enforced", string(r.Category),
				"the retention of %s (%s) is stated but no purge enforces it", r.Category, r.Period)
		}
	}
	if !in.Facts.AuditTrail {
		add(SeverityWarning, "audit_trail_off", "measures", "reads of personal data are not yet recorded as audit events")
	}
	if !in.Facts.LedgerAnchored {
		add(SeverityInfo, "ledger_not_anchored", "measures", "ledger checkpoints are not copied outside the database (ledger-checkpoint-file or -url)")
	}
	if len(b.Activities) == 0 {
		add(SeverityWarning, "no_purposes", "activities", "the tenant has no purposes: there is no processing to record")
	}
	for _, a := range b.Activities {
		for _, ch := range a.Channels {
			if !slices.ContainsFunc(b.Processors, func(p Processor) bool { return p.Channel == ch }) {
				add(SeverityInfo, "channel_without_provider", a.Key, "purpose %s allows %s but no provider is configured for it: nothing is sent there yet", a.Key, ch)
			}
		}
	}
	if fs == nil {
		fs = []Finding{}
	}
	return fs
}
