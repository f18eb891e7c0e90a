// Package api is Duro's AWS wire layer: it speaks the Lambda restJson1
// protocol (the durable execution operations under /2025-12-01/ and the
// function operations under /2015-03-31/) so that the AWS SDKs and the AWS CLI
// work against Duro through an endpoint override.
//
// The package is deliberately thin. It routes requests, decodes labels, query
// strings, headers and bodies, checks them against the constraints of the
// Lambda service model (lengths, patterns, ranges, enums), calls the
// engine.Service and encodes the answer or the error the way Lambda does
// (protocol.md §2). It holds no business logic: whether an execution exists,
// whether a token is current or whether a transition is legal is the engine's
// decision. Requests that violate the model never reach the engine.
package api

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/duro-run/duro/internal/engine"
	"github.com/duro-run/duro/internal/uuid"
)

// DefaultSyncInvokeTimeout is how long a RequestResponse Invoke waits for its
// durable execution to finish: Lambda's synchronous invocation limit.
const DefaultSyncInvokeTimeout = 15 * time.Minute

// Options configures the handler returned by New.
type Options struct {
	// Logger receives server faults and per-request debug records. Nil
	// discards everything.
	Logger *slog.Logger
	// SyncInvokeTimeout bounds how long a RequestResponse Invoke waits for the
	// execution to become terminal. Zero means DefaultSyncInvokeTimeout.
	SyncInvokeTimeout time.Duration
	// Logs serves Duro's function log route (GET /duro/v1/logs); nil
	// answers it with a ServiceException.
	Logs LogReader
	// LambdaEndpoint is the initial default invoke endpoint of the routes of
	// AWS's local emulator (POST /start-durable-execution uses it for
	// starts without LambdaEndpoint; PUT /lambda-endpoint replaces it).
	// Empty means none: such starts then run the function on its own
	// runtime. See emulator.go.
	LambdaEndpoint string
}

// server holds what the HTTP handlers share. It is immutable after New
// (emu guards its own mutable state).
type server struct {
	svc         engine.Service
	log         *slog.Logger
	syncTimeout time.Duration
	logs        LogReader
	emu         *emulator
}

// handlerFunc is an operation handler. A returned error is encoded as an AWS
// error response; a handler that wrote a response returns nil.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// route binds a ServeMux pattern to an operation.
type route struct {
	pattern string
	op      string
	handle  handlerFunc
}

// New returns the HTTP handler of the Lambda API backed by svc.
func New(svc engine.Service, opts Options) http.Handler {
	s := &server{svc: svc, log: opts.Logger, syncTimeout: opts.SyncInvokeTimeout, logs: opts.Logs,
		emu: &emulator{endpoint: opts.LambdaEndpoint}}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.syncTimeout <= 0 {
		s.syncTimeout = DefaultSyncInvokeTimeout
	}
	mux := http.NewServeMux()
	for _, rt := range s.routes() {
		mux.Handle(rt.pattern, s.adapt(rt.op, rt.handle))
	}
	// The method-less catch-all takes every request no operation pattern
	// matches, including a known path with the wrong method, so clients
	// never see Go's plain-text 404/405.
	mux.Handle("/", s.adapt("UnknownOperation", s.unknownOperation))
	return s.middleware(&checkpointRoute{checkpoint: s.checkpointByArn, mux: mux})
}

// checkpointRoute sends CheckpointDurableExecution, the request every step
// of every execution makes, straight to its handler, and everything else
// to the ServeMux, whose matching of the wildcard patterns cost 2.6 % of
// the server's CPU under load. It matches exactly what the mux pattern
// does: POST, the escaped path /2025-12-01/durable-executions/{arn}/checkpoint
// with one non-empty segment for the ARN, which the handler gets
// unescaped, as PathValue would return it.
type checkpointRoute struct {
	checkpoint func(w http.ResponseWriter, r *http.Request, arn string)
	mux        *http.ServeMux
}

