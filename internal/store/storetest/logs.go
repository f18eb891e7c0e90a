package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/duro-run/duro/internal/store"
)

// ---- function logs ----

func logRow(fn, arn, req, stream, msg string, ts int) store.LogRow {
	return store.LogRow{
		Time: at(secs(ts)), FunctionName: fn, FunctionVersion: "$LATEST",
		RequestID: req, ExecutionArn: arn, Stream: stream, Message: msg,
	}
}

func mustAppendLogs(t *testing.T, s store.Store, rows ...store.LogRow) {
	t.Helper()
	if err := s.AppendLogs(ctxOf(t), rows); err != nil {
		t.Fatalf("AppendLogs: %v", err)
	}
}

func listLogs(t *testing.T, s store.Store, q store.LogQuery) []store.LogRow {
	t.Helper()
	rows, err := s.ListLogs(ctxOf(t), q)
	if err != nil {
		t.Fatalf("ListLogs(%+v): %v", q, err)
	}
	return rows
}

func logMessages(rows []store.LogRow) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Message
	}
	return out
}

func testLogsAppendList(t *testing.T, s store.Store) {
	arnA, arnB := "arn:a", "arn:b"
	mustAppendLogs(t, s,
		logRow("f", "", "", "stdout", "init", 0),
		logRow("f", arnA, "r1", "stdout", "a1", 1),
		logRow("f", arnA, "r1", "stderr", "a2 with\ttab and ünïcode", 2),
		logRow("g", arnB, "r2", "stdout", "b1", 3),
	)
	mustAppendLogs(t, s, logRow("f", arnA, "r3", "stdout", "a3", 4))
	if err := s.AppendLogs(ctxOf(t), nil); err != nil {
		t.Fatalf("AppendLogs(nil): %v", err)
	}

	got := listLogs(t, s, store.LogQuery{ExecutionArn: arnA})
	checkIDs(t, "logs of arn:a", logMessages(got), []string{"a1", "a2 with\ttab and ünïcode", "a3"})
	want := logRow("f", arnA, "r1", "stderr", "a2 with\ttab and ünïcode", 2)
	g := got[1]
	if g.FunctionName != want.FunctionName || g.FunctionVersion != want.FunctionVersion || g.RequestID != want.RequestID ||
		g.ExecutionArn != want.ExecutionArn || g.Stream != want.Stream || !sameTime(g.Time, want.Time) {
		t.Fatalf("log row round trip: got %+v, want %+v", g, want)
	}
	for i := 1; i < len(got); i++ {
		if got[i].ID <= got[i-1].ID {
			t.Fatalf("log IDs not increasing: %d then %d", got[i-1].ID, got[i].ID)
		}
	}

	checkIDs(t, "logs of f", logMessages(listLogs(t, s, store.LogQuery{FunctionName: "f"})),
		[]string{"init", "a1", "a2 with\ttab and ünïcode", "a3"})
	checkIDs(t, "logs of arn:a, r3", logMessages(listLogs(t, s, store.LogQuery{ExecutionArn: arnA, RequestID: "r3"})),
		[]string{"a3"})
	checkIDs(t, "logs of g, arn:a", logMessages(listLogs(t, s, store.LogQuery{ExecutionArn: arnA, FunctionName: "g"})), nil)
	checkIDs(t, "logs of unknown", logMessages(listLogs(t, s, store.LogQuery{ExecutionArn: "arn:none"})), nil)

	if _, err := s.ListLogs(ctxOf(t), store.LogQuery{RequestID: "r1"}); err == nil {
		t.Fatal("ListLogs without ExecutionArn or FunctionName: no error")
	}
}

func testLogsPaging(t *testing.T, s store.Store) {
	var rows []store.LogRow
	for i := range 25 {
		rows = append(rows, logRow("f", "arn:p", "r", "stdout", fmt.Sprintf("line %02d", i), i))
	}
	mustAppendLogs(t, s, rows...)
	var all []string
	after := int64(0)
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("paging does not end")
		}
		page := listLogs(t, s, store.LogQuery{ExecutionArn: "arn:p", After: after, Limit: 10})
		if len(page) == 0 {
			break
		}
		if len(page) > 10 {
			t.Fatalf("page of %d rows, limit 10", len(page))
		}
		all = append(all, logMessages(page)...)
		after = page[len(page)-1].ID
	}
	var want []string
	for _, r := range rows {
		want = append(want, r.Message)
	}
	checkIDs(t, "paged logs", all, want)
	if n := len(listLogs(t, s, store.LogQuery{ExecutionArn: "arn:p", Limit: 0})); n != 25 {
		t.Fatalf("Limit 0 returned %d rows, want all 25", n)
	}
}

func testLogsPrune(t *testing.T, s store.Store) {
	mustAppendLogs(t, s,
		logRow("f", "", "r", "stdout", "old1", 0),
		logRow("f", "arn:x", "r", "stdout", "an execution's", 0),
		logRow("f", "", "r", "stdout", "old2", 1),
		logRow("f", "", "r", "stdout", "new", 2),
	)
	last := listLogs(t, s, store.LogQuery{FunctionName: "f"})
	n, err := s.PruneLogs(ctxOf(t), at(secs(2)))
	if err != nil {
		t.Fatalf("PruneLogs: %v", err)
	}
	if n != 2 {
		t.Fatalf("PruneLogs deleted %d rows, want 2", n)
	}
	// An execution's lines stay as long as the execution.
	checkIDs(t, "after prune", logMessages(listLogs(t, s, store.LogQuery{FunctionName: "f"})), []string{"an execution's", "new"})

	// IDs keep increasing after the newest row is pruned, so that a
	// reader's position stays meaningful.
	if _, err := s.PruneLogs(ctxOf(t), at(secs(10))); err != nil {
		t.Fatalf("PruneLogs: %v", err)
	}
	mustAppendLogs(t, s, logRow("f", "", "r", "stdout", "later", 11))
	got := listLogs(t, s, store.LogQuery{FunctionName: "f", After: last[len(last)-1].ID - 1})
	if len(got) != 1 || got[0].Message != "later" || got[0].ID <= last[len(last)-1].ID {
		t.Fatalf("after pruning everything, new row %+v; want an ID above %d", got, last[len(last)-1].ID)
	}
}

func secs(n int) time.Duration { return time.Duration(n) * time.Second }
