package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/consentgate/consentgate/internal/app"
	"github.com/consentgate/consentgate/internal/index"
	"github.com/consentgate/consentgate/internal/service"
	"github.com/consentgate/consentgate/internal/store"
	"github.com/consentgate/consentgate/internal/vault"
)

// opened is a store with a service over it, for operator commands that
// run beside (or without) a server on the same data.
type opened struct {
	st  store.Store
	svc *service.Service
}

func (o *opened) close() {
	o.svc.Close()
	o.st.Close()
}

// openService loads the config from args with fs's own flags, opens the
// store and checks the master key.
func openService(ctx context.Context, fs *flag.FlagSet, args []string, env Env) (*opened, error) {
	cfg, err := app.Load(fs, args, env.Getenv)
	if err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, errUsage{err.Error()}
	}
	cfg.LogLevel = "warn"
	log := app.NewLogger(cfg, env.Stderr)
	st, master, err := app.OpenStore(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	svc := service.New(service.Config{Store: st, Index: index.New(), MasterKey: master, DefaultRegion: cfg.DefaultRegion, Logger: log})
	if err := svc.CheckMasterKey(ctx); err != nil {
		svc.Close()
		st.Close()
		return nil, err
	}
	return &opened{st: st, svc: svc}, nil
}

// keysRotate replaces a tenant's data key-encryption key, or with --index
// its blind index key, while servers run; --all-tenants does so for every
// tenant in turn, one JSON report per line.
func keysRotate(ctx context.Context, args []string, env Env) error {
	fs := flag.NewFlagSet("keys rotate", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	tenant := fs.String("tenant", "", "tenant name")
	all := fs.Bool("all-tenants", false, "rotate every tenant's key in turn (after a suspected compromise)")
	batch := fs.Int("batch", 500, "keys rewrapped (or rows rewritten) per transaction")
	settle := fs.Duration("settle", 0, "wait between publishing the new key and rewrapping (default: 2 × the servers' key cache TTL + 1s)")
	indexKey := fs.Bool("index", false, "rotate the blind index key instead of the data key (rewrites every stored blind index and keyed hash)")
	o, err := openService(ctx, fs, args, env)
	if err != nil {
		return err
	}
	defer o.close()
	if (*tenant == "") == !*all {
		return errUsage{"give either --tenant NAME or --all-tenants"}
	}
	var tenants []*store.Tenant
	if *all {
		err = o.st.Read(ctx, func(tx store.Tx) (err error) { tenants, err = tx.ListTenants(ctx); return err })
	} else {
		var tn *store.Tenant
		tn, err = o.svc.TenantByName(ctx, *tenant)
		tenants = []*store.Tenant{tn}
	}
	if err != nil {
		return err
	}
	var failed []string
	for _, tn := range tenants {
		opt := service.RotateOptions{Batch: *batch, Settle: *settle}
		var rep any
		if *indexKey {
			bar := newProgress(env.Stderr, "rewriting "+tn.Name)
			opt.Progress = func(n int) { bar.set(n, 0) }
			rep, err = o.svc.RotateIndexKey(ctx, tn.ID, opt)
			bar.done()
		} else {
			bar := newProgress(env.Stderr, "rewrapping "+tn.Name)
			opt.Progress = func(n int) { bar.set(n, 0) }
			rep, err = o.svc.RotateTenantKey(ctx, tn.ID, opt)
			bar.done()
		}
		if err != nil {
			if !*all {
				return err
			}
			// The others go on: a rotation that failed resumes where it
			// stood when run again for its tenant.
			fmt.Fprintf(env.Stderr, "tenant %q: %v\n", tn.Name, err)
			failed = append(failed, tn.Name)
			continue
		}
		if err := json.NewEncoder(env.Stdout).Encode(rep); err != nil {
			return err
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("the rotation failed for %d of %d tenants (%s); run it again for each with --tenant",
			len(failed), len(tenants), strings.Join(failed, ", "))
	}
	return nil
}

// keysRotateMaster rewraps every tenant keyring and the ledger key with a
// new master key. The servers must then be restarted with the new key file.
func keysRotateMaster(ctx context.Context, args []string, env Env) error {
	fs := flag.NewFlagSet("keys rotate-master", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	newFile := fs.String("new-key-file", "", "file with the new master key (base64, mode 0600); create one with: head -c32 /dev/urandom | base64 > F && chmod 600 F")
	o, err := openService(ctx, fs, args, env)
	if err != nil {
		return err
	}
	defer o.close()
	if *newFile == "" {
		return errUsage{"--new-key-file is required"}
	}
	next, err := vault.LoadMasterKey(*newFile)
	if err != nil {
		return err
	}
	rep, err := o.svc.RotateMasterKey(ctx, next)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "rewrapped %d tenant keyring(s) and the ledger key with the new master key.\n"+
		"Now point every server at %s (--master-key-file or CONSENTGATE_MASTER_KEY_FILE) and restart it; keep the old key only until backups made with it have expired.\n",
		rep.Tenants, *newFile)
	return json.NewEncoder(env.Stdout).Encode(rep)
}

// dsrCmd handles data-subject requests from the command line. Identifiers
// are read from standard input, never taken as arguments, where process
// lists and shell histories would keep them.
func dsrCmd(ctx context.Context, args []string, env Env) error {
	const usage = "usage: consentgate dsr create --data DIR --tenant NAME --type TYPE (--contact ID | --identifier-kind KIND < value) [--record-only]\n" +
		"       consentgate dsr list|get|execute|export|extend --data DIR --tenant NAME [--id ID] [--all] [--html] [--reason TEXT]\n" +
		"       consentgate dsr hold|release --data DIR --tenant NAME --contact ID [--reason TEXT]"
	if len(args) == 0 {
		return errUsage{usage}
	}
	sub := args[0]
	fs := flag.NewFlagSet("dsr "+sub, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	tenant := fs.String("tenant", "", "tenant name")
	typ := fs.String("type", "", "access, portability, erasure, rectification, restriction, objection")
	contact := fs.String("contact", "", "contact id")
	kind := fs.String("identifier-kind", "", "phone, email or whatsapp: the value is read from stdin")
	recordOnly := fs.Bool("record-only", false, "record the request without carrying it out")
	id := fs.String("id", "", "request id")
	all := fs.Bool("all", false, "list every request, not only open ones")
	html := fs.Bool("html", false, "export as HTML instead of JSON")
	reason := fs.String("reason", "", "reason (extend, hold)")
	o, err := openService(ctx, fs, args[1:], env)
	if err != nil {
		return err
	}
	defer o.close()
	if *tenant == "" {
		return errUsage{"--tenant is required\n" + usage}
	}
	tn, err := o.svc.TenantByName(ctx, *tenant)
	if err != nil {
		return err
	}
	pr := service.Operator(tn.ID)
	out := json.NewEncoder(env.Stdout)
	out.SetIndent("", "  ")
	switch sub {
	case "create":
		in := service.DSRInput{Type: *typ, ContactID: *contact}
		if *kind != "" {
			v, err := bufio.NewReader(env.Stdin).ReadString('\n')
			if err != nil && err != io.EOF {
				return err
			}
			in.Identifier = &service.IdentifierInput{Kind: *kind, Value: strings.TrimSpace(v)}
		}
		if *recordOnly {
			f := false
			in.Execute = &f
		}
		v, _, err := o.svc.CreateDSR(ctx, pr, in)
		if err != nil {
			return err
		}
		return out.Encode(v)
	case "list":
		vs, err := o.svc.ListDSRs(ctx, pr, *all)
		if err != nil {
			return err
		}
		return out.Encode(vs)
	case "get":
		v, err := o.svc.GetDSR(ctx, pr, *id)
		if err != nil {
			return err
		}
		return out.Encode(v)
	case "execute":
		v, err := o.svc.ExecuteDSR(ctx, pr, *id, service.DSRInput{})
		if err != nil {
			return err
		}
		return out.Encode(v)
	case "extend":
		v, err := o.svc.ExtendDSR(ctx, pr, *id, *reason)
		if err != nil {
			return err
		}
		return out.Encode(v)
	case "export":
		ex, err := o.svc.DSRExport(ctx, pr, *id)
		if err != nil {
			return err
		}
		if *html {
			return ex.WriteHTML(env.Stdout)
		}
		return out.Encode(ex)
	case "hold":
		v, err := o.svc.SetLegalHold(ctx, pr, *contact, *reason)
		if err != nil {
			return err
		}
		return out.Encode(v)
	case "release":
		return o.svc.ReleaseLegalHold(ctx, pr, *contact)
	}
	return errUsage{usage}
}

// purgeCmd runs the retention purge once, with a progress bar on stderr.
func purgeCmd(ctx context.Context, args []string, env Env) error {
	fs := flag.NewFlagSet("purge", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	dry := fs.Bool("dry-run", false, "count what would be purged, change nothing")
	tenant := fs.String("tenant", "", "only this tenant (name)")
	batch := fs.Int("batch", 0, "rows per transaction (0: as many as take about 2 ms of the writer)")
	verify := fs.Bool("log", false, "print the purge log with each summary's signature checked, and purge nothing")
	o, err := openService(ctx, fs, args, env)
	if err != nil {
		return err
	}
	defer o.close()
	out := json.NewEncoder(env.Stdout)
	if *verify {
		recs, err := o.svc.PurgeLog(ctx, "", 1000)
		if err != nil {
			return err
		}
		for _, r := range recs {
			if err := out.Encode(r); err != nil {
				return err
			}
		}
		return nil
	}
	opt := service.PurgeOptions{DryRun: *dry, Batch: *batch}
	if *tenant != "" {
		tn, err := o.svc.TenantByName(ctx, *tenant)
		if err != nil {
			return err
		}
		opt.TenantID = tn.ID
	}
	var bar *progress
	opt.Progress = func(_, category string, done, total int) {
		if bar == nil || bar.label != category {
			bar.done()
			bar = newProgress(env.Stderr, category)
		}
		bar.set(done, total)
	}
	start := time.Now()
	sums, err := o.svc.Purge(ctx, opt)
	bar.done()
	for _, s := range sums {
		if s.Count > 0 || *dry {
			out.Encode(s)
		}
	}
	if err != nil {
		return err
	}
	n := 0
	for _, s := range sums {
		n += s.Count
	}
	verb := "purged"
	if *dry {
		verb = "would purge"
	}
	fmt.Fprintf(env.Stderr, "%s %d row(s) in %s\n", verb, n, time.Since(start).Round(time.Millisecond))
	return nil
}

// progress is a one-line progress bar on a terminal-ish writer, redrawn at
// most ten times a second.
type progress struct {
	w     io.Writer
	label string
	last  time.Time
	shown bool
}

func newProgress(w io.Writer, label string) *progress { return &progress{w: w, label: label} }

func (p *progress) set(done, total int) {
	if p == nil || time.Since(p.last) < 100*time.Millisecond && done != total {
		return
	}
	p.last, p.shown = time.Now(), true
	if total <= 0 {
		fmt.Fprintf(p.w, "\r%-18s %d", p.label, done)
		return
	}
	const width = 30
	filled := min(width, done*width/total)
	fmt.Fprintf(p.w, "\r%-18s [%s%s] %d/%d", p.label, strings.Repeat("#", filled), strings.Repeat(".", width-filled), done, total)
}

func (p *progress) done() {
	if p != nil && p.shown {
		fmt.Fprintln(p.w)
	}
}
