package service

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"

	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/store/sqlite"
)

// modeStore records which kind of write each transaction is.
type modeStore struct {
	*sqlite.DB
	mode string // "durable" or "relaxed"; the committer runs one batch at a time
}

func (m *modeStore) Write(ctx context.Context, fn func(store.Tx) error) error {
	return m.DB.Write(ctx, func(tx store.Tx) error { m.mode = "durable"; return fn(tx) })
}

func (m *modeStore) WriteRelaxed(ctx context.Context, fn func(store.Tx) error) error {
	return m.DB.WriteRelaxed(ctx, func(tx store.Tx) error { m.mode = "relaxed"; return fn(tx) })
}

// TestCommitterKeepsChangesDurable sends changes and read records through
// the committer at once, so that batches mix them, and checks that every
// change ran in a durable transaction and every read record in a relaxed
// one, and that a failing unit of either kind fails alone.
func TestCommitterKeepsChangesDurable(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ms := &modeStore{DB: db}
	c := newCommitter(ms, 64, slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer c.close()

	errUnit := errors.New("unit fails")
	const n = 400
	var wg sync.WaitGroup
	got := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn := func(store.Tx) error {
				got[i] = ms.mode
				if i%7 == 0 {
					return errUnit
				}
				return nil
			}
			if i%2 == 0 {
				errs[i] = c.do(ctx, fn, nil)
			} else {
				errs[i] = c.doRead(ctx, fn)
			}
		}()
	}
	wg.Wait()
	for i := range n {
		want := "durable"
		if i%2 == 1 {
			want = "relaxed"
		}
		if got[i] != want {
			t.Fatalf("unit %d ran in a %q transaction, want %q", i, got[i], want)
		}
		if (i%7 == 0) != errors.Is(errs[i], errUnit) {
			t.Fatalf("unit %d: err %v", i, errs[i])
		}
	}
}
