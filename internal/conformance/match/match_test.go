package match

import (
	"strings"
	"testing"

	"github.com/duro-run/duro/internal/conformance/placeholder"
	"github.com/duro-run/duro/internal/conformance/pyfmt"
	"github.com/duro-run/duro/internal/conformance/spec"
)

// y decodes a YAML snippet with the requirement loader's rules.
func y(t *testing.T, src string) any {
	t.Helper()
	v, err := spec.DecodeYAML([]byte(src))
	if err != nil {
		t.Fatalf("YAML %q: %v", src, err)
	}
	return v
}

// j decodes JSON with json.loads rules (the actual side).
func j(t *testing.T, src string) any {
	t.Helper()
	v, err := pyfmt.JSONLoads(src)
	if err != nil {
		t.Fatalf("JSON %q: %v", src, err)
	}
	return v
}

func TestMatchValue(t *testing.T) {
	tests := []struct {
		name     string
		expected string // YAML
		actual   string // JSON
		wantErr  string // substring of the first mismatch; "" = match
	}{
		{"subset map", "{a: 1}", `{"a": 1, "b": 2}`, ""},
		{"star present", "{a: '*'}", `{"a": null}`, ""},
		{"star missing key", "{a: '*'}", `{"b": 1}`, "Value.a: key missing in actual event"},
		{"empty map present", "{StepStartedDetails: {}}", `{"StepStartedDetails": {}}`, ""},
		{"empty map present non-map", "{d: {}}", `{"d": "x"}`, ""},
		{"empty map on absent member", "{StepStartedDetails: {}}", `{"EventId": 2}`, "Value.StepStartedDetails: key missing in actual event"},
		{"nested missing", "{a: {b: {c: 1}}}", `{"a": {"b": {}}}`, "Value.a.b.c: key missing in actual event"},
		{"list equal", "{l: [1, x]}", `{"l": [1, "x"]}`, ""},
		{"list length mismatch", "{l: [1, 2]}", `{"l": [1, 2, 3]}`, "Value.l: list length mismatch (expected 2, got 3)"},
		{"list element", "{l: [1, 2]}", `{"l": [1, 3]}`, "Value.l[1]: expected 2, got 3"},
		{"int vs float", "{n: 1}", `{"n": 1.0}`, ""},
		{"float vs int", "{n: 2.0}", `{"n": 2}`, ""},
		{"bool vs int", "{b: true}", `{"b": 1}`, ""},
		{"false vs zero", "{b: false}", `{"b": 0}`, ""},
		{"bool vs two", "{b: true}", `{"b": 2}`, "Value.b: expected True, got 2"},
		{"str vs int", "{n: '1'}", `{"n": 1}`, "Value.n: expected '1', got 1"},
		{"int vs str", "{n: 1}", `{"n": "1"}`, "Value.n: expected 1, got '1'"},
		{"null vs missing value", "{n: null}", `{"n": null}`, ""},
		{"regex on int", "{d: '${/^[0-5]$/}'}", `{"d": 3}`, ""},
		{"regex on int fails", "{d: '${/^[0-5]$/}'}", `{"d": 7}`, "Value.d: value 7 does not match regex pattern '^[0-5]$'"},
		{"regex on float str", "{d: '${/^3$/}'}", `{"d": 3.0}`, "value 3.0 does not match regex pattern '^3$'"},
		{"regex unanchored", "{e: '${/.*TransientError$/}'}", `{"e": "app.TransientError"}`, ""},
		{"regex on bool", "{b: '${/^True$/}'}", `{"b": true}`, ""},
		{"regex missing key", "{d: '${/x/}'}", `{}`, "Value.d: key missing in actual event"},
		{"regex invalid for RE2", "{d: '${/(?=x)/}'}", `{"d": "x"}`, "invalid regex pattern"},
		{"map vs scalar", "{a: {b: 1}}", `{"a": "s"}`, "Value.a: expected {'b': 1}, got 's'"},
		{"list vs scalar", "{a: [1]}", `{"a": 1}`, "Value.a: expected [1], got 1"},
		{"json directive", "{p: {'${JSON}': {status: '*'}}}", `{"p": "{\"status\": \"ok\"}"}`, ""},
		{"json directive mismatch", "{p: {'${JSON}': {status: x}}}", `{"p": "{\"status\": \"ok\"}"}`, "Value.p<json>.status: expected 'x', got 'ok'"},
		{"json directive not string", "{p: {'${JSON}': {}}}", `{"p": 1}`, "${JSON} expects a JSON string to decode, got int"},
		{"absent ok", "{a: '${ABSENT}'}", `{"b": 1}`, ""},
		{"absent present", "{a: '${ABSENT}'}", `{"a": 1}`, "Value.a: expected key to be ABSENT, but it is present with value 1"},
		{"truncated false", "{Result: {Payload: 'x', Truncated: false}}", `{"Result": {"Payload": "x"}}`, "Value.Result.Truncated: key missing in actual event"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := New(placeholder.NewSeeded(1))
			errs := m.MatchValue(y(t, tc.expected), j(t, tc.actual), "Value")
			switch {
			case tc.wantErr == "" && len(errs) > 0:
				t.Errorf("unexpected mismatch: %v", Messages(errs))
			case tc.wantErr != "" && len(errs) == 0:
				t.Errorf("matched; want mismatch %q", tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(errs[0].Message, tc.wantErr):
				t.Errorf("first mismatch %q; want it to contain %q", errs[0].Message, tc.wantErr)
			}
		})
	}
}

