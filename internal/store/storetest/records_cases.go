package storetest

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/store"
)

// testRecords covers the records store (issue 8): controller details,
// processor details, record versions, DPIAs, breaches and the counts, each
// isolated by tenant. The cases share one store: each makes its own
// tenants.
func testRecords(t *testing.T, s store.Store) {
	t.Run("Details", func(t *testing.T) { testRecordDetails(t, s) })
	t.Run("Versions", func(t *testing.T) { testRecordVersions(t, s) })
	t.Run("DPIAs", func(t *testing.T) { testDPIAs(t, s) })
	t.Run("Breaches", func(t *testing.T) { testBreaches(t, s) })
	t.Run("Counts", func(t *testing.T) { testRecordCounts(t, s) })
}

func testRecordDetails(t *testing.T, s store.Store) {
	a, b := mkTenant(t, s), mkTenant(t, s)

	cd := &store.ControllerDetails{TenantID: a.ID, Address: "Vestergade 1, 1456 København K", Representative: "",
		RepresentativeContact: "", DPOPhone: "+4512345678", SupervisoryAuthority: "Datatilsynet",
		SupervisoryAuthorityURL: "https://www.datatilsynet.dk", UpdatedAt: t0}
	write(t, s, func(tx store.Tx) error { return tx.PutControllerDetails(ctx, cd) })
	cd2 := *cd
	cd2.Address, cd2.UpdatedAt = "Nørregade 2", t0.Add(time.Hour)
	write(t, s, func(tx store.Tx) error { return tx.PutControllerDetails(ctx, &cd2) })
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetControllerDetails(ctx, a.ID)
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(got, &cd2) {
			t.Errorf("controller details = %+v, want %+v", got, cd2)
		}
		_, err = tx.GetControllerDetails(ctx, b.ID)
		wantErr(t, err, store.ErrNotFound)
		return nil
	})

	pd := &store.ProcessorDetails{TenantID: a.ID, Channel: consent.SMS, Name: "Twilio Inc.", Country: "US", Transfer: "sccs", DPARef: "DPA-1", UpdatedAt: t0}
	write(t, s, func(tx store.Tx) error { return tx.PutProcessorDetails(ctx, pd) })
	pd.Transfer = "adequacy"
	write(t, s, func(tx store.Tx) error { return tx.PutProcessorDetails(ctx, pd) })
	read(t, s, func(tx store.Tx) error {
		got, err := tx.ListProcessorDetails(ctx, a.ID)
		if err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], pd) {
			t.Errorf("processors = %+v, %v", got, err)
		}
		if got, _ := tx.ListProcessorDetails(ctx, b.ID); len(got) != 0 {
			t.Errorf("tenant b sees %d processors", len(got))
		}
		return nil
	})
}

func testRecordVersions(t *testing.T, s store.Store) {
	a, b := mkTenant(t, s), mkTenant(t, s)
	read(t, s, func(tx store.Tx) error {
		_, err := tx.LatestRecordVersion(ctx, a.ID, "ropa")
		wantErr(t, err, store.ErrNotFound)
		return nil
	})
	for v := 1; v <= 3; v++ {
		rv := &store.RecordVersion{TenantID: a.ID, Kind: "ropa", Version: v, Digest: "sha256:" + string(rune('a'+v)),
			Body: []byte(`{"v":` + string(rune('0'+v)) + `}`), Changes: []byte(`[]`), CreatedAt: t0.Add(time.Duration(v) * time.Hour)}
		write(t, s, func(tx store.Tx) error { return tx.CreateRecordVersion(ctx, rv) })
	}
	dup := &store.RecordVersion{TenantID: a.ID, Kind: "ropa", Version: 3, Digest: "x", Body: []byte("{}"), CreatedAt: t0}
	wantErr(t, s.Write(ctx, func(tx store.Tx) error { return tx.CreateRecordVersion(ctx, dup) }), store.ErrConflict)
	// The same version number in another tenant is no conflict.
	other := *dup
	other.TenantID = b.ID
	write(t, s, func(tx store.Tx) error { return tx.CreateRecordVersion(ctx, &other) })
	read(t, s, func(tx store.Tx) error {
		latest, err := tx.LatestRecordVersion(ctx, a.ID, "ropa")
		if err != nil || latest.Version != 3 || !bytes.Equal(latest.Body, []byte(`{"v":3}`)) || !latest.CreatedAt.Equal(t0.Add(3*time.Hour)) {
			t.Errorf("latest = %+v, %v", latest, err)
		}
		v2, err := tx.GetRecordVersion(ctx, a.ID, "ropa", 2)
		if err != nil || v2.Digest != "sha256:c" || string(v2.Changes) != "[]" {
			t.Errorf("version 2 = %+v, %v", v2, err)
		}
		_, err = tx.GetRecordVersion(ctx, b.ID, "ropa", 2)
		wantErr(t, err, store.ErrNotFound)
		list, err := tx.ListRecordVersions(ctx, a.ID, "ropa")
		if err != nil || len(list) != 3 || list[0].Version != 3 || list[2].Version != 1 || list[0].Body != nil {
			t.Errorf("list = %+v, %v", list, err)
		}
		return nil
	})
}

