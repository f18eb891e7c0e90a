package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
)

// openWALVFSTest opens path in WAL mode, through walVFS when shim is set,
// with a page cache small enough that a large transaction spills pages to
// the WAL before it commits (and reads them back from there).
func openWALVFSTest(t *testing.T, path string, shim bool) *sql.DB {
	t.Helper()
	if err := registerWALVFS(); err != nil {
		t.Fatal(err)
	}
	dsn := "file:" + escapePath(path) + "?_pragma=busy_timeout(5000)&_pragma=page_size(2048)&_journal_mode=WAL" +
		"&_pragma=synchronous(FULL)&_pragma=cache_size(8)&_pragma=wal_autocheckpoint(0)"
	if shim {
		dsn += "&vfs=" + walVFSName
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

func rowValue(k, round int) []byte {
	return bytes.Repeat([]byte(fmt.Sprintf("%d/%d;", k, round)), 60)
}

// The WAL walVFS writes is SQLite's own: a database written through it,
// with transactions that spill, roll back and rewrite pages, reads back
// whole through the plain VFS, while it is written and after.
func TestWALVFSWritesWhatSQLiteWrites(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "wal.db")
	w := openWALVFSTest(t, path, true)
	r := openWALVFSTest(t, path, false)
	if _, err := w.ExecContext(ctx, `CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	const rows = 3000
	want := map[int][]byte{}
	for round, step := range []struct {
		name     string
		rollback bool
		from, to int
	}{
		{"insert, spilling", false, 0, rows},
		{"rewrite, rolled back", true, 0, rows},
		{"rewrite half", false, 0, rows / 2},
		{"rewrite a third, rolled back", true, rows / 3, rows},
		{"rewrite the rest", false, rows / 2, rows},
	} {
		tx, err := w.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k := step.from; k < step.to; k++ {
			if _, err := tx.ExecContext(ctx, `INSERT INTO t (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v`, k, rowValue(k, round)); err != nil {
				t.Fatalf("%s: %v", step.name, err)
			}
			if k%500 == 499 { // read back pages the cache has spilled
				var got []byte
				if err := tx.QueryRowContext(ctx, `SELECT v FROM t WHERE k = ?`, step.from+(k-step.from)/2).Scan(&got); err != nil {
					t.Fatalf("%s: read back: %v", step.name, err)
				}
				if !bytes.Equal(got, rowValue(step.from+(k-step.from)/2, round)) {
					t.Fatalf("%s: read back row %d within the transaction: %.20q", step.name, step.from+(k-step.from)/2, got)
				}
			}
		}
		if step.rollback {
			err = tx.Rollback()
		} else {
			err = tx.Commit()
			for k := step.from; k < step.to; k++ {
				want[k] = rowValue(k, round)
			}
		}
		if err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		checkRows(t, r, want, step.name)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	checkRows(t, r, want, "after the writer closed")
	var ok string
	if err := r.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity_check = %q, %v", ok, err)
	}
}

func checkRows(t *testing.T, db *sql.DB, want map[int][]byte, when string) {
	t.Helper()
	rows, err := db.Query(`SELECT k, v FROM t ORDER BY k`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var k int
		var v []byte
		if err := rows.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(v, want[k]) {
			t.Fatalf("%s: row %d = %.20q, want %.20q", when, k, v, want[k])
		}
		n++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n != len(want) {
		t.Fatalf("%s: %d rows, want %d", when, n, len(want))
	}
}
