// Package callbacks is the async flow's CallbackActions dispatcher
// (conformance.md §1.7). On every poll each CallbackStarted event whose
// CallbackId has not been handled is considered in event order: the first
// unused action whose CallbackName (after substitution) is '*', equals the
// event's Name, or — written ${/re/} — regex-matches it, is used; its
// Delay is slept inline (delaying the rest of the poll); then the callback
// call is made. A heartbeat uses up its action but leaves the callback
// unhandled, so a later poll applies the next matching action.
package callbacks

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/duro-run/duro/internal/conformance/placeholder"
	"github.com/duro-run/duro/internal/conformance/pyfmt"
	"github.com/duro-run/duro/internal/conformance/spec"
)

// Operations of an action.
const (
	OpSuccess   = "success"
	OpFailure   = "failure"
	OpHeartbeat = "heartbeat"
)

// Action is one CallbackActions entry.
type Action struct {
	// CallbackName is the raw CallbackName value (substituted at use).
	CallbackName any
	// Operation is success, failure or heartbeat (lower-cased).
	Operation string
	// Payload is the raw Payload (nil when absent or null).
	Payload any
	// Delay is the inline sleep before the call.
	Delay time.Duration
}

// ParseActions validates a CallbackActions list the way the upstream
// runner does: CallbackName and Operation are required, Operation is one
// of success/failure/heartbeat in any case, Delay is float(Delay) seconds.
func ParseActions(raw []any) ([]Action, error) {
	out := make([]Action, 0, len(raw))
	for i, r := range raw {
		m, ok := r.(*pyfmt.Map)
		if !ok {
			return nil, fmt.Errorf("Invalid CallbackAction: entry %d is a %s, want a mapping", i, pyfmt.TypeName(r))
		}
		name := m.Value("CallbackName")
		if !spec.Truthy(name) {
			return nil, fmt.Errorf("Invalid CallbackAction: CallbackAction requires a 'CallbackName' field")
		}
		opv := m.Value("Operation")
		if !spec.Truthy(opv) {
			return nil, fmt.Errorf("Invalid CallbackAction: CallbackAction requires an 'Operation' field")
		}
		op, ok := opv.(string)
		if !ok {
			return nil, fmt.Errorf("Invalid CallbackAction: Operation %s is not a string", pyfmt.Repr(opv))
		}
		op = strings.ToLower(op)
		if op != OpSuccess && op != OpFailure && op != OpHeartbeat {
			return nil, fmt.Errorf("Invalid CallbackAction: Invalid operation '%s'. Must be one of: failure, heartbeat, success", opv)
		}
		var delay float64
		if d, ok := m.Get("Delay"); ok {
			f, err := spec.Float(d)
			if err != nil {
				return nil, fmt.Errorf("Invalid CallbackAction: Delay: %w", err)
			}
			delay = f
		}
		out = append(out, Action{
			CallbackName: name,
			Operation:    op,
			Payload:      m.Value("Payload"),
			Delay:        time.Duration(delay * float64(time.Second)),
		})
	}
	return out, nil
}

// Select returns the index of the first unused action matching a
// CallbackStarted event, or -1. used may be shorter than actions.
func Select(event *pyfmt.Map, actions []Action, used []bool, ctx *placeholder.Context) int {
	name, _ := event.Value("Name").(string)
	for i, a := range actions {
		if i < len(used) && used[i] {
			continue
		}
		resolved := pyfmt.Str(ctx.Substitute(a.CallbackName))
		if resolved == "*" || resolved == name {
			return i
		}
		if pattern, ok := placeholder.Regex(resolved); ok {
			if re, err := regexp.Compile(pattern); err == nil && re.MatchString(name) {
				return i
			}
		}
	}
	return -1
}

// ErrorObject is the Error of a failure callback; nil fields are omitted.
type ErrorObject struct {
	ErrorType    *string
	ErrorMessage *string
	ErrorData    *string
	StackTrace   []string
}

// Sender makes the callback API calls.
type Sender interface {
	// Success sends SendDurableExecutionCallbackSuccess; result is nil
	// when no Result is to be sent.
	Success(ctx context.Context, callbackID string, result []byte) error
	// Failure sends SendDurableExecutionCallbackFailure; e is nil when
	// no Error is to be sent.
	Failure(ctx context.Context, callbackID string, e *ErrorObject) error
	// Heartbeat sends SendDurableExecutionCallbackHeartbeat.
	Heartbeat(ctx context.Context, callbackID string) error
}

// Dispatcher applies a requirement's actions across polls. It is not safe
// for concurrent use.
type Dispatcher struct {
	actions []Action
	used    []bool
	handled map[string]bool
	pctx    *placeholder.Context
	sender  Sender
	// Sleep waits for an action's Delay; it defaults to a context-aware
	// time.Sleep and is replaced in tests.
	Sleep func(ctx context.Context, d time.Duration) error
	// Logf, when set, receives progress notes.
	Logf func(format string, args ...any)
	// Sent counts successful calls.
	Sent int
}

