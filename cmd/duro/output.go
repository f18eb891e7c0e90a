package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// writeJSON prints v as indented JSON: for SDK values, the API shape with
// its AWS member names, timestamps in RFC 3339, and absent (nil) members and
// the SDK's ResultMetadata left out, so that scripts see only what the
// server answered.
func writeJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode output: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return fmt.Errorf("encode output: %w", err)
	}
	b, err = json.MarshalIndent(prune(tree), "", "  ")
	if err != nil {
		return fmt.Errorf("encode output: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// prune drops null members and ResultMetadata from a decoded JSON tree.
func prune(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if e == nil || k == "ResultMetadata" {
				delete(x, k)
				continue
			}
			x[k] = prune(e)
		}
		return x
	case []any:
		for i := range x {
			x[i] = prune(x[i])
		}
		return x
	default:
		return v
	}
}

// rawJSON embeds a JSON document (an execution's input or result) in JSON
// output as itself rather than as a string; text that is not JSON is
// embedded as a string.
func rawJSON(s *string) any {
	if s == nil {
		return nil
	}
	if json.Valid([]byte(*s)) {
		return json.RawMessage(*s)
	}
	return *s
}

// newTable returns a tabwriter for column output.
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
}

// row writes one tab-separated row.
func row(tw io.Writer, cells ...string) {
	fmt.Fprintln(tw, strings.Join(cells, "\t"))
}

// prettyJSON indents a JSON document for people; other text is returned
// unchanged.
func prettyJSON(s string) string {
	var buf bytes.Buffer
	if err := json.Indent(&buf, []byte(s), "", "  "); err != nil {
		return s
	}
	return buf.String()
}

// oneLine shortens text to at most n runes on one line, for table cells.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// dash returns s, or "-" when it is empty (an empty table cell).
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// fmtTime formats a timestamp in local time with its distance from now:
// "15:04:05 (3m ago)" today, with the date otherwise.
func fmtTime(t *time.Time, now time.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	lt, ln := t.Local(), now.Local()
	layout := "2006-01-02 15:04:05"
	if lt.Year() == ln.Year() && lt.YearDay() == ln.YearDay() {
		layout = "15:04:05"
	}
	return lt.Format(layout) + " (" + relative(*t, now) + ")"
}

// relative describes t relative to now: "3m ago", "in 12s", "just now".
func relative(t, now time.Time) string {
	d := now.Sub(t)
	switch {
	case d > -time.Second && d < time.Second:
		return "just now"
	case d > 0:
		return fmtDuration(d) + " ago"
	default:
		return "in " + fmtDuration(-d)
	}
}

// fmtDuration formats a duration compactly with two units at most:
// "850ms", "12.3s", "4m05s", "2h07m", "3d04h".
func fmtDuration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	default:
		return fmt.Sprintf("%dd%02dh", int(d.Hours())/24, int(d.Hours())%24)
	}
}

// runTime describes how long an execution or operation ran: its duration
// when it ended, the time so far ("running 3.2s") otherwise.
func runTime(start, end *time.Time, now time.Time) string {
	switch {
	case start == nil:
		return "-"
	case end != nil:
		return fmtDuration(end.Sub(*start))
	default:
		return "running " + fmtDuration(now.Sub(*start))
	}
}

// fmtError formats an ErrorObject as "Type: message".
func fmtError(e *types.ErrorObject) string {
	if e == nil {
		return ""
	}
	typ, msg := aws.ToString(e.ErrorType), aws.ToString(e.ErrorMessage)
	switch {
	case typ == "":
		return msg
	case msg == "":
		return typ
	}
	return typ + ": " + msg
}

// readJSONArg reads a JSON flag value: the JSON text itself, or @FILE for
// the contents of a file (@- for standard input). It must be valid JSON
// (a usage error otherwise). An empty value gives nil.
func readJSONArg(flag, value string, stdin io.Reader) ([]byte, error) {
	if value == "" {
		return nil, nil
	}
	b := []byte(value)
	if name, ok := strings.CutPrefix(value, "@"); ok {
		var err error
		if name == "-" {
			b, err = io.ReadAll(stdin)
		} else {
			b, err = os.ReadFile(name)
		}
		if err != nil {
			return nil, usageErrorf("--%s %s: %v", flag, value, err)
		}
	}
	if !json.Valid(b) {
		var v any
		err := json.Unmarshal(b, &v)
		return nil, usageErrorf("--%s is not valid JSON: %v (quote strings: '\"text\"')", flag, err)
	}
	return b, nil
}
