package engine

import (
	"errors"
	"strings"
	"time"

	"github.com/duro-run/duro/internal/store"
)

// Observer is told what the engine does, for metrics and traces. The engine
// calls it synchronously on its own goroutines (after the commit that made
// the event durable, where there is one), so implementations must be safe
// for concurrent use and return quickly.
type Observer interface {
	// ExecutionStarted reports a new execution (a top-level start or a
	// chained-invoke child), once, after its first commit.
	ExecutionStarted(ExecutionInfo)
	// ExecutionFinished reports an execution becoming terminal, once, after
	// the commit that made it so. Status is the terminal status.
	ExecutionFinished(ExecutionInfo)
	// InvocationFinished reports the end of one invocation of a durable
	// function, whatever it returned. Invocations cut short by the engine
	// shutting down are not reported.
	InvocationFinished(InvocationInfo)
	// Checkpointed reports a CheckpointDurableExecution call that reached
	// the execution (accepted, replayed or rejected).
	Checkpointed(CheckpointInfo)
	// TimerFired reports that the timer loop took up a due timer: Kind is
	// what it is for (see the TimerKind constants) and Lag how long after
	// its due time the engine handled it.
	TimerFired(kind string, lag time.Duration)
}

// ExecutionInfo describes an execution for Observer.
type ExecutionInfo struct {
	ExecutionID  string
	ExecutionArn string
	Function     string
	// Status is RUNNING when started, the terminal status when finished.
	Status string
	Start  time.Time
	// End is zero when started.
	End time.Time
}

// Outcomes of an invocation (InvocationInfo.Outcome).
const (
	// OutcomeSucceeded: the handler returned SUCCEEDED.
	OutcomeSucceeded = "succeeded"
	// OutcomeFailed: the handler returned FAILED (the execution failed).
	OutcomeFailed = "failed"
	// OutcomePending: the handler suspended (waits, retries, callbacks).
	OutcomePending = "pending"
	// OutcomeTimeout: the function timed out.
	OutcomeTimeout = "timeout"
	// OutcomeError: the function errored, crashed or returned an invalid
	// response; the engine retries the invocation.
	OutcomeError = "error"
)

// InvocationInfo describes one finished invocation for Observer.
type InvocationInfo struct {
	ExecutionID  string
	ExecutionArn string
	Function     string
	RequestID    string
	Start, End   time.Time
	// Outcome is one of the Outcome constants.
	Outcome string
	// ErrorType is the invocation error's type for OutcomeTimeout and
	// OutcomeError, e.g. "Sandbox.Timedout".
	ErrorType string
}

// CheckpointInfo describes one checkpoint call for Observer.
type CheckpointInfo struct {
	ExecutionID  string
	ExecutionArn string
	Function     string
	// RequestID is the invocation in flight when the checkpoint was
	// handled; empty when there was none.
	RequestID  string
	Start, End time.Time
	// Updates is the number of operation updates in the batch.
	Updates int
	// Err is why the checkpoint was rejected; nil when it was applied (or
	// replayed from its stored response).
	Err error
}

// Timer kinds reported to Observer.TimerFired.
const (
	TimerKindInvoke            = "invoke"
	TimerKindExecutionTimeout  = "execution_timeout"
	TimerKindRetention         = "retention"
	TimerKindWait              = "wait"
	TimerKindRetry             = "retry"
	TimerKindCallbackTimeout   = "callback_timeout"
	TimerKindCallbackHeartbeat = "callback_heartbeat"
	TimerKindChainedInvoke     = "chained_invoke"
	TimerKindChildDone         = "child_done"
	TimerKindOther             = "other"
)

// timerKind maps a timer key to its TimerKind.
func timerKind(key string) string {
	prefix, _, _ := strings.Cut(key, ":")
	switch prefix + ":" {
	case timerInvoke + ":":
		return TimerKindInvoke
	case timerExecutionTimeout + ":":
		return TimerKindExecutionTimeout
	case timerRetention + ":":
		return TimerKindRetention
	case timerWait:
		return TimerKindWait
	case timerRetry:
		return TimerKindRetry
	case timerCallbackTimeout:
		return TimerKindCallbackTimeout
	case timerHeartbeat:
		return TimerKindCallbackHeartbeat
	case timerChainStart:
		return TimerKindChainedInvoke
	case timerChildDone:
		return TimerKindChildDone
	}
	return TimerKindOther
}

