package service_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/index"
	"github.com/consentgate/consentgate/internal/inventory"
	"github.com/consentgate/consentgate/internal/service"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/store/sqlite"
	"github.com/consentgate/consentgate/internal/vault"
	"github.com/ledongthuc/pdf"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/records")

// clock is a settable fixed clock: exports are stamped with it, so golden
// files stay stable.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// recordsEnv is the demo tenant as serve --demo seeds it, plus a profile,
// two channel providers with their processor declarations and keys, on a
// real SQLite store.
type recordsEnv struct {
	svc    *service.Service
	st     store.Store
	clock  *clock
	tenant string
	owner  auth.Principal
	comp   auth.Principal
}

func newRecordsEnv(t *testing.T) *recordsEnv {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "records.db"), sqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	master, _ := vault.NewKey()
	c := &clock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	svc := service.New(service.Config{Store: st, Index: index.New(), MasterKey: master, DefaultRegion: "DK", Now: c.now, AuditChainEvery: -1})
	t.Cleanup(svc.Close)
	n := 0
	svc.ConfigureRecords(service.RecordsConfig{StoreCountry: "DK", StoreRegion: "Copenhagen data centre", BackupCountry: "DE",
		NewID: func() string { n++; return fmt.Sprintf("BREACH%04d", n) }})
	if err := svc.OpenLedger(ctx, service.LedgerOptions{Origin: "test.consentgate.local/ledger"}); err != nil {
		t.Fatal(err)
	}
	tn, err := svc.CreateTenant(ctx, service.DemoTenant)
	if err != nil {
		t.Fatal(err)
	}
	e := &recordsEnv{svc: svc, st: st, clock: c, tenant: tn.ID,
		owner: auth.Principal{TenantID: tn.ID, KeyID: "key-owner", Role: auth.Owner},
		comp:  auth.Principal{TenantID: tn.ID, KeyID: "key-dpo", Role: auth.Compliance}}
	for _, p := range service.DemoPurposes() {
		if _, err := svc.CreatePurpose(ctx, e.owner, p); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range []auth.Role{auth.Owner, auth.Compliance, auth.Developer} {
		if _, _, err := svc.CreateAPIKey(ctx, tn.ID, r, string(r), time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	secret := "token"
	must(t, func() error {
		_, err := svc.PutProvider(ctx, e.owner, "sms", service.ProviderInput{Kind: "twilio",
			Settings: json.RawMessage(`{"account_sid":"AC0123456789abcdef0123456789abcdef"}`), Secret: &secret})
		return err
	})
	must(t, func() error {
		_, err := svc.PutProvider(ctx, e.owner, "email", service.ProviderInput{Kind: "smtp", Settings: json.RawMessage(`{"host":"smtp.mail.example.eu"}`)})
		return err
	})
	must(t, func() error {
		_, err := svc.PutProcessor(ctx, e.comp, "sms", service.ProcessorInput{Name: "Twilio Inc.", Country: "US", Transfer: "sccs", DPARef: "Twilio DPA 2025-03"})
		return err
	})
	must(t, func() error {
		_, err := svc.PutProcessor(ctx, e.comp, "email", service.ProcessorInput{Name: "Example Mail ApS", Country: "DK", Transfer: "none"})
		return err
	})
	must(t, func() error {
		_, err := svc.PutTenantProfile(ctx, e.owner, service.TenantProfile{ControllerName: "Demo Shop ApS",
			PrivacyNoticeURL: "https://demo.example/privacy", DPOName: "Dana Dataansvarlig", DPOEmail: "dpo@demo.example",
			ControllerDetails: service.ControllerDetails{ControllerAddress: "Nørregade 1, 1165 København K, Danmark",
				DPOPhone: "+45 12 34 56 78", SupervisoryAuthority: "Datatilsynet", SupervisoryAuthorityURL: "https://www.datatilsynet.dk"}})
		return err
	})
	return e
}

func must(t *testing.T, f func() error) {
	t.Helper()
	if err := f(); err != nil {
		t.Fatal(err)
	}
}

// golden compares got with testdata/records/name, or rewrites it with
// -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "records", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run with -update after checking the change):\n%s", name, firstDiff(want, got))
	}
}

