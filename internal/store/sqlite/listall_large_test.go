package sqlite

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/duro-run/duro/internal/store"
)

// largeExecutions is how many executions TestListAllExecutionsLarge stores:
// the console must stay fast at this size.
const largeExecutions = 100_000

// seedLarge commits n executions across 20 functions through Commit, from
// many goroutines at once so that the group committer batches them (about
// maxBatch per transaction). Starts are spread over 30 days; 1% are
// RUNNING, 3% FAILED, the rest SUCCEEDED. Data is a blob of the size an
// execution row typically carries.
func seedLarge(tb testing.TB, s *Store, n int) time.Time {
	tb.Helper()
	ctx := context.Background()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	span := 30 * 24 * time.Hour
	data := []byte(`{"fa":"arn:aws:lambda:us-east-1:123456789012:function:fn:$LATEST","in":"` + strings.Repeat("x", 200) + `","ih":"0123456789abcdef","et":86400,"rd":14}`)
	const workers = 256
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		ferr error
	)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				fn := fmt.Sprintf("fn-%02d", i%20)
				id := fmt.Sprintf("%032x", i)
				status := "SUCCEEDED"
				switch {
				case i%100 == 7:
					status = "RUNNING"
				case i%100 < 3:
					status = "FAILED"
				}
				start := base.Add(time.Duration(i) * (span / time.Duration(n)))
				row := store.ExecutionRow{
					ID: id, ARN: "arn:aws:lambda:us-east-1:123456789012:function:" + fn + ":$LATEST/durable-execution/run-" + id + "/" + id,
					FunctionName: fn, FunctionVersion: "$LATEST", Name: "run-" + id, Status: status,
					StartTime: start, Data: data,
				}
				if status != "RUNNING" {
					row.EndTime = start.Add(1500 * time.Millisecond)
				}
				if err := s.Commit(ctx, store.Mutation{Execution: row, Create: true}); err != nil {
					mu.Lock()
					ferr = err
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	if ferr != nil {
		tb.Fatalf("seed: %v", ferr)
	}
	return base.Add(span)
}