func TestPlaceholdersBindAndCompare(t *testing.T) {
	ctx := placeholder.NewSeeded(1)
	ctx.Bind("CB_NAME", "abc")
	expected := y(t, `
- {EventId: 2, Id: '${ID1}', Name: '${CB_NAME}', Payload: '"${CB_NAME}"'}
- {EventId: 3, Id: '${ID1}', Other: '${ID2}'}
- {EventId: 4, Id: '${ID2}'}
`).([]any)
	actual := j(t, `[
 {"EventId": 1, "EventType": "ExecutionStarted"},
 {"EventId": 2, "Id": "op1", "Name": "abc", "Payload": "\"abc\""},
 {"EventId": 3, "Id": "op1", "Other": "op1"},
 {"EventId": 4, "Id": "op1"}
]`).([]any)
	if errs := New(ctx).Match(expected, actual); len(errs) != 0 {
		t.Fatalf("mismatches: %v", Messages(errs))
	}
	if v, _ := ctx.Get("ID1"); v != "op1" {
		t.Errorf("ID1 = %v", v)
	}
	// Different names may bind the same value: ID2 == ID1 is fine.
	if v, _ := ctx.Get("ID2"); v != "op1" {
		t.Errorf("ID2 = %v", v)
	}

	// A bound placeholder is an assertion.
	ctx2 := placeholder.NewSeeded(1)
	ctx2.Bind("CB_NAME", "abc")
	actual[1].(*pyfmt.Map).Set("Name", "zzz")
	actual[3].(*pyfmt.Map).Set("Id", "op2")
	errs := New(ctx2).Match(expected, actual)
	want := []string{
		"Event[EventId=2].Name: placeholder ${CB_NAME} was previously bound to 'abc', but got 'zzz'",
		"Event[EventId=4].Id: placeholder ${ID2} was previously bound to 'op1', but got 'op2'",
	}
	if got := Messages(errs); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("mismatches\n %s\nwant\n %s", strings.Join(got, "\n "), strings.Join(want, "\n "))
	}
	if errs[0].Path != "Event[EventId=2].Name" || errs[0].Expected != "abc" || errs[0].Actual != "zzz" {
		t.Errorf("first mismatch fields: %+v", errs[0])
	}

	// Placeholder equality is Python ==: 1 binds, then 1.0 matches.
	ctx3 := placeholder.NewSeeded(1)
	m := New(ctx3)
	if errs := m.MatchValue(y(t, "[ '${N}', '${N}' ]"), j(t, "[1, 1.0]"), "V"); len(errs) != 0 {
		t.Errorf("1 vs 1.0 under one placeholder: %v", Messages(errs))
	}
}

