// Package keyword classifies the text of an inbound reply (SMS, WhatsApp,
// e-mail) as an opt-out, an opt-in, a request for help, or none of these.
//
// It is a pure domain package: no database, no HTTP, no clock. The consent
// service calls [Classifier.Classify] on every inbound message and acts on
// the [Result]; the CLI (`consentgate keyword classify`) drives
// [ClassifyLines].
//
// # Why not exact single-word matching
//
// Carriers' built-in filters accept only a lone keyword ("STOP"), but GDPR
// Art. 7(3) and the FCC's 2024 revocation rule require honouring a withdrawal
// made "in any reasonable manner". A missed opt-out is a violation, a false
// one is a wrong: "Where is the bus stop?" must not unsubscribe anybody. The
// matching rule below is forgiving about form and strict about content.
//
// # Normalisation
//
// Only the first [MaxInputBytes] bytes are read, so any input costs bounded
// time. Each rune is mapped through its compatibility decomposition (NFKD,
// the mapping NFKC also uses), which turns full-width "ＳＴＯＰ" and ligatures
// into plain letters; combining marks are then dropped, so accents are folded
// ("ARRÊT" and "arret" match alike); letters are lower-cased; æ, ø, ß, œ, ł
// and a few other letters without a decomposition are spelt out ("hjælp"
// becomes "hjaelp"). Zero-width and other format characters and apostrophes
// vanish without splitting a word ("don't" is "dont", "S\u200bTOP" is
// "stop"). Every other non-letter (spaces, punctuation, hyphens, emoji,
// symbols) separates words, and a question mark is remembered. Runs of three
// or more equal letters are shortened to one ("stooop" is "stop"). Keywords,
// fillers and tenant phrases go through the same mapping, so a keyword is
// written once, with its diacritics, and reported in that canonical form.
//
// # The matching rule
//
// A message is a keyword message when, after normalisation:
//
//  1. it has at most [MaxTokens] words;
//  2. at least one of them starts a keyword phrase — a tenant [Rule] first,
//     then the longest phrase of the default (or given) packs — and every
//     word of the message belongs either to such a phrase or to the closed
//     list of filler words: politeness ("please", "tak", "bitte", "por
//     favor"), greetings, pronouns ("me", "mig", "mich"), "now", and the
//     names of what is being sent ("texts", "sms", "newsletter");
//  3. any other word cancels it. That includes negations ("don't", "never",
//     "ikke", "nicht", "pas" — listed per pack so that no filler list can
//     ever contain one) and the words of a question or an unrelated
//     sentence ("where", "bus", "order", "tomorrow");
//  4. a question mark cancels an opt-in (consent must be unambiguous, and
//     "Yes?" is not a yes) and an opt-out that carries more than its keyword
//     ("Stop now?"), but not a lone keyword ("STOP?", "Unsubscribe?"), which
//     has nothing else to ask about, nor a request for help ("Help?");
//  5. a word meaning "all" ("all", "alt", "alles", "tout", "todo", …)
//     widens an opt-out to every purpose ([ActionStopAll], scope "all") and
//     cancels any other intent;
//  6. when several keywords appear, the intent whose mistake costs least
//     wins: opt-out, then help, then opt-in ("Yes, stop" stops). Among
//     opt-outs the widest scope wins; otherwise a tenant phrase beats a
//     pack keyword, and the first beats the later.
//
// Natural phrasings that a filler list cannot express ("no more texts",
// "stop texting", "don't text me") are curated phrases in the packs; a
// phrase matches as a whole, so its own "don't" is no negation. "Nej tak"
// needs no phrase: it is NEJ plus the filler "tak".
//
// Words that mean "no" are opt-outs only where the market uses them so (NEJ
// in Danish and Swedish, named by the brief); a bare "no" answers too many
// unrelated questions. A keyword that is a common word in another
// language is matched only under a language hint ([Keyword.HintOnly]): the
// Polish "TAK" (yes) is the Danish "tak" (thanks).
//
// # Language
//
// The language reported is that of the matched keyword. When a keyword is
// shared by several packs (STOP, JA, INFO) the caller's language hint wins if
// it is among them, otherwise the first pack in order does, so results are
// stable.
//
// Callers should pass messages classified [IntentNone] on to the tenant as
// conversation, where a person can still act on an opt-out the rule did not
// recognise. E-mail adapters should strip quoted text and signatures before
// classifying, or "Unsubscribe / Sent from my phone" is too long to match.
package keyword
