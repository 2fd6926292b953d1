package keyword

func packDE() Pack {
	c := "common usage in German, chosen by consentgate"
	return Pack{
		Language: "de",
		Keywords: []Keyword{
			optOut("STOP", c),
			optOut("STOPP", c),
			optOut("ABMELDEN", c),
			optOut("ABBESTELLEN", c),
			optOut("ENDE", c),
			optOut("MELDE MICH AB", c),
			optOut("KEIN INTERESSE", c),
			optOut("KEINE SMS MEHR", c),
			optOut("KEINE NACHRICHTEN MEHR", c),
			optOutAll("STOPP ALLE", c),
			optOutAll("ALLES STOPPEN", c),
			confirm("JA", c),
			restart("START", c),
			subscribe("ANMELDEN", c),
			subscribe("ABONNIEREN", c),
			help("HILFE", c),
			help("INFO", c),
		},
		Fillers: []string{
			"bitte", "danke", "schön", "vielen", "mich", "uns", "mir", "jetzt",
			"sofort", "hallo", "ich", "möchte", "will", "gerne", "von",
			"nachrichten", "sms", "newsletter", "werbung", "aw", "wg",
		},
		Widening:  []string{"alle", "alles"},
		Negations: []string{"nicht", "nie", "niemals", "kein", "keine", "keinen", "nein"},
	}
}

func packNL() Pack {
	c := "common usage in Dutch, chosen by consentgate"
	return Pack{
		Language: "nl",
		Keywords: []Keyword{
			optOut("STOP", c),
			optOut("AFMELDEN", c),
			optOut("UITSCHRIJVEN", c),
			optOut("MELD MIJ AF", c),
			optOut("MELD ME AF", c),
			optOut("GEEN INTERESSE", c),
			optOutAll("STOP ALLES", c),
			confirm("JA", c),
			restart("START", c),
			subscribe("AANMELDEN", c),
			help("HELP", c),
			help("HULP", c),
			help("INFO", c),
		},
		Fillers: []string{
			"alstublieft", "alsjeblieft", "aub", "graag", "bedankt", "dank",
			"dankjewel", "dankuwel", "mij", "ons", "nu", "hallo", "hoi", "ik",
			"wil", "van", "berichten", "sms", "nieuwsbrief", "direct", "meteen",
		},
		Widening:  []string{"alles", "allemaal"},
		Negations: []string{"niet", "nooit", "geen", "nee"},
	}
}

func packFR() Pack {
	c := "common usage in French, chosen by consentgate"
	return Pack{
		Language: "fr",
		Keywords: []Keyword{
			optOut("STOP", c),
			optOut("ARRÊT", src(srcAWS+" (as ARRET)", srcTwilio+" (as ARRET)")),
			optOut("ARRÊTE", srcTwilio+" (as ARRETE)"),
			optOut("ARRÊTEZ", c),
			optOut("DÉSABONNER", c),
			optOut("DÉSINSCRIRE", c),
			optOut("PLUS DE SMS", c),
			optOut("PLUS DE MESSAGES", c),
			optOut("PAS INTÉRESSÉ", c),
			optOutAll("STOP TOUT", c),
			optOutAll("ARRÊT TOUT", c),
			confirm("OUI", c),
			subscribe("ABONNER", c),
			subscribe("S'ABONNER", c),
			help("AIDE", c),
			help("INFO", c),
		},
		Fillers: []string{
			"svp", "stp", "s'il", "vous", "plaît", "merci", "beaucoup", "moi",
			"me", "maintenant", "bonjour", "salut", "je", "veux", "voudrais",
			"de", "des", "messages", "sms", "mails", "newsletter",
			"immédiatement",
		},
		Widening:  []string{"tout", "tous"},
		Negations: []string{"ne", "pas", "jamais", "non"},
	}
}

