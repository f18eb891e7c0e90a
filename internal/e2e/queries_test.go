package e2e

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/duro-run/duro/internal/durable"
)

func TestHistoryPaging(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.durableFunction("many-steps", nil, func(c *durable.Context, _ json.RawMessage) (any, error) {
		for i := 0; i < 5; i++ {
			if _, err := c.Step(fmt.Sprint("s", i), func() (any, error) { return i, nil }); err != nil {
				return nil, err
			}
		}
		return "done", nil
	})
	out := e.invoke("many-steps", "", `{}`)
	arn := aws.ToString(out.DurableExecutionArn)
	all := e.history(arn) // one page: no MaxItems
	checkHistory(t, all, 1)
	if len(all) != 13 {
		t.Fatalf("history has %d events, want 13: %v", len(all), eventTypes(all))
	}
	ids := func(events []types.Event) []int32 {
		out := make([]int32, len(events))
		for i, ev := range events {
			out[i] = aws.ToInt32(ev.EventId)
		}
		return out
	}
	forward := ids(all)
	backward := slices.Clone(forward)
	slices.Reverse(backward)

	for _, tc := range []struct {
		maxItems int32
		reverse  bool
	}{{1, false}, {4, false}, {13, false}, {100, false}, {1, true}, {5, true}, {0, true}} {
		t.Run(fmt.Sprintf("MaxItems=%d,Reverse=%v", tc.maxItems, tc.reverse), func(t *testing.T) {
			var got []types.Event
			pages := 0
			p := lambda.NewGetDurableExecutionHistoryPaginator(e.client, &lambda.GetDurableExecutionHistoryInput{
				DurableExecutionArn: aws.String(arn), MaxItems: tc.maxItems, ReverseOrder: aws.Bool(tc.reverse)})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx(t))
				if err != nil {
					t.Fatalf("page %d: %v", pages+1, err)
				}
				pages++
				if tc.maxItems > 0 && len(page.Events) > int(tc.maxItems) {
					t.Errorf("page of %d events with MaxItems %d", len(page.Events), tc.maxItems)
				}
				got = append(got, page.Events...)
			}
			want := forward
			if tc.reverse {
				want = backward
			}
			if !slices.Equal(ids(got), want) {
				t.Errorf("EventIds = %v, want %v", ids(got), want)
			}
			wantPages := 1
			if tc.maxItems > 0 {
				wantPages = (len(all) + int(tc.maxItems) - 1) / int(tc.maxItems)
			}
			if pages != wantPages {
				t.Errorf("%d pages, want %d", pages, wantPages)
			}
		})
	}

	// A marker taken by hand continues where the page ended.
	first, err := e.client.GetDurableExecutionHistory(ctx(t), &lambda.GetDurableExecutionHistoryInput{DurableExecutionArn: aws.String(arn), MaxItems: 3})
	if err != nil || len(first.Events) != 3 || aws.ToString(first.NextMarker) == "" {
		t.Fatalf("first page = %d events, marker %q, %v", len(first.Events), aws.ToString(first.NextMarker), err)
	}
	second, err := e.client.GetDurableExecutionHistory(ctx(t), &lambda.GetDurableExecutionHistoryInput{DurableExecutionArn: aws.String(arn), MaxItems: 3, Marker: first.NextMarker})
	if err != nil || !slices.Equal(ids(second.Events), forward[3:6]) {
		t.Errorf("second page = %v, %v; want %v", ids(second.Events), err, forward[3:6])
	}
	for _, bad := range []int32{1001, -1} {
		_, err = e.client.GetDurableExecutionHistory(ctx(t), &lambda.GetDurableExecutionHistoryInput{DurableExecutionArn: aws.String(arn), MaxItems: bad})
		apiErr[*types.InvalidParameterValueException](t, err)
	}
}

