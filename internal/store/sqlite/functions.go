package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/duro-run/duro/internal/store"
)

// latest is the version name that sorts before every published version.
const latest = "$LATEST"

// Function writes bypass the group committer: they are rare, and the writer
// pool's single connection already serializes them with the committer's
// transactions.

// CreateFunction inserts a function version with revision 1; see
// store.Store.
func (s *Store) CreateFunction(ctx context.Context, f store.FunctionRow) error {
	_, err := s.writer.ExecContext(ctx,
		`INSERT INTO functions (name, version, revision, data) VALUES (?, ?, ?, ?)`,
		f.Name, f.Version, int64(1), f.Data)
	if isUniqueViolation(err) {
		return fmt.Errorf("sqlite store: create function %q version %q: %w", f.Name, f.Version, store.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("sqlite store: create function %q version %q: %w", f.Name, f.Version, err)
	}
	return nil
}

// UpdateFunction replaces a function version at the expected revision; see
// store.Store.
func (s *Store) UpdateFunction(ctx context.Context, f store.FunctionRow) error {
	res, err := s.writer.ExecContext(ctx,
		`UPDATE functions SET revision = ?, data = ? WHERE name = ? AND version = ? AND revision = ?`,
		f.Revision+1, f.Data, f.Name, f.Version, f.Revision)
	if err != nil {
		return fmt.Errorf("sqlite store: update function %q version %q: %w", f.Name, f.Version, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite store: update function %q version %q: %w", f.Name, f.Version, err)
	}
	if n == 1 {
		return nil
	}
	var one int
	err = s.writer.QueryRowContext(ctx,
		`SELECT 1 FROM functions WHERE name = ? AND version = ?`, f.Name, f.Version).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("sqlite store: update function %q version %q: %w", f.Name, f.Version, store.ErrNotFound)
	case err != nil:
		return fmt.Errorf("sqlite store: update function %q version %q: %w", f.Name, f.Version, err)
	}
	return fmt.Errorf("sqlite store: update function %q version %q at revision %d: %w",
		f.Name, f.Version, f.Revision, store.ErrConflict)
}

// GetFunction returns one function version; see store.Store.
func (s *Store) GetFunction(ctx context.Context, name, version string) (store.FunctionRow, error) {
	f := store.FunctionRow{Name: name, Version: version}
	err := s.queryRow(ctx,
		`SELECT revision, data FROM functions WHERE name = ? AND version = ?`, name, version).
		Scan(&f.Revision, &f.Data)
	if errors.Is(err, sql.ErrNoRows) {
		return store.FunctionRow{}, fmt.Errorf("sqlite store: function %q version %q: %w", name, version, store.ErrNotFound)
	}
	if err != nil {
		return store.FunctionRow{}, fmt.Errorf("sqlite store: get function %q version %q: %w", name, version, err)
	}
	return f, nil
}

// ListFunctions returns "$LATEST" rows by name; see store.Store. A limit of
// zero or less means no limit.
func (s *Store) ListFunctions(ctx context.Context, afterName string, limit int) ([]store.FunctionRow, error) {
	q := `SELECT name, version, revision, data FROM functions
		WHERE version = ? AND name > ? ORDER BY name`
	args := []any{latest, afterName}
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	rows, err := s.queryFunctions(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: list functions: %w", err)
	}
	return rows, nil
}

// ListFunctionVersions returns every version of a function, "$LATEST" first
// and then by version number; see store.Store.
func (s *Store) ListFunctionVersions(ctx context.Context, name string) ([]store.FunctionRow, error) {
	rows, err := s.queryFunctions(ctx,
		`SELECT name, version, revision, data FROM functions WHERE name = ?`, name)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: list versions of function %q: %w", name, err)
	}
	// Sorting here rather than in SQL keeps numeric ordering portable
	// across databases with different casting rules.
	slices.SortFunc(rows, func(a, b store.FunctionRow) int { return compareVersions(a.Version, b.Version) })
	return rows, nil
}

// compareVersions orders "$LATEST" first, then numeric versions by value,
// then anything else lexically.
func compareVersions(a, b string) int {
	rank := func(v string) (int, uint64) {
		if v == latest {
			return 0, 0
		}
		if n, err := strconv.ParseUint(v, 10, 64); err == nil {
			return 1, n
		}
		return 2, 0
	}
	ra, na := rank(a)
	rb, nb := rank(b)
	if c := cmp.Compare(ra, rb); c != 0 {
		return c
	}
	if c := cmp.Compare(na, nb); c != 0 {
		return c
	}
	return cmp.Compare(a, b)
}

// DeleteFunction removes one version, or all versions when version is "".
// It returns store.ErrNotFound when nothing matched.
func (s *Store) DeleteFunction(ctx context.Context, name, version string) error {
	var (
		res sql.Result
		err error
	)
	if version == "" {
		res, err = s.writer.ExecContext(ctx, `DELETE FROM functions WHERE name = ?`, name)
	} else {
		res, err = s.writer.ExecContext(ctx, `DELETE FROM functions WHERE name = ? AND version = ?`, name, version)
	}
	if err != nil {
		return fmt.Errorf("sqlite store: delete function %q version %q: %w", name, version, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite store: delete function %q version %q: %w", name, version, err)
	}
	if n == 0 {
		return fmt.Errorf("sqlite store: delete function %q version %q: %w", name, version, store.ErrNotFound)
	}
	return nil
}

func (s *Store) queryFunctions(ctx context.Context, q string, args ...any) ([]store.FunctionRow, error) {
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.FunctionRow
	for rows.Next() {
		var f store.FunctionRow
		if err := rows.Scan(&f.Name, &f.Version, &f.Revision, &f.Data); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}
