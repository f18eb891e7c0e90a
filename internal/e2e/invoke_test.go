package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/duro-run/duro/internal/durable"
)

// orderFlow is a two-step durable handler used by several tests: it returns
// {"order":<input.order>,"total":<sum of the items>,"charged":true}.
func orderFlow(c *durable.Context, in json.RawMessage) (any, error) {
	var req struct {
		Order string `json:"order"`
		Items []int  `json:"items"`
	}
	if err := json.Unmarshal(in, &req); err != nil {
		return nil, err
	}
	total, err := c.Step("sum", func() (any, error) {
		s := 0
		for _, i := range req.Items {
			s += i
		}
		return s, nil
	})
	if err != nil {
		return nil, err
	}
	charged, err := c.Step("charge", func() (any, error) { return true, nil })
	if err != nil {
		return nil, err
	}
	return map[string]any{"order": req.Order, "total": total, "charged": charged}, nil
}

func TestSyncInvoke(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	calls := e.durableFunction("orders", nil, orderFlow)
	payload := `{"order":"o-1","items":[1,2,39]}`

	before := time.Now().Add(-time.Second)
	out := e.invoke("orders", "order-1", payload)
	after := time.Now().Add(time.Second)

	if out.StatusCode != http.StatusOK || out.FunctionError != nil {
		t.Fatalf("Invoke = status %d, function error %v; want 200 without", out.StatusCode, aws.ToString(out.FunctionError))
	}
	wantResult := `{"charged":true,"order":"o-1","total":42}`
	if string(out.Payload) != wantResult {
		t.Errorf("Invoke payload = %s, want %s", out.Payload, wantResult)
	}
	arn := aws.ToString(out.DurableExecutionArn)
	m := arnPattern.FindStringSubmatch(arn)
	if m == nil || m[1] != "orders" || m[2] != latest || m[3] != "order-1" {
		t.Fatalf("DurableExecutionArn = %q, want arn:…:function:orders:$LATEST/durable-execution/order-1/<id>", arn)
	}
	if aws.ToString(out.ExecutedVersion) != latest {
		t.Errorf("ExecutedVersion = %q, want $LATEST", aws.ToString(out.ExecutedVersion))
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("handler invoked %d times, want 1", n)
	}

	d := e.describe(arn)
	if d.Status != types.ExecutionStatusSucceeded || aws.ToString(d.Result) != wantResult || aws.ToString(d.InputPayload) != payload {
		t.Errorf("GetDurableExecution = status %s, result %q, input %q", d.Status, aws.ToString(d.Result), aws.ToString(d.InputPayload))
	}
	if aws.ToString(d.DurableExecutionArn) != arn || aws.ToString(d.DurableExecutionName) != "order-1" {
		t.Errorf("GetDurableExecution identity = %q / %q", aws.ToString(d.DurableExecutionArn), aws.ToString(d.DurableExecutionName))
	}
	if aws.ToString(d.FunctionArn) != "arn:aws:lambda:us-east-1:123456789012:function:orders:$LATEST" || aws.ToString(d.Version) != latest {
		t.Errorf("FunctionArn = %q, Version = %q", aws.ToString(d.FunctionArn), aws.ToString(d.Version))
	}
	if d.StartTimestamp == nil || d.EndTimestamp == nil || d.StartTimestamp.Before(before) || d.EndTimestamp.After(after) || d.EndTimestamp.Before(*d.StartTimestamp) {
		t.Errorf("timestamps start %v end %v, want within [%v, %v] and ordered", d.StartTimestamp, d.EndTimestamp, before, after)
	}
	if d.Error != nil || d.ExecutionDataIncluded != nil && !*d.ExecutionDataIncluded {
		t.Errorf("Error = %v, ExecutionDataIncluded = %v", d.Error, d.ExecutionDataIncluded)
	}
	if d.DurableConfig == nil || aws.ToInt32(d.DurableConfig.ExecutionTimeout) != 300 {
		t.Errorf("DurableConfig = %+v, want the function's (ExecutionTimeout 300)", d.DurableConfig)
	}

	noData, err := e.client.GetDurableExecution(ctx(t), &lambda.GetDurableExecutionInput{DurableExecutionArn: aws.String(arn), IncludeExecutionData: aws.Bool(false)})
	if err != nil {
		t.Fatalf("GetDurableExecution(IncludeExecutionData=false): %v", err)
	}
	if noData.InputPayload != nil || noData.Result != nil || noData.Error != nil || noData.ExecutionDataIncluded == nil || *noData.ExecutionDataIncluded {
		t.Errorf("IncludeExecutionData=false: input %v, result %v, ExecutionDataIncluded %v; want data omitted and false",
			noData.InputPayload, noData.Result, noData.ExecutionDataIncluded)
	}
	if noData.Status != types.ExecutionStatusSucceeded {
		t.Errorf("IncludeExecutionData=false: status %s", noData.Status)
	}

	events := e.history(arn)
	checkHistory(t, events, 1)
	wantCleanInvocations(t, events)
	want := []string{"ExecutionStarted", "StepStarted", "StepSucceeded", "StepStarted", "StepSucceeded", "InvocationCompleted", "ExecutionSucceeded"}
	if !sameStrings(eventTypes(events), want) {
		t.Fatalf("history = %v, want %v", eventTypes(events), want)
	}
	started := events[0].ExecutionStartedDetails
	if aws.ToString(started.Input.Payload) != payload || aws.ToBool(started.Input.Truncated) || aws.ToInt32(started.ExecutionTimeout) != 300 {
		t.Errorf("ExecutionStarted = input %q truncated %v timeout %d", aws.ToString(started.Input.Payload), started.Input.Truncated, aws.ToInt32(started.ExecutionTimeout))
	}
	step := events[2]
	if aws.ToString(step.Name) != "sum" || aws.ToString(step.SubType) != "Step" || aws.ToString(step.Id) != "1" {
		t.Errorf("StepSucceeded identity = name %q subtype %q id %q", aws.ToString(step.Name), aws.ToString(step.SubType), aws.ToString(step.Id))
	}
	if r := step.StepSucceededDetails; aws.ToString(r.Result.Payload) != "42" || r.Result.Truncated == nil || *r.Result.Truncated || r.RetryDetails.CurrentAttempt != 1 {
		t.Errorf("StepSucceeded details = %q truncated %v attempt %d", aws.ToString(r.Result.Payload), r.Result.Truncated, r.RetryDetails.CurrentAttempt)
	}
	ic := events[5].InvocationCompletedDetails
	if ic.Error != nil || aws.ToString(ic.RequestId) == "" || ic.StartTimestamp == nil || ic.EndTimestamp == nil || ic.EndTimestamp.Before(*ic.StartTimestamp) {
		t.Errorf("InvocationCompleted = %+v", ic)
	}
	if r := events[6].ExecutionSucceededDetails.Result; aws.ToString(r.Payload) != wantResult || aws.ToBool(r.Truncated) {
		t.Errorf("ExecutionSucceeded result = %q", aws.ToString(r.Payload))
	}
	if aws.ToString(events[0].Id) != arn[strings.LastIndex(arn, "/")+1:] {
		t.Errorf("ExecutionStarted Id = %q, want the execution id of the ARN", aws.ToString(events[0].Id))
	}

	// The raw JSON: empty details must exist as {} and wrappers carry Truncated.
	raw := e.rawCall(http.MethodGet, "/2025-12-01/durable-executions/"+seg(arn)+"/history", nil, nil)
	if raw.status != http.StatusOK {
		t.Fatalf("raw history: %d %s", raw.status, raw.body)
	}
	for _, s := range []string{`"StepStartedDetails":{}`, `"Truncated":false`, `"EventId":1,`} {
		if !bytes.Contains(raw.body, []byte(s)) {
			t.Errorf("raw history JSON lacks %s:\n%s", s, raw.body)
		}
	}
	if bytes.Contains(raw.body, []byte("null")) {
		t.Errorf("raw history JSON contains null (absent members must be omitted):\n%s", raw.body)
	}
	if raw.header.Get("x-amzn-RequestId") == "" {
		t.Error("response lacks x-amzn-RequestId")
	}

	// IncludeExecutionData=false strips every payload but keeps Truncated.
	noDataHist, err := e.client.GetDurableExecutionHistory(ctx(t), &lambda.GetDurableExecutionHistoryInput{DurableExecutionArn: aws.String(arn), IncludeExecutionData: aws.Bool(false)})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range noDataHist.Events {
		if d := ev.StepSucceededDetails; d != nil && (d.Result.Payload != nil || d.Result.Truncated == nil) {
			t.Errorf("IncludeExecutionData=false history: StepSucceeded result %+v", d.Result)
		}
		if d := ev.ExecutionStartedDetails; d != nil && (d.Input.Payload != nil || d.Input.Truncated == nil) {
			t.Errorf("IncludeExecutionData=false history: ExecutionStarted input %+v", d.Input)
		}
	}
}

