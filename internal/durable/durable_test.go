package durable_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/duro-run/duro/internal/durable"
	"github.com/duro-run/duro/internal/engine"
)

// fakeLambda is a minimal stand-in for the durable execution API: it records
// every checkpoint, answers with a fresh token and a delta derived from the
// updates (just enough of §5.3 for the SDK), and serves state pages. It lets
// the SDK be tested without the real server.
type fakeLambda struct {
	t  *testing.T
	mu sync.Mutex
	// calls are the decoded checkpoint request bodies, in order.
	calls []checkpointCall
	// stateCalls are the (token, marker) pairs of GetDurableExecutionState.
	stateCalls [][2]string
	// statePages maps a marker to the page served for it.
	statePages map[string]statePage
	// failWith, when set, is the error every checkpoint answers.
	failWith *fakeError
	seq      int
}

type checkpointCall struct {
	CheckpointToken string
	ClientToken     string
	Updates         []map[string]any
}

type statePage struct {
	Operations []map[string]any
	NextMarker string
}

type fakeError struct {
	status  int
	code    string
	message string
}

func newFake(t *testing.T) (*fakeLambda, string) {
	f := &fakeLambda{t: t, statePages: map[string]statePage{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv.URL
}

func (f *fakeLambda) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	path := r.URL.EscapedPath()
	switch {
	case r.Method == http.MethodPost && strings.HasSuffix(path, "/checkpoint"):
		if f.failWith != nil {
			w.Header().Set("x-amzn-ErrorType", f.failWith.code)
			w.WriteHeader(f.failWith.status)
			fmt.Fprintf(w, `{"Type":"User","message":%q}`, f.failWith.message)
			return
		}
		var c checkpointCall
		if err := json.NewDecoder(r.Body).Decode(&c); err != nil {
			f.t.Errorf("fake: decode checkpoint: %v", err)
		}
		f.calls = append(f.calls, c)
		f.seq++
		ops := []map[string]any{}
		for _, u := range c.Updates {
			ops = append(ops, applyFake(u))
		}
		json.NewEncoder(w).Encode(map[string]any{
			"CheckpointToken":   fmt.Sprintf("tok%d", f.seq),
			"NewExecutionState": map[string]any{"Operations": ops},
		})
	case r.Method == http.MethodGet && strings.HasSuffix(path, "/state"):
		q := r.URL.Query()
		f.stateCalls = append(f.stateCalls, [2]string{q.Get("CheckpointToken"), q.Get("Marker")})
		p := f.statePages[q.Get("Marker")]
		out := map[string]any{"Operations": p.Operations}
		if p.Operations == nil {
			out["Operations"] = []any{}
		}
		if p.NextMarker != "" {
			out["NextMarker"] = p.NextMarker
		}
		json.NewEncoder(w).Encode(out)
	default:
		f.t.Errorf("fake: unexpected request %s %s", r.Method, path)
		w.WriteHeader(http.StatusNotFound)
	}
}

// applyFake derives the operation state an update leads to.
func applyFake(u map[string]any) map[string]any {
	op := map[string]any{"Id": u["Id"], "Type": u["Type"], "StartTimestamp": 1767323045}
	for _, k := range []string{"Name", "SubType", "ParentId"} {
		if v, ok := u[k]; ok {
			op[k] = v
		}
	}
	status := map[string]string{"START": "STARTED", "SUCCEED": "SUCCEEDED", "FAIL": "FAILED", "RETRY": "PENDING", "CANCEL": "CANCELLED"}[u["Action"].(string)]
	op["Status"] = status
	switch u["Type"] {
	case "STEP":
		d := map[string]any{"Attempt": 1}
		if u["Payload"] != nil {
			d["Result"] = u["Payload"]
		}
		if u["Error"] != nil {
			d["Error"] = u["Error"]
		}
		op["StepDetails"] = d
	case "WAIT":
		op["WaitDetails"] = map[string]any{"ScheduledEndTimestamp": 1767323999.5}
	case "CALLBACK":
		op["CallbackDetails"] = map[string]any{"CallbackId": "cb" + u["Id"].(string)}
	case "CONTEXT":
		if u["Payload"] != nil {
			op["ContextDetails"] = map[string]any{"Result": u["Payload"]}
		}
	}
	return op
}

func (f *fakeLambda) snapshot() []checkpointCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]checkpointCall(nil), f.calls...)
}

