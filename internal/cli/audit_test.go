package cli

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/consentgate/consentgate/internal/app"
	_ "modernc.org/sqlite"
)

// auditData makes a data directory whose audit trail holds a few chained
// events: keys created by the operator and a user, all through the CLI.
func auditData(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	var out, errb bytes.Buffer
	for _, role := range []string{"owner", "support", "auditor"} {
		if code := Main(context.Background(), []string{"keys", "create", "--data", dir, "--tenant", "acme", "--role", role}, testEnv(&out, &errb)); code != 0 {
			t.Fatalf("keys create: %d %s", code, errb.String())
		}
	}
	env := testEnv(&out, &errb)
	env.Stdin = strings.NewReader("correct horse battery staple\n")
	if code := Main(context.Background(), []string{"users", "create", "--data", dir, "--tenant", "acme", "--email", "dpo@example.org", "--role", "compliance"}, env); code != 0 {
		t.Fatalf("users create: %d %s", code, errb.String())
	}
	if strings.Contains(out.String()+errb.String(), "correct horse") || strings.Contains(out.String()+errb.String(), "dpo@example.org") {
		t.Fatal("the command printed the password or the address")
	}
	return dir
}

func verifyAudit(t *testing.T, dir string) (int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), []string{"audit", "verify", "--data", dir}, testEnv(&out, &errb))
	return code, out.String() + errb.String()
}

// copyData copies a data directory, so that each tampering starts from
// the same intact trail.
func copyData(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	for _, name := range []string{app.DBFileName, "master.key"} {
		in, err := os.Open(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		out, err := os.OpenFile(filepath.Join(dst, name), os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(out, in)
		in.Close()
		out.Close()
	}
	return dst
}

func TestAuditVerifyDetectsTampering(t *testing.T) {
	dir := auditData(t)
	code, out := verifyAudit(t, dir)
	if code != 0 || !strings.Contains(out, "audit chain ok: 4 events chained (head 4), 0 waiting") {
		t.Fatalf("intact trail: exit %d: %s", code, out)
	}
	for _, tc := range []struct {
		name, sql, want string
	}{
		{"edited action", `UPDATE audit_events SET action = 'key.list' WHERE chain_pos = 2`, "position 2"},
		{"edited actor", `UPDATE audit_events SET actor_id = 'someone' WHERE chain_pos = 3`, "position 3"},
		{"deleted event", `DELETE FROM audit_events WHERE chain_pos = 2`, "position 2 is missing"},
		{"deleted newest", `DELETE FROM audit_events WHERE chain_pos = 4`, "newest events were deleted"},
		{"reordered", `UPDATE audit_events SET chain_pos = -chain_pos WHERE chain_pos IN (2, 3);
			UPDATE audit_events SET chain_pos = 5 + chain_pos WHERE chain_pos IN (-2, -3)`, "position 2"},
		{"rewritten hash", `UPDATE audit_events SET chain_hash = zeroblob(32) WHERE chain_pos = 1`, "position 1"},
		{"head moved back alone", `UPDATE audit_chain SET pos = 3`, "position 3"},
		{"head rolled back with its hash", `UPDATE audit_chain SET pos = 3, hash = (SELECT chain_hash FROM audit_events WHERE chain_pos = 3)`,
			"head was rolled back"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := copyData(t, dir)
			db, err := sql.Open("sqlite", filepath.Join(d, app.DBFileName))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(tc.sql); err != nil {
				t.Fatal(err)
			}
			db.Close()
			code, out := verifyAudit(t, d)
			if code == 0 || !strings.Contains(out, tc.want) {
				t.Fatalf("exit %d, want a failure naming %q: %s", code, tc.want, out)
			}
		})
	}
}
