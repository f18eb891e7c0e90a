package e2e

import (
	"database/sql"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/duro-run/duro/internal/durable"
)

// A node keeps recently suspended executions in memory (the engine's idle
// cache). Another node sharing the store may change such an execution in
// the meantime; here a commit to the shared SQLite file behind the node's
// back stands in for it. The wake-up must find the cached copy stale by its
// revision, reload and finish the execution as if nothing had been cached.
func TestSuspendedExecutionChangedBehindTheNode(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	calls := e.durableFunction("stale", nil, func(c *durable.Context, _ json.RawMessage) (any, error) {
		if err := c.Wait("w", 2); err != nil {
			return nil, err
		}
		return "done", nil
	})
	arn := e.start("stale", latest, "", `{}`)
	e.awaitEvent(arn, types.EventTypeInvocationCompleted, 1) // suspended on the wait

	db := e.storeFile()
	id := arn[strings.LastIndexByte(arn, '/')+1:]
	res, err := db.Exec(`UPDATE executions SET revision = revision + 1 WHERE id = ?`, id)
	if err != nil {
		t.Fatalf("commit behind the node: %v", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("commit behind the node changed %d rows, want 1", n)
	}

	d := e.awaitStatus(arn, types.ExecutionStatusSucceeded)
	if got := aws.ToString(d.Result); got != `"done"` {
		t.Errorf("result = %s, want \"done\"", got)
	}
	if calls.Load() != 2 {
		t.Errorf("%d invocations, want 2", calls.Load())
	}
	events := e.history(arn)
	checkHistory(t, events, 2)
	want := []string{"ExecutionStarted", "WaitStarted", "InvocationCompleted", "WaitSucceeded", "InvocationCompleted", "ExecutionSucceeded"}
	if !sameStrings(eventTypes(events), want) {
		t.Errorf("history = %v, want %v", eventTypes(events), want)
	}
}

// storeFile opens the node's SQLite store file directly, for tests that
// look at (or change) it behind the node's back; closed with the test.
func (e *env) storeFile() *sql.DB {
	e.t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(e.dataDir, "duro.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		e.t.Fatalf("open the store file: %v", err)
	}
	e.t.Cleanup(func() { db.Close() })
	return db
}
