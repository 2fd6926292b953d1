package service

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/consentgate/consentgate/internal/apperr"
	"github.com/consentgate/consentgate/internal/audit"
	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/ledger"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/vault"
	"golang.org/x/mod/sumdb/tlog"
)

// ledgerKeyName names the log's key pair in the store; one log per
// installation, shared by all nodes.
const ledgerKeyName = "consent-ledger"

// sequenceWindow is how far behind the highest sequenced event the
// sequencer looks again for events that committed late (on PostgreSQL,
// sequence numbers can commit out of order across nodes).
const sequenceWindow = 10_000

// ledgerState is the consent ledger as the service runs it: the Merkle log,
// the signer, and the sequencer's position. Consent events are committed
// first (their writes never wait for the tree) and sequenced into the log
// in batches right after: the ledger never limits consent throughput.
type ledgerState struct {
	log            *ledger.Log
	signer         *ledger.Signer
	checkpointFile string
	checkpointURL  string

	mu        sync.Mutex // one sequencing or checkpointing pass at a time on this node
	watermark int64
}

// LedgerOptions configure the ledger.
type LedgerOptions struct {
	// Origin names the log in its checkpoints, e.g. "consentgate.example.com/ledger".
	Origin string
	// CheckpointFile, when set, receives a copy of every checkpoint, so that a
	// copy exists outside the operator's database.
	CheckpointFile string
	// CheckpointURL, when set, receives every checkpoint as a POST
	// (text/plain): a witness, an archive, another organisation's server.
	CheckpointURL string
}

func ledgerKeyAAD() []byte { return []byte("consentgate/ledger-key/v1|" + ledgerKeyName) }

