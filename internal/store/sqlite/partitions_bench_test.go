package sqlite

import (
	"crypto/rand"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/oklog/ulid/v2"
)

// BenchmarkPartitionedLookups measures what partitions cost the paths that
// use messages and inbound records: with the rows of a year in one
// partition and spread over 53 (the default message retention), each
// holding 2,000 messages and as many inbound records.
//
//	go test -run '^$' -bench PartitionedLookups ./internal/store/sqlite/
func BenchmarkPartitionedLookups(b *testing.B) {
	for _, weeks := range []int{1, 53} {
		b.Run(fmt.Sprintf("partitions=%d", weeks), func(b *testing.B) {
			db, err := Open(bg, b.TempDir()+"/db", Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			tenant := ulid.Make().String()
			var oldest, newest *store.Message
			err = db.Write(bg, func(st store.Tx) error {
				if err := st.CreateTenant(bg, &store.Tenant{ID: tenant, Name: "t", WrappedKey: []byte{1}, CreatedAt: time.Now()}); err != nil {
					return err
				}
				// Oldest first, in the order traffic comes in.
				for w := 52; w >= 0; w-- {
					at := time.Now().Add(-time.Duration(w%weeks)*partitionPeriod - time.Duration(benchRows)*time.Millisecond)
					for i := range benchRows {
						m := benchMessage(tenant, at.Add(time.Duration(i)*time.Millisecond), fmt.Sprintf("k-%d-%d", w, i))
						if err := st.CreateMessage(bg, m); err != nil {
							return err
						}
						if oldest == nil {
							oldest = m
						}
						newest = m
						if err := st.CreateInboundMessage(bg, benchInbound(tenant, m.CreatedAt)); err != nil {
							return err
						}
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			read := func(name string, fn func(st store.Tx) error) {
				b.Run(name, func(b *testing.B) {
					err := db.Read(bg, func(st store.Tx) error {
						for b.Loop() {
							if err := fn(st); err != nil && !errors.Is(err, store.ErrNotFound) {
								return err
							}
						}
						return nil
					})
					if err != nil {
						b.Fatal(err)
					}
				})
			}
			read("GetMessage", func(st store.Tx) error { _, err := st.GetMessage(bg, tenant, oldest.ID); return err })
			read("GetMessageByIdempotencyKey/miss", func(st store.Tx) error {
				_, err := st.GetMessageByIdempotencyKey(bg, tenant, "none")
				return err
			})
			read("FindMessageByProviderRef/newest", func(st store.Tx) error {
				_, err := st.FindMessageByProviderRef(bg, tenant, consent.SMS, newest.ProviderRef)
				return err
			})
			read("FindMessageByProviderRef/miss", func(st store.Tx) error {
				_, err := st.FindMessageByProviderRef(bg, tenant, consent.SMS, "none")
				return err
			})
			// The dispatcher's claim reads the due messages through the
			// view (none are due here) before it takes any.
			read("DueMessages/none", func(st store.Tx) error {
				return scanEach(bg, st.(*tx), qDueMessages, func(interface{ Scan(...any) error }) error { return nil },
					us(time.Now()), 100)
			})
			read("GetInboundMessage/miss", func(st store.Tx) error {
				_, err := st.GetInboundMessage(bg, tenant, consent.SMS, "none")
				return err
			})
			// Writes: each op is a new message with a key and an inbound
			// record, in transactions of 256 as group commit makes them.
			b.Run("CreateMessageAndInbound", func(b *testing.B) {
				for start := 0; start < b.N; start += 256 {
					err := db.WriteRelaxed(bg, func(st store.Tx) error {
						for i := start; i < min(b.N, start+256); i++ {
							m := benchMessage(tenant, time.Now(), "new-"+ulid.Make().String())
							if err := st.CreateMessage(bg, m); err != nil {
								return err
							}
							if err := st.CreateInboundMessage(bg, benchInbound(tenant, m.CreatedAt)); err != nil {
								return err
							}
						}
						return nil
					})
					if err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// benchRows is how many messages (and inbound records) each week holds.
var benchRows = 2000

func benchMessage(tenant string, at time.Time, key string) *store.Message {
	id := ulid.MustNew(ulid.Timestamp(at), rand.Reader).String()
	ri := make([]byte, 32)
	rand.Read(ri)
	return &store.Message{ID: id, TenantID: tenant, Kind: store.MessageKindSend, Channel: consent.SMS, Sender: "S",
		RecipientKind: consent.KindPhone, RecipientIndex: ri, Status: store.MessageDelivered, Reason: consent.ReasonConsentGranted,
		BodyHash: ri, IdempotencyKey: key, ProviderRef: "SM" + id, ContactID: ulid.Make().String(),
		DueAt: at, CreatedAt: at, UpdatedAt: at}
}

func benchInbound(tenant string, at time.Time) *store.InboundMessage {
	id := ulid.MustNew(ulid.Timestamp(at), rand.Reader).String()
	return &store.InboundMessage{ID: id, TenantID: tenant, Channel: consent.SMS, ProviderID: "SM" + id, SenderID: "s",
		FromIndex: []byte(id), TextHash: []byte("h"), Outcome: "ignored", ReceivedAt: at, RecordedAt: at}
}
