// Package storetest is the conformance suite every store backend must pass.
// It exercises the store.Store contract only, so a second backend runs the
// very same tests: call Run from the backend's own test with a function that
// returns a fresh, empty store.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/store"
)

// Run runs every conformance test against stores made by open.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Tenants", testTenants},
		{"APIKeys", testAPIKeys},
		{"Purposes", testPurposes},
		{"Contacts", testContacts},
		{"ConsentEvents", testConsentEvents},
		{"ConsentProjectionKeepsNewest", testProjectionKeepsNewest},
		{"Suppressions", testSuppressions},
		{"WriteRollsBack", testWriteRollsBack},
		{"UnitRollsBackOnlyItself", testUnit},
		{"TenantIsolation", testTenantIsolation},
		{"ChangesSince", testChangesSince},
		{"Messages", testMessages},
		{"MarkMessages", testMarkMessages},
		{"CreateMessages", testCreateMessages},
		{"ContactKeys", testContactKeys},
		{"Replies", testReplies},
		{"ClaimMessages", testClaim},
		{"MessagesAcrossTime", testMessagesAcrossTime},
		{"ChannelProviders", testChannelProviders},
		{"MessageTenantIsolation", testMessageTenantIsolation},
		{"Senders", testSenders},
		{"KeywordRules", testKeywordRules},
		{"WebhookSecrets", testWebhookSecrets},
		{"InboundMessages", testInboundMessages},
		{"KeywordStops", testKeywordStops},
		{"ProfilesAndTemplates", testProfilesAndTemplates},
		{"Forwards", testForwards},
		{"StatusForwards", testStatusForwards},
		{"Privacy", testPrivacy},
		{"BlindForms", testBlindForms},
		{"Access", testAccess},
		{"Records", testRecords},
		{"Templates", testTemplates},
		{"Sessions", testSessions},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

var seq atomic.Int64

// id returns a unique id for test rows.
func id(prefix string) string { return fmt.Sprintf("%s%012d", prefix, seq.Add(1)) }

var t0 = time.Date(2026, 11, 28, 10, 0, 0, 123456000, time.UTC)

func write(t *testing.T, s store.Store, fn func(store.Tx) error) {
	t.Helper()
	if err := s.Write(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, s store.Store, fn func(store.Tx) error) {
	t.Helper()
	if err := s.Read(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

func mkTenant(t *testing.T, s store.Store) *store.Tenant {
	t.Helper()
	tn := &store.Tenant{ID: id("t"), Name: id("tenant-"), WrappedKey: []byte{1, 2, 3}, CreatedAt: t0}
	write(t, s, func(tx store.Tx) error { return tx.CreateTenant(context.Background(), tn) })
	return tn
}

func mkPurpose(key string) *consent.Purpose {
	return &consent.Purpose{Key: key, Name: "Name " + key, Description: "What you get", NoticeVersion: 1,
		Category: consent.Marketing, Basis: consent.BasisConsent, Channels: []consent.Channel{consent.SMS, consent.Email},
		DoubleOptIn: true, Lifetime: 48 * time.Hour}
}

func mkContact(t *testing.T, s store.Store, tenantID string, bis ...string) *store.Contact {
	t.Helper()
	c := &store.Contact{ID: id("c"), TenantID: tenantID, Locale: "da-DK", WrappedKey: []byte("wk"),
		AttributesSealed: []byte("attrs"), CreatedAt: t0, UpdatedAt: t0}
	var ids []store.Identifier
	for _, bi := range bis {
		ids = append(ids, store.Identifier{Kind: consent.KindPhone, BlindIndex: []byte(bi), Sealed: []byte("sealed-" + bi)})
	}
	write(t, s, func(tx store.Tx) error { return tx.CreateContact(context.Background(), c, ids) })
	return c
}

func mkEvent(tenantID, contactID, purpose string, ch consent.Channel, st consent.Status) *store.ConsentEvent {
	return &store.ConsentEvent{ID: id("e"), TenantID: tenantID, ContactID: contactID, Purpose: purpose, Channel: ch,
		Status: st, Confirmed: st == consent.StatusGranted, Source: "api", NoticeVersion: 2,
		EvidenceSealed: []byte("ev"), EvidenceDigest: bytes.Repeat([]byte{7}, 32), Actor: "k1",
		OccurredAt: t0, RecordedAt: t0.Add(time.Second), ExpiresAt: t0.Add(time.Hour)}
}

func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
}