const testArn = "arn:aws:lambda:us-east-1:123456789012:function:fn:$LATEST/durable-execution/run-1/exec-1"

// envelopeJSON builds an invocation envelope whose first operation is the
// EXECUTION with the given input, followed by ops.
func envelopeJSON(t *testing.T, input string, marker string, ops ...map[string]any) []byte {
	t.Helper()
	all := append([]map[string]any{{
		"Id": "exec-1", "Type": "EXECUTION", "Status": "STARTED", "StartTimestamp": int64(1767323045123),
		"ExecutionDetails": map[string]any{"InputPayload": input},
	}}, ops...)
	b, err := json.Marshal(map[string]any{
		"DurableExecutionArn": testArn, "CheckpointToken": "tok0",
		"InitialExecutionState": map[string]any{"Operations": all, "NextMarker": marker},
		"UpdatedOperationIds":   []string{},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func run(t *testing.T, url string, env []byte, fn durable.Func) (durable.Output, error) {
	t.Helper()
	return durable.Run(context.Background(), durable.NewClient(url), env, fn)
}

func mustSucceed(t *testing.T, out durable.Output, err error, want string) {
	t.Helper()
	if err != nil {
		t.Fatalf("Run: invocation error %v", err)
	}
	if out.Status != durable.StatusSucceeded || out.Result == nil || *out.Result != want {
		t.Fatalf("output = %+v (result %v), want SUCCEEDED with %s", out, deref(out.Result), want)
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// updatesOf summarises a call's updates as "Action Type Id" strings.
func updatesOf(c checkpointCall) []string {
	var out []string
	for _, u := range c.Updates {
		s := fmt.Sprintf("%s %s %s", u["Action"], u["Type"], u["Id"])
		if p, ok := u["ParentId"]; ok {
			s += " parent=" + p.(string)
		}
		out = append(out, s)
	}
	return out
}

func eq(a, b []string) bool {
	return strings.Join(a, "|") == strings.Join(b, "|")
}

func TestStepsBatchStartAndSucceedAndChainTokens(t *testing.T) {
	f, url := newFake(t)
	var gotInput string
	out, err := run(t, url, envelopeJSON(t, `{"n":2}`, ""), func(c *durable.Context, in json.RawMessage) (any, error) {
		gotInput = string(in)
		a, err := c.Step("a", func() (any, error) { return 1, nil })
		if err != nil {
			return nil, err
		}
		b, err := c.Step("", func() (any, error) { return map[string]string{"x": "y"}, nil })
		if err != nil {
			return nil, err
		}
		return []json.RawMessage{a, b}, nil
	})
	mustSucceed(t, out, err, `[1,{"x":"y"}]`)
	if gotInput != `{"n":2}` {
		t.Errorf("handler input = %q, want the InputPayload", gotInput)
	}
	calls := f.snapshot()
	if len(calls) != 2 {
		t.Fatalf("checkpoint calls = %d, want 2 (one per step)", len(calls))
	}
	if !eq(updatesOf(calls[0]), []string{"START STEP 1", "SUCCEED STEP 1"}) || !eq(updatesOf(calls[1]), []string{"START STEP 2", "SUCCEED STEP 2"}) {
		t.Errorf("updates = %v / %v", updatesOf(calls[0]), updatesOf(calls[1]))
	}
	if calls[0].CheckpointToken != "tok0" || calls[1].CheckpointToken != "tok1" {
		t.Errorf("token chain = %q, %q; want tok0 (envelope), tok1 (first response)", calls[0].CheckpointToken, calls[1].CheckpointToken)
	}
	if calls[0].ClientToken == "" || calls[0].ClientToken == calls[1].ClientToken {
		t.Errorf("ClientTokens %q, %q: want distinct, non-empty (SDK auto-fill)", calls[0].ClientToken, calls[1].ClientToken)
	}
	u := calls[0].Updates[1]
	if u["Name"] != "a" || u["SubType"] != "Step" || u["Payload"] != "1" {
		t.Errorf("SUCCEED update = %v", u)
	}
	if _, ok := calls[1].Updates[0]["Name"]; ok {
		t.Errorf("unnamed step sent a Name: %v", calls[1].Updates[0])
	}
	if _, ok := calls[0].Updates[0]["ParentId"]; ok {
		t.Errorf("top-level step sent a ParentId: %v", calls[0].Updates[0])
	}
}

func TestReplayReturnsStoredResultsWithoutRunningBodies(t *testing.T) {
	f, url := newFake(t)
	ran := 0
	env := envelopeJSON(t, `{}`, "",
		map[string]any{"Id": "1", "Type": "STEP", "SubType": "Step", "Name": "a", "Status": "SUCCEEDED", "StartTimestamp": 1767323045123, "EndTimestamp": 1767323045200,
			"StepDetails": map[string]any{"Attempt": 1, "Result": `"stored"`}},
		map[string]any{"Id": "2", "Type": "WAIT", "SubType": "Wait", "Status": "SUCCEEDED", "StartTimestamp": 1767323045123,
			"WaitDetails": map[string]any{"ScheduledEndTimestamp": 1767323046123}},
	)
	out, err := run(t, url, env, func(c *durable.Context, _ json.RawMessage) (any, error) {
		a, err := c.Step("a", func() (any, error) { ran++; return "fresh", nil })
		if err != nil {
			return nil, err
		}
		if err := c.Wait("", 1); err != nil {
			return nil, err
		}
		b, err := c.Step("b", func() (any, error) { ran++; return "new", nil })
		if err != nil {
			return nil, err
		}
		return string(a) + string(b), nil
	})
	mustSucceed(t, out, err, `"\"stored\"\"new\""`)
	if ran != 1 {
		t.Errorf("step bodies ran %d times, want 1 (only the new step)", ran)
	}
	calls := f.snapshot()
	if len(calls) != 1 || !eq(updatesOf(calls[0]), []string{"START STEP 3", "SUCCEED STEP 3"}) {
		t.Errorf("checkpoints = %v, want one START+SUCCEED of step 3", calls)
	}
}

func TestWaitSuspends(t *testing.T) {
	f, url := newFake(t)
	out, err := run(t, url, envelopeJSON(t, `{}`, ""), func(c *durable.Context, _ json.RawMessage) (any, error) {
		if err := c.Wait("nap", 7); err != nil {
			return nil, err
		}
		t.Error("Wait returned on a fresh wait")
		return nil, nil
	})
	if err != nil || out.Status != durable.StatusPending || out.Result != nil || out.Error != nil {
		t.Fatalf("output = %+v, %v; want bare PENDING", out, err)
	}
	calls := f.snapshot()
	if len(calls) != 1 || !eq(updatesOf(calls[0]), []string{"START WAIT 1"}) {
		t.Fatalf("checkpoints = %v", calls)
	}
	wo, _ := calls[0].Updates[0]["WaitOptions"].(map[string]any)
	if wo["WaitSeconds"] != float64(7) || calls[0].Updates[0]["Name"] != "nap" || calls[0].Updates[0]["SubType"] != "Wait" {
		t.Errorf("WAIT update = %v", calls[0].Updates[0])
	}
}

func TestStepRetryThenFail(t *testing.T) {
	boom := errors.New("boom")
	body := func(c *durable.Context, _ json.RawMessage) (any, error) {
		_, err := c.Step("s", func() (any, error) { return nil, boom }, durable.WithRetries(2, 5))
		return nil, err
	}
	t.Run("first attempt retries", func(t *testing.T) {
		f, url := newFake(t)
		out, err := run(t, url, envelopeJSON(t, `{}`, ""), body)
		if err != nil || out.Status != durable.StatusPending {
			t.Fatalf("output = %+v, %v; want PENDING", out, err)
		}
		calls := f.snapshot()
		if len(calls) != 1 || !eq(updatesOf(calls[0]), []string{"START STEP 1", "RETRY STEP 1"}) {
			t.Fatalf("checkpoints = %v", calls)
		}
		u := calls[0].Updates[1]
		so, _ := u["StepOptions"].(map[string]any)
		e, _ := u["Error"].(map[string]any)
		if so["NextAttemptDelaySeconds"] != float64(5) || e["ErrorMessage"] != "boom" || e["ErrorType"] != "Error" {
			t.Errorf("RETRY update = %v", u)
		}
	})
	t.Run("last attempt fails", func(t *testing.T) {
		f, url := newFake(t)
		env := envelopeJSON(t, `{}`, "", map[string]any{"Id": "1", "Type": "STEP", "SubType": "Step", "Name": "s", "Status": "READY",
			"StartTimestamp": 1767323045123, "StepDetails": map[string]any{"Attempt": 1}})
		out, err := run(t, url, env, body)
		if err != nil || out.Status != durable.StatusFailed || out.Error == nil || out.Error.ErrorMessage != "boom" {
			t.Fatalf("output = %+v, %v; want FAILED with boom", out, err)
		}
		calls := f.snapshot()
		if len(calls) != 1 || !eq(updatesOf(calls[0]), []string{"START STEP 1", "FAIL STEP 1"}) {
			t.Fatalf("checkpoints = %v", calls)
		}
	})
	t.Run("pending retry suspends without running", func(t *testing.T) {
		f, url := newFake(t)
		env := envelopeJSON(t, `{}`, "", map[string]any{"Id": "1", "Type": "STEP", "SubType": "Step", "Name": "s", "Status": "PENDING",
			"StartTimestamp": 1767323045123, "StepDetails": map[string]any{"Attempt": 1, "NextAttemptTimestamp": 1767323999000}})
		out, err := run(t, url, env, func(c *durable.Context, _ json.RawMessage) (any, error) {
			_, err := c.Step("s", func() (any, error) { t.Error("body ran for a PENDING step"); return nil, nil })
			return nil, err
		})
		if err != nil || out.Status != durable.StatusPending || len(f.snapshot()) != 0 {
			t.Fatalf("output = %+v, %v, %d checkpoints; want PENDING and none", out, err, len(f.snapshot()))
		}
	})
}

func TestAtMostOnce(t *testing.T) {
	t.Run("start is awaited alone", func(t *testing.T) {
		f, url := newFake(t)
		var callsBeforeBody int
		out, err := run(t, url, envelopeJSON(t, `{}`, ""), func(c *durable.Context, _ json.RawMessage) (any, error) {
			return c.Step("once", func() (any, error) { callsBeforeBody = len(f.snapshot()); return "ok", nil }, durable.AtMostOnce())
		})
		mustSucceed(t, out, err, `"ok"`)
		calls := f.snapshot()
		if callsBeforeBody != 1 || len(calls) != 2 || !eq(updatesOf(calls[0]), []string{"START STEP 1"}) || !eq(updatesOf(calls[1]), []string{"SUCCEED STEP 1"}) {
			t.Fatalf("before body %d checkpoints; checkpoints = %v", callsBeforeBody, calls)
		}
	})
	t.Run("interrupted step is retried without running", func(t *testing.T) {
		f, url := newFake(t)
		env := envelopeJSON(t, `{}`, "", map[string]any{"Id": "1", "Type": "STEP", "SubType": "Step", "Name": "once", "Status": "STARTED",
			"StartTimestamp": 1767323045123, "StepDetails": map[string]any{"Attempt": 0}})
		out, err := run(t, url, env, func(c *durable.Context, _ json.RawMessage) (any, error) {
			return c.Step("once", func() (any, error) { t.Error("body ran"); return nil, nil }, durable.AtMostOnce())
		})
		if err != nil || out.Status != durable.StatusPending {
			t.Fatalf("output = %+v, %v; want PENDING", out, err)
		}
		calls := f.snapshot()
		if len(calls) != 1 || !eq(updatesOf(calls[0]), []string{"RETRY STEP 1"}) {
			t.Fatalf("checkpoints = %v", calls)
		}
		if e, _ := calls[0].Updates[0]["Error"].(map[string]any); e["ErrorType"] != "StepInterruptedError" {
			t.Errorf("RETRY error = %v", e)
		}
	})
}

func TestCallback(t *testing.T) {
	t.Run("start reads the callback id and suspends", func(t *testing.T) {
		f, url := newFake(t)
		var id string
		out, err := run(t, url, envelopeJSON(t, `{}`, ""), func(c *durable.Context, _ json.RawMessage) (any, error) {
			cb, wait := c.Callback("approve", 30, 10)
			id = cb
			return wait()
		})
		if err != nil || out.Status != durable.StatusPending || id != "cb1" {
			t.Fatalf("output = %+v, %v, id %q; want PENDING and id cb1", out, err, id)
		}
		u := f.snapshot()[0].Updates[0]
		co, _ := u["CallbackOptions"].(map[string]any)
		if u["Action"] != "START" || u["Type"] != "CALLBACK" || co["TimeoutSeconds"] != float64(30) || co["HeartbeatTimeoutSeconds"] != float64(10) {
			t.Errorf("CALLBACK update = %v", u)
		}
	})
	t.Run("replay returns raw result bytes", func(t *testing.T) {
		_, url := newFake(t)
		env := envelopeJSON(t, `{}`, "", map[string]any{"Id": "1", "Type": "CALLBACK", "SubType": "Callback", "Status": "SUCCEEDED",
			"StartTimestamp": 1767323045123, "CallbackDetails": map[string]any{"CallbackId": "abc=", "Result": `"abc"`}})
		out, err := run(t, url, env, func(c *durable.Context, _ json.RawMessage) (any, error) {
			id, wait := c.Callback("", 0, 0)
			r, err := wait()
			return id + "|" + string(r), err
		})
		mustSucceed(t, out, err, `"abc=|\"abc\""`)
	})
	t.Run("timed out callback returns its error", func(t *testing.T) {
		_, url := newFake(t)
		env := envelopeJSON(t, `{}`, "", map[string]any{"Id": "1", "Type": "CALLBACK", "SubType": "Callback", "Status": "TIMED_OUT",
			"StartTimestamp": 1767323045123, "CallbackDetails": map[string]any{"CallbackId": "abc=",
				"Error": map[string]any{"ErrorType": "Callback.Timeout", "ErrorMessage": "Callback timed out"}}})
		var got error
		out, err := run(t, url, env, func(c *durable.Context, _ json.RawMessage) (any, error) {
			_, wait := c.Callback("", 0, 0)
			_, got = wait()
			return "handled", nil
		})
		mustSucceed(t, out, err, `"handled"`)
		var de *durable.Error
		if !errors.As(got, &de) || de.Type != "Callback.Timeout" || de.Status != "TIMED_OUT" {
			t.Errorf("wait error = %#v", got)
		}
	})
}

func TestChildContextBatchesStartWithChildren(t *testing.T) {
	f, url := newFake(t)
	out, err := run(t, url, envelopeJSON(t, `{}`, ""), func(c *durable.Context, _ json.RawMessage) (any, error) {
		return c.RunInChildContext("child", func(cc *durable.Context) (any, error) {
			return cc.Step("inner", func() (any, error) { return 42, nil })
		})
	})
	mustSucceed(t, out, err, `42`)
	calls := f.snapshot()
	want := [][]string{
		{"START CONTEXT 1", "START STEP 1-1 parent=1", "SUCCEED STEP 1-1 parent=1"},
		{"SUCCEED CONTEXT 1"},
	}
	if len(calls) != 2 || !eq(updatesOf(calls[0]), want[0]) || !eq(updatesOf(calls[1]), want[1]) {
		t.Fatalf("checkpoints = %v / want %v", calls, want)
	}
	if calls[1].Updates[0]["Payload"] != "42" || calls[0].Updates[0]["SubType"] != "RunInChildContext" {
		t.Errorf("context updates = %v / %v", calls[0].Updates[0], calls[1].Updates[0])
	}
}

func TestInvokeStartsAndSuspends(t *testing.T) {
	f, url := newFake(t)
	out, err := run(t, url, envelopeJSON(t, `{}`, ""), func(c *durable.Context, _ json.RawMessage) (any, error) {
		return c.Invoke("call", "target:$LATEST", map[string]int{"a": 1})
	})
	if err != nil || out.Status != durable.StatusPending {
		t.Fatalf("output = %+v, %v; want PENDING", out, err)
	}
	u := f.snapshot()[0].Updates[0]
	o, _ := u["ChainedInvokeOptions"].(map[string]any)
	if u["Type"] != "CHAINED_INVOKE" || u["Payload"] != `{"a":1}` || o["FunctionName"] != "target:$LATEST" || u["SubType"] != "ChainedInvoke" {
		t.Errorf("CHAINED_INVOKE update = %v", u)
	}
}

func TestEnvelopePaging(t *testing.T) {
	f, url := newFake(t)
	f.statePages["m1"] = statePage{NextMarker: "m2", Operations: []map[string]any{{"Id": "1", "Type": "STEP", "SubType": "Step", "Status": "SUCCEEDED",
		"StartTimestamp": 1767323045.1, "StepDetails": map[string]any{"Attempt": 1, "Result": `"p1"`}}}}
	f.statePages["m2"] = statePage{Operations: []map[string]any{{"Id": "2", "Type": "STEP", "SubType": "Step", "Status": "SUCCEEDED",
		"StartTimestamp": 1767323045.2, "StepDetails": map[string]any{"Attempt": 1, "Result": `"p2"`}}}}
	out, err := run(t, url, envelopeJSON(t, `{}`, "m1"), func(c *durable.Context, _ json.RawMessage) (any, error) {
		a, _ := c.Step("", func() (any, error) { t.Error("step 1 ran"); return nil, nil })
		b, _ := c.Step("", func() (any, error) { t.Error("step 2 ran"); return nil, nil })
		return string(a) + string(b), nil
	})
	mustSucceed(t, out, err, `"\"p1\"\"p2\""`)
	if len(f.stateCalls) != 2 || f.stateCalls[0] != [2]string{"tok0", "m1"} || f.stateCalls[1] != [2]string{"tok0", "m2"} {
		t.Errorf("state calls = %v, want envelope token with m1 then m2", f.stateCalls)
	}
}

func TestCheckpointErrorClassification(t *testing.T) {
	body := func(c *durable.Context, _ json.RawMessage) (any, error) {
		return c.Step("", func() (any, error) { return 1, nil })
	}
	t.Run("stale token is an invocation error", func(t *testing.T) {
		f, url := newFake(t)
		f.failWith = &fakeError{400, "InvalidParameterValueException", "Invalid Checkpoint Token: stale"}
		out, err := run(t, url, envelopeJSON(t, `{}`, ""), body)
		var ie *durable.InvocationError
		if !errors.As(err, &ie) || ie.Type != "CheckpointUnrecoverableInvocationError" {
			t.Fatalf("Run = %+v, %v; want an invocation error", out, err)
		}
	})
	t.Run("other 4xx fails the execution", func(t *testing.T) {
		f, url := newFake(t)
		f.failWith = &fakeError{400, "InvalidParameterValueException", "Cannot SUCCEED a WAIT"}
		out, err := run(t, url, envelopeJSON(t, `{}`, ""), body)
		if err != nil || out.Status != durable.StatusFailed || out.Error.ErrorType != "CheckpointUnrecoverableExecutionError" {
			t.Fatalf("Run = %+v, %v; want FAILED with CheckpointUnrecoverableExecutionError", out, err)
		}
	})
	t.Run("handler reports invocation errors as function errors", func(t *testing.T) {
		f, url := newFake(t)
		f.failWith = &fakeError{400, "InvalidParameterValueException", "Invalid Checkpoint Token: stale"}
		h := durable.Handler(durable.NewClient(url), body)
		resp, err := h(context.Background(), engine.Invocation{Payload: envelopeJSON(t, `{}`, "")})
		if err != nil || resp.FunctionError != "Unhandled" || !strings.Contains(string(resp.Payload), `"errorType":"CheckpointUnrecoverableInvocationError"`) {
			t.Fatalf("handler = %+v (%s), %v", resp, resp.Payload, err)
		}
	})
}

func TestNonDeterminismFailsExecution(t *testing.T) {
	_, url := newFake(t)
	env := envelopeJSON(t, `{}`, "", map[string]any{"Id": "1", "Type": "WAIT", "SubType": "Wait", "Status": "SUCCEEDED", "StartTimestamp": 1767323045123})
	out, err := run(t, url, env, func(c *durable.Context, _ json.RawMessage) (any, error) {
		return c.Step("", func() (any, error) { return 1, nil })
	})
	if err != nil || out.Status != durable.StatusFailed || out.Error.ErrorType != "NonDeterministicExecutionError" {
		t.Fatalf("Run = %+v, %v; want FAILED NonDeterministicExecutionError", out, err)
	}
}

func TestBadEnvelopeAndHandlerOutputs(t *testing.T) {
	_, url := newFake(t)
	if _, err := run(t, url, []byte(`{"CheckpointToken":"x"}`), func(*durable.Context, json.RawMessage) (any, error) { return nil, nil }); err == nil {
		t.Error("Run accepted an envelope without DurableExecutionArn")
	}
	out, err := run(t, url, envelopeJSON(t, `{}`, ""), func(*durable.Context, json.RawMessage) (any, error) {
		return nil, &durable.Error{Type: "OrderError", Message: "no stock", Data: "d"}
	})
	if err != nil || out.Status != durable.StatusFailed || out.Error.ErrorType != "OrderError" || out.Error.ErrorMessage != "no stock" || out.Error.ErrorData != "d" {
		t.Errorf("failed handler output = %+v, %v", out, err)
	}
	out, err = run(t, url, envelopeJSON(t, `{}`, ""), func(*durable.Context, json.RawMessage) (any, error) { return nil, nil })
	if err != nil || out.Status != durable.StatusSucceeded || out.Result != nil {
		t.Errorf("nil result output = %+v, %v; want SUCCEEDED without Result", out, err)
	}
	b, _ := json.Marshal(durable.Output{Status: durable.StatusPending})
	if string(b) != `{"Status":"PENDING"}` {
		t.Errorf("PENDING output encodes as %s", b)
	}
}

func TestStartedStepIsRerunAtLeastOnce(t *testing.T) {
	f, url := newFake(t)
	env := envelopeJSON(t, `{}`, "", map[string]any{"Id": "1", "Type": "STEP", "SubType": "Step", "Status": "STARTED",
		"StartTimestamp": 1767323045123, "StepDetails": map[string]any{"Attempt": 0}})
	ran := 0
	out, err := run(t, url, env, func(c *durable.Context, _ json.RawMessage) (any, error) {
		return c.Step("", func() (any, error) { ran++; return "again", nil })
	})
	mustSucceed(t, out, err, `"again"`)
	calls := f.snapshot()
	if ran != 1 || len(calls) != 1 || !eq(updatesOf(calls[0]), []string{"SUCCEED STEP 1"}) {
		t.Fatalf("body ran %d times; checkpoints = %v; want one SUCCEED without a second START", ran, calls)
	}
}

func TestReadyAtMostOnceStepStartsAlone(t *testing.T) {
	f, url := newFake(t)
	env := envelopeJSON(t, `{}`, "", map[string]any{"Id": "1", "Type": "STEP", "SubType": "Step", "Status": "READY",
		"StartTimestamp": 1767323045123, "StepDetails": map[string]any{"Attempt": 1}})
	out, err := run(t, url, env, func(c *durable.Context, _ json.RawMessage) (any, error) {
		return c.Step("", func() (any, error) { return 2, nil }, durable.AtMostOnce())
	})
	mustSucceed(t, out, err, `2`)
	calls := f.snapshot()
	if len(calls) != 2 || !eq(updatesOf(calls[0]), []string{"START STEP 1"}) || !eq(updatesOf(calls[1]), []string{"SUCCEED STEP 1"}) {
		t.Fatalf("checkpoints = %v", calls)
	}
}

func TestChildContextIDsAndReplay(t *testing.T) {
	_, url := newFake(t)
	env := envelopeJSON(t, `{}`, "",
		map[string]any{"Id": "1", "Type": "CONTEXT", "SubType": "RunInChildContext", "Status": "SUCCEEDED", "StartTimestamp": 1767323045123,
			"ContextDetails": map[string]any{"Result": `"stored"`}},
	)
	out, err := run(t, url, env, func(c *durable.Context, _ json.RawMessage) (any, error) {
		return c.RunInChildContext("", func(*durable.Context) (any, error) { t.Error("closed context re-ran"); return nil, nil })
	})
	mustSucceed(t, out, err, `"stored"`)
}

func TestHTTPHandler(t *testing.T) {
	_, url := newFake(t)
	h := durable.HTTPHandler(durable.NewClient(url), func(c *durable.Context, in json.RawMessage) (any, error) {
		return c.Step("", func() (any, error) { return string(in), nil })
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Post(srv.URL, "application/json", strings.NewReader(string(envelopeJSON(t, `{"x":1}`, ""))))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out durable.Output
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Status != "SUCCEEDED" || deref(out.Result) != `"{\"x\":1}"` {
		t.Fatalf("output = %+v (%v), status %d", out, err, resp.StatusCode)
	}
	bad, err := http.Post(srv.URL, "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	bad.Body.Close()
	if bad.StatusCode != http.StatusOK || bad.Header.Get("X-Amz-Function-Error") != "Unhandled" {
		t.Errorf("bad envelope answered %d with function error %q", bad.StatusCode, bad.Header.Get("X-Amz-Function-Error"))
	}
}
