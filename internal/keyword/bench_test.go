package keyword

import "testing"

// benchInputs is a mix of what a gateway sees: keywords in several
// languages and dresses, and ordinary conversation, short and long.
var benchInputs = []struct{ text, hint string }{
	{"STOP", ""},
	{"Stop please!!", "en"},
	{"Nej tak", "da"},
	{"Where is the bus stop?", "en"},
	{"ＳＴＯＰ 🙏", ""},
	{"YES", "en"},
	{"Thanks, see you tomorrow at 10 at the main entrance", "en"},
	{"ARRÊT", "fr"},
	{"hjælp", "da"},
	{"Can I cancel my order?", ""},
	{"bitte abmelden", "de-DE"},
	{"Hi! Could you tell me when my parcel will arrive? Order 12345, thanks", ""},
	{"no more texts", ""},
	{"Ja", "sv"},
	{"stop news", ""},
	{"😂😂😂", ""},
}

func BenchmarkClassify(b *testing.B) {
	c, err := New(tenantRules)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		in := benchInputs[i%len(benchInputs)]
		c.Classify(in.text, in.hint)
		i++
	}
}

func BenchmarkNew(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New(tenantRules); err != nil {
			b.Fatal(err)
		}
	}
}