func TestListDurableExecutionsByFunction(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// {"fail":true} fails; {"block":true} waits on a callback forever.
	e.durableFunction("lister", nil, func(c *durable.Context, in json.RawMessage) (any, error) {
		var req struct{ Fail, Block bool }
		_ = json.Unmarshal(in, &req)
		if req.Block {
			_, wait := c.Callback("", 0, 0)
			return wait()
		}
		if req.Fail {
			return nil, &durable.Error{Type: "Failed", Message: "asked to"}
		}
		return "ok", nil
	})
	if _, err := e.client.PublishVersion(ctx(t), &lambda.PublishVersionInput{FunctionName: aws.String("lister")}); err != nil {
		t.Fatal(err)
	}
	type started struct {
		name, version string
		status        types.ExecutionStatus
		arn           string
	}
	runs := []started{
		{"a1", latest, types.ExecutionStatusSucceeded, ""},
		{"a2", latest, types.ExecutionStatusFailed, ""},
		{"b1", "1", types.ExecutionStatusSucceeded, ""},
		{"a3", latest, types.ExecutionStatusRunning, ""},
		{"b2", "1", types.ExecutionStatusFailed, ""},
		{"a4", latest, types.ExecutionStatusSucceeded, ""},
	}
	var mid time.Time // between the third and the fourth start
	for i := range runs {
		r := &runs[i]
		payload := `{}`
		switch r.status {
		case types.ExecutionStatusFailed:
			payload = `{"fail":true}`
		case types.ExecutionStatusRunning:
			payload = `{"block":true}`
		}
		r.arn = e.start("lister", r.version, r.name, payload)
		if r.status == types.ExecutionStatusRunning {
			e.callbackStarted(r.arn)
		} else {
			e.awaitStatus(r.arn, r.status)
		}
		// Distinct start times, so that the order and the time filters are
		// unambiguous at the API's millisecond precision.
		time.Sleep(15 * time.Millisecond)
		if i == 2 {
			mid = time.Now()
			time.Sleep(15 * time.Millisecond)
		}
	}
	names := func(idx ...int) []string {
		var out []string
		for _, i := range idx {
			out = append(out, runs[i].name)
		}
		return out
	}

	cases := []struct {
		name string
		in   lambda.ListDurableExecutionsByFunctionInput
		want []string
	}{
		{"default is newest first", lambda.ListDurableExecutionsByFunctionInput{}, names(5, 4, 3, 2, 1, 0)},
		{"ReverseOrder is oldest first", lambda.ListDurableExecutionsByFunctionInput{ReverseOrder: aws.Bool(true)}, names(0, 1, 2, 3, 4, 5)},
		{"ReverseOrder=false", lambda.ListDurableExecutionsByFunctionInput{ReverseOrder: aws.Bool(false)}, names(5, 4, 3, 2, 1, 0)},
		{"Qualifier 1", lambda.ListDurableExecutionsByFunctionInput{Qualifier: aws.String("1")}, names(4, 2)},
		{"Qualifier $LATEST", lambda.ListDurableExecutionsByFunctionInput{Qualifier: aws.String(latest)}, names(5, 3, 1, 0)},
		{"qualified function name", lambda.ListDurableExecutionsByFunctionInput{FunctionName: aws.String("lister:1")}, names(4, 2)},
		{"function ARN", lambda.ListDurableExecutionsByFunctionInput{FunctionName: aws.String("arn:aws:lambda:us-east-1:123456789012:function:lister")}, names(5, 4, 3, 2, 1, 0)},
		{"DurableExecutionName", lambda.ListDurableExecutionsByFunctionInput{DurableExecutionName: aws.String("a2")}, names(1)},
		{"unknown DurableExecutionName", lambda.ListDurableExecutionsByFunctionInput{DurableExecutionName: aws.String("zz")}, nil},
		{"Statuses FAILED", lambda.ListDurableExecutionsByFunctionInput{Statuses: []types.ExecutionStatus{types.ExecutionStatusFailed}}, names(4, 1)},
		{"Statuses RUNNING+SUCCEEDED", lambda.ListDurableExecutionsByFunctionInput{
			Statuses: []types.ExecutionStatus{types.ExecutionStatusRunning, types.ExecutionStatusSucceeded}}, names(5, 3, 2, 0)},
		{"StartedAfter", lambda.ListDurableExecutionsByFunctionInput{StartedAfter: aws.Time(mid)}, names(5, 4, 3)},
		{"StartedBefore", lambda.ListDurableExecutionsByFunctionInput{StartedBefore: aws.Time(mid)}, names(2, 1, 0)},
		{"StartedAfter+Before", lambda.ListDurableExecutionsByFunctionInput{
			StartedAfter: aws.Time(mid.Add(-time.Hour)), StartedBefore: aws.Time(mid), ReverseOrder: aws.Bool(true)}, names(0, 1, 2)},
		{"all filters", lambda.ListDurableExecutionsByFunctionInput{
			Qualifier: aws.String(latest), Statuses: []types.ExecutionStatus{types.ExecutionStatusSucceeded},
			StartedAfter: aws.Time(mid), ReverseOrder: aws.Bool(true)}, names(5)},
	}
	for _, tc := range cases {
		for _, pageSize := range []int32{0, 1, 4} {
			t.Run(fmt.Sprintf("%s/MaxItems=%d", tc.name, pageSize), func(t *testing.T) {
				in := tc.in
				if in.FunctionName == nil {
					in.FunctionName = aws.String("lister")
				}
				in.MaxItems = pageSize
				var got []string
				var items []types.Execution
				pages := 0
				p := lambda.NewListDurableExecutionsByFunctionPaginator(e.client, &in)
				for p.HasMorePages() {
					page, err := p.NextPage(ctx(t))
					if err != nil {
						t.Fatalf("page %d: %v", pages+1, err)
					}
					pages++
					if pageSize > 0 && len(page.DurableExecutions) > int(pageSize) {
						t.Errorf("page of %d with MaxItems %d", len(page.DurableExecutions), pageSize)
					}
					for _, x := range page.DurableExecutions {
						got = append(got, aws.ToString(x.DurableExecutionName))
						items = append(items, x)
					}
				}
				if !sameStrings(got, tc.want) {
					t.Errorf("executions = %v, want %v", got, tc.want)
				}
				if pageSize > 0 && len(tc.want) > 0 {
					if wantPages := (len(tc.want) + int(pageSize) - 1) / int(pageSize); pages < wantPages || pages > wantPages+1 {
						t.Errorf("%d pages for %d items at MaxItems %d", pages, len(tc.want), pageSize)
					}
				}
				for _, x := range items {
					var r *started
					for i := range runs {
						if runs[i].name == aws.ToString(x.DurableExecutionName) {
							r = &runs[i]
						}
					}
					if r == nil || aws.ToString(x.DurableExecutionArn) != r.arn || x.Status != r.status ||
						aws.ToString(x.FunctionArn) != "arn:aws:lambda:us-east-1:123456789012:function:lister:"+r.version ||
						x.StartTimestamp == nil || (x.EndTimestamp == nil) != (r.status == types.ExecutionStatusRunning) {
						t.Errorf("item %+v does not describe run %+v", x, r)
					}
				}
			})
		}
	}

	bad := []lambda.ListDurableExecutionsByFunctionInput{
		{FunctionName: aws.String("lister"), MaxItems: 1001},
		{FunctionName: aws.String("lister"), Statuses: []types.ExecutionStatus{"SLEEPING"}},
		{FunctionName: aws.String("lister"), DurableExecutionName: aws.String("bad name!")},
		{FunctionName: aws.String("lister"), Marker: aws.String("not-a-marker")},
	}
	for _, in := range bad {
		_, err := e.client.ListDurableExecutionsByFunction(ctx(t), &in)
		apiErr[*types.InvalidParameterValueException](t, err)
	}
}

