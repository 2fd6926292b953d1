package sqlite

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
	"time"
)

// SQLite in WAL mode checkpoints (copies the WAL back into the database file
// and fsyncs it) from inside the commit that pushes the WAL past
// wal_autocheckpoint pages. That commit, and every request queued behind
// the single writer, then waits for the checkpoint: measured, it is most of
// the p99 of an audited read (a few ms against a p50 of 0.1–0.2 ms).
//
// So checkpoints run here, on a connection of their own, in PASSIVE mode:
// they copy what no reader still needs and never take the writer's lock, so
// commits go on while the database file is written and synced. Commits nudge
// the checkpointer; it runs at most every checkpointEvery. The writer's own
// automatic checkpoint stays as a backstop at a much larger WAL
// (writerAutoCheckpoint pages), reached only if this goroutine stalls.
//
// How often is a trade, measured on two cores. A checkpoint slows the
// writer while it syncs (the file system, not SQLite's locks) in proportion
// to what it copies: audited reads offered at 4,000/s had a p99 of 1.4 ms
// with checkpoints every 5 ms, 1.7–2.0 ms every 10 ms, 2.5–2.9 ms every
// 50 ms and 34 ms every 500 ms. But under a heavy write load (a purge) the
// same hot pages are rewritten by every transaction and copied again by
// every checkpoint: every 10 ms, the checkpointer took enough CPU to push
// the decisions' p99 during a purge from about 2× idle to 5×. Every 50 ms
// keeps the purge at 2× and the audit's cost within 1 ms up to about
// 2,000 audited reads a second; a rule that switched between 10 and 50 ms
// by the WAL's growth was no better at either. (The purge ratios come from
// the purge benchmark's first version, whose client dialled per request
// and whose rows were all time-ordered; docs/benchmarks.md.)

const (
	checkpointEvery      = 50 * time.Millisecond
	writerAutoCheckpoint = 20000 // pages (≈ 80 MB at 4 KiB)
)

type checkpointer struct {
	db       *sql.DB
	nudge    chan struct{}
	stop     chan struct{}
	once     sync.Once
	closeErr error
	done     sync.WaitGroup
	frames   atomic.Int64 // WAL frames copied back, for tests and metrics
}

func startCheckpointer(dsn string) *checkpointer {
	db := openDB(dsn)
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	c := &checkpointer{db: db, nudge: make(chan struct{}, 1), stop: make(chan struct{})}
	c.done.Add(1)
	go c.loop()
	return c
}

// committed tells the checkpointer that the WAL grew. It never blocks.
func (c *checkpointer) committed() {
	select {
	case c.nudge <- struct{}{}:
	default:
	}
}

func (c *checkpointer) loop() {
	defer c.done.Done()
	last := time.Time{}
	for {
		select {
		case <-c.stop:
			return
		case <-c.nudge:
		}
		if wait := checkpointEvery - time.Since(last); wait > 0 {
			select {
			case <-c.stop:
				return
			case <-time.After(wait):
			}
		}
		last = time.Now()
		c.run()
	}
}

// run does one passive checkpoint. Errors (SQLITE_BUSY while another
// checkpoint runs, a closing database) are not worth reporting: the next
// commit nudges again, and the writer's backstop bounds the WAL.
func (c *checkpointer) run() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var busy, logFrames, copied int64
	if err := c.db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logFrames, &copied); err != nil {
		return
	}
	if copied > 0 {
		c.frames.Add(copied)
	}
}

func (c *checkpointer) close() error {
	c.once.Do(func() {
		close(c.stop)
		c.done.Wait()
		c.closeErr = c.db.Close()
	})
	return c.closeErr
}
