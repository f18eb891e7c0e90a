package engine

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/duro-run/duro/internal/store"
	"github.com/duro-run/duro/internal/uuid"
)

// maxErrorBytes caps one update's encoded Error, as AWS's emulators do.
const maxErrorBytes = 32 << 10

// Checkpoint applies a batch of operation updates from the invocation in
// flight (protocol.md §5.1).
func (e *Engine) Checkpoint(ctx context.Context, in CheckpointInput) (CheckpointOutput, error) {
	ref, err := parseExecutionArn(in.DurableExecutionArn)
	if err != nil {
		return CheckpointOutput{}, err
	}
	tokExec, seq, terr := e.sign.parseCheckpointToken(in.CheckpointToken)
	if terr != nil || tokExec != ref.ID {
		return CheckpointOutput{}, staleToken("token is not valid for this execution")
	}
	var out CheckpointOutput
	start, requestID := e.now(), ""
	_, err = e.update(ctx, ref.ID, func(s *execState) error {
		requestID = s.data.InvocationID
		var err error
		out, err = e.applyCheckpoint(s, &in, seq)
		return err
	})
	e.observeCheckpoint(ref, &in, requestID, start, err)
	if errors.Is(err, store.ErrNotFound) {
		return CheckpointOutput{}, staleToken("execution not found")
	}
	if err != nil && !errors.Is(err, errAbort) {
		return CheckpointOutput{}, err
	}
	return out, nil
}

// applyCheckpoint is Checkpoint's work on the loaded execution: validate
// and apply the updates, issue the next token, and compute the response.
// errAbort means out answers a retry and nothing changed.
func (e *Engine) applyCheckpoint(s *execState, in *CheckpointInput, seq int64) (CheckpointOutput, error) {
	if lc := s.data.LastCheckpoint; lc != nil && in.ClientToken != "" && lc.Seq == seq && lc.ClientToken == in.ClientToken {
		return s.replay(e, lc), errAbort
	}
	if s.terminal() || s.data.InvocationID == "" || s.data.Final != nil || seq != s.data.TokenSeq {
		return CheckpointOutput{}, staleToken("token is stale or the execution is no longer running")
	}
	if err := validateUpdates(s, in.Updates); err != nil {
		return CheckpointOutput{}, err
	}
	now := e.now()
	for i := range in.Updates {
		e.applyUpdate(s, now, &in.Updates[i])
	}
	e.completeDueTimers(s, now)
	var out CheckpointOutput
	if s.data.Final == nil {
		s.data.TokenSeq++
		tok := e.sign.checkpointToken(s.row.ID, s.data.TokenSeq)
		out.CheckpointToken = &tok
	}
	out.NewExecutionState.Operations = s.delta()
	s.delivered()
	lc := &dedupEntry{Seq: seq, ClientToken: in.ClientToken, Issued: out.CheckpointToken != nil}
	for i := range out.NewExecutionState.Operations {
		lc.Ops = append(lc.Ops, out.NewExecutionState.Operations[i].Id)
	}
	s.data.LastCheckpoint = lc
	return out, nil
}

// replay rebuilds the response to the last checkpoint for a retry of it
// (same token, same ClientToken): the same token, and the same operations,
// as they are now. Rebuilding it instead of storing the response keeps the
// execution row, which every checkpoint rewrites, small.
func (s *execState) replay(e *Engine, lc *dedupEntry) CheckpointOutput {
	out := CheckpointOutput{}
	if lc.Issued {
		tok := e.sign.checkpointToken(s.row.ID, lc.Seq+1)
		out.CheckpointToken = &tok
	}
	out.NewExecutionState.Operations = []Operation{}
	for _, id := range lc.Ops {
		if op := s.ops[id]; op != nil {
			out.NewExecutionState.Operations = append(out.NewExecutionState.Operations, op.Operation.clone())
		}
	}
	return out
}

