package periodic

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// TestRunner: the job runs again and again, and stop cancels a pass in
// progress and waits for it to return.
func TestRunner(t *testing.T) {
	var runs atomic.Int32
	inPass := make(chan struct{})
	cancelled := make(chan struct{})
	p := &Runner{First: time.Millisecond, Every: time.Millisecond, Job: func(ctx context.Context) {
		if runs.Add(1) == 3 {
			close(inPass)
			<-ctx.Done()
			close(cancelled)
		}
	}}
	p.Start()
	select {
	case <-inPass:
	case <-time.After(10 * time.Second):
		t.Fatalf("the job ran %d times in 10 s, want 3", runs.Load())
	}
	p.Stop()
	select {
	case <-cancelled:
	default:
		t.Fatal("stop returned before the pass in progress saw its context cancelled")
	}
	if n := runs.Load(); n != 3 {
		t.Fatalf("the job ran %d times, and again after stop", n)
	}
}
