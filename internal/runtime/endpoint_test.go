package runtime

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/duro-run/duro/internal/engine"
)

func TestEndpointInvokeURL(t *testing.T) {
	for _, tc := range []struct {
		endpoint, fn, want, wantErr string
	}{
		{"http://host.docker.internal:3001", "function", "http://host.docker.internal:3001/2015-03-31/functions/function/invocations", ""},
		{"http://127.0.0.1:8080/", "function", "http://127.0.0.1:8080/2015-03-31/functions/function/invocations", ""},
		{"https://example.com/prefix//", "my-fn", "https://example.com/prefix/2015-03-31/functions/my-fn/invocations", ""},
		{"127.0.0.1:3001", "function", "", "invalid invoke endpoint"},
		{"localhost:3001", "function", "", "absolute http"},
		{"ftp://x", "function", "", "absolute http"},
		{"http://x?y=1", "function", "", "query"},
		{"http://x", "", "", "empty function name"},
		{"http://[::1", "function", "", "invalid invoke endpoint"},
	} {
		got, err := EndpointInvokeURL(tc.endpoint, tc.fn)
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("EndpointInvokeURL(%q, %q) = %q, %v; want error containing %q", tc.endpoint, tc.fn, got, err, tc.wantErr)
			}
		case err != nil || got != tc.want:
			t.Errorf("EndpointInvokeURL(%q, %q) = %q, %v; want %q", tc.endpoint, tc.fn, got, err, tc.want)
		}
	}
}

// An invocation that carries an endpoint goes there, even when the function
// has an in-process handler and DURO_INVOKE_URL: the endpoint is the
// execution's own (StartInput.InvokeEndpoint) and wins.
func TestRouterInvokesTheInvocationEndpointFirst(t *testing.T) {
	var hits atomic.Int32
	var gotPath, gotBody, gotRequestID, gotInvocationType string
	rie := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		b, _ := io.ReadAll(r.Body)
		gotPath, gotBody = r.URL.EscapedPath(), string(b)
		gotRequestID, gotInvocationType = r.Header.Get("Lambda-Runtime-Aws-Request-Id"), r.Header.Get("X-Amz-Invocation-Type")
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
		_, _ = io.WriteString(w, `{"errorType":"Boom"}`)
	}))
	defer rie.Close()
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("DURO_INVOKE_URL was called for an invocation with an endpoint")
	}))
	defer other.Close()

	r := NewRouter()
	r.Handle("function", func(context.Context, engine.Invocation) (engine.InvocationResponse, error) {
		t.Error("the in-process handler was called for an invocation with an endpoint")
		return engine.InvocationResponse{}, nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	inv := engine.Invocation{
		Function: engine.FunctionConfiguration{
			FunctionName: "function",
			Environment:  &engine.EnvironmentResponse{Variables: map[string]string{InvokeURLVariable: other.URL}},
		},
		RequestID: "req-1", Payload: []byte(`{"DurableExecutionArn":"x"}`), Deadline: time.Now().Add(time.Minute),
		Endpoint: rie.URL + "/",
	}
	resp, err := r.Invoke(ctx, inv)
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	if hits.Load() != 1 || gotPath != "/2015-03-31/functions/function/invocations" || gotBody != string(inv.Payload) {
		t.Fatalf("endpoint got %d call(s), path %q, body %q", hits.Load(), gotPath, gotBody)
	}
	if gotRequestID != "req-1" || gotInvocationType != "RequestResponse" {
		t.Fatalf("headers: request id %q, invocation type %q", gotRequestID, gotInvocationType)
	}
	if resp.FunctionError != "Unhandled" || string(resp.Payload) != `{"errorType":"Boom"}` {
		t.Fatalf("response %+v", resp)
	}

	// A malformed endpoint is the sandbox's failure, not a panic or a
	// fallback to another runtime.
	inv.Endpoint = "not a url"
	_, err = r.Invoke(ctx, inv)
	var ie *engine.InvocationError
	if !errors.As(err, &ie) || ie.Type != "Runtime.InvalidEntrypoint" {
		t.Fatalf("bad endpoint: %v", err)
	}

	// An endpoint that answers an HTTP error fails the invocation once:
	// no retry by the transport.
	var failures atomic.Int32
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		failures.Add(1)
		http.Error(w, "no such function", http.StatusNotFound)
	}))
	defer broken.Close()
	inv.Endpoint = broken.URL
	_, err = r.Invoke(ctx, inv)
	if !errors.As(err, &ie) || ie.Type != "Runtime.ExitError" || !strings.Contains(ie.Message, "404") || failures.Load() != 1 {
		t.Fatalf("HTTP error: %v after %d call(s)", err, failures.Load())
	}
}