const (
	checkpointPrefix = "/2025-12-01/durable-executions/"
	checkpointSuffix = "/checkpoint"
)

func (c *checkpointRoute) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		if arn, ok := checkpointArn(r.URL); ok {
			c.checkpoint(w, r, arn)
			return
		}
	}
	c.mux.ServeHTTP(w, r)
}

// checkpointArn returns the ARN of a checkpoint's path, unescaped, and
// whether u's path is one. The ARN is taken from u.Path, which the server's
// URL parser has already unescaped: the prefix and suffix have nothing to
// unescape, so the ARN is what lies between them there (unescaping the
// label again, and passing it on with SetPathValue, cost two allocations
// and 1.5 % of the CPU per checkpoint).
func checkpointArn(u *url.URL) (string, bool) {
	label, ok := strings.CutPrefix(escapedPath(u), checkpointPrefix)
	if !ok {
		return "", false
	}
	if label, ok = strings.CutSuffix(label, checkpointSuffix); !ok || label == "" || strings.Contains(label, "/") {
		return "", false
	}
	p := u.Path
	if len(p) <= len(checkpointPrefix)+len(checkpointSuffix) || !strings.HasPrefix(p, checkpointPrefix) || !strings.HasSuffix(p, checkpointSuffix) {
		return "", false // not a URL the server parsed; the ServeMux decides
	}
	arn := p[len(checkpointPrefix) : len(p)-len(checkpointSuffix)]
	// The ServeMux never gives a wildcard a segment that unescapes to a
	// lone slash.
	return arn, arn != "/"
}

// routes lists every operation. Labels are named after the model's members.
// ServeMux matches patterns against the escaped path, so an ARN whose "/" is
// sent as %2F stays one segment, and PathValue returns it decoded
// (protocol.md §2.3).
func (s *server) routes() []route {
	return []route{
		// Durable execution operations (protocol.md §1.1).
		{"GET /2025-12-01/durable-executions/{DurableExecutionArn}", "GetDurableExecution", s.getDurableExecution},
		{"GET /2025-12-01/durable-executions/{DurableExecutionArn}/history", "GetDurableExecutionHistory", s.getDurableExecutionHistory},
		{"GET /2025-12-01/durable-executions/{DurableExecutionArn}/state", "GetDurableExecutionState", s.getDurableExecutionState},
		{"POST /2025-12-01/durable-executions/{DurableExecutionArn}/checkpoint", opCheckpoint, s.checkpointDurableExecution},
		{"POST /2025-12-01/durable-executions/{DurableExecutionArn}/stop", "StopDurableExecution", s.stopDurableExecution},
		{"GET /2025-12-01/functions/{FunctionName}/durable-executions", "ListDurableExecutionsByFunction", s.listDurableExecutionsByFunction},
		{"POST /2025-12-01/durable-execution-callbacks/{CallbackId}/succeed", "SendDurableExecutionCallbackSuccess", s.sendCallbackSuccess},
		{"POST /2025-12-01/durable-execution-callbacks/{CallbackId}/fail", "SendDurableExecutionCallbackFailure", s.sendCallbackFailure},
		{"POST /2025-12-01/durable-execution-callbacks/{CallbackId}/heartbeat", "SendDurableExecutionCallbackHeartbeat", s.sendCallbackHeartbeat},

		// Function operations. ListFunctions and CreateFunction are sent
		// with or without the trailing slash depending on the client (the
		// model's URI has it, aws-sdk-go-v2 trims it); accept both.
		{"POST /2015-03-31/functions", "CreateFunction", s.createFunction},
		{"POST /2015-03-31/functions/{$}", "CreateFunction", s.createFunction},
		{"GET /2015-03-31/functions", "ListFunctions", s.listFunctions},
		{"GET /2015-03-31/functions/{$}", "ListFunctions", s.listFunctions},
		{"GET /2015-03-31/functions/{FunctionName}", "GetFunction", s.getFunction},
		{"DELETE /2015-03-31/functions/{FunctionName}", "DeleteFunction", s.deleteFunction},
		{"GET /2015-03-31/functions/{FunctionName}/configuration", "GetFunctionConfiguration", s.getFunctionConfiguration},
		{"PUT /2015-03-31/functions/{FunctionName}/configuration", "UpdateFunctionConfiguration", s.updateFunctionConfiguration},
		{"POST /2015-03-31/functions/{FunctionName}/versions", "PublishVersion", s.publishVersion},
		{"GET /2015-03-31/functions/{FunctionName}/versions", "ListVersionsByFunction", s.listVersionsByFunction},
		{"PUT /2015-03-31/functions/{FunctionName}/code", "UpdateFunctionCode", s.updateFunctionCode},
		{"POST /2015-03-31/functions/{FunctionName}/invocations", "Invoke", s.invoke},

		// Duro's own operations (not part of the Lambda API).
		{"GET /duro/v1/logs", "ListFunctionLogs", s.listFunctionLogs},
		{"GET /duro/v1/executions", "ListAllExecutions", s.listAllExecutions},
		{"GET /duro/v1/executions/{DurableExecutionArn}/operations", "ListExecutionOperations", s.listExecutionOperations},

		// The routes of AWS's local emulator that SAM CLI drives
		// (landscape.md §1.2, §1.3; emulator.go).
		{"POST /start-durable-execution", "StartDurableExecution", s.startDurableExecution},
		{"PUT /lambda-endpoint", "UpdateLambdaEndpoint", s.updateLambdaEndpoint},
		{"GET /2025-12-01/durable-executions", "ListDurableExecutions", s.listDurableExecutions},

		{"GET /health", "Health", s.health},
	}
}

