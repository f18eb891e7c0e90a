package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// schemaVersion is the version this code writes and understands. Bump it
// and add a step to migrate when the schema changes.
//
// Version 2 keys an execution's child rows (operations, events, timers,
// checkpoint responses) by the execution row's integer pk instead of its
// 36-character ID: the index entries a checkpoint writes are a few bytes
// instead of about 50, so the entries of the executions in flight share
// fewer pages, and a group commit writes fewer pages to the WAL.
//
// Version 3 changes no table, only what rows hold: the arn column keeps an
// ARN's prefix when the row's other columns spell the rest (arn.go).
// Version 2 rows read as they are, so a version 2 database only has its
// number raised; but a build that knows only version 2 would misread
// version 3 rows, and the number is what makes it refuse them.
const schemaVersion = 3

// schemaTables creates the tables of the current schema, and schemaTableIndexes
// their indexes (apart, so that a migration can create the indexes once
// the tables of the previous version, which own indexes of the same names,
// are gone). Every statement is idempotent so that Open can run them on an
// existing database. Timestamps are integer Unix nanoseconds, 0 meaning
// "not set".
//
// executions.pk is SQLite's rowid (a PostgreSQL port would use a BIGINT
// identity column): new executions get increasing pks, so the rows of
// executions started together are neighbours in every child table.
var schemaTables = []string{
	`CREATE TABLE IF NOT EXISTS schema_version (
		version BIGINT NOT NULL
	)`,
	`CREATE TABLE IF NOT EXISTS functions (
		name     TEXT   NOT NULL,
		version  TEXT   NOT NULL,
		revision BIGINT NOT NULL,
		data     BLOB,
		PRIMARY KEY (name, version)
	)`,
	`CREATE TABLE IF NOT EXISTS executions (
		pk               INTEGER PRIMARY KEY,
		id               TEXT   NOT NULL UNIQUE,
		arn              TEXT   NOT NULL,
		function_name    TEXT   NOT NULL,
		function_version TEXT   NOT NULL,
		name             TEXT   NOT NULL,
		status           TEXT   NOT NULL,
		start_ns         BIGINT NOT NULL,
		end_ns           BIGINT NOT NULL,
		revision         BIGINT NOT NULL,
		lease_owner      TEXT   NOT NULL,
		lease_until_ns   BIGINT NOT NULL,
		data             BLOB,
		UNIQUE (function_name, name)
	)`,
	`CREATE TABLE IF NOT EXISTS operations (
		execution_pk BIGINT NOT NULL,
		operation_id TEXT   NOT NULL,
		seq          BIGINT NOT NULL,
		data         BLOB,
		PRIMARY KEY (execution_pk, operation_id)
	)`,
	`CREATE TABLE IF NOT EXISTS events (
		execution_pk BIGINT NOT NULL,
		event_id     BIGINT NOT NULL,
		data         BLOB,
		PRIMARY KEY (execution_pk, event_id)
	)`,
	`CREATE TABLE IF NOT EXISTS timers (
		execution_pk BIGINT NOT NULL,
		key          TEXT   NOT NULL,
		due_ns       BIGINT NOT NULL,
		data         BLOB,
		PRIMARY KEY (execution_pk, key)
	)`,
}

var schemaTableIndexes = []string{
	`CREATE INDEX IF NOT EXISTS executions_by_start
		ON executions (function_name, start_ns, id)`,
	// A partial index keeps the lease scan proportional to the executions
	// with an invocation in flight, not to the whole history.
	`CREATE INDEX IF NOT EXISTS executions_by_lease_until
		ON executions (lease_until_ns) WHERE lease_owner <> ''`,
	// Timers are read in (due_ns, execution_pk, key) order; an index on
	// due_ns alone made NextTimer sort every timer (0.5 s with two million).
	`CREATE INDEX IF NOT EXISTS timers_by_due_key
		ON timers (due_ns, execution_pk, key)`,
}

