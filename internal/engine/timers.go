package engine

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/duro-run/duro/internal/store"
	"github.com/duro-run/duro/internal/uuid"
)

// parkedFor is how far a chained-invoke timer is pushed while the caller's
// invocation that started it is in flight; ending that invocation re-arms
// it at once (releaseChained), so this only bounds a lost re-arm.
const parkedFor = 30 * time.Second

// startedByLive reports whether the invocation that started this chained
// invoke is still in flight.
func (op *opRecord) startedByLive(s *execState) bool {
	return op.StartedBy != "" && op.StartedBy == s.data.InvocationID
}

// releaseChained re-arms the parked chained-invoke timers of an invocation
// that is ending: a plain target is called, a finished durable target's
// outcome is applied. A re-armed timer whose target has not finished does
// nothing.
func (e *Engine) releaseChained(s *execState, invocationID string, now time.Time) {
	for _, op := range s.order {
		if op.Type != OpChainedInvoke || op.Status != OpStarted || op.StartedBy != invocationID {
			continue
		}
		s.setTimer(timerChildDone+op.Id, now)
	}
}

// chainTask is the data of a chained-invoke start timer.
type chainTask struct {
	FunctionName string  `json:"f"`
	Payload      *string `json:"p,omitempty"`
	TenantID     *string `json:"t,omitempty"`
}

type resolvedTarget struct {
	cfg     FunctionConfiguration
	version string
}

// resolveFunctionLocal resolves a chained-invoke target; an unqualified
// name means $LATEST.
func (e *Engine) resolveFunctionLocal(_ *execState, name string) (resolvedTarget, error) {
	ref, err := e.parseFunctionName(name)
	if err != nil {
		return resolvedTarget{}, err
	}
	q := orLatest(ref.Qualifier)
	cfg, err := e.resolveFunction(e.ctx, ref.Name, q)
	if err != nil {
		return resolvedTarget{}, err
	}
	return resolvedTarget{cfg: cfg, version: q}, nil
}

// dueScanLimit bounds the due timers one scan of the timer loop reads.
const dueScanLimit = 512

// timerLoop fires due timers. It sleeps until the earliest timer, a local
// signal that a timer was set or handled, or the poll interval (timers set
// by other nodes), whichever comes first.
func (e *Engine) timerLoop() {
	defer e.wg.Done()
	sem := make(chan struct{}, 64)
	lastScan := e.now()
	for {
		e.timerPlan.Store(0) // scanning: every new timer signals
		e.releaseFired()
		scanAt := e.now()
		due, err := e.store.DueTimers(e.ctx, scanAt, dueScanLimit)
		if err != nil && e.ctx.Err() == nil {
			e.log.Error("read due timers", "err", err)
		}
		for _, t := range due {
			k := t.ExecutionID + "\x00" + t.Key
			if _, busy := e.firing.LoadOrStore(k, struct{}{}); busy {
				continue
			}
			select {
			case sem <- struct{}{}:
			case <-e.ctx.Done():
				e.firing.Delete(k)
				return
			}
			e.wg.Add(1)
			go func(t store.TimerRow) {
				defer e.wg.Done()
				if err := e.fire(e.ctx, t); err != nil && e.ctx.Err() == nil {
					e.log.Error("timer", "execution", t.ExecutionID, "key", t.Key, "err", err)
					// Hold the key a while so a persistent failure does not spin.
					time.Sleep(time.Second)
				}
				e.firedMu.Lock()
				e.fired = append(e.fired, k)
				e.firedMu.Unlock()
				<-sem
				e.notifyTimers()
			}(t)
		}
		if e.now().Sub(lastScan) > 5*time.Second {
			lastScan = e.now()
			e.leaseScan()
		}
		wait := e.cfg.TimerPollInterval
		if len(due) > 0 {
			// Each handler's completion signals the loop, which then
			// looks again at what is due (a handler may leave its timer
			// behind, or more were due than one scan returns); this only
			// bounds a lost signal.
			wait = min(wait, 50*time.Millisecond)
		}
		// Sleep until the next timer that was not yet due, even while
		// others are being handled, so that it need not wait for a
		// handler to end. After a full scan more timers are already due:
		// handlers ending signal the loop, and the store need not be asked.
		if len(due) < dueScanLimit {
			next, err := e.store.NextTimer(e.ctx, scanAt)
			switch {
			case err == nil:
				wait = min(wait, next.Due.Sub(e.now()))
			case errors.Is(err, store.ErrNotFound):
			case e.ctx.Err() != nil:
				return
			default:
				e.log.Error("read next timer", "err", err)
			}
		}
		if wait <= 0 {
			continue
		}
		e.timerPlan.Store(e.now().Add(wait).UnixNano())
		t := time.NewTimer(wait)
		select {
		case <-e.ctx.Done():
			t.Stop()
			return
		case <-e.timerWake:
		case <-t.C:
		}
		t.Stop()
	}
}

