package sqlite

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/duro-run/duro/internal/store"
)

// TestResumeGate plays the hand-over of one batch in a fixed order and
// checks that the committer's wait ends exactly when the last answered
// caller has resumed, with every count settled.
func TestResumeGate(t *testing.T) {
	// Steps: "a<i>" the committer answers request i, "r<i>" caller i
	// resumes with its answer, "x<i>" caller i gives up.
	tests := []struct {
		name string
		// before runs before the committer waits, after while it waits;
		// the wait must end after the last step of after, not before.
		before, after []string
	}{
		{"no answers", nil, nil},
		{"all resumed before the wait", []string{"a0", "a1", "r0", "r1"}, nil},
		{"one resumes during the wait", []string{"a0", "a1", "r1"}, []string{"r0"}},
		{"two resume during the wait", []string{"a0", "a1", "a2"}, []string{"r2", "r0", "r1"}},
		{"given up before the answer", []string{"x0", "a0", "a1"}, []string{"r1"}},
		{"given up after the answer", []string{"a0", "a1", "x0", "r1"}, nil},
		{"given up during the wait", []string{"a0", "a1"}, []string{"r1", "x0"}},
		{"all given up", []string{"x0", "x1", "a0", "a1"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := openResumeGate()
			reqs := make([]*commitRequest, 3)
			for i := range reqs {
				reqs[i] = &commitRequest{res: make(chan error, 1)}
			}
			step := func(s string) {
				var i int
				if _, err := fmt.Sscanf(s[1:], "%d", &i); err != nil {
					t.Fatalf("bad step %q", s)
				}
				switch s[0] {
				case 'a':
					g.answer(reqs[i], nil)
				case 'r':
					<-reqs[i].res
					reqs[i].gate.resumed()
				case 'x':
					reqs[i].abandon()
				}
			}
			for _, s := range tt.before {
				step(s)
			}
			waited := make(chan struct{})
			go func() {
				g.wait()
				close(waited)
			}()
			for _, s := range tt.after {
				select {
				case <-waited:
					t.Fatalf("the wait ended before step %q", s)
				case <-time.After(20 * time.Millisecond):
				}
				step(s)
			}
			select {
			case <-waited:
			case <-time.After(10 * time.Second):
				t.Fatal("the wait did not end after the last caller resumed")
			}
			if n := len(g.wake); n != 0 {
				t.Fatalf("%d wake-up tokens left after the wait", n)
			}
			if n := g.pending.Load(); n != 0 {
				t.Fatalf("pending = %d after the batch", n)
			}
		})
	}
}

// TestResumeGateReleased checks that a batch whose gate the committer
// released without waiting leaves the next batch's wait alone: its
// callers, resuming or giving up late, count on their own gate only.
func TestResumeGateReleased(t *testing.T) {
	req := func() *commitRequest { return &commitRequest{res: make(chan error, 1)} }
	first := openResumeGate()
	a, b := req(), req()
	first.answer(a, nil)
	first.answer(b, nil)
	first.release()

	next := openResumeGate()
	c := req()
	next.answer(c, nil)
	// The first batch's callers come back during the next batch.
	<-a.res
	a.gate.resumed()
	b.abandon()
	waited := make(chan struct{})
	go func() {
		next.wait()
		close(waited)
	}()
	select {
	case <-waited:
		t.Fatal("the next batch's wait ended before its own caller resumed")
	case <-time.After(20 * time.Millisecond):
	}
	<-c.res
	c.gate.resumed()
	select {
	case <-waited:
	case <-time.After(10 * time.Second):
		t.Fatal("the next batch's wait did not end after its caller resumed")
	}
	if n := first.pending.Load(); n != 0 {
		t.Errorf("released gate: pending = %d after its callers came back", n)
	}
	if a.gate != first || c.gate != next {
		t.Error("a request does not point at the gate that answered it")
	}
}

// TestSchedulerIdle checks that the committer reads the runtime's count of
// runnable goroutines (the metric exists in this toolchain), and never
// skips its wait with a single P, where its callers could not run beside
// it.
func TestSchedulerIdle(t *testing.T) {
	sample := []metrics.Sample{{Name: runnableMetric}}
	metrics.Read(sample)
	if k := sample[0].Value.Kind(); k != metrics.KindUint64 {
		t.Fatalf("%s: kind %v, want a uint64", runnableMetric, k)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	if schedulerIdle(sample) {
		t.Error("schedulerIdle with GOMAXPROCS=1 = true, want false")
	}
}

// TestCommitSurvivesCallersGivingUp checks that callers who stop waiting,
// before or after their answer, never leave the committer waiting for
// them: commits go on being answered.
func TestCommitSurvivesCallersGivingUp(t *testing.T) {
	ctx := context.Background()
	s := openInternal(t)

	create := func(ctx context.Context, id string) error {
		return s.Commit(ctx, store.Mutation{Create: true,
			Execution: store.ExecutionRow{ID: id, FunctionName: "fn", Name: id}})
	}
	for round := range 40 {
		var wg sync.WaitGroup
		for i := range 50 {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(ctx, time.Duration(rand.IntN(3000))*time.Microsecond)
				defer cancel()
				err := create(ctx, fmt.Sprintf("r%d-%d", round, i))
				if err != nil && !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("Commit: %v", err)
				}
			})
		}
		wg.Wait()
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := create(ctx, "last"); err != nil {
		t.Fatalf("Commit after callers gave up: %v", err)
	}
}
