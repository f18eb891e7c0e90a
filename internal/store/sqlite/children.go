package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/duro-run/duro/internal/store"
)

// ofExecution selects the child rows of the execution whose ID is the
// bound parameter: they are keyed by its row's pk.
const ofExecution = `execution_pk = (SELECT pk FROM executions WHERE id = ?)`

// ListOperations returns an execution's operations by Seq; see store.Store.
func (s *Store) ListOperations(ctx context.Context, executionID string, afterSeq int64, limit int) ([]store.OperationRow, error) {
	q := `SELECT operation_id, seq, data FROM operations
		WHERE ` + ofExecution + ` AND seq > ? ORDER BY seq, operation_id`
	args := []any{executionID, afterSeq}
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: list operations of %q: %w", executionID, err)
	}
	defer rows.Close()
	var out []store.OperationRow
	for rows.Next() {
		op := store.OperationRow{ExecutionID: executionID}
		if err := rows.Scan(&op.OperationID, &op.Seq, &op.Data); err != nil {
			return nil, fmt.Errorf("sqlite store: list operations of %q: %w", executionID, err)
		}
		out = append(out, op)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite store: list operations of %q: %w", executionID, err)
	}
	return out, nil
}

// GetOperation returns one operation; see store.Store.
func (s *Store) GetOperation(ctx context.Context, executionID, operationID string) (store.OperationRow, error) {
	op := store.OperationRow{ExecutionID: executionID, OperationID: operationID}
	err := s.queryRow(ctx,
		`SELECT seq, data FROM operations WHERE `+ofExecution+` AND operation_id = ?`,
		executionID, operationID).Scan(&op.Seq, &op.Data)
	if errors.Is(err, sql.ErrNoRows) {
		return store.OperationRow{}, fmt.Errorf("sqlite store: operation %q of %q: %w", operationID, executionID, store.ErrNotFound)
	}
	if err != nil {
		return store.OperationRow{}, fmt.Errorf("sqlite store: get operation %q of %q: %w", operationID, executionID, err)
	}
	return op, nil
}

// ListEvents returns history events in a range; see store.Store. A Limit of
// zero or less means no limit.
func (s *Store) ListEvents(ctx context.Context, executionID string, r store.EventRange) ([]store.EventRow, error) {
	q := `SELECT event_id, data FROM events WHERE ` + ofExecution
	args := []any{executionID}
	switch {
	case r.Reverse && r.After > 0:
		q += ` AND event_id < ? ORDER BY event_id DESC`
		args = append(args, r.After)
	case r.Reverse:
		q += ` ORDER BY event_id DESC`
	default:
		q += ` AND event_id > ? ORDER BY event_id`
		args = append(args, r.After)
	}
	if r.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, r.Limit)
	}
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: list events of %q: %w", executionID, err)
	}
	defer rows.Close()
	var out []store.EventRow
	for rows.Next() {
		ev := store.EventRow{ExecutionID: executionID}
		if err := rows.Scan(&ev.EventID, &ev.Data); err != nil {
			return nil, fmt.Errorf("sqlite store: list events of %q: %w", executionID, err)
		}
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite store: list events of %q: %w", executionID, err)
	}
	return out, nil
}

// DueTimers returns timers due at or before now, earliest first; see
// store.Store. A limit of zero or less means no limit.
func (s *Store) DueTimers(ctx context.Context, now time.Time, limit int) ([]store.TimerRow, error) {
	q := timerColumns + ` t.due_ns <= ? ORDER BY t.due_ns, t.execution_pk, t.key`
	args := []any{toNanos(now)}
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	out, err := s.queryTimers(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: due timers: %w", err)
	}
	return out, nil
}

// NextTimer returns the earliest timer of any execution due after after;
// see store.Store.
func (s *Store) NextTimer(ctx context.Context, after time.Time) (store.TimerRow, error) {
	floor := int64(math.MinInt64)
	if !after.IsZero() {
		floor = toNanos(after)
	}
	out, err := s.queryTimers(ctx, timerColumns+` t.due_ns > ? ORDER BY t.due_ns, t.execution_pk, t.key LIMIT 1`, floor)
	if err != nil {
		return store.TimerRow{}, fmt.Errorf("sqlite store: next timer: %w", err)
	}
	if len(out) == 0 {
		return store.TimerRow{}, fmt.Errorf("sqlite store: next timer: %w", store.ErrNotFound)
	}
	return out[0], nil
}

// ListTimers returns an execution's timers, earliest first; see
// store.Store.
func (s *Store) ListTimers(ctx context.Context, executionID string) ([]store.TimerRow, error) {
	out, err := s.queryTimers(ctx, `SELECT ?, key, due_ns, data FROM timers
		WHERE `+ofExecution+` ORDER BY due_ns, key`, executionID, executionID)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: list timers of %q: %w", executionID, err)
	}
	return out, nil
}

// timerColumns selects timers with their execution's ID. The CROSS JOIN
// fixes the join order in SQLite: timers outside (by due time through
// timers_by_due_key), each timer's execution looked up by pk.
const timerColumns = `SELECT e.id, t.key, t.due_ns, t.data FROM timers t CROSS JOIN executions e
	WHERE e.pk = t.execution_pk AND`

func (s *Store) queryTimers(ctx context.Context, q string, args ...any) ([]store.TimerRow, error) {
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.TimerRow
	for rows.Next() {
		var (
			t   store.TimerRow
			due int64
		)
		if err := rows.Scan(&t.ExecutionID, &t.Key, &due, &t.Data); err != nil {
			return nil, err
		}
		t.Due = fromNanos(due)
		out = append(out, t)
	}
	return out, rows.Err()
}
