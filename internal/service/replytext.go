package service

import (
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/keywordflow"
	"github.com/consentgate/consentgate/internal/store"
)

// maxReplyBytes bounds a reply template: about four SMS segments.
const maxReplyBytes = 640

var replyKinds = []string{keywordflow.ReplyOptOut, keywordflow.ReplyOptIn, keywordflow.ReplyDoubleOptIn, keywordflow.ReplyHelp}

// placeholders are what a template may contain; each expands to a phrase in
// the reply's language, or to nothing when there is nothing to say.
var placeholders = []string{"{tenant}", "{purposes}", "{notice}", "{continuing}", "{stop}", "{window}", "{privacy}", "{dpo}", "{keyword}"}

var placeholderRE = regexp.MustCompile(`\{[a-z_]*\}`)

func unknownPlaceholders(body string) []string {
	var bad []string
	for _, p := range placeholderRE.FindAllString(body, -1) {
		if !slices.Contains(placeholders, p) && !slices.Contains(bad, p) {
			bad = append(bad, p)
		}
	}
	return bad
}

// replyLang is the built-in text of one language. Lists follow a colon
// where the language would otherwise need an article that agrees with the
// purpose's name.
type replyLang struct {
	optOut, optIn, doubleOptIn, help string
	continuing                       string // {list}
	stop                             string
	messages                         string // what is received when no purpose is named
	privacy, dpo                     string // labels
}

// builtinReplies holds the built-in texts. Each confirmation says how to
// stop; HELP says who sends, what, how to stop, and where the privacy notice
// and DPO are (DESIGN §6). Tenants override them per kind and language.
var builtinReplies = map[string]replyLang{
	"en": {
		optOut:      "{tenant}: You will no longer receive {purposes} here. {continuing}",
		optIn:       "{tenant}: You are subscribed to {purposes}. {notice} {stop}",
		doubleOptIn: "{tenant}: Reply YES within {window} hours to receive {purposes}. {notice} {stop}",
		help:        "{tenant}: You receive {purposes}. {stop} {privacy} {dpo}",
		continuing:  "You still receive {list}.", stop: "Reply STOP to opt out.", messages: "messages",
		privacy: "Privacy:", dpo: "DPO:",
	},
	"da": {
		optOut:      "{tenant}: Du modtager ikke længere {purposes} her. {continuing}",
		optIn:       "{tenant}: Du er tilmeldt {purposes}. {notice} {stop}",
		doubleOptIn: "{tenant}: Svar JA inden for {window} timer for at modtage {purposes}. {notice} {stop}",
		help:        "{tenant}: Du modtager {purposes}. {stop} {privacy} {dpo}",
		continuing:  "Du modtager stadig {list}.", stop: "Svar STOP for at afmelde.", messages: "beskeder",
		privacy: "Privatliv:", dpo: "DPO:",
	},
	"nb": {
		optOut:      "{tenant}: Du mottar ikke lenger {purposes} her. {continuing}",
		optIn:       "{tenant}: Du er påmeldt {purposes}. {notice} {stop}",
		doubleOptIn: "{tenant}: Svar JA innen {window} timer for å motta {purposes}. {notice} {stop}",
		help:        "{tenant}: Du mottar {purposes}. {stop} {privacy} {dpo}",
		continuing:  "Du mottar fortsatt {list}.", stop: "Svar STOPP for å melde deg av.", messages: "meldinger",
		privacy: "Personvern:", dpo: "Personvernombud:",
	},
	"sv": {
		optOut:      "{tenant}: Du får inte längre {purposes} här. {continuing}",
		optIn:       "{tenant}: Du prenumererar nu på {purposes}. {notice} {stop}",
		doubleOptIn: "{tenant}: Svara JA inom {window} timmar för att få {purposes}. {notice} {stop}",
		help:        "{tenant}: Du får {purposes}. {stop} {privacy} {dpo}",
		continuing:  "Du får fortfarande {list}.", stop: "Svara STOPP för att avsluta.", messages: "meddelanden",
		privacy: "Integritet:", dpo: "Dataskyddsombud:",
	},
	"de": {
		optOut:      "{tenant}: Sie erhalten hier nicht mehr: {purposes}. {continuing}",
		optIn:       "{tenant}: Sie haben abonniert: {purposes}. {notice} {stop}",
		doubleOptIn: "{tenant}: Antworten Sie innerhalb von {window} Stunden mit JA, um zu erhalten: {purposes}. {notice} {stop}",
		help:        "{tenant}: Sie erhalten: {purposes}. {stop} {privacy} {dpo}",
		continuing:  "Sie erhalten weiterhin: {list}.", stop: "Antworten Sie STOP zum Abmelden.", messages: "Nachrichten",
		privacy: "Datenschutz:", dpo: "DSB:",
	},
	"fr": {
		optOut:      "{tenant} : vous ne recevrez plus ici : {purposes}. {continuing}",
		optIn:       "{tenant} : vous êtes inscrit à : {purposes}. {notice} {stop}",
		doubleOptIn: "{tenant} : répondez OUI sous {window} heures pour recevoir : {purposes}. {notice} {stop}",
		help:        "{tenant} : vous recevez : {purposes}. {stop} {privacy} {dpo}",
		continuing:  "Vous recevez toujours : {list}.", stop: "Répondez STOP pour vous désabonner.", messages: "messages",
		privacy: "Confidentialité :", dpo: "DPO :",
	},
	"es": {
		optOut:      "{tenant}: ya no recibirás aquí: {purposes}. {continuing}",
		optIn:       "{tenant}: te has suscrito a: {purposes}. {notice} {stop}",
		doubleOptIn: "{tenant}: responde SÍ en {window} horas para recibir: {purposes}. {notice} {stop}",
		help:        "{tenant}: recibes: {purposes}. {stop} {privacy} {dpo}",
		continuing:  "Sigues recibiendo: {list}.", stop: "Responde BAJA para darte de baja.", messages: "mensajes",
		privacy: "Privacidad:", dpo: "DPD:",
	},
}

