package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/duro-run/duro/internal/store"
	"github.com/duro-run/duro/internal/store/sqlite"
	"github.com/duro-run/duro/internal/store/storetest"
)

func openTemp(t testing.TB) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "duro.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
}

func TestReopen(t *testing.T) {
	ctx := context.Background()
	// A path with URI-special characters must still name a plain file.
	path := filepath.Join(t.TempDir(), "odd?name#1%.db")

	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	start := time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)
	e := store.ExecutionRow{
		ID: "e1", ARN: "arn:e1", FunctionName: "fn", FunctionVersion: "$LATEST",
		Name: "run", Status: "RUNNING", StartTime: start, Data: []byte("state"),
	}
	if err := s.CreateFunction(ctx, store.FunctionRow{Name: "fn", Version: "$LATEST", Data: []byte("cfg")}); err != nil {
		t.Fatalf("CreateFunction: %v", err)
	}
	if err := s.Commit(ctx, store.Mutation{
		Execution: e, Create: true,
		Operations: []store.OperationRow{{OperationID: "op", Seq: 1}},
		Events:     []store.EventRow{{EventID: 1, Data: []byte("ev")}},
		SetTimers:  []store.TimerRow{{Key: "t", Due: start.Add(time.Hour)}},
	}); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := s.Commit(ctx, store.Mutation{Execution: e}); !errors.Is(err, sqlite.ErrClosed) {
		t.Fatalf("Commit after Close: %v, want ErrClosed", err)
	}

	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	got, err := s.GetExecution(ctx, "e1")
	if err != nil {
		t.Fatalf("GetExecution after reopen: %v", err)
	}
	if got.Revision != 1 || !got.StartTime.Equal(start) || string(got.Data) != "state" {
		t.Fatalf("execution after reopen = %+v", got)
	}
	if f, err := s.GetFunction(ctx, "fn", "$LATEST"); err != nil || string(f.Data) != "cfg" {
		t.Fatalf("function after reopen: %+v, %v", f, err)
	}
	if op, err := s.GetOperation(ctx, "e1", "op"); err != nil || op.Seq != 1 {
		t.Fatalf("operation after reopen: %+v, %v", op, err)
	}
	if evs, err := s.ListEvents(ctx, "e1", store.EventRange{}); err != nil || len(evs) != 1 || string(evs[0].Data) != "ev" {
		t.Fatalf("events after reopen: %+v, %v", evs, err)
	}
	if tm, err := s.NextTimer(ctx, time.Time{}); err != nil || tm.ExecutionID != "e1" || !tm.Due.Equal(start.Add(time.Hour)) {
		t.Fatalf("timer after reopen: %+v, %v", tm, err)
	}
	// The reopened store keeps working at the stored revision.
	e.Revision = 1
	e.Status = "SUCCEEDED"
	if err := s.Commit(ctx, store.Mutation{Execution: e}); err != nil {
		t.Fatalf("Commit after reopen: %v", err)
	}
}

