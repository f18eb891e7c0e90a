// Package runtime runs functions for the engine. Its Router implements
// engine.Invoker and sends each invocation to one of:
//
//   - the invocation's own endpoint (engine.Invocation.Endpoint, from
//     StartInput.InvokeEndpoint), which takes priority over everything
//     else: Duro posts to {endpoint}/2015-03-31/functions/{name}/invocations,
//     the way AWS's local emulator (and so SAM CLI) reaches a function
//     container's Runtime Interface Emulator;
//   - an in-process Go handler registered with Router.Handle (tests,
//     embedded use);
//   - a remote Lambda-compatible Invoke URL, when the function's environment
//     sets DURO_INVOKE_URL (a container running the Lambda Runtime Interface
//     Emulator, or any server that speaks Lambda's Invoke API);
//   - a local worker process started from the function's code, for the
//     nodejs*, python3.* and provided.* runtimes. Duro hosts the Lambda
//     Runtime API for these processes (runtimeapi.go), keeps warm pools of
//     them per function version (pool.go), and captures their output as
//     logs (logs.go).
//
// Runtime API identity: every worker process gets a loopback listener of
// its own (AWS_LAMBDA_RUNTIME_API=127.0.0.1:PORT). The address is the
// identity, so unmodified Runtime API clients (Duro's bootstraps, the AWS
// runtime interface clients, aws-lambda-go) work as on Lambda, and a
// process can only see and answer its own invocations.
//
// Pools are keyed by function name, version, code location and
// configuration revision: UpdateFunctionCode or UpdateFunctionConfiguration
// makes the next invocation start fresh workers while the old ones drain.
//
// The package also stores uploaded code archives (CodeStore).
package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/duro-run/duro/internal/engine"
	"github.com/duro-run/duro/internal/store"
)

// InvokeURLVariable is the environment variable that makes a function
// remote: Duro posts each invocation to its value.
const InvokeURLVariable = "DURO_INVOKE_URL"

// Defaults of Config.
const (
	DefaultMaxConcurrency = 10
	DefaultIdleTimeout    = 5 * time.Minute
)

// HandlerFunc is an in-process function. It receives the invocation (for a
// durable function, Payload is the invocation envelope) and returns what
// the function returns.
type HandlerFunc func(ctx context.Context, inv engine.Invocation) (engine.InvocationResponse, error)

// LogSink stores captured function output. store.Store implements it.
type LogSink interface {
	AppendLogs(ctx context.Context, rows []store.LogRow) error
}

// Config configures the local function host. The zero Config runs only
// in-process and remote functions.
type Config struct {
	// DataDir is Duro's data directory. Local runtimes need it: Duro writes
	// its Node.js and Python bootstraps under DataDir/runtime. Empty
	// disables local runtimes.
	DataDir string
	// EndpointURL is Duro's own API URL, given to functions as
	// AWS_ENDPOINT_URL_LAMBDA so that the durable SDKs call Duro.
	EndpointURL string
	// EndpointSocket is a Unix socket on which the same API answers. Local
	// workers get it with EndpointURL (DURO_ENDPOINT_SOCKET and
	// DURO_ENDPOINT_URL), and the Node bootstrap's lean client uses it
	// while the function's endpoint is that URL. Empty: TCP only.
	EndpointSocket string
	// Region is given to functions as AWS_REGION and AWS_DEFAULT_REGION.
	// Default us-east-1.
	Region string
	// Logs stores the functions' stdout and stderr lines; nil drops them.
	Logs LogSink
	// LogEcho, when set, also receives every captured line, prefixed with
	// the function's name (for `duro dev`, which shows function output).
	LogEcho io.Writer
	// Logger receives the host's own diagnostics. Nil discards them.
	Logger *slog.Logger
	// MaxConcurrency bounds the worker processes of one function version;
	// invocations beyond it wait for a worker. Default 10.
	MaxConcurrency int
	// IdleTimeout stops a worker that has been idle this long. Default 5m.
	IdleTimeout time.Duration
	// NodeCommand and PythonCommand name the interpreters the nodejs* and
	// python3.* runtimes use (looked up on PATH), whatever version the
	// function's Runtime names. Defaults "node" and "python3".
	NodeCommand   string
	PythonCommand string
}

// Router implements engine.Invoker.
type Router struct {
	mu       sync.RWMutex
	handlers map[string]HandlerFunc
	client   *http.Client
	host     *host // nil when local runtimes are disabled
}

// NewRouter returns a Router for in-process and remote functions only.
func NewRouter() *Router {
	r, _ := New(Config{}) // cannot fail without a data directory
	return r
}

// New returns a Router that also runs functions as local processes when
// cfg.DataDir is set. Close it to stop those processes.
func New(cfg Config) (*Router, error) {
	r := &Router{
		handlers: map[string]HandlerFunc{},
		// No client-level timeout: each invocation's context carries the
		// function's deadline. Idle connections are kept for warm reuse.
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 90 * time.Second}},
	}
	if cfg.DataDir != "" {
		h, err := newHost(cfg)
		if err != nil {
			return nil, err
		}
		r.host = h
	}
	return r, nil
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
	if inv.Endpoint != "" {
		url, err := EndpointInvokeURL(inv.Endpoint, inv.Function.FunctionName)
		if err != nil {
			return engine.InvocationResponse{}, &engine.InvocationError{Type: "Runtime.InvalidEntrypoint", Message: err.Error()}
		}
		return r.invokeRemote(ctx, url, inv)
	}
	r.mu.RLock()
	h := r.handlers[inv.Function.FunctionName]
	r.mu.RUnlock()
	if h != nil {
		return h(ctx, inv)
	}
	if env := inv.Function.Environment; env != nil {
		if url := env.Variables[InvokeURLVariable]; url != "" {
			return r.invokeRemote(ctx, url, inv)
		}
	}
	if r.host != nil && inv.Function.CodeLocation != "" {
		return r.host.invoke(ctx, inv)
	}
	msg := fmt.Sprintf("%v: %s (set %s, or register an in-process handler)", ErrNoRuntime, inv.Function.FunctionName, InvokeURLVariable)
	if r.host != nil {
		msg = fmt.Sprintf("%v: %s has no code (upload a zip, or set %s)", ErrNoRuntime, inv.Function.FunctionName, InvokeURLVariable)
	}
	return engine.InvocationResponse{}, &engine.InvocationError{Type: "Runtime.InvalidEntrypoint", Message: msg}
}

// Recycle stops the warm workers of a function (every version), so that
// the next invocation starts fresh processes. `duro dev` calls it when a
// function's code directory changes in place. Busy workers finish their
// invocation first.
func (r *Router) Recycle(functionName string) {
	if r.host != nil {
		r.host.recycle(functionName)
	}
}

// Close stops every worker process (their whole process groups) and
// flushes the captured logs. In-flight local invocations fail. It waits
// until the processes are gone or ctx ends.
func (r *Router) Close(ctx context.Context) error {
	if r.host == nil {
		return nil
	}
	return r.host.close(ctx)
}
