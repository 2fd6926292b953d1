package sqlite

import (
	"database/sql/driver"
	"fmt"
	"path/filepath"
	"testing"
)

// TestStmtCacheKeepsRecent: past stmtCacheSize texts the least recently
// used statement goes, never one in use, and the newest ones are kept: with
// time partitions, the statements of the current partition come after
// those of every older one.
func TestStmtCacheKeepsRecent(t *testing.T) {
	db := openDB("file:" + filepath.Join(t.TempDir(), "db"))
	defer db.Close()
	conn, err := db.Conn(bg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		c := dc.(*cachingConn)
		query := func(q string) driver.Rows {
			rows, err := c.QueryContext(bg, q, nil)
			if err != nil {
				t.Fatal(err)
			}
			return rows
		}
		held := query("SELECT 'held'") // in use throughout: never evicted
		query("SELECT 'first'").Close()
		query("SELECT 'hot'").Close()
		for i := range stmtCacheSize + 50 {
			query(fmt.Sprintf("SELECT %d", i)).Close()
			if i%10 == 0 {
				query("SELECT 'hot'").Close() // used again and again: kept
			}
		}
		if n := len(c.stmts); n != stmtCacheSize || c.lru.Len() != n {
			t.Errorf("%d statements cached (%d in the list), want %d", n, c.lru.Len(), stmtCacheSize)
		}
		for q, want := range map[string]bool{
			"SELECT 'held'": true, "SELECT 'hot'": true, "SELECT 'first'": false,
			"SELECT 0": false, fmt.Sprintf("SELECT %d", stmtCacheSize+49): true,
		} {
			if _, got := c.stmts[q]; got != want {
				t.Errorf("%q cached: %v, want %v", q, got, want)
			}
		}
		held.Close()
		if s := c.stmts["SELECT 'held'"]; s == nil || s.busy {
			t.Errorf("the held statement after use: %+v", s)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
