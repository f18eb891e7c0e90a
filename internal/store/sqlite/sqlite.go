// Package sqlite implements store.Store on a single SQLite database file,
// using the pure-Go modernc.org/sqlite driver.
//
// The database runs in WAL mode with synchronous=FULL, so a commit that
// returned is on disk. Writes go through one dedicated connection; reads use
// a separate pool, which WAL lets run concurrently with the writer.
// Mutations are group-committed: concurrent Commit calls are folded into one
// transaction (one fsync), each inside its own savepoint so that it still
// succeeds or fails on its own.
//
// The SQL sticks to what PostgreSQL also accepts (apart from the ?
// placeholders and the PRAGMAs in the connection string), so that a shared
// database implementation can start from the same statements.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/duro-run/duro/internal/store"
)

// ErrClosed is returned by Commit once Close has been called.
var ErrClosed = errors.New("sqlite store: closed")

const (
	// maxBatch bounds how many mutations share one transaction, so that one
	// transaction (and the write lock it holds) stays short even under a
	// flood of commits.
	maxBatch = 512
	// queueSize lets callers enqueue without waiting while the committer is
	// busy with the previous batch, which is what makes batches form.
	queueSize = 2 * maxBatch
	// busyTimeoutMillis covers another process (or a checkpoint) holding the
	// write lock briefly.
	busyTimeoutMillis = 5000
	// PageSize is the page size of a database this package creates; a
	// database created with another keeps its own (changing it takes a
	// VACUUM). A commit writes every page it touched, whole, to the WAL and
	// fsyncs it, and a checkpoint touches a page of each of a dozen B-trees
	// for every few rows it adds, so smaller pages mean fewer bytes per
	// commit, and an fsync's time grows with its bytes. Measured
	// (bench/README.md, seventh session): 2 KiB pages write 41 % fewer
	// bytes per transaction than 4 KiB ones (25–40 % fewer over a run) at
	// the same throughput, for a file ~6 % larger; 1 KiB pages save more
	// bytes but make index keys longer than ~230 bytes spill to overflow
	// pages.
	PageSize = 2048
)

// Store is a store.Store backed by one SQLite database file. It is safe for
// concurrent use. Create it with Open and release it with Close.
type Store struct {
	writer *sql.DB // exactly one connection: SQLite has a single writer anyway
	reader *sql.DB // pool of read-only connections
	// stmts are the committer's statements, prepared on stmtsConn, the
	// writer's driver connection (commit.go); only the committer uses them.
	stmts     stmtSet
	stmtsConn any
	reads     readStmts // prepared on reader

	// checkpointDB is the WAL checkpointer's connection; walDirty says the
	// committer wrote since its last round, walFrames how many frames the
	// WAL had then (walcheckpoint.go).
	checkpointDB       *sql.DB
	walDirty           atomic.Bool
	walFrames          atomic.Int64
	ckptStop, ckptDone chan struct{}

	// mu guards closed and the queue's send side: Commit holds it shared
	// while sending so that Close cannot close the queue under a sender.
	mu     sync.RWMutex
	closed bool
	queue  chan *commitRequest
	done   chan struct{} // closed when the committer goroutine has exited
	// requests keeps the commit requests whose callers have read their
	// answers, for the next Commit calls (see recycle).
	requests sync.Pool

	closeOnce sync.Once
	closeErr  error

	// prefetchStop ends the page-cache prefetch started by Open;
	// prefetchDone is closed when it has returned.
	prefetchStop, prefetchDone chan struct{}

	commits      atomic.Int64
	transactions atomic.Int64
	busyNanos    atomic.Int64                // committed transactions' time (Stats.Busy)
	commitNanos  atomic.Int64                // of which in COMMIT (Stats.CommitTime)
	gateNanos    atomic.Int64                // waiting for answered callers (Stats.GateWait)
	restartNanos atomic.Int64                // checkpointing to restart the WAL (Stats.WALRestart)
	restarts     atomic.Int64                // how many times (Stats.WALRestarts)
	catchUps     atomic.Int64                // the checkpointer's catch-up passes (Stats.WALCatchUps)
	observer     atomic.Pointer[observerBox] // see SetCommitObserver

	// pruneBatch is how many log lines one PruneLogs statement deletes.
	pruneBatch int
}

