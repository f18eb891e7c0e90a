package sqlite

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/duro-run/duro/internal/store"
)

// Log writes bypass the group committer: the runtime host already batches
// lines, and log rows belong to no execution mutation. The writer pool's
// single connection serializes them with the committer's transactions.

// AppendLogs stores log lines in one transaction; see store.Store.
func (s *Store) AppendLogs(ctx context.Context, rows []store.LogRow) (err error) {
	if len(rows) == 0 {
		return nil
	}
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite store: append logs: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO logs
		(time_ns, function_name, function_version, request_id, execution_arn, stream, message)
		VALUES (?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("sqlite store: append logs: %w", err)
	}
	defer stmt.Close()
	for _, r := range rows {
		if _, err := stmt.ExecContext(ctx, toNanos(r.Time), r.FunctionName, r.FunctionVersion,
			r.RequestID, r.ExecutionArn, r.Stream, r.Message); err != nil {
			return fmt.Errorf("sqlite store: append logs: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite store: append logs: commit: %w", err)
	}
	return nil
}

// ListLogs returns log lines in ID order; see store.Store. A Limit of zero
// or less means no limit.
func (s *Store) ListLogs(ctx context.Context, q store.LogQuery) ([]store.LogRow, error) {
	if q.ExecutionArn == "" && q.FunctionName == "" {
		return nil, fmt.Errorf("sqlite store: list logs: an execution ARN or a function name is required")
	}
	var where []string
	var args []any
	if q.ExecutionArn != "" {
		where = append(where, "execution_arn = ?")
		args = append(args, q.ExecutionArn)
	}
	if q.FunctionName != "" {
		where = append(where, "function_name = ?")
		args = append(args, q.FunctionName)
	}
	if q.RequestID != "" {
		where = append(where, "request_id = ?")
		args = append(args, q.RequestID)
	}
	where = append(where, "id > ?")
	args = append(args, q.After)
	sqlText := `SELECT id, time_ns, function_name, function_version, request_id, execution_arn, stream, message
		FROM logs WHERE ` + strings.Join(where, " AND ") + ` ORDER BY id`
	if q.Limit > 0 {
		sqlText += ` LIMIT ?`
		args = append(args, q.Limit)
	}
	rows, err := s.query(ctx, sqlText, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: list logs: %w", err)
	}
	defer rows.Close()
	var out []store.LogRow
	for rows.Next() {
		var r store.LogRow
		var ns int64
		if err := rows.Scan(&r.ID, &ns, &r.FunctionName, &r.FunctionVersion, &r.RequestID,
			&r.ExecutionArn, &r.Stream, &r.Message); err != nil {
			return nil, fmt.Errorf("sqlite store: list logs: %w", err)
		}
		r.Time = fromNanos(ns)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite store: list logs: %w", err)
	}
	return out, nil
}

// PruneLogs deletes the log lines of plain invocations written before a
// time and returns how many it deleted; see store.Store.
//
// It deletes pruneBatch lines per statement: the writer connection is the
// group committer's too, and one statement deleting months of lines would
// hold every checkpoint back until it finished.
func (s *Store) PruneLogs(ctx context.Context, before time.Time) (int, error) {
	total := 0
	for {
		res, err := s.writer.ExecContext(ctx, `DELETE FROM logs WHERE id IN
			(SELECT id FROM logs WHERE time_ns < ? AND execution_arn = '' LIMIT ?)`, toNanos(before), s.pruneBatch)
		if err != nil {
			return total, fmt.Errorf("sqlite store: prune logs: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("sqlite store: prune logs: %w", err)
		}
		total += int(n)
		if n < int64(s.pruneBatch) {
			return total, nil
		}
	}
}