// NopObserver ignores everything; it is the default Config.Observer.
type NopObserver struct{}

// ExecutionStarted implements Observer.
func (NopObserver) ExecutionStarted(ExecutionInfo) {}

// ExecutionFinished implements Observer.
func (NopObserver) ExecutionFinished(ExecutionInfo) {}

// InvocationFinished implements Observer.
func (NopObserver) InvocationFinished(InvocationInfo) {}

// Checkpointed implements Observer.
func (NopObserver) Checkpointed(CheckpointInfo) {}

// TimerFired implements Observer.
func (NopObserver) TimerFired(string, time.Duration) {}

// Observers returns an Observer that tells each non-nil observer in turn.
func Observers(obs ...Observer) Observer {
	var m multiObserver
	for _, o := range obs {
		if o != nil {
			m = append(m, o)
		}
	}
	switch len(m) {
	case 0:
		return NopObserver{}
	case 1:
		return m[0]
	}
	return m
}

type multiObserver []Observer

func (m multiObserver) ExecutionStarted(i ExecutionInfo) {
	for _, o := range m {
		o.ExecutionStarted(i)
	}
}

func (m multiObserver) ExecutionFinished(i ExecutionInfo) {
	for _, o := range m {
		o.ExecutionFinished(i)
	}
}

func (m multiObserver) InvocationFinished(i InvocationInfo) {
	for _, o := range m {
		o.InvocationFinished(i)
	}
}

func (m multiObserver) Checkpointed(i CheckpointInfo) {
	for _, o := range m {
		o.Checkpointed(i)
	}
}

func (m multiObserver) TimerFired(kind string, lag time.Duration) {
	for _, o := range m {
		o.TimerFired(kind, lag)
	}
}

// The helpers below keep the call sites in the engine to one line each.

// observeStarted reports a committed execution start.
func (e *Engine) observeStarted(s *execState) {
	e.cfg.Observer.ExecutionStarted(ExecutionInfo{
		ExecutionID: s.row.ID, ExecutionArn: s.row.ARN, Function: s.row.FunctionName,
		Status: s.row.Status, Start: s.row.StartTime,
	})
}

// observeFinished arranges for the execution's end to be reported once
// the update that finishes it has committed. Call it from finish.
func (e *Engine) observeFinished(s *execState) {
	info := ExecutionInfo{
		ExecutionID: s.row.ID, ExecutionArn: s.row.ARN, Function: s.row.FunctionName,
		Status: s.row.Status, Start: s.row.StartTime, End: s.row.EndTime,
	}
	s.extra = append(s.extra, func() { e.cfg.Observer.ExecutionFinished(info) })
}

// observeInvocation reports an invocation that returned (or failed).
func (e *Engine) observeInvocation(p *invocationPlan, resp InvocationResponse, callErr error) {
	info := InvocationInfo{
		ExecutionID: p.execID, ExecutionArn: p.arn, Function: p.fn.FunctionName, RequestID: p.requestID,
		Start: p.start, End: e.now(),
	}
	out, invErr := classify(resp, callErr)
	switch {
	case invErr != nil:
		info.Outcome = OutcomeError
		if invErr.ErrorType != nil {
			info.ErrorType = *invErr.ErrorType
		}
		if info.ErrorType == "Sandbox.Timedout" {
			info.Outcome = OutcomeTimeout
		}
	case out.Status == "SUCCEEDED":
		info.Outcome = OutcomeSucceeded
	case out.Status == "FAILED":
		info.Outcome = OutcomeFailed
	default:
		info.Outcome = OutcomePending
	}
	e.cfg.Observer.InvocationFinished(info)
}

// observeCheckpoint reports a checkpoint call; err is what the update
// returned (errAbort is a replayed response, not a failure).
func (e *Engine) observeCheckpoint(ref executionRef, in *CheckpointInput, requestID string, start time.Time, err error) {
	if errors.Is(err, errAbort) {
		err = nil
	}
	e.cfg.Observer.Checkpointed(CheckpointInfo{
		ExecutionID: ref.ID, ExecutionArn: in.DurableExecutionArn, Function: ref.Function, RequestID: requestID,
		Start: start, End: e.now(), Updates: len(in.Updates), Err: err,
	})
}

// observeTimer reports a due timer taken up by the timer loop.
func (e *Engine) observeTimer(t store.TimerRow) {
	e.cfg.Observer.TimerFired(timerKind(t.Key), e.now().Sub(t.Due))
}
