package sqlite

import (
	"cmp"
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"runtime/metrics"
	"strconv"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"

	"github.com/duro-run/duro/internal/store"
)

// commitRequest is one Commit call waiting for the committer.
type commitRequest struct {
	ctx context.Context
	m   store.Mutation
	// res is buffered so that the committer never blocks on a caller that
	// gave up waiting.
	res chan error
	// queued is when Commit handed the mutation over; began and committed
	// are set by the committer before it answers, once the mutation's
	// transaction has begun and committed (the channel orders the writes
	// before the caller's reads).
	queued, began, committed time.Time
	// state is requestWaiting until the committer answers
	// (requestAnswered) or the caller gives up (requestAbandoned),
	// whichever comes first; see resumeGate.
	state atomic.Int32
	// gate is the batch gate that answered the request, set before state
	// leaves requestWaiting.
	gate *resumeGate
}

// Commit applies m atomically and durably; see store.Store.
//
// Commit hands m to the group committer and waits for its verdict. The
// committer applies every mutation it finds queued in one transaction, each
// in its own savepoint: a mutation that fails (ErrConflict, ErrNotFound,
// ErrExists, ...) is rolled back alone and its caller gets that error, while
// the others commit. If the transaction as a whole cannot begin or commit,
// every caller in the batch gets that error and none of the batch applied.
//
// If ctx ends first, Commit returns ctx.Err(), but the mutation's fate is
// then unknown: a mutation the committer has already taken into a
// transaction may still commit. One whose context has ended before the
// committer reaches it is dropped. Callers that see a context error must
// therefore reload the execution before retrying, exactly as after
// ErrConflict. After Close, Commit returns ErrClosed.
func (s *Store) Commit(ctx context.Context, m store.Mutation) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	req, _ := s.requests.Get().(*commitRequest)
	if req == nil {
		req = &commitRequest{res: make(chan error, 1)}
	}
	req.ctx, req.m, req.queued = ctx, m, time.Now()

	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return ErrClosed
	}
	select {
	case s.queue <- req:
	case <-ctx.Done():
		s.mu.RUnlock()
		return ctx.Err()
	}
	s.mu.RUnlock()

	select {
	case err := <-req.res:
		req.gate.resumed()
		// Only a mutation that committed counts: one its own check
		// rejected (a stale revision) rode in a committed batch but wrote
		// nothing, and the store's commit count leaves it out too.
		if err == nil && !req.committed.IsZero() {
			s.observeMutation(req)
		}
		s.recycle(req)
		return err
	case <-ctx.Done():
		req.abandon()
		return ctx.Err()
	}
}

// recycle keeps req, whose caller has read its answer, for a later Commit:
// a request and its channel are two allocations per mutation otherwise.
// Only an answered request comes back: the committer's last use of it is
// the send its caller received, and its channel is empty again. A request
// whose caller gave up is left alone, as the committer may still answer it.
func (s *Store) recycle(req *commitRequest) {
	req.ctx, req.m, req.gate = nil, store.Mutation{}, nil // nothing kept alive by the pool
	req.queued, req.began, req.committed = time.Time{}, time.Time{}, time.Time{}
	req.state.Store(requestWaiting)
	s.requests.Put(req)
}

// runCommitter is the single goroutine that owns write transactions for
// mutations. It exits when the queue is closed and drained.
func (s *Store) runCommitter() {
	defer close(s.done)
	batch := make([]*commitRequest, 0, maxBatch)
	runnable := []metrics.Sample{{Name: runnableMetric}}
	for req := range s.queue {
		batch = append(batch[:0], req)
		// Take whatever else queued up while the previous transaction was
		// being fsynced; that backlog is what group commit amortizes.
	fill:
		for len(batch) < maxBatch {
			select {
			case r, ok := <-s.queue:
				if !ok {
					break fill
				}
				batch = append(batch, r)
			default:
				break fill
			}
		}
		gate := openResumeGate()
		idle := s.commitBatch(gate, batch, runnable)
		clear(batch) // drop references so finished requests can be collected
		s.restartWAL()
		// The callers just answered are runnable, most of them on this
		// goroutine's P; unless a P was idle for them, the next batch
		// waits until they have all run.
		if idle {
			gate.release()
		} else {
			waited := time.Now()
			gate.wait()
			s.gateNanos.Add(int64(time.Since(waited)))
		}
	}
}

