package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/duro-run/duro/internal/conformance/pyfmt"
)

func sample() *Report {
	rep := &Report{Results: []Result{
		{ID: "2-1", Suite: "wait", Status: Passed, Duration: time.Second},
		{ID: "1-10", Suite: "step", Status: Failed, Errors: []string{"Event[EventId=3].Name: expected 'a',\ngot 'b'", "second"}, Duration: 2 * time.Second},
		{ID: "1-2", Suite: "step", Status: Passed, Placeholders: pyfmt.MapOf("ID1", "x")},
		{ID: "1-7", Suite: "step", Status: OptionalFailed, Optional: true, Errors: []string{"ExpectedLogs[0]: nope"}},
		{ID: "10-1", Suite: "plugin", Status: NotImplemented, Reason: "no plugins"},
		{ID: "3-1", Suite: "child", Status: Uncovered},
	}}
	rep.Sort()
	return rep
}

func TestLines(t *testing.T) {
	rep := sample()
	var got []string
	for _, r := range rep.Results {
		got = append(got, r.Line())
	}
	want := []string{
		"PASSED 1-2",
		"OPTIONAL_FAILED 1-7: ExpectedLogs[0]: nope",
		"FAILED 1-10: Event[EventId=3].Name: expected 'a', got 'b' (+1 more)",
		"PASSED 2-1",
		"UNCOVERED 3-1",
		"NOT_IMPLEMENTED 10-1: no plugins",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("lines\n %s\nwant\n %s", strings.Join(got, "\n "), strings.Join(want, "\n "))
	}
	if got := rep.FinalLine(); got != "2 passed, 2 failed, 1 optional failed, 1 not implemented" {
		t.Errorf("final line %q", got)
	}
	if !rep.Failed() {
		t.Error("Failed() = false")
	}
	ok := &Report{Results: []Result{{ID: "1", Status: Passed}, {ID: "2", Status: OptionalFailed}, {ID: "3", Status: NotImplemented}}}
	if ok.Failed() {
		t.Error("optional failures and not-implemented requirements failed the run")
	}
}

func TestSummary(t *testing.T) {
	var b bytes.Buffer
	if err := sample().WriteSummary(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, line := range []string{
		"step                      1      1        1        0         0      3",
		"wait                      1      0        0        0         0      1",
		"child                     0      0        0        0         1      1",
		"plugin                    0      0        0        1         0      1",
		"all                       2      1        1        1         1      6",
		"2 passed, 2 failed, 1 optional failed, 1 not implemented",
	} {
		if !strings.Contains(out, line) {
			t.Errorf("summary lacks %q:\n%s", line, out)
		}
	}
	if strings.Index(out, "step ") > strings.Index(out, "wait ") || strings.Index(out, "child ") > strings.Index(out, "plugin ") {
		t.Errorf("suites out of order:\n%s", out)
	}
}

func TestJUnit(t *testing.T) {
	var b bytes.Buffer
	if err := sample().WriteJUnit(&b); err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("invalid XML: %v\n%s", err, b.String())
	}
	if doc.Tests != 6 || doc.Failures != 2 || doc.Skipped != 1 || len(doc.Suites) != 4 {
		t.Errorf("totals %+v", doc)
	}
	step := doc.Suites[0]
	if step.Name != "step" || step.Tests != 3 || step.Failures != 1 || step.Time != "2.000" {
		t.Errorf("step suite %+v", step)
	}
	c := step.Cases[2]
	if c.Classname != "js.step" || c.Name != "1-10" || c.Failure == nil || !strings.Contains(c.Failure.Body, "second") {
		t.Errorf("failed case %+v", c)
	}
	if opt := step.Cases[1]; opt.Failure != nil || !strings.Contains(opt.SystemOut, "OPTIONAL_FAILED") {
		t.Errorf("optional case %+v", opt)
	}
}

func TestJSON(t *testing.T) {
	var b bytes.Buffer
	if err := sample().WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Summary string
		Results []struct {
			ID              string          `json:"id"`
			Status          string          `json:"status"`
			Placeholders    json.RawMessage `json:"placeholders"`
			DurationSeconds float64         `json:"durationSeconds"`
		}
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	var ph map[string]string
	if err := json.Unmarshal(doc.Results[0].Placeholders, &ph); err != nil || ph["ID1"] != "x" {
		t.Errorf("placeholders %s (%v)", doc.Results[0].Placeholders, err)
	}
	if len(doc.Results) != 6 || doc.Results[0].ID != "1-2" || doc.Results[2].DurationSeconds != 2 || doc.Summary != "2 passed, 2 failed, 1 optional failed, 1 not implemented" {
		t.Errorf("JSON report %s", b.String())
	}
}
