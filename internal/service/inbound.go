package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/consentgate/consentgate/internal/apperr"
	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/inbound"
	"github.com/consentgate/consentgate/internal/index"
	"github.com/consentgate/consentgate/internal/keyword"
	"github.com/consentgate/consentgate/internal/keywordflow"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/vault"
	"github.com/oklog/ulid/v2"
)

// InboundResult is what the gateway did with one inbound message.
type InboundResult struct {
	InboundID   string `json:"inbound_id"`
	ProviderID  string `json:"provider_id"`
	Duplicate   bool   `json:"duplicate"`
	Outcome     string `json:"outcome"`
	Action      string `json:"action,omitempty"`
	Events      int    `json:"events"`
	ReplyQueued bool   `json:"reply_queued"`
}

// Outcomes besides keywordflow's: conversation is forwarded to the tenant's
// webhook when one is configured, and otherwise dropped (never stored).
const (
	outcomeConversation = "conversation"
)

// errDuplicate ends the unit of a retried delivery: nothing is written.
var errDuplicate = errors.New("inbound message already handled")

// inboundEvidence is what a keyword consent event proves, sealed with the
// contact's key: which inbound message, from whom, to which sender, when,
// and what it was read as. The text itself is never kept, only its keyed
// hash and length.
type inboundEvidence struct {
	Inbound struct {
		ID         string    `json:"id"`
		ProviderID string    `json:"provider_id"`
		Channel    string    `json:"channel"`
		SenderID   string    `json:"sender_id"`
		Sender     string    `json:"sender"`
		From       string    `json:"from"`
		ReceivedAt time.Time `json:"received_at"`
		Keyword    string    `json:"keyword"`
		Action     string    `json:"action"`
		Scope      string    `json:"scope"`
		Language   string    `json:"language"`
		TextLen    int       `json:"text_len"`
		TextHMAC   string    `json:"text_hmac"`
	} `json:"inbound"`
}

// inboundJob is one message being handled, with what the unit found.
type inboundJob struct {
	ctx      context.Context
	s        *Service
	sn       *store.Sender
	msg      inbound.Message
	tk       *tenantKeys
	from     normalized
	cls      *keyword.Classifier
	im       *store.InboundMessage
	received time.Time
	window   time.Duration

	contact *store.Contact
	ck      *vault.ContactKey
	created bool
	events  []*store.ConsentEvent
	queued  bool
}

// HandleInbound acts on one verified inbound message sent to sender sn:
// classify it, carry out the keyword state machine, record every consent
// change with evidence, queue the one reply, and forward conversation. It
// all happens in one unit of the group commit, and the decision index is
// updated before it returns: an opt-out is in force when the webhook
// answers. A message seen before (same tenant, channel and provider id)
// changes nothing and is reported as a duplicate.
func (s *Service) HandleInbound(ctx context.Context, sn *store.Sender, msg inbound.Message) (InboundResult, error) {
	res := InboundResult{ProviderID: msg.ProviderID}
	tk, err := s.tenantKeys(ctx, sn.TenantID)
	if err != nil {
		return res, err
	}
	from, err := s.normalize(tk, msg.Channel.IdentifierKind(), msg.From)
	if err != nil {
		return res, apperr.New(apperr.InvalidRequest, "from is not a valid %s identifier", msg.Channel.IdentifierKind())
	}
	cls, err := s.classifier(ctx, sn.TenantID)
	if err != nil {
		return res, err
	}
	now := s.now()
	received := msg.ReceivedAt
	if received.IsZero() || received.After(now) || received.Before(now.Add(-7*24*time.Hour)) {
		// A provider's clock is evidence only within reason; the
		// gateway's own clock is the fallback.
		received = now
	}
	th := tk.forms("inbound-text", msg.Text).Stored()
	j := &inboundJob{ctx: ctx, s: s, sn: sn, msg: msg, tk: tk, from: from, cls: cls, received: received,
		window: s.inboundConfig().ConfirmWindow,
		im: &store.InboundMessage{ID: ulid.Make().String(), TenantID: sn.TenantID, Channel: msg.Channel,
			ProviderID: msg.ProviderID, SenderID: sn.ID, FromIndex: from.forms.Stored(), TextHash: th, TextLen: len(msg.Text),
			ReceivedAt: received, RecordedAt: now}}
	err = s.commit.do(ctx, j.run, j.apply)
	if errors.Is(err, errDuplicate) {
		res.Duplicate = true
		_ = s.store.Read(ctx, func(tx store.Tx) error {
			if prev, err := tx.GetInboundMessage(ctx, sn.TenantID, msg.Channel, msg.ProviderID); err == nil {
				res.InboundID, res.Outcome, res.Action = prev.ID, prev.Outcome, prev.Action
			}
			return nil
		})
		s.log.InfoContext(ctx, "inbound message replayed; nothing changed", "tenant", sn.TenantID, "sender", sn.ID, "inbound", res.InboundID)
		return res, nil
	}
	if err != nil {
		return res, storeErr(err, "inbound message")
	}
	res.InboundID, res.Outcome, res.Action, res.Events, res.ReplyQueued = j.im.ID, j.im.Outcome, j.im.Action, len(j.events), j.queued
	s.log.InfoContext(ctx, "inbound message handled", "tenant", sn.TenantID, "sender", sn.ID, "inbound", j.im.ID,
		"contact", j.im.ContactID, "action", j.im.Action, "outcome", j.im.Outcome, "events", len(j.events), "reply_queued", j.queued)
	return res, nil
}

