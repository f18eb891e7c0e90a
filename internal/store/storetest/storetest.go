// Package storetest is the conformance suite for store.Store
// implementations. Every implementation runs it from its own tests:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { ... })
//	}
//
// Besides what store.go documents, the suite pins down the choices an
// engine may rely on and every implementation must share:
//   - ExecutionFilter.StartedAfter and StartedBefore are exclusive bounds;
//     DueTimers includes timers due exactly at now.
//   - A limit of zero or less means no limit, for every listing.
//   - DeleteFunction and DeleteExecution return ErrNotFound when nothing
//     matched.
//   - A checkpoint response, once recorded, is never overwritten by a later
//     mutation carrying the same tokens.
//   - Log IDs are strictly increasing in append order, and ListLogs
//     without an ExecutionArn or a FunctionName is an error.
//   - A mutation that fails (for any reason, including a duplicate event ID)
//     leaves no trace: not its execution update, nor any child row.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/duro-run/duro/internal/store"
)

// Run runs the conformance suite. open must return a new, empty store for
// each call; Run closes it when the sub-test ends.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"FunctionCreateGet", testFunctionCreateGet},
		{"FunctionUpdate", testFunctionUpdate},
		{"ListFunctions", testListFunctions},
		{"ListFunctionVersions", testListFunctionVersions},
		{"DeleteFunction", testDeleteFunction},
		{"ExecutionCreate", testExecutionCreate},
		{"ExecutionCreateCollisions", testExecutionCreateCollisions},
		{"CommitUpdate", testCommitUpdate},
		{"CommitConflictAppliesNothing", testCommitConflictAppliesNothing},
		{"CommitDuplicateEventAppliesNothing", testCommitDuplicateEventAppliesNothing},
		{"CommitMissingExecution", testCommitMissingExecution},
		{"CommitCanceledContext", testCommitCanceledContext},
		{"CommitKeepsNoMemory", testCommitKeepsNoMemory},
		{"ConcurrentCommits", testConcurrentCommits},
		{"ConcurrentConflictingCommits", testConcurrentConflictingCommits},
		{"ListExecutionsFilters", testListExecutionsFilters},
		{"ListExecutionsPaging", testListExecutionsPaging},
		{"ListAllExecutionsFilters", testListAllExecutionsFilters},
		{"ListAllExecutionsPaging", testListAllExecutionsPaging},
		{"ListLeasedExecutions", testListLeasedExecutions},
		{"CountExecutions", testCountExecutions},
		{"DeleteExecution", testDeleteExecution},
		{"Operations", testOperations},
		{"Events", testEvents},
		{"Timers", testTimers},
		{"TimerReplaceAndDelete", testTimerReplaceAndDelete},
		{"LogsAppendList", testLogsAppendList},
		{"LogsPaging", testLogsPaging},
		{"LogsPrune", testLogsPrune},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, s)
		})
	}
}

// t0 has a sub-microsecond part so that a store that truncates timestamps
// fails the round-trip checks.
var t0 = time.Date(2025, 6, 1, 12, 0, 0, 123456789, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func ctxOf(t *testing.T) context.Context { return t.Context() }

// ---- helpers ----

func newExecution(id, function, name string, start time.Time) store.ExecutionRow {
	return store.ExecutionRow{
		ID:              id,
		ARN:             "arn:aws:lambda:us-east-1:000000000000:function:" + function + ":$LATEST/durable-execution/" + name + "/" + id,
		FunctionName:    function,
		FunctionVersion: "$LATEST",
		Name:            name,
		Status:          "RUNNING",
		StartTime:       start,
		Data:            []byte("data-" + id),
	}
}

// create commits e as a new execution and returns it as stored.
func create(t *testing.T, s store.Store, e store.ExecutionRow) store.ExecutionRow {
	t.Helper()
	if err := s.Commit(ctxOf(t), store.Mutation{Execution: e, Create: true}); err != nil {
		t.Fatalf("create execution %s: %v", e.ID, err)
	}
	e.Revision = 1
	return e
}

func mustCommit(t *testing.T, s store.Store, m store.Mutation) {
	t.Helper()
	if err := s.Commit(ctxOf(t), m); err != nil {
		t.Fatalf("commit %s@%d: %v", m.Execution.ID, m.Execution.Revision, err)
	}
}

// update commits a mutation of e at its current revision and returns e as
// stored afterwards.
func update(t *testing.T, s store.Store, e store.ExecutionRow, m store.Mutation) store.ExecutionRow {
	t.Helper()
	m.Execution = e
	mustCommit(t, s, m)
	e.Revision++
	return e
}

func getExecution(t *testing.T, s store.Store, id string) store.ExecutionRow {
	t.Helper()
	e, err := s.GetExecution(ctxOf(t), id)
	if err != nil {
		t.Fatalf("GetExecution(%s): %v", id, err)
	}
	return e
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want %v", what, err, target)
	}
}

func sameTime(a, b time.Time) bool {
	if a.IsZero() || b.IsZero() {
		return a.IsZero() == b.IsZero()
	}
	return a.Equal(b)
}

func checkExecution(t *testing.T, got, want store.ExecutionRow) {
	t.Helper()
	var diffs []string
	add := func(field string, g, w any) { diffs = append(diffs, fmt.Sprintf("%s: got %v, want %v", field, g, w)) }
	if got.ID != want.ID {
		add("ID", got.ID, want.ID)
	}
	if got.ARN != want.ARN {
		add("ARN", got.ARN, want.ARN)
	}
	if got.FunctionName != want.FunctionName {
		add("FunctionName", got.FunctionName, want.FunctionName)
	}
	if got.FunctionVersion != want.FunctionVersion {
		add("FunctionVersion", got.FunctionVersion, want.FunctionVersion)
	}
	if got.Name != want.Name {
		add("Name", got.Name, want.Name)
	}
	if got.Status != want.Status {
		add("Status", got.Status, want.Status)
	}
	if !sameTime(got.StartTime, want.StartTime) {
		add("StartTime", got.StartTime, want.StartTime)
	}
	if !sameTime(got.EndTime, want.EndTime) {
		add("EndTime", got.EndTime, want.EndTime)
	}
	if got.Revision != want.Revision {
		add("Revision", got.Revision, want.Revision)
	}
	if got.LeaseOwner != want.LeaseOwner {
		add("LeaseOwner", got.LeaseOwner, want.LeaseOwner)
	}
	if !sameTime(got.LeaseUntil, want.LeaseUntil) {
		add("LeaseUntil", got.LeaseUntil, want.LeaseUntil)
	}
	if !bytes.Equal(got.Data, want.Data) {
		add("Data", string(got.Data), string(want.Data))
	}
	if len(diffs) > 0 {
		t.Fatalf("execution %s differs:\n%s", want.ID, joinLines(diffs))
	}
}

func joinLines(lines []string) string {
	var b bytes.Buffer
	for _, l := range lines {
		b.WriteString("  " + l + "\n")
	}
	return b.String()
}

func executionIDs(rows []store.ExecutionRow) []string {
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	return ids
}

func checkIDs(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%s: got %q, want %q", what, got, want)
	}
}

// ---- functions ----

func testFunctionCreateGet(t *testing.T, s store.Store) {
	ctx := ctxOf(t)
	f := store.FunctionRow{Name: "fn", Version: "$LATEST", Data: []byte{0, 1, 2, 0xff}}
	if err := s.CreateFunction(ctx, f); err != nil {
		t.Fatalf("CreateFunction: %v", err)
	}
	got, err := s.GetFunction(ctx, "fn", "$LATEST")
	if err != nil {
		t.Fatalf("GetFunction: %v", err)
	}
	if got.Name != "fn" || got.Version != "$LATEST" || got.Revision != 1 || !bytes.Equal(got.Data, f.Data) {
		t.Fatalf("GetFunction = %+v, want name fn, version $LATEST, revision 1, data %v", got, f.Data)
	}

	err = s.CreateFunction(ctx, store.FunctionRow{Name: "fn", Version: "$LATEST", Data: []byte("other")})
	wantErr(t, "CreateFunction duplicate", err, store.ErrExists)
	if got, _ := s.GetFunction(ctx, "fn", "$LATEST"); !bytes.Equal(got.Data, f.Data) {
		t.Fatalf("duplicate create overwrote data: %q", got.Data)
	}

	// Same name, other version is a different row.
	if err := s.CreateFunction(ctx, store.FunctionRow{Name: "fn", Version: "1", Data: []byte("v1")}); err != nil {
		t.Fatalf("CreateFunction version 1: %v", err)
	}

	_, err = s.GetFunction(ctx, "fn", "2")
	wantErr(t, "GetFunction missing version", err, store.ErrNotFound)
	_, err = s.GetFunction(ctx, "nope", "$LATEST")
	wantErr(t, "GetFunction missing function", err, store.ErrNotFound)
}

