package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/duro-run/duro/internal/engine"
)

// The Lambda Runtime API (2018-06-01), as a worker's process sees it on its
// own listener. Status codes and error bodies follow Lambda's runtime API
// specification so that the official runtime interface clients behave as
// they do on Lambda.

const (
	// maxResponseBody is Lambda's synchronous response limit.
	maxResponseBody = 6_291_556
	// maxErrorBody bounds an error report.
	maxErrorBody = 1 << 20
)

// routes returns the worker's Runtime API handler.
func (w *worker) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", w.handleNext)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", w.handleResponse)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", w.handleError)
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", w.handleInitError)
	mux.HandleFunc("/", func(rw http.ResponseWriter, r *http.Request) {
		apiError(rw, http.StatusNotFound, "NotFound", "unknown runtime API path "+r.URL.Path)
	})
	return mux
}

// apiError writes a Runtime API error.
func apiError(rw http.ResponseWriter, status int, typ, msg string) {
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(status)
	_ = json.NewEncoder(rw).Encode(errorBody{ErrorType: typ, ErrorMessage: msg})
}

func accepted(rw http.ResponseWriter) {
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(rw, `{"status":"OK"}`+"\n")
}

// handleNext blocks until the pool gives the worker an invocation. A
// worker of a function on managed instances may have several /next
// requests open at once, one per invocation it can take.
func (w *worker) handleNext(rw http.ResponseWriter, r *http.Request) {
	if !w.concurrent() {
		w.mu.Lock()
		for id, prev := range w.calls {
			if prev.answered {
				continue
			}
			// The runtime moved on without answering: fail that
			// invocation rather than leave it waiting for its deadline.
			prev.answered = true
			delete(w.calls, id)
			prev.result <- errorResponse("Runtime.NoResponse", "The runtime requested the next invocation without responding to this one")
			w.logf("runtime asked for the next invocation without answering %s", prev.inv.RequestID)
		}
		w.mu.Unlock()
	}

	var c *call
	select {
	case c = <-w.next:
	case <-r.Context().Done():
		return
	case <-w.exited:
		return
	}
	inv := c.inv
	w.mu.Lock()
	w.calls[inv.RequestID] = c
	w.mu.Unlock()
	tag := logTag{RequestID: inv.RequestID, ExecutionArn: inv.DurableExecutionArn}
	if w.concurrent() {
		w.logs.track(tag)
	} else {
		w.logs.setTag(tag)
	}

	h := rw.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Lambda-Runtime-Aws-Request-Id", inv.RequestID)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.Deadline.UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", invokedArn(inv))
	if inv.TraceID != "" {
		h.Set("Lambda-Runtime-Trace-Id", inv.TraceID)
	}
	if inv.TenantID != "" {
		h.Set("Lambda-Runtime-Aws-Tenant-Id", inv.TenantID)
	}
	h.Set("Content-Length", strconv.Itoa(len(inv.Payload)))
	rw.WriteHeader(http.StatusOK)
	_, _ = rw.Write(inv.Payload)
}

// invokedArn is the ARN the function was invoked with: for a durable
// execution, the qualified ARN its execution ARN starts with.
func invokedArn(inv engine.Invocation) string {
	if i := strings.Index(inv.DurableExecutionArn, "/durable-execution/"); i > 0 {
		return inv.DurableExecutionArn[:i]
	}
	return inv.Function.FunctionArn
}

// claim finds the call a /response or /error names and marks it answered.
func (w *worker) claim(rw http.ResponseWriter, id string) *call {
	w.mu.Lock()
	defer w.mu.Unlock()
	c := w.calls[id]
	switch {
	case c == nil:
		apiError(rw, http.StatusBadRequest, "InvalidRequestID", "Invalid request ID: "+id)
		return nil
	case c.answered:
		apiError(rw, http.StatusForbidden, "InvalidStateTransition", "The invocation has already been answered: "+id)
		return nil
	}
	c.answered = true
	c.posting.Store(true)
	return c
}

// handleResponse records the function's result.
func (w *worker) handleResponse(rw http.ResponseWriter, r *http.Request) {
	c := w.claim(rw, r.PathValue("id"))
	if c == nil {
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxResponseBody+1))
	switch {
	case err != nil:
		w.finish(c, errorResponse("Runtime.TruncatedResponse", "reading the response: "+err.Error()))
		return
	case len(body) > maxResponseBody:
		msg := fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", maxResponseBody)
		w.finish(c, errorResponse("Function.ResponseSizeTooLarge", msg))
		apiError(rw, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", msg)
		return
	}
	w.finish(c, engine.InvocationResponse{Payload: body})
	accepted(rw)
}

// handleError records a function error (Lambda's "Unhandled" error).
func (w *worker) handleError(rw http.ResponseWriter, r *http.Request) {
	c := w.claim(rw, r.PathValue("id"))
	if c == nil {
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxErrorBody))
	var eb errorBody
	if err != nil || json.Unmarshal(body, &eb) != nil || (eb.ErrorType == "" && eb.ErrorMessage == "") {
		typ := r.Header.Get("Lambda-Runtime-Function-Error-Type")
		if typ == "" {
			typ = "Runtime.Unknown"
		}
		w.finish(c, errorResponse(typ, "The runtime reported an error without a valid error body"))
		accepted(rw)
		return
	}
	w.finish(c, engine.InvocationResponse{Payload: body, FunctionError: "Unhandled"})
	accepted(rw)
}

// handleInitError records a failed initialization. The worker is killed by
// the invocation waiting for it.
func (w *worker) handleInitError(rw http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxErrorBody))
	var eb errorBody
	if json.Unmarshal(body, &eb) != nil {
		eb = errorBody{ErrorMessage: string(body)}
	}
	if eb.ErrorType == "" {
		eb.ErrorType = r.Header.Get("Lambda-Runtime-Function-Error-Type")
	}
	w.initOnce.Do(func() {
		w.initErr = eb
		close(w.initFailed)
	})
	accepted(rw)
}

// errorResponse is a function error Duro reports on the function's behalf.
func errorResponse(typ, msg string) engine.InvocationResponse {
	b, err := json.Marshal(errorBody{ErrorType: typ, ErrorMessage: msg})
	if err != nil {
		panic(errors.New("marshal error body")) // plain strings always marshal
	}
	return engine.InvocationResponse{Payload: b, FunctionError: "Unhandled"}
}
