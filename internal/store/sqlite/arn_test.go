package sqlite

import (
	"context"
	"testing"
	"time"

	"github.com/duro-run/duro/internal/store"
)

func TestStoredARN(t *testing.T) {
	const prefix = "arn:aws:lambda:us-east-1:123456789012:function:"
	for _, tc := range []struct {
		name       string
		e          store.ExecutionRow
		wantStored string
	}{
		{"usual form", store.ExecutionRow{ARN: prefix + "fn:$LATEST/durable-execution/run-1/id-1",
			FunctionName: "fn", FunctionVersion: "$LATEST", Name: "run-1", ID: "id-1"}, "~" + prefix},
		{"published version", store.ExecutionRow{ARN: prefix + "fn:3/durable-execution/run-1/id-1",
			FunctionName: "fn", FunctionVersion: "3", Name: "run-1", ID: "id-1"}, "~" + prefix},
		{"name differs from the ARN's", store.ExecutionRow{ARN: prefix + "fn:$LATEST/durable-execution/run-1/id-1",
			FunctionName: "fn", FunctionVersion: "$LATEST", Name: "run-2", ID: "id-1"}, prefix + "fn:$LATEST/durable-execution/run-1/id-1"},
		{"suffix without :function:", store.ExecutionRow{ARN: "x" + "fn:$LATEST/durable-execution/run-1/id-1",
			FunctionName: "fn", FunctionVersion: "$LATEST", Name: "run-1", ID: "id-1"}, "xfn:$LATEST/durable-execution/run-1/id-1"},
		{"something else", store.ExecutionRow{ARN: "arn", FunctionName: "fn", FunctionVersion: "$LATEST", Name: "n", ID: "i"}, "arn"},
		{"empty", store.ExecutionRow{FunctionName: "fn", FunctionVersion: "$LATEST", Name: "n", ID: "i"}, ""},
	} {
		stored := storedARN(&tc.e)
		if stored != tc.wantStored {
			t.Errorf("%s: stored %q, want %q", tc.name, stored, tc.wantStored)
		}
		if got := loadedARN(stored, tc.e.FunctionName, tc.e.FunctionVersion, tc.e.Name, tc.e.ID); got != tc.e.ARN {
			t.Errorf("%s: loaded %q, want %q", tc.name, got, tc.e.ARN)
		}
	}
}

// TestCompactARNRows checks the arn column through the store: a new row
// keeps only the ARN's prefix and reads back whole; a row written with the
// full ARN (as earlier builds did) reads back as it is, and an update
// rewrites it in the compact form; a deleted execution's log lines, found
// by its ARN, go with it.
func TestCompactARNRows(t *testing.T) {
	ctx := context.Background()
	s := openInternal(t)
	const prefix = "arn:aws:lambda:us-east-1:123456789012:function:"
	e := store.ExecutionRow{ID: "id-1", ARN: prefix + "fn:$LATEST/durable-execution/run-1/id-1", FunctionName: "fn",
		FunctionVersion: "$LATEST", Name: "run-1", Status: "RUNNING", StartTime: time.Unix(1, 0)}
	if err := s.Commit(ctx, store.Mutation{Create: true, Execution: e}); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	column := func(id string) string {
		t.Helper()
		var v string
		if err := s.reader.QueryRowContext(ctx, `SELECT arn FROM executions WHERE id = ?`, id).Scan(&v); err != nil {
			t.Fatalf("arn column of %s: %v", id, err)
		}
		return v
	}
	if got := column("id-1"); got != "~"+prefix {
		t.Errorf("arn column %q, want %q", got, "~"+prefix)
	}
	for _, read := range []func() (store.ExecutionRow, error){
		func() (store.ExecutionRow, error) { return s.GetExecution(ctx, "id-1") },
		func() (store.ExecutionRow, error) { return s.FindExecutionByName(ctx, "fn", "run-1") },
		func() (store.ExecutionRow, error) {
			rows, err := s.ListAllExecutions(ctx, store.ExecutionFilter{})
			if err != nil || len(rows) != 1 {
				t.Fatalf("ListAllExecutions = %v, %v", rows, err)
			}
			return rows[0], nil
		},
	} {
		if got, err := read(); err != nil || got.ARN != e.ARN {
			t.Errorf("read back ARN %q, %v; want %q", got.ARN, err, e.ARN)
		}
	}

	// A row as an earlier build wrote it.
	old := "arn:aws:lambda:us-east-1:123456789012:function:fn:$LATEST/durable-execution/run-2/id-2"
	if _, err := s.writer.ExecContext(ctx, `INSERT INTO executions (id, arn, function_name, function_version, name, status,
		start_ns, end_ns, revision, lease_owner, lease_until_ns, data) VALUES ('id-2', ?, 'fn', '$LATEST', 'run-2', 'RUNNING', 2, 0, 1, '', 0, NULL)`, old); err != nil {
		t.Fatalf("insert an old row: %v", err)
	}
	got, err := s.GetExecution(ctx, "id-2")
	if err != nil || got.ARN != old {
		t.Fatalf("old row: ARN %q, %v; want %q", got.ARN, err, old)
	}
	got.Status = "SUCCEEDED"
	if err := s.Commit(ctx, store.Mutation{Execution: got}); err != nil {
		t.Fatalf("update the old row: %v", err)
	}
	if c := column("id-2"); c != "~"+prefix {
		t.Errorf("old row after an update: arn column %q, want the compact form", c)
	}
	if again, err := s.GetExecution(ctx, "id-2"); err != nil || again.ARN != old || again.Status != "SUCCEEDED" {
		t.Errorf("old row after an update = %+v, %v", again, err)
	}

	if err := s.AppendLogs(ctx, []store.LogRow{{Time: time.Unix(3, 0), FunctionName: "fn", FunctionVersion: "$LATEST",
		ExecutionArn: e.ARN, Stream: "stdout", Message: "hello"}}); err != nil {
		t.Fatalf("AppendLogs: %v", err)
	}
	if err := s.DeleteExecution(ctx, "id-1"); err != nil {
		t.Fatalf("DeleteExecution: %v", err)
	}
	logs, err := s.ListLogs(ctx, store.LogQuery{ExecutionArn: e.ARN})
	if err != nil || len(logs) != 0 {
		t.Errorf("logs of the deleted execution = %v, %v; want none", logs, err)
	}
}