func testDPIAs(t *testing.T, s store.Store) {
	a, b := mkTenant(t, s), mkTenant(t, s)
	d := &store.DPIARecord{TenantID: a.ID, Purpose: "news", Answers: []byte(`{"large_scale":{"answer":"yes"}}`), UpdatedAt: t0}
	write(t, s, func(tx store.Tx) error { return tx.PutDPIA(ctx, d) })
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetDPIA(ctx, a.ID, "news")
		if err != nil || got.Risks != nil || got.SignedBy != "" || !got.SignedAt.IsZero() || string(got.Answers) != string(d.Answers) {
			t.Errorf("dpia = %+v, %v", got, err)
		}
		return nil
	})
	d.Risks, d.SignedBy, d.SignedAt, d.SignedDigest, d.SignNote = []byte(`[]`), "k1", t0.Add(time.Hour), "sha256:x", "ok"
	write(t, s, func(tx store.Tx) error { return tx.PutDPIA(ctx, d) })
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetDPIA(ctx, a.ID, "news")
		if err != nil || !reflect.DeepEqual(got, d) {
			t.Errorf("dpia = %+v, %v; want %+v", got, err, d)
		}
		_, err = tx.GetDPIA(ctx, b.ID, "news")
		wantErr(t, err, store.ErrNotFound)
		list, err := tx.ListDPIAs(ctx, a.ID)
		if err != nil || len(list) != 1 {
			t.Errorf("list = %v, %v", list, err)
		}
		return nil
	})
}

func testBreaches(t *testing.T, s store.Store) {
	a, b := mkTenant(t, s), mkTenant(t, s)
	br := &store.Breach{ID: id("b"), TenantID: a.ID, DiscoveredAt: t0, OccurredFrom: t0.Add(-time.Hour), OccurredTo: t0,
		Nature: "lost laptop", Categories: []string{"identifiers"}, Channel: consent.SMS, ApproxSubjects: 10, ApproxRecords: 20,
		RecordedBy: "k1", CreatedAt: t0, UpdatedAt: t0}
	write(t, s, func(tx store.Tx) error { return tx.CreateBreach(ctx, br) })
	br.NotifiedAt, br.Measures, br.UpdatedAt = t0.Add(24*time.Hour), "keys rotated", t0.Add(24*time.Hour)
	write(t, s, func(tx store.Tx) error { return tx.UpdateBreach(ctx, br) })
	foreign := *br
	foreign.TenantID = b.ID
	wantErr(t, s.Write(ctx, func(tx store.Tx) error { return tx.UpdateBreach(ctx, &foreign) }), store.ErrNotFound)
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetBreach(ctx, a.ID, br.ID)
		if err != nil || !reflect.DeepEqual(got, br) {
			t.Errorf("breach = %+v, %v; want %+v", got, err, br)
		}
		_, err = tx.GetBreach(ctx, b.ID, br.ID)
		wantErr(t, err, store.ErrNotFound)
		if list, err := tx.ListBreaches(ctx, b.ID); err != nil || len(list) != 0 {
			t.Errorf("tenant b breaches = %v, %v", list, err)
		}
		return nil
	})
}

