package service

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/consentgate/consentgate/internal/apperr"
	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/oklog/ulid/v2"
	"golang.org/x/net/idna"
)

// SenderInput registers a sender address.
type SenderInput struct {
	Channel  string   `json:"channel"`
	Kind     string   `json:"kind"`
	Address  string   `json:"address"`
	Purposes []string `json:"purposes"`
}

// SenderView is a sender as the API shows it.
type SenderView struct {
	ID        string          `json:"id"`
	Channel   consent.Channel `json:"channel"`
	Kind      string          `json:"kind"`
	Address   string          `json:"address"`
	Purposes  []string        `json:"purposes"`
	CreatedAt time.Time       `json:"created_at"`
}

func viewSender(s *store.Sender) SenderView {
	return SenderView{ID: s.ID, Channel: s.Channel, Kind: s.Kind, Address: s.Address, Purposes: s.Purposes, CreatedAt: s.CreatedAt}
}

var (
	shortCodeRE = regexp.MustCompile(`^[0-9]{3,8}$`)
	// An alphanumeric sender id is 1-11 characters of A-Z, a-z, 0-9 and
	// space, with at least one letter (GSM 03.40 TP-OA).
	alphaRE = regexp.MustCompile(`^[A-Za-z0-9 ]{1,11}$`)
)

// senderKinds says which kinds fit which channel.
var senderKinds = map[string][]consent.Channel{
	store.SenderShortCode:    {consent.SMS, consent.MMS},
	store.SenderLongNumber:   {consent.SMS, consent.MMS, consent.RCS, consent.Voice, consent.Viber},
	store.SenderAlphanumeric: {consent.SMS, consent.RCS, consent.Viber},
	store.SenderEmailDomain:  {consent.Email},
	store.SenderWhatsApp:     {consent.WhatsApp},
}

// normalizeSenderAddress returns the canonical form of a sender address,
// the form routing looks up.
func (s *Service) normalizeSenderAddress(kind, addr string) (string, error) {
	addr = strings.TrimSpace(addr)
	switch kind {
	case store.SenderShortCode:
		if !shortCodeRE.MatchString(addr) {
			return "", apperr.New(apperr.InvalidSender, "a short code is 3-8 digits")
		}
		return addr, nil
	case store.SenderLongNumber, store.SenderWhatsApp:
		n, err := s.norm.Normalize(consent.KindPhone, addr)
		if err != nil {
			return "", apperr.New(apperr.InvalidSender, "the address is not a valid phone number")
		}
		return n, nil
	case store.SenderAlphanumeric:
		if !alphaRE.MatchString(addr) || strings.IndexFunc(addr, func(r rune) bool { return r >= 'A' && r <= 'z' }) < 0 {
			return "", apperr.New(apperr.InvalidSender, "an alphanumeric sender id is 1-11 letters, digits or spaces, with a letter")
		}
		return strings.ToUpper(addr), nil
	case store.SenderEmailDomain:
		d, err := idna.Lookup.ToASCII(strings.TrimSuffix(strings.ToLower(addr), "."))
		if err != nil || !strings.Contains(d, ".") {
			return "", apperr.New(apperr.InvalidSender, "the address is not a valid domain name")
		}
		return d, nil
	}
	return "", apperr.New(apperr.InvalidSender, "kind must be short_code, long_number, alphanumeric, email_domain or whatsapp_number")
}

// routingAddress turns the destination of an inbound message into the form
// senders are registered under: the domain of an e-mail address, E.164 for
// a phone number, the digits of a short code.
func (s *Service) routingAddress(ch consent.Channel, to string) string {
	to = strings.TrimSpace(to)
	if ch == consent.Email {
		if at := strings.LastIndexByte(to, '@'); at >= 0 {
			to = to[at+1:]
		}
		d, err := idna.Lookup.ToASCII(strings.TrimSuffix(strings.ToLower(to), "."))
		if err != nil {
			return strings.ToLower(to)
		}
		return d
	}
	if shortCodeRE.MatchString(to) {
		return to
	}
	if n, err := s.norm.Normalize(consent.KindPhone, to); err == nil {
		return n
	}
	return strings.ToUpper(to)
}

