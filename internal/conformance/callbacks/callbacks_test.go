package callbacks

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/duro-run/duro/internal/conformance/placeholder"
	"github.com/duro-run/duro/internal/conformance/pyfmt"
	"github.com/duro-run/duro/internal/conformance/spec"
)

func yamlList(t *testing.T, src string) []any {
	t.Helper()
	v, err := spec.DecodeYAML([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return v.([]any)
}

func started(id, name string) *pyfmt.Map {
	ev := pyfmt.MapOf("EventType", "CallbackStarted", "CallbackStartedDetails", pyfmt.MapOf("CallbackId", id))
	if name != "" {
		ev.Set("Name", name)
	}
	return ev
}

func TestSelect(t *testing.T) {
	ctx := placeholder.NewSeeded(1)
	ctx.Bind("CB_A", "alpha")
	ctx.Bind("CB_B", "beta")
	actions, err := ParseActions(yamlList(t, `
- {CallbackName: '${CB_B}', Operation: success}
- {CallbackName: '${CB_A}', Operation: success}
- {CallbackName: '${/^gam/}', Operation: success}
- {CallbackName: '*', Operation: success}
`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		used []bool
		want int
	}{
		{"alpha", nil, 1},
		{"beta", nil, 0},
		{"beta", []bool{true}, 3}, // B used: falls through to '*'
		{"gamma", nil, 2},
		{"gamma", []bool{false, false, true}, 3},
		{"", nil, 3}, // anonymous callback: only '*'
		{"delta", []bool{true, true, true, true}, -1},
	}
	for _, tc := range tests {
		if got := Select(started("id", tc.name), actions, tc.used, ctx); got != tc.want {
			t.Errorf("Select(%q, used %v) = %d, want %d", tc.name, tc.used, got, tc.want)
		}
	}
}

func TestParseActions(t *testing.T) {
	a, err := ParseActions(yamlList(t, "- {CallbackName: x, Operation: SUCCESS, Delay: 1.5, Payload: {status: approved}}"))
	if err != nil {
		t.Fatal(err)
	}
	if a[0].Operation != OpSuccess || a[0].Delay != 1500*time.Millisecond || pyfmt.Repr(a[0].Payload) != "{'status': 'approved'}" {
		t.Errorf("parsed %+v", a[0])
	}
	for _, bad := range []string{
		"- {Operation: success}",
		"- {CallbackName: '', Operation: success}",
		"- {CallbackName: x}",
		"- {CallbackName: x, Operation: cancel}",
		"- {CallbackName: x, Operation: success, Delay: soon}",
		"- just-a-string",
	} {
		if _, err := ParseActions(yamlList(t, bad)); err == nil || !strings.HasPrefix(err.Error(), "Invalid CallbackAction") {
			t.Errorf("ParseActions(%s) error = %v", bad, err)
		}
	}
}

// recorder is a Sender that logs calls.
type recorder struct {
	calls []string
	fail  bool
}

func (r *recorder) Success(_ context.Context, id string, result []byte) error {
	if result == nil {
		r.calls = append(r.calls, "success "+id+" <no result>")
	} else {
		r.calls = append(r.calls, "success "+id+" "+string(result))
	}
	if r.fail {
		return fmt.Errorf("boom")
	}
	return nil
}

func (r *recorder) Failure(_ context.Context, id string, e *ErrorObject) error {
	s := "failure " + id
	if e == nil {
		s += " <no error>"
	} else {
		if e.ErrorType != nil {
			s += " type=" + *e.ErrorType
		}
		if e.ErrorMessage != nil {
			s += " message=" + *e.ErrorMessage
		}
		if e.ErrorData != nil {
			s += " data=" + *e.ErrorData
		}
		if e.StackTrace != nil {
			s += " stack=" + strings.Join(e.StackTrace, "|")
		}
	}
	r.calls = append(r.calls, s)
	return nil
}

func (r *recorder) Heartbeat(_ context.Context, id string) error {
	r.calls = append(r.calls, "heartbeat "+id)
	return nil
}

func newDispatcher(t *testing.T, actionsYAML string, ctx *placeholder.Context, rec *recorder) (*Dispatcher, *[]time.Duration) {
	t.Helper()
	var actions []Action
	if actionsYAML != "" {
		var err error
		actions, err = ParseActions(yamlList(t, actionsYAML))
		if err != nil {
			t.Fatal(err)
		}
	}
	d := NewDispatcher(actions, ctx, rec)
	var slept []time.Duration
	d.Sleep = func(_ context.Context, dur time.Duration) error {
		slept = append(slept, dur)
		return nil
	}
	return d, &slept
}

func TestHeartbeatThenSuccess(t *testing.T) {
	ctx := placeholder.NewSeeded(1)
	ctx.Bind("CB_NAME", "cb")
	ctx.Bind("CB_PAYLOAD", "pay")
	rec := &recorder{}
	d, slept := newDispatcher(t, `
- {CallbackName: '${CB_NAME}', Operation: heartbeat}
- {CallbackName: '${CB_NAME}', Operation: success, Payload: '${CB_PAYLOAD}', Delay: 1}
`, ctx, rec)
	events := []any{pyfmt.MapOf("EventType", "ExecutionStarted"), started("id-1", "cb")}
	for poll := 0; poll < 3; poll++ {
		if errs := d.Poll(context.Background(), events); len(errs) != 0 {
			t.Fatalf("poll %d: %v", poll, errs)
		}
	}
	want := []string{"heartbeat id-1", `success id-1 "pay"`}
	if strings.Join(rec.calls, "\n") != strings.Join(want, "\n") {
		t.Errorf("calls %q, want %q", rec.calls, want)
	}
	if len(*slept) != 2 || (*slept)[1] != time.Second {
		t.Errorf("delays %v", *slept)
	}
	if d.Sent != 2 {
		t.Errorf("Sent = %d", d.Sent)
	}
}

func TestPayloadSerialisation(t *testing.T) {
	ctx := placeholder.NewSeeded(1)
	rec := &recorder{}
	d, _ := newDispatcher(t, `
- {CallbackName: a, Operation: success, Payload: {status: approved, n: 1, f: 1.0, ok: true, u: "é"}}
- {CallbackName: b, Operation: success}
- {CallbackName: c, Operation: success, Payload: 42}
- {CallbackName: d, Operation: failure, Payload: {ErrorType: RejectedError, ErrorMessage: not approved, Other: x}}
- {CallbackName: e, Operation: failure}
- {CallbackName: f, Operation: failure, Payload: {Other: x}}
- {CallbackName: g, Operation: failure, Payload: {ErrorData: '{"k": 1}', StackTrace: [l1, l2]}}
`, ctx, rec)
	var events []any
	for i, n := range []string{"a", "b", "c", "d", "e", "f", "g"} {
		events = append(events, started(fmt.Sprintf("id-%d", i), n))
	}
	if errs := d.Poll(context.Background(), events); len(errs) != 0 {
		t.Fatal(errs)
	}
	want := []string{
		`success id-0 {"status": "approved", "n": 1, "f": 1.0, "ok": true, "u": "\u00e9"}`,
		`success id-1 <no result>`,
		`success id-2 42`,
		`failure id-3 type=RejectedError message=not approved`,
		`failure id-4 <no error>`,
		`failure id-5 <no error>`,
		`failure id-6 data={"k": 1} stack=l1|l2`,
	}
	if strings.Join(rec.calls, "\n") != strings.Join(want, "\n") {
		t.Errorf("calls\n %s\nwant\n %s", strings.Join(rec.calls, "\n "), strings.Join(want, "\n "))
	}
}

func TestNoActionsAndNoMatch(t *testing.T) {
	ctx := placeholder.NewSeeded(1)
	// No actions at all: a timeout test, callbacks stay open, no error.
	rec := &recorder{}
	d, _ := newDispatcher(t, "", ctx, rec)
	if errs := d.Poll(context.Background(), []any{started("id-1", "x")}); len(errs) != 0 || len(rec.calls) != 0 {
		t.Errorf("no actions: errs %v calls %v", errs, rec.calls)
	}
	// Actions, none matching: an error, once per callback.
	d, _ = newDispatcher(t, "- {CallbackName: other, Operation: success}", ctx, rec)
	events := []any{started("id-1", "x"), started("id-2", "")}
	errs := d.Poll(context.Background(), events)
	want := []string{"No matching CallbackAction for callback 'x' (id=id-1)", "No matching CallbackAction for callback '<anonymous>' (id=id-2)"}
	if strings.Join(errs, "|") != strings.Join(want, "|") {
		t.Errorf("errs %q, want %q", errs, want)
	}
	if errs := d.Poll(context.Background(), events); len(errs) != 0 {
		t.Errorf("second poll repeated errors: %v", errs)
	}
	// Events without a CallbackId are skipped.
	ev := pyfmt.MapOf("EventType", "CallbackStarted", "CallbackStartedDetails", pyfmt.NewMap())
	if errs := d.Poll(context.Background(), []any{ev}); len(errs) != 0 {
		t.Errorf("no CallbackId: %v", errs)
	}
}

func TestFirstUnusedActionAndSendError(t *testing.T) {
	ctx := placeholder.NewSeeded(1)
	rec := &recorder{fail: true}
	d, _ := newDispatcher(t, `
- {CallbackName: '*', Operation: success, Payload: first}
- {CallbackName: '*', Operation: success, Payload: second}
`, ctx, rec)
	errs := d.Poll(context.Background(), []any{started("a", "n1"), started("b", "n2"), started("c", "n3")})
	want := []string{
		"Callback success failed for callback_id=a: boom",
		"Callback success failed for callback_id=b: boom",
		"No matching CallbackAction for callback 'n3' (id=c)",
	}
	if strings.Join(errs, "|") != strings.Join(want, "|") {
		t.Errorf("errs %q, want %q", errs, want)
	}
	if rec.calls[0] != `success a "first"` || rec.calls[1] != `success b "second"` {
		t.Errorf("calls %q", rec.calls)
	}
}

func TestFailureErrorRejectsNonDict(t *testing.T) {
	if _, err := FailureError("oops"); err == nil || !strings.Contains(err.Error(), "got str: 'oops'") {
		t.Errorf("err = %v", err)
	}
	if _, err := FailureError(pyfmt.MapOf("ErrorType", int64(1))); err == nil {
		t.Error("non-string ErrorType accepted")
	}
}