// TestCloseDrainsQueue checks that Close answers every Commit that was
// already queued, and that the answers are true.
func TestCloseDrainsQueue(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "duro.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	const n = 200
	results := make(chan error, n)
	var started atomic.Int32
	for i := range n {
		go func() {
			started.Add(1)
			id := fmt.Sprintf("e%03d", i)
			results <- s.Commit(ctx, store.Mutation{Create: true, Execution: store.ExecutionRow{
				ID: id, FunctionName: "fn", Name: id, Status: "RUNNING", StartTime: time.Unix(int64(i+1), 0),
			}})
		}()
	}
	for started.Load() < n {
		time.Sleep(time.Millisecond)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	var committed []string
	for i := range n {
		if err := <-results; err == nil {
			committed = append(committed, fmt.Sprint(i))
		} else if !errors.Is(err, sqlite.ErrClosed) {
			t.Fatalf("Commit: %v, want nil or ErrClosed", err)
		}
	}

	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	rows, err := s.ListExecutions(ctx, store.ExecutionFilter{FunctionName: "fn"})
	if err != nil {
		t.Fatalf("ListExecutions: %v", err)
	}
	if len(rows) != len(committed) {
		t.Fatalf("%d executions stored, %d commits reported success", len(rows), len(committed))
	}
}

// TestGroupCommitIsolatesFailures checks that, inside one batch, a failing
// mutation does not take its neighbours down with it.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	defer s.Close()

	const n = 64
	errs := make(chan error, 2*n)
	for i := range n {
		go func() {
			// Every pair shares a name, so exactly one of each pair fails
			// with ErrExists, and the batches mix successes and failures.
			for j := range 2 {
				id := fmt.Sprintf("e%03d-%d", i, j)
				errs <- s.Commit(ctx, store.Mutation{Create: true,
					Execution: store.ExecutionRow{ID: id, FunctionName: "fn", Name: fmt.Sprint(i), StartTime: time.Unix(1, 0)},
					Events:    []store.EventRow{{EventID: 1}},
				})
			}
		}()
	}
	var ok, exists int
	for range 2 * n {
		switch err := <-errs; {
		case err == nil:
			ok++
		case errors.Is(err, store.ErrExists):
			exists++
		default:
			t.Fatalf("Commit: %v", err)
		}
	}
	if ok != n || exists != n {
		t.Fatalf("%d succeeded and %d failed with ErrExists, want %d each", ok, exists, n)
	}
	rows, err := s.ListExecutions(ctx, store.ExecutionFilter{FunctionName: "fn"})
	if err != nil || len(rows) != n {
		t.Fatalf("ListExecutions: %d rows, %v; want %d", len(rows), err, n)
	}
	for _, r := range rows {
		if evs, err := s.ListEvents(ctx, r.ID, store.EventRange{}); err != nil || len(evs) != 1 {
			t.Fatalf("events of %s: %+v, %v", r.ID, evs, err)
		}
	}
	if st := s.Stats(); st.Commits != n {
		t.Fatalf("Stats = %+v; want %d commits", st, n)
	}
}

// TestRejectsForeignRows checks that a mutation cannot write rows of
// another execution.
func TestRejectsForeignRows(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	defer s.Close()
	err := s.Commit(ctx, store.Mutation{Create: true,
		Execution:  store.ExecutionRow{ID: "e1", FunctionName: "fn", Name: "a"},
		Operations: []store.OperationRow{{ExecutionID: "e2", OperationID: "op"}},
	})
	if err == nil {
		t.Fatal("a mutation of e1 wrote an operation of e2")
	}
	if _, err := s.GetExecution(ctx, "e1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("rejected mutation was applied: %v", err)
	}
}

