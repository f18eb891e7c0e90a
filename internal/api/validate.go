package api

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/duro-run/duro/internal/engine"
)

// stringRule is a string constraint of the service model: a length range and
// an optional pattern. Model patterns are written unanchored (ECMA-262 style);
// AWS applies them to the whole value, so the compiled form is anchored.
type stringRule struct {
	min, max int
	// pattern is the model's text, quoted verbatim in error messages.
	pattern string
	re      *regexp.Regexp
	// match is a faster equivalent of re, when there is one.
	match func(string) bool
	// sensitive members are never echoed in error messages.
	sensitive bool
}

// withMatcher gives r a matcher of its own, equivalent to its pattern.
func withMatcher(r stringRule, match func(string) bool) stringRule {
	r.match = match
	return r
}

// newStringRule compiles a rule; an empty pattern means length-only.
//
// Checkpoints run several rules per request, and Go's regexp engine cost
// as much CPU as the rest of the request's validation together, so the
// common shapes get a matcher of their own: a character class repeated
// (most identifiers), the same followed by up to two '=' (tokens), and for
// the rest (ARNs, function names) a memo of values already seen to match.
func newStringRule(min, max int, pattern string) stringRule {
	r := stringRule{min: min, max: max, pattern: pattern}
	if pattern == "" {
		return r
	}
	r.re = regexp.MustCompile(`^(?:` + pattern + `)$`)
	switch {
	case classRepeat.MatchString(pattern):
		set, re := asciiSet(pattern[:len(pattern)-1]), r.re
		r.match = func(v string) bool {
			if !isASCII(v) {
				return re.MatchString(v)
			}
			return v != "" && set.all(v)
		}
	case strings.HasSuffix(pattern, "+={0,2}") && classRepeat.MatchString(strings.TrimSuffix(pattern, "={0,2}")) &&
		!asciiSet(strings.TrimSuffix(pattern, "+={0,2}"))['=']:
		set, re := asciiSet(strings.TrimSuffix(pattern, "+={0,2}")), r.re
		r.match = func(v string) bool {
			if !isASCII(v) {
				return re.MatchString(v)
			}
			body := strings.TrimRight(v, "=")
			return body != "" && len(v)-len(body) <= 2 && set.all(body)
		}
	default:
		m := &memo{re: r.re}
		r.match = m.match
	}
	return r
}

// classRepeat recognises a pattern that is one bracketed class, repeated.
var classRepeat = regexp.MustCompile(`^\[[^\]]*\]\+$`)

// byteSet is a set of ASCII bytes.
type byteSet [128]bool

// asciiSet evaluates a bracketed class on every ASCII byte, so that the set
// means exactly what the regular expression means.
func asciiSet(class string) *byteSet {
	re := regexp.MustCompile(`^` + class + `$`)
	var set byteSet
	for c := range 128 {
		set[c] = re.MatchString(string(rune(c)))
	}
	return &set
}

// all reports whether every byte of the ASCII string v is in the set.
func (s *byteSet) all(v string) bool {
	for i := 0; i < len(v); i++ {
		if !s[v[i]] {
			return false
		}
	}
	return true
}

func isASCII(v string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] >= 128 {
			return false
		}
	}
	return true
}

// memo remembers values that matched a pattern. It is bounded by starting
// over when full; values that did not match are not remembered.
type memo struct {
	re   *regexp.Regexp
	mu   sync.Mutex
	seen map[string]struct{}
}

const memoMax = 4096

func (m *memo) match(v string) bool {
	m.mu.Lock()
	_, ok := m.seen[v]
	m.mu.Unlock()
	if ok {
		return true
	}
	if !m.re.MatchString(v) {
		return false
	}
	m.mu.Lock()
	if m.seen == nil || len(m.seen) >= memoMax {
		m.seen = make(map[string]struct{}, 64)
	}
	m.seen[v] = struct{}{}
	m.mu.Unlock()
	return true
}

