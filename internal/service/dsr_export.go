package service

import (
	"context"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"slices"
	"time"

	_ "embed"

	"github.com/consentgate/consentgate/internal/apperr"
	"github.com/consentgate/consentgate/internal/audit"
	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/ledger"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/vault"
)

// exportMessageLimit bounds the message records one export carries; a
// person with more gets the newest and a note.
const exportMessageLimit = 100_000

// Export is everything the gateway holds about one person, in clear: the
// answer to an access (Art. 15) or portability (Art. 20) request. It is
// built when asked for and never stored, so no second copy of the person's
// data accumulates.
type Export struct {
	Format      string            `json:"format"`
	GeneratedAt time.Time         `json:"generated_at"`
	Controller  ExportController  `json:"controller"`
	RequestID   string            `json:"request_id"`
	Contact     ExportContact     `json:"contact"`
	Identifiers map[string]string `json:"identifiers"`
	Attributes  []ExportAttribute `json:"attributes"`
	Consents    []ExportConsent   `json:"consent_events"`
	Current     []ConsentView     `json:"current_consents"`
	Messages    []ExportMessage   `json:"messages"`
	Inbound     []ExportInbound   `json:"inbound_messages"`
	Access      []ExportAccess    `json:"accesses"`
	LegalHold   *LegalHoldView    `json:"legal_hold,omitempty"`
	Requests    []ExportRequest   `json:"requests"`
	Unreadable  []string          `json:"unreadable_fields,omitempty"`
	Notes       []string          `json:"notes,omitempty"`
	receipts    map[string]*ledger.Receipt
}

// ExportController names the data controller.
type ExportController struct {
	TenantID string `json:"tenant_id"`
	Name     string `json:"name"`
}

