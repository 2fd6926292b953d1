package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/store"
)

func messageArgs(m *store.Message) []any {
	return []any{m.ID, m.TenantID, m.ContactID, m.Kind, m.InboundID, m.Purpose, string(m.Channel), m.Sender,
		string(m.RecipientKind), m.RecipientIndex, string(m.Status), string(m.Reason), string(m.Basis),
		m.ConsentEventID, m.BodyHash, m.BodyLen, m.Sealed, m.WrappedKey, m.IdempotencyKey, m.RequestHash,
		m.Attempts, us(m.DueAt), m.LeaseOwner, m.ProviderRef, m.LastError, us(m.CreatedAt), us(m.UpdatedAt)}
}

func scanMessage(r row) (*store.Message, error) {
	var m store.Message
	var ch, kind, st, reason, basis string
	var due, created, updated int64
	if err := r.Scan(&m.ID, &m.TenantID, &m.ContactID, &m.Kind, &m.InboundID, &m.Purpose, &ch, &m.Sender,
		&kind, &m.RecipientIndex, &st, &reason, &basis, &m.ConsentEventID, &m.BodyHash, &m.BodyLen, &m.Sealed,
		&m.WrappedKey, &m.IdempotencyKey, &m.RequestHash, &m.Attempts, &due, &m.LeaseOwner, &m.ProviderRef,
		&m.LastError, &created, &updated); err != nil {
		return nil, mapErr(err)
	}
	m.Channel, m.RecipientKind, m.Status = consent.Channel(ch), consent.IdentifierKind(kind), store.MessageStatus(st)
	m.Reason, m.Basis = consent.Reason(reason), consent.Basis(basis)
	m.DueAt, m.CreatedAt, m.UpdatedAt = fromUS(due), fromUS(created), fromUS(updated)
	return &m, nil
}

func (t *tx) CreateMessage(ctx context.Context, m *store.Message) error {
	_, err := t.exec(ctx, qCreateMessage, messageArgs(m)...)
	return err
}

// CreateMessages creates messages as CreateMessage would, each on its own,
// in one statement (one round trip instead of one per message): errs[i] is
// message i's error, ErrConflict when its id or idempotency key is taken,
// and a message that fails leaves no trace while the others are created.
// Group commit and batch sends use it. Should the statement fail as a whole
// (a constraint other than a unique one), it is undone and the messages are
// created one per unit, so that only the faulty ones fail.
func (t *tx) CreateMessages(ctx context.Context, ms []*store.Message) []error {
	errs := make([]error, len(ms))
	if len(ms) == 0 {
		return errs
	}
	created := make(map[string]bool, len(ms))
	err := t.Unit(ctx, func(u store.Tx) error {
		return scanEach(ctx, u.(*tx), qCreateMessages, func(r row) error {
			var id string
			if err := r.Scan(&id); err != nil {
				return mapErr(err)
			}
			created[id] = true
			return nil
		}, messageColumns(ms)...)
	})
	switch {
	case err == nil:
		for i, m := range ms {
			if !created[m.ID] {
				errs[i] = fmt.Errorf("%w: message %s: id or idempotency key taken", store.ErrConflict, m.ID)
			}
			// A later message with the same id would have been skipped.
			delete(created, m.ID)
		}
	case t.state.retry != nil || ctx.Err() != nil || errors.Is(err, store.ErrUnavailable):
		// The transaction will be run again, or cannot go on.
		for i := range errs {
			errs[i] = err
		}
	default:
		for i, m := range ms {
			errs[i] = t.Unit(ctx, func(u store.Tx) error { return u.CreateMessage(ctx, m) })
		}
	}
	return errs
}

