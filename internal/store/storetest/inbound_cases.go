package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/store"
)

// testSenders: a (channel, address) routes to exactly one tenant.
func testSenders(t *testing.T, s store.Store) {
	a, b := mkTenant(t, s), mkTenant(t, s)
	sn := &store.Sender{ID: id("s"), TenantID: a.ID, Channel: consent.SMS, Kind: store.SenderShortCode,
		Address: "1234", Purposes: []string{"news", "offers"}, CreatedAt: t0}
	write(t, s, func(tx store.Tx) error { return tx.CreateSender(ctx, sn) })
	// The same address on another channel is another sender.
	wa := &store.Sender{ID: id("s"), TenantID: b.ID, Channel: consent.WhatsApp, Kind: store.SenderWhatsApp,
		Address: "1234", Purposes: []string{}, CreatedAt: t0}
	write(t, s, func(tx store.Tx) error { return tx.CreateSender(ctx, wa) })
	dup := *sn
	dup.ID, dup.TenantID = id("s"), b.ID
	wantErr(t, s.Write(ctx, func(tx store.Tx) error { return tx.CreateSender(ctx, &dup) }), store.ErrConflict)
	read(t, s, func(tx store.Tx) error {
		got, err := tx.FindSender(ctx, consent.SMS, "1234")
		if err != nil || !reflect.DeepEqual(got, sn) {
			t.Errorf("FindSender = %+v, %v", got, err)
		}
		_, err = tx.FindSender(ctx, consent.SMS, "9999")
		wantErr(t, err, store.ErrNotFound)
		if got, err := tx.GetSender(ctx, a.ID, sn.ID); err != nil || !reflect.DeepEqual(got, sn) {
			t.Errorf("GetSender = %+v, %v", got, err)
		}
		_, err = tx.GetSender(ctx, b.ID, sn.ID)
		wantErr(t, err, store.ErrNotFound) // another tenant's sender
		all, err := tx.ListSenders(ctx, b.ID)
		if err != nil || len(all) != 1 || all[0].ID != wa.ID || all[0].Purposes == nil {
			t.Errorf("ListSenders = %+v, %v", all, err)
		}
		return nil
	})
}

func testKeywordRules(t *testing.T, s store.Store) {
	a, b := mkTenant(t, s), mkTenant(t, s)
	r := &store.KeywordRule{ID: id("r"), TenantID: a.ID, Phrase: "STOP NEWS", Intent: "opt_out", Action: "stop",
		Scope: "news", Language: "en", CreatedAt: t0}
	write(t, s, func(tx store.Tx) error { return tx.CreateKeywordRule(ctx, r) })
	dup := *r
	dup.ID = id("r")
	wantErr(t, s.Write(ctx, func(tx store.Tx) error { return tx.CreateKeywordRule(ctx, &dup) }), store.ErrConflict)
	other := dup
	other.TenantID = b.ID
	write(t, s, func(tx store.Tx) error { return tx.CreateKeywordRule(ctx, &other) })
	read(t, s, func(tx store.Tx) error {
		all, err := tx.ListKeywordRules(ctx, a.ID)
		if err != nil || len(all) != 1 || !reflect.DeepEqual(all[0], r) {
			t.Errorf("ListKeywordRules = %+v, %v", all, err)
		}
		return nil
	})
	wantErr(t, s.Write(ctx, func(tx store.Tx) error { return tx.DeleteKeywordRule(ctx, a.ID, other.ID) }), store.ErrNotFound)
	write(t, s, func(tx store.Tx) error { return tx.DeleteKeywordRule(ctx, a.ID, r.ID) })
	read(t, s, func(tx store.Tx) error {
		all, err := tx.ListKeywordRules(ctx, a.ID)
		if err != nil || len(all) != 0 {
			t.Errorf("after delete: %+v, %v", all, err)
		}
		return nil
	})
}

func testWebhookSecrets(t *testing.T, s store.Store) {
	a := mkTenant(t, s)
	ws := &store.WebhookSecret{TenantID: a.ID, Provider: "generic", Sealed: []byte("one"), Hint: "whsec_ab", RotatedAt: t0, CreatedAt: t0}
	write(t, s, func(tx store.Tx) error { return tx.PutWebhookSecret(ctx, ws) })
	rot := *ws
	rot.Sealed, rot.PreviousSealed, rot.RotatedAt = []byte("two"), []byte("one"), t0.Add(time.Hour)
	write(t, s, func(tx store.Tx) error { return tx.PutWebhookSecret(ctx, &rot) })
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetWebhookSecret(ctx, a.ID, "generic")
		if err != nil || !reflect.DeepEqual(got, &rot) {
			t.Errorf("GetWebhookSecret = %+v, %v", got, err)
		}
		_, err = tx.GetWebhookSecret(ctx, a.ID, "twilio")
		wantErr(t, err, store.ErrNotFound)
		all, err := tx.ListWebhookSecrets(ctx, a.ID)
		if err != nil || len(all) != 1 {
			t.Errorf("ListWebhookSecrets = %+v, %v", all, err)
		}
		return nil
	})
}

