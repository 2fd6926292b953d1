package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/consentgate/consentgate/internal/app"
	"github.com/consentgate/consentgate/internal/apperr"
	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/index"
	"github.com/consentgate/consentgate/internal/service"
)

// usersCmd creates web UI users. The password is read from the first line
// of stdin, never from a flag, where it would land in the shell's history
// and the process list.
func usersCmd(ctx context.Context, args []string, env Env) error {
	if len(args) == 0 || args[0] != "create" {
		return errUsage{"usage: consentgate users create --data DIR --tenant NAME --email ADDRESS --role ROLE < password"}
	}
	fs := flag.NewFlagSet("users create", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	tenant := fs.String("tenant", "", "tenant name (must exist)")
	email := fs.String("email", "", "the user's e-mail address")
	role := fs.String("role", "", "role: "+roleList())
	cfg, err := app.Load(fs, args[1:], env.Getenv)
	if err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return errUsage{err.Error()}
	}
	if *tenant == "" || *email == "" {
		return errUsage{"--tenant and --email are required"}
	}
	r, err := auth.ParseRole(*role)
	if err != nil {
		return errUsage{err.Error()}
	}
	line, err := bufio.NewReader(env.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return errors.New("reading the password from stdin: nothing there")
	}
	password := strings.TrimRight(line, "\r\n")
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
		return fmt.Errorf("no tenant %q", *tenant)
	}
	if err != nil {
		return err
	}
	u, err := svc.CreateUser(ctx, service.Operator(tn.ID), service.UserInput{Email: *email, Role: string(r), Password: password})
	if err != nil {
		return err
	}
	// The id only: the address is the operator's own input.
	_, err = fmt.Fprintln(env.Stdout, u.ID)
	return err
}
