package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"github.com/duro-run/duro/internal/store"
	"github.com/duro-run/duro/internal/uuid"
)

// ErrNotDurable is returned by StartExecution for a function without
// DurableConfig; such functions are invoked directly with InvokePlain.
var ErrNotDurable = errors.New("function is not durable")

// StartExecution starts a durable execution of a qualified function, or
// returns the existing one of the same name and payload.
func (e *Engine) StartExecution(ctx context.Context, in StartInput) (StartOutput, error) {
	ref, err := e.parseFunctionName(in.FunctionName)
	if err != nil {
		return StartOutput{}, err
	}
	q, err := mergeQualifier(ref, in.Qualifier)
	if err != nil {
		return StartOutput{}, err
	}
	if q == "" {
		if _, err := e.lookupVersion(ctx, ref.Name, latest); err != nil {
			return StartOutput{}, err
		}
		cfg, _ := e.resolveFunction(ctx, ref.Name, latest)
		if cfg.DurableConfig == nil {
			return StartOutput{}, ErrNotDurable
		}
		return StartOutput{}, Errorf(KindInvalidParameter, "You cannot invoke a durable function using an unqualified ARN.")
	}
	fn, err := e.resolveFunction(ctx, ref.Name, q)
	if err != nil {
		return StartOutput{}, err
	}
	if fn.DurableConfig == nil {
		return StartOutput{}, ErrNotDurable
	}
	return e.startExecution(ctx, fn, q, in, nil, "")
}

// startExecution creates the execution row, its EXECUTION operation, the
// ExecutionStarted event and the timers (execution timeout, first
// invocation), all in one commit. A non-empty id makes the start idempotent
// on that id (chained invokes pre-allocate it).
func (e *Engine) startExecution(ctx context.Context, fn FunctionConfiguration, version string, in StartInput, parent *parentRef, id string) (StartOutput, error) {
	sum := sha256.Sum256(in.Payload)
	hash := hex.EncodeToString(sum[:])
	if id == "" {
		id = newExecutionID(e.now())
	}
	name := in.Name
	if name == "" {
		name = id
	}
	arn := e.executionArn(fn.FunctionName, version, name, id)
	qualifiedFn := e.functionArn(fn.FunctionName) + ":" + version
	out := StartOutput{DurableExecutionArn: arn, ExecutedVersion: version, FunctionArn: qualifiedFn}

	if in.Name != "" {
		if existing, err := e.findByName(ctx, fn.FunctionName, in.Name, hash); err != nil || existing != nil {
			if existing != nil {
				return *existing, nil
			}
			return StartOutput{}, err
		}
	}

	now := e.now()
	timeout := int32(e.cfg.DefaultExecutionTimeout / time.Second)
	retention := int32(e.cfg.DefaultRetentionDays)
	if dc := fn.DurableConfig; dc != nil {
		if dc.ExecutionTimeout != nil {
			timeout = *dc.ExecutionTimeout
		}
		if dc.RetentionPeriodInDays != nil {
			retention = *dc.RetentionPeriodInDays
		}
	}
	input := string(in.Payload)
	s := &execState{
		row: store.ExecutionRow{
			ID: id, ARN: arn, FunctionName: fn.FunctionName, FunctionVersion: version, Name: name,
			Status: StatusRunning, StartTime: now,
		},
		data: execData{
			FunctionArn: qualifiedFn, InputHash: hash, TenantID: in.TenantID, TraceID: in.TraceID, InvokeEndpoint: in.InvokeEndpoint,
			DurableConfig: fn.DurableConfig, ExecutionTimeout: timeout, RetentionDays: retention, Parent: parent,
		},
		ops: map[string]*opRecord{},
	}
	s.reset()
	s.addOp(&opRecord{Operation: Operation{
		Id: id, Type: OpExecution, Status: OpStarted, StartTimestamp: Timestamp(now),
		ExecutionDetails: &ExecutionDetails{InputPayload: &input},
	}})
	s.emit(now, nil, Event{EventType: "ExecutionStarted", ExecutionStartedDetails: &ExecutionStartedDetails{
		Input: EventInput{Payload: &input}, ExecutionTimeout: timeout,
	}})
	s.setTimer(timerExecutionTimeout, now.Add(time.Duration(timeout)*time.Second))
	if err := e.beginInvocation(ctx, s, now); err != nil {
		return StartOutput{}, err
	}
	m, err := s.mutation(true)
	if err != nil {
		return StartOutput{}, internalError("start execution", err)
	}
	err = e.store.Commit(ctx, m)
	if errors.Is(err, store.ErrExists) {
		if parent != nil {
			// A chained start retried after a crash: the child is there.
			row, gerr := e.store.GetExecution(ctx, id)
			if gerr == nil {
				return StartOutput{DurableExecutionArn: row.ARN, ExecutedVersion: row.FunctionVersion, FunctionArn: qualifiedFn, Existing: true}, nil
			}
		}
		if existing, ferr := e.findByName(ctx, fn.FunctionName, name, hash); existing != nil || ferr != nil {
			if existing != nil {
				return *existing, nil
			}
			return StartOutput{}, ferr
		}
		return StartOutput{}, internalError("start execution", err)
	}
	if err != nil {
		return StartOutput{}, internalError("start execution", err)
	}
	e.observeStarted(s)
	e.committed(s)
	e.log.Debug("execution started", "arn", arn)
	return out, nil
}