func TestInvokePublishedVersion(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.durableFunction("versioned", nil, func(c *durable.Context, in json.RawMessage) (any, error) { return "v", nil })
	if _, err := e.client.PublishVersion(ctx(t), &lambda.PublishVersionInput{FunctionName: aws.String("versioned")}); err != nil {
		t.Fatal(err)
	}
	// Qualifier in the query, and in the name ("fn:1").
	for _, in := range []*lambda.InvokeInput{
		{FunctionName: aws.String("versioned"), Qualifier: aws.String("1")},
		{FunctionName: aws.String("versioned:1")},
		{FunctionName: aws.String("arn:aws:lambda:us-east-1:123456789012:function:versioned:1")},
	} {
		out, err := e.client.Invoke(ctx(t), in)
		if err != nil {
			t.Fatalf("Invoke(%s, %v): %v", aws.ToString(in.FunctionName), aws.ToString(in.Qualifier), err)
		}
		m := arnPattern.FindStringSubmatch(aws.ToString(out.DurableExecutionArn))
		if string(out.Payload) != `"v"` || aws.ToString(out.ExecutedVersion) != "1" || m == nil || m[2] != "1" {
			t.Errorf("Invoke(%s) = %s, version %q, ARN %q; want version 1 everywhere", aws.ToString(in.FunctionName),
				out.Payload, aws.ToString(out.ExecutedVersion), aws.ToString(out.DurableExecutionArn))
		}
		if d := e.describe(*out.DurableExecutionArn); aws.ToString(d.Version) != "1" || !strings.HasSuffix(aws.ToString(d.FunctionArn), ":versioned:1") {
			t.Errorf("execution Version %q FunctionArn %q", aws.ToString(d.Version), aws.ToString(d.FunctionArn))
		}
	}
}