// commitBatch applies a batch of mutations in one transaction (savepoints
// only on a rerun, see runBatch) and answers every request through gate. It reports
// whether, as it answered the committed batch, no goroutine was waiting
// for a CPU (schedulerIdle, read with runnable).
func (s *Store) commitBatch(gate *resumeGate, batch []*commitRequest, runnable []metrics.Sample) bool {
	live := batch[:0:0]
	for _, req := range batch {
		// The caller has already returned ctx.Err(); not applying the
		// mutation keeps the outcome as close to what it was told as we can.
		if err := req.ctx.Err(); err != nil {
			gate.answer(req, err)
			continue
		}
		live = append(live, req)
	}
	if len(live) == 0 {
		return false
	}

	start := time.Now()
	failAll := func(err error) {
		s.observeCommit(time.Since(start), 0, len(live), -1, err)
		for _, req := range live {
			gate.answer(req, err)
		}
	}

	// Almost every mutation either fails at its first statement (the
	// revision check, or the insert of a new execution), having written
	// nothing, or succeeds whole; so the batch first runs without
	// savepoints, which cost three statements and a sub-journal page
	// write per mutation. Only if some mutation fails after writing part
	// of itself is the transaction rolled back and the batch run again
	// with a savepoint per mutation.
	b := s.observer.Load()
	s.stmts.countPages = b != nil && b.w != nil
	errs, commit, err := s.runBatch(live, false)
	if errors.Is(err, errPartial) {
		errs, commit, err = s.runBatch(live, true)
	}
	if err != nil {
		failAll(err)
		return false
	}
	busy := time.Since(start)
	s.observeCommit(busy, commit, len(live), s.stmts.walPages, nil)
	s.walDirty.Store(true)

	s.busyNanos.Add(int64(busy))
	s.commitNanos.Add(int64(commit))
	s.transactions.Add(1)
	idle := schedulerIdle(runnable)
	committed := time.Now()
	var ok int64
	for i, req := range live {
		req.began, req.committed = start, committed
		if errs[i] == nil {
			ok++
		}
		gate.answer(req, errs[i])
	}
	s.commits.Add(ok)
	return idle
}

// errPartial aborts a batch run without savepoints in which a mutation
// failed after writing part of itself.
var errPartial = errors.New("mutation failed part-way")

// runBatch applies live in one transaction and commits it, returning each
// mutation's own error and the time COMMIT took. With savepoints false it
// returns errPartial, having rolled back, if a mutation fails part-way.
//
// The transaction runs on the writer's driver connection, taken from the
// pool for the batch (see rawStmt). A connection left in an unknown state
// (a failed COMMIT or ROLLBACK) is handed back as bad, so that the pool
// closes it, which rolls back whatever SQLite still holds, and opens a
// fresh one for the next batch.
func (s *Store) runBatch(live []*commitRequest, savepoints bool) ([]error, time.Duration, error) {
	// The transaction deliberately ignores the callers' contexts: one
	// caller giving up must not abort the batch it shares with others.
	conn, err := s.writer.Conn(context.Background())
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite store: commit: writer connection: %w", err)
	}
	defer conn.Close()
	var (
		errs   []error
		commit time.Duration
		txErr  error
	)
	rawErr := conn.Raw(func(dc any) error {
		st, err := s.stmtsOn(dc)
		if err != nil {
			txErr = fmt.Errorf("sqlite store: commit: %w", err)
			return nil
		}
		var clean bool
		errs, commit, clean, txErr = st.runTx(live, savepoints)
		if !clean {
			// Finalized while their connection is open: a connection
			// closed with statements pending lingers until they are.
			st.close()
			s.stmtsConn = nil
			return driver.ErrBadConn
		}
		return nil
	})
	if txErr == nil && rawErr != nil {
		txErr = fmt.Errorf("sqlite store: commit: %w", rawErr)
	}
	if txErr != nil {
		return nil, 0, txErr
	}
	return errs, commit, nil
}

