// Package match is the Go port of the upstream conformance runner's
// EventHistoryMatcher (conformance.md §1.3, §1.4): expected events are
// matched to actual events by EventId, mappings as subsets, lists element
// by element with equal lengths, with the placeholder rules:
//
//   - {} (empty mapping): contents not checked, but the key must exist
//     (checked by the parent mapping's loop);
//   - '*': any value, but the key must exist;
//   - ${NAME} (whole string): bind NAME to the actual value when unbound,
//     require Python equality when bound;
//   - ${/re/} (whole string): re.search(re, str(actual));
//   - {"${JSON}": spec}: json.loads the actual string, then match spec;
//   - ${ABSENT} as a mapping value: the key must not exist;
//   - any other value: Python ==, after substituting bound ${NAME}
//     references inside strings.
//
// Mismatch messages follow the upstream wording so that verdicts can be
// diffed against the Python runner. Regular expressions are compiled with
// Go's RE2, which lacks look-around and back-references; such a pattern is
// reported as a mismatch.
package match

import (
	"fmt"
	"regexp"

	"github.com/duro-run/duro/internal/conformance/placeholder"
	"github.com/duro-run/duro/internal/conformance/pyfmt"
)

// Directives of the upstream matcher.
const (
	JSONDecodeKey   = "${JSON}"
	AbsentDirective = "${ABSENT}"
)

// Mismatch is one failed expectation.
type Mismatch struct {
	// Path locates the value, e.g. "Event[EventId=3].StepSucceededDetails.Result".
	Path string
	// Expected and Actual are the values compared (Expected after
	// substitution); nil when not applicable (e.g. a missing key).
	Expected, Actual any
	// Message is the upstream-worded description, including the path.
	Message string
}

// String returns Message.
func (m Mismatch) String() string { return m.Message }

// Messages returns the messages of a list of mismatches.
func Messages(ms []Mismatch) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Message
	}
	return out
}

// Matcher matches values against expectations, binding placeholders in a
// shared context.
type Matcher struct {
	ctx    *placeholder.Context
	regexp map[string]*regexp.Regexp
	errs   []Mismatch
}

// New returns a matcher that binds and reads placeholders in ctx.
func New(ctx *placeholder.Context) *Matcher {
	return &Matcher{ctx: ctx, regexp: map[string]*regexp.Regexp{}}
}

// Match matches expected events against the actual history. Every
// expected event must carry an EventId, and an actual event with that id
// must exist; when several actual events share an id, the last wins.
// Actual events not mentioned are ignored. It returns all mismatches in
// order (none means success).
func (m *Matcher) Match(expected, actual []any) []Mismatch {
	m.errs = nil
	for _, e := range expected {
		em, _ := e.(*pyfmt.Map)
		eid, ok := em.Get("EventId")
		if !ok || eid == nil {
			m.fail("", nil, nil, fmt.Sprintf("Expected event missing EventId: %s", pyfmt.Str(e)))
			continue
		}
		act := findEvent(actual, eid)
		path := fmt.Sprintf("Event[EventId=%s]", pyfmt.Str(eid))
		if act == nil {
			m.fail(path, eid, nil, fmt.Sprintf("No actual event found for EventId=%s", pyfmt.Str(eid)))
			continue
		}
		m.matchValue(e, act, path)
	}
	return m.errs
}

// MatchValue matches one value with the same rules, e.g. for a single
// event; path prefixes the mismatch paths.
func (m *Matcher) MatchValue(expected, actual any, path string) []Mismatch {
	m.errs = nil
	m.matchValue(expected, actual, path)
	return m.errs
}

// findEvent returns the last event whose EventId equals eid (Python dict
// indexing: 2 and 2.0 are the same key).
func findEvent(events []any, eid any) *pyfmt.Map {
	for i := len(events) - 1; i >= 0; i-- {
		ev, ok := events[i].(*pyfmt.Map)
		if !ok {
			continue
		}
		if id, ok := ev.Get("EventId"); ok && id != nil && pyfmt.Equal(id, eid) {
			return ev
		}
	}
	return nil
}

func (m *Matcher) fail(path string, expected, actual any, msg string) {
	m.errs = append(m.errs, Mismatch{Path: path, Expected: expected, Actual: actual, Message: msg})
}

