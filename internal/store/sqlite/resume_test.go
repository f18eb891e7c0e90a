package sqlite

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/duro-run/duro/internal/store"
)

// TestResumeGate plays the hand-over of one batch in a fixed order and
// checks that the committer's wait ends exactly when the last answered
// caller has resumed, and leaves no token behind for the next batch.
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
			g := newResumeGate()
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
					g.resumed()
				case 'x':
					g.abandon(reqs[i])
				}
			}
			g.open()
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
				t.Fatalf("%d wake-up tokens left for the next batch", n)
			}
			if n := g.pending.Load(); n != 0 {
				t.Fatalf("pending = %d after the batch", n)
			}
		})
	}
}

// TestCommitSurvivesCallersGivingUp checks that callers who stop waiting,
// before or after their answer, never leave the committer waiting for
// them: commits go on being answered.
func TestCommitSurvivesCallersGivingUp(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "duro.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()

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
