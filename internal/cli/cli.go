// Package cli is the consentgate command line: one entry point, Main, that
// tests call with their own arguments and streams. Each subcommand parses
// its flags with the shared configuration loader, so every setting is also
// an environment variable and a config-file key.
package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// Env is what a command reads and writes besides its arguments.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
}

// OSEnv is the process's own environment.
func OSEnv() Env {
	return Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
}

type command struct {
	name, usage string
	run         func(ctx context.Context, args []string, env Env) error
}

func commands() []command {
	return []command{
		{"serve", "run the API and workers (--demo seeds a demo tenant)", serve},
		{"keys", "keys create|rotate|rotate-master: API keys; rotate a tenant's data key or the master key", keys},
		{"users", "users create --tenant NAME --email ADDRESS --role ROLE < password: create a web UI user", usersCmd},
		{"audit", "audit verify --data DIR: recompute the audit trail's hash chain and report the first break", auditCmd},
		{"dsr", "dsr create|list|get|execute|export|extend|hold|release: data-subject requests", dsrCmd},
		{"purge", "purge --data DIR [--dry-run]: remove data past its retention period", purgeCmd},
		{"migrate", "apply database migrations and exit", migrate},
		{"ledger", "ledger verify --data DIR: recompute the consent ledger and check every checkpoint", ledgerCmd},
		{"receipt", "receipt verify FILE --key KEY: check a consent receipt offline", receiptCmd},
		{"keyword", "keyword classify [--lang CODE]: classify replies from stdin, one JSON line each", keywordCmd},
		{"ropa", "ropa [--tenant NAME] [--format json|csv|markdown|pdf] [--what record|datamap|dpia]: the record of processing", ropaCmd},
		{"version", "print the version", version},
	}
}

// Version is set at build time with -ldflags "-X ...cli.Version=...".
var Version = "dev"

// errUsage marks errors that should print the usage text too.
type errUsage struct{ msg string }

func (e errUsage) Error() string { return e.msg }

// Main runs the command line and returns the process exit code.
func Main(ctx context.Context, args []string, env Env) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(env.Stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], env)
		if err == nil || err == flag.ErrHelp {
			return 0
		}
		fmt.Fprintf(env.Stderr, "consentgate %s: %v\n", c.name, err)
		if _, ok := err.(errUsage); ok {
			return 2
		}
		return 1
	}
	fmt.Fprintf(env.Stderr, "consentgate: unknown command %q\n\n", args[0])
	usage(env.Stderr)
	return 2
}

func usage(w io.Writer) {
	var b strings.Builder
	b.WriteString("consentgate — a GDPR-compliant gateway for business messaging\n\nUsage: consentgate COMMAND [flags]\n\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(&b, "  %-9s %s\n", c.name, c.usage)
	}
	b.WriteString("\nRun 'consentgate COMMAND -h' for a command's flags.\n")
	io.WriteString(w, b.String())
}

func version(_ context.Context, _ []string, env Env) error {
	fmt.Fprintln(env.Stdout, "consentgate", Version)
	return nil
}
