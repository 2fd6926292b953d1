package service

import (
	"testing"
	"time"
)

func TestBatchSizer(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fixed  int
		perRow time.Duration // what a row costs, the same every batch
		want   int           // the size it settles at
	}{
		{"random indexes", 0, 80 * time.Microsecond, 25},
		{"time-ordered indexes", 0, 15 * time.Microsecond, 133},
		{"cheap rows stop at the ceiling", 0, 100 * time.Nanosecond, maxPurgeBatch},
		{"dear rows stop at the floor", 0, 5 * time.Millisecond, minPurgeBatch},
		{"a fixed size stays", 250, 80 * time.Microsecond, 250},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBatchSizer(tc.fixed, PurgeBatchTime)
			for range 30 {
				b.done(b.size, time.Duration(b.size)*tc.perRow)
			}
			if d := b.size - tc.want; d < -1 || d > 1 {
				t.Fatalf("size %d after 30 batches, want %d", b.size, tc.want)
			}
		})
	}
}

func TestBatchSizerDampsOneSlowBatch(t *testing.T) {
	b := newBatchSizer(0, PurgeBatchTime)
	for range 30 {
		b.done(b.size, time.Duration(b.size)*15*time.Microsecond)
	}
	before := b.size
	b.done(b.size, 50*time.Millisecond) // a checkpoint or a page fault
	if b.size < before/2-1 {
		t.Fatalf("one slow batch took the size from %d to %d; want at most halved", before, b.size)
	}
	b.done(0, 0) // an empty batch says nothing about cost
	if b.size < minPurgeBatch {
		t.Fatalf("size %d below the floor", b.size)
	}
}

func TestPurgeBatchTimeByDialect(t *testing.T) {
	if purgeBatchTime("sqlite") != PurgeBatchTime || purgeBatchTime("postgres") != PurgeBatchTimePostgres {
		t.Fatal("wrong batch time for a dialect")
	}
	b := newBatchSizer(0, PurgeBatchTimePostgres)
	for range 30 {
		b.done(b.size, time.Duration(b.size)*16*time.Microsecond)
	}
	if b.size < 1200 || b.size > 1300 {
		t.Fatalf("PostgreSQL batches settle at %d rows at 16 µs a row, want 1250", b.size)
	}
}
