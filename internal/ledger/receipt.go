package ledger

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// ReceiptVersion is the Kantara Consent Receipt specification version whose
// field names the receipt follows.
const ReceiptVersion = "KI-CR-v1.1.0"

// ErrBadReceipt is wrapped by every verification failure of VerifyReceipt.
var ErrBadReceipt = errors.New("ledger: bad receipt")

// Receipt is one consent event as the person (or an authority) can keep it:
// the Kantara Consent Receipt fields that apply, the consentgate event
// fields, and a proof that checks offline with only the log's public key.
//
// Fields that come from the leaf (id, time, method, principal, purpose and
// the whole Event) are checked against the proven leaf. The rest (controller,
// jurisdiction, policy, categories, ...) is context the leaf does not hold;
// the log key signs it in a statement bound to the leaf's hash, so changing
// any field breaks the receipt.
type Receipt struct {
	Version          string          `json:"version"`
	Jurisdiction     string          `json:"jurisdiction"`
	ConsentTimestamp int64           `json:"consentTimestamp"` // Unix seconds, as Kantara has it
	CollectionMethod string          `json:"collectionMethod"` // the leaf's source
	ConsentReceiptID string          `json:"consentReceiptID"` // the leaf's event id
	Language         string          `json:"language,omitempty"`
	PIIPrincipalID   string          `json:"piiPrincipalId"` // the pseudonymous contact id
	PIIControllers   []PIIController `json:"piiControllers"`
	PolicyURL        string          `json:"policyUrl"`
	Services         []Service       `json:"services"`
	Sensitive        bool            `json:"sensitive"`
	Event            ReceiptEvent    `json:"event"`
	Proof            ReceiptProof    `json:"proof"`
}

// PIIController is the data controller (the tenant) in Kantara's terms.
type PIIController struct {
	Name     string `json:"piiController"`
	OnBehalf bool   `json:"onBehalf"`
	Contact  string `json:"contact"`
	Address  string `json:"address,omitempty"`
	Email    string `json:"email,omitempty"`
	Phone    string `json:"phone,omitempty"`
	URL      string `json:"piiControllerUrl,omitempty"`
}

// Service groups purposes under a service name, as in Kantara. A consentgate
// receipt has exactly one service with exactly one purpose: the event's.
type Service struct {
	Service  string    `json:"service"`
	Purposes []Purpose `json:"purposes"`
}

// Purpose describes the purpose the event concerns. Purpose is the leaf's
// purpose key; the other fields come from the purpose's definition and notice.
type Purpose struct {
	Purpose              string   `json:"purpose"`
	PurposeCategory      []string `json:"purposeCategory"`
	ConsentType          string   `json:"consentType"`
	PIICategory          []string `json:"piiCategory"`
	PrimaryPurpose       bool     `json:"primaryPurpose"`
	Termination          string   `json:"termination"`
	ThirdPartyDisclosure bool     `json:"thirdPartyDisclosure"`
}

// ReceiptEvent carries the leaf fields Kantara has no place for, readable.
type ReceiptEvent struct {
	Tenant         string `json:"tenant"`
	Channel        string `json:"channel"`
	Status         Status `json:"status"`
	Time           string `json:"time"` // exactly as in the leaf: UTC RFC 3339
	NoticeVersion  int    `json:"noticeVersion"`
	EvidenceDigest string `json:"evidenceDigest"`
}

// ReceiptProof is what makes the receipt checkable: the encoded leaf, its
// audit path to the root of a signed checkpoint, and the log's signature on
// the receipt statement (see statementText).
type ReceiptProof struct {
	Format             string   `json:"format"`     // "consentgate-receipt/v1"
	Leaf               string   `json:"leaf"`       // base64 of the encoded leaf
	LeafIndex          int64    `json:"leafIndex"`  // position in the tree
	TreeSize           int64    `json:"treeSize"`   // size of the checkpoint's tree
	Inclusion          []string `json:"inclusion"`  // base64 audit path hashes
	Checkpoint         string   `json:"checkpoint"` // signed checkpoint note
	StatementSignature string   `json:"statementSignature"`
}