// adapt turns a handlerFunc into an http.Handler that encodes its error.
func (s *server) adapt(op string, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.serveOp(w, r, op, func() error { return h(w, r) })
	})
}

// serveOp runs the operation op's handler h: it tells the middleware's
// recorder, when w is one, which operation the request is (for its logs),
// and encodes h's error.
func (s *server) serveOp(w http.ResponseWriter, r *http.Request, op string, h func() error) {
	if rec, ok := w.(*responseRecorder); ok {
		rec.op = op
	}
	if err := h(); err != nil {
		s.writeError(w, r, op, err)
	}
}

// opCheckpoint is CheckpointDurableExecution's operation name.
const opCheckpoint = "CheckpointDurableExecution"

// checkpointByArn is what adapt makes of checkpointDurableExecution, for
// checkpointRoute, which has the ARN already.
func (s *server) checkpointByArn(w http.ResponseWriter, r *http.Request, arn string) {
	s.serveOp(w, r, opCheckpoint, func() error { return s.checkpoint(w, r, arn) })
}

// health answers the liveness probe with the body of AWS's local emulator,
// whose readiness SAM CLI polls (any 200 will do for SAM).
func (s *server) health(w http.ResponseWriter, _ *http.Request) error {
	return writeJSON(w, http.StatusOK, map[string]string{"status": "healthy"})
}

// unknownOperation answers every request that names no operation the way an
// AWS restJson1 service does, so SDKs report a classified error.
func (s *server) unknownOperation(_ http.ResponseWriter, r *http.Request) error {
	return newError(shapeUnknownOperation, fmt.Sprintf("Unknown operation: %s %s", r.Method, r.URL.EscapedPath()))
}

// headerRequestID is the response header that carries a request's id.
const headerRequestID = "x-amzn-RequestId"

// requestID returns the id the middleware gave the request that w answers,
// for logs. The response's header carries it, so that the request needs no
// context of its own for it (a copy of the Request for every call).
func requestID(w http.ResponseWriter) string { return w.Header().Get(headerRequestID) }

// responseRecorder remembers what was written, for the access log and so a
// recovered panic does not append an error to a response already started.
type responseRecorder struct {
	http.ResponseWriter
	status int
	op     string
}

