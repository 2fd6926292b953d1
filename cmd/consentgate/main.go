// Command consentgate is the GDPR-compliant business-messaging gateway: one
// binary for the server and every operator task. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/consentgate/consentgate/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], cli.OSEnv())
	stop()
	os.Exit(code)
}
