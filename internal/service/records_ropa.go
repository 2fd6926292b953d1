package service

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/consentgate/consentgate/internal/apperr"
	"github.com/consentgate/consentgate/internal/audit"
	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/inventory"
	"github.com/consentgate/consentgate/internal/store"
)

// The audit actions of the records. They are part of the audit API like
// the actions in package audit; they live here because only this use case
// writes them.
const (
	ActionRecordVersion    audit.Action = "record.version"    // the record of processing changed: a new version was stored
	ActionProcessorDeclare audit.Action = "processor.declare" // a processor's country, transfer mechanism or DPA was declared
	ActionDPIAUpdate       audit.Action = "dpia.update"
	ActionDPIASignOff      audit.Action = "dpia.signoff"
	ActionBreachCreate     audit.Action = "breach.create"
	ActionBreachUpdate     audit.Action = "breach.update"
	ActionBreachContacts   audit.Action = "breach.contacts" // the ids of contacts a breach could affect were listed
)

// ropaKind is the kind of the record of processing in record_versions.
const ropaKind = "ropa"

// maxAuditFields caps the changed paths an audit event names.
const maxAuditFields = 40

// Ropa returns the record of processing activities. With version 0 it is
// generated from the live configuration now, and when its digest differs
// from the latest stored version a new version is stored first (with an
// audit event naming what changed); otherwise the stored version asked
// for is returned as it was.
func (s *Service) Ropa(ctx context.Context, pr auth.Principal, version int) (inventory.Record, error) {
	if err := authorize(pr, auth.RecordsRead); err != nil {
		return inventory.Record{}, err
	}
	if version < 0 {
		return inventory.Record{}, apperr.New(apperr.InvalidRequest, "version must be a positive number")
	}
	if version > 0 {
		return s.storedRecord(ctx, pr.TenantID, version)
	}
	in, err := s.recordsInput(ctx, pr.TenantID)
	if err != nil {
		return inventory.Record{}, err
	}
	rec := inventory.NewRecord(in, s.now())
	rec.Version, err = s.ensureVersion(ctx, pr, rec)
	return rec, err
}

func (s *Service) storedRecord(ctx context.Context, tenantID string, version int) (inventory.Record, error) {
	var v *store.RecordVersion
	err := s.store.Read(ctx, func(tx store.Tx) (err error) {
		v, err = tx.GetRecordVersion(ctx, tenantID, ropaKind, version)
		return err
	})
	if err != nil {
		return inventory.Record{}, storeErr(err, "record version")
	}
	var rec inventory.Record
	if err := json.Unmarshal(v.Body, &rec); err != nil {
		return rec, apperr.Wrap(err, apperr.Internal, "stored record version unreadable")
	}
	return rec, nil
}

// ensureVersion returns the version number of rec's content, storing it as
// a new version when the latest stored one has another digest. Nodes that
// notice the same change at once race on (tenant, kind, version); the
// loser finds the winner's version on its next pass.
func (s *Service) ensureVersion(ctx context.Context, pr auth.Principal, rec inventory.Record) (int, error) {
	var latest *store.RecordVersion
	err := s.store.Read(ctx, func(tx store.Tx) (err error) {
		latest, err = tx.LatestRecordVersion(ctx, pr.TenantID, ropaKind)
		return err
	})
	if err == nil && latest.Digest == rec.Digest {
		return latest.Version, nil
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return 0, storeErr(err, "record version")
	}
	for range 3 {
		var n int
		err := s.commit.do(ctx, func(tx store.Tx) error {
			var err error
			n, err = s.storeVersion(ctx, tx, pr, rec)
			return err
		}, nil)
		if !errors.Is(err, store.ErrConflict) {
			return n, storeErr(err, "record version")
		}
	}
	return 0, apperr.New(apperr.Unavailable, "the record changed concurrently; try again")
}

