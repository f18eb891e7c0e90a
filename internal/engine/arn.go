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
	bad := func() (executionRef, error) {
		return executionRef{}, Errorf(KindInvalidParameter, "Invalid durable execution ARN: %s", arn)
	}
	p := strings.SplitN(arn, ":", 8)
	if len(p) != 8 || p[0] != "arn" || p[2] != "lambda" || p[5] != "function" ||
		!allIn(p[1], alnumDash) || !allIn(p[3], alnumDash) || len(p[4]) != 12 || !allIn(p[4], digits) || !allIn(p[6], alnumDashUnderscore) {
		return bad()
	}
	r := strings.Split(p[7], "/")
	if len(r) != 4 || r[1] != "durable-execution" || !allIn(r[2], alnumDashUnderscore) || !allIn(r[3], alnumDashUnderscore) {
		return bad()
	}
	if v := r[0]; v != "$LATEST" && v != "$LATEST.PUBLISHED" && !allIn(v, digits) {
		return bad()
	}
	return executionRef{Function: p[6], Version: r[0], Name: r[2], ID: r[3]}, nil
}

const (
	digits              = "0123456789"
	alnumDash           = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-"
	alnumDashUnderscore = alnumDash + "_"
)

// allIn reports whether s is non-empty and made of bytes of set.
func allIn(s, set string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(set, s[i]) < 0 {
			return false
		}
	}
	return true
}

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