// Constraints of lambda-durable-model.json (protocol.md §3.2), by shape name.
var (
	// Every checkpoint names its execution's ARN: the engine's parser of
	// it (held to the same pattern by the tests) answers without the
	// memo's lock and map, or a regular expression for each new ARN.
	ruleDurableExecutionArn = withMatcher(newStringRule(1, 1024,
		`arn:([a-zA-Z0-9-]+):lambda:([a-zA-Z0-9-]+):(\d{12}):function:([a-zA-Z0-9_-]+):(\$LATEST(?:\.PUBLISHED)?|[0-9]+)/durable-execution/([a-zA-Z0-9_-]+)/([a-zA-Z0-9_-]+)`),
		engine.ValidExecutionArn)
	ruleDurableExecutionName = newStringRule(1, 64, `[a-zA-Z0-9-_]+`)
	ruleCheckpointToken      = newStringRule(1, 2048, `[A-Za-z0-9+/]+={0,2}`)
	ruleCallbackID           = newStringRule(1, 1024, `[A-Za-z0-9+/]+={0,2}`)
	ruleClientToken          = newStringRule(1, 64, `[\x21-\x7E]+`)
	ruleOperationID          = newStringRule(1, 64, `[a-zA-Z0-9-_]+`)
	ruleOperationName        = newStringRule(1, 256, `[\x20-\x7E]+`)
	ruleOperationSubType     = newStringRule(1, 32, `[a-zA-Z0-9-_]+`)
	ruleTenantID             = newStringRule(1, 256, `[a-zA-Z0-9\._:\/=+\-@ ]+`)
	ruleXAmznTraceID         = newStringRule(0, 8192, "")
	// NamespacedFunctionName: a name, partial ARN or ARN, optionally
	// qualified; the label of Invoke, GetFunction, ListDurableExecutions...
	ruleNamespacedFunctionName = newStringRule(1, 256,
		`(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:|(((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?))(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?`)
	// FunctionName: the stricter shape of CreateFunction,
	// UpdateFunctionConfiguration, DeleteFunction and PublishVersion.
	ruleFunctionName = newStringRule(1, 140,
		`(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?`)
	// NumericLatestPublishedOrAliasQualifier.
	ruleQualifier           = newStringRule(1, 128, `\$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+`)
	ruleDescription         = newStringRule(0, 256, "")
	ruleRoleArn             = newStringRule(0, 10000, `arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+`)
	ruleHandler             = newStringRule(0, 128, `[^\s]+`)
	ruleKMSKeyArn           = newStringRule(0, 10000, `(arn:(aws[a-zA-Z-]*)?:[a-z0-9-.]+:.*)|()`)
	ruleCapacityProviderArn = newStringRule(1, 140, engine.CapacityProviderArnPattern)
	// EnvironmentVariableName; a max of 0 means no length limit.
	ruleEnvVarName = newStringRule(0, 0, `[a-zA-Z]([a-zA-Z0-9_])+`)
)

