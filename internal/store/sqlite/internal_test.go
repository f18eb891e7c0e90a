package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/duro-run/duro/internal/store"
)

// TestConnectionSettings checks that the durability settings are in force
// on every connection, not only on the one that created the file.
func TestConnectionSettings(t *testing.T) {
	ctx := context.Background()
	s := openInternal(t)

	check := func(db *sql.DB, name string, readOnly bool) {
		t.Helper()
		// Hold several connections at once so that the pool really opens
		// more than one.
		var conns []*sql.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for range db.Stats().MaxOpenConnections {
			c, err := db.Conn(ctx)
			if err != nil {
				t.Fatalf("%s: Conn: %v", name, err)
			}
			conns = append(conns, c)
			var (
				mode           string
				sync, busy, qo int
			)
			if err := c.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
				t.Fatalf("%s: journal_mode: %v", name, err)
			}
			if err := c.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&sync); err != nil {
				t.Fatalf("%s: synchronous: %v", name, err)
			}
			if err := c.QueryRowContext(ctx, `PRAGMA busy_timeout`).Scan(&busy); err != nil {
				t.Fatalf("%s: busy_timeout: %v", name, err)
			}
			if err := c.QueryRowContext(ctx, `PRAGMA query_only`).Scan(&qo); err != nil {
				t.Fatalf("%s: query_only: %v", name, err)
			}
			if !strings.EqualFold(mode, "wal") || sync != 2 || busy != busyTimeoutMillis || (qo == 1) != readOnly {
				t.Fatalf("%s: journal_mode=%s synchronous=%d busy_timeout=%d query_only=%d", name, mode, sync, busy, qo)
			}
		}
	}
	check(s.writer, "writer", false)
	check(s.reader, "reader", true)
	check(s.checkpointDB, "checkpointer", false)

	if _, err := s.reader.ExecContext(ctx, `DELETE FROM executions`); err == nil {
		t.Fatal("write through the reader pool succeeded")
	}
}

// TestPageSize checks that a new database gets PageSize while one created
// with another page size keeps it, stays in WAL mode and takes commits.
func TestPageSize(t *testing.T) {
	ctx := context.Background()
	pageSize := func(s *Store) int {
		t.Helper()
		var n int
		if err := s.reader.QueryRowContext(ctx, `PRAGMA page_size`).Scan(&n); err != nil {
			t.Fatalf("page_size: %v", err)
		}
		return n
	}

	s, err := Open(ctx, filepath.Join(t.TempDir(), "duro.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if got := pageSize(s); got != PageSize {
		t.Errorf("new database: page_size %d, want %d", got, PageSize)
	}
	s.Close()

	// A database as earlier versions created it: 4 KiB pages.
	path := filepath.Join(t.TempDir(), "old.db")
	old, err := sql.Open("sqlite", "file:"+path+"?_pragma=page_size(4096)&_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatalf("open old: %v", err)
	}
	if _, err := old.ExecContext(ctx, `CREATE TABLE marker (x INTEGER)`); err != nil {
		t.Fatalf("create old: %v", err)
	}
	old.Close()
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("Open old: %v", err)
	}
	defer s.Close()
	if got := pageSize(s); got != 4096 {
		t.Errorf("existing database: page_size %d, want 4096 kept", got)
	}
	var mode string
	if err := s.writer.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil || !strings.EqualFold(mode, "wal") {
		t.Fatalf("existing database: journal_mode %q, %v", mode, err)
	}
	if err := s.Commit(ctx, store.Mutation{Create: true,
		Execution: store.ExecutionRow{ID: "e1", FunctionName: "fn", Name: "e1"}}); err != nil {
		t.Fatalf("Commit on the existing database: %v", err)
	}
}