func (s *Service) storeVersion(ctx context.Context, tx store.Tx, pr auth.Principal, rec inventory.Record) (int, error) {
	latest, err := tx.LatestRecordVersion(ctx, pr.TenantID, ropaKind)
	var prev []byte
	switch {
	case err == nil && latest.Digest == rec.Digest:
		return latest.Version, nil
	case err == nil:
		rec.Version, prev = latest.Version+1, latest.Body
	case errors.Is(err, store.ErrNotFound):
		rec.Version = 1
	default:
		return 0, err
	}
	body, err := json.Marshal(rec)
	if err != nil {
		return 0, err
	}
	var changes []inventory.Change
	if prev != nil {
		if changes, err = inventory.Diff(bodyOnly(prev), bodyOnly(body)); err != nil {
			return 0, err
		}
	}
	raw, _ := json.Marshal(changes)
	v := &store.RecordVersion{TenantID: pr.TenantID, Kind: ropaKind, Version: rec.Version, Digest: rec.Digest, Body: body,
		Changes: raw, CreatedAt: rec.GeneratedAt}
	if err := tx.CreateRecordVersion(ctx, v); err != nil {
		return 0, err
	}
	fields := make([]string, 0, min(len(changes), maxAuditFields))
	for _, c := range changes[:min(len(changes), maxAuditFields)] {
		fields = append(fields, c.Path)
	}
	s.log.InfoContext(ctx, "record of processing changed", "tenant", pr.TenantID, "version", rec.Version, "changes", len(changes))
	return rec.Version, s.audited(ctx, tx, pr, auditRec{action: ActionRecordVersion, objectType: "ropa",
		objectID: "v" + strconv.Itoa(rec.Version), fields: fields})
}

// bodyOnly strips the export fields (version, digest, time) from a stored
// record, so that a diff shows what changed in the content only.
func bodyOnly(raw []byte) []byte {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return raw
	}
	delete(m, "version")
	delete(m, "digest")
	delete(m, "generated_at")
	out, _ := json.Marshal(m)
	return out
}

// RecordVersionView is one stored version of the record.
type RecordVersionView struct {
	Version   int                `json:"version"`
	Digest    string             `json:"digest"`
	CreatedAt time.Time          `json:"created_at"`
	Changes   []inventory.Change `json:"changes"`
}

// RopaVersions returns the record's history, newest first. It generates
// the record first, so a change not yet seen is in the list.
func (s *Service) RopaVersions(ctx context.Context, pr auth.Principal) ([]RecordVersionView, error) {
	if _, err := s.Ropa(ctx, pr, 0); err != nil {
		return nil, err
	}
	var vs []*store.RecordVersion
	if err := s.store.Read(ctx, func(tx store.Tx) (err error) {
		vs, err = tx.ListRecordVersions(ctx, pr.TenantID, ropaKind)
		return err
	}); err != nil {
		return nil, storeErr(err, "record version")
	}
	out := make([]RecordVersionView, 0, len(vs))
	for _, v := range vs {
		rv := RecordVersionView{Version: v.Version, Digest: v.Digest, CreatedAt: v.CreatedAt, Changes: []inventory.Change{}}
		if len(v.Changes) > 0 {
			json.Unmarshal(v.Changes, &rv.Changes)
		}
		if rv.Changes == nil {
			rv.Changes = []inventory.Change{}
		}
		out = append(out, rv)
	}
	return out, nil
}

// DataMap returns the flows of personal data per purpose and channel.
func (s *Service) DataMap(ctx context.Context, pr auth.Principal) (inventory.DataMap, error) {
	if err := authorize(pr, auth.RecordsRead); err != nil {
		return inventory.DataMap{}, err
	}
	in, err := s.recordsInput(ctx, pr.TenantID)
	if err != nil {
		return inventory.DataMap{}, err
	}
	return inventory.BuildDataMap(in, s.now()), nil
}

// ProcessorInput declares what the record needs about the provider of a
// channel that its configuration does not say.
type ProcessorInput struct {
	Name     string `json:"name"`
	Country  string `json:"country"`
	Transfer string `json:"transfer_mechanism"`
	DPARef   string `json:"dpa_reference"`
}

