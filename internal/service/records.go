package service

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/consentgate/consentgate/internal/apperr"
	"github.com/consentgate/consentgate/internal/channel"
	"github.com/consentgate/consentgate/internal/inventory"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/oklog/ulid/v2"
)

// The DPO's records (issue 8) are generated, not typed in: this file reads
// the live configuration of a tenant into an inventory.Input, which the
// pure inventory package turns into the record of processing, the data
// map, DPIA worksheets and breach reports (records_*.go).

// RecordsConfig is what the records read from the process configuration
// rather than from the store.
type RecordsConfig struct {
	StoreCountry   string // ISO 3166 country of the database
	StoreRegion    string // data centre or cloud region, free text
	BackupCountry  string // ISO 3166 country of the backups
	LedgerAnchored bool   // ledger checkpoints are copied outside the database
	// NewID makes ids for breaches; ulid.Make when nil. Tests pass a
	// counter so that exports are stable.
	NewID func() string
}

type recordsState struct {
	mu  sync.Mutex
	cfg RecordsConfig
}

// ConfigureRecords sets the storage location and other process settings
// the records state.
func (s *Service) ConfigureRecords(cfg RecordsConfig) {
	s.records.mu.Lock()
	s.records.cfg = cfg
	s.records.mu.Unlock()
}

func (s *Service) recordsConfig() RecordsConfig {
	s.records.mu.Lock()
	defer s.records.mu.Unlock()
	return s.records.cfg
}

func (s *Service) newRecordID() string {
	if f := s.recordsConfig().NewID; f != nil {
		return f()
	}
	return ulid.Make().String()
}

// ControllerDetails extend the tenant profile with what the record of
// processing and breach reports need besides the controller's name, the
// privacy notice and the DPO's name and e-mail. They are embedded in
// TenantProfile, so PUT /v1/tenant/profile carries them.
type ControllerDetails struct {
	ControllerAddress       string `json:"controller_address"`
	Representative          string `json:"representative"`
	RepresentativeContact   string `json:"representative_contact"`
	DPOPhone                string `json:"dpo_phone"`
	SupervisoryAuthority    string `json:"supervisory_authority"`
	SupervisoryAuthorityURL string `json:"supervisory_authority_url"`
}

// check validates the details and trims them.
func (d *ControllerDetails) check() error {
	for _, f := range []*string{&d.ControllerAddress, &d.Representative, &d.RepresentativeContact, &d.DPOPhone,
		&d.SupervisoryAuthority, &d.SupervisoryAuthorityURL} {
		*f = strings.TrimSpace(*f)
		if len(*f) > 500 {
			return apperr.New(apperr.InvalidRequest, "controller details are at most 500 characters each")
		}
	}
	if len(d.DPOPhone) > 40 || strings.Trim(d.DPOPhone, "+0123456789 -()") != "" {
		return apperr.New(apperr.InvalidRequest, "dpo_phone must be a phone number of at most 40 characters")
	}
	if u, err := url.Parse(d.SupervisoryAuthorityURL); d.SupervisoryAuthorityURL != "" && (err != nil || u.Scheme != "https" || u.Host == "") {
		return apperr.New(apperr.InvalidRequest, "supervisory_authority_url must be an https URL")
	}
	return nil
}

// putControllerDetails stores the details in the profile's transaction.
func (d ControllerDetails) put(ctx context.Context, tx store.Tx, tenantID string, at time.Time) error {
	return tx.PutControllerDetails(ctx, &store.ControllerDetails{TenantID: tenantID, Address: d.ControllerAddress,
		Representative: d.Representative, RepresentativeContact: d.RepresentativeContact, DPOPhone: d.DPOPhone,
		SupervisoryAuthority: d.SupervisoryAuthority, SupervisoryAuthorityURL: d.SupervisoryAuthorityURL, UpdatedAt: at})
}

// getControllerDetails reads the details; none stored is not an error.
func getControllerDetails(ctx context.Context, tx store.Tx, tenantID string) (ControllerDetails, error) {
	d, err := tx.GetControllerDetails(ctx, tenantID)
	if errors.Is(err, store.ErrNotFound) {
		return ControllerDetails{}, nil
	}
	if err != nil {
		return ControllerDetails{}, err
	}
	return ControllerDetails{ControllerAddress: d.Address, Representative: d.Representative, RepresentativeContact: d.RepresentativeContact,
		DPOPhone: d.DPOPhone, SupervisoryAuthority: d.SupervisoryAuthority, SupervisoryAuthorityURL: d.SupervisoryAuthorityURL}, nil
}

