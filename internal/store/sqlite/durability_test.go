package sqlite

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/store"
)

func syncLevel(t *testing.T, stx store.Tx) int {
	t.Helper()
	var level int
	if err := stx.(*tx).tx.QueryRow("PRAGMA synchronous").Scan(&level); err != nil {
		t.Fatal(err)
	}
	return level
}

// TestRelaxedWriteLevel checks the one property relaxed writes must never
// break: a durable write after a relaxed one is synced (FULL = 2), and only
// a relaxed write runs at NORMAL (1).
func TestRelaxedWriteLevel(t *testing.T) {
	ctx := context.Background()
	for _, opt := range []struct {
		sync             string
		durable, relaxed int
	}{{"FULL", 2, 1}, {"NORMAL", 1, 1}} {
		t.Run(opt.sync, func(t *testing.T) {
			db, err := Open(ctx, filepath.Join(t.TempDir(), "db"), Options{Synchronous: opt.sync})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			for i, relaxed := range []bool{false, true, true, false, true, false, false} {
				var got int
				fn := func(stx store.Tx) error { got = syncLevel(t, stx); return nil }
				if relaxed {
					err = db.WriteRelaxed(ctx, fn)
				} else {
					err = db.Write(ctx, fn)
				}
				if err != nil {
					t.Fatal(err)
				}
				want := opt.durable
				if relaxed {
					want = opt.relaxed
				}
				if got != want {
					t.Fatalf("write %d (relaxed=%v): synchronous=%d, want %d", i, relaxed, got, want)
				}
			}
		})
	}
}

// TestRelaxedWriteCommits checks that a relaxed write is committed (seen by
// readers and by a reopened database) and that a failing one leaves nothing.
func TestRelaxedWriteCommits(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "db")
	db, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	exec := func(q string) func(store.Tx) error {
		return func(stx store.Tx) error { _, err := stx.(*tx).tx.Exec(q); return err }
	}
	if err := db.Write(ctx, exec("CREATE TABLE probe (x INTEGER)")); err != nil {
		t.Fatal(err)
	}
	if err := db.WriteRelaxed(ctx, exec("INSERT INTO probe VALUES (1)")); err != nil {
		t.Fatal(err)
	}
	if err := db.WriteRelaxed(ctx, func(stx store.Tx) error {
		if err := exec("INSERT INTO probe VALUES (2)")(stx); err != nil {
			return err
		}
		return store.ErrConflict
	}); err != store.ErrConflict {
		t.Fatalf("failing relaxed write: %v", err)
	}
	db.Close()
	db, err = Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n, sum int
	if err := db.reader.QueryRow("SELECT count(*), coalesce(sum(x),0) FROM probe").Scan(&n, &sum); err != nil {
		t.Fatal(err)
	}
	if n != 1 || sum != 1 {
		t.Fatalf("probe holds %d rows summing %d, want the one relaxed row", n, sum)
	}
}

// TestBackgroundCheckpoint checks that the WAL is copied back by the
// background checkpointer, not left to grow to the writer's backstop.
func TestBackgroundCheckpoint(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "db")
	db, err := Open(ctx, path, Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Write(ctx, func(stx store.Tx) error {
		_, err := stx.(*tx).tx.Exec("CREATE TABLE probe (b BLOB)")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	blob := bytes.Repeat([]byte{0xA5}, 16<<10)
	const writes = 1000 // 16 MB through the WAL, a fifth of the backstop
	for i := range writes {
		if err := db.Write(ctx, func(stx store.Tx) error {
			_, err := stx.(*tx).tx.Exec("INSERT INTO probe VALUES (?)", blob)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if i%100 == 0 {
			time.Sleep(2 * checkpointEvery) // let a checkpoint run, as idle moments would
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for db.ckpt.frames.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if db.ckpt.frames.Load() == 0 {
		t.Fatal("the background checkpointer copied no WAL frames back")
	}
	fi, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() > int64(writes*len(blob))/2 {
		t.Fatalf("WAL is %d bytes after %d bytes written: not checkpointed in the background", fi.Size(), writes*len(blob))
	}
}
