package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/duro-run/duro/internal/store"
)

// The cross-function listing (ListAllExecutions) over seedListing's rows:
//
//	newest first: e(5s) x(4s) d(3s) c(3s) b(2s) a(1s)

func testListAllExecutionsFilters(t *testing.T, s store.Store) {
	ctx := ctxOf(t)
	seedListing(t, s)

	for _, tc := range []struct {
		name   string
		filter store.ExecutionFilter
		want   []string
	}{
		{"every function, newest first", store.ExecutionFilter{}, []string{"e", "x", "d", "c", "b", "a"}},
		{"every function, oldest first", store.ExecutionFilter{OldestFirst: true}, []string{"a", "b", "c", "d", "x", "e"}},
		{"one function", store.ExecutionFilter{FunctionName: "other"}, []string{"x"}},
		{"function and version", store.ExecutionFilter{FunctionName: "fn", Version: "1"}, []string{"d", "b"}},
		{"name across functions", store.ExecutionFilter{Name: "n-a"}, []string{"x", "a"}},
		{"one status", store.ExecutionFilter{Statuses: []string{"RUNNING"}}, []string{"x", "d", "a"}},
		{"one status oldest first", store.ExecutionFilter{Statuses: []string{"RUNNING"}, OldestFirst: true}, []string{"a", "d", "x"}},
		{"statuses", store.ExecutionFilter{Statuses: []string{"FAILED", "STOPPED"}}, []string{"e", "c"}},
		{"started after (exclusive)", store.ExecutionFilter{StartedAfter: at(3 * time.Second)}, []string{"e", "x"}},
		{"started before (exclusive)", store.ExecutionFilter{StartedBefore: at(3 * time.Second)}, []string{"b", "a"}},
		{"started between", store.ExecutionFilter{StartedAfter: at(time.Second), StartedBefore: at(5 * time.Second)}, []string{"x", "d", "c", "b"}},
		{"limit", store.ExecutionFilter{Limit: 2}, []string{"e", "x"}},
		{"combined", store.ExecutionFilter{Statuses: []string{"RUNNING"}, StartedAfter: at(time.Second), Limit: 1}, []string{"x"}},
		{"no match", store.ExecutionFilter{Statuses: []string{"TIMED_OUT"}}, nil},
		{"unknown function", store.ExecutionFilter{FunctionName: "nobody"}, nil},
	} {
		rows, err := s.ListAllExecutions(ctx, tc.filter)
		if err != nil {
			t.Fatalf("%s: ListAllExecutions: %v", tc.name, err)
		}
		checkIDs(t, tc.name, executionIDs(rows), tc.want)
	}

	rows, err := s.ListAllExecutions(ctx, store.ExecutionFilter{Name: "n-e"})
	if err != nil || len(rows) != 1 {
		t.Fatalf("ListAllExecutions(name n-e) = %v, %v; want one row", executionIDs(rows), err)
	}
	checkExecution(t, rows[0], getExecution(t, s, "e"))
}

func testListAllExecutionsPaging(t *testing.T, s store.Store) {
	ctx := ctxOf(t)
	seedListing(t, s)

	for _, tc := range []struct {
		name   string
		filter store.ExecutionFilter
		want   []string
	}{
		{"newest first", store.ExecutionFilter{}, []string{"e", "x", "d", "c", "b", "a"}},
		{"oldest first", store.ExecutionFilter{OldestFirst: true}, []string{"a", "b", "c", "d", "x", "e"}},
		{"running", store.ExecutionFilter{Statuses: []string{"RUNNING"}}, []string{"x", "d", "a"}},
	} {
		for _, pageSize := range []int{1, 2, 4} {
			var got []string
			f := tc.filter
			f.Limit = pageSize
			for page := 0; ; page++ {
				if page > len(tc.want)+1 {
					t.Fatalf("%s page size %d: paging does not end: %q", tc.name, pageSize, got)
				}
				rows, err := s.ListAllExecutions(ctx, f)
				if err != nil {
					t.Fatalf("ListAllExecutions: %v", err)
				}
				if len(rows) > pageSize {
					t.Fatalf("page of %d rows with limit %d", len(rows), pageSize)
				}
				if len(rows) == 0 {
					break
				}
				got = append(got, executionIDs(rows)...)
				last := rows[len(rows)-1]
				f.AfterTime, f.AfterID = last.StartTime, last.ID
			}
			checkIDs(t, fmt.Sprintf("%s page size %d", tc.name, pageSize), got, tc.want)
		}
	}
}
