package logs

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/duro-run/duro/internal/conformance/placeholder"
	"github.com/duro-run/duro/internal/conformance/pyfmt"
	"github.com/duro-run/duro/internal/conformance/spec"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// recs builds records from lines, one millisecond apart, sequence = index.
func recs(lines ...string) []Record {
	out := make([]Record, len(lines))
	for i, l := range lines {
		out[i] = NewRecord(l, t0.Add(time.Duration(i)*time.Millisecond), int64(i))
	}
	return out
}

func expectations(t *testing.T, src string) []any {
	t.Helper()
	v, err := spec.DecodeYAML([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return v.([]any)
}

func TestParseLine(t *testing.T) {
	f, isJSON := ParseLine(`{"plugin": "P", "first": true, "n": 1}`)
	if !isJSON || pyfmt.Repr(f) != "{'plugin': 'P', 'first': True, 'n': 1}" {
		t.Errorf("JSON line: %s %v", pyfmt.Repr(f), isJSON)
	}
	f, isJSON = ParseLine("2026-01-01T00:00:00Z\treq\tINFO\thello")
	if isJSON || f.Len() != 1 || f.Value("message") != "2026-01-01T00:00:00Z\treq\tINFO\thello" {
		t.Errorf("text line: %s %v", pyfmt.Repr(f), isJSON)
	}
	if _, isJSON := ParseLine(`[1, 2]`); isJSON {
		t.Error("a JSON list counted as an object")
	}
}

func TestFieldMatches(t *testing.T) {
	tests := []struct {
		name     string
		expected any
		actual   any
		present  bool
		want     bool
	}{
		{"exact", "SUCCEEDED", "SUCCEEDED", true, true},
		{"trimmed", " a ", "a\n", true, true},
		{"absent", "a", nil, false, false},
		{"regex", "/step running for: abc/", "Greeting step running for: abc", true, true},
		{"regex case flag", "/(?i)^parallel$/", "PARALLEL", true, true},
		{"regex no match", "/^x$/", "y", true, false},
		{"regex any on bool", "/.*/", false, true, true},
		{"regex on number", "/^[0-5]$/", int64(3), true, true},
		{"bool identity", true, true, true, true},
		{"bool vs int", true, int64(1), true, false},
		{"bool vs string", false, "False", true, false},
		{"number float", int64(1), 1.0, true, true},
		{"number vs bool", int64(1), true, true, false},
		{"number vs string", int64(1), "1", true, false},
		{"string vs number", "1", int64(1), true, true},
		{"null", nil, nil, true, true},
		{"null vs absent", nil, nil, false, false},
	}
	for _, tc := range tests {
		got, err := FieldMatches(tc.expected, tc.actual, tc.present)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s: FieldMatches(%s, %s, %v) = %v, want %v", tc.name, pyfmt.Repr(tc.expected), pyfmt.Repr(tc.actual), tc.present, got, tc.want)
		}
	}
}

func TestValidateCounts(t *testing.T) {
	ctx := placeholder.NewSeeded(1)
	ctx.Bind("INPUT_1", "abc")
	records := recs(
		`{"message": "Greeting step started for: abc", "level": "INFO"}`,
		`{"message": "Greeting step completed with: Hello, abc!", "level": "INFO"}`,
		`{"plugin": "P", "hook": "fn-start", "n": 1}`,
		`{"plugin": "P", "hook": "fn-start", "n": 2}`,
		`plain text abc`,
	)
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"count ok", "- {match: {message: '/Greeting step started for: ${INPUT_1}/'}, count: 1}", nil},
		{"count zero ok", `- {match: {message: '/\[ERROR\]/'}, count: 0}`, nil},
		{"count wrong", "- {match: {message: '/${INPUT_1}/'}, count: 1}",
			[]string{"ExpectedLogs[0] match={'message': '/abc/'}: expected exactly 1 match(es), got 3"}},
		{"default min 1", "- {match: {hook: nope}}",
			[]string{"ExpectedLogs[0] match={'hook': 'nope'}: expected at least 1 match(es), got 0"}},
		{"min_count", "- {match: {hook: fn-start}, min_count: 2}", nil},
		{"min_count fails", "- {match: {hook: fn-start}, min_count: 3}",
			[]string{"ExpectedLogs[0] match={'hook': 'fn-start'}: expected at least 3 match(es), got 2"}},
		{"max_count only allows zero", "- {match: {hook: nope}, max_count: 1}", nil},
		{"max_count fails", "- {match: {plugin: P}, max_count: 1}",
			[]string{"ExpectedLogs[0] match={'plugin': 'P'}: expected at most 1 match(es), got 2"}},
		{"numbers as floats", "- {match: {plugin: P, n: 2.0}, count: 1}", nil},
		{"missing field never matches", "- {match: {missing: '/.*/'}, count: 0}", nil},
		{"bad entry", "- {count: 1}", []string{"ExpectedLogs[0]: invalid entry — 'match' must be a mapping of fields"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Validate(expectations(t, tc.yaml), records, ctx)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("errors\n %q\nwant\n %q", got, tc.want)
			}
		})
	}
}