// runTx is runBatch on the driver connection st is prepared on. clean
// reports whether the connection is known to be out of any transaction
// afterwards.
func (st *stmtSet) runTx(live []*commitRequest, savepoints bool) (errs []error, commit time.Duration, clean bool, err error) {
	st.walPages = -1
	if st.countPages {
		// From zero: the store's other writes (functions, logs) share
		// the connection and count too.
		st.pagesWritten()
	}
	if _, err := st.begin.exec(); err != nil {
		// A BEGIN that failed opened nothing.
		return nil, 0, true, fmt.Errorf("sqlite store: commit: begin: %w", err)
	}
	rollback := func() bool {
		_, err := st.rollback.exec()
		return err == nil
	}

	errs = make([]error, len(live))
	for i, req := range live {
		if savepoints {
			mErr, fatal := applyInSavepoint(st, &req.m)
			if fatal != nil {
				return nil, 0, rollback(), fmt.Errorf("sqlite store: commit: %w", fatal)
			}
			errs[i] = mErr
			continue
		}
		mErr, wrote := applyMutation(st, &req.m)
		if mErr != nil && wrote {
			return nil, 0, rollback(), errPartial
		}
		errs[i] = mErr
	}

	commitStart := time.Now()
	if _, err := st.commit.exec(); err != nil {
		// SQLite may have rolled the transaction back already, or kept it
		// open (a COMMIT that could not get its lock); a ROLLBACK that
		// fails leaves the connection's state unknown.
		return nil, 0, rollback(), fmt.Errorf("sqlite store: commit: %w", err)
	}
	commit = time.Since(commitStart)
	if st.countPages {
		st.walPages = st.pagesWritten()
	}
	return errs, commit, true, nil
}

// pagesWritten returns how many pages the connection has written from its
// page cache since the last call (SQLite's SQLITE_DBSTATUS_CACHE_WRITE: in
// WAL mode, a transaction's pages go to the WAL at COMMIT), or -1 when the
// driver connection cannot tell.
func (st *stmtSet) pagesWritten() int {
	if st.status == nil {
		return -1
	}
	n, _, err := st.status.Status(sqlite.DBStatusCacheWrite, true)
	if err != nil {
		return -1
	}
	return n
}

// prepareCommitter prepares the committer's statements before it starts,
// so that a statement the schema cannot take fails Open.
func (s *Store) prepareCommitter(ctx context.Context) error {
	conn, err := s.writer.Conn(ctx)
	if err != nil {
		return fmt.Errorf("prepare statements: writer connection: %w", err)
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		_, err := s.stmtsOn(dc)
		return err
	})
}

// closeCommitter finalizes the committer's statements, once it has
// stopped, on the connection they were prepared on.
func (s *Store) closeCommitter() error {
	if s.stmtsConn == nil {
		return nil
	}
	conn, err := s.writer.Conn(context.Background())
	if err != nil {
		return fmt.Errorf("sqlite store: close statements: writer connection: %w", err)
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		if dc != s.stmtsConn {
			s.stmts.forget()
			return nil
		}
		s.stmtsConn = nil
		return s.stmts.close()
	})
}

// stmtsOn returns the committer's statements prepared on the driver
// connection dc, preparing them when dc is not the connection they were
// prepared on (the first batch, or a connection the pool opened after
// discarding a bad one). Only the committer goroutine calls it, and Open
// before the committer starts.
func (s *Store) stmtsOn(dc any) (*stmtSet, error) {
	if s.stmtsConn == dc {
		return &s.stmts, nil
	}
	s.stmts.forget()
	s.stmtsConn = nil
	if err := s.stmts.prepare(dc); err != nil {
		s.stmts.close()
		return nil, err
	}
	s.stmtsConn = dc
	s.stmts.status, _ = dc.(sqlite.DBStatus)
	return &s.stmts, nil
}