// ReceiptContext is what a receipt says beyond the leaf: who the controller
// is, under which law and policy, and how the purpose is described. The
// service layer fills it from the tenant and purpose configuration.
type ReceiptContext struct {
	Jurisdiction         string
	Language             string
	Controllers          []PIIController
	PolicyURL            string
	Service              string
	PurposeCategory      []string
	ConsentType          string
	PIICategory          []string
	PrimaryPurpose       bool
	Termination          string
	ThirdPartyDisclosure bool
	Sensitive            bool
}

// Receipt builds the receipt for leaf index against the latest checkpoint.
// It fails with ErrNotCheckpointed until a checkpoint covers the leaf.
func (l *Log) Receipt(ctx context.Context, index int64, rc ReceiptContext, s *Signer) (Receipt, error) {
	latest, err := l.store.LatestCheckpoint(ctx)
	if errors.Is(err, ErrNotFound) {
		return Receipt{}, fmt.Errorf("ledger: receipt for leaf %d: %w", index, ErrNotCheckpointed)
	}
	if err != nil {
		return Receipt{}, fmt.Errorf("ledger: receipt for leaf %d: %w", index, err)
	}
	cp, err := ParseCheckpoint(latest.Note, s.VerifierKey())
	if err != nil {
		return Receipt{}, fmt.Errorf("ledger: receipt: checkpoint %d: %w", latest.Seq, err)
	}
	if index < 0 || index >= cp.Size {
		return Receipt{}, fmt.Errorf("ledger: receipt for leaf %d (checkpoint size %d): %w", index, cp.Size, ErrNotCheckpointed)
	}
	leaves, err := l.store.ReadLeaves(ctx, index, 1)
	if err != nil || len(leaves) != 1 {
		return Receipt{}, fmt.Errorf("ledger: receipt: reading leaf %d: %w", index, errors.Join(err, ErrNotFound))
	}
	leaf, err := DecodeLeaf(leaves[0])
	if err != nil {
		return Receipt{}, fmt.Errorf("ledger: receipt: leaf %d: %w", index, err)
	}
	proof, err := tlog.ProveRecord(cp.Size, index, hashReader(ctx, l.store))
	if err != nil {
		return Receipt{}, fmt.Errorf("ledger: receipt: proving leaf %d: %w", index, err)
	}
	r := receiptFromLeaf(leaf, rc)
	r.Proof = ReceiptProof{
		Format: statementHeader, Leaf: base64.StdEncoding.EncodeToString(leaves[0]),
		LeafIndex: index, TreeSize: cp.Size, Checkpoint: string(latest.Note),
	}
	for _, h := range proof {
		r.Proof.Inclusion = append(r.Proof.Inclusion, h.String())
	}
	text, err := statementText(s.Origin(), index, tlog.RecordHash(leaves[0]), &r)
	if err != nil {
		return Receipt{}, fmt.Errorf("ledger: receipt for leaf %d: %w", index, err)
	}
	signed, err := note.Sign(&note.Note{Text: text}, s.ns)
	if err != nil {
		return Receipt{}, fmt.Errorf("ledger: receipt: signing statement: %w", err)
	}
	line := strings.TrimSuffix(string(signed[len(text)+1:]), "\n")
	r.Proof.StatementSignature = line[strings.LastIndexByte(line, ' ')+1:]
	return r, nil
}

func receiptFromLeaf(leaf Leaf, rc ReceiptContext) Receipt {
	return Receipt{
		Version:          ReceiptVersion,
		Jurisdiction:     rc.Jurisdiction,
		ConsentTimestamp: leaf.Time.Unix(),
		CollectionMethod: leaf.Source,
		ConsentReceiptID: leaf.EventID,
		Language:         rc.Language,
		PIIPrincipalID:   leaf.Contact,
		PIIControllers:   rc.Controllers,
		PolicyURL:        rc.PolicyURL,
		Services: []Service{{Service: rc.Service, Purposes: []Purpose{{
			Purpose: leaf.Purpose, PurposeCategory: rc.PurposeCategory, ConsentType: rc.ConsentType,
			PIICategory: rc.PIICategory, PrimaryPurpose: rc.PrimaryPurpose,
			Termination: rc.Termination, ThirdPartyDisclosure: rc.ThirdPartyDisclosure,
		}}}},
		Sensitive: rc.Sensitive,
		Event: ReceiptEvent{
			Tenant: leaf.Tenant, Channel: leaf.Channel, Status: leaf.Status,
			Time: leaf.Time.UTC().Format(time.RFC3339Nano), NoticeVersion: leaf.NoticeVersion,
			EvidenceDigest: leaf.Evidence,
		},
	}
}