// delta lists the operations changed since the state last delivered to the
// invocation, in start order.
func (s *execState) delta() []Operation {
	out := []Operation{}
	for _, op := range s.changedOps() {
		out = append(out, op.Operation.clone())
	}
	return out
}

var validActions = map[string]map[string]bool{
	OpExecution:     {ActionSucceed: true, ActionFail: true},
	OpContext:       {ActionStart: true, ActionSucceed: true, ActionFail: true},
	OpStep:          {ActionStart: true, ActionSucceed: true, ActionFail: true, ActionRetry: true},
	OpWait:          {ActionStart: true, ActionCancel: true},
	OpCallback:      {ActionStart: true, ActionCancel: true},
	OpChainedInvoke: {ActionStart: true, ActionCancel: true},
}

func invalid(format string, args ...any) error { return Errorf(KindInvalidParameter, format, args...) }

// validateUpdates checks a whole batch before anything is applied
// (protocol.md §5.2, §5.3): one bad update rejects the batch.
func validateUpdates(s *execState, updates []OperationUpdate) error {
	type pending struct {
		typ, status string
		first       *OperationUpdate
		started     bool // a START for it came earlier in this batch
		count       int
	}
	seen := map[string]*pending{}
	execUpdates := 0
	for i := range updates {
		if updates[i].Type == OpExecution {
			execUpdates++
		}
	}
	if execUpdates > 1 {
		return invalid("Cannot checkpoint multiple EXECUTION updates.")
	}
	for i := range updates {
		u := &updates[i]
		actions, ok := validActions[u.Type]
		if !ok {
			return invalid("Invalid operation type: %s", u.Type)
		}
		if !actions[u.Action] {
			return invalid("Invalid action for the given operation type.")
		}
		if u.Type == OpExecution {
			if i != len(updates)-1 {
				return invalid("EXECUTION checkpoint must be the last update.")
			}
		}
		if u.Action == ActionFail && u.Payload != nil {
			return invalid("Payload is not allowed for a FAIL update.")
		}
		if u.Action == ActionSucceed && u.Error != nil {
			return invalid("Error is not allowed for a SUCCEED update.")
		}
		if u.Action == ActionRetry {
			if u.Payload != nil && u.Error != nil {
				return invalid("A RETRY update cannot carry both Payload and Error.")
			}
			if u.StepOptions == nil || u.StepOptions.NextAttemptDelaySeconds == nil {
				return invalid("StepOptions.NextAttemptDelaySeconds is required for a RETRY update.")
			}
		}
		if u.Error != nil {
			b, _ := json.Marshal(u.Error)
			if len(b) > maxErrorBytes {
				return invalid("Error object size must be less than or equal to %d bytes.", maxErrorBytes)
			}
		}
		if u.Type == OpExecution {
			continue
		}
		if u.Type == OpWait && u.Action == ActionStart && (u.WaitOptions == nil || u.WaitOptions.WaitSeconds == nil) {
			return invalid("WaitOptions.WaitSeconds is required for a WAIT START update.")
		}
		if u.Type == OpChainedInvoke && u.Action == ActionStart && (u.ChainedInvokeOptions == nil || u.ChainedInvokeOptions.FunctionName == "") {
			return invalid("ChainedInvokeOptions.FunctionName is required for a CHAINED_INVOKE START update.")
		}

		// Status this update sees: the stored one, or the one an earlier
		// update of this batch produced.
		status := ""
		existing := s.ops[u.Id]
		if p := seen[u.Id]; p != nil {
			p.count++
			if p.count > 2 || !p.started || u.Action == ActionStart || (u.Type != OpStep && u.Type != OpContext) {
				return invalid("Cannot checkpoint multiple operations with the same ID.")
			}
			if p.typ != u.Type {
				return invalid("Inconsistent operation type.")
			}
			if err := sameIdentity(p.first, u); err != nil {
				return err
			}
			status = p.status
		} else {
			seen[u.Id] = &pending{typ: u.Type, count: 1, first: u}
			if existing != nil {
				status = existing.Status
				if existing.Type != u.Type {
					return invalid("Inconsistent operation type.")
				}
				if u.SubType != nil && *u.SubType != existing.SubType {
					return invalid("Inconsistent operation subtype.")
				}
				if u.Name != nil && *u.Name != existing.Name {
					return invalid("Inconsistent operation name.")
				}
				if u.ParentId != nil && *u.ParentId != existing.ParentId {
					return invalid("Inconsistent parent operation id.")
				}
			}
		}
		if existing == nil && seen[u.Id].count == 1 && u.ParentId != nil {
			parent := s.ops[*u.ParentId]
			pp := seen[*u.ParentId]
			if (parent == nil || parent.Type != OpContext) && (pp == nil || pp.typ != OpContext) {
				return invalid("Invalid parent operation id.")
			}
		}
		next, err := transition(u.Type, u.Action, status)
		if err != nil {
			return err
		}
		p := seen[u.Id]
		p.status = next
		if u.Action == ActionStart {
			p.started = true
		}
	}
	return nil
}