// recordsInput reads everything the records are built from, in one
// snapshot.
func (s *Service) recordsInput(ctx context.Context, tenantID string) (inventory.Input, error) {
	var in inventory.Input
	err := s.store.Read(ctx, func(tx store.Tx) error {
		var err error
		in, err = s.readRecordsInput(ctx, tx, tenantID)
		return err
	})
	return in, storeErr(err, "tenant")
}

func (s *Service) readRecordsInput(ctx context.Context, tx store.Tx, tenantID string) (inventory.Input, error) {
	cfg := s.recordsConfig()
	tn, err := tx.GetTenant(ctx, tenantID)
	if err != nil {
		return inventory.Input{}, err
	}
	in := inventory.Input{Tenant: tn.Name, Storage: inventory.Storage{Engine: s.store.Dialect(), Country: cfg.StoreCountry,
		Region: cfg.StoreRegion, BackupCountry: cfg.BackupCountry}}
	if in.Controller, err = readController(ctx, tx, tenantID); err != nil {
		return in, err
	}
	ps, err := tx.ListPurposes(ctx, tenantID)
	if err != nil {
		return in, err
	}
	for _, p := range ps {
		in.Purposes = append(in.Purposes, *p)
	}
	if in.Processors, _, err = readProcessors(ctx, tx, tenantID); err != nil {
		return in, err
	}
	attrs, err := tx.ListAttributeDefs(ctx, tenantID)
	if err != nil {
		return in, err
	}
	var perAttr []string
	for _, a := range attrs {
		at := inventory.Attribute{Name: a.Name, Category: a.Category}
		if a.Purpose != "" {
			at.Purposes = []string{a.Purpose}
		}
		in.Attributes = append(in.Attributes, at)
		perAttr = append(perAttr, a.Name+" "+periodText(a.Retention))
	}
	if len(perAttr) > 0 {
		in.Retention = append(in.Retention, inventory.Retention{Category: inventory.CatContactAttributes,
			Period: "per declared attribute: " + strings.Join(perAttr, ", "), AtEnd: "deleted", Source: inventory.SourcePolicy})
	}
	pols, err := tx.ListRetentionPolicies(ctx, tenantID)
	if err != nil {
		return in, err
	}
	for _, c := range categories {
		in.Retention = append(in.Retention, retentionOf(c, pols))
	}
	in.Facts, err = s.readFacts(ctx, tx, tn, cfg)
	return in, err
}

// retentionOf states the retention in force for one of the privacy
// purge's categories (retention.go): the tenant's policy or the gateway's
// default, enforced where the purge acts on the category.
func retentionOf(category string, pols []*store.RetentionPolicy) inventory.Retention {
	period, src := DefaultRetention[category], inventory.SourceGatewayDefault
	for _, p := range pols {
		if p.Category == category {
			period, src = p.Period, inventory.SourcePolicy
		}
	}
	r := inventory.Retention{Category: inventory.DataCategory(category), Period: periodText(period), Days: int(period / (24 * time.Hour)),
		AtEnd: "deleted", Source: src, Enforced: slices.Contains(purgeable, category)}
	switch r.Category {
	case inventory.CatMessageBodies:
		// The outbox drops the text at a final status; the purge is the
		// safety net for what is left.
		r.Period = "until a final status; at most " + r.Period
		r.AtEnd = "sealed envelope dropped"
	case inventory.CatConsentEvidence:
		r.Period += " after the consent ends"
		r.AtEnd = "sealed evidence cleared; the event stays in the ledger"
	case inventory.CatDSRRecords:
		r.Period += " after the request is closed"
	}
	return r
}

func periodText(d time.Duration) string {
	days := int(d / (24 * time.Hour))
	switch {
	case d%(24*time.Hour) != 0:
		return d.String()
	case days == 1:
		return "1 day"
	}
	return strconv.Itoa(days) + " days"
}

func readController(ctx context.Context, tx store.Tx, tenantID string) (inventory.Controller, error) {
	var c inventory.Controller
	p, err := tx.GetTenantProfile(ctx, tenantID)
	switch {
	case err == nil:
		c.Name, c.PrivacyNoticeURL, c.DPOName, c.DPOEmail = p.ControllerName, p.PrivacyNoticeURL, p.DPOName, p.DPOEmail
	case !errors.Is(err, store.ErrNotFound):
		return c, err
	}
	d, err := getControllerDetails(ctx, tx, tenantID)
	if err != nil {
		return c, err
	}
	c.Address, c.Representative, c.RepresentativeContact = d.ControllerAddress, d.Representative, d.RepresentativeContact
	c.DPOPhone, c.SupervisoryAuthority, c.SupervisoryAuthorityURL = d.DPOPhone, d.SupervisoryAuthority, d.SupervisoryAuthorityURL
	return c, nil
}