// releaseFired lets the timers whose handlers have returned fire again:
// the loop calls it before each scan, so the scan reads the store after
// those handlers' commits (a timer set again meanwhile is due again).
func (e *Engine) releaseFired() {
	e.firedMu.Lock()
	done := e.fired
	e.fired = nil
	e.firedMu.Unlock()
	for _, k := range done {
		e.firing.Delete(k)
	}
}

// leaseScan re-invokes executions whose invocation was lost with a node.
func (e *Engine) leaseScan() {
	if err := e.recoverLeases(e.ctx, ""); err != nil && e.ctx.Err() == nil {
		e.log.Error("lease scan", "err", err)
	}
}

// recoverLeases treats invocations whose lease is owned by owner (this
// node's previous life) or expired as timed out, and schedules their
// re-invocation (protocol.md §7.10).
func (e *Engine) recoverLeases(ctx context.Context, owner string) error {
	rows, err := e.store.ListLeasedExecutions(ctx, owner, e.now(), 1000)
	if err != nil {
		return err
	}
	for _, r := range rows {
		_, err := e.update(ctx, r.ID, func(s *execState) error {
			if s.data.InvocationID == "" || s.terminal() {
				return errAbort
			}
			if s.row.LeaseOwner != owner && !s.row.LeaseUntil.Before(e.now()) {
				return errAbort
			}
			if s.row.LeaseOwner == e.cfg.NodeID && owner == "" {
				return errAbort // our own, still running
			}
			now := e.now()
			s.emit(now, nil, Event{EventType: "InvocationCompleted", InvocationCompletedDetails: &InvocationCompletedDetails{
				StartTimestamp: Timestamp(s.data.InvocationStart), EndTimestamp: Timestamp(now), RequestId: s.data.InvocationID,
				Error: &EventError{Payload: NewError("Sandbox.Timedout", "The invocation was lost when its host stopped.")},
			}})
			e.releaseChained(s, s.data.InvocationID, now)
			s.data.InvocationID = ""
			s.data.LastCheckpoint = nil
			s.row.LeaseOwner, s.row.LeaseUntil = "", time.Time{}
			if f := s.data.Final; f != nil {
				e.finish(s, now, f.Status, f.Result, f.Error)
				return nil
			}
			s.data.Failures++
			if s.data.Failures >= e.cfg.MaxInvocationFailures {
				e.finish(s, now, StatusFailed, nil, NewError("Sandbox.Timedout", "The invocation was lost when its host stopped."))
				return nil
			}
			s.setTimer(timerInvoke, now)
			return nil
		})
		if err != nil && !errors.Is(err, errAbort) {
			return err
		}
	}
	return nil
}