// OpenLedger loads the log's signing key (creating it on first start) and
// enables sequencing, checkpoints and receipts.
func (s *Service) OpenLedger(ctx context.Context, opt LedgerOptions) error {
	var vkey string
	var sealed []byte
	err := s.store.Read(ctx, func(tx store.Tx) (err error) {
		vkey, sealed, err = tx.GetLedgerKey(ctx, ledgerKeyName)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		skey, vk, gerr := ledger.GenerateKey(opt.Origin)
		if gerr != nil {
			return gerr
		}
		if sealed, err = vault.Seal(s.master, []byte(skey), ledgerKeyAAD()); err != nil {
			return err
		}
		vkey = vk
		err = s.store.Write(ctx, func(tx store.Tx) error {
			return tx.CreateLedgerKey(ctx, ledgerKeyName, vkey, sealed, s.now())
		})
		if errors.Is(err, store.ErrConflict) { // another node was first
			return s.OpenLedger(ctx, opt)
		}
	}
	if err != nil {
		return fmt.Errorf("ledger key: %w", err)
	}
	skey, err := vault.Open(s.master, sealed, ledgerKeyAAD())
	if err != nil {
		return fmt.Errorf("ledger key: the master key does not open it")
	}
	signer, err := ledger.NewSigner(string(skey))
	if err != nil {
		return fmt.Errorf("ledger key: %w", err)
	}
	if signer.VerifierKey() != vkey {
		return fmt.Errorf("ledger key: stored verifier key does not match the signer")
	}
	s.ledger = &ledgerState{log: ledger.NewLog(s.store.Ledger()), signer: signer,
		checkpointFile: opt.CheckpointFile, checkpointURL: opt.CheckpointURL}
	return nil
}

func (s *Service) ledgerOrErr() (*ledgerState, error) {
	if s.ledger == nil {
		return nil, apperr.New(apperr.Unavailable, "the consent ledger is not enabled")
	}
	return s.ledger, nil
}

// leafOf turns a consent event into its ledger leaf: ids, keys, status,
// time, source, notice version and the evidence digest; nothing that
// identifies the person.
func leafOf(e *store.ConsentEvent) ledger.Leaf {
	return ledger.Leaf{EventID: e.ID, Tenant: e.TenantID, Contact: e.ContactID, Purpose: e.Purpose,
		Channel: string(e.Channel), Status: ledger.Status(e.Status), Time: e.OccurredAt, Source: e.Source,
		NoticeVersion: e.NoticeVersion, Evidence: hex.EncodeToString(e.EvidenceDigest)}
}

// SequenceLedger appends every committed consent event that is not in the
// log yet, in batches, and returns how many it appended.
func (s *Service) SequenceLedger(ctx context.Context) (int, error) {
	l, err := s.ledgerOrErr()
	if err != nil {
		return 0, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	total := 0
	for {
		var evs []*store.ConsentEvent
		if err := s.store.Read(ctx, func(tx store.Tx) (err error) {
			evs, err = tx.UnsequencedEvents(ctx, max(0, l.watermark-sequenceWindow), 1024)
			return err
		}); err != nil {
			return total, err
		}
		if len(evs) == 0 {
			return total, nil
		}
		leaves := make([][]byte, len(evs))
		for i, e := range evs {
			leaves[i] = leafOf(e).Encode()
		}
		if _, err := l.log.Append(ctx, leaves...); err != nil {
			// ErrConflict after the log's retries: another node appended the
			// same events first; the next pass reads what is left.
			if errors.Is(err, ledger.ErrConflict) {
				continue
			}
			return total, err
		}
		total += len(evs)
		l.watermark = max(l.watermark, evs[len(evs)-1].Seq)
	}
}

// CheckpointLedger signs a new checkpoint when the tree has grown since the
// last one, and copies it to the checkpoint file when one is configured.
func (s *Service) CheckpointLedger(ctx context.Context) (bool, error) {
	l, err := s.ledgerOrErr()
	if err != nil {
		return false, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	size, err := l.log.Size(ctx)
	if err != nil || size == 0 {
		return false, err
	}
	latest, err := l.log.Storage().LatestCheckpoint(ctx)
	if err != nil && !errors.Is(err, ledger.ErrNotFound) {
		return false, err
	}
	if err == nil && latest.Size >= size {
		return false, nil
	}
	_, note, err := l.log.Checkpoint(ctx, l.signer, s.now())
	if err != nil {
		return false, err
	}
	if l.checkpointFile != "" {
		if err := appendFile(l.checkpointFile, note); err != nil {
			// The checkpoint is stored; losing the external copy is worth a
			// loud log line, not a failed request.
			s.log.ErrorContext(ctx, "writing the external checkpoint copy", "file", l.checkpointFile, "err", err)
		}
	}
	if l.checkpointURL != "" {
		if err := postCheckpoint(ctx, l.checkpointURL, note); err != nil {
			s.log.ErrorContext(ctx, "sending the checkpoint copy", "err", err)
		}
	}
	return true, nil
}

// postCheckpoint sends a checkpoint to an outside URL. The URL is the
// operator's configuration and is never logged (it may carry a token).
func postCheckpoint(ctx context.Context, url string, note []byte) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(note))
	if err != nil {
		return errors.New("invalid checkpoint URL")
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return errors.New("checkpoint URL unreachable")
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("checkpoint URL answered %d", resp.StatusCode)
	}
	return nil
}

func appendFile(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(append(append([]byte{}, b...), '\n'))
	if serr := f.Sync(); err == nil {
		err = serr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// LedgerKey returns the log's verifier key (a signed-note key line), the
// only thing anyone needs to check a receipt or checkpoint.
func (s *Service) LedgerKey() (string, error) {
	l, err := s.ledgerOrErr()
	if err != nil {
		return "", err
	}
	return l.signer.VerifierKey(), nil
}

// LedgerCheckpoint brings the log up to date (sequence, then checkpoint
// when it grew) and returns the latest signed checkpoint.
func (s *Service) LedgerCheckpoint(ctx context.Context) ([]byte, error) {
	l, err := s.ledgerOrErr()
	if err != nil {
		return nil, err
	}
	if _, err := s.SequenceLedger(ctx); err != nil {
		return nil, storeErr(err, "ledger")
	}
	if _, err := s.CheckpointLedger(ctx); err != nil {
		return nil, storeErr(err, "ledger")
	}
	cp, err := l.log.Storage().LatestCheckpoint(ctx)
	if errors.Is(err, ledger.ErrNotFound) {
		return nil, apperr.New(apperr.NotFound, "the ledger is empty: no checkpoint yet")
	}
	if err != nil {
		return nil, storeErr(err, "ledger")
	}
	return cp.Note, nil
}

// LedgerConsistency proves that the tree of size from is a prefix of the
// tree of size to.
func (s *Service) LedgerConsistency(ctx context.Context, from, to int64) ([]tlog.Hash, error) {
	l, err := s.ledgerOrErr()
	if err != nil {
		return nil, err
	}
	size, err := l.log.Size(ctx)
	if err != nil {
		return nil, storeErr(err, "ledger")
	}
	if from < 1 || to < from || to > size {
		return nil, apperr.New(apperr.InvalidRequest, "need 1 <= from <= to <= %d (the tree size)", size)
	}
	p, err := l.log.ConsistencyProof(ctx, from, to)
	if err != nil {
		return nil, storeErr(err, "ledger")
	}
	return p, nil
}

// EventReceipt returns the receipt of one consent event: the event, its
// inclusion proof and a signed checkpoint that covers it. The event is
// sequenced and checkpointed on demand when it is too new.
func (s *Service) EventReceipt(ctx context.Context, pr auth.Principal, eventID string) (ledger.Receipt, error) {
	if err := authorize(pr, auth.ConsentsRead); err != nil {
		return ledger.Receipt{}, err
	}
	ev, err := s.auditEvent(ctx, pr, auditRec{action: audit.ReceiptRead, objectType: "consent_event", objectID: eventID,
		fields: []string{"consent", "evidence_digest"}})
	if err != nil {
		return ledger.Receipt{}, err
	}
	var e *store.ConsentEvent
	if err := s.commit.doRead(ctx, func(tx store.Tx) (err error) {
		if e, err = tx.GetConsentEvent(ctx, pr.TenantID, eventID); err != nil {
			return err
		}
		ev.ContactID = e.ContactID
		return writeAudit(ctx, tx, ev)
	}); err != nil {
		return ledger.Receipt{}, storeErr(err, "event")
	}
	return s.receipt(ctx, pr, e)
}

// ContactReceipts returns a receipt for every consent event of a contact,
// oldest first.
func (s *Service) ContactReceipts(ctx context.Context, pr auth.Principal, contactID string) ([]ledger.Receipt, error) {
	if err := authorize(pr, auth.ConsentsRead); err != nil {
		return nil, err
	}
	ev, err := s.auditEvent(ctx, pr, auditRec{action: audit.ReceiptList, objectType: "contact", objectID: contactID,
		contactID: contactID, fields: []string{"consent", "evidence_digest"}})
	if err != nil {
		return nil, err
	}
	var evs []*store.ConsentEvent
	if err := s.commit.doRead(ctx, func(tx store.Tx) error {
		if _, _, err := tx.GetContact(ctx, pr.TenantID, contactID); err != nil {
			return err
		}
		var err error
		if evs, err = tx.ListConsentEvents(ctx, pr.TenantID, contactID); err != nil {
			return err
		}
		return writeAudit(ctx, tx, ev)
	}); err != nil {
		return nil, storeErr(err, "contact")
	}
	out := make([]ledger.Receipt, 0, len(evs))
	for _, e := range evs {
		r, err := s.receipt(ctx, pr, e)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func (s *Service) receipt(ctx context.Context, pr auth.Principal, e *store.ConsentEvent) (ledger.Receipt, error) {
	l, err := s.ledgerOrErr()
	if err != nil {
		return ledger.Receipt{}, err
	}
	idx, err := s.ledgerIndex(ctx, e.ID)
	if errors.Is(err, store.ErrNotFound) {
		if _, err = s.SequenceLedger(ctx); err == nil {
			idx, err = s.ledgerIndex(ctx, e.ID)
		}
	}
	if err != nil {
		return ledger.Receipt{}, storeErr(err, "ledger entry")
	}
	rc, err := s.receiptContext(ctx, pr.TenantID, e)
	if err != nil {
		return ledger.Receipt{}, err
	}
	r, err := l.log.Receipt(ctx, idx, rc, l.signer)
	if errors.Is(err, ledger.ErrNotCheckpointed) {
		if _, err = s.CheckpointLedger(ctx); err == nil {
			r, err = l.log.Receipt(ctx, idx, rc, l.signer)
		}
	}
	if err != nil {
		return ledger.Receipt{}, storeErr(err, "receipt")
	}
	return r, nil
}

func (s *Service) ledgerIndex(ctx context.Context, eventID string) (idx int64, err error) {
	err = s.store.Read(ctx, func(tx store.Tx) error {
		idx, err = tx.LedgerIndexOf(ctx, eventID)
		return err
	})
	return idx, err
}

// receiptContext fills the Kantara fields the leaf does not carry from the
// tenant and the purpose as they are now.
func (s *Service) receiptContext(ctx context.Context, tenantID string, e *store.ConsentEvent) (ledger.ReceiptContext, error) {
	var tn *store.Tenant
	var p *consent.Purpose
	err := s.store.Read(ctx, func(tx store.Tx) (err error) {
		if tn, err = tx.GetTenant(ctx, tenantID); err != nil {
			return err
		}
		p, err = tx.GetPurpose(ctx, tenantID, e.Purpose)
		return err
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return ledger.ReceiptContext{}, storeErr(err, "tenant")
	}
	rc := ledger.ReceiptContext{Jurisdiction: "EU",
		PIICategory: []string{string(e.Channel.IdentifierKind())}, PrimaryPurpose: true,
		Termination: "Withdraw at any time: reply STOP to a message, or ask the controller."}
	if tn != nil {
		rc.Controllers = []ledger.PIIController{{Name: tn.Name, Contact: tn.Name}}
	}
	if p != nil {
		rc.Service, rc.PurposeCategory, rc.ConsentType = p.Name, []string{string(p.Category)}, string(p.Basis)
	}
	return rc, nil
}
