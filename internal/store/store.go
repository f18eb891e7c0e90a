// Package store defines Duro's persistence contract: the rows the engine
// keeps (functions, executions, operations, history events, timers,
// checkpoint responses) and the Store interface every engine (SQLite today,
// a shared SQL database later) implements.
//
// It also keeps the function log lines the runtime host captures (LogRow),
// which are append-only and outside any execution's mutations.
//
// The store knows nothing of durable-execution semantics. Rows carry a few
// indexed columns the store filters and orders on, plus an opaque Data blob
// the engine owns. Coordination between writers happens through optimistic
// concurrency on ExecutionRow.Revision and FunctionRow.Revision, never through
// in-process locks, so that several Duro nodes can share one database.
package store

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors returned by every Store implementation.
var (
	// ErrNotFound means the requested row does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict means an optimistic-concurrency check failed: the row's
	// revision was not the expected one. The caller reloads and retries.
	ErrConflict = errors.New("store: revision conflict")
	// ErrExists means a create collided with an existing row (same key or
	// same unique name).
	ErrExists = errors.New("store: already exists")
)

// FunctionRow is one version of a registered function. Version is "$LATEST"
// or a published version number ("1", "2", ...).
type FunctionRow struct {
	Name     string
	Version  string
	Revision int64 // optimistic-concurrency counter, 1 after create
	Data     []byte
}

// ExecutionRow is one durable execution. ID is the last segment of the
// execution ARN and the primary key.
type ExecutionRow struct {
	ID              string
	ARN             string
	FunctionName    string // unqualified function name
	FunctionVersion string // "$LATEST" or a version number
	Name            string // DurableExecutionName, unique per FunctionName
	Status          string // RUNNING, SUCCEEDED, FAILED, TIMED_OUT, STOPPED
	StartTime       time.Time
	EndTime         time.Time // zero while running
	// Revision is the optimistic-concurrency counter. A committed create has
	// revision 1; every committed Mutation increments it by one.
	Revision int64
	// LeaseOwner and LeaseUntil record which node runs the execution's
	// current invocation, and until when its claim holds. Empty owner means
	// no invocation in flight.
	LeaseOwner string
	LeaseUntil time.Time
	Data       []byte
}

// OperationRow is one operation of an execution. Seq orders operations by
// start; it is unique within an execution.
type OperationRow struct {
	ExecutionID string
	OperationID string
	Seq         int64
	Data        []byte
}

// EventRow is one history event. EventID starts at 1 and is contiguous per
// execution; events are never updated or renumbered.
type EventRow struct {
	ExecutionID string
	EventID     int64
	Data        []byte
}

// TimerRow is a durable timer or pending task. Key is unique per execution;
// setting a timer with an existing key replaces its due time and data.
type TimerRow struct {
	ExecutionID string
	Key         string
	Due         time.Time
	Data        []byte
}

// Mutation is the unit of change: everything one engine step writes for one
// execution, committed atomically or not at all.
type Mutation struct {
	// Execution is the execution row as it must be after the mutation. Its
	// Revision field is the revision the caller read (0 when Create is set);
	// the store writes Revision+1 and fails with ErrConflict when the stored
	// revision differs.
	Execution ExecutionRow
	// Create inserts the execution instead of updating it. It fails with
	// ErrExists when the ID, or the (FunctionName, Name) pair, is taken.
	Create bool
	// Operations are inserted or replaced, keyed by (ExecutionID, OperationID).
	Operations []OperationRow
	// Events are appended. Their IDs must not exist yet.
	Events []EventRow
	// SetTimers inserts or replaces timers. A timer may belong to another
	// execution: that is how one execution signals another. A timer for an
	// execution that does not exist is not written.
	SetTimers []TimerRow
	// DeleteTimers removes timers by key; unknown keys are ignored.
	DeleteTimers []string
	// FiredTimers removes timers that have fired, each only while its due
	// time is still the one that fired: a timer set again meanwhile (perhaps
	// by another execution) survives. Applied before SetTimers.
	FiredTimers []TimerRow
	// DeleteAllTimers removes every timer of the execution before SetTimers
	// is applied.
	DeleteAllTimers bool
}

// ExecutionFilter selects executions for ListExecutions and
// ListAllExecutions.
type ExecutionFilter struct {
	FunctionName  string   // required by ListExecutions; optional for ListAllExecutions
	Version       string   // optional exact version
	Name          string   // optional exact DurableExecutionName
	Statuses      []string // optional; any of
	StartedAfter  time.Time
	StartedBefore time.Time
	// OldestFirst orders by ascending start time; the default is newest first.
	OldestFirst bool
	// After continues a listing after the row with this (StartTime, ID), in
	// the listing's order. Zero AfterTime means from the beginning.
	AfterTime time.Time
	AfterID   string
	Limit     int
}

// EventRange selects history events for ListEvents.
type EventRange struct {
	// After continues after this EventID in the listing's order (0: from the
	// start; for Reverse, 0 means from the newest event).
	After   int64
	Reverse bool
	Limit   int
}