func packES() Pack {
	c := "common usage in Spanish, chosen by consentgate"
	return Pack{
		Language: "es",
		Keywords: []Keyword{
			optOut("BAJA", c),
			optOut("PARAR", c),
			optOut("CANCELAR", c),
			optOut("STOP", c),
			optOut("DAR DE BAJA", c),
			optOut("DARME DE BAJA", c),
			optOut("NO MÁS MENSAJES", c),
			optOut("NO MÁS SMS", c),
			optOut("NO ME INTERESA", c),
			optOutAll("BAJA TODO", c),
			optOutAll("PARAR TODO", c),
			confirm("SÍ", c),
			subscribe("ALTA", c),
			subscribe("SUSCRIBIR", c),
			subscribe("SUSCRIBIRME", c),
			help("AYUDA", c),
			help("INFO", c),
		},
		Fillers: []string{
			"por", "favor", "gracias", "muchas", "me", "ya", "ahora", "hola",
			"quiero", "de", "mensajes", "sms", "correos", "lista",
			"inmediatamente",
		},
		Widening:  []string{"todo", "todos"},
		Negations: []string{"no", "nunca", "jamás", "ni"},
	}
}

func packIT() Pack {
	c := "common usage in Italian, chosen by consentgate"
	return Pack{
		Language: "it",
		Keywords: []Keyword{
			optOut("STOP", c),
			optOut("DISISCRIVI", c),
			optOut("DISISCRIVIMI", c),
			optOut("CANCELLAMI", c),
			optOut("BASTA", c),
			optOut("NON MI INTERESSA", c),
			optOutAll("STOP TUTTO", c),
			confirm("SÌ", c),
			restart("START", c),
			subscribe("ISCRIVI", c),
			subscribe("ISCRIVIMI", c),
			help("AIUTO", c),
			help("INFO", c),
		},
		Fillers: []string{
			"per", "favore", "grazie", "mille", "mi", "ora", "adesso", "subito",
			"ciao", "voglio", "da", "messaggi", "sms", "newsletter",
		},
		Widening:  []string{"tutto", "tutti"},
		Negations: []string{"non", "mai", "no"},
	}
}

func packPT() Pack {
	c := "common usage in Portuguese, chosen by consentgate"
	return Pack{
		Language: "pt",
		Keywords: []Keyword{
			optOut("PARAR", c),
			optOut("SAIR", c),
			optOut("CANCELAR", c),
			optOut("DESCADASTRAR", c),
			optOut("NÃO TENHO INTERESSE", c),
			optOut("STOP", c),
			optOutAll("PARAR TUDO", c),
			confirm("SIM", c),
			subscribe("ASSINAR", c),
			subscribe("INSCREVER", c),
			help("AJUDA", c),
			help("INFO", c),
		},
		Fillers: []string{
			"por", "favor", "obrigado", "obrigada", "me", "agora", "olá",
			"quero", "de", "mensagens", "sms", "lista", "imediatamente",
		},
		Widening:  []string{"tudo", "todos"},
		Negations: []string{"não", "nunca", "jamais", "nem"},
	}
}

func packPL() Pack {
	c := "common usage in Polish, chosen by consentgate"
	tak := confirm("TAK", c+"; matched only with language hint pl, since Danish tak means thanks")
	tak.HintOnly = true
	return Pack{
		Language: "pl",
		Keywords: []Keyword{
			optOut("STOP", c),
			optOut("WYPISZ", c),
			optOut("REZYGNUJĘ", c),
			optOut("KONIEC", c),
			optOut("NIE INTERESUJE MNIE", c),
			optOutAll("STOP WSZYSTKO", c),
			tak,
			restart("START", c),
			subscribe("ZAPISZ", c),
			help("POMOC", c),
			help("INFO", c),
		},
		Fillers: []string{
			"proszę", "dziękuję", "dzięki", "bardzo", "mnie", "teraz", "cześć",
			"chcę", "z", "listy", "wiadomości", "sms", "natychmiast",
		},
		Widening:  []string{"wszystko", "wszystkie"},
		Negations: []string{"nie", "nigdy"},
	}
}