// sameIdentity checks that a second update of an operation in one batch
// names it as the first did; a member left out repeats the first's value.
func sameIdentity(first, u *OperationUpdate) error {
	for _, f := range []struct {
		a, b *string
		what string
	}{{first.Name, u.Name, "name"}, {first.SubType, u.SubType, "subtype"}, {first.ParentId, u.ParentId, "parent operation id"}} {
		if f.b != nil && deref(f.a) != *f.b {
			return invalid("Inconsistent operation %s.", f.what)
		}
	}
	return nil
}

// transition returns the status an action leads to from a status ("" for
// a new operation), or an error when the action is not allowed there.
func transition(typ, action, status string) (string, error) {
	bad := func() (string, error) {
		if status == "" {
			return "", invalid("Cannot %s a %s operation that does not exist.", action, typ)
		}
		return "", invalid("Cannot %s a %s operation in status %s.", action, typ, status)
	}
	switch typ {
	case OpStep:
		switch action {
		case ActionStart:
			if status == "" || status == OpReady {
				return OpStarted, nil
			}
		case ActionSucceed, ActionFail, ActionRetry:
			if status == "" || status == OpStarted || status == OpReady {
				return map[string]string{ActionSucceed: OpSucceeded, ActionFail: OpFailed, ActionRetry: OpPending}[action], nil
			}
		}
	case OpContext:
		switch action {
		case ActionStart:
			if status == "" {
				return OpStarted, nil
			}
		case ActionSucceed, ActionFail:
			if status == "" || status == OpStarted {
				return map[string]string{ActionSucceed: OpSucceeded, ActionFail: OpFailed}[action], nil
			}
		}
	case OpWait, OpCallback, OpChainedInvoke:
		switch action {
		case ActionStart:
			if status == "" {
				return OpStarted, nil
			}
		case ActionCancel:
			if status == OpStarted {
				return OpCancelled, nil
			}
		}
	}
	return bad()
}