// readProcessors joins the channel providers (the outbox's configuration)
// with what the tenant declared about them. It also returns declarations
// for channels that have no provider (any more).
func readProcessors(ctx context.Context, tx store.Tx, tenantID string) ([]inventory.Processor, []*store.ProcessorDetails, error) {
	provs, err := tx.ListChannelProviders(ctx, tenantID)
	if err != nil {
		return nil, nil, err
	}
	decls, err := tx.ListProcessorDetails(ctx, tenantID)
	if err != nil {
		return nil, nil, err
	}
	var out []inventory.Processor
	var orphans []*store.ProcessorDetails
	for _, p := range provs {
		pr := processorOf(p)
		if i := slices.IndexFunc(decls, func(d *store.ProcessorDetails) bool { return d.Channel == p.Channel }); i >= 0 {
			d := decls[i]
			if d.Name != "" {
				pr.Name = d.Name
			}
			pr.Country, pr.Transfer, pr.DPARef = d.Country, inventory.TransferMechanism(d.Transfer), d.DPARef
		}
		out = append(out, pr)
	}
	for _, d := range decls {
		if !slices.ContainsFunc(provs, func(p *store.ChannelProvider) bool { return p.Channel == d.Channel }) {
			orphans = append(orphans, d)
		}
	}
	return out, orphans, nil
}

// processorOf names a provider from its non-secret settings: the host it
// talks to, which is what a DPO can look up.
func processorOf(p *store.ChannelProvider) inventory.Processor {
	pr := inventory.Processor{Channel: p.Channel, Kind: p.Kind, Name: p.Kind}
	host := func(raw string) string {
		if u, err := url.Parse(raw); err == nil {
			return u.Hostname()
		}
		return ""
	}
	switch p.Kind {
	case channel.KindSink:
		pr.Name, pr.Internal = "sink (built in)", true
	case channel.KindTwilio:
		var set channel.TwilioSettings
		json.Unmarshal(p.Settings, &set)
		pr.Name, pr.Endpoint = "Twilio", "api.twilio.com"
		if set.BaseURL != "" {
			pr.Endpoint = host(set.BaseURL)
		}
	case channel.KindSMTP:
		var set channel.SMTPSettings
		json.Unmarshal(p.Settings, &set)
		pr.Name, pr.Endpoint = set.Host, set.Host
	case channel.KindHTTP:
		var set channel.HTTPSettings
		json.Unmarshal(p.Settings, &set)
		pr.Endpoint = host(set.URL)
		pr.Name = pr.Endpoint
	}
	if pr.Name == "" {
		pr.Name = p.Kind
	}
	return pr
}

// readFacts states the technical measures as the running system has them.
func (s *Service) readFacts(ctx context.Context, tx store.Tx, tn *store.Tenant, cfg RecordsConfig) (inventory.Facts, error) {
	f := inventory.Facts{
		// Identifiers and attributes are always sealed (vault); there is
		// no setting that turns it off.
		EncryptionAtRest: true,
		SecureDelete:     s.store.Dialect() == "sqlite",
		// The server always runs the consent ledger (app.Open does not
		// start without it); reading it from this process would make the
		// CLI's record differ from the server's.
		LedgerEnabled:  true,
		LedgerAnchored: cfg.LedgerAnchored,
		// Reads of personal data are audit events in their own
		// transaction (audit.go); nothing turns that off either.
		AuditTrail:       true,
		TenantKeyCreated: tn.CreatedAt,
		RolesInUse:       []string{},
	}
	keys, err := tx.ListAPIKeys(ctx, tn.ID)
	if err != nil {
		return f, err
	}
	now := s.now()
	for _, k := range keys {
		if k.RevokedAt.IsZero() && (k.ExpiresAt.IsZero() || k.ExpiresAt.After(now)) && !slices.Contains(f.RolesInUse, k.Role) {
			f.RolesInUse = append(f.RolesInUse, k.Role)
		}
	}
	slices.Sort(f.RolesInUse)
	secrets, err := tx.ListWebhookSecrets(ctx, tn.ID)
	if err != nil {
		return f, err
	}
	for _, ws := range secrets {
		if ws.RotatedAt.After(f.SecretsRotated) {
			f.SecretsRotated = ws.RotatedAt
		}
	}
	switch ft, err := tx.GetForwardTarget(ctx, tn.ID); {
	case err == nil:
		if u, perr := url.Parse(ft.URL); perr == nil {
			f.ForwardTarget = u.Hostname()
		}
	case !errors.Is(err, store.ErrNotFound):
		return f, err
	}
	return f, nil
}
