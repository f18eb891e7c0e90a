package engine

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/duro-run/duro/internal/store"
)

// execData is the engine-owned part of an execution row.
type execData struct {
	FunctionArn string `json:"fa"` // qualified
	// Input is only read: executions started by earlier versions kept
	// their input here too, and this record is rewritten by every
	// checkpoint, which a large input made expensive. The input lives in
	// the EXECUTION operation (see execState.input).
	Input            *string        `json:"in,omitempty"`
	InputHash        string         `json:"ih"`
	Result           *string        `json:"re,omitempty"`
	Error            *ErrorObject   `json:"er,omitempty"`
	TenantID         string         `json:"te,omitempty"`
	InvokeEndpoint   string         `json:"ep,omitempty"`
	TraceID          string         `json:"tr,omitempty"`
	DurableConfig    *DurableConfig `json:"dc,omitempty"`
	ExecutionTimeout int32          `json:"et"`
	RetentionDays    int32          `json:"rd"`

	NextEventID int64 `json:"ne"`
	NextOpSeq   int64 `json:"no"`
	// ChangeSeq counts operation changes; each operation records the
	// ChangeSeq of its last change, and DeliveredSeq is what the current
	// invocation has been shown. Their difference is the wake-up rule.
	ChangeSeq    int64 `json:"cs"`
	DeliveredSeq int64 `json:"ds"`

	// TokenSeq numbers checkpoint tokens. Only the current number, issued to
	// the invocation in flight, is valid: issuing a new one fences the rest.
	TokenSeq        int64     `json:"ts"`
	InvocationID    string    `json:"iv,omitempty"`
	InvocationStart time.Time `json:"is,omitzero"`
	Failures        int       `json:"fl,omitempty"`
	// Final holds an EXECUTION SUCCEED/FAIL checkpointed by the invocation in
	// flight; it completes the execution when that invocation ends, so that
	// the terminal event follows its InvocationCompleted.
	Final *finalOutcome `json:"fi,omitempty"`
	// LastCheckpoint is the last accepted checkpoint, for ClientToken retries.
	LastCheckpoint *dedupEntry `json:"lc,omitempty"`

	Parent *parentRef `json:"pa,omitempty"`
	// CallbackNonce makes callback ids unique across operations and retries.
	CallbackNonce uint64 `json:"cn,omitempty"`
}

type finalOutcome struct {
	Status string       `json:"s"`
	Result *string      `json:"r,omitempty"`
	Error  *ErrorObject `json:"e,omitempty"`
}

// dedupEntry identifies the last accepted checkpoint and what its response
// held, so that a retry gets the same answer.
type dedupEntry struct {
	Seq         int64    `json:"q"` // of the request's token
	ClientToken string   `json:"c"`
	Issued      bool     `json:"i,omitempty"` // the response carried a new token (Seq+1)
	Ops         []string `json:"o,omitempty"` // operations in the response
}

// parentRef links a chained-invoke target to the operation that started it.
type parentRef struct {
	ExecutionID string `json:"e"`
	OperationID string `json:"o"`
}

// opRecord is an operation as stored: its public state plus bookkeeping.
type opRecord struct {
	Operation
	Seq              int64  `json:"-"`
	ChangeSeq        int64  `json:"cs"`
	WaitSeconds      int32  `json:"ws,omitempty"`
	CallbackTimeout  int32  `json:"ct,omitempty"`
	HeartbeatTimeout int32  `json:"ht,omitempty"`
	ChildExecution   string `json:"ce,omitempty"`
	// StartedBy is the invocation that checkpointed a CHAINED_INVOKE START.
	// The target's outcome waits for that invocation to end, as it does on
	// AWS, where the target starts asynchronously.
	StartedBy string `json:"sb,omitempty"`
	// PendingOutcome holds a plain target's answer while it waits for that.
	PendingOutcome *childOutcome `json:"po,omitempty"`
}