func (m *Matcher) matchValue(expected, actual any, path string) {
	// {} → don't care (the key's presence was checked by the caller).
	if em, ok := expected.(*pyfmt.Map); ok && em.Len() == 0 {
		return
	}
	// '*' → anything.
	if s, ok := expected.(string); ok && s == "*" {
		return
	}
	if name, ok := placeholder.Name(expected); ok {
		m.resolvePlaceholder(name, actual, path)
		return
	}
	if pattern, ok := placeholder.Regex(expected); ok {
		re, err := m.compile(pattern)
		if err != nil {
			m.fail(path, expected, actual, fmt.Sprintf("%s: invalid regex pattern %s: %v", path, pyfmt.Repr(pattern), err))
			return
		}
		if !re.MatchString(pyfmt.Str(actual)) {
			m.fail(path, expected, actual, fmt.Sprintf("%s: value %s does not match regex pattern %s", path, pyfmt.Repr(actual), pyfmt.Repr(pattern)))
		}
		return
	}
	if em, ok := expected.(*pyfmt.Map); ok && em.Len() == 1 && em.Has(JSONDecodeKey) {
		s, ok := actual.(string)
		if !ok {
			m.fail(path, expected, actual, fmt.Sprintf("%s: ${JSON} expects a JSON string to decode, got %s", path, pyfmt.TypeName(actual)))
			return
		}
		decoded, err := pyfmt.JSONLoads(s)
		if err != nil {
			m.fail(path, expected, actual, fmt.Sprintf("%s: value is not valid JSON (%v): %s", path, err, pyfmt.Repr(actual)))
			return
		}
		m.matchValue(em.Value(JSONDecodeKey), decoded, path+"<json>")
		return
	}
	em, eIsMap := expected.(*pyfmt.Map)
	am, aIsMap := actual.(*pyfmt.Map)
	if eIsMap && aIsMap {
		for _, k := range em.Keys() {
			child := em.Value(k)
			if s, ok := child.(string); ok && s == AbsentDirective {
				if v, present := am.Get(k); present {
					m.fail(path+"."+k, child, v, fmt.Sprintf("%s.%s: expected key to be ABSENT, but it is present with value %s", path, k, pyfmt.Repr(v)))
				}
				continue
			}
			v, present := am.Get(k)
			if !present {
				m.fail(path+"."+k, child, nil, fmt.Sprintf("%s.%s: key missing in actual event", path, k))
				continue
			}
			m.matchValue(child, v, path+"."+k)
		}
		return
	}
	el, eIsList := expected.([]any)
	al, aIsList := actual.([]any)
	if eIsList && aIsList {
		if len(el) != len(al) {
			m.fail(path, int64(len(el)), int64(len(al)), fmt.Sprintf("%s: list length mismatch (expected %d, got %d)", path, len(el), len(al)))
			return
		}
		for i := range el {
			m.matchValue(el[i], al[i], fmt.Sprintf("%s[%d]", path, i))
		}
		return
	}
	resolved := expected
	if s, ok := expected.(string); ok {
		resolved = m.ctx.SubstituteString(s)
	}
	if !pyfmt.Equal(resolved, actual) {
		m.fail(path, resolved, actual, fmt.Sprintf("%s: expected %s, got %s", path, pyfmt.Repr(resolved), pyfmt.Repr(actual)))
	}
}

func (m *Matcher) resolvePlaceholder(name string, actual any, path string) {
	if bound, ok := m.ctx.Get(name); ok {
		if !pyfmt.Equal(bound, actual) {
			m.fail(path, bound, actual, fmt.Sprintf("%s: placeholder ${%s} was previously bound to %s, but got %s", path, name, pyfmt.Repr(bound), pyfmt.Repr(actual)))
		}
		return
	}
	m.ctx.Bind(name, actual)
}

func (m *Matcher) compile(pattern string) (*regexp.Regexp, error) {
	if re, ok := m.regexp[pattern]; ok {
		return re, nil
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, err
	}
	m.regexp[pattern] = re
	return re, nil
}

// Event types and subtype the WaitForCallback name inheritance involves.
const (
	subTypeWaitForCallback = "WaitForCallback"
	eventContextStarted    = "ContextStarted"
)

// inheritingTypes are the child event types that take the WaitForCallback
// context's Name.
var inheritingTypes = map[string]bool{"CallbackStarted": true, "StepStarted": true, "StepSucceeded": true}

// InheritWaitForCallbackNames reproduces the async flow's pre-matching
// step (conformance.md §1.4): the Name of a WaitForCallback context
// (a ContextStarted event with SubType WaitForCallback) is copied onto its
// child CallbackStarted, StepStarted and StepSucceeded events (those whose
// ParentId is the context's Id) when they have no Name. Events are
// modified in place.
func InheritWaitForCallbackNames(events []any) {
	names := map[string]any{}
	for _, e := range events {
		ev, ok := e.(*pyfmt.Map)
		if !ok || ev.Value("EventType") != eventContextStarted || ev.Value("SubType") != subTypeWaitForCallback {
			continue
		}
		id, ok := ev.Value("Id").(string)
		if name, has := ev.Get("Name"); ok && has && name != nil && name != "" {
			names[id] = name
		}
	}
	if len(names) == 0 {
		return
	}
	for _, e := range events {
		ev, ok := e.(*pyfmt.Map)
		if !ok {
			continue
		}
		t, _ := ev.Value("EventType").(string)
		if !inheritingTypes[t] {
			continue
		}
		if n, has := ev.Get("Name"); has && n != nil && n != "" {
			continue
		}
		parent, _ := ev.Value("ParentId").(string)
		if name, ok := names[parent]; ok {
			ev.Set("Name", name)
		}
	}
}
