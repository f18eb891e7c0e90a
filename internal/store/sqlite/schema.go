package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// schemaVersion is the version this code writes and understands. Bump it
// and add a step to migrate when the schema changes.
const schemaVersion = 1

// schemaV1 creates the version 1 schema. Every statement is idempotent so
// that Open can run them on an existing database. Timestamps are integer
// Unix nanoseconds, 0 meaning "not set".
var schemaV1 = []string{
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
		id               TEXT   NOT NULL PRIMARY KEY,
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
	`CREATE INDEX IF NOT EXISTS executions_by_start
		ON executions (function_name, start_ns, id)`,
	// Partial indexes keep the lease scans proportional to the executions
	// with an invocation in flight, not to the whole history.
	`CREATE INDEX IF NOT EXISTS executions_by_lease_until
		ON executions (lease_until_ns) WHERE lease_owner <> ''`,
	`CREATE INDEX IF NOT EXISTS executions_by_lease_owner
		ON executions (lease_owner, lease_until_ns) WHERE lease_owner <> ''`,
	`CREATE TABLE IF NOT EXISTS operations (
		execution_id TEXT   NOT NULL,
		operation_id TEXT   NOT NULL,
		seq          BIGINT NOT NULL,
		data         BLOB,
		PRIMARY KEY (execution_id, operation_id)
	)`,
	`CREATE TABLE IF NOT EXISTS events (
		execution_id TEXT   NOT NULL,
		event_id     BIGINT NOT NULL,
		data         BLOB,
		PRIMARY KEY (execution_id, event_id)
	)`,
	`CREATE TABLE IF NOT EXISTS timers (
		execution_id TEXT   NOT NULL,
		key          TEXT   NOT NULL,
		due_ns       BIGINT NOT NULL,
		data         BLOB,
		PRIMARY KEY (execution_id, key)
	)`,
	// Timers are read in (due_ns, execution_id, key) order; an index on
	// due_ns alone made NextTimer sort every timer (0.5 s with two million).
	`CREATE INDEX IF NOT EXISTS timers_by_due_key
		ON timers (due_ns, execution_id, key)`,
	`CREATE TABLE IF NOT EXISTS dedup (
		execution_id     TEXT   NOT NULL,
		checkpoint_token TEXT   NOT NULL,
		client_token     TEXT   NOT NULL,
		created_ns       BIGINT NOT NULL,
		response         BLOB,
		PRIMARY KEY (execution_id, checkpoint_token, client_token)
	)`,
	`CREATE INDEX IF NOT EXISTS dedup_by_created
		ON dedup (created_ns)`,
}

// schemaLogs adds the function log table. It is purely additive (a binary
// that predates it never reads it), so it goes in without a version bump:
// Open creates it on databases of any version-1 vintage.
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

// schemaConsole adds the indexes of the cross-function execution listing
// (ListAllExecutions, the web console's list): newest first over every
// function, by status and by execution name. Like schemaLogs it is
// additive and goes in without a version bump; CREATE INDEX IF NOT EXISTS
// builds them once on an existing database.
var schemaConsole = []string{
	`CREATE INDEX IF NOT EXISTS executions_all_by_start
		ON executions (start_ns, id)`,
	`CREATE INDEX IF NOT EXISTS executions_by_status
		ON executions (status, start_ns, id)`,
	`CREATE INDEX IF NOT EXISTS executions_by_name
		ON executions (name, start_ns, id)`,
}

// schemaIndexes revises indexes; like schemaLogs it needs no version bump.
// A listing of one function by status (ListDurableExecutionsByFunction with
// Statuses) otherwise walked every execution of that status of every
// function.
//
// operations_by_seq is gone: an execution's operations are only ever read
// whole (ListOperations sorts that execution's rows by seq), while the
// index cost a B-tree insert, and a page in the WAL, for every new
// operation on the checkpoint path.
var schemaIndexes = []string{
	`DROP INDEX IF EXISTS timers_by_due`,
	`DROP INDEX IF EXISTS operations_by_seq`,
	`CREATE INDEX IF NOT EXISTS executions_by_function_status
		ON executions (function_name, status, start_ns, id)`,
}

// migrate creates the schema if it is missing and refuses a database
// written by a newer schema, all in one transaction so that a crash never
// leaves a half-created schema behind.
func migrate(ctx context.Context, db *sql.DB) (err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()

	stmts := append(schemaV1[:len(schemaV1):len(schemaV1)], schemaLogs...)
	stmts = append(stmts, schemaConsole...)
	for _, stmt := range append(stmts, schemaIndexes...) {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("migrate: create schema: %w", err)
		}
	}

	var current int64
	err = tx.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&current)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (?)`, schemaVersion); err != nil {
			return fmt.Errorf("migrate: record schema version: %w", err)
		}
	case err != nil:
		return fmt.Errorf("migrate: read schema version: %w", err)
	case current > schemaVersion:
		return fmt.Errorf("migrate: database schema version %d is newer than supported version %d", current, schemaVersion)
	}

	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate: commit: %w", err)
	}
	return nil
}
