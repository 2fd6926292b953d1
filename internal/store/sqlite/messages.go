package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/oklog/ulid/v2"
)

func messageArgs(m *store.Message) []any {
	return []any{m.ID, m.TenantID, m.ContactID, m.Kind, m.InboundID, m.Purpose, string(m.Channel), m.Sender,
		string(m.RecipientKind), m.RecipientIndex, string(m.Status), string(m.Reason), string(m.Basis),
		m.ConsentEventID, m.BodyHash, m.BodyLen, m.Sealed, m.WrappedKey, m.IdempotencyKey, m.RequestHash,
		m.Attempts, us(m.DueAt), m.LeaseOwner, m.ProviderRef, m.LastError, us(m.CreatedAt), us(m.UpdatedAt)}
}

func scanMessage(row interface{ Scan(...any) error }) (*store.Message, error) {
	var m store.Message
	var ch, kind, st, reason, basis string
	var due, created, updated int64
	if err := row.Scan(&m.ID, &m.TenantID, &m.ContactID, &m.Kind, &m.InboundID, &m.Purpose, &ch, &m.Sender,
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

// CreateMessage first enforces the constraints that span partitions,
// within uniqueWindow: a partition's unique indexes see only its own rows.
func (t *tx) CreateMessage(ctx context.Context, m *store.Message) error {
	at := idTime(m.ID, m.CreatedAt)
	if _, err := ulid.ParseStrict(m.ID); err != nil {
		// A ULID always lands in the partition of its time, whose unique
		// index catches a second use; other ids land by created_at.
		if err := t.noneExist(ctx, qMessageIDUsed, m.ID); err != nil {
			return fmt.Errorf("%w: message id %s", err, m.ID)
		}
	}
	if m.IdempotencyKey != "" {
		if err := t.noneRecent(ctx, messagesKind, at, qIdempotencyKeyUsed, m.TenantID, m.IdempotencyKey); err != nil {
			return fmt.Errorf("%w: idempotency key", err)
		}
	}
	p, err := t.partitionFor(ctx, messagesKind, at)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, in(qCreateMessage, p), messageArgs(m)...)
	return err
}

// noneExist returns store.ErrConflict when q finds a row. Over a view the
// queries say "SELECT 1 ... LIMIT 1", not count(*): SQLite flattens that
// into each partition's arm with every term, so a partial index serves it,
// while an aggregate over the view gets only some terms pushed down. The
// compounds that recent builds carry every term in each arm already.
func (t *tx) noneExist(ctx context.Context, q string, args ...any) error {
	var one int
	err := t.tx.QueryRowContext(ctx, q, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return mapErr(err)
	}
	return store.ErrConflict
}

func (t *tx) CreateReply(ctx context.Context, m *store.Message) (bool, error) {
	if m.InboundID != "" {
		err := t.noneRecent(ctx, messagesKind, idTime(m.ID, m.CreatedAt), qReplyExists, m.TenantID, m.InboundID, m.Kind)
		if errors.Is(err, store.ErrConflict) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
	}
	if err := t.CreateMessage(ctx, m); err != nil {
		return false, err
	}
	return true, nil
}

// GetMessage looks in the partition of the id's time first: one index
// lookup instead of one per partition.
func (t *tx) GetMessage(ctx context.Context, tenantID, id string) (*store.Message, error) {
	p, err := t.guess(ctx, messagesKind, id)
	if err != nil {
		return nil, err
	}
	if p != "" {
		m, err := scanMessage(t.tx.QueryRowContext(ctx, in(qGetMessageIn, p), tenantID, id))
		if !errors.Is(err, store.ErrNotFound) {
			return m, err
		}
	}
	return scanMessage(t.tx.QueryRowContext(ctx, qGetMessage, tenantID, id))
}

// GetMessageByIdempotencyKey looks in the partitions of the last
// uniqueWindow, within which a key is unique (docs/sending.md).
func (t *tx) GetMessageByIdempotencyKey(ctx context.Context, tenantID, key string) (*store.Message, error) {
	q, err := t.recent(ctx, messagesKind, us(time.Now().Add(-uniqueWindow)), qGetMessageByIdempotencyKey)
	if err != nil || q == "" {
		return nil, cmp.Or(err, store.ErrNotFound)
	}
	return scanMessage(t.tx.QueryRowContext(ctx, q, tenantID, key))
}

// FindMessageByProviderRef looks in the partitions of the last
// uniqueWindow, newest first: a delivery report comes within days of its
// message (docs/sending.md).
func (t *tx) FindMessageByProviderRef(ctx context.Context, tenantID string, ch consent.Channel, ref string) (*store.Message, error) {
	q, err := t.recent(ctx, messagesKind, us(time.Now().Add(-uniqueWindow)), qFindMessageByProviderRef)
	if err != nil || q == "" {
		return nil, cmp.Or(err, store.ErrNotFound)
	}
	return scanMessage(t.tx.QueryRowContext(ctx, q, tenantID, string(ch), ref))
}

func (t *tx) CountMessagesSince(ctx context.Context, tenantID string, since time.Time) (int, error) {
	var n int
	err := t.tx.QueryRowContext(ctx, qCountMessagesSince, tenantID, us(since)).Scan(&n)
	return n, mapErr(err)
}

func (t *tx) CountMessagesByStatus(ctx context.Context) (map[store.MessageStatus]int, error) {
	out := map[store.MessageStatus]int{}
	err := scanEach(ctx, t, qCountMessagesByState, func(row interface{ Scan(...any) error }) error {
		var st string
		var n int
		if err := row.Scan(&st, &n); err != nil {
			return mapErr(err)
		}
		out[store.MessageStatus(st)] = n
		return nil
	})
	return out, err
}

// AppendMessageEvent stores the event in its message's partition: the one
// the id's time points at (the foreign key says when it is not), else the
// one the view finds. Sequence numbers
// are per partition, so they order the events of one message, which is all
// they are used for.
func (t *tx) AppendMessageEvent(ctx context.Context, e *store.MessageEvent) error {
	p, err := t.guess(ctx, messagesKind, e.MessageID)
	if err != nil {
		return err
	}
	if p != "" {
		err := t.appendEvent(ctx, p, e)
		if !isForeignKey(err) {
			return mapErr(err)
		}
	}
	if p, err = t.holder(ctx, messagesKind, e.MessageID); err != nil {
		return fmt.Errorf("sqlite: event for message %s: %w", e.MessageID, err)
	}
	return mapErr(t.appendEvent(ctx, p, e))
}

func (t *tx) appendEvent(ctx context.Context, p string, e *store.MessageEvent) error {
	return t.tx.QueryRowContext(ctx, in(qAppendMessageEvent, p), e.TenantID, e.MessageID, string(e.Status),
		e.Detail, us(e.At)).Scan(&e.Seq)
}

func (t *tx) ListMessageEvents(ctx context.Context, tenantID, messageID string) ([]*store.MessageEvent, error) {
	return queryAll(ctx, t, qListMessageEvents, func(row interface{ Scan(...any) error }) (*store.MessageEvent, error) {
		var e store.MessageEvent
		var st string
		var at int64
		if err := row.Scan(&e.Seq, &e.TenantID, &e.MessageID, &st, &e.Detail, &at); err != nil {
			return nil, mapErr(err)
		}
		e.Status, e.At = store.MessageStatus(st), fromUS(at)
		return &e, nil
	}, tenantID, messageID)
}

// ClaimMessages picks the due messages through the view, oldest due first,
// then takes them with one statement per partition they are in.
func (t *tx) ClaimMessages(ctx context.Context, owner string, now, until time.Time, limit int) ([]*store.Message, error) {
	ids := map[string][]string{} // partition → ids
	var parts []string
	err := scanEach(ctx, t, qDueMessages, func(row interface{ Scan(...any) error }) error {
		var p, id string
		var due int64 // selected so that SQLite can merge the partitions' ordered arms
		if err := row.Scan(&p, &id, &due); err != nil {
			return mapErr(err)
		}
		if ids[p] == nil {
			parts = append(parts, p)
		}
		ids[p] = append(ids[p], id)
		return nil
	}, us(now), limit)
	if err != nil {
		return nil, err
	}
	var out []*store.Message
	for _, p := range parts {
		list, err := json.Marshal(ids[p])
		if err != nil {
			return nil, err
		}
		ms, err := queryAll(ctx, t, in(qClaimMessage, p), scanMessage, owner, us(until), us(now), string(list), us(now))
		if err != nil {
			return nil, err
		}
		out = append(out, ms...)
	}
	return out, nil
}

func (t *tx) UpdateMessage(ctx context.Context, u *store.MessageUpdate) error {
	return t.updateMessage(ctx, u.ID, qUpdateMessage, string(u.Status), us(u.DueAt), u.ProviderRef, u.ProviderRef,
		u.LastError, u.DropSealed, u.DropSealed, us(u.At), u.TenantID, u.ID, u.LeaseOwner)
}

// CreateMessages implements store.MessageStore with a savepoint per
// message: on SQLite it is as cheap as one statement would be.
func (t *tx) CreateMessages(ctx context.Context, ms []*store.Message) []error {
	errs := make([]error, len(ms))
	for i, m := range ms {
		errs[i] = t.Unit(ctx, func(u store.Tx) error { return u.CreateMessage(ctx, m) })
	}
	return errs
}

// MarkMessages implements store.MessageStore one outcome at a time: on
// SQLite a statement costs no round trip, and the cached statements make
// the loop as cheap as one statement would be.
func (t *tx) MarkMessages(ctx context.Context, outs []store.MessageOutcome) ([]int64, error) {
	seqs := make([]int64, len(outs))
	for i, o := range outs {
		err := t.UpdateMessage(ctx, o.Update)
		if errors.Is(err, store.ErrNotFound) {
			continue // the lease was lost
		}
		if err != nil {
			return nil, err
		}
		u := o.Update
		ev := &store.MessageEvent{TenantID: u.TenantID, MessageID: u.ID, Status: u.Status, Detail: o.Detail, At: u.At}
		if err := t.AppendMessageEvent(ctx, ev); err != nil {
			return nil, err
		}
		seqs[i] = ev.Seq
	}
	return seqs, nil
}

func (t *tx) ReleaseMessages(ctx context.Context, owner string, ids []string, now time.Time) error {
	for _, id := range ids {
		err := t.updateMessage(ctx, id, qReleaseMessage, us(now), us(now), id, owner)
		if err != nil && !errors.Is(err, store.ErrNotFound) { // not leased by owner (any more): nothing to release
			return err
		}
	}
	return nil
}

func (t *tx) SetDeliveryStatus(ctx context.Context, tenantID, id string, st store.MessageStatus, at time.Time) error {
	return t.updateMessage(ctx, id, qSetDeliveryStatus, string(st), us(at), tenantID, id)
}

func (t *tx) PutChannelProvider(ctx context.Context, p *store.ChannelProvider) error {
	_, err := t.exec(ctx, qPutChannelProvider, p.TenantID, string(p.Channel), p.Kind, p.Settings, p.SecretSealed,
		us(p.CreatedAt), us(p.UpdatedAt))
	return err
}

func scanProvider(row interface{ Scan(...any) error }) (*store.ChannelProvider, error) {
	var p store.ChannelProvider
	var ch string
	var created, updated int64
	if err := row.Scan(&p.TenantID, &ch, &p.Kind, &p.Settings, &p.SecretSealed, &created, &updated); err != nil {
		return nil, mapErr(err)
	}
	p.Channel, p.CreatedAt, p.UpdatedAt = consent.Channel(ch), fromUS(created), fromUS(updated)
	return &p, nil
}

func (t *tx) GetChannelProvider(ctx context.Context, tenantID string, ch consent.Channel) (*store.ChannelProvider, error) {
	return scanProvider(t.tx.QueryRowContext(ctx, qGetChannelProvider, tenantID, string(ch)))
}

func (t *tx) ListChannelProviders(ctx context.Context, tenantID string) ([]*store.ChannelProvider, error) {
	return queryAll(ctx, t, qListChannelProviders, scanProvider, tenantID)
}

func (t *tx) DeleteChannelProvider(ctx context.Context, tenantID string, ch consent.Channel) error {
	r, err := t.exec(ctx, qDeleteChannelProvider, tenantID, string(ch))
	return oneRow(r, err)
}
