package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/duro-run/duro/internal/store"
)

// schemaV1ForTest is the version 1 schema as released (the tables and
// indexes that the version 2 migration rewrites), frozen here so that the
// migration keeps being tested against what old databases really hold.
var schemaV1ForTest = []string{
	`CREATE TABLE schema_version (version BIGINT NOT NULL)`,
	`INSERT INTO schema_version (version) VALUES (1)`,
	`CREATE TABLE functions (name TEXT NOT NULL, version TEXT NOT NULL, revision BIGINT NOT NULL, data BLOB,
		PRIMARY KEY (name, version))`,
	`CREATE TABLE executions (
		id TEXT NOT NULL PRIMARY KEY, arn TEXT NOT NULL, function_name TEXT NOT NULL,
		function_version TEXT NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL,
		start_ns BIGINT NOT NULL, end_ns BIGINT NOT NULL, revision BIGINT NOT NULL,
		lease_owner TEXT NOT NULL, lease_until_ns BIGINT NOT NULL, data BLOB,
		UNIQUE (function_name, name))`,
	`CREATE INDEX executions_by_start ON executions (function_name, start_ns, id)`,
	`CREATE INDEX executions_by_lease_until ON executions (lease_until_ns) WHERE lease_owner <> ''`,
	`CREATE INDEX executions_by_lease_owner ON executions (lease_owner, lease_until_ns) WHERE lease_owner <> ''`,
	`CREATE INDEX executions_by_status ON executions (status, start_ns, id)`,
	`CREATE TABLE operations (execution_id TEXT NOT NULL, operation_id TEXT NOT NULL, seq BIGINT NOT NULL, data BLOB,
		PRIMARY KEY (execution_id, operation_id))`,
	`CREATE INDEX operations_by_seq ON operations (execution_id, seq)`,
	`CREATE TABLE events (execution_id TEXT NOT NULL, event_id BIGINT NOT NULL, data BLOB,
		PRIMARY KEY (execution_id, event_id))`,
	`CREATE TABLE timers (execution_id TEXT NOT NULL, key TEXT NOT NULL, due_ns BIGINT NOT NULL, data BLOB,
		PRIMARY KEY (execution_id, key))`,
	`CREATE INDEX timers_by_due_key ON timers (due_ns, execution_id, key)`,
	`CREATE TABLE dedup (execution_id TEXT NOT NULL, checkpoint_token TEXT NOT NULL, client_token TEXT NOT NULL,
		created_ns BIGINT NOT NULL, response BLOB, PRIMARY KEY (execution_id, checkpoint_token, client_token))`,
	`CREATE INDEX dedup_by_created ON dedup (created_ns)`,
}