// fire handles one due timer. Every handler checks the current state, so a
// late or repeated timer is harmless.
func (e *Engine) fire(ctx context.Context, t store.TimerRow) error {
	e.observeTimer(t)
	key, opID, _ := strings.Cut(t.Key, ":")
	switch key {
	case timerInvoke:
		err := e.fireInvoke(ctx, t.ExecutionID)
		if errors.Is(err, store.ErrNotFound) || KindOf(err) == KindNotFound {
			return e.dropTimer(ctx, t)
		}
		return err
	case timerRetention:
		row, err := e.store.GetExecution(ctx, t.ExecutionID)
		if errors.Is(err, store.ErrNotFound) {
			return e.dropTimer(ctx, t)
		}
		if err != nil {
			return err
		}
		if row.Status == StatusRunning {
			return e.dropTimer(ctx, t)
		}
		e.evict(t.ExecutionID)
		return e.store.DeleteExecution(ctx, t.ExecutionID)
	case "chain":
		return e.fireChainStart(ctx, t, opID)
	}
	_, err := e.update(ctx, t.ExecutionID, func(s *execState) error {
		s.timerFired(t)
		now := e.now()
		if s.terminal() {
			return nil
		}
		if key == strings.TrimSuffix(timerExecutionTimeout, ":") {
			e.finish(s, now, StatusTimedOut, nil, NewError("Execution.Timeout", "Execution timed out."))
			return nil
		}
		op := s.ops[opID]
		if op == nil {
			return nil
		}
		changed := false
		switch key + ":" {
		case timerWait:
			if op.Status == OpStarted {
				e.completeWait(s, op, now)
				changed = true
			}
		case timerRetry:
			if op.Status == OpPending {
				e.readyRetry(s, op)
				changed = true
			}
		case timerCallbackTimeout:
			if op.Status == OpStarted {
				e.timeoutCallback(s, op, now, "Callback.Timeout", "Callback timed out")
				changed = true
			}
		case timerHeartbeat:
			if op.Status == OpStarted {
				e.timeoutCallback(s, op, now, "Callback.Heartbeat", "Callback timed out due to missing heartbeat")
				changed = true
			}
		case timerChildDone:
			if op.startedByLive(s) {
				s.setTimer(t.Key, now.Add(parkedFor))
				return nil
			}
			if o := op.PendingOutcome; o != nil && op.Status == OpStarted {
				op.PendingOutcome = nil
				e.applyOutcome(s, op, now, o)
				changed = true
			} else {
				changed = e.applyChildOutcome(ctx, s, op, now)
			}
		}
		if changed {
			e.wake(ctx, s, now)
		}
		return nil
	})
	if errors.Is(err, store.ErrNotFound) || KindOf(err) == KindNotFound {
		return e.dropTimer(ctx, t)
	}
	return err
}

