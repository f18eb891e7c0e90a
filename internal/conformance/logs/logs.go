// Package logs reads a durable execution's function log lines from Duro's
// log API and checks a requirement's ExpectedLogs against them
// (conformance.md §1.8).
//
// # Records
//
// A line that is a JSON object exposes its top-level keys; any other line
// exposes only "message" (the whole line). Upstream collects the lines with
// the CloudWatch filter
// { ($.durableExecutionArn = "<arn>") || ($.executionArn = "<arn>") },
// so by default [FilterExecution] keeps only JSON records carrying the
// execution's ARN in one of those keys; the log API already scopes lines to
// the execution, and a harness option can keep them all.
//
// # The log API
//
// [HTTPSource] reads GET {endpoint}/duro/v1/logs?durableExecutionArn=<arn>
// and follows pagination with &NextToken=<token>, stopping at an empty page,
// an absent or empty token, or a token that comes back unchanged. The
// response of Duro's route (internal/api/logs.go) is
//
//	{"Logs": [{"Timestamp": 1767225600123, "FunctionName": "…",
//	           "RequestId": "…", "DurableExecutionArn": "…",
//	           "Stream": "stdout", "Message": "<the raw line>"}],
//	 "NextToken": "42"}
//
// with lines in capture order; an optional per-line "Sequence" (the
// capture position) breaks timestamp ties exactly across pages.
// and the reader tolerates variations, matching member names
// case-insensitively:
//
//   - the list: Logs, Events, Records, Items or Lines (or a bare JSON array);
//   - the page token: NextToken, NextMarker or Marker (absent, null or "" ends);
//   - the line: Message, Line or Text (a missing line is an error);
//   - the time: Timestamp, Time, Ts or Date — a number is epoch seconds,
//     milliseconds, microseconds or nanoseconds by magnitude (< 1e11 s,
//     < 1e14 ms, < 1e17 µs, else ns), a string is RFC 3339 (with or without
//     fractional seconds) or a number in text;
//   - the capture order: Sequence, Seq, IngestionTime or Id (an integer);
//     when no record has one, the position in the response stands in;
//   - RequestId/RequestID and Stream are kept for reports only.
package logs

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/duro-run/duro/internal/conformance/pyfmt"
)

// Record is one captured log line.
type Record struct {
	// Timestamp is when the line was written.
	Timestamp time.Time
	// Sequence is the capture order (stands in for CloudWatch's
	// ingestionTime in the ordering key).
	Sequence int64
	// RequestID and Stream identify the invocation and output stream.
	RequestID string
	Stream    string
	// Message is the raw line.
	Message string
	// Fields are the keys ExpectedLogs matchers see: the top-level keys of
	// a JSON-object line, else just "message".
	Fields *pyfmt.Map
	// JSON is true when the line is a JSON object.
	JSON bool
}

// NewRecord builds a record from a raw line.
func NewRecord(line string, ts time.Time, seq int64) Record {
	r := Record{Timestamp: ts, Sequence: seq, Message: line}
	r.Fields, r.JSON = ParseLine(line)
	return r
}

// ParseLine returns the fields of a line: the JSON object's top-level keys
// when the (whitespace-trimmed) line is a JSON object, else {"message": line}.
func ParseLine(line string) (*pyfmt.Map, bool) {
	t := strings.TrimSpace(line)
	if strings.HasPrefix(t, "{") {
		if v, err := pyfmt.JSONLoads(t); err == nil {
			if m, ok := v.(*pyfmt.Map); ok {
				return m, true
			}
		}
	}
	return pyfmt.MapOf("message", line), false
}

// Before reports whether r sorts before o by (Timestamp, Sequence).
func (r Record) Before(o Record) bool { return r.compare(o) < 0 }

func (r Record) compare(o Record) int {
	switch {
	case r.Timestamp.Before(o.Timestamp):
		return -1
	case r.Timestamp.After(o.Timestamp):
		return 1
	case r.Sequence < o.Sequence:
		return -1
	case r.Sequence > o.Sequence:
		return 1
	}
	return 0
}