// execState is an execution loaded for reading or mutation.
type execState struct {
	row  store.ExecutionRow
	data execData
	ops  map[string]*opRecord
	// order lists the operations by Seq. The per-checkpoint scans (the
	// delta, due waits and retries) walk it rather than looking each id up
	// in ops: for an execution of thousands of operations the look-ups
	// were most of a checkpoint's CPU.
	order []*opRecord
	// timed is a superset of the operations waiting for a time (see
	// completeDueTimers); nil until first needed.
	timed map[*opRecord]struct{}
	// changed lists the operations touched since the invocation in flight
	// was last shown the state (data.DeliveredSeq), with repeats, when
	// changedKnown: what a checkpoint's answer and an invocation's envelope
	// report, found without walking every operation.
	changed      []*opRecord
	changedKnown bool

	// pending changes of the mutation being built
	dirty     map[string]bool
	events    []Event
	setTimers []store.TimerRow
	delTimers []string
	fired     []store.TimerRow
	delAll    bool
	extra     []func() // run after a successful commit

	// rowBuf is memory for the next mutation's encoded rows, and
	// pendingBuf the memory of the mutation in the store's hands. Only a
	// commit that succeeded gives the memory back (committed): the store
	// keeps nothing of a mutation it has committed, but one whose commit
	// returned an error may still be in its committer's hands.
	rowBuf, pendingBuf []byte
}

// maxKeptRowBuf bounds the row buffer an execution keeps between
// checkpoints: one large checkpoint (a big payload) should not leave every
// execution in flight holding that much memory.
const maxKeptRowBuf = 16 << 10

func (s *execState) terminal() bool { return s.row.Status != StatusRunning }

func (s *execState) op(id string) *opRecord { return s.ops[id] }

// touch marks an operation changed.
func (s *execState) touch(op *opRecord) {
	s.data.ChangeSeq++
	op.ChangeSeq = s.data.ChangeSeq
	s.dirty[op.Id] = true
	if s.changedKnown {
		s.changed = append(s.changed, op)
	}
}

// changedOps returns the operations changed since the state was last
// delivered (ChangeSeq > data.DeliveredSeq), in start order.
func (s *execState) changedOps() []*opRecord {
	if !s.changedKnown {
		var out []*opRecord
		for _, op := range s.order {
			if op.ChangeSeq > s.data.DeliveredSeq {
				out = append(out, op)
			}
		}
		return out
	}
	out := make([]*opRecord, 0, len(s.changed))
	for _, op := range s.changed {
		if op.ChangeSeq > s.data.DeliveredSeq {
			out = append(out, op)
		}
	}
	slices.SortFunc(out, func(a, b *opRecord) int { return cmp.Compare(a.Seq, b.Seq) })
	return slices.Compact(out)
}

// delivered records that the invocation in flight has been shown every
// change so far.
func (s *execState) delivered() {
	s.data.DeliveredSeq = s.data.ChangeSeq
	s.changed, s.changedKnown = s.changed[:0], true
}

func (s *execState) addOp(op *opRecord) {
	s.data.NextOpSeq++
	op.Seq = s.data.NextOpSeq
	s.ops[op.Id] = op
	s.order = append(s.order, op)
	s.touch(op)
}

// emit appends a history event for an operation (nil for execution-level
// events, which carry the EXECUTION operation's id).
func (s *execState) emit(now time.Time, op *opRecord, ev Event) {
	s.data.NextEventID++
	ev.EventId = s.data.NextEventID
	ev.EventTimestamp = Timestamp(now)
	if op != nil {
		ev.Id, ev.Name, ev.ParentId, ev.SubType = op.Id, op.Name, op.ParentId, op.SubType
	} else {
		ev.Id = s.row.ID
	}
	s.events = append(s.events, ev)
}

func (s *execState) setTimer(key string, due time.Time) {
	s.setTimers = append(s.setTimers, store.TimerRow{ExecutionID: s.row.ID, Key: key, Due: due})
}

func (s *execState) deleteTimer(key string) { s.delTimers = append(s.delTimers, key) }

// timerFired removes a timer that fired, unless it has been set again since
// (another execution may set it: a chained-invoke target finishing).
func (s *execState) timerFired(t store.TimerRow) { s.fired = append(s.fired, t) }