// Enum value sets of the model, in model order (the order AWS lists them in
// "Member must satisfy enum value set" messages).
var (
	enumExecutionStatus = []string{"RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "STOPPED"}
	enumOperationType   = []string{"EXECUTION", "CONTEXT", "STEP", "WAIT", "CALLBACK", "CHAINED_INVOKE"}
	enumOperationAction = []string{"START", "SUCCEED", "FAIL", "RETRY", "CANCEL"}
	enumInvocationType  = []string{"Event", "RequestResponse", "DryRun"}
	enumLogType         = []string{"None", "Tail"}
	enumPackageType     = []string{"Zip", "Image"}
	enumArchitecture    = []string{"x86_64", "arm64"}
	enumFunctionVersion = []string{"ALL"}
)

// Numeric ranges of the model.
const (
	maxItemCount              = 1000       // ItemCount: 0..1000, 0 means the default
	maxListItems              = 10000      // MaxListItems: 1..10000
	maxStatuses               = 10         // ExecutionStatusList: 1..10
	maxDurationSeconds        = 31_622_400 // WaitSeconds, NextAttemptDelaySeconds, ExecutionTimeout (366 days)
	maxCallbackTimeout        = 99_999_999 // CallbackOptions timeouts; 0 disables
	minTimeout, maxTimeout    = 1, 5400    // Timeout
	minMemory, maxMemory      = 128, 32768 // MemorySize
	minRetention              = 1          // RetentionPeriodInDays
	maxRetention              = 90
	maxEnvironmentConcurrency = 1600 // PerExecutionEnvironmentMaxConcurrency: 1..1600
	minMemoryPerVCpu          = 2    // ExecutionEnvironmentMemoryGiBPerVCpu: 2..8
	maxMemoryPerVCpu          = 8
	maxClientContextBytes     = 3583 // X-Amz-Client-Context, base64
	maxEchoedValueBytes       = 2048 // longer values are not quoted back
	maxEnumListEchoElements   = 20
)

// violations collects constraint failures and renders them the way AWS
// does: "2 validation errors detected: Value 'x' at 'a' failed to satisfy
// constraint: ...; Value ...". Field paths use the member names with a
// lower-case first letter and 1-based "list.N.member" indexes.
type violations []string

// add records one failed constraint. A nil value prints "Value null".
func (v *violations) add(field string, value *string, sensitive bool, constraint string) {
	var what string
	switch {
	case value == nil:
		what = "Value null"
	case sensitive || len(*value) > maxEchoedValueBytes:
		what = "Value"
	default:
		what = "Value '" + *value + "'"
	}
	*v = append(*v, fmt.Sprintf("%s at '%s' failed to satisfy constraint: %s", what, field, constraint))
}

// null records a missing required member.
func (v *violations) null(field string) {
	v.add(field, nil, false, "Member must not be null")
}

// str checks a present string against r.
func (v *violations) str(field, value string, r stringRule) {
	n := utf8.RuneCountInString(value)
	if r.re != nil && !r.matches(value) {
		v.add(field, &value, r.sensitive, "Member must satisfy regular expression pattern: "+r.pattern)
	}
	if n < r.min {
		v.add(field, &value, r.sensitive, fmt.Sprintf("Member must have length greater than or equal to %d", r.min))
	}
	if r.max > 0 && n > r.max {
		v.add(field, &value, r.sensitive, fmt.Sprintf("Member must have length less than or equal to %d", r.max))
	}
}

func (r *stringRule) matches(v string) bool {
	if r.match != nil {
		return r.match(v)
	}
	return r.re.MatchString(v)
}

// required checks a required string whose absence decodes as "".
func (v *violations) required(field, value string, r stringRule) {
	if value == "" {
		v.null(field)
		return
	}
	v.str(field, value, r)
}

// optional checks an optional string member.
func (v *violations) optional(field string, value *string, r stringRule) {
	if value != nil {
		v.str(field, *value, r)
	}
}

// nonEmpty checks an optional string whose absence decodes as "".
func (v *violations) nonEmpty(field, value string, r stringRule) {
	if value != "" {
		v.str(field, value, r)
	}
}

// intRange checks an integer against [min, max].
func (v *violations) intRange(field string, value, min, max int64) {
	s := strconv.FormatInt(value, 10)
	if value < min {
		v.add(field, &s, false, fmt.Sprintf("Member must have value greater than or equal to %d", min))
	}
	if value > max {
		v.add(field, &s, false, fmt.Sprintf("Member must have value less than or equal to %d", max))
	}
}

// optInt checks an optional int32 member.
func (v *violations) optInt(field string, value *int32, min, max int64) {
	if value != nil {
		v.intRange(field, int64(*value), min, max)
	}
}

// enum checks a present value against an enum set.
func (v *violations) enum(field, value string, allowed []string) {
	if !slices.Contains(allowed, value) {
		v.add(field, &value, false, "Member must satisfy enum value set: ["+strings.Join(allowed, ", ")+"]")
	}
}

// requiredEnum checks a required enum whose absence decodes as "".
func (v *violations) requiredEnum(field, value string, allowed []string) {
	if value == "" {
		v.null(field)
		return
	}
	v.enum(field, value, allowed)
}

// enumList checks every element of a list against an enum set, reporting
// the list once the way AWS reports member constraints of a list.
func (v *violations) enumList(field string, list []string, allowed []string) {
	for _, s := range list {
		if !slices.Contains(allowed, s) {
			shown := javaList(list)
			v.add(field, &shown, false, "Member must satisfy constraint: [Member must satisfy enum value set: ["+
				strings.Join(allowed, ", ")+"]]")
			return
		}
	}
}

// javaList prints a list as Java's List.toString does ("[A, B]"), which is
// how AWS echoes list values; long lists are cut short.
func javaList(list []string) string {
	if len(list) > maxEnumListEchoElements {
		list = list[:maxEnumListEchoElements]
	}
	return "[" + strings.Join(list, ", ") + "]"
}

// listLen checks the length of a list member, echoing it as Java would
// print it ("[A, B]").
func (v *violations) listLen(field string, list []string, min, max int) {
	if len(list) >= min && len(list) <= max {
		return
	}
	s := javaList(list)
	if len(list) < min {
		v.add(field, &s, false, fmt.Sprintf("Member must have length greater than or equal to %d", min))
	} else {
		v.add(field, &s, false, fmt.Sprintf("Member must have length less than or equal to %d", max))
	}
}

// err returns the collected violations as an InvalidParameterValueException,
// or nil when there are none.
func (v violations) err() error {
	switch len(v) {
	case 0:
		return nil
	case 1:
		return invalidParameter("1 validation error detected: " + v[0])
	default:
		return invalidParameter(fmt.Sprintf("%d validation errors detected: %s", len(v), strings.Join(v, "; ")))
	}
}

// memberPath joins a list member's path: memberPath("updates", 0, "id") is
// "updates.1.member.id", AWS's 1-based notation.
func memberPath(list string, index int, field string) string {
	return fmt.Sprintf("%s.%d.member.%s", list, index+1, field)
}
