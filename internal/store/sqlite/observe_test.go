package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/duro-run/duro/internal/store"
)

// recordingObserver keeps what a CommitObserver was told.
type recordingObserver struct {
	mu           sync.Mutex
	transactions int
	mutations    int
	failed       int
	// timed counts the mutations MutationCommitted reported.
	timed int
	// walReports and walPages count the WALPagesWritten calls and their
	// pages; walEmpty those that reported no page.
	walReports, walPages, walEmpty int
	total                          time.Duration
	commit                         time.Duration
	// commitOverTotal records a transaction whose COMMIT was said to take
	// longer than the whole transaction.
	commitOverTotal bool
}

// snapshot returns the mutations and transactions seen so far.
func (r *recordingObserver) snapshot() (mutations, transactions, failed int, total time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.mutations, r.transactions, r.failed, r.total
}

func (r *recordingObserver) Committed(d, commit time.Duration, mutations int, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.transactions++
	r.mutations += mutations
	r.total += d
	r.commit += commit
	if commit > d {
		r.commitOverTotal = true
	}
	if err != nil {
		r.failed++
	}
}

func (r *recordingObserver) WALPagesWritten(pages int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.walReports++
	r.walPages += pages
	if pages <= 0 {
		r.walEmpty++
	}
}

func (r *recordingObserver) MutationCommitted(_, _, _ time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.timed++
}

// TestCommitObserver checks that every transaction is reported with its
// batch size, that conflicting mutations count in their batch, and that
// the counts agree with Stats, and that only the mutations that committed
// have their timings reported.
func TestCommitObserver(t *testing.T) {
	s := openTemp(t)
	defer s.Close()
	obs := &recordingObserver{}
	s.SetCommitObserver(obs)
	ctx := context.Background()

	const n = 64
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := store.ExecutionRow{ID: fmt.Sprint("e", i), ARN: "arn", FunctionName: "fn", Name: fmt.Sprint("n", i), Status: "RUNNING", StartTime: time.Now()}
			errs <- s.Commit(ctx, store.Mutation{Execution: e, Create: true})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("Commit: %v", err)
		}
	}
	// A conflict fails alone; its transaction still commits.
	stale := store.ExecutionRow{ID: "e0", ARN: "arn", FunctionName: "fn", Name: "n0", Status: "RUNNING", Revision: 7}
	if err := s.Commit(ctx, store.Mutation{Execution: stale}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale Commit = %v, want ErrConflict", err)
	}

	st := s.Stats()
	mutations, transactions, failed, total := obs.snapshot()
	if mutations != n+1 {
		t.Errorf("observed %d mutations, want %d", mutations, n+1)
	}
	if int64(transactions) != st.Transactions || failed != 0 {
		t.Errorf("observed %d transactions (%d failed), Stats says %d committed", transactions, failed, st.Transactions)
	}
	if total <= 0 {
		t.Errorf("observed total commit time %v, want > 0", total)
	}
	obs.mu.Lock()
	timed := obs.timed
	obs.mu.Unlock()
	if int64(timed) != st.Commits || timed != n {
		t.Errorf("timings of %d mutations reported, Stats says %d committed; want %d (not the conflict)", timed, st.Commits, n)
	}
	obs.mu.Lock()
	commit, over := obs.commit, obs.commitOverTotal
	obs.mu.Unlock()
	if commit <= 0 || over {
		t.Errorf("observed COMMIT time %v (over a transaction's total: %v), want > 0 and within each transaction", commit, over)
	}
	// Stats sums the same times (its clock stops a moment after the
	// observer's, so its total is no smaller).
	if st.CommitTime != commit || st.Busy < total || st.Busy < st.CommitTime {
		t.Errorf("Stats: busy %v, in COMMIT %v; the observer saw %v and %v", st.Busy, st.CommitTime, total, commit)
	}

	// Every committed transaction reports the pages it wrote to the WAL:
	// at least a leaf of the executions table and one of an index for the
	// creations; none for the conflict's, which ran alone and wrote nothing.
	obs.mu.Lock()
	walReports, walPages, walEmpty := obs.walReports, obs.walPages, obs.walEmpty
	obs.mu.Unlock()
	if int64(walReports) != st.Transactions || walEmpty != 1 || walPages < 2*(walReports-walEmpty) {
		t.Errorf("WAL pages reported for %d transactions (%d with none), %d pages in all; want one report per transaction (%d), one empty (the conflict's), the others of 2 pages or more",
			walReports, walEmpty, walPages, st.Transactions)
	}
	t.Logf("%d transactions wrote %d WAL pages", walReports, walPages)

	// Removing the observer stops the reports.
	s.SetCommitObserver(nil)
	if err := s.Commit(ctx, store.Mutation{Execution: store.ExecutionRow{ID: "late", ARN: "arn", FunctionName: "fn", Name: "late", Status: "RUNNING"}, Create: true}); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if mutations, _, _, _ := obs.snapshot(); mutations != n+1 {
		t.Errorf("observed %d mutations after removal, want %d", mutations, n+1)
	}
}

// TestCountExecutionsLater checks that the count sees the store as it was
// when CountExecutionsLater returned: executions created or finished
// afterwards, before the count runs, do not change it.
func TestCountExecutionsLater(t *testing.T) {
	s := openTemp(t)
	defer s.Close()
	ctx := context.Background()
	create := func(id, status string) {
		t.Helper()
		if err := s.Commit(ctx, store.Mutation{Create: true, Execution: store.ExecutionRow{ID: id, FunctionName: "fn", Name: id, Status: status}}); err != nil {
			t.Fatalf("create %s: %v", id, err)
		}
	}
	for i := range 5 {
		create(fmt.Sprintf("r%d", i), "RUNNING")
	}
	create("s0", "SUCCEEDED")

	count, err := s.CountExecutionsLater(ctx, "RUNNING")
	if err != nil {
		t.Fatal(err)
	}
	create("r-after-1", "RUNNING")
	create("r-after-2", "RUNNING")
	row, err := s.GetExecution(ctx, "r0")
	if err != nil {
		t.Fatal(err)
	}
	row.Status, row.EndTime = "SUCCEEDED", time.Now()
	if err := s.Commit(ctx, store.Mutation{Execution: row}); err != nil {
		t.Fatalf("finish r0: %v", err)
	}
	if n, err := s.CountExecutions(ctx, "RUNNING"); n != 6 || err != nil {
		t.Fatalf("count now = %d, %v; want 6", n, err)
	}
	for range 2 { // the same answer every time
		if n, err := count(); n != 5 || err != nil {
			t.Fatalf("count as of the call = %d, %v; want 5 (6 now: two started and one ended since)", n, err)
		}
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.CountExecutionsLater(cctx, "RUNNING"); err == nil {
		t.Error("CountExecutionsLater with an ended context: no error")
	}
}
