package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/duro-run/duro/internal/durable"
	"github.com/duro-run/duro/internal/engine"
	"github.com/duro-run/duro/internal/server"
)

// A finished execution is deleted once its retention period has passed
// (DurableConfig.RetentionPeriodInDays), and not before.
func TestRetentionDeletesFinishedExecutions(t *testing.T) {
	t.Parallel()
	e, skew := newSkewedEnv(t)
	e.durableFunction("kept-briefly", &types.DurableConfig{ExecutionTimeout: aws.Int32(60), RetentionPeriodInDays: aws.Int32(1)},
		func(c *durable.Context, _ json.RawMessage) (any, error) {
			return c.Step("only", func() (any, error) { return "done", nil })
		})
	arn := aws.ToString(e.invoke("kept-briefly", "", `{}`).DurableExecutionArn)
	e.awaitStatus(arn, types.ExecutionStatusSucceeded)

	// Twelve hours later it is still there.
	skew.Store(int64(12 * time.Hour))
	time.Sleep(500 * time.Millisecond)
	if _, err := e.client.GetDurableExecution(ctx(t), &lambda.GetDurableExecutionInput{DurableExecutionArn: aws.String(arn)}); err != nil {
		t.Fatalf("execution gone before its retention period: %v", err)
	}
	// A day and an hour later it is gone, history included.
	skew.Store(int64(25 * time.Hour))
	e.awaitDeleted(arn)
	_, err := e.client.GetDurableExecutionHistory(ctx(t), &lambda.GetDurableExecutionHistoryInput{DurableExecutionArn: aws.String(arn)})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("history after retention: %v, want ResourceNotFoundException", err)
	}
}

// The log lines an execution's invocations wrote go when the execution
// does; those of plain invocations go once they are older than the default
// retention (14 days), and not before.
func TestRetentionDeletesFunctionLogs(t *testing.T) {
	hostNeed(t, "node")
	t.Parallel()
	e, skew := newSkewedEnv(t)
	code := hostZip(t, hostFile{name: "index.js", body: `
exports.handler = async (event, context) => {
  console.log("line of " + (event.DurableExecutionArn ? "a durable execution" : "a plain invoke"));
  return event.DurableExecutionArn ? { Status: "SUCCEEDED", Result: "1" } : 1;
};
`})
	e.hostCreate("logs-kept-briefly", hostFn{runtime: types.RuntimeNodejs20x, handler: "index.handler", durable: true, timeout: 30, code: code})
	e.hostCreate("logs-plain", hostFn{runtime: types.RuntimeNodejs20x, handler: "index.handler", timeout: 30, code: code})
	arn := aws.ToString(e.invoke("logs-kept-briefly", "", `{}`).DurableExecutionArn)
	e.awaitStatus(arn, types.ExecutionStatusSucceeded)
	var one int
	e.hostInvokePlain("logs-plain", `{}`, &one)
	if got := e.hostLogs(url.Values{"durableExecutionArn": {arn}}); len(got) != 1 || got[0].Message != "line of a durable execution" {
		t.Fatalf("logs of the execution before retention: %+v", got)
	}

	// Thirteen days on, a prune has run (every 100 ms here) and kept both.
	skew.Store(int64(13 * 24 * time.Hour))
	time.Sleep(500 * time.Millisecond)
	if got := e.hostLogs(url.Values{"functionName": {"logs-plain"}}); len(got) != 1 || got[0].Message != "line of a plain invoke" {
		t.Fatalf("logs of the plain invoke after 13 days: %+v, want its line", got)
	}
	if got := e.hostLogs(url.Values{"durableExecutionArn": {arn}}); len(got) != 1 {
		t.Fatalf("logs of the execution after 13 days: %+v, want its line", got)
	}

	// Fifteen days on, both are gone.
	skew.Store(int64(15 * 24 * time.Hour))
	e.awaitDeleted(arn)
	if got := e.hostLogs(url.Values{"durableExecutionArn": {arn}}); len(got) != 0 {
		t.Errorf("logs of the deleted execution: %+v, want none", got)
	}
	deadline := time.Now().Add(testTimeout)
	for len(e.hostLogs(url.Values{"functionName": {"logs-plain"}})) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("logs of the plain invoke still there after 15 days")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// newSkewedEnv starts a node whose clock runs ahead of the real one by
// what the returned value holds (nanoseconds), with a fast timer loop.
func newSkewedEnv(t *testing.T) (*env, *atomic.Int64) {
	t.Helper()
	skew := new(atomic.Int64)
	srv, err := server.Start(context.Background(), server.Config{
		Listen: "127.0.0.1:0", DataDir: t.TempDir(), LogPruneInterval: 100 * time.Millisecond,
		Engine: engine.Config{
			Clock:             func() time.Time { return time.Now().Add(time.Duration(skew.Load())) },
			TimerPollInterval: 100 * time.Millisecond,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	client := durable.NewClient(srv.URL())
	t.Cleanup(func() {
		durable.CloseIdleConnections(client)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return &env{t: t, srv: srv, client: client}, skew
}

// awaitDeleted waits until GetDurableExecution answers ResourceNotFound.
func (e *env) awaitDeleted(arn string) {
	e.t.Helper()
	deadline := time.Now().Add(testTimeout)
	for {
		_, err := e.client.GetDurableExecution(ctx(e.t), &lambda.GetDurableExecutionInput{DurableExecutionArn: aws.String(arn)})
		var nf *types.ResourceNotFoundException
		if errors.As(err, &nf) {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("execution still there after its retention period: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