// LogRow is one line a function process wrote to stdout or stderr. The
// runtime host tags it with what was running when the line was written.
type LogRow struct {
	// ID is assigned by AppendLogs: strictly increasing across the whole
	// store, so that it doubles as a resumable position for readers.
	ID              int64
	Time            time.Time
	FunctionName    string
	FunctionVersion string
	RequestID       string // the invocation in progress; empty during init
	ExecutionArn    string // the durable execution; empty for plain invokes
	Stream          string // "stdout" or "stderr"
	Message         string
}

// LogQuery selects log lines for ListLogs. At least one of ExecutionArn and
// FunctionName must be set; RequestID narrows either.
type LogQuery struct {
	ExecutionArn string
	FunctionName string
	RequestID    string
	// After continues after the row with this ID (0: from the oldest).
	After int64
	Limit int
}

// Store is the persistence contract. All methods are safe for concurrent use.
type Store interface {
	// CreateFunction inserts a function version; ErrExists if it is there.
	CreateFunction(ctx context.Context, f FunctionRow) error
	// UpdateFunction replaces a function version whose stored revision equals
	// f.Revision, writing f.Revision+1; ErrConflict otherwise, ErrNotFound if absent.
	UpdateFunction(ctx context.Context, f FunctionRow) error
	// GetFunction returns one function version.
	GetFunction(ctx context.Context, name, version string) (FunctionRow, error)
	// ListFunctions returns the "$LATEST" rows ordered by name, starting after
	// the name afterName, at most limit rows.
	ListFunctions(ctx context.Context, afterName string, limit int) ([]FunctionRow, error)
	// ListFunctionVersions returns every version of a function, "$LATEST"
	// first, then published versions in ascending numeric order.
	ListFunctionVersions(ctx context.Context, name string) ([]FunctionRow, error)
	// DeleteFunction removes one version, or every version when version is "".
	DeleteFunction(ctx context.Context, name, version string) error

	// Commit applies one mutation atomically and durably. Implementations
	// group concurrent commits into one transaction (group commit); each
	// mutation still succeeds or fails on its own. Once Commit has
	// returned nil it keeps nothing of m: the caller may reuse the memory
	// of its rows (the engine does). After an error it may still be
	// applying m (a context that ended while m was in a transaction).
	Commit(ctx context.Context, m Mutation) error
	// GetExecution returns an execution by ID.
	GetExecution(ctx context.Context, id string) (ExecutionRow, error)
	// FindExecutionByName returns the execution of a function with a name.
	FindExecutionByName(ctx context.Context, functionName, name string) (ExecutionRow, error)
	// ListExecutions lists executions matching a filter.
	ListExecutions(ctx context.Context, f ExecutionFilter) ([]ExecutionRow, error)
	// ListAllExecutions lists executions across functions: the same filter
	// and order as ListExecutions, but FunctionName is optional (empty
	// means every function). It pages by the (StartTime, ID) cursor only,
	// so that a page costs the same however many executions are stored.
	ListAllExecutions(ctx context.Context, f ExecutionFilter) ([]ExecutionRow, error)
	// ListLeasedExecutions returns executions with an invocation in flight
	// whose lease is owned by owner or has expired before now.
	ListLeasedExecutions(ctx context.Context, owner string, now time.Time, limit int) ([]ExecutionRow, error)
	// CountExecutions returns how many executions have a status (e.g.
	// "RUNNING", for the active-executions gauge at start-up).
	CountExecutions(ctx context.Context, status string) (int64, error)
	// DeleteExecution removes an execution and all its rows, and the log
	// lines its invocations wrote (LogRow.ExecutionArn is its ARN). Rows
	// of a missing execution (such as timers other executions set for it)
	// are removed too; the result is then ErrNotFound.
	DeleteExecution(ctx context.Context, id string) error

	// ListOperations returns an execution's operations ordered by Seq,
	// starting after afterSeq, at most limit rows (limit <= 0: all).
	ListOperations(ctx context.Context, executionID string, afterSeq int64, limit int) ([]OperationRow, error)
	// GetOperation returns one operation.
	GetOperation(ctx context.Context, executionID, operationID string) (OperationRow, error)
	// ListEvents returns history events in a range.
	ListEvents(ctx context.Context, executionID string, r EventRange) ([]EventRow, error)

	// DueTimers returns timers due at or before now, earliest first.
	DueTimers(ctx context.Context, now time.Time, limit int) ([]TimerRow, error)
	// NextTimer returns the earliest timer due strictly after after (the
	// zero time: the earliest of all); ErrNotFound when there is none.
	NextTimer(ctx context.Context, after time.Time) (TimerRow, error)
	// ListTimers returns an execution's timers.
	ListTimers(ctx context.Context, executionID string) ([]TimerRow, error)

	// AppendLogs stores function log lines in one write, assigning their
	// IDs in slice order. The rows' ID fields are ignored.
	AppendLogs(ctx context.Context, rows []LogRow) error
	// ListLogs returns log lines matching q in ID order.
	ListLogs(ctx context.Context, q LogQuery) ([]LogRow, error)
	// PruneLogs deletes the log lines of plain invocations (no
	// ExecutionArn) written before a time and returns how many it deleted.
	// An execution's lines go with the execution (DeleteExecution).
	PruneLogs(ctx context.Context, before time.Time) (int, error)

	// Close flushes pending commits and releases resources.
	Close() error
}
