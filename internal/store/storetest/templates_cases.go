package storetest

import (
	"reflect"
	"testing"

	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/store"
)

// testTemplates: (tenant, name, channel, language) is unique; reads and
// deletes stay inside the tenant; a delete narrows by channel and language.
func testTemplates(t *testing.T, s store.Store) {
	a, b := mkTenant(t, s), mkTenant(t, s)
	mk := func(tenant, name string, ch consent.Channel, lang string) *store.Template {
		return &store.Template{TenantID: tenant, Name: name, Channel: ch, Language: lang,
			Body: "Hej {{first_name}} – " + lang, CreatedAt: t0}
	}
	da := mk(a.ID, "welcome", consent.SMS, "da")
	en := mk(a.ID, "welcome", consent.SMS, "en")
	mail := mk(a.ID, "welcome", consent.Email, "en")
	mail.Subject = "Welcome {{first_name}}"
	other := mk(a.ID, "zeta", consent.SMS, "en")
	foreign := mk(b.ID, "welcome", consent.SMS, "da")
	for _, m := range []*store.Template{da, en, mail, other, foreign} {
		write(t, s, func(tx store.Tx) error { return tx.CreateTemplate(ctx, m) })
	}
	dup := *da
	dup.Body = "other"
	wantErr(t, s.Write(ctx, func(tx store.Tx) error { return tx.CreateTemplate(ctx, &dup) }), store.ErrConflict)
	read(t, s, func(tx store.Tx) error {
		all, err := tx.ListTemplates(ctx, a.ID)
		if err != nil || !reflect.DeepEqual(all, []*store.Template{mail, da, en, other}) {
			t.Errorf("ListTemplates = %+v, %v", all, err)
		}
		got, err := tx.GetTemplates(ctx, a.ID, "welcome")
		if err != nil || !reflect.DeepEqual(got, []*store.Template{mail, da, en}) {
			t.Errorf("GetTemplates = %+v, %v", got, err)
		}
		if got, err := tx.GetTemplates(ctx, b.ID, "zeta"); err != nil || len(got) != 0 {
			t.Errorf("GetTemplates(other tenant) = %+v, %v", got, err)
		}
		return nil
	})
	// Another tenant's name is not found, and its template stays.
	wantErr(t, s.Write(ctx, func(tx store.Tx) error {
		_, err := tx.DeleteTemplates(ctx, b.ID, "zeta", "", "")
		return err
	}), store.ErrNotFound)
	wantErr(t, s.Write(ctx, func(tx store.Tx) error {
		_, err := tx.DeleteTemplates(ctx, a.ID, "welcome", consent.SMS, "fr")
		return err
	}), store.ErrNotFound)
	var n int
	write(t, s, func(tx store.Tx) (err error) {
		n, err = tx.DeleteTemplates(ctx, a.ID, "welcome", consent.SMS, "")
		return err
	})
	if n != 2 {
		t.Errorf("DeleteTemplates(sms) removed %d, want 2", n)
	}
	write(t, s, func(tx store.Tx) (err error) { n, err = tx.DeleteTemplates(ctx, a.ID, "welcome", "", ""); return err })
	if n != 1 {
		t.Errorf("DeleteTemplates(all) removed %d, want 1", n)
	}
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetTemplates(ctx, b.ID, "welcome")
		if err != nil || !reflect.DeepEqual(got, []*store.Template{foreign}) {
			t.Errorf("other tenant's templates = %+v, %v", got, err)
		}
		return nil
	})
}
