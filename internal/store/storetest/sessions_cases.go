package storetest

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/store"
)

// testSessions: sessions are found by token hash, read, touched and deleted
// only inside their tenant; the token hash is unique; deleting a user
// removes its sessions; the purge removes what is past its absolute expiry
// or idle too long, and nothing else.
func testSessions(t *testing.T, s store.Store) {
	a, b := mkTenant(t, s), mkTenant(t, s)
	mkUser := func(tenantID, bi string) *store.User {
		u := &store.User{ID: id("u"), TenantID: tenantID, Role: "support", EmailSealed: []byte("sealed"),
			EmailIndex: []byte(bi), PasswordHash: "$argon2id$x", CreatedAt: t0}
		write(t, s, func(tx store.Tx) error { return tx.CreateUser(ctx, u) })
		return u
	}
	ua, ua2, ub := mkUser(a.ID, "bi-anna"), mkUser(a.ID, "bi-bo"), mkUser(b.ID, "bi-anna")
	mk := func(u *store.User, hash string, created time.Time) *store.Session {
		ss := &store.Session{ID: id("s"), TenantID: u.TenantID, UserID: u.ID, Role: u.Role,
			TokenHash: bytes.Repeat([]byte(hash), 32)[:32], CreatedAt: created, LastSeenAt: created,
			ExpiresAt: created.Add(12 * time.Hour)}
		write(t, s, func(tx store.Tx) error { return tx.CreateSession(ctx, ss) })
		return ss
	}
	s1 := mk(ua, "1", t0)
	s2 := mk(ua, "2", t0.Add(time.Minute))
	s3 := mk(ua2, "3", t0.Add(2*time.Minute))
	sb := mk(ub, "4", t0)

	dup := *s1
	dup.ID = id("s")
	wantErr(t, s.Write(ctx, func(tx store.Tx) error { return tx.CreateSession(ctx, &dup) }), store.ErrConflict)

	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetUserByEmail(ctx, a.ID, []byte("bi-anna"))
		if err != nil || got.ID != ua.ID {
			t.Errorf("GetUserByEmail = %+v, %v", got, err)
		}
		if got, err := tx.GetUserByEmail(ctx, b.ID, []byte("bi-anna")); err != nil || got.ID != ub.ID {
			t.Errorf("GetUserByEmail(b) = %+v, %v", got, err)
		}
		_, err = tx.GetUserByEmail(ctx, a.ID, []byte("bi-nobody"))
		wantErr(t, err, store.ErrNotFound)

		ss, err := tx.GetSessionByHash(ctx, s1.TokenHash)
		if err != nil || !reflect.DeepEqual(ss, s1) {
			t.Errorf("GetSessionByHash = %+v, %v; want %+v", ss, err, s1)
		}
		_, err = tx.GetSessionByHash(ctx, bytes.Repeat([]byte("9"), 32))
		wantErr(t, err, store.ErrNotFound)
		if ss, err := tx.GetSession(ctx, a.ID, s2.ID); err != nil || !reflect.DeepEqual(ss, s2) {
			t.Errorf("GetSession = %+v, %v", ss, err)
		}
		_, err = tx.GetSession(ctx, b.ID, s2.ID)
		wantErr(t, err, store.ErrNotFound)
		list, err := tx.ListSessions(ctx, a.ID)
		if err != nil || !reflect.DeepEqual(list, []*store.Session{s1, s2, s3}) {
			t.Errorf("ListSessions = %+v, %v", list, err)
		}
		return nil
	})

	// Touch moves last use forward only, and only inside the tenant.
	wantErr(t, s.Write(ctx, func(tx store.Tx) error { return tx.TouchSession(ctx, b.ID, s1.ID, t0.Add(time.Hour)) }), store.ErrNotFound)
	write(t, s, func(tx store.Tx) error { return tx.TouchSession(ctx, a.ID, s1.ID, t0.Add(time.Hour)) })
	write(t, s, func(tx store.Tx) error { return tx.TouchSession(ctx, a.ID, s1.ID, t0.Add(time.Minute)) })
	read(t, s, func(tx store.Tx) error {
		ss, err := tx.GetSession(ctx, a.ID, s1.ID)
		if err != nil || !ss.LastSeenAt.Equal(t0.Add(time.Hour)) {
			t.Errorf("after touch: %+v, %v; want last seen %v", ss, err, t0.Add(time.Hour))
		}
		return nil
	})

	// Deletes stay inside the tenant.
	wantErr(t, s.Write(ctx, func(tx store.Tx) error { return tx.DeleteSession(ctx, b.ID, s2.ID) }), store.ErrNotFound)
	write(t, s, func(tx store.Tx) error { return tx.DeleteSession(ctx, a.ID, s2.ID) })
	wantErr(t, s.Write(ctx, func(tx store.Tx) error { return tx.DeleteSession(ctx, a.ID, s2.ID) }), store.ErrNotFound)
	var n int
	write(t, s, func(tx store.Tx) (err error) { n, err = tx.DeleteUserSessions(ctx, b.ID, ua.ID); return err })
	if n != 0 {
		t.Errorf("DeleteUserSessions(other tenant) removed %d", n)
	}

	// Deleting a user takes its sessions with it.
	write(t, s, func(tx store.Tx) error { return tx.DeleteUser(ctx, a.ID, ua2.ID) })
	read(t, s, func(tx store.Tx) error {
		_, err := tx.GetSession(ctx, a.ID, s3.ID)
		wantErr(t, err, store.ErrNotFound)
		return nil
	})
	s4 := mk(ua, "5", t0.Add(3*time.Minute))
	write(t, s, func(tx store.Tx) (err error) { n, err = tx.DeleteUserSessions(ctx, a.ID, ua.ID); return err })
	if n != 2 {
		t.Errorf("DeleteUserSessions removed %d, want 2 (s1, s4)", n)
	}

	// The purge: s5 is idle since t0+1m, s6 past its absolute end, s7 and
	// sb live on.
	s5 := mk(ua, "6", t0.Add(time.Minute))
	s6 := mk(ua, "7", t0.Add(-11*time.Hour))
	write(t, s, func(tx store.Tx) error { return tx.TouchSession(ctx, a.ID, s6.ID, t0.Add(50*time.Minute)) })
	s7 := mk(ua, "8", t0.Add(40*time.Minute))
	now := t0.Add(time.Hour + time.Minute)
	write(t, s, func(tx store.Tx) (err error) {
		n, err = tx.PurgeSessions(ctx, now, now.Add(-30*time.Minute))
		return err
	})
	if n != 3 { // s5, s6 and sb (idle since t0)
		t.Errorf("PurgeSessions removed %d, want 3", n)
	}
	read(t, s, func(tx store.Tx) error {
		for _, gone := range []*store.Session{s4, s5, s6, sb} {
			if _, err := tx.GetSession(ctx, gone.TenantID, gone.ID); err == nil {
				t.Errorf("session %s survived", gone.ID)
			}
		}
		if _, err := tx.GetSession(ctx, a.ID, s7.ID); err != nil {
			t.Errorf("live session purged: %v", err)
		}
		return nil
	})
}