var _ store.Store = (*Store)(nil)

// Stats are cumulative counters of the group committer.
type Stats struct {
	// Commits is the number of mutations that committed successfully.
	Commits int64
	// Transactions is the number of database transactions that committed.
	// Commits/Transactions is the average group-commit batch size.
	Transactions int64
	// Busy is the time the committer spent in those transactions, from
	// taking a batch to its COMMIT's return, and CommitTime the part in
	// COMMIT itself (the WAL write and fsync). Differences between two
	// reads give the committer's load over the interval.
	Busy, CommitTime time.Duration
	// GateWait is the time the committer spent, between transactions,
	// waiting for the callers it had answered to resume (see resumeGate).
	GateWait time.Duration
	// WALRestarts counts the checkpoints the committer ran itself, between
	// transactions, to let the WAL restart (see restartWAL), and WALRestart
	// is the time they took: no transaction runs meanwhile.
	WALRestarts int64
	WALRestart  time.Duration
	// WALCatchUps counts the background checkpointer's catch-up passes,
	// run before the committer's own checkpoint (see checkpointWAL).
	WALCatchUps int64
}

// Stats returns the group committer's counters since Open.
func (s *Store) Stats() Stats {
	return Stats{Commits: s.commits.Load(), Transactions: s.transactions.Load(),
		Busy: time.Duration(s.busyNanos.Load()), CommitTime: time.Duration(s.commitNanos.Load()),
		GateWait: time.Duration(s.gateNanos.Load()), WALRestarts: s.restarts.Load(), WALRestart: time.Duration(s.restartNanos.Load()),
		WALCatchUps: s.catchUps.Load()}
}

// Option configures Open.
type Option func(*options)

type options struct {
	log *slog.Logger
}

// WithLogger sets where Open reports a schema migration, which can take
// minutes on a large store; by default it is not reported.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.log = l }
}

