package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/consentgate/consentgate/internal/app"
	"github.com/consentgate/consentgate/internal/audit"
	"github.com/consentgate/consentgate/internal/service"
)

// auditCmd checks the audit trail's hash chain from its first event: every
// event rehashed in chain order, every position present, the stored head
// matching the last event. It reports the first break precisely and exits
// non-zero.
func auditCmd(ctx context.Context, args []string, env Env) error {
	if len(args) == 0 || args[0] != "verify" {
		return errUsage{"usage: consentgate audit verify --data DIR"}
	}
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	cfg, err := app.Load(fs, args[1:], env.Getenv)
	if err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return errUsage{err.Error()}
	}
	if cfg.DB == "" {
		if _, err := os.Stat(filepath.Join(cfg.Data, app.DBFileName)); err != nil {
			return fmt.Errorf("no consentgate database in %s", cfg.Data)
		}
	}
	st, _, err := app.OpenStore(ctx, cfg, slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		return err
	}
	defer st.Close()
	rep, err := service.VerifyAuditChain(ctx, st)
	var br *audit.Break
	if errors.As(err, &br) {
		fmt.Fprintln(env.Stderr, "audit:", br)
		return fmt.Errorf("verification failed: %d events verified before the break", rep.Chained)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "audit chain ok: %d events chained (head %d), %d waiting for the chainer; last hash %s\n",
		rep.Chained, rep.Head, rep.Unchained, rep.Root)
	return nil
}
