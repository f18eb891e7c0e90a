package runner

import (
	"testing"

	"github.com/duro-run/duro/internal/conformance/pyfmt"
)

func TestTerminalStatus(t *testing.T) {
	ev := func(typ string) any { return pyfmt.MapOf("EventType", typ) }
	tests := []struct {
		events []any
		want   string
	}{
		{nil, ""},
		{[]any{ev("ExecutionStarted"), ev("InvocationCompleted")}, ""},
		{[]any{ev("ExecutionStarted"), ev("ExecutionSucceeded")}, "SUCCEEDED"},
		{[]any{ev("ExecutionStarted"), ev("ExecutionFailed")}, "FAILED"},
		{[]any{ev("ExecutionStarted"), ev("ExecutionTimedOut")}, "TIMED_OUT"},
		{[]any{ev("ExecutionStarted"), ev("ExecutionStopped")}, ""}, // not terminal upstream
	}
	for _, tc := range tests {
		if got := TerminalStatus(tc.events); got != tc.want {
			t.Errorf("TerminalStatus(%s) = %q, want %q", pyfmt.Repr(tc.events), got, tc.want)
		}
	}
}

func TestDropNulls(t *testing.T) {
	v, err := pyfmt.JSONLoads(`{"Events": [{"EventId": 1, "Name": null, "D": {"a": null, "b": []}}], "NextMarker": null}`)
	if err != nil {
		t.Fatal(err)
	}
	if got := pyfmt.Repr(dropNulls(v)); got != "{'Events': [{'EventId': 1, 'D': {'b': []}}]}" {
		t.Errorf("dropNulls = %s", got)
	}
}
