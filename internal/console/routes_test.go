package console_test

import (
	"fmt"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/duro-run/duro/internal/engine"
)

// listPage is the body of GET /duro/v1/executions.
type listPage struct {
	Executions []engine.ExecutionListItem
	NextMarker string
}

// TestConsoleRoutes drives Duro's console routes against a real server:
// the cross-function listing with its filters and paging, and an
// execution's operations nested by ParentId.
func TestConsoleRoutes(t *testing.T) {
	n := startNode(t)
	seedFunctions(n)
	order := n.invoke("order-workflow", "order-1", `{"orderId":"1","total":10}`)
	xss := n.invoke("xss-demo", "xss-1", `{"note":"hi"}`)
	pending := n.start("approval", "approval-1", `{"amount":5}`)
	n.awaitCallback(pending)

	names := func(p listPage) []string {
		var out []string
		for _, x := range p.Executions {
			out = append(out, x.DurableExecutionName)
		}
		return out
	}
	var all listPage
	n.getJSON("/duro/v1/executions", &all)
	if got := names(all); !slices.Equal(got, []string{"approval-1", "xss-1", "order-1"}) || all.NextMarker != "" {
		t.Fatalf("all executions, newest first: %q (next %q)", got, all.NextMarker)
	}
	if x := all.Executions[2]; x.DurableExecutionArn != order || x.FunctionName != "order-workflow" || x.FunctionVersion != "$LATEST" ||
		x.Status != "SUCCEEDED" || x.EndTimestamp == nil {
		t.Errorf("order item: %+v", x)
	}

	// Paging one at a time visits each once, in order.
	var paged []string
	marker := ""
	for range 5 {
		var p listPage
		n.getJSON("/duro/v1/executions?limit=1&marker="+url.QueryEscape(marker), &p)
		paged = append(paged, names(p)...)
		if marker = p.NextMarker; marker == "" {
			break
		}
	}
	if !slices.Equal(paged, names(all)) {
		t.Errorf("paged: %q, want %q", paged, names(all))
	}

	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"function=order-workflow", []string{"order-1"}},
		{"function=order-workflow%3A%24LATEST", []string{"order-1"}},
		{"status=RUNNING", []string{"approval-1"}},
		{"status=SUCCEEDED", []string{"xss-1", "order-1"}},
		{"status=RUNNING,FAILED", []string{"approval-1"}},
		{"name=xss-1", []string{"xss-1"}},
		{"function=approval&status=SUCCEEDED", nil},
		{"function=nobody", nil},
		{fmt.Sprintf("startedBefore=%d", all.Executions[1].StartTimestamp.Time().UnixMilli()), []string{"order-1"}},
		// Timestamps travel in milliseconds: past the one of xss-1 is after it.
		{"startedAfter=" + url.QueryEscape(all.Executions[1].StartTimestamp.Time().Add(time.Millisecond).Format(time.RFC3339Nano)), []string{"approval-1"}},
	} {
		var p listPage
		n.getJSON("/duro/v1/executions?"+tc.query, &p)
		if got := names(p); !slices.Equal(got, tc.want) {
			t.Errorf("?%s: %q, want %q", tc.query, got, tc.want)
		}
	}
	if status, body := n.get("/duro/v1/executions?marker=garbage"); status != 400 {
		t.Errorf("bad marker: %d %s", status, body)
	}

	// Operations, with payloads, nested by ParentId.
	var ops struct{ Operations []engine.Operation }
	n.getJSON("/duro/v1/executions/"+url.PathEscape(order)+"/operations", &ops)
	byName := map[string]engine.Operation{}
	for _, op := range ops.Operations {
		byName[op.Name] = op
	}
	payment, branch, charge := byName["payment"], byName["branch-authorize"], byName["authorize-card"]
	if payment.Type != engine.OpContext || branch.ParentId != payment.Id || charge.ParentId != branch.Id {
		t.Errorf("nesting: payment %+v, branch %+v, step %+v", payment, branch, charge)
	}
	if r := byName["reserve-stock"].StepDetails; r == nil || r.Attempt != 2 || r.Result == nil {
		t.Errorf("reserve-stock details: %+v", r)
	}
	if ops.Operations[0].Type != engine.OpExecution || ops.Operations[0].ExecutionDetails == nil {
		t.Errorf("first operation: %+v", ops.Operations[0])
	}
	n.getJSON("/duro/v1/executions/"+url.PathEscape(xss)+"/operations", &ops)
	if len(ops.Operations) != 2 || ops.Operations[1].Name != xssPayload {
		t.Errorf("xss operations: %+v", ops.Operations)
	}
	if status, _ := n.get("/duro/v1/executions/" + url.PathEscape(order+"x") + "/operations"); status != 404 {
		t.Errorf("unknown execution: %d, want 404", status)
	}
}