// applyInSavepoint applies m inside a savepoint. A failure of m itself is
// returned as mErr after its savepoint is rolled back, leaving the enclosing
// transaction usable. fatal is set when the transaction itself is no longer
// usable (SQLite rolls back the whole transaction on some I/O and memory
// errors, after which the savepoint is gone); the batch must then be
// abandoned, because statements would otherwise run in autocommit mode.
func applyInSavepoint(st *stmtSet, m *store.Mutation) (mErr, fatal error) {
	if _, err := st.savepoint.exec(); err != nil {
		return nil, fmt.Errorf("savepoint: %w", err)
	}
	if err, _ := applyMutation(st, m); err != nil {
		if _, rbErr := st.rollbackTo.exec(); rbErr != nil {
			return nil, fmt.Errorf("rollback to savepoint after %v: %w", err, rbErr)
		}
		if _, relErr := st.release.exec(); relErr != nil {
			return nil, fmt.Errorf("release savepoint: %w", relErr)
		}
		return err, nil
	}
	if _, err := st.release.exec(); err != nil {
		return nil, fmt.Errorf("release savepoint: %w", err)
	}
	return nil, nil
}

// applyMutation runs the statements of one mutation. Child rows whose
// ExecutionID is empty belong to m.Execution; an operation or event
// naming another execution is rejected so that one mutation never
// rewrites two executions' state. Timers are the exception: a timer set for
// another execution is how one execution signals another (a chained-invoke
// child telling its parent it finished), and it changes nothing but a due
// time.
//
// wrote reports whether a failing mutation may have written part of
// itself (or otherwise disturbed the transaction); checks that need no
// statement come first, and the execution row's insert or revision-checked
// update is the first statement, so a mutation rejected as a conflict, or
// as existing or missing, writes nothing.
func applyMutation(st *stmtSet, m *store.Mutation) (err error, wrote bool) {
	if err := checkMutation(m); err != nil {
		return err, false
	}
	pk, err := writeExecution(st, m)
	if err != nil {
		// Only a verdict on the row itself is known to leave the
		// transaction as it was; after any other failure (I/O, full
		// disk) SQLite may have rolled the transaction back.
		clean := errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrExists) || errors.Is(err, store.ErrNotFound)
		return err, !clean
	}
	return writeChildren(st, m, pk), true
}

// checkMutation rejects a mutation that names rows of another execution.
func checkMutation(m *store.Mutation) error {
	e := &m.Execution
	if e.ID == "" {
		return errors.New("sqlite store: mutation without execution ID")
	}
	for _, t := range m.FiredTimers {
		if err := sameExecution(e.ID, t.ExecutionID, "timer", t.Key); err != nil {
			return err
		}
	}
	for _, op := range m.Operations {
		if err := sameExecution(e.ID, op.ExecutionID, "operation", op.OperationID); err != nil {
			return err
		}
	}
	for _, ev := range m.Events {
		if err := sameExecution(e.ID, ev.ExecutionID, "event", strconv.FormatInt(ev.EventID, 10)); err != nil {
			return err
		}
	}
	return nil
}

// writeExecution inserts or updates the execution row, checking its
// revision, and returns the row's pk, the key of its child rows.
func writeExecution(st *stmtSet, m *store.Mutation) (int64, error) {
	e := &m.Execution

	if m.Create {
		res, err := st.insertExecution.exec(
			e.ID, storedARN(e), e.FunctionName, e.FunctionVersion, e.Name, e.Status,
			toNanos(e.StartTime), toNanos(e.EndTime), int64(1),
			e.LeaseOwner, toNanos(e.LeaseUntil), e.Data)
		if isUniqueViolation(err) {
			return 0, fmt.Errorf("sqlite store: create execution %q (function %q, name %q): %w",
				e.ID, e.FunctionName, e.Name, store.ErrExists)
		}
		if err != nil {
			return 0, fmt.Errorf("sqlite store: create execution %q: %w", e.ID, err)
		}
		pk, err := res.LastInsertId()
		if err != nil {
			return 0, fmt.Errorf("sqlite store: create execution %q: %w", e.ID, err)
		}
		st.rows.put(e, pk)
		return pk, nil
	}

	// The cached entry may be stale (see rowCache): every update also
	// matches the ID and the revision, so a stale pk matches no row, and
	// the pk is looked up once.
	cached, isCached := st.rows.get(e.ID)
	cachedPK := cached.pk
	if isCached {
		ok, err := updateExecution(st, e, cachedPK, &cached)
		if err != nil || ok {
			if ok {
				st.rows.put(e, cachedPK)
			}
			return cachedPK, err
		}
		st.rows.drop(e.ID)
	}
	pk, err := st.executionPK.queryInt64(e.ID)
	switch {
	case errors.Is(err, errNoRow):
		return 0, fmt.Errorf("sqlite store: update execution %q: %w", e.ID, store.ErrNotFound)
	case err != nil:
		return 0, fmt.Errorf("sqlite store: update execution %q: %w", e.ID, err)
	}
	if !isCached || pk != cachedPK {
		ok, err := updateExecution(st, e, pk, nil)
		if err != nil || ok {
			if ok {
				st.rows.put(e, pk)
			}
			return pk, err
		}
	}
	return 0, fmt.Errorf("sqlite store: update execution %q at revision %d: %w", e.ID, e.Revision, store.ErrConflict)
}