// ExportContact is the contact record without its identifiers.
type ExportContact struct {
	ID         string    `json:"id"`
	Locale     string    `json:"locale,omitempty"`
	Restricted bool      `json:"restricted"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// ExportAttribute is one attribute with why it is kept and for how long.
type ExportAttribute struct {
	Name          string `json:"name"`
	Value         any    `json:"value"`
	Category      string `json:"category,omitempty"`
	Purpose       string `json:"purpose,omitempty"`
	RetentionDays int    `json:"retention_days,omitempty"`
}

// ExportConsent is one consent event with its evidence and its receipt.
type ExportConsent struct {
	ConsentView
	Evidence json.RawMessage `json:"evidence"`
	Receipt  *ledger.Receipt `json:"receipt,omitempty"`
}

// ExportMessage is one outbound message's metadata (never its text).
type ExportMessage struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind"`
	Purpose   string    `json:"purpose,omitempty"`
	Channel   string    `json:"channel"`
	Sender    string    `json:"sender"`
	Status    string    `json:"status"`
	Reason    string    `json:"reason"`
	Basis     string    `json:"basis,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ExportInbound is one inbound message record (never its text).
type ExportInbound struct {
	ID         string    `json:"id"`
	Channel    string    `json:"channel"`
	Keyword    string    `json:"keyword,omitempty"`
	Action     string    `json:"action,omitempty"`
	Outcome    string    `json:"outcome"`
	ReceivedAt time.Time `json:"received_at"`
}

// ExportAccess is one recorded access to the person's data.
type ExportAccess struct {
	At        time.Time `json:"at"`
	ActorType string    `json:"actor_type"`
	ActorID   string    `json:"actor_id,omitempty"`
	Role      string    `json:"role,omitempty"`
	Action    string    `json:"action"`
	Fields    []string  `json:"fields,omitempty"`
	Result    string    `json:"result"`
}

// ExportRequest is one data-subject request of the person.
type ExportRequest struct {
	ID         string    `json:"id"`
	Type       string    `json:"type"`
	Status     string    `json:"status"`
	ReceivedAt time.Time `json:"received_at"`
	DueAt      time.Time `json:"due_at"`
}

// accessResult checks that an export can be made and returns the request's
// result: where to fetch it and what it holds.
func (s *Service) accessResult(ctx context.Context, pr auth.Principal, r *store.DSR) (any, error) {
	ex, err := s.buildExport(ctx, pr, r)
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"export":          "/v1/dsr/" + r.ID + "/export",
		"export_html":     "/v1/dsr/" + r.ID + "/export?format=html",
		"identifiers":     len(ex.Identifiers),
		"attributes":      len(ex.Attributes),
		"consent_events":  len(ex.Consents),
		"messages":        len(ex.Messages),
		"inbound":         len(ex.Inbound),
		"accesses":        len(ex.Access),
		"unreadable_data": len(ex.Unreadable) > 0,
	}, nil
}

// DSRExport builds the export of an access or portability request.
func (s *Service) DSRExport(ctx context.Context, pr auth.Principal, id string) (*Export, error) {
	if err := authorize(pr, auth.DSRManage); err != nil {
		return nil, err
	}
	r, err := s.getDSR(ctx, pr.TenantID, id)
	if err != nil {
		return nil, err
	}
	if r.Type != DSRAccess && r.Type != DSRPortability {
		return nil, apperr.New(apperr.InvalidDSR, "only access and portability requests have an export")
	}
	return s.buildExport(ctx, pr, r)
}

func (s *Service) buildExport(ctx context.Context, pr auth.Principal, r *store.DSR) (*Export, error) {
	tk, err := s.tenantKeys(ctx, pr.TenantID)
	if err != nil {
		return nil, err
	}
	ex := &Export{Format: "consentgate-export/v1", GeneratedAt: s.now(), RequestID: r.ID,
		Identifiers: map[string]string{}, receipts: map[string]*ledger.Receipt{}}
	var c *store.Contact
	var ids []store.Identifier
	var events, current []*store.ConsentEvent
	var msgs []*store.Message
	var inbound []*store.InboundMessage
	var defs []*store.AttributeDef
	var reqs []*store.DSR
	var accesses []*audit.Event
	err = s.store.Read(ctx, func(tx store.Tx) error {
		tn, err := tx.GetTenant(ctx, pr.TenantID)
		if err != nil {
			return err
		}
		ex.Controller = ExportController{TenantID: tn.ID, Name: tn.Name}
		if c, ids, err = tx.GetContact(ctx, pr.TenantID, r.ContactID); err != nil {
			return err
		}
		if events, err = tx.ListConsentEvents(ctx, pr.TenantID, c.ID); err != nil {
			return err
		}
		if current, err = tx.CurrentConsents(ctx, pr.TenantID, c.ID); err != nil {
			return err
		}
		if msgs, err = tx.ListContactMessages(ctx, pr.TenantID, c.ID, exportMessageLimit); err != nil {
			return err
		}
		if inbound, err = tx.ListContactInbound(ctx, pr.TenantID, c.ID, exportMessageLimit); err != nil {
			return err
		}
		if defs, err = tx.ListAttributeDefs(ctx, pr.TenantID); err != nil {
			return err
		}
		if reqs, err = tx.ListContactDSRs(ctx, pr.TenantID, c.ID); err != nil {
			return err
		}
		if h, err := tx.GetLegalHold(ctx, pr.TenantID, c.ID); err == nil {
			ex.LegalHold = &LegalHoldView{ContactID: c.ID, Reason: h.Reason, Since: h.CreatedAt}
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		accesses, err = tx.ListAudit(ctx, store.AuditFilter{TenantID: pr.TenantID, ContactID: c.ID, Limit: exportMessageLimit})
		return err
	})
	if err != nil {
		return nil, storeErr(err, "contact")
	}
	ex.Contact = ExportContact{ID: c.ID, Locale: c.Locale, Restricted: c.Restricted, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
	ck, kerr := vault.OpenContactKey(tk.keys, pr.TenantID, c.ID, c.WrappedKey)
	if kerr != nil {
		s.log.ErrorContext(ctx, "contact key unreadable in an export", "tenant", pr.TenantID, "contact", c.ID)
		ex.Unreadable = append(ex.Unreadable, "data_key")
	}
	// open reports a field that does not open as unreadable: never a
	// crash, never a guess.
	open := func(field string, sealed []byte) ([]byte, bool) {
		if ck == nil {
			return nil, false
		}
		pt, err := ck.Open(field, sealed)
		if err != nil {
			ex.Unreadable = append(ex.Unreadable, field)
			return nil, false
		}
		return pt, true
	}
	for _, id := range ids {
		if pt, ok := open(string(id.Kind), id.Sealed); ok {
			ex.Identifiers[string(id.Kind)] = string(pt)
		} else {
			ex.Identifiers[string(id.Kind)] = Unreadable
		}
	}
	ex.Attributes = []ExportAttribute{}
	if len(c.AttributesSealed) > 0 {
		var attrs map[string]any
		if pt, ok := open("attributes", c.AttributesSealed); ok && json.Unmarshal(pt, &attrs) == nil {
			byName := map[string]*store.AttributeDef{}
			for _, d := range defs {
				byName[d.Name] = d
			}
			for _, name := range sortedKeys(attrs) {
				a := ExportAttribute{Name: name, Value: attrs[name]}
				if d := byName[name]; d != nil {
					a.Category, a.Purpose, a.RetentionDays = d.Category, d.Purpose, int(d.Retention/(24*time.Hour))
				}
				ex.Attributes = append(ex.Attributes, a)
			}
		}
	}
	s.exportReceipts(ctx, pr, ex, c.ID, len(events))
	ex.Consents = make([]ExportConsent, 0, len(events))
	for _, e := range events {
		ec := ExportConsent{ConsentView: viewConsent(e), Receipt: ex.receipts[e.ID]}
		switch {
		case e.EvidenceSealed == nil:
			ec.Evidence = json.RawMessage(`"purged under the retention policy"`)
		default:
			if pt, ok := open("evidence/"+e.ID, e.EvidenceSealed); ok && json.Valid(pt) {
				ec.Evidence = pt
			} else {
				ec.Evidence = json.RawMessage(`"` + Unreadable + `"`)
			}
		}
		ex.Consents = append(ex.Consents, ec)
	}
	ex.Current = make([]ConsentView, len(current))
	for i, e := range current {
		ex.Current[i] = viewConsent(e)
	}
	ex.Messages = make([]ExportMessage, len(msgs))
	for i, m := range msgs {
		ex.Messages[i] = ExportMessage{ID: m.ID, Kind: m.Kind, Purpose: m.Purpose, Channel: string(m.Channel), Sender: m.Sender,
			Status: string(m.Status), Reason: string(m.Reason), Basis: string(m.Basis), CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt}
	}
	if len(msgs) == exportMessageLimit {
		ex.Notes = append(ex.Notes, "only the newest messages are listed; ask the controller for the rest")
	}
	ex.Inbound = make([]ExportInbound, len(inbound))
	for i, m := range inbound {
		ex.Inbound[i] = ExportInbound{ID: m.ID, Channel: string(m.Channel), Keyword: m.Keyword, Action: m.Action,
			Outcome: m.Outcome, ReceivedAt: m.ReceivedAt}
	}
	ex.Access = make([]ExportAccess, len(accesses))
	for i, a := range accesses {
		ex.Access[i] = ExportAccess{At: a.At, ActorType: string(a.ActorType), ActorID: a.ActorID, Role: a.Role,
			Action: string(a.Action), Fields: a.Fields, Result: string(a.Result)}
	}
	ex.Requests = make([]ExportRequest, len(reqs))
	for i, q := range reqs {
		ex.Requests[i] = ExportRequest{ID: q.ID, Type: q.Type, Status: q.Status, ReceivedAt: q.ReceivedAt, DueAt: q.DueAt}
	}
	return ex, nil
}

// exportReceipts attaches a ledger receipt to each consent event when the
// ledger runs; a failure costs the receipts, not the export.
func (s *Service) exportReceipts(ctx context.Context, pr auth.Principal, ex *Export, contactID string, n int) {
	if s.ledger == nil || n == 0 {
		if n > 0 {
			ex.Notes = append(ex.Notes, "the consent ledger is not enabled on this node: no receipts")
		}
		return
	}
	rs, err := s.ContactReceipts(ctx, pr, contactID)
	if err != nil {
		s.log.WarnContext(ctx, "receipts for an export", "contact", contactID, "err", err)
		ex.Notes = append(ex.Notes, "ledger receipts could not be made just now; ask again later")
		return
	}
	for i := range rs {
		ex.receipts[rs[i].ConsentReceiptID] = &rs[i]
	}
}

func sortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

//go:embed export.html
var exportHTML string

var exportTmpl = template.Must(template.New("export").Funcs(template.FuncMap{
	"date": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"json": func(v any) string { b, _ := json.Marshal(v); return string(b) },
}).Parse(exportHTML))

// WriteHTML renders the export for a person to read. html/template escapes
// every value, so data the person (or anyone) typed cannot inject markup.
func (ex *Export) WriteHTML(w io.Writer) error { return exportTmpl.Execute(w, ex) }
