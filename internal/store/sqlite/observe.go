package sqlite

import (
	"context"
	"fmt"
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

// observerBox lets an interface value live in an atomic.Pointer.
type observerBox struct{ o CommitObserver }

// SetCommitObserver installs o (nil removes it). It is safe to call while
// commits are running; transactions that start afterwards are reported.
func (s *Store) SetCommitObserver(o CommitObserver) {
	if o == nil {
		s.observer.Store(nil)
		return
	}
	s.observer.Store(&observerBox{o: o})
}

// observeCommit reports a transaction that began at start and spent
// commit in COMMIT.
func (s *Store) observeCommit(start time.Time, commit time.Duration, mutations int, err error) {
	if b := s.observer.Load(); b != nil {
		b.o.Committed(time.Since(start), commit, mutations, err)
	}
}

// CountExecutions returns how many executions have a status, such as
// "RUNNING"; see store.Store. The executions_by_status index serves it.
func (s *Store) CountExecutions(ctx context.Context, status string) (int64, error) {
	var n int64
	err := s.queryRow(ctx, `SELECT COUNT(*) FROM executions WHERE status = ?`, status).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sqlite store: count %s executions: %w", status, err)
	}
	return n, nil
}
