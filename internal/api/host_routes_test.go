package api

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/duro-run/duro/internal/store"
)

// fakeLogs is a LogReader over fixed rows.
type fakeLogs struct {
	rows []store.LogRow
	got  store.LogQuery
}

func (f *fakeLogs) ListLogs(_ context.Context, q store.LogQuery) ([]store.LogRow, error) {
	f.got = q
	var out []store.LogRow
	for _, r := range f.rows {
		if r.ID > q.After && (q.Limit <= 0 || len(out) < q.Limit) {
			out = append(out, r)
		}
	}
	return out, nil
}

func TestListFunctionLogs(t *testing.T) {
	at := time.UnixMilli(1_767_323_045_123)
	logs := &fakeLogs{rows: []store.LogRow{
		{ID: 7, Time: at, FunctionName: "f", FunctionVersion: "$LATEST", RequestID: "r1", ExecutionArn: "arn:x", Stream: "stdout", Message: "hello"},
		{ID: 9, Time: at, FunctionName: "f", FunctionVersion: "$LATEST", Stream: "stderr", Message: "init"},
	}}
	h := New(nil, Options{Logs: logs})
	get := func(target string) *httptest.ResponseRecorder {
		rr := httptest.NewRecorder()
		h.ServeHTTP(rr, httptest.NewRequest("GET", target, nil))
		return rr
	}

	rr := get("/duro/v1/logs?durableExecutionArn=arn%3Ax&requestId=r1&limit=1")
	if rr.Code != 200 {
		t.Fatalf("status %d: %s", rr.Code, rr.Body)
	}
	want := `{"Logs":[{"Timestamp":1767323045123,"Sequence":7,"FunctionName":"f","FunctionVersion":"$LATEST","RequestId":"r1",` +
		`"DurableExecutionArn":"arn:x","Stream":"stdout","Message":"hello"}],"NextToken":"7"}`
	if strings.TrimSpace(rr.Body.String()) != want {
		t.Errorf("body\n got %s\nwant %s", rr.Body, want)
	}
	if logs.got != (store.LogQuery{ExecutionArn: "arn:x", RequestID: "r1", Limit: 1}) {
		t.Errorf("query %+v", logs.got)
	}

	rr = get("/duro/v1/logs?functionName=f&NextToken=7")
	var page struct {
		Logs      []map[string]any
		NextToken string
	}
	if err := json.Unmarshal(rr.Body.Bytes(), &page); err != nil || len(page.Logs) != 1 || page.NextToken != "9" {
		t.Errorf("second page: %s", rr.Body)
	}
	if _, ok := page.Logs[0]["RequestId"]; ok {
		t.Errorf("an init line carries a RequestId: %s", rr.Body)
	}
	rr = get("/duro/v1/logs?functionName=f&after=9")
	if err := json.Unmarshal(rr.Body.Bytes(), &page); err != nil || len(page.Logs) != 0 || page.NextToken != "9" {
		t.Errorf("past the end: %s; want no lines and the same token", rr.Body)
	}

	for _, bad := range []string{
		"/duro/v1/logs",
		"/duro/v1/logs?requestId=r1",
		"/duro/v1/logs?functionName=f&NextToken=abc",
		"/duro/v1/logs?functionName=f&limit=0",
		"/duro/v1/logs?functionName=f&limit=10001",
	} {
		checkAWSError(t, get(bad), 400, "InvalidParameterValueException", "message", "")
	}
	checkAWSError(t, serve(t, "GET", "/duro/v1/logs?functionName=f", nil, nil), 500, "ServiceException", "Message", "not available")
}

func TestUpdateFunctionCodeValidation(t *testing.T) {
	for _, tc := range []struct{ body, contains string }{
		{`{}`, "Please provide a source for function code."},
		{`{"S3Bucket":"b","S3Key":"k"}`, "only as ZipFile"},
		{`{"ImageUri":"repo:tag"}`, "only as ZipFile"},
		{`{"ZipFile":"!!"}`, "Could not parse request body into json"},
		{`{"ZipFile":"UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==","Architectures":["sparc"]}`, "architectures"},
	} {
		rr := serve(t, "PUT", "/2015-03-31/functions/my-func/code", strings.NewReader(tc.body), nil)
		checkAWSError(t, rr, 400, "InvalidParameterValueException", "message", tc.contains)
	}
	rr := serve(t, "PUT", "/2015-03-31/functions/bad%20name/code", strings.NewReader(`{"ZipFile":"UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="}`), nil)
	if rr.Code != 400 {
		t.Errorf("invalid function name: status %d", rr.Code)
	}
	in, dry, err := parseUpdateFunctionCode([]byte(`{"ZipFile":"UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==","Publish":true,"DryRun":true}`))
	if err != nil || !in.Publish || !dry || len(in.ZipFile) != 22 {
		t.Errorf("parse = %+v, %v, %v", in, dry, err)
	}
}
