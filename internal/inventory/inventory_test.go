package inventory

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
)

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func purpose(key string, cat consent.Category, basis consent.Basis, chans ...consent.Channel) consent.Purpose {
	return consent.Purpose{Key: key, Name: strings.ToUpper(key), NoticeVersion: 1, Category: cat, Basis: basis, Channels: chans}
}

func codes(fs []Finding) map[string]string {
	out := map[string]string{}
	for _, f := range fs {
		out[f.Code+"/"+f.Subject] = f.Severity
	}
	return out
}

// TestProcessorFindings: the transfer rules, one processor at a time.
func TestProcessorFindings(t *testing.T) {
	cases := []struct {
		name string
		p    Processor
		want string // code that must be there ("" for none of the transfer codes)
		sev  string
	}{
		{"eea, none", Processor{Channel: consent.SMS, Name: "A", Country: "DK", Transfer: TransferNone, DPARef: "x"}, "", ""},
		{"no country", Processor{Channel: consent.SMS, Name: "A", Transfer: TransferNone, DPARef: "x"}, "processor_country_missing", SeverityCritical},
		{"no mechanism", Processor{Channel: consent.SMS, Name: "A", Country: "DK", DPARef: "x"}, "transfer_mechanism_missing", SeverityCritical},
		{"third country, none", Processor{Channel: consent.SMS, Name: "A", Country: "IN", Transfer: TransferNone, DPARef: "x"}, "transfer_without_mechanism", SeverityCritical},
		{"adequacy where there is none", Processor{Channel: consent.SMS, Name: "A", Country: "IN", Transfer: TransferAdequacy, DPARef: "x"}, "adequacy_not_available", SeverityCritical},
		{"us adequacy needs DPF", Processor{Channel: consent.SMS, Name: "A", Country: "US", Transfer: TransferAdequacy, DPARef: "x"}, "dpf_certification", SeverityInfo},
		{"third country, sccs", Processor{Channel: consent.SMS, Name: "A", Country: "US", Transfer: TransferSCCs, DPARef: "x"}, "", ""},
		{"no dpa", Processor{Channel: consent.SMS, Name: "A", Country: "DK", Transfer: TransferNone}, "dpa_missing", SeverityWarning},
		{"sink", Processor{Channel: consent.SMS, Name: "sink", Internal: true}, "internal_provider", SeverityInfo},
	}
	transferCodes := []string{"processor_country_missing", "transfer_mechanism_missing", "transfer_without_mechanism", "adequacy_not_available", "dpf_certification", "dpa_missing"}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := Input{Purposes: []consent.Purpose{purpose("news", consent.Marketing, consent.BasisConsent, consent.SMS)}, Processors: []Processor{c.p}}
			got := codes(Build(in).Findings)
			for _, code := range transferCodes {
				sev, ok := got[code+"/sms"]
				if code == c.want && (!ok || sev != c.sev) {
					t.Errorf("want %s (%s), got %v", code, c.sev, got)
				}
				if code != c.want && ok {
					t.Errorf("unexpected %s", code)
				}
			}
		})
	}
}

// TestDigestStable: the digest depends on content only, not on the order
// purposes or processors come in or on the time of the export.
func TestDigestStable(t *testing.T) {
	a := purpose("a", consent.Service, consent.BasisContract, consent.Email, consent.SMS)
	b := purpose("b", consent.Marketing, consent.BasisConsent, consent.SMS)
	p1 := Processor{Channel: consent.SMS, Name: "X", Country: "DK", Transfer: TransferNone}
	p2 := Processor{Channel: consent.Email, Name: "Y", Country: "DK", Transfer: TransferNone}
	r1 := NewRecord(Input{Purposes: []consent.Purpose{a, b}, Processors: []Processor{p1, p2}}, t0)
	r2 := NewRecord(Input{Purposes: []consent.Purpose{b, a}, Processors: []Processor{p2, p1}}, t0.Add(time.Hour))
	if r1.Digest != r2.Digest {
		t.Errorf("order or time changed the digest")
	}
	b.Lifetime = 24 * time.Hour
	if r3 := NewRecord(Input{Purposes: []consent.Purpose{a, b}, Processors: []Processor{p1, p2}}, t0); r3.Digest == r1.Digest {
		t.Error("a changed consent lifetime kept the digest")
	}
}

func TestDiffKeysElements(t *testing.T) {
	before := []byte(`{"activities":[{"key":"a","basis":"consent"},{"key":"b","basis":"contract"}],"roles":["owner"]}`)
	after := []byte(`{"activities":[{"key":"new","basis":"consent"},{"key":"a","basis":"consent"},{"key":"b","basis":"legal_obligation"}],"roles":["owner","compliance"]}`)
	cs, err := Diff(before, after)
	if err != nil {
		t.Fatal(err)
	}
	want := []Change{{Path: "activities[b].basis", From: "contract", To: "legal_obligation"}, {Path: "activities[new].basis", To: "consent"},
		{Path: "activities[new].key", To: "new"}, {Path: "roles", From: `["owner"]`, To: `["owner","compliance"]`}}
	if len(cs) != len(want) {
		t.Fatalf("changes = %+v", cs)
	}
	for i := range want {
		if cs[i] != want[i] {
			t.Errorf("change %d = %+v, want %+v", i, cs[i], want[i])
		}
	}
}

