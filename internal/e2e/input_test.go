package e2e

import (
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/duro-run/duro/internal/durable"
)

// A large input is recorded with the EXECUTION operation and the
// ExecutionStarted event, once, and not in the execution's own record,
// which every checkpoint rewrites: with the input there, each step of an
// execution started with 200 KB rewrote 200 KB. The input must still come
// back everywhere the API shows it.
func TestLargeInputIsNotRewrittenByCheckpoints(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	input := `{"pad":"` + strings.Repeat("x", 200_000) + `"}`
	var seen atomic.Int64
	e.durableFunction("big-input", nil, func(c *durable.Context, in json.RawMessage) (any, error) {
		seen.Store(int64(len(in)))
		for _, name := range []string{"a", "b", "c", "d", "e"} {
			if _, err := c.Step(name, func() (any, error) { return name, nil }); err != nil {
				return nil, err
			}
		}
		return "done", nil
	})
	arn := e.start("big-input", latest, "", input)
	d := e.awaitStatus(arn, types.ExecutionStatusSucceeded)
	if seen.Load() != int64(len(input)) {
		t.Errorf("the handler saw a %d-byte input, want %d", seen.Load(), len(input))
	}
	if got := aws.ToString(e.describe(arn).InputPayload); got != input {
		t.Errorf("GetDurableExecution InputPayload is %d bytes, want the %d-byte input", len(got), len(input))
	}
	if aws.ToString(d.Result) != `"done"` {
		t.Errorf("result %q", aws.ToString(d.Result))
	}
	events := e.history(arn)
	if started := events[0].ExecutionStartedDetails; started == nil || aws.ToString(started.Input.Payload) != input {
		t.Errorf("ExecutionStarted does not carry the input")
	}

	var n int
	id := arn[strings.LastIndexByte(arn, '/')+1:]
	if err := e.storeFile().QueryRow(`SELECT length(data) FROM executions WHERE id = ?`, id).Scan(&n); err != nil {
		t.Fatalf("read the execution row: %v", err)
	}
	if n > 4096 {
		t.Errorf("the execution's record, rewritten at every checkpoint, is %d bytes: it holds the input", n)
	}
}