// BenchmarkCommit measures group commit with many executions in flight,
// each committing mutations shaped like a checkpoint: "step" as a step's
// [START, SUCCEED] (the execution row, one operation, two events), "wait"
// as a wait's START (one operation, one event, one timer). Besides ns/op
// (the whole store's throughput, goroutines and fsyncs included) it reports
// the committer's own time per mutation in its statements.
func BenchmarkCommit(b *testing.B) {
	for _, shape := range []struct {
		name   string
		events int
		timer  bool
	}{{"step", 2, false}, {"wait", 1, true}} {
		b.Run(shape.name, func(b *testing.B) {
			ctx := context.Background()
			s := openTemp(b)
			defer s.Close()

			var next atomic.Int64
			payload := make([]byte, 512)
			b.SetParallelism(32) // many goroutines per CPU, like many executions in flight
			b.ResetTimer()
			before := s.Stats()
			b.RunParallel(func(pb *testing.PB) {
				// Shaped like the engine's ids (UUID v7: 36 characters,
				// time-ordered), whose length the index entries pay for.
				id := fmt.Sprintf("0193a1b2-c3d4-7e5f-8a6b-%012d", next.Add(1))
				// Leased, as during the invocation whose checkpoints these are.
				e := store.ExecutionRow{ID: id, FunctionName: "fn", Name: id, Status: "RUNNING", StartTime: time.Now(),
					LeaseOwner: "node-0123456789abcdef", LeaseUntil: time.Now().Add(time.Minute), Data: payload}
				if err := s.Commit(ctx, store.Mutation{Execution: e, Create: true}); err != nil {
					b.Error(err)
					return
				}
				e.Revision = 1
				eventID := int64(0)
				for step := int64(1); pb.Next(); step++ {
					m := store.Mutation{
						Execution:  e,
						Operations: []store.OperationRow{{OperationID: fmt.Sprint(step), Seq: step, Data: payload}},
					}
					for range shape.events {
						eventID++
						m.Events = append(m.Events, store.EventRow{EventID: eventID, Data: payload[:256]})
					}
					if shape.timer {
						m.SetTimers = []store.TimerRow{{Key: "retry", Due: time.Now().Add(time.Minute)}}
					}
					if err := s.Commit(ctx, m); err != nil {
						b.Error(err)
						return
					}
					e.Revision++
				}
			})
			b.StopTimer()
			after := s.Stats()
			if tx := after.Transactions - before.Transactions; tx > 0 {
				n := float64(after.Commits - before.Commits)
				b.ReportMetric(n/float64(tx), "mutations/tx")
				// The committer's time per mutation outside COMMIT: its
				// statements, the part of its serial section that grows
				// with the mutations rather than the transactions.
				b.ReportMetric(float64((after.Busy-before.Busy)-(after.CommitTime-before.CommitTime))/1e3/n, "stmt-µs/mutation")
			}
		})
	}
}

// TestPartialFailureRollsBackAlone checks a mutation that fails after its
// execution row was written (a duplicate event): the committer must undo
// it alone, whichever way the batch ran, and commit the rest.
func TestPartialFailureRollsBackAlone(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	defer s.Close()

	base := store.ExecutionRow{ID: "dup", FunctionName: "fn", Name: "dup", StartTime: time.Unix(1, 0), Data: []byte("v1")}
	if err := s.Commit(ctx, store.Mutation{Create: true, Execution: base, Events: []store.EventRow{{EventID: 1}}}); err != nil {
		t.Fatalf("create: %v", err)
	}
	const n = 32
	errs := make(chan error, n)
	bad := make(chan error, 1)
	for i := range n {
		go func() {
			if i == n/2 {
				up := base
				up.Revision = 1
				up.Data = []byte("v2")
				bad <- s.Commit(ctx, store.Mutation{Execution: up,
					Operations: []store.OperationRow{{OperationID: "x", Seq: 1}},
					Events:     []store.EventRow{{EventID: 1}},
				})
			}
			errs <- s.Commit(ctx, store.Mutation{Create: true,
				Execution: store.ExecutionRow{ID: fmt.Sprintf("ok%02d", i), FunctionName: "fn", Name: fmt.Sprint(i), StartTime: time.Unix(1, 0)},
				Events:    []store.EventRow{{EventID: 1}},
			})
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatalf("Commit: %v", err)
		}
	}
	if err := <-bad; !errors.Is(err, store.ErrExists) {
		t.Fatalf("duplicate event: %v, want ErrExists", err)
	}
	row, err := s.GetExecution(ctx, "dup")
	if err != nil || row.Revision != 1 || string(row.Data) != "v1" {
		t.Fatalf("dup after failed update: %+v, %v; want revision 1, data v1", row, err)
	}
	if ops, err := s.ListOperations(ctx, "dup", 0, 0); err != nil || len(ops) != 0 {
		t.Fatalf("operations of dup: %+v, %v; want none", ops, err)
	}
	rows, err := s.ListExecutions(ctx, store.ExecutionFilter{FunctionName: "fn"})
	if err != nil || len(rows) != n+1 {
		t.Fatalf("ListExecutions: %d rows, %v; want %d", len(rows), err, n+1)
	}
}