func testFunctionUpdate(t *testing.T, s store.Store) {
	ctx := ctxOf(t)
	if err := s.CreateFunction(ctx, store.FunctionRow{Name: "fn", Version: "$LATEST", Data: []byte("a")}); err != nil {
		t.Fatalf("CreateFunction: %v", err)
	}
	if err := s.UpdateFunction(ctx, store.FunctionRow{Name: "fn", Version: "$LATEST", Revision: 1, Data: []byte("b")}); err != nil {
		t.Fatalf("UpdateFunction at revision 1: %v", err)
	}
	got, err := s.GetFunction(ctx, "fn", "$LATEST")
	if err != nil {
		t.Fatalf("GetFunction: %v", err)
	}
	if got.Revision != 2 || string(got.Data) != "b" {
		t.Fatalf("after update: revision %d data %q, want 2 %q", got.Revision, got.Data, "b")
	}

	err = s.UpdateFunction(ctx, store.FunctionRow{Name: "fn", Version: "$LATEST", Revision: 1, Data: []byte("stale")})
	wantErr(t, "UpdateFunction stale revision", err, store.ErrConflict)
	got, _ = s.GetFunction(ctx, "fn", "$LATEST")
	if got.Revision != 2 || string(got.Data) != "b" {
		t.Fatalf("stale update changed the row: revision %d data %q", got.Revision, got.Data)
	}

	if err := s.UpdateFunction(ctx, store.FunctionRow{Name: "fn", Version: "$LATEST", Revision: 2, Data: []byte("c")}); err != nil {
		t.Fatalf("UpdateFunction at revision 2: %v", err)
	}
	if got, _ := s.GetFunction(ctx, "fn", "$LATEST"); got.Revision != 3 || string(got.Data) != "c" {
		t.Fatalf("after second update: revision %d data %q, want 3 %q", got.Revision, got.Data, "c")
	}

	err = s.UpdateFunction(ctx, store.FunctionRow{Name: "missing", Version: "$LATEST", Revision: 1})
	wantErr(t, "UpdateFunction missing", err, store.ErrNotFound)
}

func testListFunctions(t *testing.T, s store.Store) {
	ctx := ctxOf(t)
	// Created out of order; published versions must not show up.
	for _, name := range []string{"delta", "alpha", "echo", "charlie", "bravo"} {
		if err := s.CreateFunction(ctx, store.FunctionRow{Name: name, Version: "$LATEST", Data: []byte(name)}); err != nil {
			t.Fatalf("CreateFunction %s: %v", name, err)
		}
		if err := s.CreateFunction(ctx, store.FunctionRow{Name: name, Version: "1"}); err != nil {
			t.Fatalf("CreateFunction %s:1: %v", name, err)
		}
	}
	// A function with only a published version is not listed either.
	if err := s.CreateFunction(ctx, store.FunctionRow{Name: "aaa-published-only", Version: "3"}); err != nil {
		t.Fatalf("CreateFunction: %v", err)
	}

	names := func(rows []store.FunctionRow) []string {
		out := make([]string, len(rows))
		for i, r := range rows {
			if r.Version != "$LATEST" {
				t.Fatalf("ListFunctions returned version %q of %s", r.Version, r.Name)
			}
			if string(r.Data) != r.Name || r.Revision != 1 {
				t.Fatalf("ListFunctions row %s: data %q revision %d", r.Name, r.Data, r.Revision)
			}
			out[i] = r.Name
		}
		return out
	}

	all, err := s.ListFunctions(ctx, "", 0)
	if err != nil {
		t.Fatalf("ListFunctions: %v", err)
	}
	checkIDs(t, "ListFunctions all", names(all), []string{"alpha", "bravo", "charlie", "delta", "echo"})

	var paged []string
	after := ""
	for page := 0; ; page++ {
		if page > 5 {
			t.Fatalf("ListFunctions paging does not end: %q", paged)
		}
		rows, err := s.ListFunctions(ctx, after, 2)
		if err != nil {
			t.Fatalf("ListFunctions after %q: %v", after, err)
		}
		if len(rows) > 2 {
			t.Fatalf("ListFunctions limit 2 returned %d rows", len(rows))
		}
		if len(rows) == 0 {
			break
		}
		paged = append(paged, names(rows)...)
		after = rows[len(rows)-1].Name
	}
	checkIDs(t, "ListFunctions paged", paged, []string{"alpha", "bravo", "charlie", "delta", "echo"})

	rows, err := s.ListFunctions(ctx, "bravo", 2)
	if err != nil {
		t.Fatalf("ListFunctions: %v", err)
	}
	checkIDs(t, "ListFunctions after bravo", names(rows), []string{"charlie", "delta"})
}

func testListFunctionVersions(t *testing.T, s store.Store) {
	ctx := ctxOf(t)
	for _, v := range []string{"10", "2", "$LATEST", "1", "11", "3"} {
		if err := s.CreateFunction(ctx, store.FunctionRow{Name: "fn", Version: v, Data: []byte(v)}); err != nil {
			t.Fatalf("CreateFunction %s: %v", v, err)
		}
	}
	if err := s.CreateFunction(ctx, store.FunctionRow{Name: "fn2", Version: "4"}); err != nil {
		t.Fatalf("CreateFunction fn2: %v", err)
	}
	rows, err := s.ListFunctionVersions(ctx, "fn")
	if err != nil {
		t.Fatalf("ListFunctionVersions: %v", err)
	}
	var got []string
	for _, r := range rows {
		if r.Name != "fn" || string(r.Data) != r.Version {
			t.Fatalf("ListFunctionVersions row %+v", r)
		}
		got = append(got, r.Version)
	}
	checkIDs(t, "ListFunctionVersions", got, []string{"$LATEST", "1", "2", "3", "10", "11"})

	rows, err = s.ListFunctionVersions(ctx, "missing")
	if err != nil {
		t.Fatalf("ListFunctionVersions missing: %v", err)
	}
	if len(rows) != 0 {
		t.Fatalf("ListFunctionVersions missing returned %d rows", len(rows))
	}
}

func testDeleteFunction(t *testing.T, s store.Store) {
	ctx := ctxOf(t)
	for _, f := range []store.FunctionRow{
		{Name: "fn", Version: "$LATEST"}, {Name: "fn", Version: "1"}, {Name: "fn", Version: "2"},
		{Name: "other", Version: "$LATEST"},
	} {
		if err := s.CreateFunction(ctx, f); err != nil {
			t.Fatalf("CreateFunction %s:%s: %v", f.Name, f.Version, err)
		}
	}
	if err := s.DeleteFunction(ctx, "fn", "1"); err != nil {
		t.Fatalf("DeleteFunction fn:1: %v", err)
	}
	_, err := s.GetFunction(ctx, "fn", "1")
	wantErr(t, "GetFunction deleted version", err, store.ErrNotFound)
	if _, err := s.GetFunction(ctx, "fn", "2"); err != nil {
		t.Fatalf("deleting version 1 removed version 2: %v", err)
	}
	wantErr(t, "DeleteFunction missing version", s.DeleteFunction(ctx, "fn", "1"), store.ErrNotFound)

	if err := s.DeleteFunction(ctx, "fn", ""); err != nil {
		t.Fatalf("DeleteFunction fn (all): %v", err)
	}
	rows, err := s.ListFunctionVersions(ctx, "fn")
	if err != nil {
		t.Fatalf("ListFunctionVersions: %v", err)
	}
	if len(rows) != 0 {
		t.Fatalf("versions left after deleting all: %+v", rows)
	}
	if _, err := s.GetFunction(ctx, "other", "$LATEST"); err != nil {
		t.Fatalf("deleting fn removed other: %v", err)
	}
	wantErr(t, "DeleteFunction missing function", s.DeleteFunction(ctx, "fn", ""), store.ErrNotFound)

	// The name is free again.
	if err := s.CreateFunction(ctx, store.FunctionRow{Name: "fn", Version: "$LATEST"}); err != nil {
		t.Fatalf("re-create after delete: %v", err)
	}
}

