package runtime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/duro-run/duro/internal/engine"
)

// A worker is one function process and the Runtime API endpoint that
// serves it. Each worker gets its own loopback listener, passed as
// AWS_LAMBDA_RUNTIME_API: the address itself identifies the worker, so any
// Runtime API client works unchanged and a confused or hostile process can
// only ever see its own invocations.
type worker struct {
	id   string
	pool *pool
	cmd  *exec.Cmd
	pid  int
	logs *logCapture
	srv  *http.Server

	// next hands an invocation to the runtime's pending
	// GET /invocation/next.
	next chan *call

	initOnce   sync.Once
	initFailed chan struct{} // closed on POST /init/error
	initErr    errorBody

	exited  chan struct{} // closed once the process has been reaped
	exitErr error         // set before exited is closed

	mu    sync.Mutex
	calls map[string]*call // by request ID: those the runtime is working on

	stopOnce sync.Once
}

// call is one invocation on a worker.
type call struct {
	inv    engine.Invocation
	result chan engine.InvocationResponse // buffered; the runtime's answer
	// posting is set when the runtime starts sending its answer, so that an
	// exit right after the answer does not hide it.
	posting  atomic.Bool
	answered bool // guarded by worker.mu
}

// errorBody is the runtime's error report.
type errorBody struct {
	ErrorMessage string   `json:"errorMessage"`
	ErrorType    string   `json:"errorType"`
	StackTrace   []string `json:"stackTrace,omitempty"`
}

// stopGrace is how long a stopped worker may take to exit after SIGTERM
// before its process group is killed.
const stopGrace = 2 * time.Second

// startWorker starts a process for p.
func startWorker(p *pool) (*worker, error) {
	var nonce [12]byte
	_, _ = rand.Read(nonce[:])
	w := &worker{
		id: hex.EncodeToString(nonce[:]), pool: p,
		next: make(chan *call), initFailed: make(chan struct{}), exited: make(chan struct{}),
		calls: map[string]*call{},
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("runtime API listener: %w", err)
	}
	lc, stdout, stderr, err := newLogCapture(p.fn.FunctionName, p.fn.Version, w.id, p.host.logs, p.host.cfg.LogEcho, w.concurrent())
	if err != nil {
		ln.Close()
		return nil, err
	}
	w.logs = lc

	spec := p.spec
	cmd := exec.Command(spec.path, spec.args...)
	cmd.Dir = spec.dir
	cmd.Env = append(append([]string(nil), spec.env...),
		"AWS_LAMBDA_RUNTIME_API="+ln.Addr().String(),
		"AWS_LAMBDA_LOG_STREAM_NAME="+time.Now().UTC().Format("2006/01/02")+"/["+p.fn.Version+"]"+w.id,
	)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.SysProcAttr = workerProcAttr()
	err = cmd.Start()
	stdout.Close()
	stderr.Close()
	if err != nil {
		ln.Close()
		lc.closeWriters()
		return nil, err
	}
	w.cmd, w.pid = cmd, cmd.Process.Pid

	w.srv = &http.Server{Handler: w.routes(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = w.srv.Serve(ln) }()
	return w, nil
}

// reap waits for the process, then releases everything it held. The pool
// starts it once it has counted the worker.
func (w *worker) reap() {
	w.exitErr = w.cmd.Wait()
	// Whatever the process left behind in its group goes too.
	killGroup(w.pid, false)
	close(w.exited)
	w.logs.closeWriters()
	_ = w.srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	w.logs.wait(ctx)
	cancel()
	w.pool.gone(w)
}

// kill ends the worker at once (timeouts, abandoned invocations).
func (w *worker) kill() {
	if w.alive() { // after reaping, the pid may belong to someone else
		killGroup(w.pid, false)
	}
}

// stop asks the worker to exit, and kills it if it does not in time.
func (w *worker) stop() {
	w.stopOnce.Do(func() {
		if w.alive() {
			killGroup(w.pid, true)
		}
		go func() {
			t := time.NewTimer(stopGrace)
			defer t.Stop()
			select {
			case <-w.exited:
			case <-t.C:
				w.kill()
			}
		}()
	})
}

// alive reports whether the process is still running.
func (w *worker) alive() bool {
	select {
	case <-w.exited:
		return false
	default:
		return true
	}
}

// invoke runs one invocation on the worker. healthy reports whether the
// worker can serve another one.
func (w *worker) invoke(ctx context.Context, inv engine.Invocation) (resp engine.InvocationResponse, err error, healthy bool) {
	c := &call{inv: inv, result: make(chan engine.InvocationResponse, 1)}
	defer w.forget(c)
	defer w.settleLogs()

	// Hand the invocation over: the runtime is (or will soon be) waiting
	// in GET /invocation/next.
	select {
	case w.next <- c:
	case <-w.initFailed:
		w.kill()
		return resp, w.initError(inv), false
	case <-w.exited:
		if w.initReported() {
			return resp, w.initError(inv), false
		}
		return resp, w.exitError(inv), false
	case <-ctx.Done():
		if w.timesOutAlone(ctx) {
			return resp, w.deadlineError(ctx, inv), true
		}
		w.kill()
		return resp, w.deadlineError(ctx, inv), false
	}

	select {
	case r := <-c.result:
		return r, nil, true
	case <-w.exited:
		if r, ok := c.lateResult(); ok {
			return r, nil, false
		}
		return resp, w.exitError(inv), false
	case <-ctx.Done():
		select {
		case r := <-c.result:
			return r, nil, true
		default:
		}
		if w.timesOutAlone(ctx) {
			return resp, w.deadlineError(ctx, inv), true
		}
		w.kill()
		return resp, w.deadlineError(ctx, inv), false
	}
}

// timesOutAlone reports whether an invocation whose context ended fails
// alone, leaving its worker running: on managed instances (several slots)
// a timeout fails only that invocation, as on Lambda, which there neither
// stops the handler nor the other invocations of the environment. A late
// answer from the handler is refused (the invocation is forgotten). A
// single-slot worker is killed at its invocation's deadline, as Lambda
// ends the environment, and so is any worker when the invocation is
// abandoned rather than timed out (shutdown).
func (w *worker) timesOutAlone(ctx context.Context) bool {
	return w.concurrent() && errors.Is(ctx.Err(), context.DeadlineExceeded)
}

// concurrent reports whether the runtime may work on several invocations
// at once (a function on managed instances).
func (w *worker) concurrent() bool { return w.pool.spec.slots > 1 }

// lateResult picks up an answer the runtime sent just before it exited.
func (c *call) lateResult() (engine.InvocationResponse, bool) {
	wait := time.Duration(0)
	if c.posting.Load() {
		wait = 2 * time.Second
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case r := <-c.result:
		return r, true
	case <-t.C:
		return engine.InvocationResponse{}, false
	}
}

// settleLogs makes sure every line the invocation wrote is stored before
// its outcome is reported.
func (w *worker) settleLogs() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if w.alive() {
		w.logs.sync(ctx)
	} else {
		w.logs.wait(ctx)
	}
	w.pool.host.logs.flush(ctx)
}