func TestValidateOrdering(t *testing.T) {
	ctx := placeholder.NewSeeded(1)
	records := recs(
		`{"plugin": "P", "hook": "invocation-start", "first": true}`,
		`{"message": "step running"}`,
		`{"plugin": "P", "hook": "invocation-end", "status": "SUCCEEDED"}`,
	)
	// A record concurrent with the start (same timestamp and sequence).
	concurrent := NewRecord(`{"message": "concurrent"}`, records[0].Timestamp, records[0].Sequence)
	records = append(records, concurrent)
	tests := []struct {
		name string
		yaml string
		want string // substring of the only error; "" = none
	}{
		{"after ok", "- {match: {message: step running}, count: 1, after: [{hook: invocation-start, first: true}]}", ""},
		{"after single mapping", "- {match: {hook: invocation-end}, after: {message: step running}}", ""},
		{"before ok", "- {match: {hook: invocation-start}, before: [{message: step running}, {hook: invocation-end}]}", ""},
		{"after violated", "- {match: {hook: invocation-start}, after: [{message: step running}]}",
			"is not after the anchor {'message': 'step running'}"},
		{"before violated", "- {match: {hook: invocation-end}, before: [{message: step running}]}",
			"is not before the anchor {'message': 'step running'}"},
		{"anchor matches nothing", "- {match: {message: step running}, after: [{hook: never}]}",
			"after anchor {'hook': 'never'} matched no log records"},
		{"anchor matches nothing even with zero count", "- {match: {hook: x}, count: 0, after: [{hook: never}]}",
			"matched no log records"},
		{"concurrent is not out of order (after)", "- {match: {message: concurrent}, after: [{hook: invocation-start}]}", ""},
		{"concurrent is not out of order (before)", "- {match: {message: concurrent}, before: [{hook: invocation-start}]}", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Validate(expectations(t, tc.yaml), records, ctx)
			switch {
			case tc.want == "" && len(got) > 0:
				t.Errorf("unexpected errors %q", got)
			case tc.want != "" && (len(got) != 1 || !strings.Contains(got[0], tc.want)):
				t.Errorf("errors %q; want one containing %q", got, tc.want)
			}
		})
	}
}

func TestOrderingUsesSequenceWithinATimestamp(t *testing.T) {
	a := NewRecord(`{"m": "a"}`, t0, 2)
	b := NewRecord(`{"m": "b"}`, t0, 1)
	errs := Validate(expectations(t, "- {match: {m: a}, after: {m: b}}\n- {match: {m: b}, after: {m: a}}"), []Record{a, b}, placeholder.NewSeeded(1))
	if len(errs) != 1 || !strings.HasPrefix(errs[0], "ExpectedLogs[1]") {
		t.Errorf("errors %q", errs)
	}
}

