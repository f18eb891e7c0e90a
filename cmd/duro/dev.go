package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/duro-run/duro/internal/devenv"
	"github.com/duro-run/duro/internal/engine"
	"github.com/duro-run/duro/internal/sam"
	"github.com/duro-run/duro/internal/server"
)

// exampleTemplate is the bundled example `duro dev` runs without arguments.
const exampleTemplate = "examples/order-workflow/template.yaml"

func newDevCommand() *cobra.Command {
	var (
		cfg      server.Config
		template string
		params   []string
		noWatch  bool
		logLevel string
	)
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run Duro with the functions of a SAM template (default: the bundled example) and reload them on change",
		Long: `dev starts the service on an embedded store, registers the functions of a
SAM template, installs Node dependencies that are missing, and re-registers a
function when its code directory or the template changes.

Without --template it runs the bundled example (` + exampleTemplate + `),
starts one execution of it and prints how to inspect it and complete its
callback with the AWS CLI.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return err
			}
			cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
			example := template == ""
			if example {
				template = exampleTemplate
				if _, err := os.Stat(template); err != nil {
					return fmt.Errorf("the bundled example is not here (%s): run duro dev from the repository root, or pass --template", template)
				}
			}
			opts := sam.Options{Parameters: map[string]string{}, Region: cfg.Region, AccountID: cfg.AccountID}
			for _, p := range params {
				k, v, ok := strings.Cut(p, "=")
				if !ok {
					return fmt.Errorf("--parameter %q: want KEY=VALUE", p)
				}
				opts.Parameters[k] = v
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			t, err := sam.Load(template, opts)
			if err != nil {
				return err
			}
			for _, w := range t.Warnings {
				cfg.Logger.Warn("template", "warning", w)
			}
			srv, err := server.Start(ctx, cfg)
			if err != nil {
				return err
			}
			defer func() {
				sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				_ = srv.Shutdown(sctx)
			}()
			if _, err := devenv.Deploy(ctx, srv.Engine, t, cfg.Logger); err != nil {
				return err
			}
			if example && len(t.Functions) > 0 {
				if err := startExample(ctx, cmd.OutOrStdout(), srv, t.Functions[0].FunctionName); err != nil {
					return err
				}
			} else {
				printEndpoint(cmd.OutOrStdout(), srv, t)
			}
			if !noWatch {
				go watch(ctx, srv, template, opts, t, cfg.Logger)
			}
			select {
			case <-ctx.Done():
				cfg.Logger.Info("shutting down")
				return nil
			case err := <-srv.Done():
				return err
			}
		},
	}
	f := cmd.Flags()
	addServerFlags(f, &cfg, &logLevel)
	f.StringVar(&cfg.DataDir, "data-dir", envOr("DURO_DATA_DIR", "./.duro"), "directory of the embedded store (env DURO_DATA_DIR)")
	f.StringVarP(&template, "template", "t", "", "SAM template whose functions to run (default: the bundled example)")
	f.StringArrayVar(&params, "parameter", nil, "template parameter override KEY=VALUE (repeatable)")
	f.BoolVar(&noWatch, "no-watch", false, "do not reload functions when their code or the template changes")
	return cmd
}

// startExample starts one execution of the bundled example and tells the
// user how to follow it.
func startExample(ctx context.Context, out io.Writer, srv *server.Server, function string) error {
	started, err := srv.Engine.StartExecution(ctx, engine.StartInput{
		FunctionName: function, Qualifier: "$LATEST",
		Payload: []byte(`{"orderId":"order-1001","customer":"ada@example.com","items":[{"sku":"sku-espresso","quantity":2},{"sku":"sku-filter","quantity":1}]}`),
	})
	if err != nil {
		return fmt.Errorf("start the example: %w", err)
	}
	ep := srv.URL()
	fmt.Fprintf(out, `
Duro is serving the AWS Lambda API at %[1]s
Started an execution of %[2]s:
  %[3]s

It runs two steps, waits a few seconds, then waits for a payment approval
callback. Follow it with the AWS CLI (any credentials work):

  export AWS_ACCESS_KEY_ID=duro AWS_SECRET_ACCESS_KEY=duro AWS_DEFAULT_REGION=us-east-1
  aws --endpoint-url %[1]s lambda get-durable-execution --durable-execution-arn '%[3]s'
  aws --endpoint-url %[1]s lambda get-durable-execution-history --durable-execution-arn '%[3]s'

The callback id is in the CallbackStarted event of the history (and printed in
the function's log). Approve the payment with:

  aws --endpoint-url %[1]s lambda send-durable-execution-callback-success \
      --callback-id <CallbackId> --result '{"approved":true}'
  (AWS CLI v2: add --cli-binary-format raw-in-base64-out)

Start another execution:
  aws --endpoint-url %[1]s lambda invoke --function-name %[2]s --qualifier '$LATEST' \
      --invocation-type Event --payload '{"orderId":"order-1002","items":[{"sku":"sku-grinder","quantity":1}]}' /dev/null

Press Ctrl-C to stop.
`, ep, function, started.DurableExecutionArn)
	return nil
}

func printEndpoint(out io.Writer, srv *server.Server, t *sam.Template) {
	fmt.Fprintf(out, "\nDuro is serving the AWS Lambda API at %s with %d function(s):\n", srv.URL(), len(t.Functions))
	for _, f := range t.Functions {
		fmt.Fprintf(out, "  %s (%s, %s)\n", f.FunctionName, f.Runtime, f.CodeUri)
	}
	fmt.Fprintf(out, "Invoke one: aws --endpoint-url %s lambda invoke --function-name NAME --qualifier '$LATEST' --payload '{}' out.json\n", srv.URL())
}

// watch re-deploys the template when it or a function's code changes. It
// polls modification times: portable, and cheap for source trees (the
// dependency directory is skipped).
func watch(ctx context.Context, srv *server.Server, path string, opts sam.Options, t *sam.Template, log *slog.Logger) {
	last := snapshot(path, t)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := snapshot(path, t)
		if now == last {
			continue
		}
		last = now
		nt, err := sam.Load(path, opts)
		if err != nil {
			log.Error("reload template", "err", err)
			continue
		}
		if _, err := devenv.Deploy(ctx, srv.Engine, nt, log); err != nil {
			log.Error("reload functions", "err", err)
			continue
		}
		t = nt
		log.Info("functions reloaded")
	}
}

// snapshot fingerprints the template and the code directories.
func snapshot(path string, t *sam.Template) string {
	var b strings.Builder
	add := func(p string, info fs.FileInfo) {
		fmt.Fprintf(&b, "%s %d %d\n", p, info.Size(), info.ModTime().UnixNano())
	}
	if info, err := os.Stat(path); err == nil {
		add(path, info)
	}
	seen := map[string]bool{}
	for _, f := range t.Functions {
		if seen[f.CodeUri] {
			continue
		}
		seen[f.CodeUri] = true
		_ = filepath.WalkDir(f.CodeUri, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if d.IsDir() && (d.Name() == "node_modules" || d.Name() == ".git" || d.Name() == "__pycache__") {
				return filepath.SkipDir
			}
			if info, err := d.Info(); err == nil && !d.IsDir() {
				add(p, info)
			}
			return nil
		})
	}
	return b.String()
}