// messageColumns is messageArgs for many messages: one array per column.
func messageColumns(ms []*store.Message) []any {
	n := len(ms)
	ids, tenants, contacts, kinds, inbound, purposes := make([]string, n), make([]string, n), make([]string, n),
		make([]string, n), make([]string, n), make([]string, n)
	channels, senders, rkinds, rindex, status := make([]string, n), make([]string, n), make([]string, n),
		make([][]byte, n), make([]string, n)
	reasons, bases, events, bodyHash, bodyLen := make([]string, n), make([]string, n), make([]string, n),
		make([][]byte, n), make([]int32, n)
	sealed, wrapped, idem, reqHash, attempts := make([][]byte, n), make([][]byte, n), make([]string, n),
		make([][]byte, n), make([]int32, n)
	due, lease, ref, lastErr, created, updated := make([]int64, n), make([]string, n), make([]string, n),
		make([]string, n), make([]int64, n), make([]int64, n)
	for i, m := range ms {
		ids[i], tenants[i], contacts[i], kinds[i], inbound[i], purposes[i] = m.ID, m.TenantID, m.ContactID, m.Kind,
			m.InboundID, m.Purpose
		channels[i], senders[i], rkinds[i], rindex[i], status[i] = string(m.Channel), m.Sender,
			string(m.RecipientKind), m.RecipientIndex, string(m.Status)
		reasons[i], bases[i], events[i], bodyHash[i], bodyLen[i] = string(m.Reason), string(m.Basis),
			m.ConsentEventID, m.BodyHash, int32(m.BodyLen)
		sealed[i], wrapped[i], idem[i], reqHash[i], attempts[i] = m.Sealed, m.WrappedKey, m.IdempotencyKey,
			m.RequestHash, int32(m.Attempts)
		due[i], lease[i], ref[i], lastErr[i], created[i], updated[i] = us(m.DueAt), m.LeaseOwner, m.ProviderRef,
			m.LastError, us(m.CreatedAt), us(m.UpdatedAt)
	}
	return []any{ids, tenants, contacts, kinds, inbound, purposes, channels, senders, rkinds, rindex, status,
		reasons, bases, events, bodyHash, bodyLen, sealed, wrapped, idem, reqHash, attempts, due, lease, ref,
		lastErr, created, updated}
}

func (t *tx) CreateReply(ctx context.Context, m *store.Message) (bool, error) {
	tag, err := t.exec(ctx, qCreateReply, messageArgs(m)...)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}

func (t *tx) GetMessage(ctx context.Context, tenantID, id string) (*store.Message, error) {
	return scanMessage(t.queryRow(ctx, qGetMessage, tenantID, id))
}

func (t *tx) GetMessageByIdempotencyKey(ctx context.Context, tenantID, key string) (*store.Message, error) {
	return scanMessage(t.queryRow(ctx, qGetMessageByIdempotencyKey, tenantID, key))
}

func (t *tx) FindMessageByProviderRef(ctx context.Context, tenantID string, ch consent.Channel, ref string) (*store.Message, error) {
	return scanMessage(t.queryRow(ctx, qFindMessageByProviderRef, tenantID, string(ch), ref))
}

func (t *tx) CountMessagesSince(ctx context.Context, tenantID string, since time.Time) (int, error) {
	var n int
	err := t.queryRow(ctx, qCountMessagesSince, tenantID, us(since)).Scan(&n)
	return n, mapErr(err)
}

func (t *tx) CountMessagesByStatus(ctx context.Context) (map[store.MessageStatus]int, error) {
	out := map[store.MessageStatus]int{}
	err := scanEach(ctx, t, qCountMessagesByState, func(r row) error {
		var st string
		var n int
		if err := r.Scan(&st, &n); err != nil {
			return mapErr(err)
		}
		out[store.MessageStatus(st)] = n
		return nil
	})
	return out, err
}

func (t *tx) AppendMessageEvent(ctx context.Context, e *store.MessageEvent) error {
	return mapErr(t.queryRow(ctx, qAppendMessageEvent, e.TenantID, e.MessageID, string(e.Status),
		e.Detail, us(e.At)).Scan(&e.Seq))
}

func (t *tx) ListMessageEvents(ctx context.Context, tenantID, messageID string) ([]*store.MessageEvent, error) {
	return queryAll(ctx, t, qListMessageEvents, func(r row) (*store.MessageEvent, error) {
		var e store.MessageEvent
		var st string
		var at int64
		if err := r.Scan(&e.Seq, &e.TenantID, &e.MessageID, &st, &e.Detail, &at); err != nil {
			return nil, mapErr(err)
		}
		e.Status, e.At = store.MessageStatus(st), fromUS(at)
		return &e, nil
	}, tenantID, messageID)
}

