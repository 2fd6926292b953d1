package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/consentgate/consentgate/internal/app"
	"github.com/consentgate/consentgate/internal/apperr"
	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/index"
	"github.com/consentgate/consentgate/internal/service"
)

func keys(ctx context.Context, args []string, env Env) error {
	if len(args) > 0 && args[0] == "rotate" {
		return keysRotate(ctx, args[1:], env) // privacy.go
	}
	if len(args) > 0 && args[0] == "rotate-master" {
		return keysRotateMaster(ctx, args[1:], env)
	}
	if len(args) == 0 || args[0] != "create" {
		return errUsage{"usage: consentgate keys create --data DIR --tenant NAME --role ROLE [--label TEXT] [--expires 90d]\n" +
			"       consentgate keys rotate --data DIR (--tenant NAME | --all-tenants) [--index]\n       consentgate keys rotate-master --data DIR --new-key-file FILE"}
	}
	fs := flag.NewFlagSet("keys create", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	tenant := fs.String("tenant", "", "tenant name (created when it does not exist)")
	role := fs.String("role", "", "role: "+roleList())
	label := fs.String("label", "", "a label to recognise the key by")
	expires := fs.String("expires", "", "lifetime, e.g. 90d or 720h (default: no expiry)")
	cfg, err := app.Load(fs, args[1:], env.Getenv)
	if err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return errUsage{err.Error()}
	}
	if *tenant == "" {
		return errUsage{"--tenant is required"}
	}
	r, err := auth.ParseRole(*role)
	if err != nil {
		return errUsage{err.Error()}
	}
	var exp time.Time
	if *expires != "" {
		d, err := parseLifetime(*expires)
		if err != nil {
			return errUsage{"--expires: " + err.Error()}
		}
		exp = time.Now().Add(d)
	}
	// Operator commands log warnings only, to stderr: stdout carries the key
	// and nothing else, so that scripts can capture it.
	cfg.LogLevel = "warn"
	log := app.NewLogger(cfg, env.Stderr)
	st, master, err := app.OpenStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := service.New(service.Config{Store: st, Index: index.New(), MasterKey: master, Logger: log})
	defer svc.Close()
	if err := svc.CheckMasterKey(ctx); err != nil {
		return err
	}
	tn, err := svc.TenantByName(ctx, *tenant)
	if apperr.CodeOf(err) == apperr.NotFound {
		tn, err = svc.CreateTenant(ctx, *tenant)
		if err == nil {
			log.Warn("created tenant", "tenant", tn.ID)
		}
	}
	if err != nil {
		return err
	}
	secret, _, err := svc.CreateAPIKey(ctx, tn.ID, r, *label, exp)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(env.Stdout, secret)
	return err
}

func roleList() string {
	names := make([]string, len(auth.Roles))
	for i, r := range auth.Roles {
		names[i] = string(r)
	}
	return strings.Join(names, ", ")
}

// parseLifetime accepts Go durations and whole days ("90d").
func parseLifetime(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("%q is not a positive number of days", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a positive duration", s)
	}
	return d, nil
}

func migrate(ctx context.Context, args []string, env Env) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	cfg, err := app.Load(fs, args, env.Getenv)
	if err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return errUsage{err.Error()}
	}
	st, _, err := app.OpenStore(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, "migrations applied")
	return st.Close()
}