// NewDispatcher returns a dispatcher for actions.
func NewDispatcher(actions []Action, pctx *placeholder.Context, sender Sender) *Dispatcher {
	return &Dispatcher{
		actions: actions,
		used:    make([]bool, len(actions)),
		handled: map[string]bool{},
		pctx:    pctx,
		sender:  sender,
		Sleep:   sleep,
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (d *Dispatcher) logf(format string, args ...any) {
	if d.Logf != nil {
		d.Logf(format, args...)
	}
}

// Poll handles the new CallbackStarted events of one history fetch and
// returns the errors to record (the flow keeps polling after them). A
// cancelled ctx ends the poll early and is returned as an error.
func (d *Dispatcher) Poll(ctx context.Context, events []any) []string {
	var errs []string
	for _, e := range events {
		ev, ok := e.(*pyfmt.Map)
		if !ok || ev.Value("EventType") != "CallbackStarted" {
			continue
		}
		details, _ := ev.Value("CallbackStartedDetails").(*pyfmt.Map)
		idv := details.Value("CallbackId")
		if !spec.Truthy(idv) {
			continue
		}
		id := pyfmt.Str(idv)
		if d.handled[id] {
			continue
		}
		idx := Select(ev, d.actions, d.used, d.pctx)
		if idx < 0 {
			name := "<anonymous>"
			if n, ok := ev.Get("Name"); ok {
				name = pyfmt.Str(n)
			}
			if len(d.actions) == 0 {
				d.logf("no CallbackAction configured for '%s'; leaving callback open", name)
			} else {
				errs = append(errs, fmt.Sprintf("No matching CallbackAction for callback '%s' (id=%s)", name, id))
			}
			d.handled[id] = true
			continue
		}
		a := d.actions[idx]
		d.used[idx] = true
		if a.Operation != OpHeartbeat {
			d.handled[id] = true
		}
		if err := d.Sleep(ctx, a.Delay); err != nil {
			return append(errs, fmt.Sprintf("callback %s for callback_id=%s interrupted: %v", a.Operation, id, err))
		}
		if err := d.send(ctx, id, a); err != nil {
			errs = append(errs, fmt.Sprintf("Callback %s failed for callback_id=%s: %v", a.Operation, id, err))
			continue
		}
		d.Sent++
		d.logf("sent %s callback for '%s' (id=%s)", a.Operation, pyfmt.Str(d.pctx.Substitute(a.CallbackName)), id)
	}
	return errs
}

func (d *Dispatcher) send(ctx context.Context, id string, a Action) error {
	payload := d.pctx.Substitute(a.Payload)
	switch a.Operation {
	case OpSuccess:
		if payload == nil {
			return d.sender.Success(ctx, id, nil)
		}
		s, err := pyfmt.JSONDumps(payload)
		if err != nil {
			return err
		}
		return d.sender.Success(ctx, id, []byte(s))
	case OpFailure:
		e, err := FailureError(payload)
		if err != nil {
			return err
		}
		return d.sender.Failure(ctx, id, e)
	default:
		return d.sender.Heartbeat(ctx, id)
	}
}

// FailureError builds a failure callback's Error from its Payload, copying
// only the keys present among ErrorType, ErrorMessage, ErrorData and
// StackTrace. A nil payload, or one with none of the keys, sends no Error.
// The payload must be a mapping; the string members must be strings and
// StackTrace a list of strings (the API's types).
func FailureError(payload any) (*ErrorObject, error) {
	if payload == nil {
		return nil, nil
	}
	m, ok := payload.(*pyfmt.Map)
	if !ok {
		return nil, fmt.Errorf("Failure callback payload must be a dict containing ErrorType/ErrorMessage/ErrorData/StackTrace fields, got %s: %s",
			pyfmt.TypeName(payload), pyfmt.Repr(payload))
	}
	var e ErrorObject
	present := false
	str := func(key string) (*string, error) {
		v, ok := m.Get(key)
		if !ok {
			return nil, nil
		}
		present = true
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("failure payload %s must be a string, got %s", key, pyfmt.Repr(v))
		}
		return &s, nil
	}
	var err error
	if e.ErrorType, err = str("ErrorType"); err != nil {
		return nil, err
	}
	if e.ErrorMessage, err = str("ErrorMessage"); err != nil {
		return nil, err
	}
	if e.ErrorData, err = str("ErrorData"); err != nil {
		return nil, err
	}
	if v, ok := m.Get("StackTrace"); ok {
		present = true
		l, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("failure payload StackTrace must be a list of strings, got %s", pyfmt.Repr(v))
		}
		e.StackTrace = make([]string, 0, len(l))
		for _, x := range l {
			s, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("failure payload StackTrace must be a list of strings, got %s", pyfmt.Repr(v))
			}
			e.StackTrace = append(e.StackTrace, s)
		}
	}
	if !present {
		return nil, nil
	}
	return &e, nil
}