func (w *worker) initReported() bool {
	select {
	case <-w.initFailed:
		return true
	default:
		return false
	}
}

// initError is the invocation error for a failed initialization.
func (w *worker) initError(inv engine.Invocation) error {
	typ := w.initErr.ErrorType
	if typ == "" {
		typ = "Runtime.InitError"
	}
	return &engine.InvocationError{Type: typ, Message: fmt.Sprintf("RequestId: %s Error: %s", inv.RequestID, w.initErr.ErrorMessage)}
}

// exitError is Lambda's report of a runtime that exited mid-invocation.
func (w *worker) exitError(inv engine.Invocation) error {
	reason := "Runtime exited without providing a reason"
	if w.exitErr != nil {
		reason = "Runtime exited with error: " + w.exitErr.Error()
	}
	return &engine.InvocationError{Type: "Runtime.ExitError", Message: fmt.Sprintf("RequestId: %s Error: %s", inv.RequestID, reason)}
}

// deadlineError reports an invocation that ran out of time (or was
// abandoned: the engine is shutting down, the caller went away).
func (w *worker) deadlineError(ctx context.Context, inv engine.Invocation) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return &engine.InvocationError{Type: "Sandbox.Timedout", Message: fmt.Sprintf(
			"RequestId: %s Error: Task timed out after %s seconds", inv.RequestID,
			strconv.FormatFloat(float64(inv.Function.Timeout), 'f', 2, 64))}
	}
	return fmt.Errorf("invocation %s abandoned: %w", inv.RequestID, ctx.Err())
}

// finish records the runtime's answer to c, once.
func (w *worker) finish(c *call, r engine.InvocationResponse) {
	w.mu.Lock()
	if w.calls[c.inv.RequestID] == c {
		delete(w.calls, c.inv.RequestID)
	}
	w.mu.Unlock()
	c.result <- r
}

// forget drops an invocation that ended without an answer (the process
// exited, the deadline passed), and stops attributing output to it.
func (w *worker) forget(c *call) {
	w.mu.Lock()
	if w.calls[c.inv.RequestID] == c {
		delete(w.calls, c.inv.RequestID)
	}
	w.mu.Unlock()
	w.logs.untrack(c.inv.RequestID)
}

// logf records a host diagnostic about the worker.
func (w *worker) logf(format string, args ...any) {
	w.pool.host.log.Debug(fmt.Sprintf(format, args...), "function", w.pool.fn.FunctionName, "worker", w.id)
}