// ---- executions ----

func testExecutionCreate(t *testing.T, s store.Store) {
	ctx := ctxOf(t)
	e := newExecution("e1", "fn", "run-1", t0)
	e.FunctionVersion = "3"
	e.LeaseOwner = "node-a"
	e.LeaseUntil = at(time.Minute)
	e.Data = []byte{0, 'x', 0, 0xfe}
	e = create(t, s, e)

	checkExecution(t, getExecution(t, s, "e1"), e)
	got := getExecution(t, s, "e1")
	if !got.EndTime.IsZero() {
		t.Fatalf("EndTime of a running execution = %v, want zero", got.EndTime)
	}

	byName, err := s.FindExecutionByName(ctx, "fn", "run-1")
	if err != nil {
		t.Fatalf("FindExecutionByName: %v", err)
	}
	checkExecution(t, byName, e)

	_, err = s.GetExecution(ctx, "missing")
	wantErr(t, "GetExecution missing", err, store.ErrNotFound)
	_, err = s.FindExecutionByName(ctx, "fn", "run-2")
	wantErr(t, "FindExecutionByName missing name", err, store.ErrNotFound)
	_, err = s.FindExecutionByName(ctx, "other-fn", "run-1")
	wantErr(t, "FindExecutionByName other function", err, store.ErrNotFound)

	// A create writes its child rows in the same mutation.
	e2 := newExecution("e2", "fn", "run-2", at(time.Second))
	mustCommit(t, s, store.Mutation{
		Execution:  e2,
		Create:     true,
		Operations: []store.OperationRow{{ExecutionID: "e2", OperationID: "op1", Seq: 1, Data: []byte("o")}},
		Events:     []store.EventRow{{ExecutionID: "e2", EventID: 1, Data: []byte("started")}},
		SetTimers:  []store.TimerRow{{ExecutionID: "e2", Key: "timeout", Due: at(time.Hour)}},
	})
	if got := getExecution(t, s, "e2"); got.Revision != 1 {
		t.Fatalf("created execution revision = %d, want 1", got.Revision)
	}
	if ops, err := s.ListOperations(ctx, "e2", 0, 0); err != nil || len(ops) != 1 || ops[0].OperationID != "op1" {
		t.Fatalf("operations of created execution: %+v, %v", ops, err)
	}
	if evs, err := s.ListEvents(ctx, "e2", store.EventRange{}); err != nil || len(evs) != 1 || string(evs[0].Data) != "started" {
		t.Fatalf("events of created execution: %+v, %v", evs, err)
	}
	if ts, err := s.ListTimers(ctx, "e2"); err != nil || len(ts) != 1 || ts[0].Key != "timeout" {
		t.Fatalf("timers of created execution: %+v, %v", ts, err)
	}
}

func testExecutionCreateCollisions(t *testing.T, s store.Store) {
	ctx := ctxOf(t)
	orig := create(t, s, newExecution("e1", "fn", "run-1", t0))

	// Same ID, different name: ErrExists, and none of the mutation applies.
	dup := newExecution("e1", "fn", "run-other", at(time.Second))
	dup.Data = []byte("overwritten?")
	err := s.Commit(ctx, store.Mutation{
		Execution:  dup,
		Create:     true,
		Operations: []store.OperationRow{{ExecutionID: "e1", OperationID: "dup-op", Seq: 1}},
		Events:     []store.EventRow{{ExecutionID: "e1", EventID: 1}},
		SetTimers:  []store.TimerRow{{ExecutionID: "e1", Key: "dup-timer", Due: t0}},
	})
	wantErr(t, "create with duplicate ID", err, store.ErrExists)
	checkExecution(t, getExecution(t, s, "e1"), orig)
	if ops, _ := s.ListOperations(ctx, "e1", 0, 0); len(ops) != 0 {
		t.Fatalf("failed create left operations: %+v", ops)
	}
	if evs, _ := s.ListEvents(ctx, "e1", store.EventRange{}); len(evs) != 0 {
		t.Fatalf("failed create left events: %+v", evs)
	}
	if ts, _ := s.ListTimers(ctx, "e1"); len(ts) != 0 {
		t.Fatalf("failed create left timers: %+v", ts)
	}

	// Same (function, name), different ID.
	err = s.Commit(ctx, store.Mutation{
		Execution: newExecution("e2", "fn", "run-1", t0),
		Create:    true,
		Events:    []store.EventRow{{ExecutionID: "e2", EventID: 1}},
	})
	wantErr(t, "create with duplicate function and name", err, store.ErrExists)
	_, err = s.GetExecution(ctx, "e2")
	wantErr(t, "GetExecution of failed create", err, store.ErrNotFound)
	if evs, _ := s.ListEvents(ctx, "e2", store.EventRange{}); len(evs) != 0 {
		t.Fatalf("failed create left events: %+v", evs)
	}

	// The same name under another function is fine.
	create(t, s, newExecution("e3", "other-fn", "run-1", t0))
	byName, err := s.FindExecutionByName(ctx, "fn", "run-1")
	if err != nil || byName.ID != "e1" {
		t.Fatalf("FindExecutionByName(fn, run-1) = %s, %v; want e1", byName.ID, err)
	}
	byName, err = s.FindExecutionByName(ctx, "other-fn", "run-1")
	if err != nil || byName.ID != "e3" {
		t.Fatalf("FindExecutionByName(other-fn, run-1) = %s, %v; want e3", byName.ID, err)
	}
}

func testCommitUpdate(t *testing.T, s store.Store) {
	e := create(t, s, newExecution("e1", "fn", "run-1", t0))

	e.LeaseOwner = "node-a"
	e.LeaseUntil = at(30 * time.Second)
	e.Data = []byte("step-1")
	e = update(t, s, e, store.Mutation{})
	if e.Revision != 2 {
		t.Fatalf("revision after first update = %d, want 2", e.Revision)
	}
	checkExecution(t, getExecution(t, s, "e1"), e)

	e.Status = "SUCCEEDED"
	e.EndTime = at(time.Minute)
	e.LeaseOwner = ""
	e.LeaseUntil = time.Time{}
	e.Data = []byte("done")
	e = update(t, s, e, store.Mutation{})
	got := getExecution(t, s, "e1")
	checkExecution(t, got, e)
	if got.Revision != 3 || !got.LeaseUntil.IsZero() {
		t.Fatalf("after second update: revision %d lease until %v, want 3 and zero", got.Revision, got.LeaseUntil)
	}

	// Identity columns may change too (implementations may take faster
	// paths for the common updates; this one must still apply whole).
	e = got
	e.Name = "run-renamed"
	e.FunctionVersion = "7"
	e.StartTime = at(2 * time.Second)
	e.Data = []byte("renamed")
	e = update(t, s, e, store.Mutation{})
	checkExecution(t, getExecution(t, s, "e1"), e)
	if byName, err := s.FindExecutionByName(ctxOf(t), "fn", "run-renamed"); err != nil || byName.ID != "e1" {
		t.Fatalf("FindExecutionByName after rename = %+v, %v", byName, err)
	}
	// A stale revision is a conflict on every path.
	stale := e
	stale.Revision--
	stale.Status = "FAILED"
	wantErr(t, "state update at stale revision", s.Commit(ctxOf(t), store.Mutation{Execution: stale}), store.ErrConflict)
	stale.Status = e.Status
	wantErr(t, "data update at stale revision", s.Commit(ctxOf(t), store.Mutation{Execution: stale}), store.ErrConflict)
}

