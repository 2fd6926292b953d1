// Package pgtest gives tests a PostgreSQL schema of their own on the server
// named by CONSENTGATE_TEST_POSTGRES, so that any package's tests can run
// against real PostgreSQL without sharing state. When the server cannot be
// reached the tests are skipped with the reason, except under CI=true, where
// a missing database must fail the build rather than pass it silently.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/store/postgres"
	"github.com/jackc/pgx/v5"
)

// EnvDSN names the environment variable holding the test server's DSN.
const EnvDSN = "CONSENTGATE_TEST_POSTGRES"

// DefaultDSN is used when EnvDSN is unset: the local development server.
const DefaultDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

var (
	reachOnce sync.Once
	reachErr  error
)

// DSN returns the test server's DSN once it has answered, or ends the test:
// skipped when no server is reachable, failed when CI=true.
func DSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(EnvDSN)
	if dsn == "" {
		dsn = DefaultDSN
	}
	reachOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err == nil {
			err = conn.Ping(ctx)
			conn.Close(ctx)
		}
		reachErr = err
	})
	if reachErr != nil {
		msg := "PostgreSQL at " + Redact(dsn) + " is not reachable (" + reachErr.Error() + "); " +
			"start it or set " + EnvDSN + " to a server's DSN to run the PostgreSQL tests"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + " (CI=true: failing instead of skipping)")
		}
		t.Skip(msg)
	}
	return dsn
}

// Schema creates an empty schema cg_test_<random>, dropped with everything
// in it when the test ends, and returns a DSN whose connections use it.
func Schema(t testing.TB) (dsn, schema string) {
	t.Helper()
	base := DSN(t)
	var b [6]byte
	rand.Read(b[:])
	schema = "cg_test_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("pgtest: create schema: %v", err)
	}
	t.Cleanup(func() { DropSchema(t, schema) })
	return WithSearchPath(base, schema), schema
}

// DropSchema drops a schema with everything in it.
func DropSchema(t testing.TB, schema string) {
	t.Helper()
	dsn := DSN(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Errorf("pgtest: drop schema %s: %v", schema, err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "SET lock_timeout = '10s'; DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
		t.Errorf("pgtest: drop schema %s: %v", schema, err)
	}
}

// Open opens a store in a fresh schema, closed and dropped when the test
// ends.
func Open(t testing.TB) *postgres.DB {
	t.Helper()
	dsn, _ := Schema(t)
	db, err := postgres.Open(context.Background(), dsn, postgres.Options{MaxConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// WithSearchPath returns dsn with its connections' search_path set to
// schema. It understands both the URL and the key=value form.
func WithSearchPath(dsn, schema string) string {
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return strings.TrimSpace(dsn) + " search_path=" + schema
}

// Redact hides the password of a URL DSN, for messages.
func Redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		return u.Redacted()
	}
	return "(the configured DSN)"
}