// TestGetDurableExecutionFunctionAndConfig reads an execution's qualified
// function ARN (the execution ARN's prefix) and its function's
// DurableConfig back through the wire: a config with both members, and one
// with the timeout only.
func TestGetDurableExecutionFunctionAndConfig(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	done := func(*durable.Context, json.RawMessage) (any, error) { return "ok", nil }
	for _, tc := range []struct {
		fn string
		dc types.DurableConfig
	}{
		{"both-set", types.DurableConfig{ExecutionTimeout: aws.Int32(900), RetentionPeriodInDays: aws.Int32(3)}},
		{"timeout-only", types.DurableConfig{ExecutionTimeout: aws.Int32(600)}},
	} {
		e.durableFunction(tc.fn, &tc.dc, done)
		out := e.invoke(tc.fn, "run-1", `{}`)
		arn := aws.ToString(out.DurableExecutionArn)
		d := e.describe(arn)
		wantFn := "arn:aws:lambda:us-east-1:123456789012:function:" + tc.fn + ":$LATEST"
		if aws.ToString(d.FunctionArn) != wantFn || !strings.HasPrefix(arn, wantFn+"/durable-execution/run-1/") {
			t.Errorf("%s: FunctionArn %q of execution %s, want %q", tc.fn, aws.ToString(d.FunctionArn), arn, wantFn)
		}
		if d.DurableConfig == nil || aws.ToInt32(d.DurableConfig.ExecutionTimeout) != aws.ToInt32(tc.dc.ExecutionTimeout) ||
			(d.DurableConfig.RetentionPeriodInDays == nil) != (tc.dc.RetentionPeriodInDays == nil) ||
			aws.ToInt32(d.DurableConfig.RetentionPeriodInDays) != aws.ToInt32(tc.dc.RetentionPeriodInDays) {
			t.Errorf("%s: DurableConfig %+v, want %+v", tc.fn, d.DurableConfig, tc.dc)
		}
	}
}
