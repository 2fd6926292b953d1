package keyword

import (
	"strings"
	"testing"
)

// classifyCases pairs a message and a language hint with the expected
// result, written "intent/action/scope/language/KEYWORD" or "none".
var classifyCases = []struct {
	text, hint, want string
}{
	// English: the carriers' keywords, alone and in any dress.
	{"STOP", "", "opt_out/stop/sender/en/STOP"},
	{"stop", "", "opt_out/stop/sender/en/STOP"},
	{"Stop", "en", "opt_out/stop/sender/en/STOP"},
	{"Stop!!!", "", "opt_out/stop/sender/en/STOP"},
	{"STOP.", "", "opt_out/stop/sender/en/STOP"},
	{"  stop  ", "", "opt_out/stop/sender/en/STOP"},
	{"\tSTOP\r\n", "", "opt_out/stop/sender/en/STOP"},
	{"STOP 🙏", "", "opt_out/stop/sender/en/STOP"},
	{"🛑 stop 🛑", "", "opt_out/stop/sender/en/STOP"},
	{"\"stop\"", "", "opt_out/stop/sender/en/STOP"},
	{"‘stop’", "", "opt_out/stop/sender/en/STOP"},
	{"ＳＴＯＰ", "", "opt_out/stop/sender/en/STOP"},
	{"Ｓ Ｔ Ｏ Ｐ", "", "none"},
	{"S\u200bTOP", "", "opt_out/stop/sender/en/STOP"},
	{"\ufeffSTOP", "", "opt_out/stop/sender/en/STOP"},
	{"sto\u00adp", "", "opt_out/stop/sender/en/STOP"},
	{"stooooop", "", "opt_out/stop/sender/en/STOP"},
	{"STOP STOP STOP", "", "opt_out/stop/sender/en/STOP"},
	{"stop please", "", "opt_out/stop/sender/en/STOP"},
	{"please stop", "", "opt_out/stop/sender/en/STOP"},
	{"Stop please!!", "", "opt_out/stop/sender/en/STOP"},
	{"stop now", "", "opt_out/stop/sender/en/STOP"},
	{"Stop it", "", "opt_out/stop/sender/en/STOP"},
	{"ok stop", "", "opt_out/stop/sender/en/STOP"},
	{"ok stop, thank you", "", "opt_out/stop/sender/en/STOP"},
	{"stop, thank you", "", "opt_out/stop/sender/en/STOP"},
	{"STOP?", "", "opt_out/stop/sender/en/STOP"},
	{"END", "", "opt_out/stop/sender/en/END"},
	{"end.", "", "opt_out/stop/sender/en/END"},
	{"QUIT", "", "opt_out/stop/sender/en/QUIT"},
	{"I quit", "", "opt_out/stop/sender/en/QUIT"},
	{"CANCEL", "", "opt_out/stop/sender/en/CANCEL"},
	{"Cancel?", "", "opt_out/stop/sender/en/CANCEL"},
	{"UNSUBSCRIBE", "", "opt_out/stop/sender/en/UNSUBSCRIBE"},
	{"unsubscribe me", "", "opt_out/stop/sender/en/UNSUBSCRIBE"},
	{"Unsubscribe me from this list please", "", "opt_out/stop/sender/en/UNSUBSCRIBE"},
	{"I want to unsubscribe", "", "opt_out/stop/sender/en/UNSUBSCRIBE"},
	{"I'd like to unsubscribe, thanks", "", "opt_out/stop/sender/en/UNSUBSCRIBE"},
	{"REVOKE", "", "opt_out/stop/sender/en/REVOKE"},
	{"OPTOUT", "", "opt_out/stop/sender/en/OPTOUT"},
	{"OPT-OUT", "", "opt_out/stop/sender/en/OPT-OUT"},
	{"opt out", "", "opt_out/stop/sender/en/OPT-OUT"},
	{"opt me out", "", "opt_out/stop/sender/en/OPT ME OUT"},
	{"REMOVE", "", "opt_out/stop/sender/en/REMOVE"},
	{"remove me", "", "opt_out/stop/sender/en/REMOVE"},
	{"Please remove my number", "", "opt_out/stop/sender/en/REMOVE"},
	{"TD", "", "opt_out/stop/sender/en/TD"},
	{"STOPALL", "", "opt_out/stop_all/all/en/STOPALL"},
	{"stop all", "", "opt_out/stop_all/all/en/STOP ALL"},
	{"STOP ALL MESSAGES", "", "opt_out/stop_all/all/en/STOP ALL"},
	{"unsubscribe all", "", "opt_out/stop_all/all/en/UNSUBSCRIBE"},
	{"stop everything please", "", "opt_out/stop_all/all/en/STOP"},
	{"no more texts", "", "opt_out/stop/sender/en/NO MORE TEXTS"},
	{"No more messages!", "", "opt_out/stop/sender/en/NO MORE MESSAGES"},
	{"no more e-mails", "", "opt_out/stop/sender/en/NO MORE E-MAILS"},
	{"stop texting me", "", "opt_out/stop/sender/en/STOP TEXTING"},
	{"stop sending", "", "opt_out/stop/sender/en/STOP SENDING"},
	{"Please stop sending me these messages, thank you", "", "opt_out/stop/sender/en/STOP SENDING"},
	{"take me off your list", "", "opt_out/stop/sender/en/TAKE ME OFF"},
	{"leave me alone", "", "opt_out/stop/sender/en/LEAVE ME ALONE"},
	{"Quit texting me", "", "opt_out/stop/sender/en/QUIT TEXTING"},
	{"I said stop", "", "opt_out/stop/sender/en/STOP"},
	{"STOP and don't text again", "", "opt_out/stop/sender/en/STOP"},
	{"not interested, thanks", "", "opt_out/stop/sender/en/NOT INTERESTED"},
	{"Don't text me anymore", "", "opt_out/stop/sender/en/DON'T TEXT"},
	{"do not contact me", "", "opt_out/stop/sender/en/DO NOT CONTACT"},
	{"Re: unsubscribe", "", "opt_out/stop/sender/en/UNSUBSCRIBE"},
	{"START", "", "opt_in/restart/sender/en/START"},
	{"unstop", "", "opt_in/restart/sender/en/UNSTOP"},
	{"YES", "", "opt_in/confirm/sender/en/YES"},
	{"Yes please", "", "opt_in/confirm/sender/en/YES"},
	{"yes!", "", "opt_in/confirm/sender/en/YES"},
	{"SUBSCRIBE", "", "opt_in/subscribe/sender/en/SUBSCRIBE"},
	{"join", "", "opt_in/subscribe/sender/en/JOIN"},
	{"opt-in", "", "opt_in/subscribe/sender/en/OPT-IN"},
	{"HELP", "", "help/help//en/HELP"},
	{"help me", "", "help/help//en/HELP"},
	{"Help?", "", "help/help//en/HELP"},
	{"INFO", "", "help/help//en/INFO"},
	{"info please", "", "help/help//en/INFO"},
	// English look-alikes that must stay conversation.
	{"Where is the bus stop?", "", "none"},
	{"bus stop", "", "none"},
	{"Don't stop!", "", "none"},
	{"don't stop", "", "none"},
	{"do not stop", "", "none"},
	{"never stop", "", "none"},
	{"Can I cancel my order?", "", "none"},
	{"cancel my order", "", "none"},
	{"I want to end my subscription to the gym?", "", "none"},
	{"stop by tomorrow", "", "none"},
	{"stopping", "", "none"},
	{"unstoppable", "", "none"},
	{"the weekend", "", "none"},
	{"Yes?", "", "none"},
	{"yes I'd like to join?", "", "none"},
	{"stop now?", "", "none"},
	{"help all", "", "none"},
	{"yes all", "", "none"},
	{"no", "", "none"},
	{"ok", "", "none"},
	{"thanks", "", "none"},
	{"", "", "none"},
	{"   ", "", "none"},
	{"🙏", "", "none"},
	{"???", "", "none"},
	{"STOP 2", "", "none"},
	{"Can you help me with my booking", "", "none"},
	{"please please please please please please please please please please stop", "", "none"},
	{"I can't stop laughing", "", "none"},
	{"not interested in the blue one", "", "none"},
	{"Stop and go", "", "none"},
	{"start the engine", "", "none"},
	// Several keywords: the cheapest mistake wins.
	{"Yes, stop", "", "opt_out/stop/sender/en/STOP"},
	{"help stop", "", "opt_out/stop/sender/en/STOP"},
	{"yes help", "", "help/help//en/HELP"},
	{"stop stopall", "", "opt_out/stop_all/all/en/STOPALL"},
	// Danish.
	{"STOP", "da", "opt_out/stop/sender/da/STOP"},
	{"NEJ", "", "opt_out/stop/sender/da/NEJ"},
	{"Nej tak", "", "opt_out/stop/sender/da/NEJ"},
	{"nej tak.", "da", "opt_out/stop/sender/da/NEJ"},
	{"Nej, tak!", "", "opt_out/stop/sender/da/NEJ"},
	{"nej mange tak", "", "opt_out/stop/sender/da/NEJ"},
	{"AFMELD", "", "opt_out/stop/sender/da/AFMELD"},
	{"afmeld mig", "", "opt_out/stop/sender/da/AFMELD"},
	{"Afmeld mig venligst", "da", "opt_out/stop/sender/da/AFMELD"},
	{"frameld nyhedsbrev", "", "opt_out/stop/sender/da/FRAMELD"},
	{"stop alt", "", "opt_out/stop_all/all/da/STOP ALT"},
	{"ingen flere sms", "", "opt_out/stop/sender/da/INGEN FLERE SMS"},
	{"Nej tak, ikke interesseret", "", "opt_out/stop/sender/da/NEJ"},
	{"JA", "da", "opt_in/confirm/sender/da/JA"},
	{"ja tak", "da", "opt_in/confirm/sender/da/JA"},
	{"Tilmeld", "", "opt_in/subscribe/sender/da/TILMELD"},
	{"HJÆLP", "", "help/help//da/HJÆLP"},
	{"hjaelp", "da", "help/help//da/HJÆLP"},
	{"tak", "da", "none"},
	{"Tak for sidst", "da", "none"},
	{"nej, jeg vil ikke stoppe", "da", "none"},
	{"Nej det passer ikke", "da", "none"},
	{"Jeg kommer nej ikke i morgen", "da", "none"},
	{"ikke stop", "da", "none"},
	// Norwegian.
	{"STOPP", "", "opt_out/stop/sender/nb/STOPP"},
	{"stopp takk", "", "opt_out/stop/sender/nb/STOPP"},
	{"Stopp, takk!", "nb", "opt_out/stop/sender/nb/STOPP"},
	{"STOP", "nb-NO", "opt_out/stop/sender/nb/STOP"},
	{"STOP", "no", "opt_out/stop/sender/nb/STOP"},
	{"avslutt", "", "opt_out/stop/sender/nb/AVSLUTT"},
	{"meld meg av", "", "opt_out/stop/sender/nb/MELD MEG AV"},
	{"meld meg på", "", "opt_in/subscribe/sender/nb/MELD MEG PÅ"},
	{"meld av", "", "opt_out/stop/sender/nb/MELD AV"},
	{"stopp alt", "", "opt_out/stop_all/all/nb/STOPP ALT"},
	{"JA", "nb", "opt_in/confirm/sender/nb/JA"},
	{"meld på", "", "opt_in/subscribe/sender/nb/MELD PÅ"},
	{"HJELP", "", "help/help//nb/HJELP"},
	{"ikke stopp", "nb", "none"},
	// Swedish.
	{"STOPP", "sv", "opt_out/stop/sender/sv/STOPP"},
	{"avsluta", "", "opt_out/stop/sender/sv/AVSLUTA"},
	{"NEJ", "sv", "opt_out/stop/sender/sv/NEJ"},
	{"nej tack", "sv", "opt_out/stop/sender/sv/NEJ"},
	{"Stoppa allt", "", "opt_out/stop_all/all/sv/STOPPA ALLT"},
	{"JA", "sv", "opt_in/confirm/sender/sv/JA"},
	{"ja tack", "sv", "opt_in/confirm/sender/sv/JA"},
	{"HJÄLP", "", "help/help//sv/HJÄLP"},
	{"hjälp", "sv", "help/help//sv/HJÄLP"},
	{"sluta inte", "sv", "none"},
	// Finnish.
	{"LOPETA", "", "opt_out/stop/sender/fi/LOPETA"},
	{"Lopeta kiitos", "", "opt_out/stop/sender/fi/LOPETA"},
	{"lopeta kaikki", "", "opt_out/stop_all/all/fi/LOPETA KAIKKI"},
	{"KYLLÄ", "", "opt_in/confirm/sender/fi/KYLLÄ"},
	{"kylla", "", "opt_in/confirm/sender/fi/KYLLÄ"},
	{"joo", "", "opt_in/confirm/sender/fi/JOO"},
	{"APUA", "", "help/help//fi/APUA"},
	{"älä lopeta", "fi", "none"},
	{"ei kiitos", "fi", "none"},
	// German.
	{"STOPP", "de", "opt_out/stop/sender/de/STOPP"},
	{"ABMELDEN", "", "opt_out/stop/sender/de/ABMELDEN"},
	{"bitte abmelden", "", "opt_out/stop/sender/de/ABMELDEN"},
	{"Abmelden bitte, danke schön", "", "opt_out/stop/sender/de/ABMELDEN"},
	{"abbestellen", "", "opt_out/stop/sender/de/ABBESTELLEN"},
	{"Bitte melde mich ab", "", "opt_out/stop/sender/de/MELDE MICH AB"},
	{"keine SMS mehr", "", "opt_out/stop/sender/de/KEINE SMS MEHR"},
	{"stopp alle", "de", "opt_out/stop_all/all/de/STOPP ALLE"},
	{"JA", "de-AT", "opt_in/confirm/sender/de/JA"},
	{"HILFE", "", "help/help//de/HILFE"},
	{"nicht abmelden", "de", "none"},
	{"nein danke", "de", "none"},
	{"Wo ist die Haltestelle?", "de", "none"},
	// Dutch.
	{"AFMELDEN", "", "opt_out/stop/sender/nl/AFMELDEN"},
	{"afmelden aub", "", "opt_out/stop/sender/nl/AFMELDEN"},
	{"uitschrijven", "", "opt_out/stop/sender/nl/UITSCHRIJVEN"},
	{"meld mij af", "", "opt_out/stop/sender/nl/MELD MIJ AF"},
	{"STOP", "nl", "opt_out/stop/sender/nl/STOP"},
	{"JA", "nl", "opt_in/confirm/sender/nl/JA"},
	{"HULP", "", "help/help//nl/HULP"},
	{"HELP", "nl", "help/help//nl/HELP"},
	{"niet stoppen", "nl", "none"},
	// French.
	{"ARRÊT", "", "opt_out/stop/sender/fr/ARRÊT"},
	{"ARRET", "", "opt_out/stop/sender/fr/ARRÊT"},
	{"arrête", "", "opt_out/stop/sender/fr/ARRÊTE"},
	{"Arrêtez svp", "", "opt_out/stop/sender/fr/ARRÊTEZ"},
	{"STOP", "fr", "opt_out/stop/sender/fr/STOP"},
	{"stop merci", "fr", "opt_out/stop/sender/fr/STOP"},
	{"désabonner s'il vous plaît", "", "opt_out/stop/sender/fr/DÉSABONNER"},
	{"plus de sms", "", "opt_out/stop/sender/fr/PLUS DE SMS"},
	{"stop tout", "", "opt_out/stop_all/all/fr/STOP TOUT"},
	{"OUI", "", "opt_in/confirm/sender/fr/OUI"},
	{"oui merci", "", "opt_in/confirm/sender/fr/OUI"},
	{"AIDE", "", "help/help//fr/AIDE"},
	{"n'arrêtez pas", "fr", "none"},
	{"non merci", "fr", "none"},
	{"ne pas arrêter", "fr", "none"},
	// Spanish.
	{"BAJA", "", "opt_out/stop/sender/es/BAJA"},
	{"baja por favor", "", "opt_out/stop/sender/es/BAJA"},
	{"dar de baja", "", "opt_out/stop/sender/es/DAR DE BAJA"},
	{"PARAR", "", "opt_out/stop/sender/es/PARAR"},
	{"no más mensajes", "", "opt_out/stop/sender/es/NO MÁS MENSAJES"},
	{"¿baja?", "", "opt_out/stop/sender/es/BAJA"},
	{"baja todo", "", "opt_out/stop_all/all/es/BAJA TODO"},
	{"SÍ", "", "opt_in/confirm/sender/es/SÍ"},
	{"Si", "es", "opt_in/confirm/sender/es/SÍ"},
	{"sí, gracias", "", "opt_in/confirm/sender/es/SÍ"},
	{"¿sí?", "", "none"},
	{"AYUDA", "", "help/help//es/AYUDA"},
	{"no parar", "es", "none"},
	{"no me interesa, gracias", "es", "opt_out/stop/sender/es/NO ME INTERESA"},
	{"no", "es", "none"},
	// Italian.
	{"DISISCRIVI", "", "opt_out/stop/sender/it/DISISCRIVI"},
	{"disiscrivimi per favore", "", "opt_out/stop/sender/it/DISISCRIVIMI"},
	{"STOP", "it", "opt_out/stop/sender/it/STOP"},
	{"basta", "", "opt_out/stop/sender/it/BASTA"},
	{"SÌ", "it", "opt_in/confirm/sender/it/SÌ"},
	{"si", "it", "opt_in/confirm/sender/it/SÌ"},
	{"AIUTO", "", "help/help//it/AIUTO"},
	{"non disiscrivere", "it", "none"},
	// Portuguese.
	{"PARAR", "pt", "opt_out/stop/sender/pt/PARAR"},
	{"SAIR", "", "opt_out/stop/sender/pt/SAIR"},
	{"parar já", "pt", "opt_out/stop/sender/pt/PARAR"},
	{"cancelar", "pt-BR", "opt_out/stop/sender/pt/CANCELAR"},
	{"descadastrar", "", "opt_out/stop/sender/pt/DESCADASTRAR"},
	{"SIM", "", "opt_in/confirm/sender/pt/SIM"},
	{"sim, obrigado", "", "opt_in/confirm/sender/pt/SIM"},
	{"AJUDA", "", "help/help//pt/AJUDA"},
	{"não parar", "pt", "none"},
	// Polish.
	{"WYPISZ", "", "opt_out/stop/sender/pl/WYPISZ"},
	{"wypisz mnie proszę", "", "opt_out/stop/sender/pl/WYPISZ"},
	{"rezygnuje", "", "opt_out/stop/sender/pl/REZYGNUJĘ"},
	{"STOP", "pl", "opt_out/stop/sender/pl/STOP"},
	{"TAK", "pl", "opt_in/confirm/sender/pl/TAK"},
	{"tak, proszę", "pl-PL", "opt_in/confirm/sender/pl/TAK"},
	{"TAK", "", "none"},
	{"Nej tak", "pl", "opt_out/stop/sender/da/NEJ"},
	{"POMOC", "", "help/help//pl/POMOC"},
	{"nie wypisuj", "pl", "none"},
	{"nie", "pl", "none"},
	// Mixed languages and odd hints.
	{"stop bitte", "", "opt_out/stop/sender/en/STOP"},
	{"STOP", "xx", "opt_out/stop/sender/en/STOP"},
	{"STOP", "english", "opt_out/stop/sender/en/STOP"},
	{"JA", "", "opt_in/confirm/sender/da/JA"},
	{"INFO", "fi", "help/help//fi/INFO"},
}

