package durable

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// SubType values the official SDKs write, which this package writes too.
const (
	SubTypeStep          = "Step"
	SubTypeWait          = "Wait"
	SubTypeCallback      = "Callback"
	SubTypeChildContext  = "RunInChildContext"
	SubTypeChainedInvoke = "ChainedInvoke"
)

// maxChildResult is the largest child-context result stored inline; larger
// results are recomputed on replay with ReplayChildren (protocol.md §5.7).
const maxChildResult = 256 << 10

// Context is the durable context of a handler or of a child context. Its
// methods issue durable operations; each call takes the next operation id
// of this context, so calls must happen in a deterministic order.
type Context struct {
	x        *execution
	parentID string // the enclosing CONTEXT operation's id; "" at the top
	next     int
}

// Context returns the invocation's Go context (it carries the function's
// deadline).
func (c *Context) Context() context.Context { return c.x.ctx }

// ExecutionArn returns the durable execution's ARN.
func (c *Context) ExecutionArn() string { return c.x.arn }

// Checkpoints returns how many CheckpointDurableExecution calls this
// invocation has made so far.
func (c *Context) Checkpoints() int { return c.x.checkpoints }

// nextID returns the next deterministic operation id of this context:
// "1", "2"... at the top level, "<parent>-1"... in a child context. Ids that
// would exceed the model's 64 characters are hashed.
func (c *Context) nextID() string {
	c.next++
	id := strconv.Itoa(c.next)
	if c.parentID != "" {
		id = c.parentID + "-" + id
	}
	if len(id) > 64 {
		sum := sha256.Sum256([]byte(id))
		id = hex.EncodeToString(sum[:16])
	}
	return id
}

// lookup returns the stored operation of id, if any, after checking that the
// code still asks for the same kind of operation (the SDKs' determinism
// check): a mismatch fails the execution.
func (c *Context) lookup(id string, typ types.OperationType, subType, name string) (types.Operation, bool) {
	op, ok := c.x.ops[id]
	if !ok {
		return op, false
	}
	if op.Type != typ || aws.ToString(op.SubType) != subType || aws.ToString(op.Name) != name {
		panic(fatalSignal{&Error{Type: "NonDeterministicExecutionError", Message: fmt.Sprintf(
			"operation %s: stored %s/%s %q, code asks for %s/%s %q", id,
			op.Type, aws.ToString(op.SubType), aws.ToString(op.Name), typ, subType, name)}})
	}
	return op, true
}

// update builds an OperationUpdate of this context: Name is omitted when
// empty and ParentId when at the top level (absent, never "").
func (c *Context) update(id string, typ types.OperationType, subType, name string, action types.OperationAction) types.OperationUpdate {
	u := types.OperationUpdate{Id: aws.String(id), Type: typ, SubType: aws.String(subType), Action: action}
	if name != "" {
		u.Name = aws.String(name)
	}
	if c.parentID != "" {
		u.ParentId = aws.String(c.parentID)
	}
	return u
}

// raw returns a stored payload as JSON bytes.
func raw(s *string) json.RawMessage {
	if s == nil {
		return nil
	}
	return json.RawMessage(*s)
}

// Step defaults.
const (
	// DefaultMaxAttempts is a step's attempt budget when no option sets one.
	DefaultMaxAttempts = 3
	// DefaultRetryDelaySeconds is the delay before a retry (the SDKs use 1
	// when their strategy gives none).
	DefaultRetryDelaySeconds = 1
)

type stepConfig struct {
	maxAttempts int
	delay       int32
	atMostOnce  bool
}

// StepOption configures a Step.
type StepOption func(*stepConfig)

// WithRetries sets the step's attempt budget (1 = no retries) and the delay
// before each retry, in seconds (1..31,622,400 on the wire).
func WithRetries(maxAttempts int, delaySeconds int32) StepOption {
	return func(c *stepConfig) { c.maxAttempts, c.delay = maxAttempts, delaySeconds }
}

// AtMostOnce makes the step at-most-once per attempt: START is checkpointed
// alone before the body runs, and a step found STARTED on replay (its
// invocation died mid-body) is treated as interrupted — retried or failed
// with StepInterruptedError, without running the body.
func AtMostOnce() StepOption {
	return func(c *stepConfig) { c.atMostOnce = true }
}

