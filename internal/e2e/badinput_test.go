package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/duro-run/duro/internal/engine"
)

// awsErrorBody is the JSON body of an AWS error response.
type awsErrorBody struct {
	Type         string `json:"Type"`
	LowerMessage string `json:"message"`
	UpperMessage string `json:"Message"`
}

// wantRawError asserts an AWS-style error response (protocol.md §2.5).
func wantRawError(t *testing.T, r rawResponse, status int, code string) awsErrorBody {
	t.Helper()
	if r.status != status || r.header.Get("x-amzn-ErrorType") != code {
		t.Fatalf("response %d x-amzn-ErrorType %q, want %d %s; body %s", r.status, r.header.Get("x-amzn-ErrorType"), status, code, r.body)
	}
	if r.header.Get("x-amzn-RequestId") == "" || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Errorf("headers %v lack x-amzn-RequestId or a JSON Content-Type", r.header)
	}
	var b awsErrorBody
	if err := json.Unmarshal(r.body, &b); err != nil {
		t.Fatalf("error body is not JSON: %s", r.body)
	}
	if b.Type != "User" || b.LowerMessage+b.UpperMessage == "" {
		t.Errorf("error body %s, want Type User and a message", r.body)
	}
	return b
}

func TestMalformedCheckpointBodies(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	invocations := e.controlledFunction("malformed", nil)
	arn := e.start("malformed", latest, "", `{}`)
	inv := next(t, invocations)
	path := "/2025-12-01/durable-executions/" + seg(arn) + "/checkpoint"
	bodies := map[string]string{
		"truncated JSON":          `{"CheckpointToken":`,
		"not an object":           `[1,2,3]`,
		"wrong member type":       `{"CheckpointToken":5}`,
		"Updates not a list":      `{"CheckpointToken":"` + inv.Token + `","Updates":{}}`,
		"missing CheckpointToken": `{"Updates":[]}`,
		"trailing garbage":        `{"CheckpointToken":"` + inv.Token + `"} x`,
		"update without Id":       `{"CheckpointToken":"` + inv.Token + `","Updates":[{"Type":"STEP","Action":"START"}]}`,
		"bad action enum":         `{"CheckpointToken":"` + inv.Token + `","Updates":[{"Id":"a","Type":"STEP","Action":"JUMP"}]}`,
		"token pattern":           `{"CheckpointToken":"not a token!"}`,
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			r := e.rawCall(http.MethodPost, path, []byte(body), map[string]string{"Content-Type": "application/json"})
			b := wantRawError(t, r, http.StatusBadRequest, "InvalidParameterValueException")
			if b.LowerMessage == "" {
				t.Errorf("InvalidParameterValueException carries its message in %q, want \"message\": %s", "Message", r.body)
			}
			if strings.HasPrefix(b.LowerMessage, "Invalid Checkpoint Token") {
				t.Errorf("a malformed body is reported as a stale token: %q", b.LowerMessage)
			}
		})
	}
	// None of it touched the execution: the token still works.
	if _, err := e.checkpoint(arn, inv.Token, "", stepDone("ok", "", "1")...); err != nil {
		t.Fatalf("checkpoint after malformed ones: %v", err)
	}
	inv.finish(`{"Status":"SUCCEEDED"}`)
	e.awaitStatus(arn, types.ExecutionStatusSucceeded)
}

func TestOversizedInvokePayload(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	calls := e.durableFunction("big", nil, orderFlow)
	cases := []struct {
		name string
		typ  types.InvocationType
		size int
	}{
		{"sync over 6 MB", types.InvocationTypeRequestResponse, 6_291_456 + 1},
		{"async over 1 MB", types.InvocationTypeEvent, 1_048_576 + 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			payload := []byte(`"` + strings.Repeat("x", tc.size-2) + `"`)
			_, err := e.client.Invoke(ctx(t), &lambda.InvokeInput{FunctionName: aws.String("big"), Qualifier: aws.String(latest), InvocationType: tc.typ, Payload: payload})
			apiErr[*types.RequestTooLargeException](t, err)
			if s := statusOfErr(err); s != http.StatusRequestEntityTooLarge {
				t.Errorf("status %d, want 413", s)
			}
		})
	}
	if calls.Load() != 0 {
		t.Errorf("handler invoked %d times for rejected payloads", calls.Load())
	}
	// Exactly at the async limit is fine.
	arn := e.start("big", latest, "", `{"order":"`+strings.Repeat("y", 1_048_576-30)+`","items":[1]}`)
	e.awaitStatus(arn, types.ExecutionStatusSucceeded)
}