func ptr[T any](v T) *T { return &v }

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// applyUpdate applies one validated update and writes its history event.
func (e *Engine) applyUpdate(s *execState, now time.Time, u *OperationUpdate) {
	if u.Type == OpExecution {
		if u.Action == ActionSucceed {
			s.data.Final = &finalOutcome{Status: StatusSucceeded, Result: u.Payload}
		} else {
			s.data.Final = &finalOutcome{Status: StatusFailed, Error: u.Error}
		}
		return
	}
	op := s.ops[u.Id]
	if op == nil {
		op = &opRecord{Operation: Operation{
			Id: u.Id, ParentId: deref(u.ParentId), Name: deref(u.Name), Type: u.Type, SubType: deref(u.SubType),
			StartTimestamp: Timestamp(now),
		}}
		s.addOp(op)
	} else {
		s.touch(op)
	}
	end := func(status string) {
		op.Status = status
		op.EndTimestamp = TimestampPtr(now)
	}
	switch u.Type {
	case OpStep:
		d := op.StepDetails
		if d == nil {
			d = &StepDetails{}
			op.StepDetails = d
		}
		switch u.Action {
		case ActionStart:
			op.Status = OpStarted
			d.NextAttemptTimestamp = nil
			s.emit(now, op, Event{EventType: "StepStarted", StepStartedDetails: &Empty{}})
		case ActionSucceed:
			d.Attempt++
			d.Result, d.Error, d.NextAttemptTimestamp = u.Payload, nil, nil
			end(OpSucceeded)
			s.emit(now, op, Event{EventType: "StepSucceeded", StepSucceededDetails: &StepResultDetails{
				Result: EventResult{Payload: u.Payload}, RetryDetails: RetryDetails{CurrentAttempt: d.Attempt}}})
		case ActionFail:
			d.Attempt++
			d.Result, d.Error, d.NextAttemptTimestamp = nil, u.Error, nil
			end(OpFailed)
			s.emit(now, op, Event{EventType: "StepFailed", StepFailedDetails: &StepErrorDetails{
				Error: EventError{Payload: u.Error}, RetryDetails: RetryDetails{CurrentAttempt: d.Attempt}}})
		case ActionRetry:
			d.Attempt++
			delay := *u.StepOptions.NextAttemptDelaySeconds
			next := now.Add(time.Duration(delay) * time.Second)
			op.Status = OpPending
			d.NextAttemptTimestamp = TimestampPtr(next)
			rd := RetryDetails{CurrentAttempt: d.Attempt, NextAttemptDelaySeconds: ptr(delay)}
			if u.Error != nil {
				d.Error, d.Result = u.Error, nil
				s.emit(now, op, Event{EventType: "StepFailed", StepFailedDetails: &StepErrorDetails{Error: EventError{Payload: u.Error}, RetryDetails: rd}})
			} else {
				d.Error, d.Result = nil, u.Payload
				s.emit(now, op, Event{EventType: "StepSucceeded", StepSucceededDetails: &StepResultDetails{Result: EventResult{Payload: u.Payload}, RetryDetails: rd}})
			}
			s.setTimer(timerRetry+op.Id, next)
		}
	case OpContext:
		if u.ContextOptions != nil && u.ContextOptions.ReplayChildren != nil {
			if op.ContextDetails == nil {
				op.ContextDetails = &ContextDetails{}
			}
			op.ContextDetails.ReplayChildren = u.ContextOptions.ReplayChildren
		}
		switch u.Action {
		case ActionStart:
			op.Status = OpStarted
			s.emit(now, op, Event{EventType: "ContextStarted", ContextStartedDetails: &Empty{}})
		case ActionSucceed:
			if op.ContextDetails == nil {
				op.ContextDetails = &ContextDetails{}
			}
			op.ContextDetails.Result = u.Payload
			end(OpSucceeded)
			s.emit(now, op, Event{EventType: "ContextSucceeded", ContextSucceededDetails: &ResultDetails{Result: EventResult{Payload: u.Payload}}})
		case ActionFail:
			if op.ContextDetails == nil {
				op.ContextDetails = &ContextDetails{}
			}
			op.ContextDetails.Error = u.Error
			end(OpFailed)
			s.emit(now, op, Event{EventType: "ContextFailed", ContextFailedDetails: &ErrorDetails{Error: EventError{Payload: u.Error}}})
		}
	case OpWait:
		switch u.Action {
		case ActionStart:
			secs := *u.WaitOptions.WaitSeconds
			due := now.Add(time.Duration(secs) * time.Second)
			op.Status = OpStarted
			op.WaitSeconds = secs
			op.WaitDetails = &WaitDetails{ScheduledEndTimestamp: TimestampPtr(due)}
			s.emit(now, op, Event{EventType: "WaitStarted", WaitStartedDetails: &WaitStartedDetails{Duration: secs, ScheduledEndTimestamp: Timestamp(due)}})
			s.setTimer(timerWait+op.Id, due)
		case ActionCancel:
			end(OpCancelled)
			s.deleteTimer(timerWait + op.Id)
			ev := Event{EventType: "WaitCancelled", WaitCancelledDetails: &OptionalErrorDetails{}}
			if u.Error != nil {
				ev.WaitCancelledDetails.Error = &EventError{Payload: u.Error}
			}
			s.emit(now, op, ev)
		}
	case OpCallback:
		switch u.Action {
		case ActionStart:
			s.data.CallbackNonce++
			id := e.sign.callbackID(s.row.ID, op.Id, s.data.CallbackNonce)
			op.Status = OpStarted
			op.CallbackDetails = &CallbackDetails{CallbackId: &id}
			det := &CallbackStartedDetails{CallbackId: id}
			if o := u.CallbackOptions; o != nil {
				if o.TimeoutSeconds != nil && *o.TimeoutSeconds > 0 {
					op.CallbackTimeout = *o.TimeoutSeconds
					det.Timeout = o.TimeoutSeconds
					s.setTimer(timerCallbackTimeout+op.Id, now.Add(time.Duration(op.CallbackTimeout)*time.Second))
				}
				if o.HeartbeatTimeoutSeconds != nil && *o.HeartbeatTimeoutSeconds > 0 {
					op.HeartbeatTimeout = *o.HeartbeatTimeoutSeconds
					det.HeartbeatTimeout = o.HeartbeatTimeoutSeconds
					s.setTimer(timerHeartbeat+op.Id, now.Add(time.Duration(op.HeartbeatTimeout)*time.Second))
				}
			}
			s.emit(now, op, Event{EventType: "CallbackStarted", CallbackStartedDetails: det})
		case ActionCancel:
			end(OpCancelled)
			s.deleteTimer(timerCallbackTimeout + op.Id)
			s.deleteTimer(timerHeartbeat + op.Id)
		}
	case OpChainedInvoke:
		switch u.Action {
		case ActionStart:
			o := u.ChainedInvokeOptions
			op.Status = OpStarted
			op.ChainedInvokeDetails = &ChainedInvokeDetails{}
			op.ChildExecution = childExecutionID(s.row.ID, op.Id)
			op.StartedBy = s.data.InvocationID
			det := &ChainedInvokeStartedDetails{FunctionName: o.FunctionName, TenantId: o.TenantId, Input: &EventInput{Payload: u.Payload}}
			// A durable target starts now, before the caller's event is
			// written, so the ARN the event names always exists. Its id
			// derives from the caller's, so a retried commit finds it. The
			// timer below is the fallback (and runs a plain target).
			if fn, err := e.resolveFunctionLocal(s, o.FunctionName); err == nil {
				v := fn.version
				det.ExecutedVersion = &v
				if fn.cfg.DurableConfig != nil {
					arn := e.executionArn(fn.cfg.FunctionName, v, op.ChildExecution, op.ChildExecution)
					det.DurableExecutionArn = &arn
					e.startChild(s, op, fn, u.Payload, o.TenantId)
				}
			}
			chain := chainTask{FunctionName: o.FunctionName, Payload: u.Payload, TenantID: o.TenantId}
			data, _ := json.Marshal(chain)
			s.setTimers = append(s.setTimers, store.TimerRow{ExecutionID: s.row.ID, Key: timerChainStart + op.Id, Due: now, Data: data})
			s.emit(now, op, Event{EventType: "ChainedInvokeStarted", ChainedInvokeStartedDetails: det})
		case ActionCancel:
			end(OpCancelled)
		}
	}
}