// TestGroupCommitBatches holds the write connection so that commits pile
// up behind the committer, then checks that the backlog goes out in a
// single transaction.
func TestGroupCommitBatches(t *testing.T) {
	ctx := context.Background()
	s := openInternal(t)

	conn, err := s.writer.Conn(ctx)
	if err != nil {
		t.Fatalf("Conn: %v", err)
	}
	const n = 100
	errs := make(chan error, n)
	commit := func(i int) {
		id := fmt.Sprintf("e%03d", i)
		errs <- s.Commit(ctx, store.Mutation{Create: true,
			Execution: store.ExecutionRow{ID: id, FunctionName: "fn", Name: id}})
	}
	waitFor := func(what string, cond func() bool) {
		deadline := time.Now().Add(10 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(time.Millisecond)
		}
	}
	// First get the committer stuck on the held connection with a batch
	// of one, then queue the rest behind it.
	go commit(0)
	waitFor("the committer to wait for the connection", func() bool { return s.writer.Stats().WaitCount == 1 })
	for i := 1; i < n; i++ {
		go commit(i)
	}
	waitFor("the backlog to queue", func() bool { return len(s.queue) == n-1 })
	conn.Close()
	for range n {
		if err := <-errs; err != nil {
			t.Fatalf("Commit: %v", err)
		}
	}
	if st := s.Stats(); st.Commits != n || st.Transactions != 2 {
		t.Fatalf("Stats = %+v, want %d commits in 2 transactions", st, n)
	}
}

func TestToNanosClampsFarTimes(t *testing.T) {
	far := time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC)
	if got := toNanos(far); got != math.MaxInt64 {
		t.Fatalf("toNanos(2999) = %d, want MaxInt64 (no wrap-around)", got)
	}
	if got := toNanos(time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC)); got >= 0 {
		t.Fatalf("toNanos(1000) = %d, want a negative clamp", got)
	}
	now := time.Now()
	if got := toNanos(now); got != now.UnixNano() {
		t.Fatalf("toNanos(now) = %d, want %d", got, now.UnixNano())
	}
}

