package service

import "time"

// The purge shares the database's single writer with the send path, so
// what a send waits for is how long one purge transaction holds it. Rows
// are a poor measure of that: on SQLite a finished message whose blind
// index, contact and provider reference are random costs 60–130 µs to
// delete (each random index entry dirties a page of its own, written to
// the WAL at commit), while rows whose indexes are all in time order cost
// about 15 µs. A fixed 100-row batch therefore held the writer for 1.5 ms on
// one kind of data and 6–13 ms on the other, and sends queued behind it
// for up to 150 ms (docs/benchmarks.md). So each batch is sized by time:
// the next batch asks for as many rows as the last ones deleted in
// PurgeBatchTime.
//
// PostgreSQL has no single writer: a purge transaction locks only the rows
// it deletes, and a send waits for none of them. There the batch is sized
// for throughput, PurgeBatchTimePostgres.
const (
	// PurgeBatchTime is how long one purge transaction should hold
	// SQLite's writer. Measured on two cores, 2 ms kept sends flowing (p99
	// about 20 ms during a purge of production-shaped rows, against
	// 100–150 ms with 100-row batches) for a purge 25–30 % slower; 1 ms
	// slowed the purge further and helped the sends no more.
	PurgeBatchTime = 2 * time.Millisecond
	// PurgeBatchTimePostgres is PurgeBatchTime on PostgreSQL: about
	// 1,000 production-shaped rows, which purged 58,000–61,000 rows/s
	// against 23,000–33,000 in 2 ms batches, with the sends' p99 at 6 ms
	// (4 ms idle).
	PurgeBatchTimePostgres = 20 * time.Millisecond
	// DefaultPurgeBatch is the first batch's size, before any is timed.
	DefaultPurgeBatch = 100
	minPurgeBatch     = 10
	maxPurgeBatch     = 2000
)

// batchSizer sizes purge batches. A fixed size (PurgeOptions.Batch) never
// changes; otherwise each batch's time moves the size halfway towards the
// size that would have taken the target time, so one slow batch (a page
// fault, a checkpoint) does not swing it.
type batchSizer struct {
	size   int
	fixed  bool
	target time.Duration
}

func newBatchSizer(fixed int, target time.Duration) *batchSizer {
	if fixed > 0 {
		return &batchSizer{size: fixed, fixed: true}
	}
	return &batchSizer{size: DefaultPurgeBatch, target: target}
}

// purgeBatchTime is the batch time for a store's dialect.
func purgeBatchTime(dialect string) time.Duration {
	if dialect == "postgres" {
		return PurgeBatchTimePostgres
	}
	return PurgeBatchTime
}

// done records that a batch deleted rows in took.
func (b *batchSizer) done(rows int, took time.Duration) {
	if b.fixed || rows <= 0 {
		return
	}
	took = max(took, time.Microsecond)
	want := int(int64(b.target) * int64(rows) / int64(took))
	b.size = min(max((b.size+want)/2, minPurgeBatch), maxPurgeBatch)
}