// run is the unit: everything it writes commits together or not at all.
func (j *inboundJob) run(tx store.Tx) error {
	ctx, tenantID := j.ctx, j.sn.TenantID
	// A retried delivery is found before any work is done; the inbound
	// record's key catches a concurrent one when it is inserted last, and
	// the unit then rolls back whatever it did.
	if _, err := tx.GetInboundMessage(ctx, tenantID, j.msg.Channel, j.msg.ProviderID); err == nil {
		return errDuplicate
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	in, byKey, err := j.load(tx)
	if err != nil {
		return err
	}
	hint := ""
	if j.contact != nil {
		hint = j.contact.Locale
	}
	r := j.cls.Classify(j.msg.Text, hint)
	in.Result = r
	plan := keywordflow.Decide(in)
	j.im.Keyword, j.im.Action, j.im.Scope, j.im.Language, j.im.Outcome = r.Keyword, string(r.Action), r.Scope, r.Language, plan.Outcome
	if plan.NeedsContact && j.contact == nil {
		if err := j.createContact(tx, r.Language); err != nil {
			return err
		}
	}
	if j.contact != nil {
		j.im.ContactID = j.contact.ID
	}
	for _, c := range plan.Changes {
		if err := j.record(tx, byKey[c.Purpose], c, r); err != nil {
			return err
		}
	}
	if err := j.saveStop(tx, plan); err != nil {
		return err
	}
	if plan.Reply != "" {
		if err := j.reply(tx, plan, byKey, in.TenantPurposes, r); err != nil {
			return err
		}
	}
	if plan.Outcome == keywordflow.OutcomeForwarded {
		ok, err := j.forward(tx)
		if err != nil {
			return err
		}
		if !ok {
			j.im.Outcome = outcomeConversation
		}
	}
	if err := tx.CreateInboundMessage(ctx, j.im); errors.Is(err, store.ErrConflict) {
		return errDuplicate
	} else if err != nil {
		return err
	}
	return nil
}

// load reads the contact, the purposes in play, the contact's states on the
// channel and its last STOP.
func (j *inboundJob) load(tx store.Tx) (keywordflow.Input, map[string]*consent.Purpose, error) {
	ctx, tenantID, ch := j.ctx, j.sn.TenantID, j.msg.Channel
	in := keywordflow.Input{Now: j.s.now(), ConfirmWindow: j.window}
	id, err := findContactID(ctx, tx, tenantID, j.from.kind, j.from.forms)
	switch {
	case err == nil:
		c, _, err := tx.GetContact(ctx, tenantID, id)
		if err != nil {
			return in, nil, err
		}
		ck, err := vault.OpenContactKey(j.tk.keys, tenantID, id, c.WrappedKey)
		if err != nil {
			// A shredded (erased) contact's key is gone; the opt-out
			// must still be honoured, so record it on a fresh contact.
			j.s.log.Warn("contact key unreadable; treating the sender as a new contact", "tenant", tenantID, "contact", id)
			break
		}
		j.contact, j.ck = c, ck
	case !errors.Is(err, store.ErrNotFound):
		return in, nil, err
	}
	ps, err := tx.ListPurposes(ctx, tenantID)
	if err != nil {
		return in, nil, err
	}
	byKey := map[string]*consent.Purpose{}
	for _, p := range ps {
		if !p.Allows(ch) {
			continue
		}
		byKey[p.Key] = p
		in.TenantPurposes = append(in.TenantPurposes, flowPurpose(p))
	}
	for _, key := range j.sn.Purposes {
		if p := byKey[key]; p != nil {
			in.SenderPurposes = append(in.SenderPurposes, flowPurpose(p))
		}
	}
	if j.contact == nil {
		return in, byKey, nil
	}
	cur, err := tx.CurrentConsents(ctx, tenantID, j.contact.ID)
	if err != nil {
		return in, nil, err
	}
	in.Current = map[string]keywordflow.State{}
	for _, e := range cur {
		if e.Channel == ch {
			in.Current[e.Purpose] = keywordflow.State{Status: e.Status, Confirmed: e.Confirmed, ExpiresAt: e.ExpiresAt, RecordedAt: e.OccurredAt}
		}
	}
	stop, err := tx.GetKeywordStop(ctx, tenantID, j.contact.ID, ch)
	switch {
	case err == nil:
		for _, it := range stop.Items {
			in.LastStop = append(in.LastStop, keywordflow.StopItem{Purpose: it.Purpose, Status: it.Status, Confirmed: it.Confirmed, ExpiresAt: it.ExpiresAt})
		}
	case !errors.Is(err, store.ErrNotFound):
		return in, nil, err
	}
	return in, byKey, nil
}

func flowPurpose(p *consent.Purpose) keywordflow.Purpose {
	return keywordflow.Purpose{Key: p.Key, Basis: p.Basis, DoubleOptIn: p.DoubleOptIn, Lifetime: p.Lifetime}
}

// createContact makes a contact of an unknown sender whose message records
// consent, exactly as CreateContact does: a fresh data key, the identifier
// sealed, found again by its blind index.
func (j *inboundJob) createContact(tx store.Tx, lang string) error {
	tenantID, now := j.sn.TenantID, j.s.now()
	c := &store.Contact{ID: ulid.Make().String(), TenantID: tenantID, Locale: lang, CreatedAt: now, UpdatedAt: now}
	ck, wrapped, err := vault.NewContactKey(j.tk.keys, tenantID, c.ID)
	if err != nil {
		return err
	}
	c.WrappedKey = wrapped
	sealed, err := ck.Seal(string(j.from.kind), []byte(j.from.value))
	if err != nil {
		return err
	}
	if err := claimIdentifiers(j.ctx, tx, j.tk, tenantID, c.ID, []normalized{j.from}); err != nil {
		return err
	}
	if err := tx.CreateContact(j.ctx, c, []store.Identifier{{Kind: j.from.kind, BlindIndex: j.from.forms.Stored(), Sealed: sealed}}); err != nil {
		return err
	}
	j.contact, j.ck, j.created = c, ck, true
	return nil
}

// record appends one consent event with sealed evidence naming the message.
func (j *inboundJob) record(tx store.Tx, p *consent.Purpose, c keywordflow.Change, r keyword.Result) error {
	e := &store.ConsentEvent{ID: ulid.Make().String(), TenantID: j.sn.TenantID, ContactID: j.contact.ID, Purpose: c.Purpose,
		Channel: j.msg.Channel, Status: c.Status, Confirmed: c.Confirmed, Source: string(consent.SourceKeyword),
		Actor: "inbound:" + j.sn.ID, OccurredAt: j.received, RecordedAt: j.s.now(), ExpiresAt: c.ExpiresAt}
	if p != nil {
		e.NoticeVersion = p.NoticeVersion
	}
	var ev inboundEvidence
	x := &ev.Inbound
	x.ID, x.ProviderID, x.Channel, x.SenderID, x.Sender = j.im.ID, j.msg.ProviderID, string(j.msg.Channel), j.sn.ID, j.sn.Address
	x.From, x.ReceivedAt, x.Keyword, x.Action, x.Scope, x.Language = j.from.value, j.received, r.Keyword, string(r.Action), r.Scope, r.Language
	x.TextLen, x.TextHMAC = len(j.msg.Text), hex.EncodeToString(j.im.TextHash)
	raw, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	if e.EvidenceSealed, err = j.ck.Seal("evidence/"+e.ID, raw); err != nil {
		return err
	}
	d := sha256.Sum256(e.EvidenceSealed)
	e.EvidenceDigest = d[:]
	if err := tx.AppendConsentEvent(j.ctx, e); err != nil {
		return err
	}
	j.events = append(j.events, e)
	return nil
}

func (j *inboundJob) saveStop(tx store.Tx, plan keywordflow.Plan) error {
	ctx := j.ctx
	switch {
	case plan.SaveStop != nil:
		st := &store.KeywordStop{TenantID: j.sn.TenantID, ContactID: j.contact.ID, Channel: j.msg.Channel, InboundID: j.im.ID, CreatedAt: j.s.now()}
		for _, it := range plan.SaveStop {
			st.Items = append(st.Items, store.StopItem{Purpose: it.Purpose, Status: it.Status, Confirmed: it.Confirmed, ExpiresAt: it.ExpiresAt})
		}
		return tx.PutKeywordStop(ctx, st)
	case plan.ClearStop && j.contact != nil:
		return tx.DeleteKeywordStop(ctx, j.sn.TenantID, j.contact.ID, j.msg.Channel)
	}
	return nil
}

// reply renders the one reply and queues it in a unit of its own: a reply
// that cannot be queued is logged and dropped, never allowed to undo the
// opt-out it confirms.
func (j *inboundJob) reply(tx store.Tx, plan keywordflow.Plan, byKey map[string]*consent.Purpose, all []keywordflow.Purpose, r keyword.Result) error {
	ctx, s, tenantID := j.ctx, j.s, j.sn.TenantID
	if s.replies == nil {
		s.log.Warn("no reply queue is configured; reply not sent", "tenant", tenantID, "inbound", j.im.ID, "kind", plan.Reply)
		return nil
	}
	conf, err := j.s.replyConf(tx, tenantID)
	if err != nil {
		return err
	}
	rc := replyContext{kind: plan.Reply, lang: r.Language, tenant: conf.name, profile: conf.profile, overrides: conf.overrides,
		keyword: r.Keyword, window: int(j.window / time.Hour)}
	if j.contact != nil && len(j.contact.Locale) >= 2 && !j.created {
		l := j.contact.Locale
		rc.lang = strings.ToLower(l[:2])
	}
	if rc.lang == "" {
		rc.lang = "en"
	}
	for _, k := range plan.Affected {
		if p := byKey[k]; p != nil {
			rc.affected = append(rc.affected, p)
		}
	}
	if plan.Reply == keywordflow.ReplyHelp {
		for _, p := range all {
			rc.affected = append(rc.affected, byKey[p.Key])
		}
	}
	for _, k := range plan.Continuing {
		rc.continuing = append(rc.continuing, byKey[k])
	}
	body, lang := renderReply(rc)
	body = j.withReceiptLink(body, lang, plan.Reply)
	rep := Reply{TenantID: tenantID, Channel: j.msg.Channel, Sender: j.sn.Address,
		Kind: plan.Reply, Body: body, Language: lang, InboundID: j.msg.ProviderID}
	if j.contact != nil {
		rep.ContactID = j.contact.ID
	} else {
		// A HELP (or a YES with nothing pending) from a number that is not
		// a contact: answer it without creating one.
		rep.To, rep.ToKind, rep.ToBlindIndex = j.from.value, j.from.kind, j.from.forms.Stored()
	}
	if err := tx.Unit(ctx, func(tx store.Tx) error { return s.replies.QueueReply(ctx, tx, rep) }); err != nil {
		s.log.Error("reply could not be queued; the consent change stands", "tenant", tenantID, "inbound", j.im.ID, "kind", plan.Reply, "err", err)
		return nil
	}
	j.queued = true
	return nil
}

// apply updates the decision index once the unit has committed.
func (j *inboundJob) apply() {
	tenantID := j.sn.TenantID
	if j.created {
		id, _ := ulid.ParseStrict(j.contact.ID)
		j.s.index.PutContact(tenantID, id, false, []index.Identifier{{Kind: j.from.kind, BlindIndex: j.from.forms.Stored()}})
	}
	for _, e := range j.events {
		id, _ := ulid.ParseStrict(e.ContactID)
		j.s.index.ApplyConsent(tenantID, id, e.Purpose, e.Channel, e.State())
	}
}

// replyConf returns the tenant's name, profile and reply templates, cached
// for inboundCacheTTL and dropped when one of them changes on this node.
func (s *Service) replyConf(tx store.Tx, tenantID string) (cachedReplyConf, error) {
	now := s.now()
	if c, ok := cacheGet(&s.inbound, s.inbound.replyConfs, tenantID); ok && now.Before(c.expires) {
		return c, nil
	}
	ctx := context.Background()
	tn, err := tx.GetTenant(ctx, tenantID)
	if err != nil {
		return cachedReplyConf{}, err
	}
	c := cachedReplyConf{name: tn.Name, expires: now.Add(inboundCacheTTL)}
	switch p, err := tx.GetTenantProfile(ctx, tenantID); {
	case err == nil:
		c.profile = p
		if p.ControllerName != "" {
			c.name = p.ControllerName
		}
	case !errors.Is(err, store.ErrNotFound):
		return cachedReplyConf{}, err
	}
	if c.overrides, err = tx.ListReplyTemplates(ctx, tenantID); err != nil {
		return cachedReplyConf{}, err
	}
	s.inbound.putReplyConf(tenantID, c)
	return c, nil
}