// ParseReceipt decodes a receipt's JSON strictly: unknown fields and
// trailing data are errors, so what is verified is all there is.
func ParseReceipt(data []byte) (Receipt, error) {
	var r Receipt
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return Receipt{}, fmt.Errorf("%w: json: %v", ErrBadReceipt, err)
	}
	if dec.More() {
		return Receipt{}, fmt.Errorf("%w: json: trailing data", ErrBadReceipt)
	}
	return r, nil
}

// VerifyReceipt checks r with nothing but the log's public verifier key: the
// checkpoint's signature, the leaf's audit path to the checkpoint's root,
// every leaf-derived field against the decoded leaf, and the log's signature
// on the remaining fields. The error names the first check that failed.
func VerifyReceipt(r Receipt, verifierKey string) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrBadReceipt, fmt.Sprintf(format, args...))
	}
	v, err := note.NewVerifier(verifierKey)
	if err != nil {
		return bad("verifier key: %v", err)
	}
	p := r.Proof
	if r.Version != ReceiptVersion || p.Format != statementHeader {
		return bad("version %q / format %q, want %q / %q", r.Version, p.Format, ReceiptVersion, statementHeader)
	}
	cp, err := parseCheckpoint([]byte(p.Checkpoint), v)
	if err != nil {
		return bad("checkpoint: %v", err)
	}
	if p.TreeSize != cp.Size {
		return bad("treeSize %d, but the checkpoint signs size %d", p.TreeSize, cp.Size)
	}
	if p.LeafIndex < 0 || p.LeafIndex >= cp.Size {
		return bad("leaf %d outside the checkpoint's tree of size %d", p.LeafIndex, cp.Size)
	}
	if len(p.Leaf) > 2*MaxLeafSize || len(p.Inclusion) > 64 {
		return bad("leaf %d: proof too large", p.LeafIndex)
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(p.Leaf)
	if err != nil {
		return bad("leaf %d: not base64: %v", p.LeafIndex, err)
	}
	leaf, err := DecodeLeaf(raw)
	if err != nil {
		return bad("leaf %d: %v", p.LeafIndex, err)
	}
	proof := make(tlog.RecordProof, len(p.Inclusion))
	for i, s := range p.Inclusion {
		if proof[i], err = parseHash(s); err != nil {
			return bad("leaf %d: inclusion hash %d: %v", p.LeafIndex, i, err)
		}
	}
	if err := VerifyInclusion(cp, p.LeafIndex, raw, proof); err != nil {
		return bad("%v", err)
	}
	if err := matchLeaf(r, leaf); err != nil {
		return bad("leaf %d: %v", p.LeafIndex, err)
	}
	text, err := statementText(v.Name(), p.LeafIndex, tlog.RecordHash(raw), &r)
	if err != nil {
		return bad("%v", err)
	}
	if sig, err := base64.StdEncoding.Strict().DecodeString(p.StatementSignature); err != nil || len(sig) < 5 {
		return bad("statementSignature is not a base64 signature")
	}
	msg := text + "\n— " + v.Name() + " " + p.StatementSignature + "\n"
	if _, err := openNote([]byte(msg), v); err != nil {
		return bad("statement signature (context fields altered?): %v", err)
	}
	return nil
}

