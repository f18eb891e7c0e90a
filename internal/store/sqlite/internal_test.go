package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"math"
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
	s, err := Open(ctx, filepath.Join(t.TempDir(), "duro.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()

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

	if _, err := s.reader.ExecContext(ctx, `DELETE FROM executions`); err == nil {
		t.Fatal("write through the reader pool succeeded")
	}
}

// TestGroupCommitBatches holds the write connection so that commits pile
// up behind the committer, then checks that the backlog goes out in a
// single transaction.
func TestGroupCommitBatches(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "duro.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()

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
