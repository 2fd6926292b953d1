package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrate applies the numbered migrations that have not run yet, each in its
// own transaction together with the row that records it. Every transaction
// first takes an advisory lock for the schema, so nodes that start together
// queue up: the first applies a migration, the others then find its row and
// skip it. The files are append-only: a released migration is never edited.
func (db *DB) migrate(ctx context.Context) error {
	if db.schema != "" {
		err := db.locked(ctx, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, fmt.Sprintf(qCreateSchema, pgx.Identifier{db.schema}.Sanitize()))
			return err
		})
		if err != nil {
			return fmt.Errorf("postgres: schema %s: %w", db.schema, mapErr(err))
		}
	} else {
		var schema *string
		if err := db.pool.QueryRow(ctx, qCurrentSchema).Scan(&schema); err != nil {
			return fmt.Errorf("postgres: %w", mapErr(err))
		}
		if schema == nil {
			return errors.New("postgres: the search_path names no existing schema")
		}
		db.schema = *schema
	}
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(files)
	for _, f := range files {
		name := strings.TrimPrefix(f, "migrations/")
		v, err := strconv.Atoi(strings.SplitN(name, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("postgres: migration %s: name must start with a number", name)
		}
		body, err := migrations.ReadFile(f)
		if err != nil {
			return err
		}
		if err := db.locked(ctx, func(tx pgx.Tx) error { return apply(ctx, tx, v, name, string(body)) }); err != nil {
			return fmt.Errorf("postgres: migration %s: %w", name, mapErr(err))
		}
	}
	return nil
}

// locked runs fn in a transaction holding the schema's migration lock.
func (db *DB) locked(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, qMigrateLock, db.schema); err != nil {
			return err
		}
		return fn(tx)
	})
}

func apply(ctx context.Context, tx pgx.Tx, version int, name, body string) error {
	if _, err := tx.Exec(ctx, qSchemaTable); err != nil {
		return err
	}
	var done bool
	if err := tx.QueryRow(ctx, qMigrationApplied, version).Scan(&done); err != nil {
		return err
	}
	if done {
		return nil
	}
	if _, err := tx.Exec(ctx, body); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, qRecordMigration, version, name)
	return err
}