// updateExecution updates the row (pk, e.ID) if it is at e.Revision,
// reporting whether it did.
//
// updateExecutionData is the path of every checkpoint: only the data (and
// the revision) change, and the row is rewritten without touching the
// executions' indexes, which SQLite would otherwise update for every column
// in the SET list whether or not its value changed. updateExecutionState is
// the path of an invocation starting or ending and of an execution
// finishing: data, status, end time and lease change, so only the indexes on
// status and lease are rewritten. Both match nothing when the row is
// missing, at another revision, or differs in a column they do not set; the
// full update then decides.
//
// Before them, when the committer's own last write to the row (cached, with
// its columns while the execution holds a lease) set the revision e was
// read at and the columns e has, the row can only hold those columns, and
// updateExecutionOnlyData sets the data and revision comparing nothing but
// the pk, ID and revision.
func updateExecution(st *stmtSet, e *store.ExecutionRow, pk int64, cached *cachedRow) (bool, error) {
	if cached != nil && cached.cols != nil && cached.pk == pk && cached.revision == e.Revision && *cached.cols == columnsOf(e) {
		if ok, err := updatedRow(st.updateExecutionOnlyData, e.ID, e.Revision+1, e.Data, pk, e.ID, e.Revision); err != nil || ok {
			return ok, err
		}
	}
	if ok, err := updatedRow(st.updateExecutionData, e.ID, e.Revision+1, e.Data,
		pk, e.ID, e.Revision, storedARN(e), e.FunctionName, e.FunctionVersion, e.Name, e.Status,
		toNanos(e.StartTime), toNanos(e.EndTime), e.LeaseOwner, toNanos(e.LeaseUntil)); err != nil || ok {
		return ok, err
	}
	if ok, err := updatedRow(st.updateExecutionState, e.ID, e.Revision+1, e.Data, e.Status, toNanos(e.EndTime),
		e.LeaseOwner, toNanos(e.LeaseUntil),
		pk, e.ID, e.Revision, storedARN(e), e.FunctionName, e.FunctionVersion, e.Name, toNanos(e.StartTime)); err != nil || ok {
		return ok, err
	}
	ok, err := updatedRow(st.updateExecution, e.ID,
		storedARN(e), e.FunctionName, e.FunctionVersion, e.Name, e.Status,
		toNanos(e.StartTime), toNanos(e.EndTime), e.Revision+1,
		e.LeaseOwner, toNanos(e.LeaseUntil), e.Data,
		pk, e.ID, e.Revision)
	if isUniqueViolation(err) {
		// Only a rename onto a taken (function, name) pair gets here.
		return false, fmt.Errorf("sqlite store: update execution %q to name %q: %w", e.ID, e.Name, store.ErrExists)
	}
	return ok, err
}