// Step runs fn once and checkpoints its JSON-encoded result; on replay it
// returns the stored result without running fn. By default START and
// SUCCEED travel in one checkpoint. When fn fails and attempts remain, the
// step checkpoints RETRY with NextAttemptDelaySeconds and the handler
// suspends until the server makes the step READY; when attempts are
// exhausted it checkpoints FAIL and returns the error (an *Error) — the same
// error a replay returns.
func (c *Context) Step(name string, fn func() (any, error), opts ...StepOption) (json.RawMessage, error) {
	cfg := stepConfig{maxAttempts: DefaultMaxAttempts, delay: DefaultRetryDelaySeconds}
	for _, o := range opts {
		o(&cfg)
	}
	id := c.nextID()
	upd := func(a types.OperationAction) types.OperationUpdate {
		return c.update(id, types.OperationTypeStep, SubTypeStep, name, a)
	}
	for {
		op, exists := c.lookup(id, types.OperationTypeStep, SubTypeStep, name)
		d := op.StepDetails
		if d == nil {
			d = &types.StepDetails{}
		}
		attempt := int(d.Attempt) + 1
		needStart := !exists
		if exists {
			switch op.Status {
			case types.OperationStatusSucceeded:
				return raw(d.Result), nil
			case types.OperationStatusFailed:
				return nil, fromSDK(d.Error, op.Status)
			case types.OperationStatusPending:
				c.x.suspend()
			case types.OperationStatusReady:
				needStart = true
			case types.OperationStatusStarted:
				if cfg.atMostOnce {
					// The invocation that started this attempt died.
					err := &Error{Type: "StepInterruptedError", Message: fmt.Sprintf("step %s was interrupted during attempt %d", id, attempt)}
					if out, done, ferr := c.stepFailed(id, upd, nil, attempt, cfg, err); done {
						return out, ferr
					}
					continue
				}
			default:
				return nil, fromSDK(nil, op.Status)
			}
		}
		var updates []types.OperationUpdate
		if needStart {
			if cfg.atMostOnce {
				c.x.checkpoint(upd(types.OperationActionStart))
			} else {
				updates = append(updates, upd(types.OperationActionStart))
			}
		}
		result, err := runStepBody(fn)
		var payload []byte
		if err == nil {
			if payload, err = json.Marshal(result); err != nil {
				err = &Error{Type: "SerdesError", Message: err.Error()}
			}
		}
		if err == nil {
			u := upd(types.OperationActionSucceed)
			u.Payload = aws.String(string(payload))
			c.x.checkpoint(append(updates, u)...)
			return payload, nil
		}
		if out, done, ferr := c.stepFailed(id, upd, updates, attempt, cfg, err); done {
			return out, ferr
		}
	}
}

// stepFailed checkpoints a failed attempt: RETRY when attempts remain (then
// suspends, unless the retry is already READY), FAIL otherwise. done is false
// when the step should run again in this invocation.
func (c *Context) stepFailed(id string, upd func(types.OperationAction) types.OperationUpdate, updates []types.OperationUpdate,
	attempt int, cfg stepConfig, err error) (json.RawMessage, bool, error) {
	eo := sdkError(err)
	if attempt < cfg.maxAttempts {
		u := upd(types.OperationActionRetry)
		u.Error = eo
		u.StepOptions = &types.StepOptions{NextAttemptDelaySeconds: aws.Int32(cfg.delay)}
		c.x.checkpoint(append(updates, u)...)
		if op, ok := c.x.ops[id]; ok && op.Status == types.OperationStatusReady {
			return nil, false, nil
		}
		c.x.suspend()
	}
	u := upd(types.OperationActionFail)
	u.Error = eo
	c.x.checkpoint(append(updates, u)...)
	return nil, true, fromSDK(eo, types.OperationStatusFailed)
}

// runStepBody runs a step body, turning a panic into a step error. The
// package's own unwinding signals pass through.
func runStepBody(fn func() (any, error)) (res any, err error) {
	defer func() {
		if v := recover(); v != nil {
			switch v.(type) {
			case suspendSignal, fatalSignal, invocationSignal:
				panic(v)
			}
			res, err = nil, &Error{Type: "Panic", Message: fmt.Sprint(v)}
		}
	}()
	return fn()
}

// Wait pauses the execution for seconds (1..31,622,400): it checkpoints WAIT
// START and suspends; the server re-invokes once the wait has elapsed, and
// the replayed Wait returns nil.
func (c *Context) Wait(name string, seconds int32) error {
	id := c.nextID()
	op, ok := c.lookup(id, types.OperationTypeWait, SubTypeWait, name)
	if !ok {
		u := c.update(id, types.OperationTypeWait, SubTypeWait, name, types.OperationActionStart)
		u.WaitOptions = &types.WaitOptions{WaitSeconds: aws.Int32(seconds)}
		c.x.checkpoint(u)
		op = c.x.ops[id]
	}
	switch op.Status {
	case types.OperationStatusSucceeded:
		return nil
	case types.OperationStatusStarted, "":
		c.x.suspend()
	}
	return fromSDK(nil, op.Status)
}

