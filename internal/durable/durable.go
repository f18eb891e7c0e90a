// Package durable is a small Go SDK for writing durable functions against
// Duro (or any server speaking the Lambda durable execution protocol).
//
// It behaves like the official durable execution SDKs on the wire
// (protocol.md §4, §5): it parses the invocation envelope, pages the rest of
// the initial state with GetDurableExecutionState, replays completed
// operations from their stored results, checkpoints new work with
// CheckpointDurableExecution (following the checkpoint-token chain), and
// answers with the handler output {"Status":"SUCCEEDED"|"FAILED"|"PENDING"}.
//
// It talks to the server only through the AWS SDK's Lambda client, so it
// exercises the same wire paths the official SDKs use. Duro's tests use it
// to write in-process durable functions:
//
//	srv.Runtime.Handle("orders", durable.Handler(client, func(c *durable.Context, in json.RawMessage) (any, error) {
//		r, err := c.Step("charge", func() (any, error) { return charge(in) })
//		if err != nil {
//			return nil, err
//		}
//		if err := c.Wait("cool-down", 5); err != nil {
//			return nil, err
//		}
//		return r, nil
//	}))
//
// Operation ids are deterministic in call order: "1", "2", ... at the top
// level and "<parent>-1", "<parent>-2", ... inside a child context, so a
// handler must issue its durable operations in the same order on every
// invocation (the usual durable-function rule). Durable operations must be
// called from the handler's goroutine (or, inside RunInChildContext, from
// the child function's goroutine); a Context is not safe for concurrent use.
//
// Suspension (a wait, a pending retry, an open callback or chained invoke)
// unwinds the handler with an internal panic that Handler and Run recover;
// user code must not recover it (a deferred recover() that swallows every
// panic would break suspension).
package durable

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"

	"github.com/duro-run/duro/internal/engine"
	"github.com/duro-run/duro/internal/runtime"
)

// Func is a durable handler: it receives the durable context and the
// execution's input (the Invoke payload, verbatim) and returns a result to be
// JSON-encoded, or an error that fails the execution.
type Func func(c *Context, input json.RawMessage) (any, error)

// NewClient returns a Lambda client for a Duro endpoint such as
// "http://127.0.0.1:9014": region us-east-1 and static dummy credentials
// (Duro ignores signatures, but the SDK needs some). The HTTP client has no
// overall timeout, because a synchronous Invoke blocks until the whole
// durable execution ends, and a connection pool of its own (see
// CloseIdleConnections).
func NewClient(endpoint string) *lambda.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	return lambda.New(lambda.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDDURO", "duro-secret", ""),
		HTTPClient:   &http.Client{Transport: tr},
	})
}

// CloseIdleConnections closes the idle keep-alive connections of a client
// made by NewClient. Call it before shutting a server down: Go's
// http.Server.Shutdown waits up to 5 s for a connection that was opened but
// has not carried a request yet, which the transport's dialing leaves
// behind now and then.
func CloseIdleConnections(client *lambda.Client) {
	if hc, ok := client.Options().HTTPClient.(interface{ CloseIdleConnections() }); ok {
		hc.CloseIdleConnections()
	}
}

// Status values of a handler output (protocol.md §4.5).
const (
	StatusSucceeded = "SUCCEEDED"
	StatusFailed    = "FAILED"
	StatusPending   = "PENDING"
)

// maxInlineResult is the largest result the SDKs return inline; above it the
// result travels in an EXECUTION SUCCEED checkpoint (protocol.md §4.5).
const maxInlineResult = 6<<20 - 50

// Output is a durable handler's response (protocol.md §4.5).
type Output struct {
	Status string       `json:"Status"`
	Result *string      `json:"Result,omitempty"`
	Error  *ErrorObject `json:"Error,omitempty"`
}

// ErrorObject is the wire ErrorObject of a FAILED handler output.
type ErrorObject struct {
	ErrorType    string   `json:"ErrorType,omitempty"`
	ErrorMessage string   `json:"ErrorMessage,omitempty"`
	ErrorData    string   `json:"ErrorData,omitempty"`
	StackTrace   []string `json:"StackTrace,omitempty"`
}

// InvocationError is returned by Run when the invocation itself failed (a bad
// envelope, a fenced or stale checkpoint token, a transient checkpoint
// failure after the client's retries). The server records it as a failed
// invocation and re-invokes; the execution is not failed.
type InvocationError struct {
	Type string
	Err  error
}

