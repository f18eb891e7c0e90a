package sqlite

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
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
