package sqlite

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/duro-run/duro/internal/store"
)

// writeCalls is this process's count of write system calls so far.
func writeCalls(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		t.Skipf("no /proc/self/io: %v", err)
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("syscw: ")); ok {
			n, err := strconv.Atoi(string(v))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Skip("no syscw in /proc/self/io")
	return 0
}

// A commit through walVFS writes its frames in a few system calls, where
// the plain VFS makes two per page.
func TestWALVFSCoalescesACommit(t *testing.T) {
	ctx := context.Background()
	const pages = 40
	calls := map[bool]int{}
	for _, shim := range []bool{false, true} {
		db := openWALVFSTest(t, filepath.Join(t.TempDir(), "wal.db"), shim)
		// A cache that holds the whole transaction: nothing is written
		// before the commit.
		if _, err := db.ExecContext(ctx, `PRAGMA cache_size = 1000`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, `CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		// Rows of most of a page each: the transaction dirties at least
		// one page per row.
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k := range pages {
			if _, err := tx.ExecContext(ctx, `INSERT INTO t (k, v) VALUES (?, ?)`, k, bytes.Repeat([]byte{byte(k)}, 1500)); err != nil {
				t.Fatal(err)
			}
		}
		before := writeCalls(t)
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		calls[shim] = writeCalls(t) - before
	}
	if calls[false] < 2*pages {
		t.Fatalf("plain VFS: %d write calls for a %d-page commit, want at least %d (the test no longer measures what it should)", calls[false], pages, 2*pages)
	}
	if calls[true] > 4 {
		t.Errorf("walVFS: %d write calls for a %d-page commit (plain VFS: %d), want at most 4", calls[true], pages, calls[false])
	}
	t.Logf("write calls for a %d-page commit: plain VFS %d, walVFS %d", pages, calls[false], calls[true])
}

// TestWALPreallocated: the writer's WAL file is given walPreallocBytes of
// zeros when it opens, and a WAL with committed frames followed by those
// zeros, as a crashed process leaves it, is recovered whole.
func TestWALPreallocated(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "duro.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	e := store.ExecutionRow{ID: "e1", ARN: "arn", FunctionName: "fn", Name: "n1", Status: "RUNNING", StartTime: time.Now()}
	if err := s.Commit(ctx, store.Mutation{Execution: e, Create: true}); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() < walPreallocBytes {
		t.Fatalf("WAL file of %d bytes, want at least %d", st.Size(), walPreallocBytes)
	}

	// What a kill -9 leaves: the database and its WAL (the commit's frames,
	// then zeros), no shared-memory index.
	crashed := filepath.Join(t.TempDir(), "duro.db")
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(path + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(crashed+suffix, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r, err := Open(ctx, crashed)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, err := r.GetExecution(ctx, "e1")
	if err != nil || got.Name != "n1" || got.Status != "RUNNING" {
		t.Fatalf("after recovery: %+v, %v; want the committed execution", got, err)
	}
	if err := r.Commit(ctx, store.Mutation{Execution: store.ExecutionRow{ID: "e2", ARN: "arn", FunctionName: "fn", Name: "n2",
		Status: "RUNNING", StartTime: time.Now()}, Create: true}); err != nil {
		t.Fatalf("commit after recovery: %v", err)
	}
}
