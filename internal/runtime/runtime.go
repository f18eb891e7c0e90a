// Package runtime runs functions for the engine: it implements
// engine.Invoker by routing each invocation to an in-process Go handler
// (tests, embedded use) or to a remote Lambda-compatible Invoke URL (a
// container running the Lambda Runtime Interface Emulator, or any server
// that speaks Lambda's Invoke API).
package runtime

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/duro-run/duro/internal/engine"
)

// InvokeURLVariable is the environment variable that makes a function
// remote: Duro posts each invocation to its value.
const InvokeURLVariable = "DURO_INVOKE_URL"

// HandlerFunc is an in-process function. It receives the invocation (for a
// durable function, Payload is the invocation envelope) and returns what
// the function returns.
type HandlerFunc func(ctx context.Context, inv engine.Invocation) (engine.InvocationResponse, error)

// Router implements engine.Invoker.
type Router struct {
	mu       sync.RWMutex
	handlers map[string]HandlerFunc
	client   *http.Client
}

// NewRouter returns a Router with no in-process handlers.
func NewRouter() *Router {
	return &Router{
		handlers: map[string]HandlerFunc{},
		// No client-level timeout: each invocation's context carries the
		// function's deadline. Idle connections are kept for warm reuse.
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 90 * time.Second}},
	}
}

// Handle registers an in-process handler for a function name.
func (r *Router) Handle(functionName string, h HandlerFunc) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.handlers[functionName] = h
}

// ErrNoRuntime is returned for a function Duro does not know how to run.
var ErrNoRuntime = errors.New("no runtime for function")

// Invoke implements engine.Invoker.
func (r *Router) Invoke(ctx context.Context, inv engine.Invocation) (engine.InvocationResponse, error) {
	if env := inv.Function.Environment; env != nil {
		if url := env.Variables[InvokeURLVariable]; url != "" {
			return r.invokeRemote(ctx, url, inv)
		}
	}
	r.mu.RLock()
	h := r.handlers[inv.Function.FunctionName]
	r.mu.RUnlock()
	if h == nil {
		return engine.InvocationResponse{}, &engine.InvocationError{
			Type:    "Runtime.InvalidEntrypoint",
			Message: fmt.Sprintf("%v: %s (set %s, or register an in-process handler)", ErrNoRuntime, inv.Function.FunctionName, InvokeURLVariable),
		}
	}
	return h(ctx, inv)
}

// invokeRemote posts the payload the way Lambda's Invoke API carries it.
func (r *Router) invokeRemote(ctx context.Context, url string, inv engine.Invocation) (engine.InvocationResponse, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(inv.Payload))
	if err != nil {
		return engine.InvocationResponse{}, &engine.InvocationError{Type: "Runtime.InvalidEntrypoint", Message: err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Amz-Invocation-Type", "RequestResponse")
	req.Header.Set("Lambda-Runtime-Aws-Request-Id", inv.RequestID)
	req.Header.Set("Lambda-Runtime-Deadline-Ms", fmt.Sprint(inv.Deadline.UnixMilli()))
	req.Header.Set("Lambda-Runtime-Invoked-Function-Arn", inv.Function.FunctionArn)
	if inv.TenantID != "" {
		req.Header.Set("X-Amz-Tenant-Id", inv.TenantID)
	}
	if inv.TraceID != "" {
		req.Header.Set("X-Amzn-Trace-Id", inv.TraceID)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			return engine.InvocationResponse{}, &engine.InvocationError{Type: "Sandbox.Timedout", Message: "Task timed out"}
		}
		return engine.InvocationResponse{}, &engine.InvocationError{Type: "Runtime.ExitError", Message: err.Error()}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 6<<20+1))
	if err != nil {
		return engine.InvocationResponse{}, &engine.InvocationError{Type: "Runtime.ExitError", Message: "reading response: " + err.Error()}
	}
	if resp.StatusCode >= 300 {
		return engine.InvocationResponse{}, &engine.InvocationError{
			Type:    "Runtime.ExitError",
			Message: fmt.Sprintf("invoke URL answered %d: %.512s", resp.StatusCode, body),
		}
	}
	return engine.InvocationResponse{Payload: body, FunctionError: resp.Header.Get("X-Amz-Function-Error")}, nil
}
