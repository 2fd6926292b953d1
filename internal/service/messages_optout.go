package service

import (
	"context"
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"errors"
	"regexp"
	"strings"

	"github.com/consentgate/consentgate/internal/apperr"
	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/oklog/ulid/v2"
	"golang.org/x/text/language"
)

// optOutLine is the opt-out instruction appended to marketing messages on
// channels people reply to, per language. The keyword in each is one the
// keyword engine's pack for that language reads as an opt-out (a test holds
// them to it), so following the instruction always works.
var optOutLine = map[string]string{
	"en": "Reply STOP to opt out",
	"da": "Svar STOP for at afmelde",
	"nb": "Svar STOPP for å melde deg av",
	"sv": "Svara STOPP för att avregistrera dig",
	"fi": "Lopeta viestit vastaamalla STOP",
	"de": "Antworte STOP zum Abmelden",
	"nl": "Antwoord STOP om je af te melden",
	"fr": "Répondez STOP pour vous désabonner",
	"es": "Responde STOP para darte de baja",
	"it": "Rispondi STOP per annullare l'iscrizione",
	"pt": "Responda STOP para cancelar",
	"pl": "Odpowiedz STOP, aby zrezygnować",
}

// unsubscribeLine introduces the one-click link in a marketing e-mail.
var unsubscribeLine = map[string]string{
	"en": "Unsubscribe", "da": "Afmeld", "nb": "Meld deg av", "sv": "Avregistrera dig", "fi": "Peru tilaus",
	"de": "Abmelden", "nl": "Afmelden", "fr": "Se désabonner", "es": "Darse de baja", "it": "Annulla iscrizione",
	"pt": "Cancelar inscrição", "pl": "Wypisz się",
}

// OptOutLanguages lists the languages the opt-out instruction exists in.
func OptOutLanguages() []string {
	out := make([]string, 0, len(optOutLine))
	for l := range optOutLine {
		out = append(out, l)
	}
	return out
}

// OptOutLine returns the opt-out instruction for a language (English when
// the language has none).
func OptOutLine(lang string) string {
	if l, ok := optOutLine[lang]; ok {
		return l
	}
	return optOutLine["en"]
}

// langOf returns the base language of a BCP 47 locale ("da-DK" → "da"),
// mapping Norwegian "no" and "nn" onto Bokmål, which the texts are in.
func langOf(locale string) string {
	tag, err := language.Parse(locale)
	if err != nil {
		return "en"
	}
	base, _ := tag.Base()
	switch l := base.String(); l {
	case "no", "nn":
		return "nb"
	default:
		return l
	}
}

// hasStopWord matches an opt-out instruction a tenant wrote themselves: the
// keyword in capitals, as operators' rules print it.
var hasStopWord = regexp.MustCompile(`\b(STOP|STOPP|STOPPA|SLUTA|AFMELD|AVSLUTA|ARRET|ARRÊT|BAJA|UNSUBSCRIBE)\b`)

