package engine

import (
	"context"
	"errors"
	"time"

	"github.com/duro-run/duro/internal/store"
)

// callbackClosed is AWS's message for a completed or timed-out callback.
const callbackClosed = "The callback ID token has either expired or the callback associated with the token has already been closed."

// onCallback loads the CALLBACK operation a callback id names and runs fn on
// it while it is still open.
func (e *Engine) onCallback(ctx context.Context, callbackID string, fn func(s *execState, op *opRecord, now time.Time)) error {
	execID, opID, err := e.sign.parseCallbackID(callbackID)
	if err != nil {
		return Errorf(KindNotFound, "Callback not found: %s", callbackID)
	}
	_, err = e.update(ctx, execID, func(s *execState) error {
		op := s.ops[opID]
		if op == nil || op.Type != OpCallback || op.CallbackDetails == nil || deref(op.CallbackDetails.CallbackId) != callbackID {
			return Errorf(KindNotFound, "Callback not found: %s", callbackID)
		}
		if op.Status != OpStarted || s.terminal() {
			return Errorf(KindCallbackTimeout, callbackClosed)
		}
		fn(s, op, e.now())
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return Errorf(KindNotFound, "Callback not found: %s", callbackID)
	}
	return err
}

// CallbackSuccess completes a callback with the raw result bytes.
func (e *Engine) CallbackSuccess(ctx context.Context, callbackID string, result []byte) error {
	return e.onCallback(ctx, callbackID, func(s *execState, op *opRecord, now time.Time) {
		r := string(result)
		op.Status = OpSucceeded
		op.EndTimestamp = TimestampPtr(now)
		op.CallbackDetails.Result = &r
		s.touch(op)
		s.deleteTimer(timerCallbackTimeout + op.Id)
		s.deleteTimer(timerHeartbeat + op.Id)
		s.emit(now, op, Event{EventType: "CallbackSucceeded", CallbackSucceededDetails: &ResultDetails{Result: EventResult{Payload: &r}}})
		e.wake(ctx, s, now)
	})
}

// CallbackFailure fails a callback with an error object.
func (e *Engine) CallbackFailure(ctx context.Context, callbackID string, cause *ErrorObject) error {
	if cause == nil {
		cause = &ErrorObject{}
	}
	return e.onCallback(ctx, callbackID, func(s *execState, op *opRecord, now time.Time) {
		op.Status = OpFailed
		op.EndTimestamp = TimestampPtr(now)
		op.CallbackDetails.Error = cause
		s.touch(op)
		s.deleteTimer(timerCallbackTimeout + op.Id)
		s.deleteTimer(timerHeartbeat + op.Id)
		s.emit(now, op, Event{EventType: "CallbackFailed", CallbackFailedDetails: &ErrorDetails{Error: EventError{Payload: cause}}})
		e.wake(ctx, s, now)
	})
}

// CallbackHeartbeat restarts a callback's heartbeat timer. It writes no
// history event.
func (e *Engine) CallbackHeartbeat(ctx context.Context, callbackID string) error {
	return e.onCallback(ctx, callbackID, func(s *execState, op *opRecord, now time.Time) {
		if op.HeartbeatTimeout > 0 {
			s.setTimer(timerHeartbeat+op.Id, now.Add(time.Duration(op.HeartbeatTimeout)*time.Second))
		}
	})
}
