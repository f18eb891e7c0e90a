package e2e

import (
	"context"
	"encoding/json"
	"errors"
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
	var skew atomic.Int64 // how far the server's clock is ahead
	srv, err := server.Start(context.Background(), server.Config{
		Listen: "127.0.0.1:0", DataDir: t.TempDir(),
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
	e := &env{t: t, srv: srv, client: client}
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
	deadline := time.Now().Add(testTimeout)
	for {
		_, err := e.client.GetDurableExecution(ctx(t), &lambda.GetDurableExecutionInput{DurableExecutionArn: aws.String(arn)})
		var nf *types.ResourceNotFoundException
		if errors.As(err, &nf) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("execution still there after its retention period: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	_, err = e.client.GetDurableExecutionHistory(ctx(t), &lambda.GetDurableExecutionHistoryInput{DurableExecutionArn: aws.String(arn)})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("history after retention: %v, want ResourceNotFoundException", err)
	}
}