// matchLeaf checks that every field the leaf determines says what it says.
func matchLeaf(r Receipt, leaf Leaf) error {
	want := receiptFromLeaf(leaf, ReceiptContext{})
	if len(r.Services) != 1 || len(r.Services[0].Purposes) != 1 {
		return errors.New("want exactly one service with exactly one purpose")
	}
	checks := []struct {
		field     string
		got, want any
	}{
		{"consentReceiptID", r.ConsentReceiptID, want.ConsentReceiptID},
		{"consentTimestamp", r.ConsentTimestamp, want.ConsentTimestamp},
		{"collectionMethod", r.CollectionMethod, want.CollectionMethod},
		{"piiPrincipalId", r.PIIPrincipalID, want.PIIPrincipalID},
		{"services[0].purposes[0].purpose", r.Services[0].Purposes[0].Purpose, leaf.Purpose},
		{"event.tenant", r.Event.Tenant, want.Event.Tenant},
		{"event.channel", r.Event.Channel, want.Event.Channel},
		{"event.status", r.Event.Status, want.Event.Status},
		{"event.time", r.Event.Time, want.Event.Time},
		{"event.noticeVersion", r.Event.NoticeVersion, want.Event.NoticeVersion},
		{"event.evidenceDigest", r.Event.EvidenceDigest, want.Event.EvidenceDigest},
	}
	for _, c := range checks {
		if c.got != c.want {
			return fmt.Errorf("field %s is %q but the leaf says %q", c.field, fmt.Sprint(c.got), fmt.Sprint(c.want))
		}
	}
	return nil
}

// statementText is the note text the log signs for a receipt: a header, the
// origin, the leaf's index and hash (binding the statement to one event),
// then every non-proof field as "name value" lines in a fixed order, lists
// preceded by their length. It is plain text so that a verifier in any
// language can rebuild it; values must therefore hold no control characters.
func statementText(origin string, index int64, leafHash tlog.Hash, r *Receipt) (string, error) {
	w := &stmtWriter{}
	w.line(statementHeader, "")
	w.line("origin", origin)
	w.line("index", fmt.Sprint(index))
	w.line("leaf", leafHash.String())
	w.line("version", r.Version)
	w.line("jurisdiction", r.Jurisdiction)
	w.line("consentTimestamp", fmt.Sprint(r.ConsentTimestamp))
	w.line("collectionMethod", r.CollectionMethod)
	w.line("consentReceiptID", r.ConsentReceiptID)
	w.line("language", r.Language)
	w.line("piiPrincipalId", r.PIIPrincipalID)
	w.line("piiControllers", fmt.Sprint(len(r.PIIControllers)))
	for _, c := range r.PIIControllers {
		w.line("piiController", c.Name)
		w.line("onBehalf", fmt.Sprint(c.OnBehalf))
		w.line("contact", c.Contact)
		w.line("address", c.Address)
		w.line("email", c.Email)
		w.line("phone", c.Phone)
		w.line("piiControllerUrl", c.URL)
	}
	w.line("policyUrl", r.PolicyURL)
	w.line("services", fmt.Sprint(len(r.Services)))
	for _, s := range r.Services {
		w.line("service", s.Service)
		w.line("purposes", fmt.Sprint(len(s.Purposes)))
		for _, p := range s.Purposes {
			w.line("purpose", p.Purpose)
			w.list("purposeCategory", p.PurposeCategory)
			w.line("consentType", p.ConsentType)
			w.list("piiCategory", p.PIICategory)
			w.line("primaryPurpose", fmt.Sprint(p.PrimaryPurpose))
			w.line("termination", p.Termination)
			w.line("thirdPartyDisclosure", fmt.Sprint(p.ThirdPartyDisclosure))
		}
	}
	w.line("sensitive", fmt.Sprint(r.Sensitive))
	e := r.Event
	w.line("tenant", e.Tenant)
	w.line("channel", e.Channel)
	w.line("status", string(e.Status))
	w.line("time", e.Time)
	w.line("noticeVersion", fmt.Sprint(e.NoticeVersion))
	w.line("evidenceDigest", e.EvidenceDigest)
	return w.b.String(), w.err
}

// stmtWriter builds statement text, remembering the first invalid value.
type stmtWriter struct {
	b   strings.Builder
	err error
}

// maxStatementValue bounds one value; receipts are documents, not archives.
const maxStatementValue = 4096

func (w *stmtWriter) line(name, value string) {
	if w.err == nil && (len(value) > maxStatementValue || !isPlainText(value)) {
		w.err = fmt.Errorf("field %s: control characters, invalid UTF-8 or too long", name)
	}
	w.b.WriteString(name)
	if value != "" {
		w.b.WriteByte(' ')
		w.b.WriteString(value)
	}
	w.b.WriteByte('\n')
}

func (w *stmtWriter) list(name string, values []string) {
	w.line(name, fmt.Sprint(len(values)))
	for _, v := range values {
		w.line("-", v)
	}
}