// TestListAllExecutionsLarge stores 100,000 executions and times the
// console's listing queries: the first page over every function, a page
// filtered by status, by function, by time range and by name, and a page
// far down the list. It asserts the query plans, not the times, which it
// logs: a listing of one function is served by an index in the listing's
// order (no sort, no full scan); a listing across functions reads each
// function's keys that way (the plan checked is one function's), and finds
// the functions by index seeks too.
//
//	go test ./internal/store/sqlite -run TestListAllExecutionsLarge -v -count=1
func TestListAllExecutionsLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("stores 100,000 executions")
	}
	ctx := context.Background()
	s := openInternal(t)

	began := time.Now()
	end := seedLarge(t, s, largeExecutions)
	st := s.Stats()
	t.Logf("inserted %d executions in %v (%d transactions)", largeExecutions, time.Since(began).Round(time.Millisecond), st.Transactions)

	const page = 51 // the console asks for 50 and one more to know a next page exists
	// A cursor deep in the list: the 50,000th newest execution.
	deep, err := s.ListAllExecutions(ctx, store.ExecutionFilter{Limit: 50_000})
	if err != nil || len(deep) != 50_000 {
		t.Fatalf("ListAllExecutions(limit 50000) = %d rows, %v", len(deep), err)
	}
	last := deep[len(deep)-1]

	for _, tc := range []struct {
		name string
		f    store.ExecutionFilter
		want int
		// plan is what SQLite's plan must say: the index that serves the
		// listing, read as a range ("SEARCH") unless nothing narrows it.
		plan string
	}{
		{"first page, all functions", store.ExecutionFilter{Limit: page}, page, "SEARCH executions USING COVERING INDEX executions_by_start"},
		{"first page, oldest first", store.ExecutionFilter{Limit: page, OldestFirst: true}, page, "SEARCH executions USING COVERING INDEX executions_by_start"},
		{"status RUNNING", store.ExecutionFilter{Statuses: []string{"RUNNING"}, Limit: page}, page, "SEARCH executions USING COVERING INDEX executions_by_function_status"},
		{"status FAILED", store.ExecutionFilter{Statuses: []string{"FAILED"}, Limit: page}, page, "SEARCH executions USING COVERING INDEX executions_by_function_status"},
		{"one function", store.ExecutionFilter{FunctionName: "fn-03", Limit: page}, page, "SEARCH executions USING INDEX executions_by_start"},
		{"one function, status FAILED", store.ExecutionFilter{FunctionName: "fn-01", Statuses: []string{"FAILED"}, Limit: page}, page, "SEARCH executions USING INDEX"},
		{"last hour", store.ExecutionFilter{StartedAfter: end.Add(-time.Hour), Limit: page}, page, "SEARCH executions USING COVERING INDEX executions_by_start"},
		{"name", store.ExecutionFilter{Name: fmt.Sprintf("run-%032x", 4242), Limit: page}, 1, "SEARCH executions USING INDEX sqlite_autoindex_executions_2"},
		{"page after 50,000 rows", store.ExecutionFilter{AfterTime: last.StartTime, AfterID: last.ID, Limit: page}, page, "SEARCH executions USING COVERING INDEX executions_by_start"},
		{"RUNNING, after 50,000 rows", store.ExecutionFilter{Statuses: []string{"RUNNING"}, AfterTime: last.StartTime, AfterID: last.ID, Limit: page}, page, "SEARCH executions USING COVERING INDEX executions_by_function_status"},
	} {
		// Once to warm the page cache, then the median of five.
		if _, err := s.ListAllExecutions(ctx, tc.f); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var times []time.Duration
		for range 5 {
			t0 := time.Now()
			rows, err := s.ListAllExecutions(ctx, tc.f)
			times = append(times, time.Since(t0))
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if len(rows) != tc.want {
				t.Fatalf("%s: %d rows, want %d", tc.name, len(rows), tc.want)
			}
		}
		plan := queryPlan(t, s, tc.f)
		t.Logf("%-30s median %8v  plan: %s", tc.name, median(times).Round(time.Microsecond), plan)
		if strings.Contains(plan, "TEMP B-TREE") {
			t.Errorf("%s: the listing sorts instead of reading an index in order: %s", tc.name, plan)
		}
		if !strings.HasPrefix(plan, tc.plan) {
			t.Errorf("%s: plan %q, want one starting with %q", tc.name, plan, tc.plan)
		}
	}

	// The functions are found, and a status counted, by index seeks and
	// ranges, not by a walk of every execution.
	for _, q := range []struct {
		name, sql string
		args      []any
	}{
		{"function names", functionNamesSQL, nil},
		{"count RUNNING", countExecutionsSQL, []any{"RUNNING"}},
	} {
		plan := planOf(t, s, q.sql, q.args...)
		t.Logf("%-30s plan: %s", q.name, plan)
		for _, step := range strings.Split(plan, "; ") {
			if strings.HasPrefix(step, "SCAN executions") && !strings.Contains(step, "INDEX") {
				t.Errorf("%s: a full scan of the executions: %s", q.name, plan)
			}
		}
	}
	t0 := time.Now()
	if n, err := s.CountExecutions(ctx, "RUNNING"); err != nil || n != largeExecutions/100 {
		t.Errorf("CountExecutions(RUNNING) = %d, %v; want %d", n, err, largeExecutions/100)
	}
	t.Logf("CountExecutions(RUNNING) took %v", time.Since(t0).Round(time.Microsecond))
}

// queryPlan returns SQLite's plan for f's listing, one step per "; ": for
// a listing across functions, the plan of one function's part of it.
func queryPlan(t *testing.T, s *Store, f store.ExecutionFilter) string {
	t.Helper()
	if f.FunctionName == "" {
		f.FunctionName = "fn-00"
		q, args := executionListQueryOf(`start_ns, id`, f)
		return planOf(t, s, q, args...)
	}
	q, args := executionListQuery(f)
	return planOf(t, s, q, args...)
}

// planOf returns SQLite's plan for q, one step per "; ".
func planOf(t *testing.T, s *Store, q string, args ...any) string {
	t.Helper()
	rows, err := s.reader.QueryContext(context.Background(), `EXPLAIN QUERY PLAN `+q, args...)
	if err != nil {
		t.Fatalf("EXPLAIN: %v", err)
	}
	defer rows.Close()
	var steps []string
	for rows.Next() {
		var id, parent, notUsed int
		var detail string
		if err := rows.Scan(&id, &parent, &notUsed, &detail); err != nil {
			t.Fatalf("EXPLAIN: %v", err)
		}
		steps = append(steps, detail)
	}
	return strings.Join(steps, "; ")
}

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s[len(s)/2]
}
