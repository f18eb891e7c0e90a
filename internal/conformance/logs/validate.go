package logs

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/duro-run/duro/internal/conformance/placeholder"
	"github.com/duro-run/duro/internal/conformance/pyfmt"
)

// Validate checks a requirement's ExpectedLogs entries against records and
// returns the failures (none means success). Each entry is substituted
// with ctx first, then:
//
//   - match: {field: value, …} selects the records whose fields all match
//     (see [FieldMatches]);
//   - count is exact, min_count and max_count are bounds, and with none of
//     them the default is min_count 1; counts are over all records;
//   - before / after take one matcher or a list of matchers (anchors), each
//     of which must match at least one record; every record the entry
//     matches must then sort at or before (before) / at or after (after)
//     every record of each anchor, by (Timestamp, Sequence). Records with
//     equal keys are concurrent and never out of order.
func Validate(expected []any, records []Record, ctx *placeholder.Context) []string {
	v := &validator{regexps: map[string]*regexp.Regexp{}}
	var errs []string
	for i, raw := range expected {
		errs = append(errs, v.entry(i, ctx.Substitute(raw), records)...)
	}
	return errs
}

type validator struct {
	regexps map[string]*regexp.Regexp
}

func (v *validator) entry(i int, raw any, records []Record) []string {
	label := fmt.Sprintf("ExpectedLogs[%d]", i)
	e, ok := raw.(*pyfmt.Map)
	if !ok {
		return []string{fmt.Sprintf("%s: invalid entry — %s is not a mapping", label, pyfmt.Repr(raw))}
	}
	match, ok := e.Value("match").(*pyfmt.Map)
	if !ok {
		return []string{fmt.Sprintf("%s: invalid entry — 'match' must be a mapping of fields", label)}
	}
	label = fmt.Sprintf("%s match=%s", label, pyfmt.Repr(match))
	count, hasCount, err := optInt(e, "count")
	if err != nil {
		return []string{fmt.Sprintf("%s: invalid entry — %v", label, err)}
	}
	minCount, hasMin, err := optInt(e, "min_count")
	if err != nil {
		return []string{fmt.Sprintf("%s: invalid entry — %v", label, err)}
	}
	maxCount, hasMax, err := optInt(e, "max_count")
	if err != nil {
		return []string{fmt.Sprintf("%s: invalid entry — %v", label, err)}
	}
	matched, err := v.selectRecords(match, records)
	if err != nil {
		return []string{fmt.Sprintf("%s: %v", label, err)}
	}
	var errs []string
	n := int64(len(matched))
	switch {
	case hasCount:
		if n != count {
			errs = append(errs, fmt.Sprintf("%s: expected exactly %d match(es), got %d", label, count, n))
		}
	default:
		if !hasMin && !hasMax {
			minCount, hasMin = 1, true
		}
		if hasMin && n < minCount {
			errs = append(errs, fmt.Sprintf("%s: expected at least %d match(es), got %d", label, minCount, n))
		}
		if hasMax && n > maxCount {
			errs = append(errs, fmt.Sprintf("%s: expected at most %d match(es), got %d", label, maxCount, n))
		}
	}
	for _, rel := range []string{"after", "before"} {
		anchors, present, err := anchorList(e, rel)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: invalid entry — %v", label, err))
			continue
		}
		if !present {
			continue
		}
		for _, a := range anchors {
			anchored, err := v.selectRecords(a, records)
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s: %s anchor %s: %v", label, rel, pyfmt.Repr(a), err))
				continue
			}
			if len(anchored) == 0 {
				errs = append(errs, fmt.Sprintf("%s: %s anchor %s matched no log records", label, rel, pyfmt.Repr(a)))
				continue
			}
			if r, x, bad := outOfOrder(matched, anchored, rel == "after"); bad {
				errs = append(errs, fmt.Sprintf("%s: a matching record is not %s the anchor %s: %s comes %s %s",
					label, rel, pyfmt.Repr(a), describe(r), opposite(rel), describe(x)))
			}
		}
	}
	return errs
}

func opposite(rel string) string {
	if rel == "after" {
		return "before"
	}
	return "after"
}

func describe(r Record) string {
	msg := r.Message
	if len(msg) > 160 {
		msg = msg[:160] + "…"
	}
	return fmt.Sprintf("[%s #%d] %q", r.Timestamp.UTC().Format("15:04:05.000000"), r.Sequence, msg)
}

