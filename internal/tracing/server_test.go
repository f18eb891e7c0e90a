package tracing_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/duro-run/duro/internal/durable"
	"github.com/duro-run/duro/internal/engine"
	"github.com/duro-run/duro/internal/server"
)

// TestServerExportsTraces runs an execution with a step and a wait (two
// invocations) on a server exporting to an in-process OTLP receiver, and
// checks the spans it gets once the server has shut down.
func TestServerExportsTraces(t *testing.T) {
	rcv := newReceiver(t)
	srv, err := server.Start(context.Background(), server.Config{
		Listen:       "127.0.0.1:0",
		DataDir:      t.TempDir(),
		Logger:       slog.New(slog.DiscardHandler),
		OTLPEndpoint: rcv.srv.URL,
		Engine:       engine.Config{TimerPollInterval: 200 * time.Millisecond},
	})
	if err != nil {
		t.Fatalf("server.Start: %v", err)
	}
	shut := false
	shutdown := func() {
		if shut {
			return
		}
		shut = true
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	}
	t.Cleanup(shutdown)
	client := durable.NewClient(srv.URL())
	defer durable.CloseIdleConnections(client)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	_, err = client.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName:  aws.String("traced"),
		Role:          aws.String("arn:aws:iam::123456789012:role/duro-test"),
		Code:          &types.FunctionCode{ZipFile: []byte("PK\x05\x06" + strings.Repeat("\x00", 18))},
		Runtime:       types.RuntimeProvidedal2023,
		Handler:       aws.String("bootstrap"),
		Timeout:       aws.Int32(30),
		DurableConfig: &types.DurableConfig{ExecutionTimeout: aws.Int32(300)},
	})
	if err != nil {
		t.Fatalf("CreateFunction: %v", err)
	}
	srv.Runtime.Handle("traced", durable.Handler(client, func(c *durable.Context, _ json.RawMessage) (any, error) {
		if _, err := c.Step("work", func() (any, error) { return 1, nil }); err != nil {
			return nil, err
		}
		if err := c.Wait("pause", 1); err != nil {
			return nil, err
		}
		return "done", nil
	}))
	out, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("traced"), Qualifier: aws.String("$LATEST"), Payload: []byte(`{}`)})
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	if out.FunctionError != nil || string(out.Payload) != `"done"` {
		t.Fatalf("Invoke = %s (error %v), want \"done\"", out.Payload, aws.ToString(out.FunctionError))
	}
	arn := aws.ToString(out.DurableExecutionArn)
	execID := arn[strings.LastIndex(arn, "/")+1:]

	shutdown() // flushes the spans
	spans, _, bad := rcv.received()
	if len(bad) > 0 {
		t.Fatalf("bad requests: %v", bad)
	}
	exec := spansNamed(spans, "duro.execution")
	inv := spansNamed(spans, "duro.invocation")
	cps := spansNamed(spans, "duro.checkpoint")
	if len(exec) != 1 || len(inv) != 2 || len(cps) < 1 {
		t.Fatalf("got %d execution, %d invocation, %d checkpoint spans; want 1, 2, >= 1", len(exec), len(inv), len(cps))
	}
	if got := hexID(exec[0].GetTraceId()); got != strings.ReplaceAll(execID, "-", "") {
		t.Errorf("trace id %s is not the execution id %s", got, execID)
	}
	invSpans := map[string]string{} // span id -> request id
	for _, s := range inv {
		if hexID(s.GetParentSpanId()) != hexID(exec[0].GetSpanId()) || hexID(s.GetTraceId()) != hexID(exec[0].GetTraceId()) {
			t.Errorf("invocation span not a child of the execution span")
		}
		req := attr(s.GetAttributes(), "duro.request_id")
		if req == "" || attr(s.GetAttributes(), "duro.execution.arn") != arn || attr(s.GetAttributes(), "duro.function") != "traced" {
			t.Errorf("invocation span attributes %v", s.GetAttributes())
		}
		invSpans[hexID(s.GetSpanId())] = req
	}
	updates := 0
	for _, c := range cps {
		req, ok := invSpans[hexID(c.GetParentSpanId())]
		if !ok {
			t.Errorf("checkpoint span's parent %x is no invocation span", c.GetParentSpanId())
		}
		if attr(c.GetAttributes(), "duro.request_id") != req || attr(c.GetAttributes(), "duro.execution.arn") != arn {
			t.Errorf("checkpoint span attributes %v", c.GetAttributes())
		}
		if c.GetStatus().GetCode() == tracepb.Status_STATUS_CODE_ERROR {
			t.Errorf("checkpoint span with an error status: %v", c.GetStatus())
		}
		n, _ := strconv.Atoi(attr(c.GetAttributes(), "duro.checkpoint.updates"))
		updates += n
	}
	// The step (START and SUCCEED, or SUCCEED alone) and the WAIT START.
	if updates < 2 {
		t.Errorf("checkpoint spans carry %d updates in all, want >= 2", updates)
	}
}
