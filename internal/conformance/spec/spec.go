// Package spec loads the conformance suite's requirement files: one YAML
// file per requirement, in <dir>/<suite>/<id>.yaml, the requirement ID being
// the file stem (conformance.md §1.1, §1.2). Values are decoded into the
// pyfmt value model with PyYAML's rules, so that int, float, bool and null
// stay distinct and mappings keep their order. The files are read-only
// data: the loader never writes them.
package spec

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/duro-run/duro/internal/conformance/pyfmt"
)

// Requirement is one parsed requirement file. Raw holds the whole document;
// the other fields are the keys the runner reads, with their presence kept
// where the upstream runner distinguishes "absent" from "null".
type Requirement struct {
	// ID is the file stem, e.g. "1-13".
	ID string
	// Suite is the first directory under the requirements root (e.g.
	// "step"); empty for a file directly in the root.
	Suite string
	// Path is the file path.
	Path string
	// Raw is the whole document.
	Raw *pyfmt.Map

	// Description is the `description` key, for reports.
	Description string
	// Optional is Python bool(optional): a failure is OPTIONAL_FAILED.
	Optional bool
	// AsyncInvoke is Python bool(AsyncInvoke): selects the async flow.
	AsyncInvoke bool
	// Variables is the Variables mapping (nil when absent or not a mapping).
	Variables *pyfmt.Map
	// Input is the Input value (nil when absent or null: both send null).
	Input any
	// ExpectedResult is the ExpectedResult mapping, nil when absent, null
	// or empty (Python's `if expected_result:`).
	ExpectedResult *pyfmt.Map
	// HasExpectedResult reports whether ExpectedResult is non-empty, i.e.
	// whether status and result are checked.
	HasExpectedResult bool
	// HistoryOnly is true when ExpectedResult is absent or null: the async
	// flow then stops polling as soon as the expected history matches
	// (upstream tests `expected_result is None`, so an empty mapping is
	// not history-only).
	HistoryOnly bool
	// ExpectedHistory is the ExpectedExecutionHistory list (nil when
	// absent or not a list).
	ExpectedHistory []any
	// CallbackActions is the raw CallbackActions list.
	CallbackActions []any
	// ExpectedLogs is the raw ExpectedLogs list.
	ExpectedLogs []any
	// PollIntervalSeconds and NoProgressTimeoutSeconds are the AsyncConfig
	// overrides, 0 when not set.
	PollIntervalSeconds      float64
	NoProgressTimeoutSeconds float64
}

// Load reads one requirement file. suite is recorded as given.
func Load(path, suite string) (*Requirement, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read requirement: %w", err)
	}
	id := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	r, err := Parse(data, id, suite)
	if err != nil {
		return nil, fmt.Errorf("requirement %s (%s): %w", id, path, err)
	}
	r.Path = path
	return r, nil
}

// Parse parses the contents of a requirement file.
func Parse(data []byte, id, suite string) (*Requirement, error) {
	doc, err := DecodeYAML(data)
	if err != nil {
		return nil, fmt.Errorf("parse YAML: %w", err)
	}
	m, ok := doc.(*pyfmt.Map)
	if !ok {
		return nil, fmt.Errorf("the document is a %s, want a mapping", pyfmt.TypeName(doc))
	}
	r := &Requirement{ID: id, Suite: suite, Raw: m}
	if d, ok := m.Value("description").(string); ok {
		r.Description = strings.TrimSpace(d)
	}
	r.Optional = Truthy(m.Value("optional"))
	r.AsyncInvoke = Truthy(m.Value("AsyncInvoke"))
	r.Variables, _ = m.Value("Variables").(*pyfmt.Map)
	r.Input = m.Value("Input")
	if er, ok := m.Value("ExpectedResult").(*pyfmt.Map); ok && er.Len() > 0 {
		r.ExpectedResult, r.HasExpectedResult = er, true
	} else if v := m.Value("ExpectedResult"); Truthy(v) {
		return nil, fmt.Errorf("ExpectedResult is a %s, want a mapping", pyfmt.TypeName(v))
	}
	r.HistoryOnly = m.Value("ExpectedResult") == nil
	r.ExpectedHistory, _ = m.Value("ExpectedExecutionHistory").([]any)
	r.CallbackActions, _ = m.Value("CallbackActions").([]any)
	r.ExpectedLogs, _ = m.Value("ExpectedLogs").([]any)
	if ac, ok := m.Value("AsyncConfig").(*pyfmt.Map); ok {
		if r.PollIntervalSeconds, err = seconds(ac, "PollIntervalSeconds"); err != nil {
			return nil, err
		}
		if r.NoProgressTimeoutSeconds, err = seconds(ac, "NoProgressTimeoutSeconds"); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// seconds reads a float(...) setting as Python would convert it.
func seconds(m *pyfmt.Map, key string) (float64, error) {
	v, ok := m.Get(key)
	if !ok {
		return 0, nil
	}
	f, err := Float(v)
	if err != nil {
		return 0, fmt.Errorf("AsyncConfig.%s: %w", key, err)
	}
	return f, nil
}

// Float is Python's float(v) for numbers and numeric strings.
func Float(v any) (float64, error) {
	if f, ok := pyfmt.AsFloat(v); ok {
		return f, nil
	}
	if s, ok := v.(string); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err == nil {
			return f, nil
		}
	}
	return 0, fmt.Errorf("could not convert %s to float", pyfmt.Repr(v))
}

// Truthy is Python's bool(v).
func Truthy(v any) bool {
	switch t := v.(type) {
	case nil:
		return false
	case bool:
		return t
	case int64:
		return t != 0
	case float64:
		return t != 0
	case string:
		return t != ""
	case []any:
		return len(t) > 0
	case *pyfmt.Map:
		return t.Len() > 0
	default:
		f, ok := pyfmt.AsFloat(v)
		return !ok || f != 0
	}
}

// Set is a loaded requirements tree.
type Set struct {
	// Root is the directory the set was loaded from.
	Root string
	// Requirements are sorted by suite, then by ID in natural order
	// (1-2 before 1-10).
	Requirements []*Requirement
	byID         map[string]*Requirement
}

// Get returns the requirement with an ID.
func (s *Set) Get(id string) (*Requirement, bool) {
	r, ok := s.byID[id]
	return r, ok
}

// Suites lists the suite names in order.
func (s *Set) Suites() []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range s.Requirements {
		if !seen[r.Suite] {
			seen[r.Suite] = true
			out = append(out, r.Suite)
		}
	}
	return out
}