// completeDueTimers applies waits and retries that are already due, so an
// invocation polling with a checkpoint sees them without a re-invocation
// (protocol.md §5.13).
func (e *Engine) completeDueTimers(s *execState, now time.Time) {
	// s.timed holds every operation that may be waiting for a time, so
	// that a checkpoint of an execution with thousands of operations does
	// not look at them all. Only a checkpoint's updates start a wait or
	// schedule a retry, and each op they change is in s.dirty; the set is
	// built once per loaded state and pruned as its operations finish.
	if s.timed == nil {
		s.timed = map[*opRecord]struct{}{}
		for _, op := range s.order {
			if waitsForTime(op) {
				s.timed[op] = struct{}{}
			}
		}
	} else {
		for id := range s.dirty {
			if op := s.ops[id]; op != nil && waitsForTime(op) {
				s.timed[op] = struct{}{}
			}
		}
	}
	var due []*opRecord
	for op := range s.timed {
		switch {
		case !waitsForTime(op):
			delete(s.timed, op)
		case !timeDue(op).After(now):
			due = append(due, op)
		}
	}
	// In start order, as the events they write must be.
	slices.SortFunc(due, func(a, b *opRecord) int { return cmp.Compare(a.Seq, b.Seq) })
	for _, op := range due {
		delete(s.timed, op)
		if op.Type == OpWait {
			e.completeWait(s, op, now)
		} else {
			e.readyRetry(s, op)
		}
	}
}

