package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/duro-run/duro/internal/store"
)

const executionColumns = `id, arn, function_name, function_version, name, status,
	start_ns, end_ns, revision, lease_owner, lease_until_ns, data`

// scanner is the part of *sql.Row and *sql.Rows that scanExecution needs.
type scanner interface {
	Scan(dest ...any) error
}

func scanExecution(sc scanner) (store.ExecutionRow, error) {
	var (
		e                     store.ExecutionRow
		startNs, endNs, until int64
	)
	err := sc.Scan(&e.ID, &e.ARN, &e.FunctionName, &e.FunctionVersion, &e.Name, &e.Status,
		&startNs, &endNs, &e.Revision, &e.LeaseOwner, &until, &e.Data)
	if err != nil {
		return store.ExecutionRow{}, err
	}
	e.StartTime, e.EndTime, e.LeaseUntil = fromNanos(startNs), fromNanos(endNs), fromNanos(until)
	e.ARN = loadedARN(e.ARN, e.FunctionName, e.FunctionVersion, e.Name, e.ID)
	return e, nil
}

// GetExecution returns an execution by ID; see store.Store.
func (s *Store) GetExecution(ctx context.Context, id string) (store.ExecutionRow, error) {
	e, err := scanExecution(s.queryRow(ctx,
		`SELECT `+executionColumns+` FROM executions WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.ExecutionRow{}, fmt.Errorf("sqlite store: execution %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.ExecutionRow{}, fmt.Errorf("sqlite store: get execution %q: %w", id, err)
	}
	return e, nil
}

// FindExecutionByName returns a function's execution with a given name; see
// store.Store.
func (s *Store) FindExecutionByName(ctx context.Context, functionName, name string) (store.ExecutionRow, error) {
	e, err := scanExecution(s.queryRow(ctx,
		`SELECT `+executionColumns+` FROM executions WHERE function_name = ? AND name = ?`,
		functionName, name))
	if errors.Is(err, sql.ErrNoRows) {
		return store.ExecutionRow{}, fmt.Errorf("sqlite store: execution %q of function %q: %w",
			name, functionName, store.ErrNotFound)
	}
	if err != nil {
		return store.ExecutionRow{}, fmt.Errorf("sqlite store: find execution %q of function %q: %w",
			name, functionName, err)
	}
	return e, nil
}

// ListExecutions lists a function's executions ordered by (StartTime, ID),
// newest first unless f.OldestFirst; see store.Store. StartedAfter and
// StartedBefore are exclusive bounds. A Limit of zero or less means no
// limit.
func (s *Store) ListExecutions(ctx context.Context, f store.ExecutionFilter) ([]store.ExecutionRow, error) {
	if f.FunctionName == "" {
		return nil, errors.New("sqlite store: list executions: function name is required")
	}
	q, args := executionListQuery(f)
	out, err := s.queryExecutions(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: list executions of function %q: %w", f.FunctionName, err)
	}
	return out, nil
}

// ListAllExecutions lists executions of every function (or of
// f.FunctionName when set) with ListExecutions' filters and order; see
// store.Store.
//
// Without a function it merges the functions' own listings, read in one
// snapshot: each function's first f.Limit keys, each read in the listing's
// order from that function's indexes, merged by (start, ID). A page
// so costs one index range per function, however many executions are
// stored. Indexes across functions would serve it in one range, but every
// execution's start, status change and end would then update them too:
// they were a tenth of the pages the checkpoint path wrote (schema.go).
func (s *Store) ListAllExecutions(ctx context.Context, f store.ExecutionFilter) ([]store.ExecutionRow, error) {
	var (
		out []store.ExecutionRow
		err error
	)
	if f.FunctionName != "" {
		q, args := executionListQuery(f)
		out, err = s.queryExecutions(ctx, q, args...)
	} else {
		out, err = s.listAcrossFunctions(ctx, f)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite store: list all executions: %w", err)
	}
	return out, nil
}

// functionNamesCTE is a common table expression, fn(name), of the distinct
// function names of the executions (and a NULL after the last), found by
// one index seek per name (a loose index scan of the indexes that lead
// with function_name), not by a walk of every execution.
const functionNamesCTE = `WITH RECURSIVE fn(name) AS (
		SELECT MIN(function_name) FROM executions
		UNION ALL
		SELECT (SELECT MIN(function_name) FROM executions WHERE function_name > fn.name)
		FROM fn WHERE fn.name IS NOT NULL
	)`

// functionNamesSQL lists the distinct function names of the executions.
const functionNamesSQL = functionNamesCTE + ` SELECT name FROM fn WHERE name IS NOT NULL`

// listAcrossFunctions is ListAllExecutions without a function, in one read
// transaction: every function's first f.Limit keys under f (start, ID:
// what its index holds), merged; then the rows of the keys that made the
// page.
func (s *Store) listAcrossFunctions(ctx context.Context, f store.ExecutionFilter) ([]store.ExecutionRow, error) {
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()

	names, err := queryStrings(ctx, tx, functionNamesSQL)
	if err != nil {
		return nil, fmt.Errorf("function names: %w", err)
	}
	type key struct {
		start int64
		id    string
	}
	var (
		keys []key
		list *sql.Stmt
	)
	for _, name := range names {
		g := f
		g.FunctionName = name
		// The same query for every function, but for the name.
		q, args := executionListQueryOf(`start_ns, id`, g)
		if list == nil {
			if list, err = tx.PrepareContext(ctx, q); err != nil {
				return nil, err
			}
			defer list.Close()
		}
		err := func() error {
			rows, err := list.QueryContext(ctx, args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var k key
				if err := rows.Scan(&k.start, &k.id); err != nil {
					return err
				}
				keys = append(keys, k)
			}
			return rows.Err()
		}()
		if err != nil {
			return nil, fmt.Errorf("function %q: %w", name, err)
		}
	}
	slices.SortFunc(keys, func(a, b key) int {
		c := cmp.Or(cmp.Compare(a.start, b.start), strings.Compare(a.id, b.id))
		if !f.OldestFirst {
			c = -c
		}
		return c
	})
	if f.Limit > 0 && len(keys) > f.Limit {
		keys = keys[:f.Limit]
	}

	get, err := tx.PrepareContext(ctx, `SELECT `+executionColumns+` FROM executions WHERE id = ?`)
	if err != nil {
		return nil, err
	}
	defer get.Close()
	out := make([]store.ExecutionRow, 0, len(keys))
	for _, k := range keys {
		e, err := scanExecution(get.QueryRowContext(ctx, k.id))
		if err != nil {
			return nil, fmt.Errorf("execution %q: %w", k.id, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// queryStrings runs a query whose rows are one string each.
func queryStrings(ctx context.Context, tx *sql.Tx, q string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// executionListQuery builds the SELECT of a listing: f's filters, the
// keyset cursor (AfterTime, AfterID) and the (start_ns, id) order.
func executionListQuery(f store.ExecutionFilter) (string, []any) {
	return executionListQueryOf(executionColumns, f)
}

// executionListQueryOf is executionListQuery selecting columns.
func executionListQueryOf(columns string, f store.ExecutionFilter) (string, []any) {
	var (
		where []string
		args  []any
	)
	if f.FunctionName != "" {
		where = append(where, `function_name = ?`)
		args = append(args, f.FunctionName)
	}
	if f.Version != "" {
		where = append(where, `function_version = ?`)
		args = append(args, f.Version)
	}
	if f.Name != "" {
		where = append(where, `name = ?`)
		args = append(args, f.Name)
	}
	if len(f.Statuses) > 0 {
		where = append(where, `status IN (?`+strings.Repeat(`, ?`, len(f.Statuses)-1)+`)`)
		for _, st := range f.Statuses {
			args = append(args, st)
		}
	}
	if !f.StartedAfter.IsZero() {
		where = append(where, `start_ns > ?`)
		args = append(args, toNanos(f.StartedAfter))
	}
	if !f.StartedBefore.IsZero() {
		where = append(where, `start_ns < ?`)
		args = append(args, toNanos(f.StartedBefore))
	}
	cmpOp, order := `<`, `DESC`
	if f.OldestFirst {
		cmpOp, order = `>`, `ASC`
	}
	if !f.AfterTime.IsZero() {
		// Spelled out rather than as a row-value comparison, which not
		// every SQL engine plans onto the index. The redundant inclusive
		// bound is what the planner turns into an index range, so that a
		// page deep in the listing starts at its cursor instead of
		// scanning the rows before it.
		where = append(where, `start_ns `+cmpOp+`= ?`, `(start_ns `+cmpOp+` ? OR (start_ns = ? AND id `+cmpOp+` ?))`)
		at := toNanos(f.AfterTime)
		args = append(args, at, at, at, f.AfterID)
	}
	q := `SELECT ` + columns + ` FROM executions`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	q += ` ORDER BY start_ns ` + order + `, id ` + order
	if f.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	return q, args
}

// leasedExecutionsQuery reads the executions with a lease that belongs to
// an owner or expired before a time; it walks executions_by_lease_until,
// which holds only leased executions.
const leasedExecutionsQuery = `SELECT ` + executionColumns + ` FROM executions
	WHERE lease_owner <> '' AND (lease_owner = ? OR lease_until_ns < ?)
	ORDER BY lease_until_ns, id`

// ListLeasedExecutions returns executions with an invocation in flight
// whose lease belongs to owner or expired before now, earliest lease expiry
// first; see store.Store. A limit of zero or less means no limit.
func (s *Store) ListLeasedExecutions(ctx context.Context, owner string, now time.Time, limit int) ([]store.ExecutionRow, error) {
	q := leasedExecutionsQuery
	args := []any{owner, toNanos(now)}
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	out, err := s.queryExecutions(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: list leased executions: %w", err)
	}
	return out, nil
}

// queryExecutions runs a listing query on the read pool.
func (s *Store) queryExecutions(ctx context.Context, q string, args ...any) ([]store.ExecutionRow, error) {
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.ExecutionRow
	for rows.Next() {
		e, err := scanExecution(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// DeleteExecution removes an execution with its operations, events, timers
// and checkpoint responses in one transaction. It returns store.ErrNotFound
// when the execution does not exist.
func (s *Store) DeleteExecution(ctx context.Context, id string) (err error) {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite store: delete execution %q: begin: %w", id, err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	var (
		pk                     int64
		arn, fn, version, name string
	)
	err = tx.QueryRowContext(ctx, `DELETE FROM executions WHERE id = ? RETURNING pk, arn, function_name, function_version, name`,
		id).Scan(&pk, &arn, &fn, &version, &name)
	arn = loadedARN(arn, fn, version, name, id)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlite store: delete execution %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("sqlite store: delete execution %q: %w", id, err)
	}
	for _, table := range []string{"operations", "events", "timers"} {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE execution_pk = ?`, pk); err != nil {
			return fmt.Errorf("sqlite store: delete %s of execution %q: %w", table, id, err)
		}
	}
	// The function's log lines of this execution go with it (logs_by_execution
	// finds them); nothing else would ever delete them.
	if _, err := tx.ExecContext(ctx, `DELETE FROM logs WHERE execution_arn = ?`, arn); err != nil {
		return fmt.Errorf("sqlite store: delete logs of execution %q: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite store: delete execution %q: commit: %w", id, err)
	}
	return nil
}