// findByName implements name idempotency: same name and payload returns the
// existing execution; a different payload is a conflict.
func (e *Engine) findByName(ctx context.Context, function, name, hash string) (*StartOutput, error) {
	row, err := e.store.FindExecutionByName(ctx, function, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, internalError("find execution", err)
	}
	s, err := e.load(ctx, row.ID)
	if err != nil {
		return nil, internalError("find execution", err)
	}
	if s.data.InputHash != hash {
		return nil, Errorf(KindAlreadyStarted, "Durable execution with name %s already exists with a different input.", name)
	}
	return &StartOutput{DurableExecutionArn: row.ARN, ExecutedVersion: row.FunctionVersion, FunctionArn: s.data.FunctionArn, Existing: true}, nil
}

// InvokePlain invokes a function that is not durable, once, and returns
// what it returned.
func (e *Engine) InvokePlain(ctx context.Context, in StartInput) (InvocationResponse, FunctionConfiguration, error) {
	fn, err := e.resolveFunction(ctx, in.FunctionName, in.Qualifier)
	if err != nil {
		return InvocationResponse{}, fn, err
	}
	resp, err := e.callFunction(ctx, fn, uuid.New(), in.Payload, in.TenantID, in.TraceID, "", in.InvokeEndpoint)
	return resp, fn, err
}

func (e *Engine) callFunction(ctx context.Context, fn FunctionConfiguration, requestID string, payload []byte, tenant, trace, arn, endpoint string) (InvocationResponse, error) {
	timeout := time.Duration(fn.Timeout) * time.Second
	if timeout <= 0 {
		timeout = 3 * time.Second
	}
	deadline := e.now().Add(timeout)
	ictx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	resp, err := e.invoker.Invoke(ictx, Invocation{
		Function: fn, RequestID: requestID, Payload: payload, Deadline: deadline,
		TenantID: tenant, TraceID: trace, DurableExecutionArn: arn, Endpoint: endpoint,
	})
	if err != nil && ictx.Err() == context.DeadlineExceeded && ctx.Err() == nil {
		var ie *InvocationError
		if !errors.As(err, &ie) {
			err = &InvocationError{Type: "Sandbox.Timedout", Message: "Task timed out after " + timeout.String()}
		}
	}
	return resp, err
}

// cachedDescription describes an execution from the cache of executions
// with an invocation in flight, which holds committed state only: it spares
// a synchronous Invoke a store read right after the start. ok is false when
// the execution is not cached.
func (e *Engine) cachedDescription(execID, arn string) (ExecutionDescription, bool) {
	mu := e.stripe(execID)
	mu.Lock()
	defer mu.Unlock()
	e.cacheMu.Lock()
	s := e.cache[execID]
	e.cacheMu.Unlock()
	if s == nil || s.terminal() || s.row.ARN != arn {
		return ExecutionDescription{}, false
	}
	return describe(&s.row, &s.data, s.input(), true), true
}

// AwaitExecution blocks until the execution is terminal or ctx ends.
func (e *Engine) AwaitExecution(ctx context.Context, arn string) (ExecutionDescription, error) {
	ref, err := parseExecutionArn(arn)
	if err != nil {
		return ExecutionDescription{}, err
	}
	ch, cancel := e.subscribe(ref.ID)
	defer cancel()
	for first := true; ; first = false {
		d, ok := e.cachedDescription(ref.ID, arn)
		if !ok || !first {
			var err error
			if d, err = e.GetExecution(ctx, arn, true); err != nil || d.Status != StatusRunning {
				return d, err
			}
		}
		// The local signal is the fast path, and carries the description;
		// the periodic re-read covers executions completed by another node.
		t := time.NewTimer(time.Second)
		select {
		case d := <-ch:
			t.Stop()
			if d.DurableExecutionArn == arn {
				return d, nil
			}
			ch, cancel = e.subscribe(ref.ID)
			defer cancel()
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return d, ctx.Err()
		}
	}
}