// testRecordCounts covers the counts behind breach scoping, DPIA volumes
// and the compliance figures.
func testRecordCounts(t *testing.T, s store.Store) {
	a, b := mkTenant(t, s), mkTenant(t, s)
	c1, c2 := mkContact(t, s, a.ID, "bi-1"), mkContact(t, s, a.ID, "bi-2")
	mkContact(t, s, b.ID, "bi-3")
	write(t, s, func(tx store.Tx) error {
		evs := []*store.ConsentEvent{
			mkEvent(a.ID, c1.ID, "news", consent.SMS, consent.StatusGranted),
			mkEvent(a.ID, c2.ID, "news", consent.SMS, consent.StatusGranted),
			mkEvent(a.ID, c2.ID, "news", consent.Email, consent.StatusGranted),
			mkEvent(a.ID, c2.ID, "news", consent.SMS, consent.StatusWithdrawn),
		}
		evs[3].OccurredAt, evs[3].RecordedAt = t0.Add(48*time.Hour), t0.Add(48*time.Hour)
		for _, e := range evs {
			if err := tx.AppendConsentEvent(ctx, e); err != nil {
				return err
			}
		}
		for _, c := range []string{c1.ID, c2.ID, c2.ID} {
			if err := tx.CreateMessage(ctx, mkMessage(a.ID, c)); err != nil {
				return err
			}
		}
		m := mkMessage(a.ID, c1.ID)
		m.Channel, m.CreatedAt = consent.Email, t0.Add(72*time.Hour)
		return tx.CreateMessage(ctx, m)
	})
	window := func(src store.AffectedSource, ch consent.Channel, from, to time.Time) *store.AffectedCount {
		var out *store.AffectedCount
		read(t, s, func(tx store.Tx) (err error) {
			out, err = tx.CountAffected(ctx, store.AffectedQuery{TenantID: a.ID, Source: src, Channel: ch, From: from, To: to, Limit: 10})
			return err
		})
		return out
	}
	day := 24 * time.Hour
	if got := window(store.SourceMessages, "", t0, t0.Add(day)); got.Records != 3 || got.Contacts != 2 || len(got.ContactIDs) != 2 {
		t.Errorf("messages, first day: %+v", got)
	}
	if got := window(store.SourceMessages, consent.Email, t0, t0.Add(10*day)); got.Records != 1 || !reflect.DeepEqual(got.ContactIDs, []string{c1.ID}) {
		t.Errorf("messages on email: %+v", got)
	}
	if got := window(store.SourceConsentEvents, consent.SMS, t0, t0.Add(day)); got.Records != 2 || got.Contacts != 2 {
		t.Errorf("consent events on sms, first day: %+v", got)
	}
	if got := window(store.SourceContacts, "", t0.Add(-day), t0.Add(time.Second)); got.Contacts != 2 {
		t.Errorf("contacts: %+v", got)
	}
	if got := window(store.SourceInbound, "", t0, t0.Add(day)); got.Records != 0 || got.ContactIDs != nil && len(got.ContactIDs) != 0 {
		t.Errorf("inbound: %+v", got)
	}
	read(t, s, func(tx store.Tx) error {
		states, err := tx.CountConsentStates(ctx, a.ID)
		want := []store.ConsentStateCount{{Purpose: "news", Channel: consent.Email, Status: consent.StatusGranted, Count: 1},
			{Purpose: "news", Channel: consent.SMS, Status: consent.StatusGranted, Count: 1},
			{Purpose: "news", Channel: consent.SMS, Status: consent.StatusWithdrawn, Count: 1}}
		if err != nil || !reflect.DeepEqual(states, want) {
			t.Errorf("states = %+v, %v", states, err)
		}
		days, err := tx.CountOptOutsByDay(ctx, a.ID, t0)
		wantDay := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
		if err != nil || len(days) != 1 || !days[0].Day.Equal(wantDay) || days[0].Count != 1 || days[0].Channel != consent.SMS {
			t.Errorf("opt-outs by day = %+v, %v", days, err)
		}
		vols, err := tx.PurposeVolumes(ctx, a.ID, t0.Add(-day))
		if err != nil || !reflect.DeepEqual(vols, []store.PurposeVolume{{Purpose: "news", Consenting: 2, Messaged: 2}}) {
			t.Errorf("volumes = %+v, %v", vols, err)
		}
		if vols, _ := tx.PurposeVolumes(ctx, b.ID, t0.Add(-day)); len(vols) != 0 {
			t.Errorf("tenant b volumes = %+v", vols)
		}
		return nil
	})
}