func TestAsyncInvoke(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.durableFunction("async-orders", nil, orderFlow)
	out, err := e.client.Invoke(ctx(t), &lambda.InvokeInput{
		FunctionName: aws.String("async-orders"), Qualifier: aws.String(latest), InvocationType: types.InvocationTypeEvent,
		Payload: []byte(`{"order":"o-2","items":[5]}`),
	})
	if err != nil {
		t.Fatalf("Invoke(Event): %v", err)
	}
	if out.StatusCode != http.StatusAccepted || len(out.Payload) != 0 || aws.ToString(out.ExecutedVersion) != latest {
		t.Errorf("Invoke(Event) = status %d payload %q version %q; want 202, empty, $LATEST", out.StatusCode, out.Payload, aws.ToString(out.ExecutedVersion))
	}
	arn := aws.ToString(out.DurableExecutionArn)
	m := arnPattern.FindStringSubmatch(arn)
	if m == nil || m[3] == "" {
		t.Fatalf("ARN %q does not match the model pattern", arn)
	}
	d := e.awaitStatus(arn, types.ExecutionStatusSucceeded)
	if aws.ToString(d.Result) != `{"charged":true,"order":"o-2","total":5}` {
		t.Errorf("result = %q", aws.ToString(d.Result))
	}
	// A generated execution name is a valid DurableExecutionName.
	if aws.ToString(d.DurableExecutionName) != m[3] {
		t.Errorf("DurableExecutionName %q, ARN name %q", aws.ToString(d.DurableExecutionName), m[3])
	}
	checkHistory(t, e.history(arn), 1)
}

