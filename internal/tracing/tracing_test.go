package tracing_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/duro-run/duro/internal/engine"
	"github.com/duro-run/duro/internal/tracing"
)

func TestTracesURL(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"http://localhost:4318", "http://localhost:4318/v1/traces"},
		{"http://localhost:4318/", "http://localhost:4318/v1/traces"},
		{"https://collector.example:4318/otlp", "https://collector.example:4318/otlp/v1/traces"},
		{"http://localhost:4318/v1/traces", "http://localhost:4318/v1/traces"},
		{"localhost:4318", "http://localhost:4318/v1/traces"},
	} {
		got, err := tracing.TracesURL(c.in)
		if err != nil || got != c.want {
			t.Errorf("TracesURL(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for _, in := range []string{"", "grpc://localhost:4317", "http://", "http://[::1"} {
		if got, err := tracing.TracesURL(in); err == nil {
			t.Errorf("TracesURL(%q) = %q, want an error", in, got)
		}
	}
}

// spanByName returns the spans with a name.
func spansNamed(spans []*tracepb.Span, name string) []*tracepb.Span {
	var out []*tracepb.Span
	for _, s := range spans {
		if s.GetName() == name {
			out = append(out, s)
		}
	}
	return out
}

// TestTracerSpans reports one execution with an invocation and two
// checkpoints to a Tracer and checks the spans an OTLP receiver gets.
func TestTracerSpans(t *testing.T) {
	rcv := newReceiver(t)
	tr, err := tracing.New(context.Background(), tracing.Config{Endpoint: rcv.srv.URL})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	const (
		execID = "0f8fad5b-d9cb-469f-a165-70867728950e"
		arn    = "arn:aws:lambda:us-east-1:123456789012:function:fn:$LATEST/durable-execution/run/" + execID
		reqID  = "req-1"
	)
	t0 := time.Unix(1_750_000_000, 0)
	tr.ExecutionStarted(engine.ExecutionInfo{ExecutionID: execID, ExecutionArn: arn, Function: "fn", Status: "RUNNING", Start: t0})
	tr.Checkpointed(engine.CheckpointInfo{ExecutionID: execID, ExecutionArn: arn, Function: "fn", RequestID: reqID, Start: t0.Add(10 * time.Millisecond), End: t0.Add(12 * time.Millisecond), Updates: 2})
	tr.Checkpointed(engine.CheckpointInfo{ExecutionID: execID, ExecutionArn: arn, Function: "fn", RequestID: reqID, Start: t0.Add(20 * time.Millisecond), End: t0.Add(21 * time.Millisecond), Updates: 1, Err: errors.New("stale token")})
	tr.InvocationFinished(engine.InvocationInfo{ExecutionID: execID, ExecutionArn: arn, Function: "fn", RequestID: reqID, Start: t0.Add(5 * time.Millisecond), End: t0.Add(30 * time.Millisecond), Outcome: engine.OutcomeError, ErrorType: "Runtime.Unknown"})
	tr.ExecutionFinished(engine.ExecutionInfo{ExecutionID: execID, ExecutionArn: arn, Function: "fn", Status: "FAILED", Start: t0, End: t0.Add(time.Second)})
	tr.TimerFired(engine.TimerKindWait, time.Millisecond)
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}

	spans, services, bad := rcv.received()
	if len(bad) > 0 {
		t.Fatalf("bad requests: %v", bad)
	}
	if len(spans) != 4 {
		t.Fatalf("got %d spans, want 4 (execution, invocation, 2 checkpoints)", len(spans))
	}
	if len(services) == 0 || services[0] != "duro" {
		t.Errorf("service.name = %v, want duro", services)
	}
	wantTrace := strings.ReplaceAll(execID, "-", "")
	for _, s := range spans {
		if got := hexID(s.GetTraceId()); got != wantTrace {
			t.Errorf("span %s: trace id %s, want the execution id %s", s.GetName(), got, wantTrace)
		}
		if attr(s.GetAttributes(), "duro.execution.arn") != arn || attr(s.GetAttributes(), "duro.function") != "fn" {
			t.Errorf("span %s: attributes %v lack the ARN or the function", s.GetName(), s.GetAttributes())
		}
	}
	exec := spansNamed(spans, "duro.execution")
	inv := spansNamed(spans, "duro.invocation")
	cps := spansNamed(spans, "duro.checkpoint")
	if len(exec) != 1 || len(inv) != 1 || len(cps) != 2 {
		t.Fatalf("got %d execution, %d invocation, %d checkpoint spans; want 1, 1, 2", len(exec), len(inv), len(cps))
	}
	if len(exec[0].GetParentSpanId()) != 0 {
		t.Errorf("the execution span has a parent")
	}
	if exec[0].GetStatus().GetCode() != tracepb.Status_STATUS_CODE_ERROR || attr(exec[0].GetAttributes(), "duro.execution.status") != "FAILED" {
		t.Errorf("execution span status %v, attributes %v; want an error, FAILED", exec[0].GetStatus(), exec[0].GetAttributes())
	}
	if got, want := exec[0].GetEndTimeUnixNano()-exec[0].GetStartTimeUnixNano(), uint64(time.Second); got != want {
		t.Errorf("execution span lasts %v, want %v", time.Duration(got), time.Duration(want))
	}
	if hexID(inv[0].GetParentSpanId()) != hexID(exec[0].GetSpanId()) {
		t.Errorf("invocation span's parent %x is not the execution span %x", inv[0].GetParentSpanId(), exec[0].GetSpanId())
	}
	if attr(inv[0].GetAttributes(), "duro.request_id") != reqID || attr(inv[0].GetAttributes(), "duro.invocation.outcome") != "error" ||
		attr(inv[0].GetAttributes(), "error.type") != "Runtime.Unknown" || inv[0].GetStatus().GetCode() != tracepb.Status_STATUS_CODE_ERROR {
		t.Errorf("invocation span: attributes %v, status %v", inv[0].GetAttributes(), inv[0].GetStatus())
	}
	if inv[0].GetKind() != tracepb.Span_SPAN_KIND_CLIENT {
		t.Errorf("invocation span kind %v, want client", inv[0].GetKind())
	}
	updates := map[string]bool{}
	for _, c := range cps {
		if hexID(c.GetParentSpanId()) != hexID(inv[0].GetSpanId()) {
			t.Errorf("checkpoint span's parent %x is not the invocation span %x", c.GetParentSpanId(), inv[0].GetSpanId())
		}
		if attr(c.GetAttributes(), "duro.request_id") != reqID {
			t.Errorf("checkpoint span without the request id: %v", c.GetAttributes())
		}
		u := attr(c.GetAttributes(), "duro.checkpoint.updates")
		updates[u] = true
		if failed := c.GetStatus().GetCode() == tracepb.Status_STATUS_CODE_ERROR; failed != (u == "1") {
			t.Errorf("checkpoint span with %s updates: status %v", u, c.GetStatus())
		}
	}
	if !updates["1"] || !updates["2"] {
		t.Errorf("checkpoint updates attributes %v, want 1 and 2", updates)
	}
}

// TestTraceIDOf checks that a UUID execution id is the trace id and that
// other ids hash to a valid one.
func TestTraceIDOf(t *testing.T) {
	if got := tracing.TraceIDOf("0f8fad5b-d9cb-469f-a165-70867728950e").String(); got != "0f8fad5bd9cb469fa16570867728950e" {
		t.Errorf("TraceIDOf(uuid) = %s", got)
	}
	a, b := tracing.TraceIDOf("child-1"), tracing.TraceIDOf("child-2")
	if !a.IsValid() || a == b || a != tracing.TraceIDOf("child-1") {
		t.Errorf("TraceIDOf of non-UUID ids: %s, %s", a, b)
	}
	if !tracing.TraceIDOf("00000000-0000-0000-0000-000000000000").IsValid() {
		t.Errorf("the zero UUID gives an invalid trace id")
	}
}