// reset forgets the changes made since the last commit. The dirty set and
// the events' array are kept for the next changes: a cached execution takes
// a checkpoint after another, and only mutation reads them, copying what it
// needs.
func (s *execState) reset() {
	if s.dirty == nil {
		s.dirty = map[string]bool{}
	} else {
		clear(s.dirty)
	}
	clear(s.events) // drops the details they point to
	s.events = s.events[:0]
	s.setTimers, s.delTimers, s.fired, s.delAll, s.extra = nil, nil, nil, false, nil
}

// mutation encodes the pending changes as a store mutation. Its rows are
// encoded one after the other into one buffer, the memory of the last
// committed mutation when there is one (see rowBuf): an execution in
// flight checkpoints again and again, and a buffer per row was the largest
// allocation of a checkpoint.
func (s *execState) mutation(create bool) (store.Mutation, error) {
	buf := s.rowBuf[:0]
	s.rowBuf = nil
	if buf == nil {
		buf = make([]byte, 0, 512+384*(len(s.dirty)+len(s.events)))
	}
	buf, err := s.data.appendJSON(buf)
	if err != nil {
		return store.Mutation{}, fmt.Errorf("encode execution: %w", err)
	}
	row := s.row
	row.Data = buf[:len(buf):len(buf)]
	m := store.Mutation{Execution: row, Create: create, SetTimers: s.setTimers, DeleteTimers: s.delTimers, FiredTimers: s.fired, DeleteAllTimers: s.delAll,
		Operations: make([]store.OperationRow, 0, len(s.dirty)), Events: make([]store.EventRow, 0, len(s.events))}
	ids := make([]string, 0, len(s.dirty))
	for id := range s.dirty {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return s.ops[ids[i]].Seq < s.ops[ids[j]].Seq })
	for _, id := range ids {
		op := s.ops[id]
		start := len(buf)
		buf = op.appendJSON(buf)
		m.Operations = append(m.Operations, store.OperationRow{ExecutionID: s.row.ID, OperationID: id, Seq: op.Seq, Data: buf[start:len(buf):len(buf)]})
	}
	for i := range s.events {
		ev := &s.events[i]
		start := len(buf)
		buf = ev.appendJSON(buf)
		m.Events = append(m.Events, store.EventRow{ExecutionID: s.row.ID, EventID: ev.EventId, Data: buf[start:len(buf):len(buf)]})
	}
	// Each row's slice is capped at its end, so that nothing appended to
	// one runs into the next; a buffer that grew leaves the earlier rows
	// in the memory before, which stays theirs.
	s.pendingBuf = buf
	return m, nil
}

// load reads an execution and its operations from the store.
func (e *Engine) load(ctx context.Context, execID string) (*execState, error) {
	row, err := e.store.GetExecution(ctx, execID)
	if err != nil {
		return nil, err
	}
	s := &execState{row: row, ops: map[string]*opRecord{}}
	if err := json.Unmarshal(row.Data, &s.data); err != nil {
		return nil, fmt.Errorf("decode execution %s: %w", execID, err)
	}
	rows, err := e.store.ListOperations(ctx, execID, 0, 0)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		op := &opRecord{}
		if err := json.Unmarshal(r.Data, op); err != nil {
			return nil, fmt.Errorf("decode operation %s/%s: %w", execID, r.OperationID, err)
		}
		op.Seq = r.Seq
		s.ops[op.Id] = op
		s.order = append(s.order, op)
	}
	s.changedKnown = s.data.DeliveredSeq == s.data.ChangeSeq
	if s.data.Input != nil && s.opInput() != nil {
		s.data.Input = nil // an older version's copy; the next commit drops it
	}
	s.reset()
	return s, nil
}

// input returns the execution's input payload.
func (s *execState) input() *string {
	if in := s.opInput(); in != nil {
		return in
	}
	return s.data.Input
}

// opInput returns the input recorded in the EXECUTION operation, whose id
// is the execution's.
func (s *execState) opInput() *string { return inputOf(s.ops[s.row.ID]) }

// inputOf returns the input an EXECUTION operation records, if any.
func inputOf(op *opRecord) *string {
	if op == nil || op.ExecutionDetails == nil {
		return nil
	}
	return op.ExecutionDetails.InputPayload
}

// errAbort ends an update without committing and without error.
var errAbort = errors.New("abort")