// TestMigrateFromVersion1 writes a version 1 database by hand, opens it,
// and checks that every row is still found through the store, that the
// store keeps working on it, and that the schema is the current version
// throughout.
func TestMigrateFromVersion1(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "duro.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	rows := append(schemaV1ForTest,
		// e2 is inserted first: pks follow the old rowid order.
		`INSERT INTO executions VALUES ('e2', 'arn2', 'fn', '$LATEST', 'run-2', 'SUCCEEDED', 2000000000, 3000000000, 4, '', 0, x'02')`,
		`INSERT INTO executions VALUES ('e1', 'arn1', 'fn', '$LATEST', 'run-1', 'RUNNING', 1000000000, 0, 7, 'node-a', 9000000000, x'01')`,
		`INSERT INTO operations VALUES ('e1', 'op-b', 1, 'b'), ('e1', 'op-a', 2, 'a'), ('e2', 'op-x', 1, 'x')`,
		`INSERT INTO events VALUES ('e1', 1, 'ev1'), ('e1', 2, 'ev2'), ('e2', 1, 'ev-e2')`,
		`INSERT INTO timers VALUES ('e1', 'wait', 5000000000, 'w'), ('gone', 'orphan', 1000000000, 'o')`,
		`INSERT INTO dedup VALUES ('e1', 'ct', 'c', 1000000000, 'resp')`,
	)
	for _, stmt := range rows {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	db.Close()

	var logged bytes.Buffer
	s, err := Open(ctx, path, WithLogger(slog.New(slog.NewTextHandler(&logged, nil))))
	if err != nil {
		t.Fatalf("Open version 1 database: %v", err)
	}
	defer s.Close()
	for _, want := range []string{"from version 1 to 2", "migrated the store's schema to version 2", "executions=2"} {
		if !strings.Contains(logged.String(), want) {
			t.Errorf("Open's log lacks %q:\n%s", want, logged.String())
		}
	}

	var version int64
	if err := s.reader.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&version); err != nil || version != schemaVersion {
		t.Fatalf("schema version = %d, %v; want %d", version, err, schemaVersion)
	}
	var leftovers int
	if err := s.reader.QueryRowContext(ctx,
		`SELECT count(*) FROM sqlite_master WHERE name LIKE 'v1_%' OR sql LIKE '%execution_id%'`).Scan(&leftovers); err != nil || leftovers != 0 {
		t.Fatalf("%d version 1 tables or indexes left (%v)", leftovers, err)
	}
	for _, index := range []string{"executions_by_start", "executions_by_lease_until",
		"executions_by_function_status", "timers_by_due_key"} {
		var n int
		if err := s.reader.QueryRowContext(ctx,
			`SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = ? AND tbl_name IN ('executions', 'timers')`,
			index).Scan(&n); err != nil || n != 1 {
			t.Errorf("index %s: %d (%v); want it on the new table", index, n, err)
		}
	}

	var pk1, pk2 int64
	if err := s.reader.QueryRowContext(ctx, `SELECT (SELECT pk FROM executions WHERE id = 'e1'), (SELECT pk FROM executions WHERE id = 'e2')`).Scan(&pk1, &pk2); err != nil || pk2 >= pk1 {
		t.Errorf("pks e1 %d, e2 %d (%v); want the old rowid order, e2 first", pk1, pk2, err)
	}

	e1, err := s.GetExecution(ctx, "e1")
	if err != nil || e1.Revision != 7 || e1.LeaseOwner != "node-a" || !bytes.Equal(e1.Data, []byte{1}) ||
		!e1.StartTime.Equal(time.Unix(1, 0)) || !e1.LeaseUntil.Equal(time.Unix(9, 0)) {
		t.Fatalf("e1 after migration = %+v, %v", e1, err)
	}
	if e2, err := s.FindExecutionByName(ctx, "fn", "run-2"); err != nil || e2.ID != "e2" || !e2.EndTime.Equal(time.Unix(3, 0)) {
		t.Fatalf("e2 by name after migration = %+v, %v", e2, err)
	}
	ops, err := s.ListOperations(ctx, "e1", 0, 0)
	if err != nil || len(ops) != 2 || ops[0].OperationID != "op-b" || ops[1].OperationID != "op-a" || string(ops[1].Data) != "a" {
		t.Fatalf("operations of e1 = %+v, %v", ops, err)
	}
	if op, err := s.GetOperation(ctx, "e2", "op-x"); err != nil || string(op.Data) != "x" {
		t.Fatalf("operation of e2 = %+v, %v", op, err)
	}
	evs, err := s.ListEvents(ctx, "e1", store.EventRange{Reverse: true})
	if err != nil || len(evs) != 2 || evs[0].EventID != 2 || string(evs[1].Data) != "ev1" {
		t.Fatalf("events of e1 = %+v, %v", evs, err)
	}
	due, err := s.DueTimers(ctx, time.Unix(100, 0), 0)
	if err != nil || len(due) != 1 || due[0].ExecutionID != "e1" || due[0].Key != "wait" || !due[0].Due.Equal(time.Unix(5, 0)) {
		t.Fatalf("due timers = %+v, %v; want e1's only (the orphan is dropped)", due, err)
	}
	// The checkpoint responses the engine never used are gone, table and
	// index.
	var dedup int
	if err := s.reader.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name LIKE '%dedup%'`).Scan(&dedup); err != nil || dedup != 0 {
		t.Errorf("%d dedup tables or indexes left (%v)", dedup, err)
	}

	// The store keeps working: an update of a migrated execution, and a
	// new execution, whose pk must not collide with the migrated ones.
	e1.Status = "RUNNING"
	if err := s.Commit(ctx, store.Mutation{Execution: e1,
		Events: []store.EventRow{{ExecutionID: "e1", EventID: 3, Data: []byte("ev3")}}}); err != nil {
		t.Fatalf("update migrated execution: %v", err)
	}
	e3 := store.ExecutionRow{ID: "e3", ARN: "arn3", FunctionName: "fn", FunctionVersion: "$LATEST", Name: "run-3",
		Status: "RUNNING", StartTime: time.Unix(4, 0)}
	if err := s.Commit(ctx, store.Mutation{Create: true, Execution: e3,
		Events: []store.EventRow{{ExecutionID: "e3", EventID: 1, Data: []byte("e3-ev1")}}}); err != nil {
		t.Fatalf("create after migration: %v", err)
	}
	for id, want := range map[string]int{"e1": 3, "e2": 1, "e3": 1} {
		if evs, err := s.ListEvents(ctx, id, store.EventRange{}); err != nil || len(evs) != want {
			t.Errorf("events of %s = %+v, %v; want %d", id, evs, err, want)
		}
	}

	// Opening again is a no-op.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s2.Close()
	if evs, err := s2.ListEvents(ctx, "e3", store.EventRange{}); err != nil || len(evs) != 1 {
		t.Fatalf("events of e3 after reopen = %+v, %v", evs, err)
	}
}

// TestRefuseNewerSchema checks that a database of a later schema version
// is refused, and left as it was.
func TestRefuseNewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "duro.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.writer.ExecContext(ctx, `UPDATE schema_version SET version = ?`, schemaVersion+1); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err := Open(ctx, path); err == nil {
		s.Close()
		t.Fatal("Open accepted a database of a newer schema version")
	}
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var version int64
	var tables int
	if err := db.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&version); err != nil || version != schemaVersion+1 {
		t.Errorf("schema version after the refusal = %d, %v; want %d", version, err, schemaVersion+1)
	}
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name = 'executions'`).Scan(&tables); err != nil || tables != 1 {
		t.Errorf("the refused database lost its executions table (%d, %v)", tables, err)
	}
}

