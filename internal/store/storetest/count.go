package storetest

import (
	"testing"
	"time"

	"github.com/duro-run/duro/internal/store"
)

func testCountExecutions(t *testing.T, s store.Store) {
	count := func(status string) int64 {
		t.Helper()
		n, err := s.CountExecutions(ctxOf(t), status)
		if err != nil {
			t.Fatalf("CountExecutions(%s): %v", status, err)
		}
		return n
	}
	if n := count("RUNNING"); n != 0 {
		t.Fatalf("empty store: CountExecutions(RUNNING) = %d, want 0", n)
	}
	var rows []store.ExecutionRow
	for i, fn := range []string{"fa", "fa", "fb", "fb", "fc"} {
		rows = append(rows, create(t, s, newExecution("count-"+string(rune('a'+i)), fn, "n"+string(rune('a'+i)), at(time.Duration(i)*time.Second))))
	}
	// Finish two of them: one succeeded, one failed.
	for i, status := range map[int]string{1: "SUCCEEDED", 3: "FAILED"} {
		e := rows[i]
		e.Status, e.EndTime = status, at(time.Minute)
		update(t, s, e, store.Mutation{})
	}
	for status, want := range map[string]int64{"RUNNING": 3, "SUCCEEDED": 1, "FAILED": 1, "TIMED_OUT": 0} {
		if n := count(status); n != want {
			t.Errorf("CountExecutions(%s) = %d, want %d", status, n, want)
		}
	}
	if err := s.DeleteExecution(ctxOf(t), rows[0].ID); err != nil {
		t.Fatalf("DeleteExecution: %v", err)
	}
	if n := count("RUNNING"); n != 2 {
		t.Errorf("after a delete: CountExecutions(RUNNING) = %d, want 2", n)
	}
}