// testInboundMessages: the provider id makes a delivery unique per tenant
// and channel, which is what makes webhooks idempotent.
func testInboundMessages(t *testing.T, s store.Store) {
	a, b := mkTenant(t, s), mkTenant(t, s)
	m := &store.InboundMessage{ID: id("m"), TenantID: a.ID, Channel: consent.SMS, ProviderID: "SM1", SenderID: "s1",
		ContactID: "c1", FromIndex: []byte("bi"), TextHash: []byte("h"), TextLen: 4, Keyword: "STOP", Action: "stop",
		Scope: "sender", Language: "en", Outcome: "opt_out", ReceivedAt: t0, RecordedAt: t0.Add(time.Second)}
	write(t, s, func(tx store.Tx) error { return tx.CreateInboundMessage(ctx, m) })
	again := *m
	again.ID = id("m")
	wantErr(t, s.Write(ctx, func(tx store.Tx) error { return tx.CreateInboundMessage(ctx, &again) }), store.ErrConflict)
	for _, ok := range []store.InboundMessage{
		func() store.InboundMessage { x := again; x.ID = id("m"); x.Channel = consent.WhatsApp; return x }(),
		func() store.InboundMessage { x := again; x.ID = id("m"); x.TenantID = b.ID; return x }(),
	} {
		write(t, s, func(tx store.Tx) error { return tx.CreateInboundMessage(ctx, &ok) })
	}
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetInboundMessage(ctx, a.ID, consent.SMS, "SM1")
		if err != nil || !reflect.DeepEqual(got, m) {
			t.Errorf("GetInboundMessage = %+v, %v", got, err)
		}
		_, err = tx.GetInboundMessage(ctx, a.ID, consent.SMS, "SM2")
		wantErr(t, err, store.ErrNotFound)
		return nil
	})
}

func testKeywordStops(t *testing.T, s store.Store) {
	a := mkTenant(t, s)
	c := mkContact(t, s, a.ID, "stop-bi")
	st := &store.KeywordStop{TenantID: a.ID, ContactID: c.ID, Channel: consent.SMS, InboundID: "m1", CreatedAt: t0,
		Items: []store.StopItem{{Purpose: "news", Status: consent.StatusGranted, Confirmed: true, ExpiresAt: t0.Add(time.Hour)},
			{Purpose: "offers", Status: consent.StatusNone}}}
	write(t, s, func(tx store.Tx) error { return tx.PutKeywordStop(ctx, st) })
	next := *st
	next.InboundID, next.Items = "m2", []store.StopItem{{Purpose: "news", Status: consent.StatusPending}}
	write(t, s, func(tx store.Tx) error { return tx.PutKeywordStop(ctx, &next) })
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetKeywordStop(ctx, a.ID, c.ID, consent.SMS)
		if err != nil || !reflect.DeepEqual(got, &next) {
			t.Errorf("GetKeywordStop = %+v, %v", got, err)
		}
		_, err = tx.GetKeywordStop(ctx, a.ID, c.ID, consent.Email)
		wantErr(t, err, store.ErrNotFound)
		return nil
	})
	write(t, s, func(tx store.Tx) error { return tx.PutKeywordStop(ctx, st) })
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetKeywordStop(ctx, a.ID, c.ID, consent.SMS)
		if err != nil || !reflect.DeepEqual(got, st) {
			t.Errorf("GetKeywordStop (expiry round trip) = %+v, %v", got, err)
		}
		return nil
	})
	write(t, s, func(tx store.Tx) error { return tx.DeleteKeywordStop(ctx, a.ID, c.ID, consent.SMS) })
	read(t, s, func(tx store.Tx) error {
		_, err := tx.GetKeywordStop(ctx, a.ID, c.ID, consent.SMS)
		wantErr(t, err, store.ErrNotFound)
		return nil
	})
}

