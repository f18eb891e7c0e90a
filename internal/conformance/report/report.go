// Package report holds the conformance harness's verdicts and renders them:
// one console line per requirement, a per-suite summary, JUnit XML (one
// <testsuite> per suite, <testcase classname="js.<suite>" name="<id>">, as
// AWS's SDK CI names them) and a JSON report with full errors, bindings and
// saved histories.
package report

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/duro-run/duro/internal/conformance/pyfmt"
	"github.com/duro-run/duro/internal/conformance/spec"
)

// Status is a requirement's verdict.
type Status string

// Verdicts (conformance.md §2.1).
const (
	Passed         Status = "PASSED"
	Failed         Status = "FAILED"
	OptionalFailed Status = "OPTIONAL_FAILED"
	NotImplemented Status = "NOT_IMPLEMENTED"
	Uncovered      Status = "UNCOVERED"
)

// Result is the outcome of one requirement.
type Result struct {
	ID          string `json:"id"`
	Suite       string `json:"suite"`
	Description string `json:"description,omitempty"`
	Status      Status `json:"status"`
	Optional    bool   `json:"optional,omitempty"`
	Async       bool   `json:"async,omitempty"`
	// Function is the template's logical ID; FunctionName the name invoked.
	Function     string `json:"function,omitempty"`
	FunctionName string `json:"functionName,omitempty"`
	// Errors are all mismatches and failures, the first being the headline.
	Errors []string `json:"errors,omitempty"`
	// Reason is the NotImplemented reason.
	Reason       string        `json:"reason,omitempty"`
	ExecutionArn string        `json:"executionArn,omitempty"`
	Duration     time.Duration `json:"-"`
	// Placeholders are the bindings at the end of the run.
	Placeholders *pyfmt.Map `json:"placeholders,omitempty"`
	// History is the last GetDurableExecutionHistory response, raw.
	History json.RawMessage `json:"history,omitempty"`
}

// FirstError is the headline failure, on one line.
func (r Result) FirstError() string {
	if len(r.Errors) == 0 {
		return ""
	}
	msg := oneLine(r.Errors[0])
	if n := len(r.Errors) - 1; n > 0 {
		msg += fmt.Sprintf(" (+%d more)", n)
	}
	return msg
}

func oneLine(s string) string {
	return strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
}

// Line is the console line: "PASSED <id>", "FAILED <id>: <first error>",
// "OPTIONAL_FAILED <id>: …", "NOT_IMPLEMENTED <id>: <reason>",
// "UNCOVERED <id>".
func (r Result) Line() string {
	switch r.Status {
	case Passed, Uncovered:
		return fmt.Sprintf("%s %s", r.Status, r.ID)
	case NotImplemented:
		return fmt.Sprintf("%s %s: %s", r.Status, r.ID, oneLine(r.Reason))
	default:
		return fmt.Sprintf("%s %s: %s", r.Status, r.ID, r.FirstError())
	}
}

// Report is a whole run.
type Report struct {
	Results  []Result
	Started  time.Time
	Duration time.Duration
}

// Sort orders results by suite, then naturally by ID.
func (rep *Report) Sort() {
	sort.SliceStable(rep.Results, func(i, j int) bool {
		a, b := rep.Results[i], rep.Results[j]
		if a.Suite != b.Suite {
			return spec.SuiteLess(a.Suite, b.Suite, a.ID, b.ID)
		}
		return spec.IDLess(a.ID, b.ID)
	})
}

// Counts tallies verdicts.
type Counts struct {
	Passed, Failed, OptionalFailed, NotImplemented, Uncovered int
}

// Total is the number of requirements counted.
func (c Counts) Total() int {
	return c.Passed + c.Failed + c.OptionalFailed + c.NotImplemented + c.Uncovered
}

func (c *Counts) add(s Status) {
	switch s {
	case Passed:
		c.Passed++
	case Failed:
		c.Failed++
	case OptionalFailed:
		c.OptionalFailed++
	case NotImplemented:
		c.NotImplemented++
	case Uncovered:
		c.Uncovered++
	}
}

// SuiteSummary is one suite's tally.
type SuiteSummary struct {
	Suite string
	Counts
	Duration time.Duration
}

// Summaries tallies each suite, in suite order.
func (rep *Report) Summaries() []SuiteSummary {
	idx := map[string]int{}
	var out []SuiteSummary
	var firstID []string
	for _, r := range rep.Results {
		i, ok := idx[r.Suite]
		if !ok {
			i = len(out)
			idx[r.Suite] = i
			out = append(out, SuiteSummary{Suite: r.Suite})
			firstID = append(firstID, r.ID)
		}
		out[i].add(r.Status)
		out[i].Duration += r.Duration
	}
	order := make([]int, len(out))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		return spec.SuiteLess(out[order[a]].Suite, out[order[b]].Suite, firstID[order[a]], firstID[order[b]])
	})
	sorted := make([]SuiteSummary, len(out))
	for i, o := range order {
		sorted[i] = out[o]
	}
	return sorted
}

