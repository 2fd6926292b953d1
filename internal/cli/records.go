package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/consentgate/consentgate/internal/app"
	"github.com/consentgate/consentgate/internal/apperr"
	"github.com/consentgate/consentgate/internal/index"
	"github.com/consentgate/consentgate/internal/inventory"
	"github.com/consentgate/consentgate/internal/service"
	"github.com/consentgate/consentgate/internal/store"
)

// ropaCmd writes a tenant's record of processing (or its data map, or a
// purpose's DPIA worksheet) from the data directory, as the operator. It
// goes through the same service as GET /v1/ropa, so a changed
// configuration stores a new version here too, with an audit event whose
// actor is the operator.
func ropaCmd(ctx context.Context, args []string, env Env) error {
	fs := flag.NewFlagSet("ropa", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	tenant := fs.String("tenant", "", "tenant name (default: the only tenant)")
	format := fs.String("format", "markdown", "json, csv, markdown or pdf (data map: json, mermaid, markdown)")
	what := fs.String("what", "record", "record, datamap or dpia")
	purpose := fs.String("purpose", "", "the purpose of a dpia")
	version := fs.Int("version", 0, "a stored version of the record instead of the current one")
	out := fs.String("out", "", "write to this file instead of standard output")
	cfg, err := app.Load(fs, args, env.Getenv)
	if err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return errUsage{err.Error()}
	}
	f, ok := inventory.ParseFormat(*format)
	if !ok {
		return errUsage{fmt.Sprintf("unknown format %q", *format)}
	}
	if cfg.DB == "" {
		if _, err := os.Stat(filepath.Join(cfg.Data, app.DBFileName)); err != nil {
			return fmt.Errorf("no consentgate database in %s", cfg.Data)
		}
	}
	cfg.LogLevel = "warn"
	log := app.NewLogger(cfg, env.Stderr)
	st, master, err := app.OpenStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	// The server's chainer links the audit events this command writes.
	svc := service.New(service.Config{Store: st, Index: index.New(), MasterKey: master, DefaultRegion: cfg.DefaultRegion, Logger: log,
		AuditChainEvery: -1})
	defer svc.Close()
	svc.ConfigureRecords(cfg.RecordsConfig())
	if err := svc.CheckMasterKey(ctx); err != nil {
		return err
	}
	tenantID, err := pickTenant(ctx, st, svc, *tenant)
	if err != nil {
		return err
	}
	pr := service.Operator(tenantID)
	var b bytes.Buffer
	switch *what {
	case "record":
		rec, err := svc.Ropa(ctx, pr, *version)
		if err != nil {
			return err
		}
		if err := inventory.WriteRecord(&b, rec, f); err != nil {
			return formatErr(err)
		}
		fmt.Fprintf(env.Stderr, "record of processing version %d, %s, %d findings\n", rec.Version, rec.Digest, len(rec.Findings))
	case "datamap":
		m, err := svc.DataMap(ctx, pr)
		if err != nil {
			return err
		}
		if err := inventory.WriteDataMap(&b, m, f); err != nil {
			return formatErr(err)
		}
	case "dpia":
		d, err := svc.DPIA(ctx, pr, *purpose)
		if err != nil {
			return err
		}
		if err := inventory.WriteDPIA(&b, d, f); err != nil {
			return formatErr(err)
		}
	default:
		return errUsage{"--what must be record, datamap or dpia"}
	}
	if *out != "" {
		return os.WriteFile(*out, b.Bytes(), 0o600)
	}
	_, err = env.Stdout.Write(b.Bytes())
	return err
}

func formatErr(err error) error {
	var fe inventory.ErrFormat
	if errors.As(err, &fe) {
		return errUsage{fe.Error()}
	}
	return err
}

// pickTenant finds the tenant by name, or the only one when no name is
// given.
func pickTenant(ctx context.Context, st store.Store, svc *service.Service, name string) (string, error) {
	if name != "" {
		tn, err := svc.TenantByName(ctx, name)
		if apperr.CodeOf(err) == apperr.NotFound {
			return "", fmt.Errorf("no tenant named %q", name)
		}
		if err != nil {
			return "", err
		}
		return tn.ID, nil
	}
	var tns []*store.Tenant
	if err := st.Read(ctx, func(tx store.Tx) (err error) {
		tns, err = tx.ListTenants(ctx)
		return err
	}); err != nil {
		return "", err
	}
	if len(tns) != 1 {
		return "", errUsage{fmt.Sprintf("%d tenants: name one with --tenant", len(tns))}
	}
	return tns[0].ID, nil
}
