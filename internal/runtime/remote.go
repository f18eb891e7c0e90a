package runtime

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/duro-run/duro/internal/engine"
)

// EndpointInvokeURL is the Lambda Invoke URL of a function behind a
// Lambda-compatible endpoint: {endpoint}/2015-03-31/functions/{name}/invocations.
// The endpoint must be an absolute http or https URL; a path prefix and a
// trailing slash are kept and trimmed respectively.
func EndpointInvokeURL(endpoint, functionName string) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return "", fmt.Errorf("invalid invoke endpoint %q: %w", endpoint, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("invalid invoke endpoint %q: want an absolute http:// or https:// URL", endpoint)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("invalid invoke endpoint %q: a query or fragment is not allowed", endpoint)
	}
	if functionName == "" {
		return "", fmt.Errorf("invoke endpoint %s: empty function name", endpoint)
	}
	return strings.TrimRight(u.String(), "/") + "/2015-03-31/functions/" + url.PathEscape(functionName) + "/invocations", nil
}

// invokeRemote posts the payload the way Lambda's Invoke API carries it,
// once: the client has no overall timeout (the invocation's context carries
// the function's deadline, which is the read timeout) and a POST is never
// retried by net/http, so a slow function is never invoked twice by the
// transport; re-invocation is the engine's decision.
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