func TestInvalidInvokeRequests(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.durableFunction("strict", nil, orderFlow)
	_, err := e.client.Invoke(ctx(t), &lambda.InvokeInput{FunctionName: aws.String("strict"), Qualifier: aws.String(latest), Payload: []byte(`{not json`)})
	apiErr[*types.InvalidRequestContentException](t, err)
	_, err = e.client.Invoke(ctx(t), &lambda.InvokeInput{FunctionName: aws.String("strict"), Qualifier: aws.String(latest), DurableExecutionName: aws.String("bad name!")})
	apiErr[*types.InvalidParameterValueException](t, err)
	_, err = e.client.Invoke(ctx(t), &lambda.InvokeInput{FunctionName: aws.String("strict"), Qualifier: aws.String("99")})
	apiErr[*types.ResourceNotFoundException](t, err)
	_, err = e.client.Invoke(ctx(t), &lambda.InvokeInput{FunctionName: aws.String("strict:1"), Qualifier: aws.String("2")})
	apiErr[*types.InvalidParameterValueException](t, err)
}

func TestInvokePlainFunction(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	received := make(chan []byte, 1)
	e.createFunction("plain", fnOpts{}, func(_ context.Context, inv engine.Invocation) (engine.InvocationResponse, error) {
		received <- bytes.Clone(inv.Payload)
		return engine.InvocationResponse{Payload: []byte(`{"plain":"yes"}`)}, nil
	})
	out, err := e.client.Invoke(ctx(t), &lambda.InvokeInput{FunctionName: aws.String("plain"), Payload: []byte(`{"in":1}`)})
	if err != nil {
		t.Fatalf("Invoke(plain): %v", err)
	}
	var got []byte
	select {
	case got = <-received:
	default:
	}
	if out.StatusCode != http.StatusOK || string(out.Payload) != `{"plain":"yes"}` || out.DurableExecutionArn != nil || string(got) != `{"in":1}` {
		t.Errorf("Invoke(plain) = %d %s, ARN %v, function got %s", out.StatusCode, out.Payload, out.DurableExecutionArn, got)
	}
}

func TestExecutionArnErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.durableFunction("arns", nil, orderFlow)
	real := aws.ToString(e.invoke("arns", "", `{"order":"a","items":[]}`).DurableExecutionArn)
	unknown := "arn:aws:lambda:us-east-1:123456789012:function:arns:$LATEST/durable-execution/ghost/00000000-0000-4000-8000-000000000000"
	// The real ARN with the execution name swapped: it names nothing.
	parts := arnPattern.FindStringSubmatch(real)
	mismatched := strings.Replace(real, "/durable-execution/"+parts[3]+"/", "/durable-execution/other/", 1)
	c := ctx(t)
	ops := map[string]func(arn string) error{
		"GetDurableExecution": func(arn string) error {
			_, err := e.client.GetDurableExecution(c, &lambda.GetDurableExecutionInput{DurableExecutionArn: aws.String(arn)})
			return err
		},
		"GetDurableExecutionHistory": func(arn string) error {
			_, err := e.client.GetDurableExecutionHistory(c, &lambda.GetDurableExecutionHistoryInput{DurableExecutionArn: aws.String(arn)})
			return err
		},
		"StopDurableExecution": func(arn string) error {
			_, err := e.client.StopDurableExecution(c, &lambda.StopDurableExecutionInput{DurableExecutionArn: aws.String(arn)})
			return err
		},
	}
	for name, call := range ops {
		t.Run(name, func(t *testing.T) {
			for _, arn := range []string{unknown, mismatched} {
				nf := apiErr[*types.ResourceNotFoundException](t, call(arn))
				if statusOfErr(call(arn)) != http.StatusNotFound || nf.ErrorMessage() == "" {
					t.Errorf("%s: status %d message %q", arn, statusOfErr(call(arn)), nf.ErrorMessage())
				}
			}
			for _, arn := range []string{"arn:bad", "arn:aws:lambda:us-east-1:123456789012:function:arns", real + "/extra", strings.Repeat("a", 1025)} {
				apiErr[*types.InvalidParameterValueException](t, call(arn))
			}
		})
	}
	// Checkpoint and GetDurableExecutionState have no ResourceNotFound in
	// the model: an unknown execution gets the stale-token error.
	_, err := e.checkpoint(unknown, "Zm9yZ2Vk", "")
	wantStaleToken(t, err)
	_, err = e.client.GetDurableExecutionState(c, &lambda.GetDurableExecutionStateInput{DurableExecutionArn: aws.String(unknown), CheckpointToken: aws.String("Zm9yZ2Vk")})
	wantStaleToken(t, err)
	_, err = e.checkpoint("arn:bad", "Zm9yZ2Vk", "")
	apiErr[*types.InvalidParameterValueException](t, err)
	if d := e.describe(real); d.Status != types.ExecutionStatusSucceeded {
		t.Errorf("real execution %s after the bad calls", d.Status)
	}
}

func TestUnknownRoutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, rt := range []struct{ method, path string }{
		{http.MethodGet, "/2025-12-01/nope"},
		{http.MethodGet, "/"},
		{http.MethodPost, "/2015-03-31/functions/x/unknown"},
		{http.MethodDelete, "/2025-12-01/durable-executions/arn%3Ax"},
		{http.MethodGet, "/2025-12-01/durable-executions/arn%3Ax/checkpoint"},
		{http.MethodGet, "/2025-12-01//durable-executions"},
		{http.MethodPost, "/2015-03-31/functions/./x/invocations"},
	} {
		t.Run(rt.method+" "+rt.path, func(t *testing.T) {
			r := e.rawCall(rt.method, rt.path, nil, nil)
			if r.status != http.StatusNotFound && r.status != http.StatusMethodNotAllowed {
				t.Fatalf("status %d (Location %q), want an AWS-style 404 (or 405): %s", r.status, r.header.Get("Location"), r.body)
			}
			if r.header.Get("x-amzn-ErrorType") == "" || r.header.Get("x-amzn-RequestId") == "" {
				t.Errorf("headers %v lack x-amzn-ErrorType or x-amzn-RequestId", r.header)
			}
			var b awsErrorBody
			if err := json.Unmarshal(r.body, &b); err != nil || b.LowerMessage+b.UpperMessage == "" {
				t.Errorf("body %s is not an AWS error object", r.body)
			}
		})
	}
}

func TestMaxItemsOutOfRange(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.durableFunction("ranges", nil, orderFlow)
	arn := aws.ToString(e.invoke("ranges", "", `{"order":"r","items":[]}`).DurableExecutionArn)
	c := ctx(t)
	calls := map[string]func() error{
		"history 1001": func() error {
			_, err := e.client.GetDurableExecutionHistory(c, &lambda.GetDurableExecutionHistoryInput{DurableExecutionArn: aws.String(arn), MaxItems: 1001})
			return err
		},
		"history -5": func() error {
			_, err := e.client.GetDurableExecutionHistory(c, &lambda.GetDurableExecutionHistoryInput{DurableExecutionArn: aws.String(arn), MaxItems: -5})
			return err
		},
		"list executions 1001": func() error {
			_, err := e.client.ListDurableExecutionsByFunction(c, &lambda.ListDurableExecutionsByFunctionInput{FunctionName: aws.String("ranges"), MaxItems: 1001})
			return err
		},
		"list functions 10001": func() error {
			_, err := e.client.ListFunctions(c, &lambda.ListFunctionsInput{MaxItems: aws.Int32(10001)})
			return err
		},
		"list functions 0": func() error {
			_, err := e.client.ListFunctions(c, &lambda.ListFunctionsInput{MaxItems: aws.Int32(0)})
			return err
		},
		"list versions 10001": func() error {
			_, err := e.client.ListVersionsByFunction(c, &lambda.ListVersionsByFunctionInput{FunctionName: aws.String("ranges"), MaxItems: aws.Int32(10001)})
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			ipv := apiErr[*types.InvalidParameterValueException](t, call())
			if !strings.Contains(ipv.ErrorMessage(), "maxItems") {
				t.Errorf("message %q does not name maxItems", ipv.ErrorMessage())
			}
		})
	}
	// The raw query form, as JS sends it: MaxItems=0 means the default.
	r := e.rawCall(http.MethodGet, "/2025-12-01/durable-executions/"+seg(arn)+"/history?MaxItems=0", nil, nil)
	if r.status != http.StatusOK {
		t.Errorf("MaxItems=0: %d %s", r.status, r.body)
	}
	r = e.rawCall(http.MethodGet, "/2025-12-01/durable-executions/"+seg(arn)+"/history?MaxItems=abc", nil, nil)
	wantRawError(t, r, http.StatusBadRequest, "InvalidParameterValueException")
}