// Callback starts a callback (CALLBACK START with the given timeouts in
// seconds; 0 disables a timer) and returns its id, read from the checkpoint
// response, and a wait function. Hand the id to whoever completes the
// callback (SendDurableExecutionCallbackSuccess/Failure/Heartbeat), then
// call wait: it returns the raw result bytes once the callback succeeded,
// an *Error when it failed or timed out, and suspends while it is open.
func (c *Context) Callback(name string, timeoutSeconds, heartbeatSeconds int32) (callbackID string, wait func() (json.RawMessage, error)) {
	id := c.nextID()
	op, ok := c.lookup(id, types.OperationTypeCallback, SubTypeCallback, name)
	if !ok {
		u := c.update(id, types.OperationTypeCallback, SubTypeCallback, name, types.OperationActionStart)
		u.CallbackOptions = &types.CallbackOptions{TimeoutSeconds: timeoutSeconds, HeartbeatTimeoutSeconds: heartbeatSeconds}
		c.x.checkpoint(u)
		op = c.x.ops[id]
	}
	if op.CallbackDetails == nil || aws.ToString(op.CallbackDetails.CallbackId) == "" {
		panic(fatalSignal{&Error{Type: "CallbackError", Message: "No callback ID found for started callback: " + id}})
	}
	return *op.CallbackDetails.CallbackId, func() (json.RawMessage, error) {
		op := c.x.ops[id]
		d := op.CallbackDetails
		if d == nil {
			d = &types.CallbackDetails{}
		}
		switch op.Status {
		case types.OperationStatusSucceeded:
			return raw(d.Result), nil
		case types.OperationStatusStarted:
			c.x.suspend()
		}
		return nil, fromSDK(d.Error, op.Status)
	}
}

// RunInChildContext runs fn in a child context: its operations carry this
// CONTEXT operation's id as ParentId. START travels with the child's first
// checkpoint; SUCCEED (with the JSON result) or FAIL closes it. On replay a
// closed context returns its stored outcome without running fn, except when
// the result was too large to store (ReplayChildren), in which case fn is
// re-run against its replayed children.
func (c *Context) RunInChildContext(name string, fn func(*Context) (any, error)) (json.RawMessage, error) {
	id := c.nextID()
	op, ok := c.lookup(id, types.OperationTypeContext, SubTypeChildContext, name)
	child := &Context{x: c.x, parentID: id}
	upd := func(a types.OperationAction) types.OperationUpdate {
		return c.update(id, types.OperationTypeContext, SubTypeChildContext, name, a)
	}
	if ok {
		switch op.Status {
		case types.OperationStatusSucceeded:
			if d := op.ContextDetails; d != nil && aws.ToBool(d.ReplayChildren) {
				res, err := fn(child)
				if err != nil {
					return nil, err
				}
				return json.Marshal(res)
			}
			var r *string
			if op.ContextDetails != nil {
				r = op.ContextDetails.Result
			}
			return raw(r), nil
		case types.OperationStatusFailed:
			var eo *types.ErrorObject
			if op.ContextDetails != nil {
				eo = op.ContextDetails.Error
			}
			return nil, fromSDK(eo, op.Status)
		}
	} else {
		c.x.pending = append(c.x.pending, upd(types.OperationActionStart))
	}
	res, err := fn(child)
	if err != nil {
		u := upd(types.OperationActionFail)
		u.Error = sdkError(err)
		c.x.checkpoint(u)
		return nil, fromSDK(u.Error, types.OperationStatusFailed)
	}
	payload, err := json.Marshal(res)
	if err != nil {
		u := upd(types.OperationActionFail)
		u.Error = sdkError(&Error{Type: "SerdesError", Message: err.Error()})
		c.x.checkpoint(u)
		return nil, fromSDK(u.Error, types.OperationStatusFailed)
	}
	u := upd(types.OperationActionSucceed)
	if len(payload) > maxChildResult {
		u.Payload = aws.String("")
		u.ContextOptions = &types.ContextOptions{ReplayChildren: aws.Bool(true)}
	} else {
		u.Payload = aws.String(string(payload))
	}
	c.x.checkpoint(u)
	return payload, nil
}

// Invoke calls another function (CHAINED_INVOKE START with the JSON payload)
// and suspends until it finishes; it returns the target's result, or an
// *Error when the target failed, timed out or was stopped. functionName may
// be a name, a qualified name ("fn:1", "fn:$LATEST") or an ARN.
func (c *Context) Invoke(name, functionName string, payload any) (json.RawMessage, error) {
	id := c.nextID()
	op, ok := c.lookup(id, types.OperationTypeChainedInvoke, SubTypeChainedInvoke, name)
	if !ok {
		b, err := json.Marshal(payload)
		if err != nil {
			return nil, &Error{Type: "SerdesError", Message: err.Error()}
		}
		u := c.update(id, types.OperationTypeChainedInvoke, SubTypeChainedInvoke, name, types.OperationActionStart)
		u.Payload = aws.String(string(b))
		u.ChainedInvokeOptions = &types.ChainedInvokeOptions{FunctionName: aws.String(functionName)}
		c.x.checkpoint(u)
		op = c.x.ops[id]
	}
	switch op.Status {
	case types.OperationStatusSucceeded:
		var r *string
		if op.ChainedInvokeDetails != nil {
			r = op.ChainedInvokeDetails.Result
		}
		return raw(r), nil
	case types.OperationStatusStarted, "":
		c.x.suspend()
	}
	var eo *types.ErrorObject
	if op.ChainedInvokeDetails != nil {
		eo = op.ChainedInvokeDetails.Error
	}
	return nil, fromSDK(eo, op.Status)
}