// TestBackgroundWALCheckpoint checks that committed data reaches the
// database file well before the writer's automatic checkpoint would copy
// it: the background checkpointer copies the WAL.
func TestBackgroundWALCheckpoint(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "duro.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	var auto int
	if err := s.writer.QueryRowContext(ctx, `PRAGMA wal_autocheckpoint`).Scan(&auto); err != nil || auto != walAutoCheckpointFrames {
		t.Fatalf("writer wal_autocheckpoint = %d (%v), want %d", auto, err, walAutoCheckpointFrames)
	}
	size := func() int64 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	before := size()
	data := make([]byte, 4096)
	for i := range 100 {
		id := fmt.Sprint("wal-", i)
		if err := s.Commit(ctx, store.Mutation{Create: true, Execution: store.ExecutionRow{ID: id, FunctionName: "fn", Name: id, Data: data}}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(30 * time.Second) // bounds a hang, not a speed
	for size() < before+100*4096 {
		if time.Now().After(deadline) {
			t.Fatalf("database file still %d bytes (was %d): the WAL was not checkpointed", size(), before)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// openWithoutCheckpointer opens a store at path, closed when the test
// ends, whose background WAL checkpointer has been stopped.
func openWithoutCheckpointer(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	close(s.ckptStop)
	<-s.ckptDone
	s.ckptStop = nil
	return s
}

// TestWALRestart checks that the committer finishes the checkpoint of a
// WAL the checkpointer reports as long, so that the next transaction
// restarts the WAL from its beginning: under a load that never lets the
// background checkpoint catch up, the WAL would otherwise grow without
// bound.
func TestWALRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "duro.db")
	// Only the committer checkpoints.
	s := openWithoutCheckpointer(t, path)

	size := func(p string) int64 {
		t.Helper()
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	commit := func(i int) {
		t.Helper()
		id := fmt.Sprint("restart-", i)
		if err := s.Commit(ctx, store.Mutation{Create: true, Execution: store.ExecutionRow{ID: id, FunctionName: "fn", Name: id, Data: make([]byte, 4096)}}); err != nil {
			t.Fatal(err)
		}
	}
	dbBefore := size(path)
	for i := range 50 {
		commit(i)
	}
	if st := s.Stats(); st.WALRestarts != 0 || st.WALRestart != 0 {
		t.Fatalf("stats before any restart: %+v", st)
	}
	if got := size(path); got != dbBefore {
		t.Fatalf("database file grew from %d to %d bytes with no checkpointer", dbBefore, got)
	}
	// As if the checkpointer had seen a long WAL: the committer checkpoints
	// after its next batch.
	s.walFrames.Store(walRestartFrames)
	commit(50)
	deadline := time.Now().Add(30 * time.Second) // bounds a hang, not a speed
	for size(path) == dbBefore {
		if time.Now().After(deadline) {
			t.Fatal("the committer did not checkpoint the WAL")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The stats count it once the checkpoint has returned.
	for st := s.Stats(); st.WALRestarts != 1 || st.WALRestart <= 0; st = s.Stats() {
		if time.Now().After(deadline) {
			t.Fatalf("stats after the committer's checkpoint: %+v", st)
		}
		time.Sleep(time.Millisecond)
	}
	// The WAL restarts: new frames overwrite its beginning.
	wal := size(path + "-wal")
	for i := 51; i < 60; i++ {
		commit(i)
	}
	if got := size(path + "-wal"); got > wal {
		t.Fatalf("WAL grew from %d to %d bytes after the checkpoint: it did not restart", wal, got)
	}
}

// TestWALCatchUp checks that a background round runs its catch-up pass
// exactly when the WAL has reached walRestartFrames: the round after which
// the committer checkpoints to restart it.
func TestWALCatchUp(t *testing.T) {
	for _, tc := range []struct {
		name        string
		commits     int
		wantCatchUp int64
	}{
		{"short WAL", 10, 0},
		// 64 KiB rows take 32 overflow pages each: ~19,000 frames.
		{"WAL at the bound", walRestartFrames/32 + 100, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			// Only this test checkpoints.
			s := openWithoutCheckpointer(t, filepath.Join(t.TempDir(), "duro.db"))

			data := make([]byte, 64<<10)
			errs := make(chan error, tc.commits)
			for i := range tc.commits {
				go func() {
					id := fmt.Sprint("catch-up-", i)
					errs <- s.Commit(ctx, store.Mutation{Create: true, Execution: store.ExecutionRow{ID: id, FunctionName: "fn", Name: id, Data: data}})
				}()
			}
			for range tc.commits {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
			frames, err := s.checkpointWAL()
			if err != nil {
				t.Fatalf("checkpointWAL: %v", err)
			}
			if tc.wantCatchUp > 0 && frames < walRestartFrames {
				t.Fatalf("WAL of %d frames, want at least %d for this case", frames, walRestartFrames)
			}
			if got := s.Stats().WALCatchUps; got != tc.wantCatchUp {
				t.Fatalf("%d catch-up passes for a WAL of %d frames, want %d", got, frames, tc.wantCatchUp)
			}
		})
	}
}

// TestSchemaRevisionsApplyToOldDatabases opens a database that still has
// the indexes a later schema revision dropped (as a store created by an
// earlier release has them), and checks that Open drops them and the store
// keeps its rows and its operation order.
func TestSchemaRevisionsApplyToOldDatabases(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "duro.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	e := store.ExecutionRow{ID: "e1", ARN: "arn", FunctionName: "fn", FunctionVersion: "$LATEST", Name: "e1",
		Status: "RUNNING", StartTime: time.Unix(1, 0)}
	ops := []store.OperationRow{{OperationID: "b", Seq: 1, Data: []byte("1")}, {OperationID: "a", Seq: 2, Data: []byte("2")}}
	if err := s.Commit(ctx, store.Mutation{Create: true, Execution: e, Operations: ops}); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	for _, stmt := range []string{
		`CREATE INDEX operations_by_seq ON operations (execution_pk, seq)`,
		`CREATE INDEX timers_by_due ON timers (due_ns)`,
		`CREATE INDEX executions_by_lease_owner ON executions (lease_owner, lease_until_ns) WHERE lease_owner <> ''`,
		// The version 2 table of checkpoint responses, as earlier builds
		// created it (always empty: the engine never wrote it).
		`CREATE TABLE dedup (execution_pk BIGINT NOT NULL, checkpoint_token TEXT NOT NULL, client_token TEXT NOT NULL,
			created_ns BIGINT NOT NULL, response BLOB, PRIMARY KEY (execution_pk, checkpoint_token, client_token))`,
		`CREATE INDEX dedup_by_created ON dedup (created_ns)`,
		// The console's cross-function indexes.
		`CREATE INDEX executions_all_by_start ON executions (start_ns, id)`,
		`CREATE INDEX executions_by_status ON executions (status, start_ns, id)`,
		`CREATE INDEX executions_by_name ON executions (name, start_ns, id)`,
		// The version before the compact rows.
		`UPDATE schema_version SET version = 2`,
	} {
		if _, err := s.writer.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	for _, name := range []string{"operations_by_seq", "timers_by_due", "executions_by_lease_owner", "dedup", "dedup_by_created",
		"executions_all_by_start", "executions_by_status", "executions_by_name"} {
		var n int
		if err := s.reader.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name = ?`, name).Scan(&n); err != nil {
			t.Fatalf("look for %s: %v", name, err)
		}
		if n != 0 {
			t.Errorf("%s still exists after Open", name)
		}
	}
	var version int64
	if err := s.reader.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&version); err != nil || version != schemaVersion {
		t.Errorf("schema version after Open = %d, %v; want %d", version, err, schemaVersion)
	}
	got, err := s.ListOperations(ctx, "e1", 0, 0)
	if err != nil || len(got) != 2 || got[0].OperationID != "b" || got[1].OperationID != "a" {
		t.Fatalf("ListOperations after reopen = %+v, %v; want b then a (by seq)", got, err)
	}
	// The lease scan reads the partial lease index in order, without a
	// sort of the executions it finds.
	if plan := planOf(t, s, leasedExecutionsQuery, "owner", 5); !strings.HasPrefix(plan, "SCAN executions USING INDEX executions_by_lease_until") {
		t.Errorf("lease scan plan %q, want it to walk executions_by_lease_until", plan)
	}
}

// PruneLogs deletes in statements of pruneBatch lines and goes on until
// none is left, counting them all.
func TestPruneLogsInBatches(t *testing.T) {
	ctx := context.Background()
	s := openInternal(t)
	s.pruneBatch = 3
	var rows []store.LogRow
	for i := range 10 {
		rows = append(rows, store.LogRow{Time: time.Unix(int64(i), 0), FunctionName: "f", Stream: "stdout", Message: "old"})
	}
	rows = append(rows,
		store.LogRow{Time: time.Unix(1, 0), FunctionName: "f", ExecutionArn: "arn:x", Stream: "stdout", Message: "an execution's"},
		store.LogRow{Time: time.Unix(100, 0), FunctionName: "f", Stream: "stdout", Message: "new"})
	if err := s.AppendLogs(ctx, rows); err != nil {
		t.Fatal(err)
	}
	n, err := s.PruneLogs(ctx, time.Unix(50, 0))
	if err != nil || n != 10 {
		t.Fatalf("PruneLogs = %d, %v; want 10", n, err)
	}
	left, err := s.ListLogs(ctx, store.LogQuery{FunctionName: "f"})
	if err != nil || len(left) != 2 || left[0].Message != "an execution's" || left[1].Message != "new" {
		t.Fatalf("left after prune: %+v, %v", left, err)
	}
}

// BenchmarkWriteAndSync is what a commit asks of the disk, without SQLite:
// write N pages into a file and fsync it (the call SQLite makes). It shows how an
// fsync's time grows with the bytes written (PageSize):
// go test -run '^$' -bench WriteAndSync ./internal/store/sqlite/
func BenchmarkWriteAndSync(b *testing.B) {
	for _, size := range []int{4096, 2048, 1024} {
		for _, pages := range []int{1, 10, 40, 80} {
			b.Run(fmt.Sprintf("page=%d/pages=%d", size, pages), func(b *testing.B) {
				f, err := os.Create(filepath.Join(b.TempDir(), "sync.dat"))
				if err != nil {
					b.Fatal(err)
				}
				defer f.Close()
				page := make([]byte, size)
				const span = 64 << 20 // wrap around, as the WAL does after a restart
				if err := f.Truncate(span); err != nil {
					b.Fatal(err)
				}
				var off int64
				b.SetBytes(int64(size * pages))
				for b.Loop() {
					for range pages {
						if _, err := f.WriteAt(page, off); err != nil {
							b.Fatal(err)
						}
						off = (off + int64(size)) % span
					}
					if err := f.Sync(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// TestCommitterPreparesOnANewConnection replaces the writer's connection
// under the committer, as the pool does after discarding a bad one: the
// committer must prepare its statements on the new connection and go on
// committing, with the rows of before still there.
func TestCommitterPreparesOnANewConnection(t *testing.T) {
	ctx := context.Background()
	s := openInternal(t)

	e := store.ExecutionRow{ID: "e1", FunctionName: "fn", Name: "e1", Status: "RUNNING", Data: []byte("v1")}
	if err := s.Commit(ctx, store.Mutation{Create: true, Execution: e}); err != nil {
		t.Fatalf("create: %v", err)
	}
	first := s.stmtsConn
	if first == nil {
		t.Fatal("the committer's statements are not prepared on any connection")
	}

	// Hand the committer's connection back as bad: the pool closes it.
	conn, err := s.writer.Conn(ctx)
	if err != nil {
		t.Fatalf("Conn: %v", err)
	}
	if err := conn.Raw(func(any) error { return driver.ErrBadConn }); !errors.Is(err, driver.ErrBadConn) {
		t.Fatalf("Raw = %v, want ErrBadConn", err)
	}
	conn.Close()

	e.Revision, e.Data = 1, []byte("v2")
	if err := s.Commit(ctx, store.Mutation{Execution: e,
		Operations: []store.OperationRow{{OperationID: "op", Seq: 1, Data: []byte("o")}},
		Events:     []store.EventRow{{EventID: 1, Data: []byte("ev")}}}); err != nil {
		t.Fatalf("update on the new connection: %v", err)
	}
	if s.stmtsConn == nil || s.stmtsConn == first {
		t.Fatal("the committer did not prepare its statements on the new connection")
	}
	got, err := s.GetExecution(ctx, "e1")
	if err != nil {
		t.Fatalf("GetExecution: %v", err)
	}
	if got.Revision != 2 || string(got.Data) != "v2" {
		t.Fatalf("execution = revision %d, data %q; want 2, v2", got.Revision, got.Data)
	}
	ops, err := s.ListOperations(ctx, "e1", 0, 10)
	if err != nil || len(ops) != 1 {
		t.Fatalf("ListOperations = %v, %v; want the one operation", ops, err)
	}
}

// TestRowCacheKeepsRowsRight drives the committer's row cache through the
// cases where an entry is stale: a write rolled back after its row was
// written (the entry names a revision nothing committed), and an execution
// deleted and created again under the same ID. Every row must end as the
// committed mutations left it, and a stale revision must still conflict.
func TestRowCacheKeepsRowsRight(t *testing.T) {
	ctx := context.Background()
	s := openInternal(t)
	check := func(what string, rev int64, lease, data string) {
		t.Helper()
		got, err := s.GetExecution(ctx, "e1")
		if err != nil {
			t.Fatalf("%s: GetExecution: %v", what, err)
		}
		if got.Revision != rev || got.LeaseOwner != lease || string(got.Data) != data {
			t.Fatalf("%s: revision %d, lease %q, data %q; want %d, %q, %q", what, got.Revision, got.LeaseOwner, got.Data, rev, lease, data)
		}
	}

	e := store.ExecutionRow{ID: "e1", FunctionName: "fn", Name: "e1", Status: "RUNNING", LeaseOwner: "a", Data: []byte("v1")}
	if err := s.Commit(ctx, store.Mutation{Create: true, Execution: e, Events: []store.EventRow{{EventID: 1}}}); err != nil {
		t.Fatalf("create: %v", err)
	}
	// Writes the row (lease b), then fails on the duplicate event: rolled
	// back alone, leaving an entry for revision 2 with lease b.
	up := e
	up.Revision, up.LeaseOwner, up.Data = 1, "b", []byte("lost")
	if err := s.Commit(ctx, store.Mutation{Execution: up, Events: []store.EventRow{{EventID: 1}}}); !errors.Is(err, store.ErrExists) {
		t.Fatalf("duplicate event: %v, want ErrExists", err)
	}
	check("after the rolled-back write", 1, "a", "v1")
	// The same change at the same revision, committed this time.
	up.Data = []byte("v2")
	if err := s.Commit(ctx, store.Mutation{Execution: up, Events: []store.EventRow{{EventID: 2}}}); err != nil {
		t.Fatalf("update to revision 2: %v", err)
	}
	check("revision 2", 2, "b", "v2")
	// Data alone: the cache's short update.
	up.Revision, up.Data = 2, []byte("v3")
	if err := s.Commit(ctx, store.Mutation{Execution: up}); err != nil {
		t.Fatalf("update to revision 3: %v", err)
	}
	check("revision 3", 3, "b", "v3")
	// A column changes at the revision the cache holds: not the short update.
	up.Revision, up.LeaseOwner, up.Data = 3, "d", []byte("v4")
	if err := s.Commit(ctx, store.Mutation{Execution: up}); err != nil {
		t.Fatalf("update to revision 4: %v", err)
	}
	check("revision 4, another lease", 4, "d", "v4")
	up.Data = []byte("stale")
	if err := s.Commit(ctx, store.Mutation{Execution: up}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("update at a stale revision: %v, want ErrConflict", err)
	}
	check("after the stale update", 4, "d", "v4")

	// Deleted and created again under the same ID, with another lease:
	// revision 1 again, and the cache's entry for revision 1 is the new row's.
	if err := s.DeleteExecution(ctx, "e1"); err != nil {
		t.Fatalf("DeleteExecution: %v", err)
	}
	again := e
	again.LeaseOwner, again.Data = "c", []byte("w1")
	if err := s.Commit(ctx, store.Mutation{Create: true, Execution: again}); err != nil {
		t.Fatalf("create again: %v", err)
	}
	again.Revision, again.Data = 1, []byte("w2")
	if err := s.Commit(ctx, store.Mutation{Execution: again}); err != nil {
		t.Fatalf("update the new row: %v", err)
	}
	check("the row created again", 2, "c", "w2")
}

// TestRawStmtBind checks the committer's argument conversion: its own
// types pass as they are, others as database/sql would convert them, and
// what database/sql would refuse is refused.
func TestRawStmtBind(t *testing.T) {
	type point struct{ x, y int }
	tests := []struct {
		name    string
		arg     any
		want    driver.Value
		wantErr bool
	}{
		{"int64", int64(7), int64(7), false},
		{"string", "s", "s", false},
		{"bytes", []byte("b"), []byte("b"), false},
		{"nil", nil, nil, false},
		{"int", 7, int64(7), false},
		{"uint32", uint32(9), int64(9), false},
		{"bool", true, true, false},
		{"struct", point{1, 2}, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &rawStmt{query: "q"}
			err := r.bind([]any{"first", tc.arg})
			if tc.wantErr {
				if err == nil {
					t.Fatalf("bind(%T) = nil error, want one", tc.arg)
				}
				return
			}
			if err != nil {
				t.Fatalf("bind(%T): %v", tc.arg, err)
			}
			if len(r.args) != 2 || r.args[1].Ordinal != 2 || fmt.Sprint(r.args[1].Value) != fmt.Sprint(tc.want) ||
				fmt.Sprintf("%T", r.args[1].Value) != fmt.Sprintf("%T", tc.want) {
				t.Fatalf("bind(%T) = %#v, want ordinal 2 and %#v", tc.arg, r.args, tc.want)
			}
		})
	}
}

// openInternal opens a store in a temporary directory and closes it when
// the test ends.
func openInternal(t testing.TB) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "duro.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}
