package cli

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"math/big"

	"github.com/consentgate/consentgate/internal/app"
)

func serve(ctx context.Context, args []string, env Env) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	demo := fs.Bool("demo", false, "seed a demo tenant with purposes and print an owner key and example requests")
	cfg, err := app.Load(fs, args, env.Getenv)
	if err != nil {
		return err
	}
	cfg.Demo = *demo
	if err := cfg.Validate(); err != nil {
		return errUsage{err.Error()}
	}
	log := app.NewLogger(cfg, env.Stderr)
	a, err := app.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	var demoKey string
	if cfg.Demo {
		if _, demoKey, err = a.Service.SeedDemo(ctx); err != nil {
			a.Shutdown(context.Background())
			return fmt.Errorf("seeding the demo tenant: %w", err)
		}
	}
	if err := a.Start(); err != nil {
		a.Shutdown(context.Background())
		return err
	}
	if cfg.Demo {
		printDemo(env.Stdout, a.Addr(), demoKey)
	} else {
		fmt.Fprintf(env.Stdout, "consentgate listening on http://%s\n", a.Addr())
	}
	<-ctx.Done()
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	return a.Shutdown(sctx)
}

// printDemo prints what a first-time user needs: where the API is, a key,
// and three requests to paste. The phone number is random in a Danish mobile
// range so that running the demo twice does not collide.
func printDemo(w io.Writer, addr, key string) {
	n, _ := rand.Int(rand.Reader, big.NewInt(800_000))
	phone := fmt.Sprintf("+45%d", 20100000+n.Int64())
	fmt.Fprintf(w, `consentgate is running (demo tenant) on http://%[1]s

Owner API key for the demo tenant (shown once, keep it secret):
  %[2]s

Try it:

  export CG=http://%[1]s KEY=%[2]s

  # 1. create a contact (the phone number is stored encrypted)
  CONTACT=$(curl -s -X POST $CG/v1/contacts -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
    -d '{"identifiers":{"phone":"%[3]s"},"locale":"da-DK"}' | sed 's/.*"id":"\([^"]*\)".*/\1/'); echo $CONTACT

  # 2. record that the person consented to offers by SMS
  curl -s -X PUT $CG/v1/contacts/$CONTACT/consents/offers/sms -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
    -d '{"status":"granted","source":"web","evidence":{"form":"signup-2026","ip":"203.0.113.7"}}'

  # 3. ask whether an offer may be sent to that number now
  curl -s -X POST $CG/v1/decisions -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
    -d '{"to":{"phone":"%[3]s"},"channel":"sms","purpose":"offers"}'

API description: http://%[1]s/openapi.json   Metrics: http://%[1]s/metrics
`, addr, key, phone)
}
