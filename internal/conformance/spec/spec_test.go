package spec

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/duro-run/duro/internal/conformance/pyfmt"
)

func TestDecodeYAMLScalars(t *testing.T) {
	tests := []struct {
		src  string
		want any
	}{
		{"1", int64(1)},
		{"-3", int64(-3)},
		{"1_000", int64(1000)},
		{"0x1f", int64(31)},
		{"017", int64(15)},
		{"0b101", int64(5)},
		{"1:30", int64(90)},
		{"1.0", 1.0},
		{"1.", 1.0},
		{".5", 0.5},
		{"1.5e+3", 1500.0},
		{"1e5", "1e5"}, // PyYAML needs a dot for floats
		{"1.0e5", "1.0e5"},
		{".inf", math.Inf(1)},
		{"-.Inf", math.Inf(-1)},
		{"true", true},
		{"True", true},
		{"yes", true},
		{"On", true},
		{"no", false},
		{"OFF", false},
		{"null", nil},
		{"~", nil},
		{"", nil},
		{"'1'", "1"},
		{`"true"`, "true"},
		{"!!str 12", "12"},
		{"!!int '12'", int64(12)},
		{"!!float 2", 2.0},
		{"2001-12-14", "2001-12-14"},
		{"${GEN_STR:8}", "${GEN_STR:8}"},
		{"Hello, ${INPUT_1}!", "Hello, ${INPUT_1}!"},
		{"'*'", "*"},
		{"12345678901234567890123", mustBig("12345678901234567890123")},
	}
	for _, tc := range tests {
		got, err := DecodeYAML([]byte("v: " + tc.src + "\n"))
		if err != nil {
			t.Errorf("%q: %v", tc.src, err)
			continue
		}
		v := got.(*pyfmt.Map).Value("v")
		if pyfmt.TypeName(v) != pyfmt.TypeName(tc.want) || !pyfmt.Equal(v, tc.want) {
			t.Errorf("%q decoded to %s (%s), want %s (%s)", tc.src, pyfmt.Repr(v), pyfmt.TypeName(v), pyfmt.Repr(tc.want), pyfmt.TypeName(tc.want))
		}
	}
}

func mustBig(s string) any {
	v, err := pyfmt.ParseInt(s)
	if err != nil {
		panic(err)
	}
	return v
}

func TestDecodeYAMLStructure(t *testing.T) {
	src := `
z: 1
a: [1, 2.5, x]
b: {}
c:
  d: null
  e: |
    line
base: &base {k1: 1, k2: 2}
merged:
  <<: *base
  k2: 3
dup: 1
dup: 2
`
	got, err := DecodeYAML([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := "{'z': 1, 'a': [1, 2.5, 'x'], 'b': {}, 'c': {'d': None, 'e': 'line\\n'}, 'base': {'k1': 1, 'k2': 2}, 'merged': {'k1': 1, 'k2': 3}, 'dup': 2}"
	if r := pyfmt.Repr(got); r != want {
		t.Errorf("decoded\n %s\nwant\n %s", r, want)
	}
	if _, err := DecodeYAML([]byte("1: a\n")); err == nil {
		t.Error("an int mapping key was accepted")
	}
}

func TestParseRequirement(t *testing.T) {
	src := `
description: demo
optional: true
AsyncInvoke: true
Variables:
  NAME: ${GEN_STR:8}
Input:
  value: '${NAME}'
ExpectedResult:
  ExecutionStatus: SUCCEEDED
  Result:
ExpectedExecutionHistory:
  - EventId: 2
    EventType: StepStarted
AsyncConfig:
  PollIntervalSeconds: 0.5
`
	r, err := Parse([]byte(src), "9-99", "demo")
	if err != nil {
		t.Fatal(err)
	}
	if !r.Optional || !r.AsyncInvoke || r.Variables.Len() != 1 || !r.HasExpectedResult || r.HistoryOnly {
		t.Errorf("flags: %+v", r)
	}
	if res, ok := r.ExpectedResult.Get("Result"); !ok || res != nil {
		t.Errorf("Result = %v, %v; want present and None", res, ok)
	}
	if len(r.ExpectedHistory) != 1 || r.PollIntervalSeconds != 0.5 {
		t.Errorf("history %v, poll %v", r.ExpectedHistory, r.PollIntervalSeconds)
	}
	r, err = Parse([]byte("Input: null\nExpectedExecutionHistory: []\n"), "x", "")
	if err != nil {
		t.Fatal(err)
	}
	if !r.HistoryOnly || r.HasExpectedResult || r.Input != nil {
		t.Errorf("flags: %+v", r)
	}
}

func TestLoadDirRefusesDuplicates(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, body string) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("step/1-2.yaml", "Input: 1\n")
	write("step/1-10.yaml", "Input: 1\n")
	write("wait/2-1.yaml", "Input: 1\n")
	write("wait/notes.txt", "ignored")
	set, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range set.Requirements {
		ids = append(ids, r.Suite+"/"+r.ID)
	}
	if got := pyfmt.Repr(toAny(ids)); got != "['step/1-2', 'step/1-10', 'wait/2-1']" {
		t.Errorf("order = %s", got)
	}
	write("wait/1-2.yaml", "Input: 2\n")
	if _, err := LoadDir(dir); !errors.Is(err, ErrDuplicateID) {
		t.Errorf("LoadDir with a duplicate stem: err = %v, want ErrDuplicateID", err)
	}
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}

func TestIDLess(t *testing.T) {
	ordered := []string{"1-1", "1-2", "1-10", "2-1", "10-1", "10-18", "otel-execution-2", "otel-execution-10"}
	for i := 0; i+1 < len(ordered); i++ {
		if !IDLess(ordered[i], ordered[i+1]) || IDLess(ordered[i+1], ordered[i]) {
			t.Errorf("IDLess(%s, %s) wrong", ordered[i], ordered[i+1])
		}
	}
}

// TestLoadSharedRequirements loads the public suite, read-only, when it is
// present next to the repository.
func TestLoadSharedRequirements(t *testing.T) {
	dir := os.Getenv("DURO_CONFORMANCE_REQUIREMENTS")
	if dir == "" {
		dir = "../../../../shared/conformance/requirements"
	}
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("no requirements at %s", dir)
	}
	set, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Requirements) == 0 {
		t.Fatal("no requirements loaded")
	}
	for _, r := range set.Requirements {
		if len(r.ExpectedHistory) == 0 {
			t.Errorf("%s: no ExpectedExecutionHistory", r.ID)
		}
		for i, ev := range r.ExpectedHistory {
			if m, ok := ev.(*pyfmt.Map); !ok || !m.Has("EventId") {
				t.Errorf("%s: event %d has no EventId", r.ID, i)
			}
		}
		if r.AsyncInvoke != Truthy(r.Raw.Value("async")) && r.Raw.Has("async") {
			t.Errorf("%s: async and AsyncInvoke disagree", r.ID)
		}
	}
	t.Logf("loaded %d requirements in %d suites", len(set.Requirements), len(set.Suites()))
}