func TestIdempotentStart(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	calls := e.durableFunction("idem", nil, orderFlow)
	first := e.start("idem", latest, "same-name", `{"order":"x","items":[1]}`)
	e.awaitStatus(first, types.ExecutionStatusSucceeded)

	again := e.start("idem", latest, "same-name", `{"order":"x","items":[1]}`)
	if again != first {
		t.Errorf("same name and payload gave ARN %q, want the existing %q", again, first)
	}
	sync := e.invoke("idem", "same-name", `{"order":"x","items":[1]}`)
	if aws.ToString(sync.DurableExecutionArn) != first || string(sync.Payload) != `{"charged":true,"order":"x","total":1}` {
		t.Errorf("sync repeat = ARN %q payload %s", aws.ToString(sync.DurableExecutionArn), sync.Payload)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("handler invoked %d times, want 1 (no second execution)", n)
	}

	_, err := e.client.Invoke(ctx(t), &lambda.InvokeInput{
		FunctionName: aws.String("idem"), Qualifier: aws.String(latest), InvocationType: types.InvocationTypeEvent,
		DurableExecutionName: aws.String("same-name"), Payload: []byte(`{"order":"y","items":[2]}`),
	})
	conflict := apiErr[*types.DurableExecutionAlreadyStartedException](t, err)
	if statusOfErr(err) != http.StatusConflict {
		t.Errorf("DurableExecutionAlreadyStartedException status %d, want 409 (%s)", statusOfErr(err), conflict.ErrorMessage())
	}
	list, err := e.client.ListDurableExecutionsByFunction(ctx(t), &lambda.ListDurableExecutionsByFunctionInput{FunctionName: aws.String("idem")})
	if err != nil || len(list.DurableExecutions) != 1 {
		t.Errorf("ListDurableExecutionsByFunction = %d executions (%v), want 1", len(list.DurableExecutions), err)
	}
}

func TestUnqualifiedInvokeOfDurableFunction(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	calls := e.durableFunction("needs-qualifier", nil, orderFlow)
	for _, name := range []string{"needs-qualifier", "arn:aws:lambda:us-east-1:123456789012:function:needs-qualifier"} {
		for _, typ := range []types.InvocationType{types.InvocationTypeRequestResponse, types.InvocationTypeEvent} {
			_, err := e.client.Invoke(ctx(t), &lambda.InvokeInput{FunctionName: aws.String(name), InvocationType: typ, Payload: []byte(`{}`)})
			ipv := apiErr[*types.InvalidParameterValueException](t, err)
			if ipv.ErrorMessage() != "You cannot invoke a durable function using an unqualified ARN." {
				t.Errorf("Invoke(%s, %s) message = %q", name, typ, ipv.ErrorMessage())
			}
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("handler invoked %d times, want 0", n)
	}
	list, err := e.client.ListDurableExecutionsByFunction(ctx(t), &lambda.ListDurableExecutionsByFunctionInput{FunctionName: aws.String("needs-qualifier")})
	if err != nil || len(list.DurableExecutions) != 0 {
		t.Errorf("executions after rejected invokes = %d (%v), want 0", len(list.DurableExecutions), err)
	}
}

// A function served out of process at DURO_INVOKE_URL (the path a load
// generator uses) runs the same durable flow, waits included.
func TestRemoteDurableFunction(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var calls atomic.Int32
	h := durable.HTTPHandler(e.client, func(c *durable.Context, in json.RawMessage) (any, error) {
		calls.Add(1)
		if err := c.Wait("", 1); err != nil {
			return nil, err
		}
		return orderFlow(c, in)
	})
	remote := httptest.NewServer(h)
	t.Cleanup(remote.Close)
	_, err := e.client.CreateFunction(ctx(t), &lambda.CreateFunctionInput{
		FunctionName: aws.String("remote-orders"), Role: aws.String("arn:aws:iam::123456789012:role/duro-test"),
		Code:          &types.FunctionCode{ZipFile: []byte("PK\x05\x06" + strings.Repeat("\x00", 18))},
		Environment:   &types.Environment{Variables: map[string]string{"DURO_INVOKE_URL": remote.URL}},
		DurableConfig: &types.DurableConfig{ExecutionTimeout: aws.Int32(60)},
	})
	if err != nil {
		t.Fatal(err)
	}
	out := e.invoke("remote-orders", "", `{"order":"rem","items":[4,4]}`)
	if string(out.Payload) != `{"charged":true,"order":"rem","total":8}` || out.FunctionError != nil {
		t.Fatalf("result = %s (function error %v)", out.Payload, aws.ToString(out.FunctionError))
	}
	if calls.Load() != 2 {
		t.Errorf("%d remote invocations, want 2", calls.Load())
	}
	events := e.history(aws.ToString(out.DurableExecutionArn))
	checkHistory(t, events, 2)
	wantCleanInvocations(t, events)
}