// dropTimer removes a timer whose execution is gone.
func (e *Engine) dropTimer(ctx context.Context, t store.TimerRow) error {
	row, err := e.store.GetExecution(ctx, t.ExecutionID)
	if errors.Is(err, store.ErrNotFound) {
		// A timer that outlived its execution: remove what is left.
		if err := e.store.DeleteExecution(ctx, t.ExecutionID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return nil
	}
	if err != nil {
		return err
	}
	return e.store.Commit(ctx, store.Mutation{Execution: row, FiredTimers: []store.TimerRow{t}})
}

// wake schedules an invocation for an execution whose operations changed
// from outside: now if none is in flight; otherwise the invocation in flight
// sees the change in its next checkpoint, or is followed by a new one.
func (e *Engine) wake(ctx context.Context, s *execState, now time.Time) {
	if s.data.InvocationID != "" || s.terminal() {
		return
	}
	if err := e.beginInvocation(ctx, s, now); err != nil {
		// The function could not be resolved just now: let the invoke
		// timer try again.
		e.log.Warn("start invocation", "execution", s.row.ID, "err", err)
		s.setTimer(timerInvoke, now)
	}
}

func (e *Engine) timeoutCallback(s *execState, op *opRecord, now time.Time, typ, msg string) {
	eo := NewError(typ, msg)
	op.Status = OpTimedOut
	op.EndTimestamp = TimestampPtr(now)
	op.CallbackDetails.Error = eo
	s.touch(op)
	s.deleteTimer(timerCallbackTimeout + op.Id)
	s.deleteTimer(timerHeartbeat + op.Id)
	s.emit(now, op, Event{EventType: "CallbackTimedOut", CallbackTimedOutDetails: &ErrorDetails{Error: EventError{Payload: eo}}})
}

// fireChainStart starts the target of a chained invoke: a durable target
// becomes a child execution with the id reserved at checkpoint time; a plain
// target is invoked once and its answer applied to the caller.
func (e *Engine) fireChainStart(ctx context.Context, t store.TimerRow, opID string) error {
	var task chainTask
	if err := json.Unmarshal(t.Data, &task); err != nil {
		return e.dropTimer(ctx, t)
	}
	parent, err := e.load(ctx, t.ExecutionID)
	if errors.Is(err, store.ErrNotFound) {
		return e.dropTimer(ctx, t)
	}
	if err != nil {
		return err
	}
	op := parent.ops[opID]
	if op == nil || op.Status != OpStarted || parent.terminal() {
		return e.dropTimer(ctx, t)
	}
	payload := []byte("null")
	if task.Payload != nil {
		payload = []byte(*task.Payload)
	}
	target, rerr := e.resolveFunctionLocal(parent, task.FunctionName)
	var outcome *childOutcome
	switch {
	case rerr != nil:
		msg := rerr.Error()
		outcome = &childOutcome{Status: StatusFailed, Error: NewError("ResourceNotFoundException", msg)}
	case target.cfg.DurableConfig != nil:
		_, err := e.startExecution(ctx, target.cfg, target.version, StartInput{
			Name: op.ChildExecution, Payload: payload, TenantID: deref(task.TenantID), TraceID: parent.data.TraceID,
		}, &parentRef{ExecutionID: parent.row.ID, OperationID: opID}, op.ChildExecution)
		if err != nil {
			return err
		}
	default:
		resp, err := e.callFunction(ctx, target.cfg, uuid.New(), payload, deref(task.TenantID), parent.data.TraceID, "", "")
		out := &childOutcome{Status: StatusSucceeded}
		if err != nil || resp.FunctionError != "" {
			_, ie := classify(resp, err)
			if ie == nil {
				ie = NewError("Unhandled", "function error")
			}
			out = &childOutcome{Status: StatusFailed, Error: ie}
		} else {
			r := string(resp.Payload)
			out.Result = &r
		}
		outcome = out
	}
	_, err = e.update(ctx, t.ExecutionID, func(s *execState) error {
		s.timerFired(t)
		op := s.ops[opID]
		if outcome == nil || s.terminal() || op == nil || op.Status != OpStarted {
			return nil
		}
		now := e.now()
		if op.startedByLive(s) {
			// Held until the caller's invocation ends (opRecord.StartedBy).
			op.PendingOutcome = outcome
			s.dirty[op.Id] = true
			s.setTimer(timerChildDone+op.Id, now.Add(parkedFor))
			return nil
		}
		e.applyOutcome(s, op, now, outcome)
		e.wake(ctx, s, now)
		return nil
	})
	return err
}

// childOutcome is how a chained invoke ended.
type childOutcome struct {
	Status string       `json:"s"`
	Result *string      `json:"r,omitempty"`
	Error  *ErrorObject `json:"e,omitempty"`
}

// applyChildOutcome copies a finished child execution's outcome onto the
// CHAINED_INVOKE operation that started it.
func (e *Engine) applyChildOutcome(ctx context.Context, s *execState, op *opRecord, now time.Time) bool {
	if op.Type != OpChainedInvoke || op.Status != OpStarted || op.ChildExecution == "" {
		return false
	}
	child, err := e.load(ctx, op.ChildExecution)
	if err != nil || !child.terminal() {
		return false
	}
	e.applyOutcome(s, op, now, &childOutcome{Status: child.row.Status, Result: child.data.Result, Error: child.data.Error})
	return true
}

func (e *Engine) applyOutcome(s *execState, op *opRecord, now time.Time, o *childOutcome) {
	d := op.ChainedInvokeDetails
	if d == nil {
		d = &ChainedInvokeDetails{}
		op.ChainedInvokeDetails = d
	}
	op.EndTimestamp = TimestampPtr(now)
	s.touch(op)
	ee := EventError{Payload: o.Error}
	switch o.Status {
	case StatusSucceeded:
		op.Status = OpSucceeded
		d.Result = o.Result
		s.emit(now, op, Event{EventType: "ChainedInvokeSucceeded", ChainedInvokeSucceededDetails: &ResultDetails{Result: EventResult{Payload: o.Result}}})
	case StatusFailed:
		op.Status = OpFailed
		d.Error = o.Error
		s.emit(now, op, Event{EventType: "ChainedInvokeFailed", ChainedInvokeFailedDetails: &ErrorDetails{Error: ee}})
	case StatusTimedOut:
		op.Status = OpTimedOut
		d.Error = o.Error
		s.emit(now, op, Event{EventType: "ChainedInvokeTimedOut", ChainedInvokeTimedOutDetails: &ErrorDetails{Error: ee}})
	case StatusStopped:
		op.Status = OpStopped
		d.Error = o.Error
		s.emit(now, op, Event{EventType: "ChainedInvokeStopped", ChainedInvokeStoppedDetails: &ErrorDetails{Error: ee}})
	}
}
