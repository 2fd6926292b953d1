package keyword

import "strings"

// Pack is the keyword vocabulary of one language. Packs are plain data so
// that operators can read them (docs/keywords.md lists every entry) and
// tenants can replace or extend them by passing their own to [New].
type Pack struct {
	// Language is the ISO 639-1 code reported for the pack's keywords.
	Language string
	// Keywords are the phrases that carry an intent.
	Keywords []Keyword
	// Fillers are words that may surround a keyword without changing its
	// meaning: politeness, greetings, pronouns, "now", the names of what is
	// sent. The classifier accepts the fillers of all its packs in any
	// message, because people mix languages ("stop bitte").
	Fillers []string
	// Widening words mean "all": with an opt-out they widen it to every
	// purpose of the tenant.
	Widening []string
	// Negations are listed so that tests can prove no filler list ever
	// contains one; in a message they cancel a keyword like any unknown
	// word does.
	Negations []string
}

// Keyword is one phrase of a [Pack] with what it means and where it comes
// from, so that every default can be traced to an operator, a regulator or
// a deliberate choice.
type Keyword struct {
	// Phrase is the canonical form, upper case with its diacritics
	// ("ARRÊT"); it is what [Result.Keyword] reports. Several words are
	// allowed ("NO MORE TEXTS").
	Phrase string
	Intent Intent
	Action Action
	// Scope is "sender", "all" or empty (help).
	Scope string
	// Source says why the keyword is in the pack.
	Source string
	// HintOnly keywords match only when the caller's language hint is the
	// pack's language, because the same word means something else in a
	// neighbouring language (Polish TAK "yes" is Danish tak "thanks").
	HintOnly bool
}

// Provenance of the default keywords, quoted in docs/keywords.md.
const (
	srcTwilio = "Twilio default keywords"
	srcAWS    = "AWS End User Messaging required opt-out keywords"
	srcCTIA   = "CTIA Messaging Principles and Best Practices"
	srcBrief  = "the brief (a Danish messaging provider's GDPR note)"
)

func src(parts ...string) string { return strings.Join(parts, "; ") }

func optOut(phrase, source string) Keyword {
	return Keyword{Phrase: phrase, Intent: IntentOptOut, Action: ActionStop, Scope: ScopeSender, Source: source}
}

func optOutAll(phrase, source string) Keyword {
	return Keyword{Phrase: phrase, Intent: IntentOptOut, Action: ActionStopAll, Scope: ScopeAll, Source: source}
}

func subscribe(phrase, source string) Keyword {
	return Keyword{Phrase: phrase, Intent: IntentOptIn, Action: ActionSubscribe, Scope: ScopeSender, Source: source}
}

func confirm(phrase, source string) Keyword {
	return Keyword{Phrase: phrase, Intent: IntentOptIn, Action: ActionConfirm, Scope: ScopeSender, Source: source}
}

func restart(phrase, source string) Keyword {
	return Keyword{Phrase: phrase, Intent: IntentOptIn, Action: ActionRestart, Scope: ScopeSender, Source: source}
}

func help(phrase, source string) Keyword {
	return Keyword{Phrase: phrase, Intent: IntentHelp, Action: ActionHelp, Source: source}
}

// DefaultPacks returns the built-in packs, a fresh copy on every call so a
// caller may edit it. They cover English, Danish, Norwegian Bokmål, Swedish,
// Finnish, German, Dutch, French, Spanish, Italian, Portuguese and Polish,
// in that order, which is also the order of preference when a shared
// keyword (STOP, JA) matches without a language hint.
func DefaultPacks() []Pack {
	return []Pack{
		packEN(), packDA(), packNB(), packSV(), packFI(), packDE(),
		packNL(), packFR(), packES(), packIT(), packPT(), packPL(),
	}
}

