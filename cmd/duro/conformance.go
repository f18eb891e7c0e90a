package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/duro-run/duro/internal/conformance"
	"github.com/duro-run/duro/internal/conformance/report"
	"github.com/duro-run/duro/internal/conformance/template"
	"github.com/duro-run/duro/internal/devenv"
	"github.com/duro-run/duro/internal/sam"
	"github.com/duro-run/duro/internal/server"
)

// errConformanceFailed makes `duro conformance` exit non-zero after its
// report when a required requirement failed or is uncovered.
var errConformanceFailed = errors.New("conformance: required requirements failed or are uncovered")

func newConformanceCommand() *cobra.Command {
	var (
		opts           conformance.Options
		junitPath      string
		jsonPath       string
		verbose        bool
		serverLogLevel string
	)
	cmd := &cobra.Command{
		Use:   "conformance --requirements DIR --template FILE",
		Short: "Run the AWS durable execution conformance suite against Duro",
		Long: `Run the public AWS durable execution conformance requirements against Duro.

Each requirement file (DIR/<suite>/<id>.yaml) is run against the function of
the SAM template whose TestingMetadata.TestDescription lists its id, through
the AWS Lambda API and Duro's log API, with the upstream runner's flows and
matching rules. One line is printed per requirement:

  PASSED <id>
  FAILED <id>: <first mismatch, with path and values>
  OPTIONAL_FAILED <id>: ...      (an optional requirement failed)
  NOT_IMPLEMENTED <id>: <reason> (TestingMetadata.NotImplemented)
  UNCOVERED <id>                 (no function lists the id)

then a summary per suite and "N passed, M failed". The exit status is
non-zero when a required requirement fails or is uncovered.

With --endpoint the harness uses a running server whose functions are
already registered under the template's names (e.g. duro dev --template);
without it, it starts a server in-process and deploys the template.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.RequirementsDir == "" || opts.TemplatePath == "" {
				return errors.New("--requirements and --template are required")
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
			opts.OnResult = func(r report.Result) { fmt.Fprintln(out, r.Line()) }
			opts.Warnf = func(format string, args ...any) { fmt.Fprintf(errOut, "warning: "+format+"\n", args...) }
			if verbose {
				opts.Logf = func(format string, args ...any) {
					fmt.Fprintf(errOut, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05.000")}, args...)...)
				}
			}
			if serverLogLevel != "off" {
				var level slog.Level
				if err := level.UnmarshalText([]byte(serverLogLevel)); err != nil {
					return fmt.Errorf("--server-log-level: %w", err)
				}
				opts.ServerLogger = slog.New(slog.NewTextHandler(errOut, &slog.HandlerOptions{Level: level}))
			}
			opts.NewDeployer = inProcessDeployer
			opts.TemplateLoader = samBindingLoader{}
			rep, err := conformance.Run(ctx, opts)
			if err != nil {
				return err
			}
			if err := rep.WriteSummary(out); err != nil {
				return err
			}
			if junitPath != "" {
				if err := writeFile(junitPath, rep.WriteJUnit); err != nil {
					return err
				}
			}
			if jsonPath != "" {
				if err := writeFile(jsonPath, rep.WriteJSON); err != nil {
					return err
				}
			}
			if rep.Failed() {
				return errConformanceFailed
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.RequirementsDir, "requirements", "", "requirements directory (<dir>/<suite>/<id>.yaml)")
	f.StringVar(&opts.TemplatePath, "template", "", "SAM template whose functions list requirement ids in TestingMetadata.TestDescription")
	f.StringSliceVar(&opts.Suites, "suite", nil, "run only these suites (repeatable or comma-separated, e.g. step,wait)")
	f.StringSliceVar(&opts.IDs, "run", nil, "run only these requirement ids (repeatable or comma-separated, e.g. 1-13)")
	f.IntVar(&opts.Parallel, "parallel", conformance.DefaultParallel, "requirements run at once")
	f.StringVar(&junitPath, "junit", "", "write a JUnit XML report to this file")
	f.StringVar(&jsonPath, "json", "", "write a JSON report (errors, bindings, histories) to this file")
	f.StringVar(&opts.Endpoint, "endpoint", "", "URL of a running Duro server with the template's functions registered (default: start one in-process)")
	f.DurationVar(&opts.RequirementTimeout, "timeout", 10*time.Minute, "time limit of one requirement (0: none)")
	f.DurationVar(&opts.HTTPTimeout, "http-timeout", 15*time.Minute, "HTTP timeout of API calls (at least 15m: a synchronous Invoke lasts the whole execution)")
	f.BoolVar(&opts.AllLogs, "all-logs", false, "check ExpectedLogs against every log line of the execution, not only JSON lines carrying its ARN (upstream's CloudWatch filter)")
	f.BoolVarP(&verbose, "verbose", "v", false, "log progress (invocations, callbacks, polling) to stderr")
	f.StringVar(&serverLogLevel, "server-log-level", "off", "log level of the in-process server (off, debug, info, warn, error)")
	return cmd
}

// inProcessDeployer registers the template's functions with an in-process
// server (used when --endpoint is not given).
func inProcessDeployer(srv *server.Server) (conformance.Deployer, error) {
	return conformance.DeployerFunc(func(ctx context.Context, templatePath string) (map[string]string, error) {
		t, err := sam.Load(templatePath, sam.Options{})
		if err != nil {
			return nil, err
		}
		return devenv.Deploy(ctx, srv.Engine, t, nil)
	}), nil
}

// writeFile writes a report file.
func writeFile(path string, write func(w io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// samBindingLoader reads the requirement binding with internal/sam, so that
// function names are the ones `duro dev` and the in-process deployer
// register (intrinsics in FunctionName evaluated).
type samBindingLoader struct{}

// LoadBinding implements template.Loader.
func (samBindingLoader) LoadBinding(path string) (*template.Binding, error) {
	t, err := sam.Load(path, sam.Options{})
	if err != nil {
		return nil, err
	}
	notImplemented := map[string]string{}
	template.AddNotImplemented(t.TestingMetadata, notImplemented)
	var fns []template.Function
	for _, f := range t.Functions {
		fns = append(fns, template.Function{LogicalID: f.LogicalID, FunctionName: f.FunctionName, TestIDs: f.TestIDs})
		template.AddNotImplemented(f.TestingMetadata, notImplemented)
	}
	return template.NewBinding(fns, notImplemented), nil
}
