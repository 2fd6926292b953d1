package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"

	"github.com/consentgate/consentgate/internal/apperr"
	"github.com/consentgate/consentgate/internal/audit"
	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/index"
	"github.com/consentgate/consentgate/internal/ledger"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/vault"
	"github.com/oklog/ulid/v2"
)

// erasedReason prefixes the reason of the suppressions an erasure leaves;
// the contact id follows, so that a second erasure by identifier finds the
// first certificate.
const erasedReason = "erased:"

// The erasure marker is a consent event with these fields: a purpose key
// no tenant can declare (purpose keys start with a letter) and the channel
// "all", so that it never reads as the state of a real purpose.
const (
	erasurePurpose = "_erasure"
	erasureChannel = "all"
)

// ErasureRecord is what the ledger's erasure leaf commits to: its SHA-256
// is the leaf's evidence digest. It names no person, only ids and kinds.
type ErasureRecord struct {
	TenantID        string    `json:"tenant_id"`
	ContactID       string    `json:"contact_id"`
	RequestID       string    `json:"request_id"`
	IdentifierKinds []string  `json:"identifier_kinds"`
	ErasedAt        time.Time `json:"erased_at"`
}

// Certificate is the deletion certificate of one erasure.
type Certificate struct {
	Format        string         `json:"format"`
	ID            string         `json:"certificate_id"`
	Record        ErasureRecord  `json:"record"`
	Deleted       map[string]int `json:"deleted"`
	DataKey       string         `json:"data_key"`
	Suppressed    []string       `json:"suppressed_identifier_kinds"`
	Retained      []string       `json:"retained"`
	LedgerEventID string         `json:"ledger_event_id"`
	LedgerDigest  string         `json:"ledger_evidence_sha256"`
}

// certificateRetained says what an erasure deliberately keeps, and why.
var certificateRetained = []string{
	"keyed hashes (blind indexes) of the identifiers on the suppression list, scope all: the person must never be messaged again (Art. 17(3)(b), 21(3))",
	"consent events without their evidence, and their ledger entries (pseudonymous ids, purposes, times, evidence digests): the tamper-evident log must stay verifiable",
	"audit events naming the contact id: accountability for past access (Art. 5(2))",
	"this certificate and the request record",
}