func testCommitConflictAppliesNothing(t *testing.T, s store.Store) {
	ctx := ctxOf(t)
	e := create(t, s, newExecution("e1", "fn", "run-1", t0))
	e = update(t, s, e, store.Mutation{
		Events:    []store.EventRow{{ExecutionID: "e1", EventID: 1, Data: []byte("ev1")}},
		SetTimers: []store.TimerRow{{ExecutionID: "e1", Key: "keep", Due: at(time.Hour), Data: []byte("keep")}},
	})

	stale := e
	stale.Revision = 1 // the stored revision is 2
	stale.Status = "FAILED"
	stale.Data = []byte("stale")
	err := s.Commit(ctx, store.Mutation{
		Execution:       stale,
		Operations:      []store.OperationRow{{ExecutionID: "e1", OperationID: "op-stale", Seq: 1}},
		Events:          []store.EventRow{{ExecutionID: "e1", EventID: 2, Data: []byte("ev-stale")}},
		SetTimers:       []store.TimerRow{{ExecutionID: "e1", Key: "stale", Due: t0}},
		DeleteTimers:    []string{"keep"},
		DeleteAllTimers: true,
	})
	wantErr(t, "commit at stale revision", err, store.ErrConflict)

	checkExecution(t, getExecution(t, s, "e1"), e)
	if ops, err := s.ListOperations(ctx, "e1", 0, 0); err != nil || len(ops) != 0 {
		t.Fatalf("conflicting commit left operations: %+v, %v", ops, err)
	}
	evs, err := s.ListEvents(ctx, "e1", store.EventRange{})
	if err != nil || len(evs) != 1 || evs[0].EventID != 1 {
		t.Fatalf("events after conflicting commit: %+v, %v; want only event 1", evs, err)
	}
	ts, err := s.ListTimers(ctx, "e1")
	if err != nil || len(ts) != 1 || ts[0].Key != "keep" {
		t.Fatalf("timers after conflicting commit: %+v, %v; want only keep", ts, err)
	}

	// A revision ahead of the stored one conflicts too.
	ahead := e
	ahead.Revision = 5
	wantErr(t, "commit at future revision", s.Commit(ctx, store.Mutation{Execution: ahead}), store.ErrConflict)

	// The current revision still works.
	update(t, s, e, store.Mutation{Events: []store.EventRow{{ExecutionID: "e1", EventID: 2}}})
}

func testCommitDuplicateEventAppliesNothing(t *testing.T, s store.Store) {
	ctx := ctxOf(t)
	ev := func(id int64, data string) store.EventRow {
		return store.EventRow{ExecutionID: "e1", EventID: id, Data: []byte(data)}
	}
	// A store may append events one at a time or several per statement;
	// the duplicate is found wherever it sits.
	for i, evs := range [][]store.EventRow{
		{ev(1, "again")},
		{ev(1, "again"), ev(2, "new")},
		{ev(2, "new"), ev(1, "again")},
		{ev(2, "new"), ev(3, "new"), ev(1, "again")},
	} {
		id := fmt.Sprintf("dup-%d", i)
		e := create(t, s, newExecution(id, "fn", "run-"+id, t0))
		for j := range evs {
			evs[j].ExecutionID = id
		}
		e = update(t, s, e, store.Mutation{Events: []store.EventRow{{ExecutionID: id, EventID: 1, Data: []byte("first")}}})

		changed := e
		changed.Status = "FAILED"
		err := s.Commit(ctx, store.Mutation{
			Execution:  changed,
			Operations: []store.OperationRow{{ExecutionID: id, OperationID: "op", Seq: 1}},
			Events:     evs,
		})
		if !errors.Is(err, store.ErrExists) {
			t.Fatalf("case %d: appending an existing event ID: %v, want ErrExists", i, err)
		}
		checkExecution(t, getExecution(t, s, id), e)
		if ops, _ := s.ListOperations(ctx, id, 0, 0); len(ops) != 0 {
			t.Fatalf("case %d: failed commit left operations: %+v", i, ops)
		}
		got, _ := s.ListEvents(ctx, id, store.EventRange{})
		if len(got) != 1 || string(got[0].Data) != "first" {
			t.Fatalf("case %d: events after failed commit: %+v", i, got)
		}
	}
}

func testCommitMissingExecution(t *testing.T, s store.Store) {
	ctx := ctxOf(t)
	e := newExecution("ghost", "fn", "run-1", t0)
	e.Revision = 1
	err := s.Commit(ctx, store.Mutation{
		Execution: e,
		Events:    []store.EventRow{{ExecutionID: "ghost", EventID: 1}},
	})
	wantErr(t, "update of missing execution", err, store.ErrNotFound)
	if evs, _ := s.ListEvents(ctx, "ghost", store.EventRange{}); len(evs) != 0 {
		t.Fatalf("failed commit left events: %+v", evs)
	}
}

// testCommitKeepsNoMemory: once Commit returns nil the store holds nothing
// of the mutation's memory, which the engine reuses for its next one: the
// rows read back are unchanged after every byte of it is written over.
func testCommitKeepsNoMemory(t *testing.T, s store.Store) {
	ctx := ctxOf(t)
	e := create(t, s, newExecution("e1", "fn", "run-1", t0))
	buf := []byte("execution|operation|event-1|event-2|timer")
	e.Data = buf[0:9]
	m := store.Mutation{Execution: e,
		Operations: []store.OperationRow{{ExecutionID: "e1", OperationID: "op", Seq: 1, Data: buf[10:19]}},
		Events:     []store.EventRow{{ExecutionID: "e1", EventID: 1, Data: buf[20:27]}, {ExecutionID: "e1", EventID: 2, Data: buf[28:35]}},
		SetTimers:  []store.TimerRow{{Key: "t", Due: at(time.Hour), Data: buf[36:41]}},
	}
	if err := s.Commit(ctx, m); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	for i := range buf {
		buf[i] = 'X'
	}
	if got := getExecution(t, s, "e1"); string(got.Data) != "execution" {
		t.Errorf("execution data %q after its buffer was overwritten, want %q", got.Data, "execution")
	}
	ops, err := s.ListOperations(ctx, "e1", 0, 0)
	if err != nil || len(ops) != 1 || string(ops[0].Data) != "operation" {
		t.Errorf("operations %+v, %v; want one with data %q", ops, err, "operation")
	}
	evs, err := s.ListEvents(ctx, "e1", store.EventRange{})
	if err != nil || len(evs) != 2 || string(evs[0].Data) != "event-1" || string(evs[1].Data) != "event-2" {
		t.Errorf("events %+v, %v; want event-1 and event-2", evs, err)
	}
	timers, err := s.ListTimers(ctx, "e1")
	if err != nil || len(timers) != 1 || string(timers[0].Data) != "timer" {
		t.Errorf("timers %+v, %v; want one with data %q", timers, err, "timer")
	}
}

func testCommitCanceledContext(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(ctxOf(t))
	cancel()
	err := s.Commit(ctx, store.Mutation{Execution: newExecution("e1", "fn", "run-1", t0), Create: true})
	wantErr(t, "commit with canceled context", err, context.Canceled)
}