// Open opens (creating if needed) the database file at path, brings its
// schema up to date and starts the group committer.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	o := options{log: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		opt(&o)
	}
	if path == "" {
		return nil, errors.New("sqlite store: empty database path")
	}
	base := "file:" + escapePath(path) + "?" + strings.Join([]string{
		// busy_timeout goes first so that the journal_mode switch below
		// waits for, rather than fails on, a concurrent opener.
		fmt.Sprintf("_pragma=busy_timeout(%d)", busyTimeoutMillis),
		// The driver runs the _pragma list in lexical order and then the
		// _journal_mode key: page_size must come first, as switching to
		// WAL writes the first page of a new database and fixes its page
		// size. On an existing database it does nothing.
		fmt.Sprintf("_pragma=page_size(%d)", PageSize),
		"_journal_mode=WAL",
		"_pragma=synchronous(FULL)",
	}, "&")

	// BEGIN IMMEDIATE takes the write lock up front; a deferred BEGIN would
	// upgrade on the first write and could then fail with SQLITE_BUSY in the
	// middle of a batch instead of waiting at its start.
	//
	// temp_store(MEMORY) keeps the per-mutation savepoint journal in memory;
	// otherwise SQLite spills it to a temporary file once a batch passes
	// 64 KiB, and those writes cost more than the WAL writes themselves.
	//
	// A high wal_autocheckpoint leaves WAL checkpoints to the background
	// checkpointer (walcheckpoint.go), off the commit path.
	//
	// The writer is the one connection that writes the WAL: it goes through
	// walVFS, which writes each commit's frames in one system call.
	if err := registerWALVFS(); err != nil {
		return nil, err
	}
	writer, err := sql.Open("sqlite", base+fmt.Sprintf("&_pragma=temp_store(MEMORY)&_pragma=wal_autocheckpoint(%d)&_txlock=immediate&vfs=%s", walAutoCheckpointFrames, walVFSName))
	if err != nil {
		return nil, fmt.Errorf("sqlite store: open writer %s: %w", path, err)
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)

	if err := migrate(ctx, writer, o.log); err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlite store: %s: %w", path, err)
	}

	// query_only makes an accidental write through the read pool fail
	// loudly instead of racing the committer for the write lock.
	reader, err := sql.Open("sqlite", base+"&_pragma=query_only(1)")
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlite store: open reader %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	reader.SetMaxOpenConns(n)
	reader.SetMaxIdleConns(n)
	if err := reader.PingContext(ctx); err != nil {
		reader.Close()
		writer.Close()
		return nil, fmt.Errorf("sqlite store: open reader %s: %w", path, err)
	}

	checkpointDB, err := openCheckpointer(ctx, base)
	if err != nil {
		reader.Close()
		writer.Close()
		return nil, fmt.Errorf("sqlite store: open checkpointer %s: %w", path, err)
	}

	s := &Store{
		writer:       writer,
		reader:       reader,
		reads:        readStmts{db: reader},
		checkpointDB: checkpointDB,
		pruneBatch:   5000,
		queue:        make(chan *commitRequest, queueSize),
		done:         make(chan struct{}),
		ckptStop:     make(chan struct{}),
		ckptDone:     make(chan struct{}),
		prefetchStop: make(chan struct{}),
		prefetchDone: make(chan struct{}),
	}
	s.stmts.rows = newRowCache()
	if err := s.prepareCommitter(ctx); err != nil {
		checkpointDB.Close()
		reader.Close()
		writer.Close()
		return nil, fmt.Errorf("sqlite store: %s: %w", path, err)
	}
	go s.runCommitter()
	go s.runCheckpointer(s.ckptStop, s.ckptDone)
	go func() {
		defer close(s.prefetchDone)
		prefetch(path, s.prefetchStop)
	}()
	return s, nil
}

// Close waits for every queued mutation to be committed, stops the
// committer and closes the database. Later calls return the first call's
// result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		close(s.queue)
		s.mu.Unlock()
		<-s.done
		if s.ckptStop != nil { // tests may have stopped it
			close(s.ckptStop)
			<-s.ckptDone
		}
		close(s.prefetchStop)
		<-s.prefetchDone

		s.closeErr = errors.Join(
			s.closeCommitter(),
			wrapErr("close read statements", s.reads.close()),
			wrapErr("close checkpointer", s.checkpointDB.Close()),
			wrapErr("close reader", s.reader.Close()),
			wrapErr("close writer", s.writer.Close()),
		)
	})
	return s.closeErr
}

func wrapErr(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("sqlite store: %s: %w", what, err)
}

// escapePath percent-encodes the characters that would otherwise end the
// path part of a SQLite URI filename.
func escapePath(p string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(p)
}

// isUniqueViolation reports whether err is a primary-key or unique
// constraint failure, which the store reports as store.ErrExists.
func isUniqueViolation(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	code := se.Code()
	return code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY || code == sqlite3.SQLITE_CONSTRAINT_UNIQUE
}

// toNanos maps the zero time to 0 rather than to UnixNano's undefined
// result, so that "not set" survives a round trip.
// Bounds of the times an int64 of nanoseconds can hold; times beyond them
// are clamped, so that a filter like "started before the year 3000" still
// compares correctly instead of wrapping around.
var (
	maxNanosTime = time.Unix(0, math.MaxInt64)
	minNanosTime = time.Unix(0, math.MinInt64+1)
)

func toNanos(t time.Time) int64 {
	switch {
	case t.IsZero():
		return 0
	case t.After(maxNanosTime):
		return math.MaxInt64
	case t.Before(minNanosTime):
		return math.MinInt64 + 1
	}
	return t.UnixNano()
}

func fromNanos(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}