// ErrDuplicateID is wrapped by LoadDir's error when two files share a stem.
var ErrDuplicateID = errors.New("duplicate requirement id")

// LoadDir loads every *.yaml file under root (recursively). The suite of a
// file is the first directory below root. Requirement IDs are global, so
// two files with the same stem are an error, even in different suites.
func LoadDir(root string) (*Set, error) {
	info, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("requirements directory: %w", err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("requirements directory %s is not a directory", root)
	}
	set := &Set{Root: root, byID: map[string]*Requirement{}}
	var errs []error
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || filepath.Ext(path) != ".yaml" {
			return nil
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		suite := ""
		if parts := strings.Split(filepath.ToSlash(rel), "/"); len(parts) > 1 {
			suite = parts[0]
		}
		r, err := Load(path, suite)
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		if prev, dup := set.byID[r.ID]; dup {
			errs = append(errs, fmt.Errorf("%w %s: %s and %s", ErrDuplicateID, r.ID, prev.Path, r.Path))
			return nil
		}
		set.byID[r.ID] = r
		set.Requirements = append(set.Requirements, r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("scan requirements: %w", err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	sort.Slice(set.Requirements, func(i, j int) bool {
		a, b := set.Requirements[i], set.Requirements[j]
		if a.Suite != b.Suite {
			return SuiteLess(a.Suite, b.Suite, a.ID, b.ID)
		}
		return IDLess(a.ID, b.ID)
	})
	return set, nil
}

// SuiteLess orders suites by the numeric prefix of their requirement IDs
// (step=1 … plugin=10), falling back to names; aID and bID are IDs from
// each suite.
func SuiteLess(a, b, aID, bID string) bool {
	pa, pb := leadingNumber(aID), leadingNumber(bID)
	if pa != pb {
		return pa < pb
	}
	return a < b
}

// IDLess orders IDs naturally: "1-2" < "1-10" < "2-1"; numeric runs compare
// as numbers, other runs as text.
func IDLess(a, b string) bool {
	ca, cb := chunks(a), chunks(b)
	for i := 0; i < len(ca) && i < len(cb); i++ {
		x, y := ca[i], cb[i]
		nx, ex := strconv.Atoi(x)
		ny, ey := strconv.Atoi(y)
		switch {
		case ex == nil && ey == nil:
			if nx != ny {
				return nx < ny
			}
		case x != y:
			return x < y
		}
	}
	if len(ca) != len(cb) {
		return len(ca) < len(cb)
	}
	return a < b
}

func chunks(s string) []string {
	var out []string
	start := 0
	for i := 1; i <= len(s); i++ {
		if i == len(s) || isDigit(s[i]) != isDigit(s[i-1]) {
			out = append(out, s[start:i])
			start = i
		}
	}
	return out
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func leadingNumber(id string) int {
	n := 0
	i := 0
	for ; i < len(id) && isDigit(id[i]); i++ {
		n = n*10 + int(id[i]-'0')
	}
	if i == 0 {
		return 1 << 30
	}
	return n
}
