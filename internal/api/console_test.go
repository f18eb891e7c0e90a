package api

import (
	"context"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/duro-run/duro/internal/engine"
)

// fakeConsole is an engine.Service (nil: never called) with the console
// queries, recording what it was asked.
type fakeConsole struct {
	engine.Service
	gotList engine.AllExecutionsQuery
	gotArn  string
}

func (f *fakeConsole) ListAllExecutions(_ context.Context, q engine.AllExecutionsQuery) (engine.AllExecutionsPage, error) {
	f.gotList = q
	return engine.AllExecutionsPage{Executions: []engine.ExecutionListItem{{
		DurableExecutionArn: validArn, DurableExecutionName: "order-42", FunctionName: "my-func", FunctionVersion: "1",
		FunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:my-func:1", Status: "RUNNING",
		StartTimestamp: engine.Timestamp(time.UnixMilli(1_767_323_045_123)),
	}}, NextMarker: "next"}, nil
}

func (f *fakeConsole) ListExecutionOperations(_ context.Context, arn string) ([]engine.Operation, error) {
	f.gotArn = arn
	return nil, nil
}

func TestConsoleRoutes(t *testing.T) {
	fake := &fakeConsole{}
	h := New(fake, Options{})
	get := func(target string) *httptest.ResponseRecorder {
		rr := httptest.NewRecorder()
		h.ServeHTTP(rr, httptest.NewRequest("GET", target, nil))
		return rr
	}

	rr := get("/duro/v1/executions?function=my-func&status=RUNNING,FAILED&status=STOPPED&name=order-42" +
		"&startedAfter=1767323045123&startedBefore=2026-01-03T00%3A00%3A00Z&marker=m1&limit=20")
	if rr.Code != 200 {
		t.Fatalf("status %d: %s", rr.Code, rr.Body)
	}
	want := `{"Executions":[{"DurableExecutionArn":"` + validArn + `","DurableExecutionName":"order-42","FunctionName":"my-func",` +
		`"FunctionVersion":"1","FunctionArn":"arn:aws:lambda:us-east-1:123456789012:function:my-func:1","Status":"RUNNING",` +
		`"StartTimestamp":1767323045.123}],"NextMarker":"next"}`
	if got := strings.TrimSpace(rr.Body.String()); got != want {
		t.Errorf("body\n got %s\nwant %s", got, want)
	}
	q := fake.gotList
	if q.FunctionName != "my-func" || q.Name != "order-42" || q.Marker != "m1" || q.MaxItems != 20 ||
		!slices.Equal(q.Statuses, []string{"RUNNING", "FAILED", "STOPPED"}) ||
		!q.StartedAfter.Equal(time.UnixMilli(1_767_323_045_123)) ||
		!q.StartedBefore.Equal(time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("query %+v", q)
	}

	rr = get("/duro/v1/executions")
	if rr.Code != 200 || fake.gotList.MaxItems != 0 || fake.gotList.FunctionName != "" {
		t.Errorf("no parameters: status %d, query %+v", rr.Code, fake.gotList)
	}

	rr = get("/duro/v1/executions/" + escapedArn + "/operations")
	if rr.Code != 200 || strings.TrimSpace(rr.Body.String()) != `{"Operations":[]}` || fake.gotArn != validArn {
		t.Errorf("operations: status %d, body %s, arn %q", rr.Code, rr.Body, fake.gotArn)
	}

	for _, bad := range []string{
		"/duro/v1/executions?status=DONE",
		"/duro/v1/executions?limit=0",
		"/duro/v1/executions?limit=1001",
		"/duro/v1/executions?limit=x",
		"/duro/v1/executions?startedAfter=yesterday",
		"/duro/v1/executions?function=no%20spaces",
		"/duro/v1/executions/not-an-arn/operations",
	} {
		checkAWSError(t, get(bad), 400, "InvalidParameterValueException", "message", "")
	}
	// Without the console queries (and before reaching the engine for
	// invalid requests, as above), the routes answer ServiceException.
	checkAWSError(t, serve(t, "GET", "/duro/v1/executions", nil, nil), 500, "ServiceException", "Message", "not available")
	checkAWSError(t, serve(t, "GET", "/duro/v1/executions/"+escapedArn+"/operations", nil, nil), 500, "ServiceException", "Message", "not available")
}