func TestTrackDeadline(t *testing.T) {
	cases := []struct {
		name     string
		notified time.Duration // after discovery; <0: not notified
		now      time.Duration // after discovery
		status   string
		left     float64
	}{
		{"fresh", -1, time.Hour, DeadlineOpen, 71},
		{"overdue", -1, 80 * time.Hour, DeadlineOverdue, -8},
		{"in time", 24 * time.Hour, 100 * time.Hour, DeadlineMet, 0},
		{"late", 73 * time.Hour, 100 * time.Hour, DeadlineLate, 0},
	}
	for _, c := range cases {
		b := Breach{DiscoveredAt: t0, Consequences: "x", Measures: "y"}
		if c.notified >= 0 {
			b.NotifiedAt = t0.Add(c.notified)
		}
		Track(&b, t0.Add(c.now))
		if b.DeadlineStatus != c.status || b.HoursLeft != c.left || !b.Deadline.Equal(t0.Add(72*time.Hour)) {
			t.Errorf("%s: %s %.1f", c.name, b.DeadlineStatus, b.HoursLeft)
		}
		if late := len(b.Findings) == 1 && b.Findings[0].Code == "late_reason_missing"; late != (c.status == DeadlineLate) {
			t.Errorf("%s: findings %+v", c.name, b.Findings)
		}
	}
}

func TestDPIAOutcome(t *testing.T) {
	tx := purpose("2fa", consent.Transactional, consent.BasisContract, consent.SMS)
	mk := purpose("news", consent.Marketing, consent.BasisConsent, consent.SMS)
	in := Input{Facts: Facts{EncryptionAtRest: true, AuditTrail: true}}
	if d := BuildDPIA(tx, in, Volumes{Known: true}, DPIAState{}, t0); d.Outcome != OutcomeNotRequired || d.Status != StatusDraft {
		t.Errorf("transactional: %s %s", d.Outcome, d.Status)
	}
	if d := BuildDPIA(mk, in, Volumes{Known: true}, DPIAState{}, t0); d.Outcome != OutcomeUndetermined {
		t.Errorf("marketing, nothing answered: %s", d.Outcome)
	}
	big := BuildDPIA(mk, Input{Attributes: []Attribute{{Name: "diagnosis", Category: "health"}}}, Volumes{Known: true, Consenting: 20000}, DPIAState{}, t0)
	if big.Outcome != OutcomeRequired || big.CriteriaMet != 2 {
		t.Errorf("large scale and health data: %s (%d)", big.Outcome, big.CriteriaMet)
	}
	signed := BuildDPIA(tx, in, Volumes{Known: true}, DPIAState{}, t0)
	st := DPIAState{SignOff: &SignOff{By: "k", At: t0, Digest: signed.Digest}}
	if d := BuildDPIA(tx, in, Volumes{Known: true, Consenting: 5}, st, t0.Add(time.Hour)); d.Status != StatusSigned {
		t.Errorf("volumes moved, answers did not: %s", d.Status)
	}
	st.Answers = map[string]ManualAnswer{"vulnerable_subjects": {Answer: Yes, Note: "children's club"}}
	if d := BuildDPIA(tx, in, Volumes{Known: true}, st, t0); d.Status != StatusReviewNeeded {
		t.Errorf("answer changed after sign-off: %s", d.Status)
	}
}

// TestExportsEscape: tenant text cannot inject markup into Markdown,
// formulas into CSV or syntax into Mermaid.
func TestExportsEscape(t *testing.T) {
	p := purpose("evil", consent.Marketing, consent.BasisConsent, consent.SMS)
	p.Name = `=HYPERLINK("http://x") <script>`
	p.Description = "# heading\n[link](http://x)"
	rec := NewRecord(Input{Purposes: []consent.Purpose{p}}, t0)
	var md, csv bytes.Buffer
	WriteRecord(&md, rec, Markdown)
	WriteRecord(&csv, rec, CSV)
	if strings.Contains(md.String(), "<script>") || strings.Contains(md.String(), "\n# heading") || strings.Contains(md.String(), "[link]") {
		t.Errorf("markdown not escaped:\n%s", md.String())
	}
	if !strings.Contains(csv.String(), `"'=HYPERLINK(""http://x"") <script>"`) {
		t.Errorf("csv formula not neutralised:\n%s", csv.String())
	}
	if got := mermaidText(`a"b|c`); got != "a#quot;b#124;c" {
		t.Errorf("mermaid label: %s", got)
	}
	if err := WriteDataMap(&md, BuildDataMap(Input{}, t0), PDF); err == nil {
		t.Error("data map as PDF accepted")
	}
}