// writeChildren writes a mutation's timers, operations and events, once
// its execution row, whose pk is pk, is written.
func writeChildren(st *stmtSet, m *store.Mutation, pk int64) error {
	e := &m.Execution
	if m.DeleteAllTimers {
		if _, err := st.deleteAllTimers.exec(pk); err != nil {
			return fmt.Errorf("sqlite store: delete timers of %q: %w", e.ID, err)
		}
	}
	for _, key := range m.DeleteTimers {
		if _, err := st.deleteTimer.exec(pk, key); err != nil {
			return fmt.Errorf("sqlite store: delete timer %q of %q: %w", key, e.ID, err)
		}
	}
	for _, t := range m.FiredTimers {
		if _, err := st.deleteFiredTimer.exec(pk, t.Key, toNanos(t.Due)); err != nil {
			return fmt.Errorf("sqlite store: delete fired timer %q of %q: %w", t.Key, e.ID, err)
		}
	}
	for _, t := range m.SetTimers {
		var err error
		if t.ExecutionID == "" || t.ExecutionID == e.ID {
			_, err = st.upsertTimer.exec(pk, t.Key, toNanos(t.Due), t.Data)
		} else {
			// Another execution's timer; if that execution is gone there
			// is nobody left to wake, and no row is written.
			_, err = st.upsertOtherTimer.exec(t.Key, toNanos(t.Due), t.Data, t.ExecutionID)
		}
		if err != nil {
			return fmt.Errorf("sqlite store: set timer %q of %q: %w", t.Key, cmp.Or(t.ExecutionID, e.ID), err)
		}
	}
	for _, op := range m.Operations {
		if _, err := st.upsertOperation.exec(pk, op.OperationID, op.Seq, op.Data); err != nil {
			return fmt.Errorf("sqlite store: write operation %q of %q: %w", op.OperationID, e.ID, err)
		}
	}
	for _, ev := range m.Events {
		_, err := st.insertEvent.exec(pk, ev.EventID, ev.Data)
		if isUniqueViolation(err) {
			return fmt.Errorf("sqlite store: append event %d of %q: %w", ev.EventID, e.ID, store.ErrExists)
		}
		if err != nil {
			return fmt.Errorf("sqlite store: append event %d of %q: %w", ev.EventID, e.ID, err)
		}
	}
	return nil
}

// updatedRow runs one UPDATE of an execution row and reports whether it
// changed the row.
func updatedRow(stmt *rawStmt, id string, args ...any) (bool, error) {
	res, err := stmt.exec(args...)
	if err != nil {
		return false, fmt.Errorf("sqlite store: update execution %q: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlite store: update execution %q: %w", id, err)
	}
	return n == 1, nil
}

func sameExecution(want, got, kind, key string) error {
	if got == "" || got == want {
		return nil
	}
	return fmt.Errorf("sqlite store: %s %q belongs to execution %q, not %q", kind, key, got, want)
}

// stmtSet holds the committer's statements, prepared on the writer's
// driver connection (see rawStmt).
type stmtSet struct {
	// status reads the driver connection's counters (pagesWritten);
	// countPages says whether a transaction counts the pages it writes
	// (only a WALObserver wants them), and walPages is what the last one
	// wrote to the WAL (-1: not counted).
	status     sqlite.DBStatus
	countPages bool
	walPages   int

	// rows is the committer's cache of execution rows (see rowCache).
	rows *rowCache

	begin, commit, rollback          *rawStmt
	savepoint, rollbackTo, release   *rawStmt
	insertExecution, updateExecution *rawStmt
	updateExecutionData              *rawStmt
	updateExecutionOnlyData          *rawStmt
	updateExecutionState             *rawStmt
	executionPK                      *rawStmt
	deleteAllTimers, deleteTimer     *rawStmt
	deleteFiredTimer                 *rawStmt
	upsertTimer, upsertOtherTimer    *rawStmt
	upsertOperation                  *rawStmt
	insertEvent                      *rawStmt
}

type stmtDef struct {
	dst   **rawStmt
	query string
}