func TestMatchByEventID(t *testing.T) {
	actual := j(t, `[
 {"EventId": 1, "EventType": "ExecutionStarted"},
 {"EventId": 2, "EventType": "StepStarted", "StepStartedDetails": {}},
 {"EventId": 3, "EventType": "StepSucceeded"}
]`).([]any)
	tests := []struct {
		name     string
		expected string
		want     []string
	}{
		{"unmentioned events ignored", "- {EventId: 3, EventType: StepSucceeded}", nil},
		{"missing id", "- {EventId: 9, EventType: StepSucceeded}", []string{"No actual event found for EventId=9"}},
		{"no EventId", "- {EventType: StepSucceeded}", []string{"Expected event missing EventId: {'EventType': 'StepSucceeded'}"}},
		{"float EventId", "- {EventId: 2.0, EventType: StepStarted}", nil},
		{"shifted ids", "- {EventId: 2, EventType: StepSucceeded}\n- {EventId: 3, EventType: InvocationCompleted}",
			[]string{"Event[EventId=2].EventType: expected 'StepSucceeded', got 'StepStarted'", "Event[EventId=3].EventType: expected 'InvocationCompleted', got 'StepSucceeded'"}},
		{"details missing", "- {EventId: 3, StepSucceededDetails: {}}", []string{"Event[EventId=3].StepSucceededDetails: key missing in actual event"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			errs := New(placeholder.NewSeeded(1)).Match(y(t, tc.expected).([]any), actual)
			if got := Messages(errs); strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("mismatches %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLiteralSubstitution(t *testing.T) {
	ctx := placeholder.NewSeeded(1)
	ctx.Bind("INPUT_1", "xyz")
	m := New(ctx)
	if errs := m.MatchValue("Hello, ${INPUT_1}!", "Hello, xyz!", "V"); len(errs) != 0 {
		t.Errorf("substituted literal: %v", Messages(errs))
	}
	errs := m.MatchValue("Hello, ${INPUT_1}!", "Hello, abc!", "V")
	if len(errs) != 1 || errs[0].Message != "V: expected 'Hello, xyz!', got 'Hello, abc!'" {
		t.Errorf("mismatch: %v", Messages(errs))
	}
	// An unbound name inside a longer string stays literal.
	if errs := m.MatchValue("a ${NOPE}", "a ${NOPE}", "V"); len(errs) != 0 {
		t.Errorf("unbound literal: %v", Messages(errs))
	}
}

func TestInheritWaitForCallbackNames(t *testing.T) {
	events := j(t, `[
 {"EventId": 2, "EventType": "ContextStarted", "SubType": "WaitForCallback", "Id": "c1", "Name": "cb-name"},
 {"EventId": 3, "EventType": "CallbackStarted", "Id": "c1-1", "ParentId": "c1"},
 {"EventId": 4, "EventType": "StepStarted", "Id": "c1-2", "ParentId": "c1"},
 {"EventId": 5, "EventType": "StepSucceeded", "Id": "c1-2", "ParentId": "c1", "Name": "own"},
 {"EventId": 6, "EventType": "CallbackSucceeded", "Id": "c1-1", "ParentId": "c1"},
 {"EventId": 7, "EventType": "StepStarted", "Id": "2"},
 {"EventId": 8, "EventType": "ContextStarted", "SubType": "RunInChildContext", "Id": "c2", "Name": "child"},
 {"EventId": 9, "EventType": "StepStarted", "Id": "c2-1", "ParentId": "c2"}
]`).([]any)
	InheritWaitForCallbackNames(events)
	want := map[int]any{3: "cb-name", 4: "cb-name", 5: "own", 6: nil, 7: nil, 9: nil}
	for i, ev := range events {
		m := ev.(*pyfmt.Map)
		id := int(m.Value("EventId").(int64))
		w, check := want[id]
		if !check {
			continue
		}
		if got := m.Value("Name"); !pyfmt.Equal(got, w) {
			t.Errorf("event %d (index %d): Name = %s, want %s", id, i, pyfmt.Repr(got), pyfmt.Repr(w))
		}
	}
}