// migrateV1Rename and migrateV1Copy turn a version 1 database into
// version 2, with schemaTables run between them: the child tables move from
// the execution's ID to its pk, which is the version 1 row's rowid, so
// executions keep their order. Child rows of executions that no longer
// exist (a timer set for a deleted execution) are left behind. The old
// tables are renamed out of the way first and dropped, with their indexes,
// before the caller creates the new indexes.
var migrateV1Rename = []string{
	`ALTER TABLE executions RENAME TO v1_executions`,
	`ALTER TABLE operations RENAME TO v1_operations`,
	`ALTER TABLE events RENAME TO v1_events`,
	`ALTER TABLE timers RENAME TO v1_timers`,
}

var migrateV1Copy = []string{
	`INSERT INTO executions (pk, id, arn, function_name, function_version, name, status,
		start_ns, end_ns, revision, lease_owner, lease_until_ns, data)
		SELECT rowid, id, arn, function_name, function_version, name, status,
		start_ns, end_ns, revision, lease_owner, lease_until_ns, data
		FROM v1_executions ORDER BY rowid`,
	`INSERT INTO operations (execution_pk, operation_id, seq, data)
		SELECT e.pk, o.operation_id, o.seq, o.data
		FROM v1_operations o CROSS JOIN executions e WHERE e.id = o.execution_id`,
	`INSERT INTO events (execution_pk, event_id, data)
		SELECT e.pk, v.event_id, v.data
		FROM v1_events v CROSS JOIN executions e WHERE e.id = v.execution_id`,
	`INSERT INTO timers (execution_pk, key, due_ns, data)
		SELECT e.pk, t.key, t.due_ns, t.data
		FROM v1_timers t CROSS JOIN executions e WHERE e.id = t.execution_id`,
	`DROP TABLE v1_executions`,
	`DROP TABLE v1_operations`,
	`DROP TABLE v1_events`,
	`DROP TABLE v1_timers`,
}

// schemaLogs adds the function log table. It is purely additive (a binary
// that predates it never reads it), so it goes in without a version bump:
// Open creates it on databases of any vintage.
//
// The ID column is SQLite's AUTOINCREMENT rowid, which never reuses an ID
// even after the newest rows are pruned, so that a reader's position stays
// valid; a PostgreSQL port would use a BIGINT identity column instead.
var schemaLogs = []string{
	`CREATE TABLE IF NOT EXISTS logs (
		id               INTEGER PRIMARY KEY AUTOINCREMENT,
		time_ns          BIGINT NOT NULL,
		function_name    TEXT   NOT NULL,
		function_version TEXT   NOT NULL,
		request_id       TEXT   NOT NULL,
		execution_arn    TEXT   NOT NULL,
		stream           TEXT   NOT NULL,
		message          TEXT   NOT NULL
	)`,
	// Readers follow one execution, or one function, in ID order.
	`CREATE INDEX IF NOT EXISTS logs_by_execution
		ON logs (execution_arn, id)`,
	`CREATE INDEX IF NOT EXISTS logs_by_function
		ON logs (function_name, id)`,
	`CREATE INDEX IF NOT EXISTS logs_by_time
		ON logs (time_ns)`,
}