func (t *tx) ClaimMessages(ctx context.Context, owner string, now, until time.Time, limit int) ([]*store.Message, error) {
	return queryAll(ctx, t, qClaimMessages, scanMessage, owner, us(until), us(now), limit)
}

func (t *tx) UpdateMessage(ctx context.Context, u *store.MessageUpdate) error {
	tag, err := t.exec(ctx, qUpdateMessage, string(u.Status), us(u.DueAt), u.ProviderRef, u.LastError,
		u.DropSealed, us(u.At), u.TenantID, u.ID, u.LeaseOwner)
	return oneRow(tag, err)
}

// MarkMessages implements store.MessageStore in one statement (see
// qMarkMessages). The dispatcher records one outcome per claim; should a
// message come twice in one call, only its first outcome is applied, as
// the lease is released by it.
func (t *tx) MarkMessages(ctx context.Context, outs []store.MessageOutcome) ([]int64, error) {
	seqs := make([]int64, len(outs))
	type key struct{ tenant, id string }
	pos := make(map[key]int, len(outs))
	var tenants, ids, owners, status, refs, lastErrs, details []string
	var due, at []int64
	var drop []bool
	for i, o := range outs {
		u := o.Update
		k := key{u.TenantID, u.ID}
		if _, dup := pos[k]; dup {
			continue
		}
		pos[k] = i
		tenants, ids, owners, status = append(tenants, u.TenantID), append(ids, u.ID), append(owners, u.LeaseOwner),
			append(status, string(u.Status))
		refs, lastErrs, details = append(refs, u.ProviderRef), append(lastErrs, u.LastError), append(details, o.Detail)
		due, at, drop = append(due, us(u.DueAt)), append(at, us(u.At)), append(drop, u.DropSealed)
	}
	if len(pos) == 0 {
		return seqs, nil
	}
	err := scanEach(ctx, t, qMarkMessages, func(r row) error {
		var k key
		var seq int64
		if err := r.Scan(&k.tenant, &k.id, &seq); err != nil {
			return mapErr(err)
		}
		if i, ok := pos[k]; ok {
			seqs[i] = seq
		}
		return nil
	}, tenants, ids, owners, status, due, refs, lastErrs, drop, at, details)
	if err != nil {
		return nil, err
	}
	return seqs, nil
}

func (t *tx) ReleaseMessages(ctx context.Context, owner string, ids []string, now time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := t.exec(ctx, qReleaseMessages, us(now), ids, owner)
	return err
}

func (t *tx) SetDeliveryStatus(ctx context.Context, tenantID, id string, st store.MessageStatus, at time.Time) error {
	tag, err := t.exec(ctx, qSetDeliveryStatus, string(st), us(at), tenantID, id)
	return oneRow(tag, err)
}

func (t *tx) PutChannelProvider(ctx context.Context, p *store.ChannelProvider) error {
	_, err := t.exec(ctx, qPutChannelProvider, p.TenantID, string(p.Channel), p.Kind, p.Settings, p.SecretSealed,
		us(p.CreatedAt), us(p.UpdatedAt))
	return err
}

func scanProvider(r row) (*store.ChannelProvider, error) {
	var p store.ChannelProvider
	var ch string
	var created, updated int64
	if err := r.Scan(&p.TenantID, &ch, &p.Kind, &p.Settings, &p.SecretSealed, &created, &updated); err != nil {
		return nil, mapErr(err)
	}
	p.Channel, p.CreatedAt, p.UpdatedAt = consent.Channel(ch), fromUS(created), fromUS(updated)
	return &p, nil
}

func (t *tx) GetChannelProvider(ctx context.Context, tenantID string, ch consent.Channel) (*store.ChannelProvider, error) {
	return scanProvider(t.queryRow(ctx, qGetChannelProvider, tenantID, string(ch)))
}

func (t *tx) ListChannelProviders(ctx context.Context, tenantID string) ([]*store.ChannelProvider, error) {
	return queryAll(ctx, t, qListChannelProviders, scanProvider, tenantID)
}

func (t *tx) DeleteChannelProvider(ctx context.Context, tenantID string, ch consent.Channel) error {
	tag, err := t.exec(ctx, qDeleteChannelProvider, tenantID, string(ch))
	return oneRow(tag, err)
}