func firstDiff(want, got []byte) string {
	wl, gl := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := range max(len(wl), len(gl)) {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("line %d:\nwant %q\ngot  %q", i+1, w, g)
		}
	}
	return "(only in length)"
}

func render(t *testing.T, f func(*bytes.Buffer) error) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := f(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestRecordGolden pins every export of the demo tenant's record, data map,
// DPIA worksheet and breach report.
func TestRecordGolden(t *testing.T) {
	e := newRecordsEnv(t)
	ctx := context.Background()
	rec, err := e.svc.Ropa(ctx, e.comp, 0)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Version != 1 {
		t.Fatalf("first record is version %d", rec.Version)
	}
	for _, f := range inventory.RecordFormats {
		out := render(t, func(b *bytes.Buffer) error { return inventory.WriteRecord(b, rec, f) })
		golden(t, "ropa."+f.Extension(), out)
	}
	dm, err := e.svc.DataMap(ctx, e.comp)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range inventory.DataMapFormats {
		golden(t, "datamap."+f.Extension(), render(t, func(b *bytes.Buffer) error { return inventory.WriteDataMap(b, dm, f) }))
	}
	d, err := e.svc.DPIA(ctx, e.comp, "newsletter")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range inventory.RecordFormats {
		golden(t, "dpia-newsletter."+f.Extension(), render(t, func(b *bytes.Buffer) error { return inventory.WriteDPIA(b, d, f) }))
	}
	from := e.clock.now().Add(-48 * time.Hour)
	b, err := e.svc.CreateBreach(ctx, e.comp, service.BreachInput{OccurredFrom: &from, Nature: ptr("Provider account credentials leaked"),
		Categories: []string{"identifiers", "message_bodies"}, ProcessorChannel: ptr("sms")})
	if err != nil {
		t.Fatal(err)
	}
	rep, ctrl, err := e.svc.BreachReport(ctx, e.comp, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range inventory.RecordFormats {
		golden(t, "breach."+f.Extension(), render(t, func(b *bytes.Buffer) error { return inventory.WriteBreach(b, rep, ctrl, f) }))
	}
}

func ptr[T any](v T) *T { return &v }

// TestRecordPDFOpens parses the PDF with a PDF library and finds every
// purpose in it, by name and key.
func TestRecordPDFOpens(t *testing.T) {
	e := newRecordsEnv(t)
	rec, err := e.svc.Ropa(context.Background(), e.comp, 0)
	if err != nil {
		t.Fatal(err)
	}
	raw := render(t, func(b *bytes.Buffer) error { return inventory.WriteRecord(b, rec, inventory.PDF) })
	text := pdfText(t, raw)
	for _, p := range service.DemoPurposes() {
		if !strings.Contains(text, "Activity: "+*p.Name+" ("+p.Key+")") {
			t.Errorf("the PDF lacks purpose %s (%s)", p.Key, *p.Name)
		}
	}
	for _, w := range []string{rec.Digest, "Demo Shop ApS", "Nørregade 1", "Datatilsynet", "Twilio Inc."} {
		if !strings.Contains(text, w) {
			t.Errorf("the PDF lacks %q", w)
		}
	}
	again := render(t, func(b *bytes.Buffer) error { return inventory.WriteRecord(b, rec, inventory.PDF) })
	if !bytes.Equal(raw, again) {
		t.Error("the same record rendered twice gives different PDF bytes")
	}
}

// pdfText extracts the text of every page, each text run on its own line
// joined back into rows, so phrases can be searched.
func pdfText(t *testing.T, raw []byte) string {
	t.Helper()
	r, err := pdf.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatalf("the PDF does not open: %v", err)
	}
	if r.NumPage() < 2 {
		t.Fatalf("the PDF has %d pages", r.NumPage())
	}
	var b strings.Builder
	for i := 1; i <= r.NumPage(); i++ {
		rows, err := r.Page(i).GetTextByRow()
		if err != nil {
			t.Fatalf("page %d: %v", i, err)
		}
		for _, row := range rows {
			for _, w := range row.Content {
				b.WriteString(w.S)
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

// TestRecordVersions: a change to a purpose's retention (consent validity),
// basis or channels shows up in the next version, with what changed, and
// an unchanged configuration keeps its version.
func TestRecordVersions(t *testing.T) {
	e := newRecordsEnv(t)
	ctx := context.Background()
	v1, err := e.svc.Ropa(ctx, e.comp, 0)
	if err != nil {
		t.Fatal(err)
	}
	e.clock.add(time.Hour)
	if again, _ := e.svc.Ropa(ctx, e.comp, 0); again.Version != v1.Version || again.Digest != v1.Digest {
		t.Fatalf("unchanged configuration: version %d → %d", v1.Version, again.Version)
	}
	steps := []struct {
		name   string
		change service.PurposeInput
		path   string
		to     string
	}{
		{"retention", service.PurposeInput{ConsentLifetimeDays: ptr(365)}, "activities[newsletter].consent_validity_days", "365"},
		{"basis", service.PurposeInput{Basis: ptr(consent.BasisLegitimateInterest), DoubleOptIn: ptr(false)}, "activities[newsletter].basis", "legitimate_interest"},
		{"channels", service.PurposeInput{Channels: []consent.Channel{consent.SMS, consent.Email, consent.WhatsApp}}, "activities[newsletter].channels", `["email","sms","whatsapp"]`},
	}
	prev := v1
	for _, st := range steps {
		e.clock.add(time.Hour)
		if _, err := e.svc.UpdatePurpose(ctx, e.owner, "newsletter", st.change); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		next, err := e.svc.Ropa(ctx, e.comp, 0)
		if err != nil {
			t.Fatal(err)
		}
		if next.Version != prev.Version+1 || next.Digest == prev.Digest {
			t.Fatalf("%s: version %d (%s) after %d (%s)", st.name, next.Version, next.Digest, prev.Version, prev.Digest)
		}
		vs, err := e.svc.RopaVersions(ctx, e.comp)
		if err != nil {
			t.Fatal(err)
		}
		if vs[0].Version != next.Version || !hasChange(vs[0].Changes, st.path, st.to) {
			t.Errorf("%s: changes of version %d = %+v, want %s → %s", st.name, vs[0].Version, vs[0].Changes, st.path, st.to)
		}
		prev = next
	}
	// The first version is still there, as it was.
	old, err := e.svc.Ropa(ctx, e.comp, 1)
	if err != nil || old.Digest != v1.Digest || old.Activities[1].ConsentValidityDays != 730 {
		t.Errorf("version 1 = %+v, %v", old.Version, err)
	}
	// Each new version left an audit event.
	var n int
	must(t, func() error {
		return e.st.Read(ctx, func(tx store.Tx) error {
			evs, err := tx.ListAudit(ctx, store.AuditFilter{TenantID: e.tenant, Action: string(service.ActionRecordVersion), Limit: 100})
			n = len(evs)
			return err
		})
	})
	if n != 4 {
		t.Errorf("%d record.version audit events, want 4", n)
	}
}

func hasChange(cs []inventory.Change, path, to string) bool {
	for _, c := range cs {
		if c.Path == path && c.To == to {
			return true
		}
	}
	return false
}

// TestRecordFindings: a tenant with no profile and no location gets a
// record that says what is missing, never blanks.
func TestRecordFindings(t *testing.T) {
	e := newRecordsEnv(t)
	ctx := context.Background()
	tn, err := e.svc.CreateTenant(ctx, "bare")
	if err != nil {
		t.Fatal(err)
	}
	e.svc.ConfigureRecords(service.RecordsConfig{})
	rec, err := e.svc.Ropa(ctx, auth.Principal{TenantID: tn.ID, KeyID: "k", Role: auth.Auditor}, 0)
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]bool{}
	for _, f := range rec.Findings {
		codes[f.Code] = true
	}
	for _, c := range []string{"controller_name_missing", "dpo_name_missing", "dpo_contact_missing", "storage_country_missing",
		"backup_country_missing", "no_purposes", "retention_default"} {
		if !codes[c] {
			t.Errorf("finding %s missing: %+v", c, rec.Findings)
		}
	}
	md := string(render(t, func(b *bytes.Buffer) error { return inventory.WriteRecord(b, rec, inventory.Markdown) }))
	if !strings.Contains(md, "- **Name:** "+inventory.Missing) || !strings.Contains(md, "- **Data protection officer:** "+inventory.Missing) {
		t.Errorf("missing details are not marked in the Markdown:\n%s", md)
	}
}