// TestChildQueriesUseIndexes runs every read of child rows (operations,
// events, timers) once, then checks SQLite's plan
// of each statement the store prepared for them: each must search an
// index, never scan a table, and sort only the rows of one execution
// (ListOperations sorts an execution's operations by seq on purpose).
func TestChildQueriesUseIndexes(t *testing.T) {
	ctx := context.Background()
	s := openInternal(t)
	at := time.Unix(100, 0)
	_, _ = s.ListOperations(ctx, "e", 0, 10)
	_, _ = s.ListOperations(ctx, "e", 0, 0)
	_, _ = s.GetOperation(ctx, "e", "op")
	for _, r := range []store.EventRange{{}, {Limit: 5}, {Reverse: true}, {Reverse: true, After: 3, Limit: 5}} {
		_, _ = s.ListEvents(ctx, "e", r)
	}
	_, _ = s.DueTimers(ctx, at, 10)
	_, _ = s.DueTimers(ctx, at, 0)
	_, _ = s.NextTimer(ctx, at)
	_, _ = s.ListTimers(ctx, "e")

	s.reads.mu.Lock()
	var queries []string
	for q := range s.reads.stmts {
		queries = append(queries, q)
	}
	s.reads.mu.Unlock()
	checked := 0
	for _, q := range queries {
		if !strings.Contains(q, "operations") && !strings.Contains(q, "events") &&
			!strings.Contains(q, "timers") {
			continue
		}
		checked++
		args := make([]any, strings.Count(q, "?")) // the plan does not depend on the values
		plan := planOf(t, s, q, args...)
		t.Logf("%s\n  -> %s", strings.Join(strings.Fields(q), " "), plan)
		oneExecution := strings.Contains(plan, "(execution_pk=?")
		for _, step := range strings.Split(plan, "; ") {
			if strings.HasPrefix(step, "SCAN") || (strings.Contains(step, "TEMP B-TREE") && !oneExecution) {
				t.Errorf("query %s\nplan %s: scans, or sorts more than one execution's rows", q, plan)
				break
			}
		}
	}
	if checked < 10 {
		t.Fatalf("checked %d child queries, want the 10 or more the calls above prepare", checked)
	}
}

// TestMigrateLargeVersion1 times the version 1 migration on a store of
// DURO_MIGRATE_EXECUTIONS executions (4 operations, 7 events and 2 timers
// each, written straight into a version 1 file), and checks that every
// row made it. It is skipped unless that variable is set:
//
//	DURO_MIGRATE_EXECUTIONS=200000 go test ./internal/store/sqlite -run TestMigrateLargeVersion1 -v -timeout 30m
func TestMigrateLargeVersion1(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("DURO_MIGRATE_EXECUTIONS"))
	if n <= 0 {
		t.Skip("set DURO_MIGRATE_EXECUTIONS to run")
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "duro.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=synchronous(OFF)&_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	for _, stmt := range schemaV1ForTest {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	data, op, ev := make([]byte, 270), make([]byte, 200), make([]byte, 210)
	const perExecution = 1 + 4 + 7 + 2
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		if _, err := tx.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for i := range n {
		id := fmt.Sprintf("0193a1b2-c3d4-7e5f-8a6b-%012d", i)
		exec(`INSERT INTO executions VALUES (?, ?, 'fn', '$LATEST', ?, 'RUNNING', ?, 0, 7, '', 0, ?)`, id, "arn:"+id, id, i, data)
		for j := range 4 {
			exec(`INSERT INTO operations VALUES (?, ?, ?, ?)`, id, fmt.Sprintf("%032x", j), j, op)
		}
		for j := 1; j <= 7; j++ {
			exec(`INSERT INTO events VALUES (?, ?, ?)`, id, j, ev)
		}
		exec(`INSERT INTO timers VALUES (?, 'wait:x', ?, NULL), (?, 'timeout', ?, NULL)`, id, i, id, i+1)
		if i%10000 == 9999 {
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			if tx, err = db.Begin(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	size := func() int64 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size() >> 20
	}
	before := size()

	start := time.Now()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	took := time.Since(start)
	var rows int64
	if err := s.reader.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM executions) + (SELECT count(*) FROM operations)
		+ (SELECT count(*) FROM events) + (SELECT count(*) FROM timers)`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if rows != int64(n)*perExecution {
		t.Fatalf("%d rows after the migration, want %d", rows, int64(n)*perExecution)
	}
	t.Logf("migrated %d executions (%d rows) in %v; file %d MB before, %d MB after", n, rows, took.Round(time.Millisecond), before, size())
}