// outOfOrder finds a matched record that sorts strictly on the wrong side
// of an anchor record.
func outOfOrder(matched, anchors []Record, after bool) (Record, Record, bool) {
	for _, r := range matched {
		for _, x := range anchors {
			if after && r.Before(x) || !after && x.Before(r) {
				return r, x, true
			}
		}
	}
	return Record{}, Record{}, false
}

func optInt(e *pyfmt.Map, key string) (int64, bool, error) {
	v, ok := e.Get(key)
	if !ok || v == nil {
		return 0, false, nil
	}
	switch t := v.(type) {
	case int64:
		return t, true, nil
	case float64:
		if t == float64(int64(t)) {
			return int64(t), true, nil
		}
	}
	return 0, false, fmt.Errorf("%s must be an integer, got %s", key, pyfmt.Repr(v))
}

func anchorList(e *pyfmt.Map, key string) ([]*pyfmt.Map, bool, error) {
	v, ok := e.Get(key)
	if !ok || v == nil {
		return nil, false, nil
	}
	switch t := v.(type) {
	case *pyfmt.Map:
		return []*pyfmt.Map{t}, true, nil
	case []any:
		out := make([]*pyfmt.Map, 0, len(t))
		for _, x := range t {
			m, ok := x.(*pyfmt.Map)
			if !ok {
				return nil, false, fmt.Errorf("%s entries must be mappings, got %s", key, pyfmt.Repr(x))
			}
			out = append(out, m)
		}
		return out, true, nil
	}
	return nil, false, fmt.Errorf("%s must be a mapping or a list of mappings, got %s", key, pyfmt.Repr(v))
}

// selectRecords returns the records all of whose fields match.
func (v *validator) selectRecords(match *pyfmt.Map, records []Record) ([]Record, error) {
	var out []Record
	for _, r := range records {
		ok := true
		for _, k := range match.Keys() {
			actual, present := r.Fields.Get(k)
			m, err := v.fieldMatches(match.Value(k), actual, present)
			if err != nil {
				return nil, err
			}
			if !m {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, r)
		}
	}
	return out, nil
}

// FieldMatches reports whether a record field matches an expected value:
//
//   - the field must be present;
//   - a string written /re/ is an unanchored regex search over the actual
//     value's text (Python str() for non-strings, so /.*/ accepts any
//     present value, booleans included);
//   - any other string must equal the actual text, both trimmed;
//   - a boolean requires the identical boolean (1 does not match true);
//   - a number requires a number (not a boolean) with the same float value;
//   - null requires null; a list or mapping requires an equal value.
func FieldMatches(expected, actual any, present bool) (bool, error) {
	return (&validator{regexps: map[string]*regexp.Regexp{}}).fieldMatches(expected, actual, present)
}

func (v *validator) fieldMatches(expected, actual any, present bool) (bool, error) {
	if !present {
		return false, nil
	}
	switch e := expected.(type) {
	case string:
		if len(e) >= 2 && strings.HasPrefix(e, "/") && strings.HasSuffix(e, "/") {
			re, err := v.compile(e[1 : len(e)-1])
			if err != nil {
				return false, err
			}
			return re.MatchString(pyfmt.Str(actual)), nil
		}
		return strings.TrimSpace(pyfmt.Str(actual)) == strings.TrimSpace(e), nil
	case bool:
		a, ok := actual.(bool)
		return ok && a == e, nil
	case nil:
		return actual == nil, nil
	case []any, *pyfmt.Map:
		return pyfmt.Equal(expected, actual), nil
	}
	if _, isBool := actual.(bool); isBool || !pyfmt.IsNumber(actual) {
		return false, nil
	}
	ef, ok1 := pyfmt.AsFloat(expected)
	af, ok2 := pyfmt.AsFloat(actual)
	if !ok1 {
		return false, fmt.Errorf("unsupported matcher value %s", pyfmt.Repr(expected))
	}
	return ok2 && ef == af, nil
}

func (v *validator) compile(pattern string) (*regexp.Regexp, error) {
	if re, ok := v.regexps[pattern]; ok {
		return re, nil
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("invalid regex /%s/ (Go RE2): %w", pattern, err)
	}
	v.regexps[pattern] = re
	return re, nil
}
