package cli

import (
	"bufio"
	"context"
	"flag"

	"github.com/consentgate/consentgate/internal/keyword"
)

// keywordCmd classifies replies read from stdin, one per line, with the
// default language packs: a way to see what the gateway would do with a
// message before any tenant configuration exists.
func keywordCmd(_ context.Context, args []string, env Env) error {
	if len(args) == 0 || args[0] != "classify" {
		return errUsage{"usage: consentgate keyword classify [--lang CODE] < messages.txt"}
	}
	fs := flag.NewFlagSet("keyword classify", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	lang := fs.String("lang", "", "language hint (ISO 639-1, e.g. da) for keywords several languages share")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return errUsage{"keyword classify reads messages from stdin, one per line; it takes no arguments"}
	}
	w := bufio.NewWriter(env.Stdout)
	if err := keyword.ClassifyLines(env.Stdin, w, *lang); err != nil {
		return err
	}
	return w.Flush()
}
