//go:build race

package outbox_test

// raceEnabled shrinks the load tests under the race detector, which makes
// the embedded SQLite (C translated to Go) some twenty times slower.
const raceEnabled = true
