package runtime

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/duro-run/duro/internal/engine"
)

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
