package console_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/duro-run/duro/internal/durable"
	"github.com/duro-run/duro/internal/engine"
	"github.com/duro-run/duro/internal/server"
)

// node is a running Duro server with a Lambda client for it.
type node struct {
	t      *testing.T
	srv    *server.Server
	client *lambda.Client
}

// startNode starts a real server on a loopback port with a fresh data
// directory; it shuts down when the test ends.
func startNode(t *testing.T) *node {
	t.Helper()
	level := slog.LevelError + 4 // silent
	if os.Getenv("DURO_E2E_LOG") != "" {
		level = slog.LevelDebug
	}
	srv, err := server.Start(context.Background(), server.Config{
		Listen:  "127.0.0.1:0",
		DataDir: t.TempDir(),
		Logger:  slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
		Engine: engine.Config{
			RetryBackoff:      func(int) time.Duration { return 50 * time.Millisecond },
			TimerPollInterval: 100 * time.Millisecond,
		},
	})
	if err != nil {
		t.Fatalf("server.Start: %v", err)
	}
	client := durable.NewClient(srv.URL())
	t.Cleanup(func() {
		durable.CloseIdleConnections(client)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Logf("shutdown: %v", err)
		}
	})
	return &node{t: t, srv: srv, client: client}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// durableFunction registers a durable function running fn in-process.
func (n *node) durableFunction(name, description string, fn durable.Func) {
	n.t.Helper()
	_, err := n.client.CreateFunction(testCtx(n.t), &lambda.CreateFunctionInput{
		FunctionName:  aws.String(name),
		Description:   aws.String(description),
		Role:          aws.String("arn:aws:iam::123456789012:role/duro-test"),
		Code:          &types.FunctionCode{ZipFile: []byte("PK\x05\x06" + strings.Repeat("\x00", 18))}, // empty: the code runs in-process
		Runtime:       types.RuntimeProvidedal2023,
		Handler:       aws.String("bootstrap"),
		Timeout:       aws.Int32(30),
		DurableConfig: &types.DurableConfig{ExecutionTimeout: aws.Int32(600), RetentionPeriodInDays: aws.Int32(7)},
	})
	if err != nil {
		n.t.Fatalf("CreateFunction(%s): %v", name, err)
	}
	n.srv.Runtime.Handle(name, durable.Handler(n.client, fn))
}

// invoke runs an execution to its end (synchronous Invoke) and returns its ARN.
func (n *node) invoke(function, name, payload string) string {
	n.t.Helper()
	out, err := n.client.Invoke(testCtx(n.t), &lambda.InvokeInput{
		FunctionName: aws.String(function), Qualifier: aws.String("$LATEST"),
		DurableExecutionName: aws.String(name), Payload: []byte(payload),
	})
	if err != nil {
		n.t.Fatalf("Invoke(%s): %v", function, err)
	}
	if out.FunctionError != nil {
		n.t.Fatalf("Invoke(%s): function error %s: %s", function, *out.FunctionError, out.Payload)
	}
	return aws.ToString(out.DurableExecutionArn)
}

// start starts an execution (Event Invoke) and returns its ARN.
func (n *node) start(function, name, payload string) string {
	n.t.Helper()
	out, err := n.client.Invoke(testCtx(n.t), &lambda.InvokeInput{
		FunctionName: aws.String(function), Qualifier: aws.String("$LATEST"), InvocationType: types.InvocationTypeEvent,
		DurableExecutionName: aws.String(name), Payload: []byte(payload),
	})
	if err != nil {
		n.t.Fatalf("Invoke(%s, Event): %v", function, err)
	}
	return aws.ToString(out.DurableExecutionArn)
}

// describe is GetDurableExecution.
func (n *node) describe(arn string) *lambda.GetDurableExecutionOutput {
	n.t.Helper()
	out, err := n.client.GetDurableExecution(testCtx(n.t), &lambda.GetDurableExecutionInput{DurableExecutionArn: aws.String(arn)})
	if err != nil {
		n.t.Fatalf("GetDurableExecution: %v", err)
	}
	return out
}

// awaitCallback waits until the execution has a started callback and
// returns its id.
func (n *node) awaitCallback(arn string) string {
	n.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var ops struct{ Operations []engine.Operation }
		n.getJSON("/duro/v1/executions/"+url.PathEscape(arn)+"/operations", &ops)
		for _, op := range ops.Operations {
			if op.Type == engine.OpCallback && op.Status == engine.OpStarted && op.CallbackDetails != nil {
				return aws.ToString(op.CallbackDetails.CallbackId)
			}
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("no started callback in %s: %+v", arn, ops.Operations)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// getJSON GETs a path of the server and decodes a 200 answer into out.
func (n *node) getJSON(path string, out any) {
	n.t.Helper()
	status, body := n.get(path)
	if status != http.StatusOK {
		n.t.Fatalf("GET %s: status %d: %s", path, status, body)
	}
	if err := json.Unmarshal(body, out); err != nil {
		n.t.Fatalf("GET %s: decode %s: %v", path, body, err)
	}
}

// get GETs a path of the server.
func (n *node) get(path string) (int, []byte) {
	n.t.Helper()
	resp, err := http.Get(n.srv.URL() + path)
	if err != nil {
		n.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		n.t.Fatalf("GET %s: read: %v", path, err)
	}
	return resp.StatusCode, body
}