// withOptOut returns the text as it will be sent and the e-mail headers it
// needs. Marketing messages carry the opt-out instruction in the
// recipient's language (DESIGN §5.5); marketing e-mail also gets a signed
// one-click link and the RFC 8058 List-Unsubscribe headers. Other purposes
// are sent as written.
func (s *Service) withOptOut(tk *tenantKeys, m *store.Message, p *consent.Purpose, body, locale string) (string, map[string]string) {
	if p.Category != consent.Marketing {
		return body, nil
	}
	lang := langOf(locale)
	if m.Channel == consent.Email {
		link := s.unsubscribeURL(tk, m.TenantID, m.ID)
		if link == "" {
			return body, nil
		}
		label, ok := unsubscribeLine[lang]
		if !ok {
			label = unsubscribeLine["en"]
		}
		return body + "\n\n-- \n" + label + ": " + link + "\n", map[string]string{
			"List-Unsubscribe":      "<" + link + ">",
			"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		}
	}
	if hasStopWord.MatchString(body) {
		return body, nil
	}
	return strings.TrimRight(body, " \n") + "\n" + OptOutLine(lang), nil
}

// unsubscribeToken names a message and proves the gateway made the link:
// tenant id, message id and a MAC with the tenant's index key. It holds no
// personal data, only pseudonymous ids, and works for as long as the
// message's metadata is kept.
func unsubscribeToken(tk *tenantKeys, tenantID, messageID string) string {
	mac := tk.chain.Base().Sum("unsubscribe-link", tenantID+"|"+messageID)
	return tenantID + "." + messageID + "." + base64.RawURLEncoding.EncodeToString(mac[:16])
}

func (s *Service) unsubscribeURL(tk *tenantKeys, tenantID, messageID string) string {
	if s.sending == nil || s.sending.cfg.PublicURL == "" {
		return ""
	}
	return strings.TrimSuffix(s.sending.cfg.PublicURL, "/") + "/v1/unsubscribe/" + unsubscribeToken(tk, tenantID, messageID)
}

// Unsubscription is what a one-click link stands for, as its confirmation
// page shows it: never the address.
type Unsubscription struct {
	Purpose     string          `json:"purpose"`
	PurposeName string          `json:"purpose_name"`
	Channel     consent.Channel `json:"channel"`
	Done        bool            `json:"done"` // already withdrawn
}

var errBadLink = apperr.New(apperr.NotFound, "this unsubscribe link is not valid")

// openUnsubscribe checks a token and returns the message it names.
func (s *Service) openUnsubscribe(ctx context.Context, token string) (*store.Message, *consent.Purpose, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, nil, errBadLink
	}
	if _, err := ulid.ParseStrict(parts[0]); err != nil {
		return nil, nil, errBadLink
	}
	tk, err := s.tenantKeys(ctx, parts[0])
	if apperr.CodeOf(err) == apperr.NotFound {
		return nil, nil, errBadLink
	} else if err != nil {
		return nil, nil, err
	}
	if !hmac.Equal([]byte(unsubscribeToken(tk, parts[0], parts[1])), []byte(token)) {
		return nil, nil, errBadLink
	}
	var m *store.Message
	if err := s.store.Read(ctx, func(tx store.Tx) (err error) {
		m, err = tx.GetMessage(ctx, parts[0], parts[1])
		return err
	}); errors.Is(err, store.ErrNotFound) {
		return nil, nil, errBadLink
	} else if err != nil {
		return nil, nil, storeErr(err, "message")
	}
	p := s.index.Purpose(m.TenantID, m.Purpose)
	if p == nil || m.ContactID == "" {
		return nil, nil, errBadLink
	}
	return m, p, nil
}

// CheckUnsubscribe answers the GET of a one-click link: what the link
// would stop. It changes nothing, because mail scanners follow links.
func (s *Service) CheckUnsubscribe(ctx context.Context, token string) (Unsubscription, error) {
	m, p, err := s.openUnsubscribe(ctx, token)
	if err != nil {
		return Unsubscription{}, err
	}
	return Unsubscription{Purpose: p.Key, PurposeName: p.Name, Channel: m.Channel, Done: s.withdrawn(m)}, nil
}

func (s *Service) withdrawn(m *store.Message) bool {
	id, err := ulid.ParseStrict(m.ContactID)
	if err != nil {
		return false
	}
	d := s.index.DecideContact(m.TenantID, id, m.Purpose, m.Channel, s.now())
	return d.Reason == consent.ReasonConsentWithdrawn || d.Reason == consent.ReasonObjected
}

// Unsubscribe is the RFC 8058 one-click POST: it withdraws consent for the
// message's purpose on its channel through the ordinary consent path (so
// the event is sealed, ledgered and in the decision index before the
// answer), with the message id as evidence. A second click changes nothing.
func (s *Service) Unsubscribe(ctx context.Context, token string) (Unsubscription, error) {
	m, p, err := s.openUnsubscribe(ctx, token)
	if err != nil {
		return Unsubscription{}, err
	}
	u := Unsubscription{Purpose: p.Key, PurposeName: p.Name, Channel: m.Channel, Done: true}
	if s.withdrawn(m) {
		return u, nil
	}
	ev, _ := json.Marshal(map[string]string{"message_id": m.ID, "method": "rfc8058_one_click"})
	// The person acts through the link the gateway signed; the support role
	// carries exactly the consent write this needs and nothing of sending.
	pr := auth.Principal{TenantID: m.TenantID, KeyID: "one-click-unsubscribe", Role: auth.Support}
	status := consent.StatusWithdrawn
	if p.Basis == consent.BasisLegitimateInterest {
		status = consent.StatusObjected // Art. 21(2): objection to direct marketing
	}
	_, err = s.SetConsent(ctx, pr, m.ContactID, m.Purpose, string(m.Channel),
		ConsentInput{Status: status, Source: "one-click", Evidence: ev})
	if err != nil {
		return Unsubscription{}, err
	}
	s.log.InfoContext(ctx, "one-click unsubscribe", "tenant", m.TenantID, "message", m.ID, "purpose", m.Purpose)
	return u, nil
}