// Totals tallies the whole run.
func (rep *Report) Totals() Counts {
	var c Counts
	for _, r := range rep.Results {
		c.add(r.Status)
	}
	return c
}

// Failed reports whether the run fails: a required requirement FAILED or
// is UNCOVERED (a requirement the harness cannot run counts as failed).
func (rep *Report) Failed() bool {
	c := rep.Totals()
	return c.Failed > 0 || c.Uncovered > 0
}

// FinalLine is "N passed, M failed", M counting FAILED and UNCOVERED;
// optional failures and not-implemented requirements are appended when
// there are any.
func (rep *Report) FinalLine() string {
	c := rep.Totals()
	s := fmt.Sprintf("%d passed, %d failed", c.Passed, c.Failed+c.Uncovered)
	if c.OptionalFailed > 0 {
		s += fmt.Sprintf(", %d optional failed", c.OptionalFailed)
	}
	if c.NotImplemented > 0 {
		s += fmt.Sprintf(", %d not implemented", c.NotImplemented)
	}
	return s
}

// WriteSummary writes the per-suite table and the final line.
func (rep *Report) WriteSummary(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "\n%-20s %6s %6s %8s %8s %9s %6s\n", "suite", "passed", "failed", "optional", "not-impl", "uncovered", "total")
	for _, s := range rep.Summaries() {
		name := s.Suite
		if name == "" {
			name = "(root)"
		}
		fmt.Fprintf(&b, "%-20s %6d %6d %8d %8d %9d %6d\n", name, s.Passed, s.Failed, s.OptionalFailed, s.NotImplemented, s.Uncovered, s.Total())
	}
	c := rep.Totals()
	fmt.Fprintf(&b, "%-20s %6d %6d %8d %8d %9d %6d\n", "all", c.Passed, c.Failed, c.OptionalFailed, c.NotImplemented, c.Uncovered, c.Total())
	b.WriteString(rep.FinalLine() + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// JUnit XML shapes.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr,omitempty"`
	Cases     []junitCase `xml:"testcase"`
}

type junitCase struct {
	Classname string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Body    string `xml:",chardata"`
}

func secs(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// WriteJUnit writes JUnit XML: FAILED and UNCOVERED are <failure>,
// NOT_IMPLEMENTED is <skipped>, OPTIONAL_FAILED passes with its errors in
// <system-out>.
func (rep *Report) WriteJUnit(w io.Writer) error {
	doc := junitSuites{Name: "duro-conformance", Time: secs(rep.Duration)}
	bySuite := map[string]int{}
	for _, r := range rep.Results {
		i, ok := bySuite[r.Suite]
		if !ok {
			i = len(doc.Suites)
			bySuite[r.Suite] = i
			doc.Suites = append(doc.Suites, junitSuite{Name: r.Suite})
			if !rep.Started.IsZero() {
				doc.Suites[i].Timestamp = rep.Started.UTC().Format("2006-01-02T15:04:05")
			}
		}
		s := &doc.Suites[i]
		c := junitCase{Classname: "js." + r.Suite, Name: r.ID, Time: secs(r.Duration)}
		switch r.Status {
		case Failed:
			c.Failure = &junitMessage{Message: r.FirstError(), Type: string(r.Status), Body: strings.Join(r.Errors, "\n")}
			s.Failures++
		case Uncovered:
			c.Failure = &junitMessage{Message: "UNCOVERED: no function in the template lists this requirement", Type: string(r.Status)}
			s.Failures++
		case NotImplemented:
			c.Skipped = &junitMessage{Message: "NOT_IMPLEMENTED: " + r.Reason}
			s.Skipped++
		case OptionalFailed:
			c.SystemOut = "OPTIONAL_FAILED:\n" + strings.Join(r.Errors, "\n")
		}
		s.Tests++
		s.Cases = append(s.Cases, c)
	}
	var total time.Duration
	for i := range doc.Suites {
		s := &doc.Suites[i]
		var d time.Duration
		for _, r := range rep.Results {
			if r.Suite == s.Name {
				d += r.Duration
			}
		}
		total += d
		s.Time = secs(d)
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Skipped += s.Skipped
	}
	if rep.Duration == 0 {
		doc.Time = secs(total)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write JUnit: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// jsonResult adds the duration in seconds.
type jsonResult struct {
	Result
	DurationSeconds float64 `json:"durationSeconds"`
}

// WriteJSON writes the full report as JSON.
func (rep *Report) WriteJSON(w io.Writer) error {
	out := struct {
		Started         time.Time    `json:"started"`
		DurationSeconds float64      `json:"durationSeconds"`
		Summary         string       `json:"summary"`
		Totals          Counts       `json:"totals"`
		Results         []jsonResult `json:"results"`
	}{Started: rep.Started, DurationSeconds: rep.Duration.Seconds(), Summary: rep.FinalLine(), Totals: rep.Totals()}
	for _, r := range rep.Results {
		out.Results = append(out.Results, jsonResult{Result: r, DurationSeconds: r.Duration.Seconds()})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("write JSON report: %w", err)
	}
	return nil
}