func (rr *responseRecorder) WriteHeader(code int) {
	if rr.status == 0 {
		rr.status = code
	}
	rr.ResponseWriter.WriteHeader(code)
}

func (rr *responseRecorder) Write(b []byte) (int, error) {
	if rr.status == 0 {
		rr.status = http.StatusOK
	}
	return rr.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (rr *responseRecorder) Unwrap() http.ResponseWriter { return rr.ResponseWriter }

// BodyBuffer passes on the underlying writer's, when it has one (see
// bodyBuffer).
func (rr *responseRecorder) BodyBuffer(n int) []byte { return bodyBuffer(rr.ResponseWriter, n) }

// bodyBuffer returns an empty slice with room for n bytes, for a response
// body of about that size to be appended to and then written to w. A
// writer that buffers its answer whole (the multiplexed connection's) lends
// its own buffer, and the body is encoded where it is sent from.
func bodyBuffer(w http.ResponseWriter, n int) []byte {
	if b, ok := w.(interface{ BodyBuffer(n int) []byte }); ok {
		return b.BodyBuffer(n)
	}
	return make([]byte, 0, n)
}

// middleware stamps every response with x-amzn-RequestId, rejects
// non-canonical paths AWS-style (ServeMux would answer with a Go redirect),
// turns panics into ServiceException and writes a debug access log.
func (s *server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := uuid.New() // the request's id, as AWS gives one: a random UUID
		w.Header().Set(headerRequestID, id)
		rec := &responseRecorder{ResponseWriter: w}

		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.ErrorContext(r.Context(), "panic serving request",
					"requestId", id, "op", rec.op, "method", r.Method, "path", r.URL.EscapedPath(),
					"panic", v, "stack", string(debug.Stack()))
				if rec.status == 0 {
					writeErrorBody(rec, shapeService, serviceFaultMessage)
				}
			}
			if s.log.Enabled(r.Context(), slog.LevelDebug) { // spare the hot path the arguments
				s.log.DebugContext(r.Context(), "request",
					"requestId", id, "op", rec.op, "method", r.Method, "path", r.URL.EscapedPath(),
					"status", rec.status, "duration", time.Since(start))
			}
		}()

		if !canonicalPath(escapedPath(r.URL)) {
			rec.op = "UnknownOperation"
			s.writeError(rec, r, rec.op, newError(shapeUnknownOperation,
				fmt.Sprintf("Unknown operation: %s %s", r.Method, r.URL.EscapedPath())))
			return
		}
		next.ServeHTTP(rec, r)
	})
}

// escapedPath is u.EscapedPath() for a URL the server parsed: RawPath is
// then set only when it differs from Path's default escaping, and always
// encodes Path. EscapedPath would check that again by unescaping it, which
// cost 1 % of the server's CPU on the checkpoint path.
func escapedPath(u *url.URL) string {
	if u.RawPath != "" {
		return u.RawPath
	}
	return u.EscapedPath()
}

// canonicalPath reports whether p (an escaped path) is already clean, the way
// ServeMux decides whether to redirect: no empty, "." or ".." segments (a
// trailing slash is kept).
func canonicalPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	for i := 1; i <= len(p); {
		j := strings.IndexByte(p[i:], '/')
		if j < 0 {
			j = len(p) - i
		}
		seg := p[i : i+j]
		last := i+j == len(p)
		if (seg == "" && !last) || seg == "." || seg == ".." {
			return false
		}
		i += j + 1
	}
	return true
}

// writeJSON encodes v as the JSON response body.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := marshalJSON(v)
	if err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	writeRaw(w, status, "application/json", b)
	return nil
}

// writeRaw writes a complete response with an explicit Content-Length.
func writeRaw(w http.ResponseWriter, status int, contentType string, body []byte) {
	if contentType != "" {
		w.Header().Set("Content-Type", contentType)
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	// A failed write means the client has gone; there is no one to tell.
	_, _ = w.Write(body)
}