// update runs fn on the current state of an execution and commits what it
// changed. The per-execution stripe lock only avoids wasted work on this
// node; correctness rests on the store's revision check, so a conflict
// (another node, or a stale cache) reloads and runs fn again.
func (e *Engine) update(ctx context.Context, execID string, fn func(s *execState) error) (*execState, error) {
	mu := e.stripe(execID)
	mu.Lock()
	defer mu.Unlock()
	for attempt := 0; ; attempt++ {
		s, err := e.cached(ctx, execID, true)
		if err != nil {
			return nil, err
		}
		err = fn(s)
		if err != nil {
			e.evict(execID)
			if errors.Is(err, errAbort) {
				return s, err
			}
			return nil, err
		}
		m, err := s.mutation(false)
		if err != nil {
			e.evict(execID)
			return nil, internalError("encode mutation", err)
		}
		err = e.store.Commit(ctx, m)
		if errors.Is(err, store.ErrConflict) && attempt < 20 {
			e.evict(execID)
			continue
		}
		if err != nil {
			e.evict(execID)
			return nil, internalError("commit", err)
		}
		e.committed(s)
		return s, nil
	}
}

// committed finishes a successful commit: bumps the revision, runs
// post-commit hooks and decides whether to keep the state cached.
// Executions with an invocation in flight stay cached; suspended ones go
// to the bounded idle cache, so that they cost disk, not memory, beyond
// the few thousand most recent.
func (e *Engine) committed(s *execState) {
	s.row.Revision++
	if cap(s.pendingBuf) <= maxKeptRowBuf {
		s.rowBuf = s.pendingBuf[:0]
	}
	s.pendingBuf = nil
	extra := s.extra
	var earliest time.Time
	for i, t := range s.setTimers {
		if i == 0 || t.Due.Before(earliest) {
			earliest = t.Due
		}
	}
	hadTimers := len(s.setTimers) > 0
	s.reset()
	switch {
	case s.data.InvocationID != "" && !s.terminal():
		e.cacheMu.Lock()
		e.cache[s.row.ID] = s
		e.cacheMu.Unlock()
	case !s.terminal():
		e.cacheMu.Lock()
		delete(e.cache, s.row.ID)
		e.cacheMu.Unlock()
		s.rowBuf = nil // a suspended execution keeps no memory for checkpoints it is not making
		e.idle.put(s)
	default:
		e.evict(s.row.ID)
	}
	if hadTimers {
		e.notifyTimersAt(earliest)
	}
	for _, f := range extra {
		f()
	}
}

// cached returns an execution's state from the cache of executions with an
// invocation in flight, or else from the store. With idle, it may also take
// a suspended execution's state from the idle cache: only update asks for
// that, because its commit checks the revision, so that a stale entry costs
// a conflict and a reload, not a wrong answer.
func (e *Engine) cached(ctx context.Context, execID string, idle bool) (*execState, error) {
	e.cacheMu.Lock()
	s := e.cache[execID]
	e.cacheMu.Unlock()
	if s == nil && idle {
		s = e.idle.take(execID)
	}
	if s != nil {
		return s, nil
	}
	return e.load(ctx, execID)
}

func (e *Engine) evict(execID string) {
	e.cacheMu.Lock()
	delete(e.cache, execID)
	e.cacheMu.Unlock()
	e.idle.drop(execID)
}

// visible returns the operations an invocation sees, in start order: the
// descendants of a closed CONTEXT are hidden unless it asked to replay them.
func (s *execState) visible() []*opRecord {
	hidden := map[string]bool{}
	out := make([]*opRecord, 0, len(s.order))
	for _, op := range s.order {
		if op.ParentId != "" {
			p := s.ops[op.ParentId]
			if hidden[op.ParentId] || (p != nil && p.Type == OpContext && closedContext(p)) {
				hidden[op.Id] = true
				continue
			}
		}
		out = append(out, op)
	}
	return out
}

func closedContext(op *opRecord) bool {
	if op.Status != OpSucceeded && op.Status != OpFailed {
		return false
	}
	return op.ContextDetails == nil || op.ContextDetails.ReplayChildren == nil || !*op.ContextDetails.ReplayChildren
}
