package service

import (
	"context"
	"errors"
	"strconv"

	"github.com/consentgate/consentgate/internal/apperr"
	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/store"
)

// SendBatchItem is one answer of a batch send: the queued message, or the
// error that item had (the other items are still sent).
type SendBatchItem struct {
	Message *MessageView
	Error   *apperr.Error
}

// SendMessages decides and queues many messages in one call, in input
// order. The allowed messages are sealed in one read transaction and
// written in one unit of the group commit, each in a nested unit of its own,
// so one bad item does not hold back the others. With an Idempotency-Key, item i is keyed "key#i": repeating the
// batch replays each item's first result.
func (s *Service) SendMessages(ctx context.Context, pr auth.Principal, in []SendInput, idemKey string) ([]SendBatchItem, error) {
	if err := authorize(pr, auth.MessagesSend); err != nil {
		return nil, err
	}
	if len(in) == 0 || len(in) > MaxMessageBatch {
		return nil, apperr.New(apperr.InvalidRequest, "a batch holds 1-%d messages", MaxMessageBatch)
	}
	if len(idemKey) > maxIdemKeyLen-4 {
		return nil, apperr.New(apperr.InvalidRequest, "Idempotency-Key is longer than %d characters", maxIdemKeyLen-4)
	}
	out := make([]SendBatchItem, len(in))
	var todo []int
	ps := make([]*prepared, len(in))
	perSender := map[string]int{}
	for i, item := range in {
		key := ""
		if idemKey != "" {
			key = idemKey + "#" + strconv.Itoa(i)
		}
		p, err := s.prepareSend(ctx, pr, item, key)
		if err == nil && key != "" {
			var v MessageView
			var done bool
			if v, done, err = s.replay(ctx, pr, p); done && err == nil {
				out[i].Message = &v
				continue
			}
		}
		if err == nil && !p.decision.Allowed {
			err = notPermitted(p.decision)
		}
		if err != nil {
			if apperr.CodeOf(err) == apperr.Unavailable {
				return nil, err // fail closed, for the whole batch
			}
			out[i].Error = apperr.As(err)
			continue
		}
		ps[i] = p
		todo = append(todo, i)
		perSender[item.Sender]++
	}
	if len(todo) == 0 {
		return out, nil
	}
	var releases []func(bool)
	defer func() {
		for _, r := range releases {
			r(false)
		}
	}()
	for snd, n := range perSender {
		release, err := s.sending.admit(ctx, s, pr.TenantID, snd, n)
		if err != nil {
			return nil, err
		}
		releases = append(releases, release)
	}
	msgs := make([]*store.Message, len(in))
	errs := make([]error, len(in))
	err := s.store.Read(ctx, func(tx store.Tx) error {
		for _, i := range todo {
			msgs[i], errs[i] = s.sealMessage(ctx, tx, pr, ps[i])
			if errs[i] != nil && apperr.CodeOf(errs[i]) == apperr.Internal {
				return errs[i] // a store fault: nothing of the batch is sent
			}
		}
		return nil
	})
	if err != nil {
		return nil, storeErr(err, "message")
	}
	err = s.commit.do(ctx, func(tx store.Tx) error {
		var write []int
		for _, i := range todo {
			if errs[i] == nil {
				write = append(write, i)
			}
		}
		ms := make([]*store.Message, len(write))
		for j, i := range write {
			ms[j] = msgs[i]
		}
		for j, err := range writeMessages(ctx, tx, ms) {
			if errs[write[j]] = err; err != nil && !errors.Is(err, errIdemTaken) {
				return err // a store fault: nothing of the batch is kept
			}
		}
		return nil
	}, nil)
	if err != nil {
		return nil, storeErr(err, "message")
	}
	for _, r := range releases {
		r(true)
	}
	releases = nil
	for _, i := range todo {
		switch {
		case errors.Is(errs[i], errIdemTaken):
			v, _, err := s.replay(ctx, pr, ps[i])
			if err != nil {
				out[i].Error = apperr.As(err)
			} else {
				out[i].Message = &v
			}
		case errs[i] != nil:
			out[i].Error = apperr.As(storeErr(errs[i], "message"))
		default:
			v := viewMessage(msgs[i], nil)
			out[i].Message = &v
		}
	}
	s.sending.kick()
	return out, nil
}