func testProfilesAndTemplates(t *testing.T, s store.Store) {
	a := mkTenant(t, s)
	read(t, s, func(tx store.Tx) error {
		_, err := tx.GetTenantProfile(ctx, a.ID)
		wantErr(t, err, store.ErrNotFound)
		return nil
	})
	p := &store.TenantProfile{TenantID: a.ID, ControllerName: "Acme A/S", PrivacyNoticeURL: "https://acme.example/privacy",
		DPOName: "Dana", DPOEmail: "dpo@acme.example", UpdatedAt: t0}
	write(t, s, func(tx store.Tx) error { return tx.PutTenantProfile(ctx, p) })
	p2 := *p
	p2.ControllerName = "Acme ApS"
	write(t, s, func(tx store.Tx) error { return tx.PutTenantProfile(ctx, &p2) })
	rt := &store.ReplyTemplate{TenantID: a.ID, Kind: "help", Language: "da", Body: "Hjælp: {{.Tenant}}", UpdatedAt: t0}
	write(t, s, func(tx store.Tx) error { return tx.PutReplyTemplate(ctx, rt) })
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetTenantProfile(ctx, a.ID)
		if err != nil || !reflect.DeepEqual(got, &p2) {
			t.Errorf("GetTenantProfile = %+v, %v", got, err)
		}
		all, err := tx.ListReplyTemplates(ctx, a.ID)
		if err != nil || len(all) != 1 || !reflect.DeepEqual(all[0], rt) {
			t.Errorf("ListReplyTemplates = %+v, %v", all, err)
		}
		return nil
	})
	wantErr(t, s.Write(ctx, func(tx store.Tx) error { return tx.DeleteReplyTemplate(ctx, a.ID, "help", "en") }), store.ErrNotFound)
	write(t, s, func(tx store.Tx) error { return tx.DeleteReplyTemplate(ctx, a.ID, "help", "da") })
}

// testForwards: pending forwards are found when due, retried later, and
// deleted (with their sealed bodies) once delivered.
func testForwards(t *testing.T, s store.Store) {
	a := mkTenant(t, s)
	ft := &store.ForwardTarget{TenantID: a.ID, URL: "https://acme.example/hook", SecretSealed: []byte("sec"), UpdatedAt: t0}
	write(t, s, func(tx store.Tx) error { return tx.PutForwardTarget(ctx, ft) })
	f1 := &store.Forward{ID: id("f"), TenantID: a.ID, InboundID: "m1", BodySealed: []byte("b1"), NextAttempt: t0, CreatedAt: t0}
	f2 := &store.Forward{ID: id("f"), TenantID: a.ID, InboundID: "m2", BodySealed: []byte("b2"), NextAttempt: t0.Add(time.Minute), CreatedAt: t0}
	write(t, s, func(tx store.Tx) error {
		if err := tx.CreateForward(ctx, f1); err != nil {
			return err
		}
		return tx.CreateForward(ctx, f2)
	})
	due := func(at time.Time) (ids []string) {
		read(t, s, func(tx store.Tx) error {
			fs, err := tx.DueForwards(ctx, at, 10)
			for _, f := range fs {
				ids = append(ids, f.ID)
			}
			return err
		})
		return ids
	}
	if got := due(t0); !reflect.DeepEqual(got, []string{f1.ID}) {
		t.Fatalf("due at t0 = %v", got)
	}
	write(t, s, func(tx store.Tx) error { return tx.RetryForward(ctx, a.ID, f1.ID, 1, t0.Add(2*time.Minute), "503") })
	if got := due(t0.Add(time.Minute)); !reflect.DeepEqual(got, []string{f2.ID}) {
		t.Fatalf("due after retry = %v", got)
	}
	write(t, s, func(tx store.Tx) error { return tx.DeleteForward(ctx, a.ID, f2.ID) })
	wantErr(t, s.Write(ctx, func(tx store.Tx) error { return tx.DeleteForward(ctx, a.ID, f2.ID) }), store.ErrNotFound)
	read(t, s, func(tx store.Tx) error {
		fs, err := tx.DueForwards(ctx, t0.Add(time.Hour), 10)
		if err != nil || len(fs) != 1 || fs[0].Attempts != 1 || fs[0].LastError != "503" || string(fs[0].BodySealed) != "b1" {
			t.Errorf("DueForwards = %+v, %v", fs, err)
		}
		got, err := tx.GetForwardTarget(ctx, a.ID)
		if err != nil || !reflect.DeepEqual(got, ft) {
			t.Errorf("GetForwardTarget = %+v, %v", got, err)
		}
		return nil
	})
}