func (e *InvocationError) Error() string { return e.Type + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *InvocationError) Unwrap() error { return e.Err }

// Handler adapts fn to an in-process runtime handler for Runtime.Handle. An
// InvocationError (and a panic in user code) is reported the way Lambda
// reports an unhandled function error: X-Amz-Function-Error "Unhandled" and
// an {"errorType","errorMessage"} payload.
func Handler(client *lambda.Client, fn Func) runtime.HandlerFunc {
	return func(ctx context.Context, inv engine.Invocation) (engine.InvocationResponse, error) {
		out, err := Run(ctx, client, inv.Payload, fn)
		if err != nil {
			typ := "Runtime.Error"
			var ie *InvocationError
			if errors.As(err, &ie) {
				typ = ie.Type
			}
			b, _ := json.Marshal(map[string]string{"errorType": typ, "errorMessage": err.Error()})
			return engine.InvocationResponse{Payload: b, FunctionError: "Unhandled"}, nil
		}
		b, err := json.Marshal(out)
		if err != nil {
			return engine.InvocationResponse{}, err
		}
		return engine.InvocationResponse{Payload: b}, nil
	}
}

// envelope is the invocation payload of a durable function (protocol.md §4.1).
type envelope struct {
	DurableExecutionArn   string `json:"DurableExecutionArn"`
	CheckpointToken       string `json:"CheckpointToken"`
	InitialExecutionState struct {
		Operations []envelopeOp `json:"Operations"`
		NextMarker string       `json:"NextMarker"`
	} `json:"InitialExecutionState"`
}

// millis is an envelope timestamp: integer epoch milliseconds (§4.3).
type millis int64

func (m *millis) time() *time.Time {
	if m == nil {
		return nil
	}
	t := time.UnixMilli(int64(*m))
	return &t
}

// envelopeOp is an Operation as the envelope carries it.
type envelopeOp struct {
	Id               string  `json:"Id"`
	ParentId         *string `json:"ParentId"`
	Name             *string `json:"Name"`
	Type             string  `json:"Type"`
	SubType          *string `json:"SubType"`
	Status           string  `json:"Status"`
	StartTimestamp   *millis `json:"StartTimestamp"`
	EndTimestamp     *millis `json:"EndTimestamp"`
	ExecutionDetails *struct {
		InputPayload *string `json:"InputPayload"`
	} `json:"ExecutionDetails"`
	ContextDetails *struct {
		ReplayChildren *bool            `json:"ReplayChildren"`
		Result         *string          `json:"Result"`
		Error          *wireErrorObject `json:"Error"`
	} `json:"ContextDetails"`
	StepDetails *struct {
		Attempt              int32            `json:"Attempt"`
		NextAttemptTimestamp *millis          `json:"NextAttemptTimestamp"`
		Result               *string          `json:"Result"`
		Error                *wireErrorObject `json:"Error"`
	} `json:"StepDetails"`
	WaitDetails *struct {
		ScheduledEndTimestamp *millis `json:"ScheduledEndTimestamp"`
	} `json:"WaitDetails"`
	CallbackDetails *struct {
		CallbackId *string          `json:"CallbackId"`
		Result     *string          `json:"Result"`
		Error      *wireErrorObject `json:"Error"`
	} `json:"CallbackDetails"`
	ChainedInvokeDetails *struct {
		Result *string          `json:"Result"`
		Error  *wireErrorObject `json:"Error"`
	} `json:"ChainedInvokeDetails"`
}

// wireErrorObject is an ErrorObject inside the envelope.
type wireErrorObject struct {
	ErrorType    *string  `json:"ErrorType"`
	ErrorMessage *string  `json:"ErrorMessage"`
	ErrorData    *string  `json:"ErrorData"`
	StackTrace   []string `json:"StackTrace"`
}

func (w *wireErrorObject) sdk() *types.ErrorObject {
	if w == nil {
		return nil
	}
	return &types.ErrorObject{ErrorType: w.ErrorType, ErrorMessage: w.ErrorMessage, ErrorData: w.ErrorData, StackTrace: w.StackTrace}
}