// FilterExecution keeps the records upstream's CloudWatch filter would
// return for an execution: JSON records whose durableExecutionArn or
// executionArn equals arn.
func FilterExecution(records []Record, arn string) []Record {
	var out []Record
	for _, r := range records {
		if !r.JSON {
			continue
		}
		if r.Fields.Value("durableExecutionArn") == arn || r.Fields.Value("executionArn") == arn {
			out = append(out, r)
		}
	}
	return out
}

// Source reads the log lines of one durable execution, in capture order.
type Source interface {
	Logs(ctx context.Context, executionArn string) ([]Record, error)
}

// Path is the log API route.
const Path = "/duro/v1/logs"

// HTTPSource reads Duro's log API.
type HTTPSource struct {
	// Endpoint is the server's base URL, e.g. "http://127.0.0.1:9014".
	Endpoint string
	// Client is the HTTP client (http.DefaultClient when nil).
	Client *http.Client
}

// maxPages bounds pagination against a server that never stops.
const maxPages = 10000

// Logs implements Source.
func (s *HTTPSource) Logs(ctx context.Context, executionArn string) ([]Record, error) {
	client := s.Client
	if client == nil {
		client = http.DefaultClient
	}
	base := strings.TrimRight(s.Endpoint, "/") + Path
	var records []Record
	sawSequence := false
	token := ""
	seen := map[string]bool{}
	for page := 0; ; page++ {
		if page >= maxPages {
			return nil, fmt.Errorf("log API: more than %d pages", maxPages)
		}
		q := url.Values{"durableExecutionArn": {executionArn}}
		if token != "" {
			q.Set("NextToken", token)
		}
		recs, next, hasSeq, err := s.page(ctx, client, base+"?"+q.Encode())
		if err != nil {
			return nil, err
		}
		sawSequence = sawSequence || hasSeq
		records = append(records, recs...)
		// The listing ends with an empty page, no token, or a token that
		// comes back unchanged (Duro's route echoes it when nothing is newer).
		if len(recs) == 0 || next == "" || next == token || seen[next] {
			break
		}
		seen[next] = true
		token = next
	}
	if !sawSequence {
		for i := range records {
			records[i].Sequence = int64(i)
		}
	}
	return records, nil
}

func (s *HTTPSource) page(ctx context.Context, client *http.Client, u string) ([]Record, string, bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, "", false, fmt.Errorf("log API request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, "", false, fmt.Errorf("log API GET %s: %w", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, "", false, fmt.Errorf("log API GET %s: read body: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		snippet := strings.TrimSpace(string(body))
		if len(snippet) > 300 {
			snippet = snippet[:300] + "…"
		}
		if resp.StatusCode == http.StatusNotFound {
			return nil, "", false, fmt.Errorf("log API GET %s: HTTP 404 (does the server have the %s route?): %s", u, Path, snippet)
		}
		return nil, "", false, fmt.Errorf("log API GET %s: HTTP %d: %s", u, resp.StatusCode, snippet)
	}
	return ParseResponse(body)
}

// ParseResponse decodes one log API page: the records, the next page token
// ("" when there is none) and whether any record carried a sequence.
func ParseResponse(body []byte) ([]Record, string, bool, error) {
	var top any
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	if err := dec.Decode(&top); err != nil {
		return nil, "", false, fmt.Errorf("log API: response is not JSON: %w", err)
	}
	var list []any
	next := ""
	switch t := top.(type) {
	case []any:
		list = t
	case map[string]any:
		found := false
		for _, k := range []string{"logs", "events", "records", "items", "lines"} {
			if v, ok := lookup(t, k); ok {
				l, ok := v.([]any)
				if !ok && v != nil {
					return nil, "", false, fmt.Errorf("log API: %q is not a list", k)
				}
				list, found = l, true
				break
			}
		}
		if !found {
			return nil, "", false, fmt.Errorf("log API: response has no Logs list")
		}
		for _, k := range []string{"nexttoken", "nextmarker", "marker"} {
			if v, ok := lookup(t, k); ok && v != nil {
				s, ok := v.(string)
				if !ok {
					return nil, "", false, fmt.Errorf("log API: %q is not a string", k)
				}
				next = s
				break
			}
		}
	default:
		return nil, "", false, fmt.Errorf("log API: response is neither an object nor a list")
	}
	out := make([]Record, 0, len(list))
	hasSeq := false
	for i, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			return nil, "", false, fmt.Errorf("log API: Logs[%d] is not an object", i)
		}
		r, seq, err := parseRecord(m)
		if err != nil {
			return nil, "", false, fmt.Errorf("log API: Logs[%d]: %w", i, err)
		}
		hasSeq = hasSeq || seq
		out = append(out, r)
	}
	return out, next, hasSeq, nil
}

