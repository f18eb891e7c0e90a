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

func parseExecutionArn(arn string) (executionRef, error) {
	m := executionArnRe.FindStringSubmatch(arn)
	if m == nil {
		return executionRef{}, Errorf(KindInvalidParameter, "Invalid durable execution ARN: %s", arn)
	}
	return executionRef{Function: m[4], Version: m[5], Name: m[6], ID: m[7]}, nil
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