func testConcurrentCommits(t *testing.T, s store.Store) {
	ctx := ctxOf(t)
	const (
		executions = 24
		steps      = 8
	)
	var wg sync.WaitGroup
	errs := make(chan error, executions)
	for i := range executions {
		wg.Go(func() {
			id := fmt.Sprintf("e%02d", i)
			e := newExecution(id, "fn", "run-"+id, at(time.Duration(i)*time.Second))
			if err := s.Commit(ctx, store.Mutation{Execution: e, Create: true}); err != nil {
				errs <- fmt.Errorf("create %s: %w", id, err)
				return
			}
			e.Revision = 1
			for step := 1; step <= steps; step++ {
				e.Data = fmt.Appendf(nil, "%s-step-%d", id, step)
				err := s.Commit(ctx, store.Mutation{
					Execution:  e,
					Operations: []store.OperationRow{{ExecutionID: id, OperationID: fmt.Sprintf("op%d", step), Seq: int64(step)}},
					Events:     []store.EventRow{{ExecutionID: id, EventID: int64(step)}},
					SetTimers:  []store.TimerRow{{ExecutionID: id, Key: "t", Due: at(time.Duration(step) * time.Minute)}},
				})
				if err != nil {
					errs <- fmt.Errorf("commit %s step %d: %w", id, step, err)
					return
				}
				e.Revision++
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}

	for i := range executions {
		id := fmt.Sprintf("e%02d", i)
		e := getExecution(t, s, id)
		if e.Revision != steps+1 || string(e.Data) != fmt.Sprintf("%s-step-%d", id, steps) {
			t.Fatalf("%s: revision %d data %q, want %d and the last step's data", id, e.Revision, e.Data, steps+1)
		}
		ops, err := s.ListOperations(ctx, id, 0, 0)
		if err != nil || len(ops) != steps {
			t.Fatalf("%s: %d operations (%v), want %d", id, len(ops), err, steps)
		}
		evs, err := s.ListEvents(ctx, id, store.EventRange{})
		if err != nil || len(evs) != steps {
			t.Fatalf("%s: %d events (%v), want %d", id, len(evs), err, steps)
		}
		ts, err := s.ListTimers(ctx, id)
		if err != nil || len(ts) != 1 || !ts[0].Due.Equal(at(steps*time.Minute)) {
			t.Fatalf("%s: timers %+v (%v), want one due at the last step", id, ts, err)
		}
	}
	all, err := s.ListExecutions(ctx, store.ExecutionFilter{FunctionName: "fn"})
	if err != nil || len(all) != executions {
		t.Fatalf("ListExecutions: %d rows (%v), want %d", len(all), err, executions)
	}
}

func testConcurrentConflictingCommits(t *testing.T, s store.Store) {
	ctx := ctxOf(t)
	e := create(t, s, newExecution("e1", "fn", "run-1", t0))

	const writers = 16
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		errs  = make([]error, writers)
	)
	for i := range writers {
		wg.Go(func() {
			mine := e
			mine.Data = fmt.Appendf(nil, "writer-%d", i)
			<-start
			errs[i] = s.Commit(ctx, store.Mutation{
				Execution:  mine,
				Operations: []store.OperationRow{{ExecutionID: "e1", OperationID: fmt.Sprintf("op-%d", i), Seq: 1}},
				Events:     []store.EventRow{{ExecutionID: "e1", EventID: 1, Data: mine.Data}},
				SetTimers:  []store.TimerRow{{ExecutionID: "e1", Key: fmt.Sprintf("t-%d", i), Due: t0}},
			})
		})
	}
	close(start)
	wg.Wait()

	winner := -1
	for i, err := range errs {
		switch {
		case err == nil:
			if winner >= 0 {
				t.Fatalf("writers %d and %d both committed at revision 1", winner, i)
			}
			winner = i
		case !errors.Is(err, store.ErrConflict):
			t.Fatalf("writer %d: got %v, want nil or ErrConflict", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no writer committed")
	}

	wantData := fmt.Sprintf("writer-%d", winner)
	got := getExecution(t, s, "e1")
	if got.Revision != 2 || string(got.Data) != wantData {
		t.Fatalf("execution: revision %d data %q, want 2 %q", got.Revision, got.Data, wantData)
	}
	ops, _ := s.ListOperations(ctx, "e1", 0, 0)
	if len(ops) != 1 || ops[0].OperationID != fmt.Sprintf("op-%d", winner) {
		t.Fatalf("operations: %+v, want only the winner's", ops)
	}
	evs, _ := s.ListEvents(ctx, "e1", store.EventRange{})
	if len(evs) != 1 || string(evs[0].Data) != wantData {
		t.Fatalf("events: %+v, want only the winner's", evs)
	}
	ts, _ := s.ListTimers(ctx, "e1")
	if len(ts) != 1 || ts[0].Key != fmt.Sprintf("t-%d", winner) {
		t.Fatalf("timers: %+v, want only the winner's", ts)
	}
}

// seedListing creates the executions the listing tests share:
//
//	id  function version name  status     start
//	a   fn       $LATEST  n-a   RUNNING    t0+1s
//	b   fn       1        n-b   SUCCEEDED  t0+2s
//	c   fn       $LATEST  n-c   FAILED     t0+3s
//	d   fn       1        n-d   RUNNING    t0+3s  (ties with c)
//	e   fn       $LATEST  n-e   STOPPED    t0+5s
//	x   other    $LATEST  n-a   RUNNING    t0+4s
func seedListing(t *testing.T, s store.Store) {
	for _, r := range []struct {
		id, fn, version, status string
		start                   time.Duration
	}{
		{"a", "fn", "$LATEST", "RUNNING", 1 * time.Second},
		{"b", "fn", "1", "SUCCEEDED", 2 * time.Second},
		{"c", "fn", "$LATEST", "FAILED", 3 * time.Second},
		{"d", "fn", "1", "RUNNING", 3 * time.Second},
		{"e", "fn", "$LATEST", "STOPPED", 5 * time.Second},
		{"x", "other", "$LATEST", "RUNNING", 4 * time.Second},
	} {
		name := "n-" + r.id
		if r.id == "x" {
			name = "n-a"
		}
		e := newExecution(r.id, r.fn, name, at(r.start))
		e.FunctionVersion = r.version
		e.Status = r.status
		create(t, s, e)
	}
}

func testListExecutionsFilters(t *testing.T, s store.Store) {
	ctx := ctxOf(t)
	seedListing(t, s)

	for _, tc := range []struct {
		name   string
		filter store.ExecutionFilter
		want   []string
	}{
		{"newest first", store.ExecutionFilter{}, []string{"e", "d", "c", "b", "a"}},
		{"oldest first", store.ExecutionFilter{OldestFirst: true}, []string{"a", "b", "c", "d", "e"}},
		{"version", store.ExecutionFilter{Version: "1"}, []string{"d", "b"}},
		{"name", store.ExecutionFilter{Name: "n-a"}, []string{"a"}},
		{"one status", store.ExecutionFilter{Statuses: []string{"RUNNING"}}, []string{"d", "a"}},
		{"statuses", store.ExecutionFilter{Statuses: []string{"FAILED", "STOPPED"}, OldestFirst: true}, []string{"c", "e"}},
		{"started after (exclusive)", store.ExecutionFilter{StartedAfter: at(2 * time.Second)}, []string{"e", "d", "c"}},
		{"started before (exclusive)", store.ExecutionFilter{StartedBefore: at(3 * time.Second)}, []string{"b", "a"}},
		{"started between", store.ExecutionFilter{StartedAfter: at(time.Second), StartedBefore: at(5 * time.Second), OldestFirst: true}, []string{"b", "c", "d"}},
		{"limit", store.ExecutionFilter{Limit: 2}, []string{"e", "d"}},
		{"limit oldest first", store.ExecutionFilter{Limit: 3, OldestFirst: true}, []string{"a", "b", "c"}},
		{"combined", store.ExecutionFilter{Version: "$LATEST", Statuses: []string{"RUNNING", "FAILED", "STOPPED"}, StartedAfter: at(time.Second), Limit: 1}, []string{"e"}},
		{"no match", store.ExecutionFilter{Statuses: []string{"TIMED_OUT"}}, nil},
	} {
		f := tc.filter
		f.FunctionName = "fn"
		rows, err := s.ListExecutions(ctx, f)
		if err != nil {
			t.Fatalf("%s: ListExecutions: %v", tc.name, err)
		}
		checkIDs(t, tc.name, executionIDs(rows), tc.want)
	}

	rows, err := s.ListExecutions(ctx, store.ExecutionFilter{FunctionName: "other"})
	if err != nil {
		t.Fatalf("ListExecutions other: %v", err)
	}
	checkIDs(t, "other function", executionIDs(rows), []string{"x"})
	checkExecution(t, rows[0], getExecution(t, s, "x"))

	rows, err = s.ListExecutions(ctx, store.ExecutionFilter{FunctionName: "nobody"})
	if err != nil || len(rows) != 0 {
		t.Fatalf("ListExecutions of unknown function: %v, %v", executionIDs(rows), err)
	}
}

func testListExecutionsPaging(t *testing.T, s store.Store) {
	ctx := ctxOf(t)
	seedListing(t, s)

	for _, oldestFirst := range []bool{false, true} {
		want := []string{"e", "d", "c", "b", "a"}
		if oldestFirst {
			want = []string{"a", "b", "c", "d", "e"}
		}
		for _, pageSize := range []int{1, 2, 3} {
			var (
				got []string
				f   = store.ExecutionFilter{FunctionName: "fn", OldestFirst: oldestFirst, Limit: pageSize}
			)
			for page := 0; ; page++ {
				if page > len(want)+1 {
					t.Fatalf("oldestFirst=%v page size %d: paging does not end: %q", oldestFirst, pageSize, got)
				}
				rows, err := s.ListExecutions(ctx, f)
				if err != nil {
					t.Fatalf("ListExecutions: %v", err)
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
			checkIDs(t, fmt.Sprintf("oldestFirst=%v page size %d", oldestFirst, pageSize), got, want)
		}
	}

	// The cursor combines with filters.
	rows, err := s.ListExecutions(ctx, store.ExecutionFilter{
		FunctionName: "fn", Statuses: []string{"RUNNING", "FAILED"},
		AfterTime: at(3 * time.Second), AfterID: "d",
	})
	if err != nil {
		t.Fatalf("ListExecutions: %v", err)
	}
	checkIDs(t, "cursor with status filter", executionIDs(rows), []string{"c", "a"})
}

func testListLeasedExecutions(t *testing.T, s store.Store) {
	ctx := ctxOf(t)
	now := at(time.Hour)
	for _, r := range []struct {
		id, owner string
		until     time.Time
	}{
		{"mine-live", "node-a", now.Add(time.Minute)},
		{"mine-expired", "node-a", now.Add(-time.Minute)},
		{"theirs-live", "node-b", now.Add(time.Minute)},
		{"theirs-expired", "node-b", now.Add(-2 * time.Minute)},
		{"idle", "", time.Time{}},
		{"idle-stale-until", "", now.Add(-time.Hour)},
	} {
		e := newExecution(r.id, "fn", r.id, t0)
		e.LeaseOwner, e.LeaseUntil = r.owner, r.until
		create(t, s, e)
	}

	rows, err := s.ListLeasedExecutions(ctx, "node-a", now, 0)
	if err != nil {
		t.Fatalf("ListLeasedExecutions: %v", err)
	}
	got := executionIDs(rows)
	sort.Strings(got)
	checkIDs(t, "leased for node-a", got, []string{"mine-expired", "mine-live", "theirs-expired"})
	for _, r := range rows {
		checkExecution(t, r, getExecution(t, s, r.ID))
	}

	rows, err = s.ListLeasedExecutions(ctx, "node-c", now, 0)
	if err != nil {
		t.Fatalf("ListLeasedExecutions: %v", err)
	}
	got = executionIDs(rows)
	sort.Strings(got)
	checkIDs(t, "leased for node-c", got, []string{"mine-expired", "theirs-expired"})

	rows, err = s.ListLeasedExecutions(ctx, "node-a", now, 2)
	if err != nil || len(rows) != 2 {
		t.Fatalf("ListLeasedExecutions limit 2: %v, %v", executionIDs(rows), err)
	}

	// Releasing the lease takes the execution out of the listing.
	e := getExecution(t, s, "theirs-expired")
	e.LeaseOwner, e.LeaseUntil = "", time.Time{}
	update(t, s, e, store.Mutation{})
	rows, err = s.ListLeasedExecutions(ctx, "node-c", now, 0)
	if err != nil {
		t.Fatalf("ListLeasedExecutions: %v", err)
	}
	checkIDs(t, "after release", executionIDs(rows), []string{"mine-expired"})
}

func testDeleteExecution(t *testing.T, s store.Store) {
	ctx := ctxOf(t)
	full := func(id string) store.ExecutionRow {
		e := create(t, s, newExecution(id, "fn", "run-"+id, t0))
		return update(t, s, e, store.Mutation{
			Operations: []store.OperationRow{{ExecutionID: id, OperationID: "op", Seq: 1}},
			Events:     []store.EventRow{{ExecutionID: id, EventID: 1}, {ExecutionID: id, EventID: 2}},
			SetTimers:  []store.TimerRow{{ExecutionID: id, Key: "t", Due: t0}},
		})
	}
	gone := full("gone")
	kept := full("kept")
	mustAppendLogs(t, s,
		logRow("fn", gone.ARN, "r1", "stdout", "gone's line", 1),
		logRow("fn", kept.ARN, "r2", "stdout", "kept's line", 2),
		logRow("fn", "", "r3", "stdout", "a plain invoke's line", 3))

	if err := s.DeleteExecution(ctx, "gone"); err != nil {
		t.Fatalf("DeleteExecution: %v", err)
	}
	_, err := s.GetExecution(ctx, "gone")
	wantErr(t, "GetExecution after delete", err, store.ErrNotFound)
	_, err = s.FindExecutionByName(ctx, "fn", "run-gone")
	wantErr(t, "FindExecutionByName after delete", err, store.ErrNotFound)
	if ops, err := s.ListOperations(ctx, "gone", 0, 0); err != nil || len(ops) != 0 {
		t.Fatalf("operations after delete: %+v, %v", ops, err)
	}
	_, err = s.GetOperation(ctx, "gone", "op")
	wantErr(t, "GetOperation after delete", err, store.ErrNotFound)
	if evs, err := s.ListEvents(ctx, "gone", store.EventRange{}); err != nil || len(evs) != 0 {
		t.Fatalf("events after delete: %+v, %v", evs, err)
	}
	if ts, err := s.ListTimers(ctx, "gone"); err != nil || len(ts) != 0 {
		t.Fatalf("timers after delete: %+v, %v", ts, err)
	}
	if logs := listLogs(t, s, store.LogQuery{ExecutionArn: gone.ARN}); len(logs) != 0 {
		t.Fatalf("log lines of the deleted execution remain: %+v", logs)
	}
	checkIDs(t, "logs of fn after delete", logMessages(listLogs(t, s, store.LogQuery{FunctionName: "fn"})),
		[]string{"kept's line", "a plain invoke's line"})
	due, err := s.DueTimers(ctx, at(time.Hour), 0)
	if err != nil || len(due) != 1 || due[0].ExecutionID != "kept" {
		t.Fatalf("DueTimers after delete: %+v, %v; want only kept's", due, err)
	}

	// The other execution is untouched.
	checkExecution(t, getExecution(t, s, "kept"), kept)
	if evs, _ := s.ListEvents(ctx, "kept", store.EventRange{}); len(evs) != 2 {
		t.Fatalf("kept execution lost events: %+v", evs)
	}

	wantErr(t, "DeleteExecution missing", s.DeleteExecution(ctx, "gone"), store.ErrNotFound)
	// A writer still holding the deleted execution finds it gone, and
	// writes nothing.
	err = s.Commit(ctx, store.Mutation{Execution: gone,
		Events: []store.EventRow{{ExecutionID: "gone", EventID: 3, Data: []byte("late")}}})
	wantErr(t, "update of a deleted execution", err, store.ErrNotFound)

	// ID and name are free again, and the new execution starts empty.
	again := create(t, s, newExecution("gone", "fn", "run-gone", t0))
	if evs, _ := s.ListEvents(ctx, "gone", store.EventRange{}); len(evs) != 0 {
		t.Fatalf("re-created execution inherited events: %+v", evs)
	}
	update(t, s, again, store.Mutation{Events: []store.EventRow{{ExecutionID: "gone", EventID: 1, Data: []byte("new")}}})
	if evs, err := s.ListEvents(ctx, "gone", store.EventRange{}); err != nil || len(evs) != 1 || string(evs[0].Data) != "new" {
		t.Fatalf("events of the re-created execution: %+v, %v", evs, err)
	}
	if evs, _ := s.ListEvents(ctx, "kept", store.EventRange{}); len(evs) != 2 {
		t.Fatalf("kept execution's events changed: %+v", evs)
	}

	// Nor does a writer of a deleted execution reach the execution created
	// after it (which a store may give the deleted one's internal key).
	last := create(t, s, newExecution("last", "fn", "run-last", t0))
	if err := s.DeleteExecution(ctx, "last"); err != nil {
		t.Fatalf("DeleteExecution: %v", err)
	}
	next := create(t, s, newExecution("next", "fn", "run-next", t0))
	err = s.Commit(ctx, store.Mutation{Execution: last,
		Events: []store.EventRow{{ExecutionID: "last", EventID: 1, Data: []byte("stray")}}})
	wantErr(t, "update of the deleted newest execution", err, store.ErrNotFound)
	checkExecution(t, getExecution(t, s, "next"), next)
	if evs, _ := s.ListEvents(ctx, "next", store.EventRange{}); len(evs) != 0 {
		t.Fatalf("a deleted execution's writer wrote events into the next one: %+v", evs)
	}
}

func testOperations(t *testing.T, s store.Store) {
	ctx := ctxOf(t)
	e := create(t, s, newExecution("e1", "fn", "run-1", t0))
	other := create(t, s, newExecution("e2", "fn", "run-2", t0))
	update(t, s, other, store.Mutation{Operations: []store.OperationRow{{ExecutionID: "e2", OperationID: "foreign", Seq: 2}}})

	e = update(t, s, e, store.Mutation{Operations: []store.OperationRow{
		{ExecutionID: "e1", OperationID: "op-c", Seq: 3, Data: []byte("c")},
		{ExecutionID: "e1", OperationID: "op-a", Seq: 1, Data: []byte("a")},
	}})
	update(t, s, e, store.Mutation{Operations: []store.OperationRow{
		{ExecutionID: "e1", OperationID: "op-b", Seq: 2, Data: []byte("b")},
		{ExecutionID: "e1", OperationID: "op-a", Seq: 1, Data: []byte("a2")}, // replaces
	}})

	opIDs := func(rows []store.OperationRow) []string {
		out := make([]string, len(rows))
		for i, r := range rows {
			if r.ExecutionID != "e1" {
				t.Fatalf("operation %s has execution %q", r.OperationID, r.ExecutionID)
			}
			out[i] = r.OperationID
		}
		return out
	}

	all, err := s.ListOperations(ctx, "e1", 0, 0)
	if err != nil {
		t.Fatalf("ListOperations: %v", err)
	}
	checkIDs(t, "all operations", opIDs(all), []string{"op-a", "op-b", "op-c"})
	for i, r := range all {
		if r.Seq != int64(i+1) {
			t.Fatalf("operation %s seq %d, want %d", r.OperationID, r.Seq, i+1)
		}
	}
	if string(all[0].Data) != "a2" {
		t.Fatalf("op-a data %q, want the replacement %q", all[0].Data, "a2")
	}

	page, err := s.ListOperations(ctx, "e1", 1, 1)
	if err != nil {
		t.Fatalf("ListOperations: %v", err)
	}
	checkIDs(t, "after seq 1, limit 1", opIDs(page), []string{"op-b"})
	page, err = s.ListOperations(ctx, "e1", 2, 0)
	if err != nil {
		t.Fatalf("ListOperations: %v", err)
	}
	checkIDs(t, "after seq 2", opIDs(page), []string{"op-c"})
	page, err = s.ListOperations(ctx, "e1", 3, 10)
	if err != nil || len(page) != 0 {
		t.Fatalf("ListOperations past the end: %+v, %v", page, err)
	}

	op, err := s.GetOperation(ctx, "e1", "op-b")
	if err != nil {
		t.Fatalf("GetOperation: %v", err)
	}
	if op.ExecutionID != "e1" || op.OperationID != "op-b" || op.Seq != 2 || string(op.Data) != "b" {
		t.Fatalf("GetOperation = %+v", op)
	}
	_, err = s.GetOperation(ctx, "e1", "foreign")
	wantErr(t, "GetOperation of another execution's operation", err, store.ErrNotFound)
	_, err = s.GetOperation(ctx, "e1", "missing")
	wantErr(t, "GetOperation missing", err, store.ErrNotFound)
}

func testEvents(t *testing.T, s store.Store) {
	ctx := ctxOf(t)
	e := create(t, s, newExecution("e1", "fn", "run-1", t0))
	other := create(t, s, newExecution("e2", "fn", "run-2", t0))
	update(t, s, other, store.Mutation{Events: []store.EventRow{{ExecutionID: "e2", EventID: 1}}})

	ev := func(id int64) store.EventRow {
		return store.EventRow{ExecutionID: "e1", EventID: id, Data: fmt.Appendf(nil, "event-%d", id)}
	}
	e = update(t, s, e, store.Mutation{Events: []store.EventRow{ev(1), ev(2), ev(3)}})
	update(t, s, e, store.Mutation{Events: []store.EventRow{ev(4), ev(5)}})

	eventIDs := func(rows []store.EventRow) []string {
		out := make([]string, len(rows))
		for i, r := range rows {
			if r.ExecutionID != "e1" || string(r.Data) != fmt.Sprintf("event-%d", r.EventID) {
				t.Fatalf("event row %+v", r)
			}
			out[i] = fmt.Sprint(r.EventID)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		r    store.EventRange
		want []string
	}{
		{"all", store.EventRange{}, []string{"1", "2", "3", "4", "5"}},
		{"after 2 limit 2", store.EventRange{After: 2, Limit: 2}, []string{"3", "4"}},
		{"after 4", store.EventRange{After: 4}, []string{"5"}},
		{"after last", store.EventRange{After: 5}, nil},
		{"reverse", store.EventRange{Reverse: true}, []string{"5", "4", "3", "2", "1"}},
		{"reverse limit 2", store.EventRange{Reverse: true, Limit: 2}, []string{"5", "4"}},
		{"reverse after 4 limit 2", store.EventRange{Reverse: true, After: 4, Limit: 2}, []string{"3", "2"}},
		{"reverse after 2", store.EventRange{Reverse: true, After: 2}, []string{"1"}},
		{"reverse after 1", store.EventRange{Reverse: true, After: 1}, nil},
	} {
		rows, err := s.ListEvents(ctx, "e1", tc.r)
		if err != nil {
			t.Fatalf("%s: ListEvents: %v", tc.name, err)
		}
		checkIDs(t, tc.name, eventIDs(rows), tc.want)
	}

	// Every range, against events appended one, two and three per
	// mutation (a store may keep a mutation's events together).
	e = getExecution(t, s, "e1")
	e = update(t, s, e, store.Mutation{Events: []store.EventRow{ev(6)}})
	update(t, s, e, store.Mutation{Events: []store.EventRow{ev(7), ev(8)}})
	const last = 8
	for after := int64(0); after <= last+1; after++ {
		for limit := 0; limit <= last+1; limit++ {
			for _, reverse := range []bool{false, true} {
				var want []string
				for id := int64(1); id <= last; id++ {
					if !reverse && id > after || reverse && (after == 0 || id < after) {
						want = append(want, fmt.Sprint(id))
					}
				}
				if reverse {
					slices.Reverse(want)
				}
				if limit > 0 && len(want) > limit {
					want = want[:limit]
				}
				r := store.EventRange{After: after, Reverse: reverse, Limit: limit}
				rows, err := s.ListEvents(ctx, "e1", r)
				if err != nil {
					t.Fatalf("ListEvents(%+v): %v", r, err)
				}
				checkIDs(t, fmt.Sprintf("ListEvents(%+v)", r), eventIDs(rows), want)
			}
		}
	}
}

func timerKeys(rows []store.TimerRow) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.ExecutionID + "/" + r.Key
	}
	return out
}

func testTimers(t *testing.T, s store.Store) {
	ctx := ctxOf(t)
	_, err := s.NextTimer(ctx, time.Time{})
	wantErr(t, "NextTimer on empty store", err, store.ErrNotFound)
	if due, err := s.DueTimers(ctx, at(time.Hour), 0); err != nil || len(due) != 0 {
		t.Fatalf("DueTimers on empty store: %+v, %v", due, err)
	}

	e1 := create(t, s, newExecution("e1", "fn", "run-1", t0))
	e2 := create(t, s, newExecution("e2", "fn", "run-2", t0))
	update(t, s, e1, store.Mutation{SetTimers: []store.TimerRow{
		{ExecutionID: "e1", Key: "late", Due: at(3 * time.Minute), Data: []byte("late")},
		{ExecutionID: "e1", Key: "early", Due: at(1 * time.Minute), Data: []byte("early")},
	}})
	update(t, s, e2, store.Mutation{SetTimers: []store.TimerRow{
		{ExecutionID: "e2", Key: "middle", Due: at(2 * time.Minute), Data: []byte("middle")},
	}})

	next, err := s.NextTimer(ctx, time.Time{})
	if err != nil {
		t.Fatalf("NextTimer: %v", err)
	}
	if next.ExecutionID != "e1" || next.Key != "early" || !next.Due.Equal(at(time.Minute)) || string(next.Data) != "early" {
		t.Fatalf("NextTimer = %+v, want e1/early", next)
	}
	// The timer loop asks for the next timer after the ones already due.
	for _, tc := range []struct {
		after time.Time
		want  string
	}{
		{at(time.Minute - time.Nanosecond), "e1/early"},
		{at(time.Minute), "e2/middle"},
		{at(2*time.Minute + time.Second), "e1/late"},
	} {
		next, err := s.NextTimer(ctx, tc.after)
		if err != nil || next.ExecutionID+"/"+next.Key != tc.want {
			t.Fatalf("NextTimer(after %v) = %+v, %v; want %s", tc.after, next, err, tc.want)
		}
	}
	_, err = s.NextTimer(ctx, at(3*time.Minute))
	wantErr(t, "NextTimer after the last timer", err, store.ErrNotFound)

	for _, tc := range []struct {
		name  string
		now   time.Time
		limit int
		want  []string
	}{
		{"none due", at(time.Minute - time.Nanosecond), 0, nil},
		{"due exactly now", at(time.Minute), 0, []string{"e1/early"}},
		{"two due", at(2 * time.Minute), 0, []string{"e1/early", "e2/middle"}},
		{"all due", at(time.Hour), 0, []string{"e1/early", "e2/middle", "e1/late"}},
		{"limit", at(time.Hour), 2, []string{"e1/early", "e2/middle"}},
	} {
		due, err := s.DueTimers(ctx, tc.now, tc.limit)
		if err != nil {
			t.Fatalf("%s: DueTimers: %v", tc.name, err)
		}
		checkIDs(t, tc.name, timerKeys(due), tc.want)
	}

	ts, err := s.ListTimers(ctx, "e1")
	if err != nil {
		t.Fatalf("ListTimers: %v", err)
	}
	got := timerKeys(ts)
	sort.Strings(got)
	checkIDs(t, "ListTimers e1", got, []string{"e1/early", "e1/late"})
	for _, tm := range ts {
		if string(tm.Data) != tm.Key {
			t.Fatalf("timer %s data %q", tm.Key, tm.Data)
		}
	}
}

func testTimerReplaceAndDelete(t *testing.T, s store.Store) {
	ctx := ctxOf(t)
	e := create(t, s, newExecution("e1", "fn", "run-1", t0))
	other := create(t, s, newExecution("e2", "fn", "run-2", t0))
	update(t, s, other, store.Mutation{SetTimers: []store.TimerRow{{ExecutionID: "e2", Key: "a", Due: at(time.Hour)}}})

	e = update(t, s, e, store.Mutation{SetTimers: []store.TimerRow{
		{ExecutionID: "e1", Key: "a", Due: at(time.Minute), Data: []byte("a1")},
		{ExecutionID: "e1", Key: "b", Due: at(2 * time.Minute)},
		{ExecutionID: "e1", Key: "c", Due: at(3 * time.Minute)},
	}})

	// Setting an existing key replaces due time and data.
	e = update(t, s, e, store.Mutation{SetTimers: []store.TimerRow{
		{ExecutionID: "e1", Key: "a", Due: at(10 * time.Minute), Data: []byte("a2")},
	}})
	ts, err := s.ListTimers(ctx, "e1")
	if err != nil || len(ts) != 3 {
		t.Fatalf("ListTimers after replace: %+v, %v; want 3 timers", ts, err)
	}
	for _, tm := range ts {
		if tm.Key == "a" && (!tm.Due.Equal(at(10*time.Minute)) || string(tm.Data) != "a2") {
			t.Fatalf("replaced timer = %+v, want due +10m data a2", tm)
		}
	}
	next, err := s.NextTimer(ctx, time.Time{})
	if err != nil || next.Key != "b" {
		t.Fatalf("NextTimer after moving a: %+v, %v; want e1/b", next, err)
	}

	// Delete by key; unknown keys are ignored; other executions' timers
	// with the same key survive.
	e = update(t, s, e, store.Mutation{DeleteTimers: []string{"a", "no-such-key"}})
	ts, _ = s.ListTimers(ctx, "e1")
	got := timerKeys(ts)
	sort.Strings(got)
	checkIDs(t, "after delete a", got, []string{"e1/b", "e1/c"})
	if ts, _ := s.ListTimers(ctx, "e2"); len(ts) != 1 {
		t.Fatalf("deleting e1/a touched e2: %+v", ts)
	}

	// DeleteAllTimers clears before SetTimers applies.
	e = update(t, s, e, store.Mutation{
		DeleteAllTimers: true,
		SetTimers:       []store.TimerRow{{ExecutionID: "e1", Key: "fresh", Due: at(5 * time.Minute)}},
	})
	ts, _ = s.ListTimers(ctx, "e1")
	checkIDs(t, "after DeleteAllTimers with SetTimers", timerKeys(ts), []string{"e1/fresh"})

	e = update(t, s, e, store.Mutation{DeleteAllTimers: true})
	if ts, _ := s.ListTimers(ctx, "e1"); len(ts) != 0 {
		t.Fatalf("timers after DeleteAllTimers: %+v", ts)
	}
	if ts, _ := s.ListTimers(ctx, "e2"); len(ts) != 1 {
		t.Fatalf("DeleteAllTimers on e1 touched e2: %+v", ts)
	}
	next, err = s.NextTimer(ctx, time.Time{})
	if err != nil || next.ExecutionID != "e2" {
		t.Fatalf("NextTimer: %+v, %v; want e2/a", next, err)
	}

	// One execution sets another's timer (how it signals it); a timer for
	// an execution that does not exist is not written, and the rest of the
	// mutation applies.
	update(t, s, e, store.Mutation{
		SetTimers: []store.TimerRow{
			{ExecutionID: "e2", Key: "signal", Due: at(5 * time.Minute), Data: []byte("from e1")},
			{ExecutionID: "ghost", Key: "signal", Due: at(5 * time.Minute)},
		},
		Events: []store.EventRow{{ExecutionID: "e1", EventID: 1}},
	})
	if ts, _ := s.ListTimers(ctx, "e2"); len(ts) != 2 || ts[0].Key != "signal" || string(ts[0].Data) != "from e1" {
		t.Fatalf("e2's timers after e1 signalled it: %+v", ts)
	}
	if ts, _ := s.ListTimers(ctx, "ghost"); len(ts) != 0 {
		t.Fatalf("a timer was written for a missing execution: %+v", ts)
	}
	if evs, _ := s.ListEvents(ctx, "e1", store.EventRange{}); len(evs) != 1 {
		t.Fatalf("the mutation with a timer for a missing execution did not apply: %+v", evs)
	}
}
