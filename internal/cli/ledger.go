package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/consentgate/consentgate/internal/app"
	"github.com/consentgate/consentgate/internal/ledger"
	"github.com/consentgate/consentgate/internal/store"
)

// ledgerCmd checks the stored ledger from scratch: every leaf rehashed,
// every stored hash compared, every checkpoint's signature, root and
// consistency with the one before, and optionally checkpoints kept outside
// the database (--anchors), which catch a truncated log.
func ledgerCmd(ctx context.Context, args []string, env Env) error {
	if len(args) == 0 || args[0] != "verify" {
		return errUsage{"usage: consentgate ledger verify --data DIR [--anchors CHECKPOINT_FILE]"}
	}
	fs := flag.NewFlagSet("ledger verify", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	anchorsFile := fs.String("anchors", "", "file of signed checkpoints kept outside the database (e.g. the --ledger-checkpoint-file)")
	cfg, err := app.Load(fs, args[1:], env.Getenv)
	if err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return errUsage{err.Error()}
	}
	if _, err := os.Stat(filepath.Join(cfg.Data, app.DBFileName)); err != nil {
		return fmt.Errorf("no consentgate database in %s", cfg.Data)
	}
	var anchors [][]byte
	if *anchorsFile != "" {
		b, err := os.ReadFile(*anchorsFile)
		if err != nil {
			return err
		}
		anchors = splitNotes(b)
	}
	st, _, err := app.OpenStore(ctx, cfg, slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		return err
	}
	defer st.Close()
	var vkey string
	err = st.Read(ctx, func(tx store.Tx) (err error) {
		vkey, _, err = tx.GetLedgerKey(ctx, "consent-ledger")
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return errors.New("the ledger has no key yet: nothing to verify")
	}
	if err != nil {
		return err
	}
	rep, err := ledger.Verify(ctx, st.Ledger(), vkey, anchors...)
	if err != nil {
		var ve *ledger.VerifyError
		if errors.As(err, &ve) {
			for _, p := range rep.Problems {
				fmt.Fprintln(env.Stderr, "ledger:", p)
			}
			if rep.TotalProblems > len(rep.Problems) {
				fmt.Fprintf(env.Stderr, "ledger: … and %d more\n", rep.TotalProblems-len(rep.Problems))
			}
		}
		return fmt.Errorf("verification failed: %w", err)
	}
	fmt.Fprintf(env.Stdout, "ledger ok: %d leaves, %d stored hashes, %d checkpoints, %d anchors checked; root %s\n",
		rep.TreeSize, rep.Hashes, rep.Checkpoints, rep.Anchors, rep.Root)
	return nil
}

// splitNotes splits a file of signed notes written one after another, each
// followed by an empty line: a note is text, an empty line, then signature
// lines starting with "— ".
func splitNotes(b []byte) [][]byte {
	var out [][]byte
	lines := strings.SplitAfter(string(b), "\n")
	var cur strings.Builder
	inSigs := false
	for _, l := range lines {
		switch {
		case inSigs && strings.HasPrefix(l, "— "):
			cur.WriteString(l)
		case inSigs:
			out = append(out, []byte(cur.String()))
			cur.Reset()
			inSigs = false
			if strings.TrimSpace(l) != "" {
				cur.WriteString(l)
			}
		case l == "\n" && cur.Len() > 0:
			cur.WriteString(l)
			inSigs = true
		case strings.TrimSpace(l) == "" && cur.Len() == 0:
		default:
			cur.WriteString(l)
		}
	}
	if inSigs && cur.Len() > 0 {
		out = append(out, []byte(cur.String()))
	}
	return out
}

// receiptCmd checks a receipt offline with nothing but the ledger's public
// key: the checkpoint's signature, the leaf's inclusion in that tree, and
// that the readable fields match the leaf.
func receiptCmd(_ context.Context, args []string, env Env) error {
	if len(args) == 0 || args[0] != "verify" {
		return errUsage{"usage: consentgate receipt verify FILE --key KEY|KEYFILE"}
	}
	fs := flag.NewFlagSet("receipt verify", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	key := fs.String("key", "", "the ledger's verifier key (from GET /v1/ledger/key), or a file holding it")
	// Accept the file before or after the flags.
	rest := args[1:]
	var file string
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		file, rest = rest[0], rest[1:]
	}
	if err := fs.Parse(rest); err != nil {
		return err
	}
	if file == "" && fs.NArg() == 1 {
		file = fs.Arg(0)
	}
	if file == "" || *key == "" {
		return errUsage{"usage: consentgate receipt verify FILE --key KEY|KEYFILE"}
	}
	vkey := *key
	if b, err := os.ReadFile(vkey); err == nil {
		vkey = strings.TrimSpace(string(b))
	}
	var raw []byte
	var err error
	if file == "-" {
		raw, err = io.ReadAll(env.Stdin)
	} else {
		raw, err = os.ReadFile(file)
	}
	if err != nil {
		return err
	}
	r, err := ledger.ParseReceipt(bytes.TrimSpace(raw))
	if err != nil {
		return err
	}
	if err := ledger.VerifyReceipt(r, vkey); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "receipt ok: event %s (%s, %s/%s) is leaf %d of a tree of %d signed by %s\n",
		r.ConsentReceiptID, r.Event.Status, purposeOf(r), r.Event.Channel, r.Proof.LeafIndex, r.Proof.TreeSize, keyName(vkey))
	return nil
}

func purposeOf(r ledger.Receipt) string {
	if len(r.Services) > 0 && len(r.Services[0].Purposes) > 0 {
		return r.Services[0].Purposes[0].Purpose
	}
	return "?"
}

func keyName(vkey string) string {
	name, _, _ := strings.Cut(vkey, "+")
	return name
}