func packEN() Pack {
	c := "common usage in English, chosen by consentgate"
	return Pack{
		Language: "en",
		Keywords: []Keyword{
			optOut("STOP", src(srcTwilio, srcAWS, srcCTIA, srcBrief)),
			optOut("END", src(srcTwilio, srcAWS, srcCTIA, srcBrief)),
			optOut("QUIT", src(srcTwilio, srcAWS, srcCTIA)),
			optOut("CANCEL", src(srcTwilio, srcAWS, srcCTIA)),
			optOut("UNSUBSCRIBE", src(srcTwilio, srcAWS, srcCTIA)),
			optOut("REVOKE", srcTwilio),
			optOut("OPTOUT", src(srcTwilio, srcAWS)),
			optOut("OPT-OUT", srcAWS),
			optOut("REMOVE", srcAWS),
			optOut("TD", srcAWS),
			optOutAll("STOPALL", srcTwilio),
			optOutAll("STOP ALL", c),
			optOut("STOP TEXTING", c),
			optOut("STOP SENDING", c),
			optOut("STOP MESSAGING", c),
			optOut("STOP CONTACTING", c),
			optOut("STOP EMAILING", c),
			optOut("QUIT TEXTING", c),
			optOut("QUIT SENDING", c),
			optOut("QUIT MESSAGING", c),
			optOut("NOT INTERESTED", c),
			optOut("NO MORE TEXTS", c),
			optOut("NO MORE MESSAGES", c),
			optOut("NO MORE SMS", c),
			optOut("NO MORE EMAILS", c),
			optOut("NO MORE E-MAILS", c),
			optOut("TAKE ME OFF", c),
			optOut("OPT ME OUT", c),
			optOut("LEAVE ME ALONE", c),
			optOut("DO NOT TEXT", c),
			optOut("DON'T TEXT", c),
			optOut("DO NOT MESSAGE", c),
			optOut("DON'T MESSAGE", c),
			optOut("DO NOT CONTACT", c),
			optOut("DON'T CONTACT", c),
			optOut("DO NOT EMAIL", c),
			optOut("DON'T EMAIL", c),
			restart("START", src(srcTwilio, srcAWS)),
			restart("UNSTOP", src(srcTwilio, srcAWS)),
			confirm("YES", src(srcTwilio, srcBrief)),
			subscribe("SUBSCRIBE", srcBrief),
			subscribe("JOIN", srcCTIA+" (keyword opt-in example)"),
			subscribe("OPTIN", c),
			subscribe("OPT-IN", c),
			help("HELP", src(srcTwilio, srcAWS, srcCTIA)),
			help("INFO", srcTwilio),
		},
		Fillers: []string{
			"please", "pls", "plz", "now", "me", "my", "us", "it", "this", "these",
			"them", "your", "the", "from", "list", "number", "thanks", "thank",
			"you", "thx", "ty", "ok", "okay", "hi", "hello", "hey", "i", "want",
			"would", "like", "to", "id", "do", "just", "immediately", "asap",
			"right", "anymore", "texts", "text", "messages", "message", "msgs",
			"msg", "sms", "emails", "email", "mails", "mail", "newsletter",
			"newsletters", "marketing", "offers", "promotions", "notifications",
			"alerts", "and", "again", "said", "re", "fw", "fwd",
		},
		Widening: []string{"all", "everything"},
		Negations: []string{
			"don't", "not", "never", "no", "nope", "can't", "cannot", "won't",
			"doesn't", "didn't", "shouldn't", "isn't", "aren't",
		},
	}
}

func packDA() Pack {
	c := "common usage in Danish, chosen by consentgate"
	return Pack{
		Language: "da",
		Keywords: []Keyword{
			optOut("STOP", srcBrief),
			optOut("NEJ", srcBrief),
			optOut("AFMELD", c),
			optOut("FRAMELD", c),
			optOutAll("STOP ALT", c),
			optOut("INGEN FLERE SMS", c),
			optOut("INGEN FLERE BESKEDER", c),
			optOut("IKKE INTERESSERET", c),
			confirm("JA", c),
			restart("START", c),
			subscribe("TILMELD", c),
			help("HJÆLP", c),
			help("INFO", c),
		},
		Fillers: []string{
			"venligst", "tak", "mange", "tusind", "mig", "os", "nu", "hej",
			"bare", "gerne", "jeg", "vil", "fra", "jer", "listen", "beskeder",
			"besked", "sms", "mails", "mail", "nyhedsbrev", "nyhedsbreve",
			"tilbud", "det", "straks",
		},
		Widening:  []string{"alt", "alle"},
		Negations: []string{"ikke", "aldrig", "ej", "ingen"},
	}
}