// CreateSender registers a sender address with the purposes it carries. An
// address is unique per channel across tenants, since inbound messages are
// routed by it.
func (s *Service) CreateSender(ctx context.Context, pr auth.Principal, in SenderInput) (SenderView, error) {
	if err := authorize(pr, auth.SendersWrite); err != nil {
		return SenderView{}, err
	}
	ch, err := consent.ParseChannel(in.Channel)
	if err != nil {
		return SenderView{}, apperr.Wrap(err, apperr.UnknownChannel, "unknown channel %q", in.Channel)
	}
	chans, ok := senderKinds[in.Kind]
	if !ok {
		return SenderView{}, apperr.New(apperr.InvalidSender, "kind must be short_code, long_number, alphanumeric, email_domain or whatsapp_number")
	}
	if !slices.Contains(chans, ch) {
		return SenderView{}, apperr.New(apperr.InvalidSender, "a %s sender cannot be used on channel %s", in.Kind, ch)
	}
	addr, err := s.normalizeSenderAddress(in.Kind, in.Address)
	if err != nil {
		return SenderView{}, err
	}
	if len(in.Purposes) > 100 {
		return SenderView{}, apperr.New(apperr.InvalidSender, "a sender carries at most 100 purposes")
	}
	purposes := slices.Compact(slices.Sorted(slices.Values(in.Purposes)))
	sn := &store.Sender{ID: ulid.Make().String(), TenantID: pr.TenantID, Channel: ch, Kind: in.Kind, Address: addr,
		Purposes: purposes, CreatedAt: s.now()}
	if sn.Purposes == nil {
		sn.Purposes = []string{}
	}
	err = s.commit.do(ctx, func(tx store.Tx) error {
		for _, key := range purposes {
			p, err := tx.GetPurpose(ctx, pr.TenantID, key)
			if errors.Is(err, store.ErrNotFound) {
				return apperr.New(apperr.UnknownPurpose, "unknown purpose %q", key)
			} else if err != nil {
				return err
			}
			if !p.Allows(ch) {
				return apperr.New(apperr.ChannelNotAllowed, "purpose %q does not use channel %s", key, ch)
			}
		}
		return tx.CreateSender(ctx, sn)
	}, nil)
	if errors.Is(err, store.ErrConflict) {
		return SenderView{}, apperr.Wrap(err, apperr.Conflict, "this address is already registered on channel %s", ch)
	}
	if err != nil {
		return SenderView{}, storeErr(err, "sender")
	}
	return viewSender(sn), nil
}

// ListSenders returns the tenant's senders.
func (s *Service) ListSenders(ctx context.Context, pr auth.Principal) ([]SenderView, error) {
	if err := authorize(pr, auth.SendersRead); err != nil {
		return nil, err
	}
	var ss []*store.Sender
	if err := s.store.Read(ctx, func(tx store.Tx) (err error) {
		ss, err = tx.ListSenders(ctx, pr.TenantID)
		return err
	}); err != nil {
		return nil, storeErr(err, "sender")
	}
	out := make([]SenderView, 0, len(ss))
	for _, sn := range ss {
		out = append(out, viewSender(sn))
	}
	return out, nil
}

// GetSender returns one sender.
func (s *Service) GetSender(ctx context.Context, pr auth.Principal, id string) (SenderView, error) {
	if err := authorize(pr, auth.SendersRead); err != nil {
		return SenderView{}, err
	}
	var sn *store.Sender
	if err := s.store.Read(ctx, func(tx store.Tx) (err error) {
		sn, err = tx.GetSender(ctx, pr.TenantID, id)
		return err
	}); err != nil {
		return SenderView{}, storeErr(err, "sender")
	}
	return viewSender(sn), nil
}

// RouteInbound finds the sender an inbound message was sent to, and with it
// the tenant. Positive answers are cached; an unknown address is looked up
// each time, so a sender registered on another node works at once.
func (s *Service) RouteInbound(ctx context.Context, ch consent.Channel, to string) (*store.Sender, error) {
	addr := s.routingAddress(ch, to)
	key := string(ch) + "|" + addr
	if c, ok := cacheGet(&s.inbound, s.inbound.senders, key); ok && s.now().Before(c.expires) {
		return c.s, nil
	}
	var sn *store.Sender
	err := s.store.Read(ctx, func(tx store.Tx) (err error) {
		sn, err = tx.FindSender(ctx, ch, addr)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, apperr.New(apperr.UnknownSender, "no sender is registered for this destination on channel %s", ch)
	}
	if err != nil {
		return nil, storeErr(err, "sender")
	}
	s.inbound.putSender(key, cachedSender{s: sn, expires: s.now().Add(inboundCacheTTL)})
	return sn, nil
}