// defs pairs every field with its SQL, in a fixed order, so that prepare,
// forget and close cannot forget one.
func (w *stmtSet) defs() []stmtDef {
	return []stmtDef{
		// IMMEDIATE takes the write lock up front; a deferred BEGIN would
		// upgrade on the first write and could then fail with SQLITE_BUSY
		// in the middle of a batch instead of waiting at its start.
		{&w.begin, `BEGIN IMMEDIATE`},
		{&w.commit, `COMMIT`},
		{&w.rollback, `ROLLBACK`},
		// One name suffices: each savepoint is released before the next
		// mutation opens its own.
		{&w.savepoint, `SAVEPOINT mutation`},
		{&w.rollbackTo, `ROLLBACK TO SAVEPOINT mutation`},
		{&w.release, `RELEASE SAVEPOINT mutation`},
		{&w.insertExecution, `INSERT INTO executions
			(id, arn, function_name, function_version, name, status,
			 start_ns, end_ns, revision, lease_owner, lease_until_ns, data)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`},
		{&w.updateExecution, `UPDATE executions SET
			arn = ?, function_name = ?, function_version = ?, name = ?, status = ?,
			start_ns = ?, end_ns = ?, revision = ?, lease_owner = ?, lease_until_ns = ?, data = ?
			WHERE pk = ? AND id = ? AND revision = ?`},
		{&w.updateExecutionOnlyData, `UPDATE executions SET revision = ?, data = ?
			WHERE pk = ? AND id = ? AND revision = ?`},
		{&w.updateExecutionData, `UPDATE executions SET revision = ?, data = ?
			WHERE pk = ? AND id = ? AND revision = ? AND arn = ? AND function_name = ? AND function_version = ?
			AND name = ? AND status = ? AND start_ns = ? AND end_ns = ? AND lease_owner = ? AND lease_until_ns = ?`},
		{&w.updateExecutionState, `UPDATE executions SET revision = ?, data = ?, status = ?, end_ns = ?,
			lease_owner = ?, lease_until_ns = ?
			WHERE pk = ? AND id = ? AND revision = ? AND arn = ? AND function_name = ? AND function_version = ?
			AND name = ? AND start_ns = ?`},
		{&w.executionPK, `SELECT pk FROM executions WHERE id = ?`},
		{&w.deleteAllTimers, `DELETE FROM timers WHERE execution_pk = ?`},
		{&w.deleteTimer, `DELETE FROM timers WHERE execution_pk = ? AND key = ?`},
		{&w.deleteFiredTimer, `DELETE FROM timers WHERE execution_pk = ? AND key = ? AND due_ns = ?`},
		{&w.upsertTimer, `INSERT INTO timers (execution_pk, key, due_ns, data)
			VALUES (?, ?, ?, ?)
			ON CONFLICT (execution_pk, key) DO UPDATE SET due_ns = excluded.due_ns, data = excluded.data`},
		{&w.upsertOtherTimer, `INSERT INTO timers (execution_pk, key, due_ns, data)
			SELECT pk, ?, ?, ? FROM executions WHERE id = ?
			ON CONFLICT (execution_pk, key) DO UPDATE SET due_ns = excluded.due_ns, data = excluded.data`},
		{&w.upsertOperation, `INSERT INTO operations (execution_pk, operation_id, seq, data)
			VALUES (?, ?, ?, ?)
			ON CONFLICT (execution_pk, operation_id) DO UPDATE SET seq = excluded.seq, data = excluded.data`},
		{&w.insertEvent, `INSERT INTO events (execution_pk, event_id, data) VALUES (?, ?, ?)`},
	}
}

// prepare prepares the statements on the driver connection dc, so that a
// batch of hundreds of mutations does not re-parse the same SQL for each.
func (w *stmtSet) prepare(dc any) error {
	for _, d := range w.defs() {
		stmt, err := prepareRaw(dc, d.query)
		if err != nil {
			return err
		}
		*d.dst = stmt
	}
	return nil
}

// close finalizes the statements; their connection must still be open.
func (w *stmtSet) close() error {
	var errs []error
	for _, d := range w.defs() {
		if *d.dst == nil {
			continue
		}
		if err := (*d.dst).stmt.Close(); err != nil {
			errs = append(errs, err)
		}
		*d.dst = nil
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlite store: close statements: %w", err)
	}
	return nil
}

// forget drops the statements of a connection the pool closed without the
// committer's knowledge, which the driver only does to a connection that
// is already closed; they cannot be finalized any more.
func (w *stmtSet) forget() {
	for _, d := range w.defs() {
		*d.dst = nil
	}
}
