package sqlite

import (
	"strings"

	"github.com/duro-run/duro/internal/store"
)

// An execution's ARN repeats four of its row's columns: it is
// "arn:aws:lambda:REGION:ACCOUNT:function:" followed by the function name,
// ":", the version, "/durable-execution/", the execution name, "/" and the
// ID. The arn column keeps only what the other columns do not say: an ARN
// of that form is stored as compactARNMark followed by its prefix up to
// and including ":function:"; any other is stored as it is. Every
// checkpoint rewrites the execution's row, and at ~750 bytes two rows
// filled a page: the active executions' rows then spread over twice as
// many pages, and a transaction wrote about one page per mutation for them
// (bench/README.md, fifteenth session).
//
// compactARNMark cannot begin an ARN, so a stored value is unambiguous;
// rows written before the compact form keep their full ARN and read back
// unchanged.
const compactARNMark = "~"

// storedARN returns what the arn column holds for e.
func storedARN(e *store.ExecutionRow) string {
	suffix := arnSuffix(e.FunctionName, e.FunctionVersion, e.Name, e.ID)
	prefix, ok := strings.CutSuffix(e.ARN, suffix)
	if !ok || !strings.HasSuffix(prefix, ":function:") || strings.HasPrefix(e.ARN, compactARNMark) {
		return e.ARN
	}
	return compactARNMark + prefix
}

// loadedARN returns the ARN of a row whose arn column holds stored.
func loadedARN(stored, functionName, version, name, id string) string {
	prefix, ok := strings.CutPrefix(stored, compactARNMark)
	if !ok {
		return stored
	}
	return prefix + arnSuffix(functionName, version, name, id)
}

// arnSuffix is the part of an execution's ARN after ":function:".
func arnSuffix(functionName, version, name, id string) string {
	return functionName + ":" + version + "/durable-execution/" + name + "/" + id
}
