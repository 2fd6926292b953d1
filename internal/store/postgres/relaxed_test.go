package postgres_test

import (
	"context"
	"testing"

	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/store/postgres"
	"github.com/consentgate/consentgate/internal/store/postgres/pgtest"
)

// TestRelaxedWriteScope checks that synchronous_commit is off inside a
// relaxed write only, and that the connection it ran on does not carry it
// into the durable writes after it (SET LOCAL ends with the transaction).
func TestRelaxedWriteScope(t *testing.T) {
	db := pgtest.Open(t)
	ctx := context.Background()
	for i, relaxed := range []bool{false, true, false, true, true, false} {
		var got string
		fn := func(tx store.Tx) (err error) {
			got, err = postgres.ShowInTx(ctx, tx, "synchronous_commit")
			return err
		}
		var err error
		if relaxed {
			err = db.WriteRelaxed(ctx, fn)
		} else {
			err = db.Write(ctx, fn)
		}
		if err != nil {
			t.Fatal(err)
		}
		want := "on"
		if relaxed {
			want = "off"
		}
		if got != want {
			t.Fatalf("write %d (relaxed=%v): synchronous_commit=%s, want %s", i, relaxed, got, want)
		}
	}
}