// schemaIndexes revises indexes; like schemaLogs it needs no version bump.
// A listing of one function by status (ListDurableExecutionsByFunction with
// Statuses) otherwise walked every execution of that status of every
// function.
//
// executions_by_lease_owner is gone: ListLeasedExecutions walks
// executions_by_lease_until (SQLite's plan never used the owner index for
// its "this owner's or expired" condition), while every invocation's lease
// cost an insert and a delete in it.
//
// operations_by_seq is gone: an execution's operations are only ever read
// whole (ListOperations sorts that execution's rows by seq), while the
// index cost a B-tree insert, and a page in the WAL, for every new
// operation on the checkpoint path.
//
// The console's three cross-function indexes (executions_all_by_start,
// executions_by_status, executions_by_name) are gone: ListAllExecutions
// merges per-function listings instead (executions.go), served by
// executions_by_start, executions_by_function_status and the unique
// (function_name, name) index. Every new execution cost an entry in each of
// the three, every finished one two more in executions_by_status: under
// checkpoint load, 4.5 of the 42 pages an average transaction wrote to the
// WAL (bench/README.md, fifteenth session).
//
// The dedup table (stored checkpoint responses, with its index) is gone
// too: the engine never wrote it, keeping the last accepted checkpoint's
// answer in the execution's own record instead (a ClientToken retry can
// only be of that one), so every database's table was empty. A binary
// that predates this creates it again, empty, and never writes it either.
var schemaIndexes = []string{
	`DROP TABLE IF EXISTS dedup`,
	`DROP INDEX IF EXISTS timers_by_due`,
	`DROP INDEX IF EXISTS operations_by_seq`,
	`DROP INDEX IF EXISTS executions_by_lease_owner`,
	`DROP INDEX IF EXISTS executions_all_by_start`,
	`DROP INDEX IF EXISTS executions_by_status`,
	`DROP INDEX IF EXISTS executions_by_name`,
	`CREATE INDEX IF NOT EXISTS executions_by_function_status
		ON executions (function_name, status, start_ns, id)`,
}

// migrate creates the schema if it is missing, upgrades a version 1
// database, and refuses a database written by a newer schema, all in one
// transaction so that a crash never leaves a half-created or
// half-migrated schema behind.
func migrate(ctx context.Context, db *sql.DB, log *slog.Logger) (err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	exec := func(stmts []string) error {
		for _, stmt := range stmts {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("migrate: %.60q: %w", stmt, err)
			}
		}
		return nil
	}

	current, err := readSchemaVersion(ctx, tx)
	if err != nil {
		return err
	}
	if current > schemaVersion {
		return fmt.Errorf("migrate: database schema version %d is newer than supported version %d", current, schemaVersion)
	}
	var (
		start      = time.Now()
		executions int64
	)
	if current == 1 {
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM executions`).Scan(&executions); err != nil {
			return fmt.Errorf("migrate: count executions: %w", err)
		}
		// One transaction: the WAL holds a copy of every migrated row until
		// COMMIT, so the disk needs about the store's size free meanwhile.
		log.Info("migrating the store's schema from version 1 to 2 in one transaction",
			"executions", executions)
		for _, stmts := range [][]string{migrateV1Rename, schemaTables, migrateV1Copy} {
			if err := exec(stmts); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE schema_version SET version = ?`, schemaVersion); err != nil {
			return fmt.Errorf("migrate: record schema version: %w", err)
		}
	}
	if current == 2 {
		if _, err := tx.ExecContext(ctx, `UPDATE schema_version SET version = ?`, schemaVersion); err != nil {
			return fmt.Errorf("migrate: record schema version: %w", err)
		}
	}
	// Every statement from here on is idempotent and runs at every Open:
	// the current tables (created here on an empty database), their
	// indexes and the additive revisions.
	if err := exec(schemaTables); err != nil {
		return err
	}
	if current == 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (?)`, schemaVersion); err != nil {
			return fmt.Errorf("migrate: record schema version: %w", err)
		}
	}
	for _, stmts := range [][]string{schemaTableIndexes, schemaLogs, schemaIndexes} {
		if err := exec(stmts); err != nil {
			return err
		}
	}

	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate: commit: %w", err)
	}
	if current == 1 {
		log.Info("migrated the store's schema to version 2", "executions", executions,
			"elapsed", time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// readSchemaVersion returns the database's schema version, 0 for an empty
// database.
func readSchemaVersion(ctx context.Context, tx *sql.Tx) (int64, error) {
	var n int
	if err := tx.QueryRowContext(ctx,
		`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'`).Scan(&n); err != nil {
		return 0, fmt.Errorf("migrate: look for the schema version: %w", err)
	}
	if n == 0 {
		return 0, nil
	}
	var v int64
	err := tx.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&v)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, nil
	case err != nil:
		return 0, fmt.Errorf("migrate: read schema version: %w", err)
	}
	return v, nil
}