func TestClassify(t *testing.T) {
	c := Default()
	for _, tc := range classifyCases {
		got := format(c.Classify(tc.text, tc.hint))
		if got != tc.want {
			t.Errorf("Classify(%q, %q) = %s, want %s", tc.text, tc.hint, got, tc.want)
		}
	}
}

func TestClassifyCaseCount(t *testing.T) {
	if n := len(classifyCases); n < 150 {
		t.Fatalf("only %d table cases; the issue asks for at least 150", n)
	}
}

func format(r Result) string {
	if r.Intent == IntentNone {
		if r != noneResult {
			return "none with fields " + strings.Join([]string{string(r.Action), r.Scope, r.Language, r.Keyword}, "/")
		}
		return "none"
	}
	return strings.Join([]string{string(r.Intent), string(r.Action), r.Scope, r.Language, r.Keyword}, "/")
}

// TestClassifyTruncates checks that only MaxInputBytes are read, so that a
// huge message costs no more than a short one.
func TestClassifyTruncates(t *testing.T) {
	c := Default()
	long := "STOP" + strings.Repeat(" ", 2*MaxInputBytes) + "by tomorrow"
	if got := c.Classify(long, ""); got.Intent != IntentOptOut {
		t.Errorf("padded STOP = %+v, want opt_out", got)
	}
	words := strings.Repeat("stop ", 200)
	if got := c.Classify(words, ""); got.Intent != IntentNone {
		t.Errorf("200 words = %+v, want none", got)
	}
}

func TestClassifyAllocatesNothing(t *testing.T) {
	c := Default()
	inputs := []string{"STOP", "Nej tak", "ＳＴＯＰ 🙏", "Where is the bus stop?", "ARRÊT", "hjælp", "ok"}
	for _, in := range inputs {
		if n := testing.AllocsPerRun(100, func() { c.Classify(in, "da-DK") }); n != 0 {
			t.Errorf("Classify(%q) allocates %.1f times per run", in, n)
		}
	}
}