func TestFilterExecution(t *testing.T) {
	arn := "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST/durable-execution/x/y"
	records := recs(
		fmt.Sprintf(`{"executionArn": %q, "message": "sdk"}`, arn),
		fmt.Sprintf(`{"durableExecutionArn": %q, "plugin": "P"}`, arn),
		`{"executionArn": "other", "message": "other"}`,
		`plain line`,
	)
	got := FilterExecution(records, arn)
	if len(got) != 2 || got[0].Fields.Value("message") != "sdk" || got[1].Fields.Value("plugin") != "P" {
		t.Errorf("filtered %v", got)
	}
}

func TestParseResponseVariants(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		n      int
		next   string
		seq    bool
		wantTS time.Time
	}{
		{"canonical", `{"Logs":[{"Timestamp":1767225600123,"Sequence":7,"RequestId":"r","Stream":"stdout","Message":"hi"}],"NextToken":"t2"}`,
			1, "t2", true, time.UnixMilli(1767225600123)},
		{"lower case, rfc3339, null token", `{"logs":[{"timestamp":"2026-01-01T00:00:00.5Z","message":"hi"}],"nextToken":null}`,
			1, "", false, time.Date(2026, 1, 1, 0, 0, 0, 5e8, time.UTC)},
		{"events and seconds", `{"Events":[{"Time":1767225600,"Line":"x","Id":3}]}`, 1, "", true, time.Unix(1767225600, 0)},
		{"nanoseconds", `{"Logs":[{"Timestamp":1767225600000000001,"Message":"x"}]}`, 1, "", false, time.Unix(1767225600, 1)},
		{"bare list", `[{"Message":"a"},{"Message":"b"}]`, 2, "", false, time.Time{}},
		{"empty token ends", `{"Logs":[],"NextToken":""}`, 0, "", false, time.Time{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rs, next, seq, err := ParseResponse([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if len(rs) != tc.n || next != tc.next || seq != tc.seq {
				t.Fatalf("got %d records, next %q, seq %v", len(rs), next, seq)
			}
			if tc.n > 0 && !rs[0].Timestamp.Equal(tc.wantTS) {
				t.Errorf("timestamp %v, want %v", rs[0].Timestamp, tc.wantTS)
			}
		})
	}
	for _, bad := range []string{`{"Nope":[]}`, `{"Logs":[{"Timestamp":1}]}`, `{"Logs":[{"Message":"x","Timestamp":"yesterday"}]}`, `nope`} {
		if _, _, _, err := ParseResponse([]byte(bad)); err == nil {
			t.Errorf("ParseResponse(%s) succeeded", bad)
		}
	}
}

func TestHTTPSourcePaginates(t *testing.T) {
	arn := "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST/durable-execution/x/y"
	// Mimics Duro's route: NextToken is the last row's ID, echoed
	// unchanged once there is nothing newer.
	rows := []string{"one", "two", "three"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != Path || r.URL.Query().Get("durableExecutionArn") != arn {
			http.NotFound(w, r)
			return
		}
		after := 0
		if tok := r.URL.Query().Get("NextToken"); tok != "" {
			fmt.Sscan(tok, &after)
		}
		var page []string
		for i := after; i < len(rows) && len(page) < 2; i++ {
			page = append(page, fmt.Sprintf(`{"Timestamp":1000000000000,"Stream":"stdout","Message":%q}`, rows[i]))
		}
		fmt.Fprintf(w, `{"Logs":[%s],"NextToken":"%d"}`, strings.Join(page, ","), after+len(page))
	}))
	defer srv.Close()
	rs, err := (&HTTPSource{Endpoint: srv.URL}).Logs(context.Background(), arn)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 3 || rs[0].Message != "one" || rs[2].Message != "three" || rs[2].Sequence != 2 {
		t.Errorf("records %+v", rs)
	}
	_, err = (&HTTPSource{Endpoint: srv.URL}).Logs(context.Background(), "other")
	if err == nil || !strings.Contains(err.Error(), "HTTP 404") {
		t.Errorf("missing route error = %v", err)
	}
}