// sdk converts an envelope operation to the SDK's Operation, the one
// representation the rest of the package uses.
func (o *envelopeOp) sdk() types.Operation {
	op := types.Operation{
		Id: aws.String(o.Id), ParentId: o.ParentId, Name: o.Name, SubType: o.SubType,
		Type: types.OperationType(o.Type), Status: types.OperationStatus(o.Status),
		StartTimestamp: o.StartTimestamp.time(), EndTimestamp: o.EndTimestamp.time(),
	}
	if d := o.ExecutionDetails; d != nil {
		op.ExecutionDetails = &types.ExecutionDetails{InputPayload: d.InputPayload}
	}
	if d := o.ContextDetails; d != nil {
		op.ContextDetails = &types.ContextDetails{ReplayChildren: d.ReplayChildren, Result: d.Result, Error: d.Error.sdk()}
	}
	if d := o.StepDetails; d != nil {
		op.StepDetails = &types.StepDetails{Attempt: d.Attempt, NextAttemptTimestamp: d.NextAttemptTimestamp.time(), Result: d.Result, Error: d.Error.sdk()}
	}
	if d := o.WaitDetails; d != nil {
		op.WaitDetails = &types.WaitDetails{ScheduledEndTimestamp: d.ScheduledEndTimestamp.time()}
	}
	if d := o.CallbackDetails; d != nil {
		op.CallbackDetails = &types.CallbackDetails{CallbackId: d.CallbackId, Result: d.Result, Error: d.Error.sdk()}
	}
	if d := o.ChainedInvokeDetails; d != nil {
		op.ChainedInvokeDetails = &types.ChainedInvokeDetails{Result: d.Result, Error: d.Error.sdk()}
	}
	return op
}

// execution is the state one invocation shares between its contexts.
type execution struct {
	ctx    context.Context
	client *lambda.Client
	arn    string
	token  string
	ops    map[string]types.Operation
	// pending holds fire-and-forget updates (CONTEXT START) that travel
	// with the next checkpoint, as the official SDKs batch them.
	pending []types.OperationUpdate
	// checkpoints counts CheckpointDurableExecution calls (for tests).
	checkpoints int
}

// Run executes one invocation of a durable function: envelope in, handler
// output out. A non-nil error is an invocation-level failure (see
// InvocationError); everything else, including a failed execution, is an
// Output.
func Run(ctx context.Context, client *lambda.Client, payload []byte, fn Func) (out Output, err error) {
	var env envelope
	if jerr := json.Unmarshal(payload, &env); jerr != nil || env.DurableExecutionArn == "" || env.CheckpointToken == "" {
		return Output{}, &InvocationError{Type: "InvalidEnvelope", Err: fmt.Errorf("unexpected payload provided to start the durable execution: %.200s", payload)}
	}
	x := &execution{ctx: ctx, client: client, arn: env.DurableExecutionArn, token: env.CheckpointToken, ops: map[string]types.Operation{}}
	var execOp *types.Operation
	execID := env.DurableExecutionArn[strings.LastIndex(env.DurableExecutionArn, "/")+1:]
	for i := range env.InitialExecutionState.Operations {
		op := env.InitialExecutionState.Operations[i].sdk()
		x.ops[*op.Id] = op
	}
	// Page the rest of the initial state before doing anything else (§4.1).
	for marker := env.InitialExecutionState.NextMarker; marker != ""; {
		page, gerr := client.GetDurableExecutionState(ctx, &lambda.GetDurableExecutionStateInput{
			DurableExecutionArn: aws.String(x.arn), CheckpointToken: aws.String(x.token), Marker: aws.String(marker), MaxItems: 1000,
		})
		if gerr != nil {
			return Output{}, &InvocationError{Type: "GetDurableExecutionStateError", Err: gerr}
		}
		x.merge(page.Operations)
		marker = aws.ToString(page.NextMarker)
	}
	if op, ok := x.ops[execID]; ok && op.Type == types.OperationTypeExecution {
		execOp = &op
	} else {
		for _, op := range x.ops {
			if op.Type == types.OperationTypeExecution {
				execOp = &op
				break
			}
		}
	}
	var input json.RawMessage
	if execOp != nil && execOp.ExecutionDetails != nil && aws.ToString(execOp.ExecutionDetails.InputPayload) != "" {
		input = json.RawMessage(*execOp.ExecutionDetails.InputPayload)
	}

	defer func() {
		v := recover()
		if v == nil {
			return
		}
		switch s := v.(type) {
		case suspendSignal:
			out, err = Output{Status: StatusPending}, nil
		case fatalSignal:
			out, err = Output{Status: StatusFailed, Error: errorObject(s.err)}, nil
		case invocationSignal:
			out, err = Output{}, s.err
		default:
			out, err = Output{}, &InvocationError{Type: "Runtime.Panic", Err: fmt.Errorf("panic in durable handler: %v", v)}
		}
	}()
	root := &Context{x: x}
	result, ferr := fn(root, input)
	x.flush()
	if ferr != nil {
		return Output{Status: StatusFailed, Error: errorObject(ferr)}, nil
	}
	if result == nil {
		return Output{Status: StatusSucceeded}, nil
	}
	b, merr := json.Marshal(result)
	if merr != nil {
		return Output{Status: StatusFailed, Error: &ErrorObject{ErrorType: "SerdesError", ErrorMessage: merr.Error()}}, nil
	}
	s := string(b)
	if len(s) > maxInlineResult {
		// Too large for the response: checkpoint it on the EXECUTION
		// operation and answer with an empty Result (§4.5).
		x.checkpoint(types.OperationUpdate{
			Id: aws.String(fmt.Sprintf("execution-result-%d", time.Now().UnixMilli())), Type: types.OperationTypeExecution,
			Action: types.OperationActionSucceed, Payload: aws.String(s),
		})
		empty := ""
		return Output{Status: StatusSucceeded, Result: &empty}, nil
	}
	return Output{Status: StatusSucceeded, Result: &s}, nil
}