func packNB() Pack {
	c := "common usage in Norwegian, chosen by consentgate"
	return Pack{
		Language: "nb",
		Keywords: []Keyword{
			optOut("STOPP", c),
			optOut("STOP", c),
			optOut("AVSLUTT", c),
			optOut("AVMELD", c),
			optOut("MELD AV", c),
			optOut("MELD MEG AV", c),
			optOut("IKKE INTERESSERT", c),
			optOutAll("STOPP ALT", c),
			optOutAll("STOPP ALLE", c),
			confirm("JA", c),
			restart("START", c),
			subscribe("MELD PÅ", c),
			subscribe("MELD MEG PÅ", c),
			subscribe("ABONNER", c),
			help("HJELP", c),
			help("INFO", c),
		},
		Fillers: []string{
			"takk", "tusen", "vennligst", "meg", "oss", "nå", "hei", "bare",
			"gjerne", "jeg", "vil", "fra", "dere", "lista", "meldinger",
			"melding", "sms", "epost", "nyhetsbrev", "tilbud", "det", "straks",
		},
		Widening:  []string{"alt", "alle"},
		Negations: []string{"ikke", "ikkje", "aldri", "nei", "ingen"},
	}
}

func packSV() Pack {
	c := "common usage in Swedish, chosen by consentgate"
	return Pack{
		Language: "sv",
		Keywords: []Keyword{
			optOut("STOPP", c),
			optOut("STOP", c),
			optOut("STOPPA", c),
			optOut("AVSLUTA", c),
			optOut("AVREGISTRERA", c),
			optOut("INTE INTRESSERAD", c),
			optOut("NEJ", "common usage in Swedish, chosen by consentgate (the brief's Danish NEJ)"),
			optOutAll("STOPPA ALLT", c),
			optOutAll("STOPP ALLT", c),
			confirm("JA", c),
			restart("START", c),
			subscribe("PRENUMERERA", c),
			help("HJÄLP", c),
			help("INFO", c),
		},
		Fillers: []string{
			"tack", "tusen", "snälla", "vänligen", "mig", "oss", "nu", "hej",
			"bara", "gärna", "jag", "vill", "från", "er", "listan",
			"meddelanden", "meddelande", "sms", "mejl", "nyhetsbrev",
			"erbjudanden", "det", "direkt",
		},
		Widening:  []string{"allt", "alla"},
		Negations: []string{"inte", "icke", "aldrig", "ej", "ingen"},
	}
}

func packFI() Pack {
	c := "common usage in Finnish, chosen by consentgate"
	return Pack{
		Language: "fi",
		Keywords: []Keyword{
			optOut("LOPETA", c),
			optOut("STOP", c),
			optOut("PERU", c),
			optOut("POISTA", c),
			optOut("EI KIINNOSTA", c),
			optOutAll("LOPETA KAIKKI", c),
			confirm("KYLLÄ", c),
			confirm("JOO", c),
			restart("ALOITA", c),
			subscribe("TILAA", c),
			help("APUA", c),
			help("OHJE", c),
			help("INFO", c),
		},
		Fillers: []string{
			"kiitos", "kiitti", "heti", "nyt", "minut", "moi", "hei", "viestit",
			"viestejä", "tekstiviestit", "sms", "uutiskirje", "listalta",
		},
		Widening:  []string{"kaikki"},
		Negations: []string{"ei", "älä", "en", "et", "emme", "ette", "eivät"},
	}
}
