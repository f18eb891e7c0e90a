package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/duro-run/duro/internal/engine"
)

// invoke is Invoke (POST /2015-03-31/functions/{FunctionName}/invocations)
// for durable functions (protocol.md §1.3.1):
//
//   - RequestResponse (the default) starts the execution and blocks until it
//     is terminal, for at most the synchronous limit, then returns the
//     execution's result as the raw body, or Lambda's function-error payload
//     with X-Amz-Function-Error: Unhandled.
//   - Event starts the execution and returns 202 at once.
//   - DryRun checks that the function exists and returns 204.
//
// Every success carries X-Amz-Durable-Execution-Arn (except DryRun, which
// starts nothing) and X-Amz-Executed-Version.
func (s *server) invoke(w http.ResponseWriter, r *http.Request) error {
	req, err := parseInvoke(r.PathValue("FunctionName"), newQuery(r), r.Header)
	if err != nil {
		return err
	}
	payload, err := readBodyFor(r, req.payloadLimit, "InvokeFunction")
	if err != nil {
		return err
	}
	if err := checkInvokePayload(payload); err != nil {
		return err
	}
	req.start.Payload = payload

	ctx := r.Context()
	if req.invocationType == invocationDryRun {
		cfg, err := s.svc.GetFunctionConfiguration(ctx, req.start.FunctionName, req.start.Qualifier)
		if err != nil {
			return err
		}
		if cfg.Version != "" {
			w.Header().Set(headerExecutedVer, cfg.Version)
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}

	started, err := s.svc.StartExecution(ctx, req.start)
	if errors.Is(err, engine.ErrNotDurable) {
		return s.invokePlain(w, r, req)
	}
	if err != nil {
		return err
	}
	if req.invocationType == invocationEvent {
		setStartHeaders(w, started)
		writeRaw(w, http.StatusAccepted, "", nil)
		return nil
	}

	// A server-wide WriteTimeout shorter than the synchronous limit would
	// cut the answer off; extend this response's deadline past the limit.
	// Writers that cannot (test recorders) simply report ErrNotSupported.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(s.syncTimeout + time.Minute))
	awaitCtx, cancel := context.WithTimeout(ctx, s.syncTimeout)
	defer cancel()
	desc, err := s.svc.AwaitExecution(awaitCtx, started.DurableExecutionArn)
	switch {
	case ctx.Err() != nil:
		// The caller hung up. The execution carries on regardless; there is
		// no one to answer.
		s.log.DebugContext(ctx, "synchronous invoke abandoned by client",
			"requestId", requestID(w), "durableExecutionArn", started.DurableExecutionArn)
		return nil
	case awaitCtx.Err() != nil && (err != nil || desc.Status == engine.StatusRunning):
		// The synchronous limit elapsed. Lambda reports an over-long
		// synchronous invocation as a function timeout; the durable
		// execution itself keeps running and can be observed by its ARN.
		setStartHeaders(w, started)
		msg := fmt.Sprintf("Synchronous invocation timed out after %.2f seconds; durable execution %s is still running",
			s.syncTimeout.Seconds(), started.DurableExecutionArn)
		return writeFunctionError(w, functionErrorFrom(engine.NewError("Sandbox.Timedout", msg)))
	case err != nil:
		return err
	}

	switch desc.Status {
	case engine.StatusSucceeded:
		setStartHeaders(w, started)
		var body []byte
		if desc.Result != nil {
			body = []byte(*desc.Result)
		}
		writeRaw(w, http.StatusOK, "application/json", body)
		return nil
	case engine.StatusFailed, engine.StatusTimedOut, engine.StatusStopped:
		setStartHeaders(w, started)
		return writeFunctionError(w, functionErrorFrom(desc.Error))
	default:
		return fmt.Errorf("await execution %s: engine returned non-terminal status %q", started.DurableExecutionArn, desc.Status)
	}
}

// checkInvokePayload rejects a payload that is not JSON, as Lambda does. An
// empty payload is allowed.
func checkInvokePayload(payload []byte) error {
	if len(payload) == 0 || json.Valid(payload) {
		return nil
	}
	return newError(shapeInvalidRequestContent, "Could not parse request body into json: the payload is not valid JSON")
}

// setStartHeaders sets the headers every successful durable Invoke carries.
func setStartHeaders(w http.ResponseWriter, out engine.StartOutput) {
	w.Header().Set(headerExecutionArn, out.DurableExecutionArn)
	if out.ExecutedVersion != "" {
		w.Header().Set(headerExecutedVer, out.ExecutedVersion)
	}
}

// functionError is Lambda's function-error payload, the body of a
// synchronous Invoke whose function failed. Absent members are omitted.
type functionError struct {
	ErrorType    *string  `json:"errorType,omitempty"`
	ErrorMessage *string  `json:"errorMessage,omitempty"`
	StackTrace   []string `json:"stackTrace,omitempty"`
}

// functionErrorFrom builds the payload from an execution's ErrorObject.
func functionErrorFrom(e *engine.ErrorObject) functionError {
	if e == nil {
		return functionError{}
	}
	return functionError{ErrorType: e.ErrorType, ErrorMessage: e.ErrorMessage, StackTrace: e.StackTrace}
}

// writeFunctionError answers 200 with X-Amz-Function-Error: Unhandled: the
// invocation succeeded, the function did not.
func writeFunctionError(w http.ResponseWriter, fe functionError) error {
	w.Header().Set(headerFunctionError, "Unhandled")
	return writeJSON(w, http.StatusOK, fe)
}

// invokePlain invokes a function without DurableConfig once, as Lambda
// does: Event runs it in the background and answers 202 at once.
func (s *server) invokePlain(w http.ResponseWriter, r *http.Request, req invokeRequest) error {
	if req.invocationType == invocationEvent {
		go func() {
			if _, _, err := s.svc.InvokePlain(context.WithoutCancel(r.Context()), req.start); err != nil {
				s.log.Debug("async invoke failed", "function", req.start.FunctionName, "err", err)
			}
		}()
		writeRaw(w, http.StatusAccepted, "", nil)
		return nil
	}
	resp, cfg, err := s.svc.InvokePlain(r.Context(), req.start)
	if err != nil {
		var ie *engine.InvocationError
		if !errors.As(err, &ie) {
			return err
		}
		body, _ := json.Marshal(map[string]string{"errorType": ie.Type, "errorMessage": ie.Message})
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
		w.Header().Set(headerExecutedVer, cfg.Version)
		writeRaw(w, http.StatusOK, "application/json", body)
		return nil
	}
	w.Header().Set(headerExecutedVer, cfg.Version)
	if resp.FunctionError != "" {
		w.Header().Set("X-Amz-Function-Error", resp.FunctionError)
	}
	writeRaw(w, http.StatusOK, "application/json", resp.Payload)
	return nil
}
