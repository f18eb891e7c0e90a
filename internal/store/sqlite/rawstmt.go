package sqlite

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
)

// rawStmt is one of the committer's statements, prepared on the writer's
// driver connection and run without database/sql. On the checkpoint path
// database/sql cost a fifth of the committer's CPU, all of it inside the
// serial section: binding the set to each transaction, converting and
// checking every argument, locking per call, and parsing BEGIN and COMMIT
// anew for every transaction. The committer reaches the driver connection
// through sql.Conn.Raw, once per batch, so the pool still owns the
// connection and the store's other writes still go through it.
type rawStmt struct {
	query string
	stmt  driver.Stmt
	// args is reused from call to call: only the committer goroutine runs
	// these statements, and the driver is done with the values when a call
	// returns (it copies strings and blobs into SQLite's memory).
	args []driver.NamedValue
}

// errNoRow is what queryInt64 returns when the query yields no row.
var errNoRow = errors.New("sqlite store: no row")

// bind turns args into the driver's values. The committer passes only
// int64, string, []byte and nil, which are driver values as they are; any
// other type goes through database/sql's default conversion, as before.
func (r *rawStmt) bind(args []any) error {
	r.args = r.args[:0]
	for i, a := range args {
		v := driver.Value(a)
		switch a.(type) {
		case int64, string, []byte, nil:
		default:
			var err error
			if v, err = driver.DefaultParameterConverter.ConvertValue(a); err != nil {
				return fmt.Errorf("sqlite store: argument %d of %q: %w", i+1, r.query, err)
			}
		}
		r.args = append(r.args, driver.NamedValue{Ordinal: i + 1, Value: v})
	}
	return nil
}

// exec runs the statement with args.
func (r *rawStmt) exec(args ...any) (driver.Result, error) {
	if err := r.bind(args); err != nil {
		return nil, err
	}
	res, err := r.stmt.(driver.StmtExecContext).ExecContext(context.Background(), r.args)
	clear(r.args) // let the collector have the values
	return res, err
}

// queryInt64 runs a query whose first column is an integer and returns
// that column of its first row, or errNoRow.
func (r *rawStmt) queryInt64(args ...any) (int64, error) {
	if err := r.bind(args); err != nil {
		return 0, err
	}
	rows, err := r.stmt.(driver.StmtQueryContext).QueryContext(context.Background(), r.args)
	clear(r.args)
	if err != nil {
		return 0, err
	}
	dest := make([]driver.Value, len(rows.Columns()))
	err = rows.Next(dest)
	cerr := rows.Close()
	switch {
	case err != nil && !errors.Is(err, io.EOF):
		return 0, err
	case cerr != nil:
		return 0, cerr
	case err != nil:
		return 0, errNoRow
	}
	v, ok := dest[0].(int64)
	if !ok {
		return 0, fmt.Errorf("sqlite store: %q gave a %T, not an integer", r.query, dest[0])
	}
	return v, nil
}

// prepareRaw prepares query on the driver connection dc.
func prepareRaw(dc any, query string) (*rawStmt, error) {
	p, ok := dc.(driver.ConnPrepareContext)
	if !ok {
		return nil, fmt.Errorf("sqlite store: driver connection %T cannot prepare with a context", dc)
	}
	stmt, err := p.PrepareContext(context.Background(), query)
	if err != nil {
		return nil, fmt.Errorf("prepare %q: %w", query, err)
	}
	if _, ok := stmt.(driver.StmtExecContext); !ok {
		stmt.Close()
		return nil, fmt.Errorf("sqlite store: driver statement %T cannot execute with a context", stmt)
	}
	if _, ok := stmt.(driver.StmtQueryContext); !ok {
		stmt.Close()
		return nil, fmt.Errorf("sqlite store: driver statement %T cannot query with a context", stmt)
	}
	return &rawStmt{query: query, stmt: stmt}, nil
}
