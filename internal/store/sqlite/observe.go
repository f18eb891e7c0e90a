package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"
)

// CommitObserver is told about every group-commit transaction, for
// metrics. It is called on the committer goroutine, so it must return
// quickly.
type CommitObserver interface {
	// Committed reports one transaction: how long it took from BEGIN to the
	// end of COMMIT (the fsync included), how much of that was COMMIT
	// itself (writing the WAL frames and the fsync; the rest is running the
	// mutations' statements), how many mutations it carried (including
	// those rolled back alone to their savepoint), and the error that
	// failed it as a whole, nil when it committed.
	Committed(d, commit time.Duration, mutations int, err error)
}

// MutationObserver is an optional interface of a CommitObserver: it is told
// where the time of every mutation that committed went (not of one rejected
// by its own check in a batch that committed), on the
// goroutine that called Commit, once that goroutine runs again.
type MutationObserver interface {
	// MutationCommitted reports how long the mutation waited for the group
	// committer to begin its transaction (queued), how long that
	// transaction took, fsync included (transaction), and how long after
	// it the caller's goroutine waited to run again (resumed): time spent
	// runnable, waiting for a CPU, which grows when the process's CPUs are
	// saturated.
	MutationCommitted(queued, transaction, resumed time.Duration)
}

// WALObserver is an optional interface of a CommitObserver: it is told how
// many pages each committed transaction wrote to the WAL. What a
// checkpoint costs the disk is mostly those pages (each written whole, and
// the fsync's time grows with them), and unlike a latency they hardly vary
// from run to run.
type WALObserver interface {
	WALPagesWritten(pages int)
}

// observerBox lets an interface value live in an atomic.Pointer.
type observerBox struct {
	o CommitObserver
	m MutationObserver // o, if it implements it
	w WALObserver      // o, if it implements it
}

// SetCommitObserver installs o (nil removes it). It is safe to call while
// commits are running; transactions that start afterwards are reported.
func (s *Store) SetCommitObserver(o CommitObserver) {
	if o == nil {
		s.observer.Store(nil)
		return
	}
	b := &observerBox{o: o}
	b.m, _ = o.(MutationObserver)
	b.w, _ = o.(WALObserver)
	s.observer.Store(b)
}

// observeMutation reports req's timings to a MutationObserver.
func (s *Store) observeMutation(req *commitRequest) {
	if b := s.observer.Load(); b != nil && b.m != nil {
		b.m.MutationCommitted(req.began.Sub(req.queued), req.committed.Sub(req.began), time.Since(req.committed))
	}
}

// observeCommit reports a transaction that took d, of which commit in
// COMMIT, and, when it committed, wrote walPages pages to the WAL
// (negative: not known).
func (s *Store) observeCommit(d, commit time.Duration, mutations, walPages int, err error) {
	if b := s.observer.Load(); b != nil {
		b.o.Committed(d, commit, mutations, err)
		if err == nil && b.w != nil && walPages >= 0 {
			b.w.WALPagesWritten(walPages)
		}
	}
}

// countExecutionsSQL counts the executions of a status, function by
// function: each count is a range of executions_by_function_status, the
// functions found as in ListAllExecutions (functionNamesCTE).
const countExecutionsSQL = functionNamesCTE + `
	SELECT COALESCE(SUM((SELECT COUNT(*) FROM executions e WHERE e.function_name = fn.name AND e.status = ?1)), 0)
	FROM fn WHERE name IS NOT NULL`

// CountExecutions returns how many executions have a status, such as
// "RUNNING"; see store.Store.
func (s *Store) CountExecutions(ctx context.Context, status string) (int64, error) {
	var n int64
	err := s.queryRow(ctx, countExecutionsSQL, status).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sqlite store: count %s executions: %w", status, err)
	}
	return n, nil
}

// CountExecutionsLater returns a function that counts the executions that
// have status in the store as it is when CountExecutionsLater returns: it
// opens a read transaction and fixes its snapshot first, so a mutation
// committed afterwards is never counted, whenever count runs. count runs
// the query at its first call, ends the read transaction, and returns the
// same answer to every later call; it must be called (until then the
// snapshot holds back the WAL checkpoints). A count reads a whole index
// range — seconds with a million executions and a cold page cache — which
// lets a server start first and count in the background.
func (s *Store) CountExecutionsLater(ctx context.Context, status string) (count func() (int64, error), err error) {
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("sqlite store: count %s executions: %w", status, err)
	}
	// In WAL mode the snapshot is taken by the transaction's first read.
	var version int64
	if err := tx.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&version); err != nil {
		_ = tx.Rollback()
		return nil, fmt.Errorf("sqlite store: count %s executions: %w", status, err)
	}
	var (
		once sync.Once
		n    int64
		cErr error
	)
	return func() (int64, error) {
		once.Do(func() {
			defer tx.Rollback()
			if err := tx.QueryRowContext(ctx, countExecutionsSQL, status).Scan(&n); err != nil {
				cErr = fmt.Errorf("sqlite store: count %s executions: %w", status, err)
			}
		})
		return n, cErr
	}, nil
}