// merge applies operations returned by the server (a checkpoint delta or a
// state page) to the local view.
func (x *execution) merge(ops []types.Operation) {
	for _, op := range ops {
		if op.Id != nil {
			x.ops[*op.Id] = op
		}
	}
}

// flush sends queued fire-and-forget updates, if any.
func (x *execution) flush() {
	if len(x.pending) > 0 {
		x.checkpoint()
	}
}

// checkpoint sends the queued updates plus updates in one
// CheckpointDurableExecution call, adopts the returned token and merges the
// returned delta. Failures unwind the handler (see classifyCheckpointError).
func (x *execution) checkpoint(updates ...types.OperationUpdate) {
	all := append(x.pending, updates...)
	x.pending = nil
	x.checkpoints++
	out, err := x.client.CheckpointDurableExecution(x.ctx, &lambda.CheckpointDurableExecutionInput{
		DurableExecutionArn: aws.String(x.arn), CheckpointToken: aws.String(x.token), Updates: all,
	})
	if err != nil {
		panic(classifyCheckpointError(err))
	}
	if out.CheckpointToken != nil {
		x.token = *out.CheckpointToken
	}
	if st := out.NewExecutionState; st != nil {
		x.merge(st.Operations)
		// The Python SDK pages a large delta with the new token.
		for marker := aws.ToString(st.NextMarker); marker != ""; {
			page, err := x.client.GetDurableExecutionState(x.ctx, &lambda.GetDurableExecutionStateInput{
				DurableExecutionArn: aws.String(x.arn), CheckpointToken: aws.String(x.token), Marker: aws.String(marker), MaxItems: 1000,
			})
			if err != nil {
				panic(classifyCheckpointError(err))
			}
			x.merge(page.Operations)
			marker = aws.ToString(page.NextMarker)
		}
	}
}

// staleTokenPrefix marks the server's "your invocation is fenced" error.
const staleTokenPrefix = "Invalid Checkpoint Token"

// classifyCheckpointError applies the SDKs' rule (protocol.md §5.12): a stale
// token, throttling, a 5xx or a network failure is an invocation error (the
// server re-invokes); any other 4xx fails the execution.
func classifyCheckpointError(err error) any {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		if ae.ErrorCode() == "InvalidParameterValueException" && strings.HasPrefix(ae.ErrorMessage(), staleTokenPrefix) {
			return invocationSignal{&InvocationError{Type: "CheckpointUnrecoverableInvocationError", Err: err}}
		}
		var sc interface{ HTTPStatusCode() int }
		if errors.As(err, &sc) && sc.HTTPStatusCode() >= 400 && sc.HTTPStatusCode() < 500 && sc.HTTPStatusCode() != http.StatusTooManyRequests {
			return fatalSignal{&Error{Type: "CheckpointUnrecoverableExecutionError", Message: err.Error()}}
		}
	}
	return invocationSignal{&InvocationError{Type: "CheckpointUnrecoverableInvocationError", Err: err}}
}

// Internal panics that unwind a handler.
type (
	suspendSignal    struct{}
	fatalSignal      struct{ err error }
	invocationSignal struct{ err error }
)

// suspend unwinds the handler with PENDING. Queued updates go first, so
// nothing fire-and-forget is lost.
func (x *execution) suspend() {
	x.flush()
	panic(suspendSignal{})
}
