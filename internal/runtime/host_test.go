//go:build unix

package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/duro-run/duro/internal/engine"
	"github.com/duro-run/duro/internal/store"
)

// memLogs is a LogSink that keeps rows in memory.
type memLogs struct {
	mu     sync.Mutex
	rows   []store.LogRow
	writes int
}

func (m *memLogs) AppendLogs(_ context.Context, rows []store.LogRow) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rows = append(m.rows, rows...)
	m.writes++
	return nil
}

func (m *memLogs) snapshot() []store.LogRow {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.rows)
}

// fakeHost is a Router with local runtimes and a fake-runtime function.
type fakeHost struct {
	t    *testing.T
	r    *Router
	logs *memLogs
	fn   engine.FunctionConfiguration
}

func newFakeHost(t *testing.T, cfg Config, env map[string]string) *fakeHost {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	code := t.TempDir()
	script := "#!/bin/sh\nexec \"$FAKE_RUNTIME_BIN\"\n"
	if err := os.WriteFile(filepath.Join(code, "bootstrap"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	logs := &memLogs{}
	cfg.DataDir, cfg.Logs = t.TempDir(), logs
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := r.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	vars := map[string]string{"DURO_FAKE_RUNTIME": "1", "FAKE_RUNTIME_BIN": self}
	for k, v := range env {
		vars[k] = v
	}
	fn := engine.FunctionConfiguration{
		FunctionName: "fake", FunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:fake", Version: "$LATEST",
		Runtime: "provided.al2023", Handler: "x", Timeout: 10, MemorySize: 128, RevisionId: "r1", CodeLocation: code,
		Environment: &engine.EnvironmentResponse{Variables: vars},
	}
	return &fakeHost{t: t, r: r, logs: logs, fn: fn}
}

type fakeResult struct {
	Pid      int
	Child    int
	Deadline string
	Arn      string
	Tenant   string
	Trace    string
}

func (h *fakeHost) invoke(ctx context.Context, reqID string, ev fakeEvent) (fakeResult, engine.InvocationResponse, error) {
	payload, _ := json.Marshal(ev)
	deadline := time.Now().Add(time.Duration(h.fn.Timeout) * time.Second)
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	resp, err := h.r.Invoke(ctx, engine.Invocation{
		Function: h.fn, RequestID: reqID, Payload: payload, Deadline: deadline, TenantID: "tenant-1", TraceID: "Root=1-abc",
		DurableExecutionArn: h.fn.FunctionArn + ":$LATEST/durable-execution/n/" + reqID,
	})
	var res fakeResult
	if err == nil && resp.FunctionError == "" {
		if jerr := json.Unmarshal(resp.Payload, &res); jerr != nil {
			h.t.Fatalf("payload %q: %v", resp.Payload, jerr)
		}
	}
	return res, resp, err
}

func (h *fakeHost) mustInvoke(reqID string, ev fakeEvent) fakeResult {
	h.t.Helper()
	res, resp, err := h.invoke(context.Background(), reqID, ev)
	if err != nil || resp.FunctionError != "" {
		h.t.Fatalf("invoke %s: %v %s", reqID, err, resp.Payload)
	}
	return res
}

func processGone(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !processGone(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("process %d still running", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestHostRuntimeAPIHeadersAndWarmReuse(t *testing.T) {
	h := newFakeHost(t, Config{}, nil)
	a := h.mustInvoke("req-1", fakeEvent{})
	b := h.mustInvoke("req-2", fakeEvent{})
	if a.Pid == 0 || a.Pid != b.Pid {
		t.Errorf("pids %d then %d: want one warm worker", a.Pid, b.Pid)
	}
	if a.Arn != "arn:aws:lambda:us-east-1:123456789012:function:fake:$LATEST" || a.Tenant != "tenant-1" || a.Trace != "Root=1-abc" || a.Deadline == "" {
		t.Errorf("runtime API headers seen by the runtime: %+v", a)
	}
}

func TestHostFunctionErrorAndExit(t *testing.T) {
	h := newFakeHost(t, Config{}, nil)
	_, resp, err := h.invoke(context.Background(), "req-err", fakeEvent{Action: "error"})
	if err != nil || resp.FunctionError != "Unhandled" || !json.Valid(resp.Payload) {
		t.Fatalf("error action: %v, %+v", err, resp)
	}
	_, _, err = h.invoke(context.Background(), "req-exit", fakeEvent{Action: "exit"})
	var ie *engine.InvocationError
	if !errors.As(err, &ie) || ie.Type != "Runtime.ExitError" || ie.Message != "RequestId: req-exit Error: Runtime exited with error: exit status 3" {
		t.Fatalf("exit action: %v", err)
	}
	h.mustInvoke("req-after", fakeEvent{}) // a fresh worker takes over
}

func TestHostInitError(t *testing.T) {
	h := newFakeHost(t, Config{}, map[string]string{"FAKE_INIT_ERROR": "cannot start"})
	_, _, err := h.invoke(context.Background(), "req-init", fakeEvent{})
	var ie *engine.InvocationError
	if !errors.As(err, &ie) || ie.Type != "Fake.InitError" || ie.Message != "RequestId: req-init Error: cannot start" {
		t.Fatalf("init error: %v", err)
	}
}

func TestHostTimeoutKillsProcessGroup(t *testing.T) {
	h := newFakeHost(t, Config{}, nil)
	h.fn.Timeout = 1
	spawned := h.mustInvoke("req-spawn", fakeEvent{Action: "spawn"})
	start := time.Now()
	_, _, err := h.invoke(context.Background(), "req-slow", fakeEvent{Action: "sleep", Millis: 30_000})
	var ie *engine.InvocationError
	if !errors.As(err, &ie) || ie.Type != "Sandbox.Timedout" || ie.Message != "RequestId: req-slow Error: Task timed out after 1.00 seconds" {
		t.Fatalf("timeout: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("timed out after %v", d)
	}
	waitGone(t, spawned.Pid)
	waitGone(t, spawned.Child) // the worker's own child went with its group
}

func TestHostConcurrencyLimitQueues(t *testing.T) {
	h := newFakeHost(t, Config{MaxConcurrency: 2}, nil)
	var mu sync.Mutex
	pids := map[int]bool{}
	var wg sync.WaitGroup
	start := time.Now()
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, resp, err := h.invoke(context.Background(), "req-"+string(rune('a'+i)), fakeEvent{Action: "sleep", Millis: 200})
			if err != nil || resp.FunctionError != "" {
				t.Errorf("invoke: %v %s", err, resp.Payload)
				return
			}
			mu.Lock()
			pids[res.Pid] = true
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(pids) > 2 {
		t.Errorf("%d workers served 6 invocations with MaxConcurrency 2", len(pids))
	}
	if d := time.Since(start); d < 600*time.Millisecond {
		t.Errorf("6 invocations of 200 ms on 2 workers took %v; they did not queue", d)
	}
}

func TestHostIdleWorkersStop(t *testing.T) {
	h := newFakeHost(t, Config{IdleTimeout: 200 * time.Millisecond}, nil)
	a := h.mustInvoke("req-1", fakeEvent{})
	waitGone(t, a.Pid)
	b := h.mustInvoke("req-2", fakeEvent{})
	if b.Pid == a.Pid {
		t.Error("an expired worker served again")
	}
}

func TestHostNewRevisionStartsFreshWorkers(t *testing.T) {
	h := newFakeHost(t, Config{}, nil)
	a := h.mustInvoke("req-1", fakeEvent{})
	h.fn.RevisionId = "r2"
	b := h.mustInvoke("req-2", fakeEvent{})
	if a.Pid == b.Pid {
		t.Fatal("a new configuration revision reused the old worker")
	}
	waitGone(t, a.Pid) // the old pool's idle worker is stopped
	h.r.Recycle("fake")
	waitGone(t, b.Pid)
}

func TestHostCloseStopsEverything(t *testing.T) {
	h := newFakeHost(t, Config{}, nil)
	spawned := h.mustInvoke("req-spawn", fakeEvent{Action: "spawn"})
	done := make(chan error, 1)
	go func() {
		_, _, err := h.invoke(context.Background(), "req-busy", fakeEvent{Action: "sleep", Millis: 30_000})
		done <- err
	}()
	time.Sleep(200 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.r.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case err := <-done:
		if err == nil {
			t.Error("the busy invocation succeeded across Close")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the busy invocation did not end at Close")
	}
	waitGone(t, spawned.Pid)
	waitGone(t, spawned.Child)
	if _, _, err := h.invoke(context.Background(), "req-late", fakeEvent{}); err == nil {
		t.Error("invoke after Close succeeded")
	}
}

func TestHostLogsAreTaggedAndBatched(t *testing.T) {
	h := newFakeHost(t, Config{}, nil)
	h.mustInvoke("req-1", fakeEvent{Lines: []string{"one", "two", "three"}, After: []string{"late for req-1"}})
	h.mustInvoke("req-2", fakeEvent{Lines: []string{"four", `{"executionArn":"arn:from-json","message":"sdk line"}`}})
	got := h.logs.snapshot()
	type tagged struct{ msg, req, arn string }
	var lines []tagged
	for _, r := range got {
		if r.FunctionName != "fake" || r.FunctionVersion != "$LATEST" || r.Stream != "stdout" {
			t.Errorf("row %+v", r)
		}
		lines = append(lines, tagged{r.Message, r.RequestID, r.ExecutionArn})
	}
	arn := func(id string) string { return h.fn.FunctionArn + ":$LATEST/durable-execution/n/" + id }
	want := []tagged{
		{"one", "req-1", arn("req-1")}, {"two", "req-1", arn("req-1")}, {"three", "req-1", arn("req-1")},
		{"late for req-1", "req-1", arn("req-1")},
		{"four", "req-2", arn("req-2")},
		{`{"executionArn":"arn:from-json","message":"sdk line"}`, "req-2", "arn:from-json"},
	}
	if !slices.Equal(lines, want) {
		t.Errorf("log lines:\n got %v\nwant %v", lines, want)
	}
	h.logs.mu.Lock()
	writes := h.logs.writes
	h.logs.mu.Unlock()
	if writes > 2 {
		t.Errorf("%d store writes for 2 invocations: lines are not batched", writes)
	}
}
