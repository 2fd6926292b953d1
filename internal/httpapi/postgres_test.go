package httpapi

import (
	"testing"

	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/store/postgres/pgtest"
)

// openPostgres is the store factory of the PostgreSQL scenario run: every
// scenario gets a schema of its own (see pgtest for how to point the tests
// at a server, and when they skip).
func openPostgres(t testing.TB) store.Store { return pgtest.Open(t) }

// TestScenariosPostgres runs the same scenario table as TestScenarios on
// PostgreSQL.
func TestScenariosPostgres(t *testing.T) {
	pgtest.DSN(t) // skip (or fail under CI) once, not in every scenario
	runScenarios(t, openPostgres)
}