// waitsForTime reports whether op waits for a point in time: a started
// WAIT for its end, a STEP for its next attempt.
func waitsForTime(op *opRecord) bool {
	switch op.Type {
	case OpWait:
		return op.Status == OpStarted && op.WaitDetails != nil
	case OpStep:
		return op.Status == OpPending && op.StepDetails != nil && op.StepDetails.NextAttemptTimestamp != nil
	}
	return false
}

// timeDue is the time a waitsForTime operation waits for.
func timeDue(op *opRecord) time.Time {
	if op.Type == OpWait {
		return op.WaitDetails.ScheduledEndTimestamp.Time()
	}
	return op.StepDetails.NextAttemptTimestamp.Time()
}

func (e *Engine) completeWait(s *execState, op *opRecord, now time.Time) {
	op.Status = OpSucceeded
	op.EndTimestamp = TimestampPtr(now)
	s.touch(op)
	s.deleteTimer(timerWait + op.Id)
	s.emit(now, op, Event{EventType: "WaitSucceeded", WaitSucceededDetails: &WaitSucceededDetails{Duration: ptr(op.WaitSeconds)}})
}

func (e *Engine) readyRetry(s *execState, op *opRecord) {
	op.Status = OpReady
	op.StepDetails.NextAttemptTimestamp = nil
	s.touch(op)
	s.deleteTimer(timerRetry + op.Id)
}

// childExecutionID derives a chained target's execution id from its caller
// and operation, in UUID form.
func childExecutionID(execID, opID string) string {
	sum := sha256.Sum256([]byte(execID + "/" + opID))
	b := [16]byte(sum[:16])
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	return uuid.Format(b)
}

// startChild starts a durable chained-invoke target. A failure is left to
// the chain timer, which retries the start.
func (e *Engine) startChild(s *execState, op *opRecord, fn resolvedTarget, payload, tenant *string) {
	in := StartInput{Name: op.ChildExecution, Payload: []byte("null"), TenantID: deref(tenant), TraceID: s.data.TraceID}
	if payload != nil {
		in.Payload = []byte(*payload)
	}
	if _, err := e.startExecution(e.ctx, fn.cfg, fn.version, in, &parentRef{ExecutionID: s.row.ID, OperationID: op.Id}, op.ChildExecution); err != nil {
		e.log.Warn("start chained invoke target", "caller", s.row.ARN, "operation", op.Id, "err", err)
	}
}
