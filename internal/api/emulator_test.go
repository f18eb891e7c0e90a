package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The emulator routes' request checks, all answered before any engine call
// (serve uses a nil engine.Service). The flows themselves are tested end to
// end in cmd/duro (dexrunner_test.go).

func TestStartDurableExecutionRejectsBadRequests(t *testing.T) {
	for _, tc := range []struct {
		name, body     string
		status         int
		shape, message string
	}{
		{"empty body", ``, 400, "InvalidParameterValueException", "Request body is required"},
		{"not json", `{`, 400, "InvalidParameterValueException", "Could not parse request body"},
		{"no function", `{"ExecutionName":"e"}`, 400, "InvalidParameterValueException", "'functionName' failed to satisfy constraint: Member must not be null"},
		{"bad name", `{"FunctionName":"function","ExecutionName":"a b"}`, 400, "InvalidParameterValueException", "'executionName'"},
		{"bad qualifier", `{"FunctionName":"function","FunctionQualifier":"a b"}`, 400, "InvalidParameterValueException", "'functionQualifier'"},
		{"timeout range", `{"FunctionName":"function","ExecutionTimeoutSeconds":0}`, 400, "InvalidParameterValueException", "'executionTimeoutSeconds'"},
		{"retention range", `{"FunctionName":"function","ExecutionRetentionPeriodDays":91}`, 400, "InvalidParameterValueException", "'executionRetentionPeriodDays'"},
		{"timeout type", `{"FunctionName":"function","ExecutionTimeoutSeconds":"soon"}`, 400, "InvalidParameterValueException", "expected an integer"},
		{"input not json", `{"FunctionName":"function","Input":"hello"}`, 400, "InvalidRequestContentException", "must be JSON text"},
		{"bad endpoint", `{"FunctionName":"function","LambdaEndpoint":"host.docker.internal:3001"}`, 400, "InvalidParameterValueException", "Invalid LambdaEndpoint"},
		{"bad tenant", `{"FunctionName":"function","TenantId":"a\u0001"}`, 400, "InvalidParameterValueException", "'tenantId'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rr := serve(t, "POST", "/start-durable-execution", strings.NewReader(tc.body), nil)
			checkAWSError(t, rr, tc.status, tc.shape, "message", tc.message)
		})
	}
}

func TestUpdateLambdaEndpointRejectsBadRequests(t *testing.T) {
	for _, tc := range []struct{ body, message string }{
		{``, "Request body is required"},
		{`{"RegionName":"us-east-1"}`, "EndpointUrl is required"},
		{`{"EndpointUrl":"nope"}`, "Invalid EndpointUrl 'nope'"},
	} {
		rr := serve(t, "PUT", "/lambda-endpoint", strings.NewReader(tc.body), nil)
		checkAWSError(t, rr, 400, "InvalidParameterValueException", "message", tc.message)
	}
	// A valid one answers like AWS's emulator; nothing reaches the engine.
	rr := serve(t, "PUT", "/lambda-endpoint", strings.NewReader(`{"EndpointUrl":"http://127.0.0.1:3001","RegionName":"us-west-2"}`), nil)
	if rr.Code != http.StatusOK || !strings.Contains(rr.Body.String(), "updated successfully") {
		t.Fatalf("got %d %s", rr.Code, rr.Body)
	}
}

func TestListDurableExecutionsQuery(t *testing.T) {
	q, err := parseEmulatorListQuery(query{values: map[string][]string{
		"FunctionName": {"function"}, "FunctionVersion": {"$LATEST"}, "DurableExecutionName": {"e1"},
		"StatusFilter": {"RUNNING", "FAILED"}, "Statuses": {"RUNNING"},
		"TimeAfter": {"2026-01-02T03:04:05.123456"}, "StartedBefore": {"2026-02-01T00:00:00Z"},
		"ReverseOrder": {"yes"}, "MaxItems": {"5"}, "Marker": {"m"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if q.FunctionName != "function" || q.Qualifier != "$LATEST" || q.Name != "e1" || strings.Join(q.Statuses, ",") != "RUNNING,FAILED" ||
		!q.StartedAfter.Equal(time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)) ||
		!q.StartedBefore.Equal(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)) || !q.ReverseOrder || q.MaxItems != 5 || q.Marker != "m" {
		t.Fatalf("parsed %+v", q)
	}
	for target, message := range map[string]string{
		"/2025-12-01/durable-executions?StatusFilter=DONE":          "'statusFilter'",
		"/2025-12-01/durable-executions?MaxItems=1001":              "'maxItems'",
		"/2025-12-01/durable-executions?MaxItems=x":                 "MaxItems",
		"/2025-12-01/durable-executions?ReverseOrder=maybe":         "ReverseOrder",
		"/2025-12-01/durable-executions?StartedAfter=yesterday":     "StartedAfter",
		"/2025-12-01/durable-executions?DurableExecutionName=a%20b": "'durableExecutionName'",
	} {
		rr := serve(t, "GET", target, nil, nil)
		checkAWSError(t, rr, 400, "InvalidParameterValueException", "message", message)
	}
}

func TestEmulatorInput(t *testing.T) {
	for raw, want := range map[string]string{
		``:                        "",
		`null`:                    "",
		`"{\"a\":1}"`:             `{"a":1}`,
		`"\"quoted text\""`:       `"quoted text"`,
		`{"a":[1,2]}`:             `{"a":[1,2]}`,
		`42`:                      `42`,
		`"  {\"spaced\": true} "`: `  {"spaced": true} `,
	} {
		got, err := emulatorInput(json.RawMessage(raw))
		if err != nil || string(got) != want {
			t.Errorf("emulatorInput(%s) = %q, %v; want %q", raw, got, err, want)
		}
	}
}

func TestFlexInt(t *testing.T) {
	var v struct {
		A, B, C *flexInt
	}
	if err := json.Unmarshal([]byte(`{"A":300,"B":"14","C":null}`), &v); err != nil {
		t.Fatal(err)
	}
	if *v.A.int32Ptr() != 300 || *v.B.int32Ptr() != 14 || v.C.int32Ptr() != nil {
		t.Fatalf("got %+v %+v %+v", v.A, v.B, v.C)
	}
	if err := json.Unmarshal([]byte(`{"A":1.5}`), &v); err == nil {
		t.Fatal("1.5 accepted")
	}
}