func (l replyLang) text(kind string) string {
	switch kind {
	case keywordflow.ReplyOptOut:
		return l.optOut
	case keywordflow.ReplyOptIn:
		return l.optIn
	case keywordflow.ReplyDoubleOptIn:
		return l.doubleOptIn
	}
	return l.help
}

// replyContext is what a reply may speak about.
type replyContext struct {
	kind       string
	lang       string // preferred language (ISO 639-1)
	tenant     string // controller name
	affected   []*consent.Purpose
	continuing []*consent.Purpose
	profile    *store.TenantProfile // nil when not set
	keyword    string
	window     int // hours
	overrides  []*store.ReplyTemplate
}

// renderReply returns the reply text and its language: the tenant's
// template for (kind, language) if any, else the built-in one, else English.
func renderReply(rc replyContext) (body, lang string) {
	lang = rc.lang
	l, ok := builtinReplies[lang]
	tmpl := ""
	for _, o := range rc.overrides {
		if o.Kind == rc.kind && o.Language == lang {
			tmpl = o.Body
		}
	}
	if tmpl == "" {
		if !ok {
			lang, l = "en", builtinReplies["en"]
			for _, o := range rc.overrides {
				if o.Kind == rc.kind && o.Language == lang {
					tmpl = o.Body
				}
			}
		}
		if tmpl == "" {
			tmpl = l.text(rc.kind)
		}
	}
	if !ok && lang != "en" {
		l = builtinReplies["en"] // an override in a language without built-ins: English fragments
	}
	names := purposeNames(rc.affected)
	if names == "" {
		names = l.messages
	}
	var notice []string
	for _, p := range rc.affected {
		if d := strings.TrimSpace(p.Description); d != "" {
			notice = append(notice, strings.TrimSuffix(d, ".")+".")
		}
	}
	continuing := ""
	if c := purposeNames(rc.continuing); c != "" {
		continuing = strings.ReplaceAll(l.continuing, "{list}", c)
	}
	privacy, dpo := "", ""
	if p := rc.profile; p != nil {
		if p.PrivacyNoticeURL != "" {
			privacy = l.privacy + " " + p.PrivacyNoticeURL
		}
		switch {
		case p.DPOName != "" && p.DPOEmail != "":
			dpo = l.dpo + " " + p.DPOName + ", " + p.DPOEmail
		case p.DPOEmail != "":
			dpo = l.dpo + " " + p.DPOEmail
		case p.DPOName != "":
			dpo = l.dpo + " " + p.DPOName
		}
	}
	r := strings.NewReplacer("{tenant}", rc.tenant, "{purposes}", names, "{notice}", strings.Join(notice, " "),
		"{continuing}", continuing, "{stop}", l.stop, "{window}", strconv.Itoa(rc.window), "{privacy}", privacy,
		"{dpo}", dpo, "{keyword}", rc.keyword)
	return strings.Join(strings.Fields(r.Replace(tmpl)), " "), lang
}

func purposeNames(ps []*consent.Purpose) string {
	names := make([]string, 0, len(ps))
	for _, p := range ps {
		n := p.Name
		if n == "" {
			n = p.Key
		}
		names = append(names, n)
	}
	return strings.Join(names, ", ")
}
