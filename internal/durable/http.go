package durable

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/duro-run/duro/internal/engine"
	"github.com/duro-run/duro/internal/runtime"
)

// maxEnvelope bounds the request body HTTPHandler reads: Lambda's 6 MB
// synchronous payload limit, with room for escaping.
const maxEnvelope = 12 << 20

// HTTPHandler serves fn the way Lambda's Invoke API carries a call, so that a
// function can run out of process behind DURO_INVOKE_URL (a load generator,
// for instance): the request body is the envelope, the response body the
// handler output, and an invocation error is answered like Lambda's
// unhandled function error (X-Amz-Function-Error: Unhandled). The
// Lambda-Runtime-Deadline-Ms header, when present, bounds the invocation.
func HTTPHandler(client *lambda.Client, fn Func) http.Handler {
	return InvocationHandler(Handler(client, fn))
}

// InvocationHandler serves any in-process handler the way HTTPHandler
// serves a durable Func.
func InvocationHandler(h runtime.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST an invocation envelope", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxEnvelope))
		if err != nil {
			http.Error(w, "reading the envelope: "+err.Error(), http.StatusBadRequest)
			return
		}
		ctx := r.Context()
		if ms, err := strconv.ParseInt(r.Header.Get("Lambda-Runtime-Deadline-Ms"), 10, 64); err == nil && ms > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, time.UnixMilli(ms))
			defer cancel()
		}
		resp, err := h(ctx, engine.Invocation{Payload: body, RequestID: r.Header.Get("Lambda-Runtime-Aws-Request-Id")})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if resp.FunctionError != "" {
			w.Header().Set("X-Amz-Function-Error", resp.FunctionError)
		}
		_, _ = w.Write(resp.Payload)
	})
}