// erase carries out an erasure request: the contact's wrapped data key is
// destroyed with its row (crypto-shredding: the ciphertexts that may
// survive in backups no longer open), its identifiers, sealed evidence,
// consent states, messages and inbound records are deleted, a keyed hash
// of each identifier stays on the suppression list, and an "erased" event
// goes into the ledger. All of it is one transaction; the decision index
// forgets the contact right after the commit.
func (s *Service) erase(ctx context.Context, pr auth.Principal, r *store.DSR) (DSRView, error) {
	cid, err := ulid.ParseStrict(r.ContactID)
	if err != nil {
		return DSRView{}, apperr.New(apperr.NotFound, "contact not found")
	}
	now := s.now()
	var cert Certificate
	var suppressed []index.Identifier
	var holdReason string
	marker := &store.ConsentEvent{ID: ulid.Make().String(), TenantID: pr.TenantID, ContactID: r.ContactID,
		Purpose: erasurePurpose, Channel: consent.Channel(erasureChannel), Status: index.StatusErased,
		Source: ledger.SourceSystem, Actor: pr.KeyID, OccurredAt: now, RecordedAt: now}
	tk, err := s.tenantKeys(ctx, pr.TenantID)
	if err != nil {
		return DSRView{}, err
	}
	err = s.commit.do(ctx, func(tx store.Tx) error {
		c, ids, err := tx.GetContact(ctx, pr.TenantID, r.ContactID)
		if err != nil {
			return err
		}
		if h, err := tx.GetLegalHold(ctx, pr.TenantID, r.ContactID); err == nil {
			holdReason = h.Reason
			r.Status = dsrBlocked
			return tx.UpdateDSR(ctx, r)
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		rec := ErasureRecord{TenantID: pr.TenantID, ContactID: r.ContactID, RequestID: r.ID, ErasedAt: now}
		suppressed = suppressed[:0]
		for _, id := range ids {
			rec.IdentifierKinds = append(rec.IdentifierKinds, string(id.Kind))
			suppressed = append(suppressed, index.Identifier{Kind: id.Kind, BlindIndex: id.BlindIndex})
			if err := tx.AddSuppression(ctx, &store.Suppression{TenantID: pr.TenantID, BlindIndex: id.BlindIndex, Kind: id.Kind,
				Scope: "all", Reason: erasedReason + r.ContactID, CreatedAt: now}); err != nil {
				return err
			}
		}
		recJSON, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		d := sha256.Sum256(recJSON)
		marker.EvidenceDigest = d[:]
		// The marker goes in first: the erasure below removes the consent
		// state projection of the contact, the marker's own entry with it.
		if err := tx.AppendConsentEvent(ctx, marker); err != nil {
			return err
		}
		deleted, err := tx.EraseContact(ctx, pr.TenantID, r.ContactID, otherForms(tk, c, ids))
		if err != nil {
			return err
		}
		cert = Certificate{Format: "consentgate-erasure-certificate/v1", ID: ulid.Make().String(), Record: rec,
			Deleted: deleted, DataKey: "destroyed (crypto-shredding): every ciphertext of this contact is unreadable for good",
			Suppressed: rec.IdentifierKinds, Retained: certificateRetained,
			LedgerEventID: marker.ID, LedgerDigest: hex.EncodeToString(d[:])}
		body, err := json.Marshal(cert)
		if err != nil {
			return err
		}
		if err := tx.CreateErasureCertificate(ctx, &store.ErasureCertificate{ID: cert.ID, TenantID: pr.TenantID,
			ContactID: r.ContactID, DSRID: r.ID, Body: body, CreatedAt: now}); err != nil {
			return err
		}
		r.Status, r.CompletedAt, r.Result = dsrCompleted, now, body
		if err := tx.UpdateDSR(ctx, r); err != nil {
			return err
		}
		return s.audited(ctx, tx, pr, auditRec{action: audit.Action("dsr.erasure"), objectType: "dsr", objectID: r.ID,
			contactID: r.ContactID, fields: []string{"contact", "identifiers", "attributes", "evidence", "messages", "inbound"}})
	}, func() {
		if holdReason != "" {
			return
		}
		s.index.EraseContact(pr.TenantID, cid)
		for _, x := range suppressed {
			s.index.Suppress(pr.TenantID, x.Kind, x.BlindIndex, "all")
		}
	})
	if err != nil {
		return DSRView{}, storeErr(err, "contact")
	}
	if holdReason != "" {
		return DSRView{}, &apperr.Error{Code: apperr.LegalHold,
			Message: "erasure blocked by a legal hold: " + holdReason,
			Details: map[string]any{"reason": holdReason, "dsr_id": r.ID}}
	}
	s.log.InfoContext(ctx, "contact erased", "tenant", pr.TenantID, "contact", r.ContactID, "request", r.ID, "ledger_event", marker.ID)
	return s.viewDSR(r), nil
}

// otherForms are the forms of a contact's identifiers that messages and
// inbound records addressed to it may hold besides the stored ones: while
// the index key rotates, a row written in the other version. They are
// computed from the identifiers themselves, because a form cannot be
// moved back a version; an identifier that does not open is moved
// forward, which covers the rows written after it.
func otherForms(tk *tenantKeys, c *store.Contact, ids []store.Identifier) [][]byte {
	if !tk.chain.Rotating() {
		return nil
	}
	ck, err := vault.OpenContactKey(tk.keys, c.TenantID, c.ID, c.WrappedKey)
	var out [][]byte
	for _, id := range ids {
		if err == nil {
			if v, oerr := ck.Open(string(id.Kind), id.Sealed); oerr == nil {
				out = append(out, tk.forms(string(id.Kind), string(v)).Lookups()...)
				continue
			}
		}
		if h, ferr := tk.chain.Forward(id.BlindIndex, tk.chain.Top()); ferr == nil {
			out = append(out, vault.EncodeIndexForm(tk.chain.Top(), h))
		}
	}
	return out
}
