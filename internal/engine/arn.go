package engine

import (
	"fmt"
	"regexp"
	"strings"
)

var (
	executionArnRe = regexp.MustCompile(`^arn:([a-zA-Z0-9-]+):lambda:([a-zA-Z0-9-]+):(\d{12}):function:([a-zA-Z0-9_-]+):(\$LATEST(?:\.PUBLISHED)?|[0-9]+)/durable-execution/([a-zA-Z0-9_-]+)/([a-zA-Z0-9_-]+)$`)
	functionArnRe  = regexp.MustCompile(`^arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:(\d{12}):function:([a-zA-Z0-9_-]+)(?::([a-zA-Z0-9$_.-]+))?$`)
	partialArnRe   = regexp.MustCompile(`^(\d{12}):function:([a-zA-Z0-9_-]+)(?::([a-zA-Z0-9$_.-]+))?$`)
	plainNameRe    = regexp.MustCompile(`^([a-zA-Z0-9_-]+)(?::([a-zA-Z0-9$_.-]+))?$`)
)

// executionRef is a parsed durable execution ARN.
type executionRef struct {
	Function string
	Version  string
	Name     string
	ID       string
}

// parseExecutionArn parses what executionArnRe matches. It runs on every
// checkpoint, where the regular expression cost more than the rest of the
// request's parsing, so it is written out by hand; a test holds it to the
// expression.
func parseExecutionArn(arn string) (executionRef, error) {
	if ref, ok := splitExecutionArn(arn); ok {
		return ref, nil
	}
	return executionRef{}, Errorf(KindInvalidParameter, "Invalid durable execution ARN: %s", arn)
}

// ValidExecutionArn reports whether arn is a durable execution ARN, as the
// service model's pattern for DurableExecutionArn defines one.
func ValidExecutionArn(arn string) bool {
	_, ok := splitExecutionArn(arn)
	return ok
}

// splitExecutionArn is parseExecutionArn without the error: field by field,
// with no slice of fields to allocate.
func splitExecutionArn(arn string) (executionRef, bool) {
	var f [7]string // the fields before the resource: arn, partition, service, region, account, "function", name
	rest := arn
	for i := range f {
		var ok bool
		if f[i], rest, ok = strings.Cut(rest, ":"); !ok {
			return executionRef{}, false
		}
	}
	if f[0] != "arn" || f[2] != "lambda" || f[5] != "function" || !alnumDash.all(f[1]) || !alnumDash.all(f[3]) ||
		len(f[4]) != 12 || !digits.all(f[4]) || !alnumDashUnderscore.all(f[6]) {
		return executionRef{}, false
	}
	version, rest, _ := strings.Cut(rest, "/")
	kind, rest, _ := strings.Cut(rest, "/")
	name, id, _ := strings.Cut(rest, "/")
	if kind != "durable-execution" || !alnumDashUnderscore.all(name) || !alnumDashUnderscore.all(id) {
		return executionRef{}, false // a fourth "/" leaves one in id, which the set refuses
	}
	if version != "$LATEST" && version != "$LATEST.PUBLISHED" && !digits.all(version) {
		return executionRef{}, false
	}
	return executionRef{Function: f[6], Version: version, Name: name, ID: id}, true
}

// byteSet is a set of bytes, for checking a field's characters with one
// lookup each.
type byteSet [256]bool

func newByteSet(members string) *byteSet {
	var s byteSet
	for i := 0; i < len(members); i++ {
		s[members[i]] = true
	}
	return &s
}

// all reports whether v is non-empty and made of bytes of s.
func (s *byteSet) all(v string) bool {
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		if !s[v[i]] {
			return false
		}
	}
	return true
}

var (
	digits              = newByteSet("0123456789")
	alnumDash           = newByteSet("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")
	alnumDashUnderscore = newByteSet("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
)

// functionRef is a parsed FunctionName label: a name, a partial ARN or an
// ARN, each with an optional qualifier.
type functionRef struct {
	Name      string
	Qualifier string
}

func (e *Engine) parseFunctionName(s string) (functionRef, error) {
	var m []string
	switch {
	case strings.HasPrefix(s, "arn:"):
		m = functionArnRe.FindStringSubmatch(s)
		if m != nil && m[1] != e.cfg.AccountID {
			return functionRef{}, Errorf(KindNotFound, "Function not found: %s", s)
		}
		if m != nil {
			m = m[1:]
		}
	case partialArnRe.MatchString(s):
		m = partialArnRe.FindStringSubmatch(s)
		if m[1] != e.cfg.AccountID {
			return functionRef{}, Errorf(KindNotFound, "Function not found: %s", s)
		}
		m = m[1:]
	default:
		if mm := plainNameRe.FindStringSubmatch(s); mm != nil {
			m = append([]string{""}, mm[1:]...)
		}
	}
	if m == nil {
		return functionRef{}, Errorf(KindInvalidParameter, "1 validation error detected: Value '%s' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern", s)
	}
	return functionRef{Name: m[1], Qualifier: m[2]}, nil
}

func (e *Engine) functionArn(name string) string {
	return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", e.cfg.Region, e.cfg.AccountID, name)
}

func (e *Engine) executionArn(function, version, name, id string) string {
	return fmt.Sprintf("%s:%s/durable-execution/%s/%s", e.functionArn(function), version, name, id)
}