// lookup finds a key case-insensitively.
func lookup(m map[string]any, lower string) (any, bool) {
	for k, v := range m {
		if strings.ToLower(k) == lower {
			return v, true
		}
	}
	return nil, false
}

func first(m map[string]any, keys ...string) (any, bool) {
	for _, k := range keys {
		if v, ok := lookup(m, k); ok && v != nil {
			return v, true
		}
	}
	return nil, false
}

func parseRecord(m map[string]any) (Record, bool, error) {
	msgV, ok := first(m, "message", "line", "text")
	if !ok {
		return Record{}, false, fmt.Errorf("no Message")
	}
	msg, ok := msgV.(string)
	if !ok {
		return Record{}, false, fmt.Errorf("Message is not a string")
	}
	var ts time.Time
	if v, ok := first(m, "timestamp", "time", "ts", "date"); ok {
		t, err := parseTime(v)
		if err != nil {
			return Record{}, false, fmt.Errorf("Timestamp: %w", err)
		}
		ts = t
	}
	var seq int64
	hasSeq := false
	if v, ok := first(m, "sequence", "seq", "ingestiontime", "id"); ok {
		n, err := integer(v)
		if err != nil {
			return Record{}, false, fmt.Errorf("Sequence: %w", err)
		}
		seq, hasSeq = n, true
	}
	r := NewRecord(msg, ts, seq)
	if v, ok := first(m, "requestid"); ok {
		r.RequestID, _ = v.(string)
	}
	if v, ok := first(m, "stream"); ok {
		r.Stream, _ = v.(string)
	}
	return r, hasSeq, nil
}

// parseTime accepts an epoch number (unit by magnitude) or a string
// (RFC 3339, or an epoch number in text).
func parseTime(v any) (time.Time, error) {
	switch t := v.(type) {
	case json.Number:
		if n, err := t.Int64(); err == nil {
			return epochInt(n), nil
		}
		f, err := t.Float64()
		if err != nil {
			return time.Time{}, fmt.Errorf("unrecognised time %s", t)
		}
		return epoch(f), nil
	case string:
		if n, err := strconv.ParseInt(t, 10, 64); err == nil {
			return epochInt(n), nil
		}
		if f, err := strconv.ParseFloat(t, 64); err == nil {
			return epoch(f), nil
		}
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00"} {
			if ts, err := time.Parse(layout, t); err == nil {
				return ts, nil
			}
		}
		return time.Time{}, fmt.Errorf("unrecognised time %q", t)
	}
	return time.Time{}, fmt.Errorf("unrecognised time %v", v)
}

func epoch(f float64) time.Time {
	a := math.Abs(f)
	switch {
	case a < 1e11:
		return time.Unix(0, int64(f*1e9))
	case a < 1e14:
		return time.UnixMilli(0).Add(time.Duration(f * float64(time.Millisecond)))
	case a < 1e17:
		return time.UnixMicro(int64(f))
	default:
		return time.Unix(0, int64(f))
	}
}

func epochInt(n int64) time.Time {
	a := n
	if a < 0 {
		a = -a
	}
	switch {
	case a < 1e11:
		return time.Unix(n, 0)
	case a < 1e14:
		return time.UnixMilli(n)
	case a < 1e17:
		return time.UnixMicro(n)
	default:
		return time.Unix(0, n)
	}
}

// integer converts a JSON number or numeric string to an int64.
func integer(v any) (int64, error) {
	var s string
	switch t := v.(type) {
	case json.Number:
		s = string(t)
	case string:
		s = t
	default:
		return 0, fmt.Errorf("%v is not an integer", v)
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) {
		return 0, fmt.Errorf("%q is not an integer", s)
	}
	return int64(f), nil
}