// ProcessorView is a processor as the records see it.
type ProcessorView struct {
	inventory.Processor
	// Configured is false for a declaration whose channel has no provider
	// (any more): it is kept, but the record does not list it.
	Configured bool `json:"configured"`
}

// PutProcessor declares a channel's processor: legal name, country and
// transfer mechanism.
func (s *Service) PutProcessor(ctx context.Context, pr auth.Principal, channelName string, in ProcessorInput) (ProcessorView, error) {
	if err := authorize(pr, auth.DPIAWrite); err != nil {
		return ProcessorView{}, err
	}
	ch, err := consent.ParseChannel(channelName)
	if err != nil {
		return ProcessorView{}, apperr.Wrap(err, apperr.UnknownChannel, "unknown channel %q", channelName)
	}
	in.Name, in.DPARef = strings.TrimSpace(in.Name), strings.TrimSpace(in.DPARef)
	in.Country = strings.ToUpper(strings.TrimSpace(in.Country))
	if len(in.Name) > 200 || len(in.DPARef) > 200 {
		return ProcessorView{}, apperr.New(apperr.InvalidRecord, "name and dpa_reference are at most 200 characters")
	}
	if len(in.Country) != 2 || strings.Trim(in.Country, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		return ProcessorView{}, apperr.New(apperr.InvalidRecord, "country must be a two-letter ISO 3166 code")
	}
	if _, err := inventory.ParseTransfer(in.Transfer); err != nil {
		return ProcessorView{}, apperr.Wrap(err, apperr.InvalidRecord, "transfer_mechanism must be one of none, adequacy, sccs, bcrs, derogation")
	}
	if in.Transfer == string(inventory.TransferNone) && !inventory.InEEA(in.Country) {
		return ProcessorView{}, apperr.New(apperr.InvalidRecord, "%s is outside the EEA: a transfer there needs a mechanism other than none", in.Country)
	}
	d := &store.ProcessorDetails{TenantID: pr.TenantID, Channel: ch, Name: in.Name, Country: in.Country, Transfer: in.Transfer,
		DPARef: in.DPARef, UpdatedAt: s.now()}
	err = s.commit.do(ctx, func(tx store.Tx) error {
		if err := tx.PutProcessorDetails(ctx, d); err != nil {
			return err
		}
		return s.audited(ctx, tx, pr, auditRec{action: ActionProcessorDeclare, objectType: "processor", objectID: string(ch),
			fields: []string{"name", "country", "transfer_mechanism", "dpa_reference"}})
	}, nil)
	if err != nil {
		return ProcessorView{}, storeErr(err, "processor")
	}
	ps, err := s.Processors(ctx, pr)
	for _, p := range ps {
		if p.Channel == ch {
			return p, err
		}
	}
	return ProcessorView{}, err
}

// Processors lists the processors: every configured channel provider with
// what was declared about it, then declarations without a provider.
func (s *Service) Processors(ctx context.Context, pr auth.Principal) ([]ProcessorView, error) {
	if err := authorize(pr, auth.RecordsRead); err != nil {
		return nil, err
	}
	var procs []inventory.Processor
	var orphans []*store.ProcessorDetails
	if err := s.store.Read(ctx, func(tx store.Tx) (err error) {
		procs, orphans, err = readProcessors(ctx, tx, pr.TenantID)
		return err
	}); err != nil {
		return nil, storeErr(err, "processor")
	}
	out := make([]ProcessorView, 0, len(procs)+len(orphans))
	for _, p := range procs {
		out = append(out, ProcessorView{Processor: p, Configured: true})
	}
	for _, d := range orphans {
		out = append(out, ProcessorView{Processor: inventory.Processor{Channel: d.Channel, Name: d.Name, Country: d.Country,
			Transfer: inventory.TransferMechanism(d.Transfer), DPARef: d.DPARef}})
	}
	return out, nil
}
