// Package conformance is Duro's harness for the public AWS durable
// execution conformance suite (issue 4; see conformance.md). It loads the
// requirement files unmodified, binds them to the functions of a SAM
// template (TestingMetadata.TestDescription), runs each requirement
// against a Duro server through the AWS Lambda API and the log API with
// the upstream runner's flows and matching rules, and reports PASSED,
// FAILED, OPTIONAL_FAILED, NOT_IMPLEMENTED or UNCOVERED per requirement.
//
// The work is split into sub-packages:
//
//	pyfmt        Python json.dumps / json.loads / str() / == clones
//	spec         requirement loader (PyYAML-compatible value decoding)
//	placeholder  the per-requirement placeholder context
//	match        the EventHistoryMatcher port
//	callbacks    the CallbackActions dispatcher
//	logs         the log API reader and the ExpectedLogs validator
//	template     requirement-to-function binding from a SAM template
//	runner       the sync and async flows of one requirement
//	report       console lines, summary, JUnit and JSON
//
// This package ties them together: [Run] selects requirements, connects to
// a server (or starts one in-process and deploys the template through a
// [Deployer]), runs the requirements in parallel and returns the report.
package conformance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/duro-run/duro/internal/conformance/logs"
	"github.com/duro-run/duro/internal/conformance/placeholder"
	"github.com/duro-run/duro/internal/conformance/report"
	"github.com/duro-run/duro/internal/conformance/runner"
	"github.com/duro-run/duro/internal/conformance/spec"
	"github.com/duro-run/duro/internal/conformance/template"
	"github.com/duro-run/duro/internal/server"
)

// DefaultParallel is the number of requirements run at once (upstream's
// default of 4 workers).
const DefaultParallel = 4

// Options configure a run.
type Options struct {
	// RequirementsDir is the requirements tree (<dir>/<suite>/<id>.yaml).
	RequirementsDir string
	// TemplatePath is the SAM template binding requirements to functions.
	TemplatePath string
	// Suites, when set, selects suites (directory names).
	Suites []string
	// IDs, when set, selects requirement IDs.
	IDs []string
	// Parallel is the number of requirements run at once (default
	// DefaultParallel).
	Parallel int

	// Endpoint is a running server's base URL; its functions must already
	// be registered under the template's function names (e.g. by
	// `duro dev --template`). When empty, Run starts a server in-process
	// and deploys the template with NewDeployer.
	Endpoint string
	// NewDeployer builds the template deployer of an in-process server.
	NewDeployer NewDeployerFunc
	// ServerLogger receives the in-process server's logs (discarded when
	// nil).
	ServerLogger *slog.Logger

	// TemplateLoader reads the binding (default template.YAMLLoader).
	TemplateLoader template.Loader
	// LogSource reads log lines (default: the log API of the endpoint).
	LogSource logs.Source
	// AllLogs checks every log line of the execution rather than only the
	// JSON lines carrying its ARN (upstream's CloudWatch filter).
	AllLogs bool
	// HTTPTimeout is the Lambda client's HTTP timeout (at least
	// runner.MinHTTPTimeout).
	HTTPTimeout time.Duration
	// RequirementTimeout bounds each requirement (0: none).
	RequirementTimeout time.Duration
	// PollInterval and NoProgressTimeout override the async flow's
	// defaults (2 s and 30 s); a requirement's AsyncConfig still wins.
	PollInterval      time.Duration
	NoProgressTimeout time.Duration

	// OnResult, when set, is called as each requirement finishes
	// (serialised; e.g. to print its line).
	OnResult func(report.Result)
	// Warnf receives warnings (template problems, deploy notes).
	Warnf func(format string, args ...any)
	// Logf receives verbose progress notes.
	Logf func(format string, args ...any)
	// NewContext overrides the placeholder context factory (tests).
	NewContext func() *placeholder.Context
}

// Run loads, selects and runs requirements and returns the sorted report.
// An error means the run could not happen (bad directory or template,
// server start or deployment failure); requirement failures are verdicts in
// the report.
func Run(ctx context.Context, opts Options) (*report.Report, error) {
	started := time.Now()
	warnf := opts.Warnf
	if warnf == nil {
		warnf = func(string, ...any) {}
	}
	set, err := spec.LoadDir(opts.RequirementsDir)
	if err != nil {
		return nil, err
	}
	selected, err := Select(set, opts.Suites, opts.IDs)
	if err != nil {
		return nil, err
	}
	loader := opts.TemplateLoader
	if loader == nil {
		loader = template.YAMLLoader{}
	}
	binding, err := loader.LoadBinding(opts.TemplatePath)
	if err != nil {
		return nil, err
	}
	for _, w := range binding.Warnings {
		warnf("template: %s", w)
	}
	for _, id := range binding.IDs() {
		if _, ok := set.Get(id); !ok {
			warnf("template: requirement %s is not in %s", id, opts.RequirementsDir)
		}
	}

	endpoint := opts.Endpoint
	names := map[string]string{}
	if endpoint == "" {
		ip, err := StartInProcess(ctx, opts.NewDeployer, opts.TemplatePath, opts.ServerLogger)
		if err != nil {
			return nil, err
		}
		defer func() {
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			if err := ip.Shutdown(sctx); err != nil {
				warnf("in-process server shutdown: %v", err)
			}
		}()
		endpoint, names = ip.Endpoint, ip.FunctionNames
	}

	src := opts.LogSource
	if src == nil {
		src = &logs.HTTPSource{Endpoint: endpoint}
	}
	run, err := runner.New(runner.Config{
		Client:            runner.NewClient(endpoint, opts.HTTPTimeout),
		Logs:              src,
		AllLogs:           opts.AllLogs,
		PollInterval:      opts.PollInterval,
		NoProgressTimeout: opts.NoProgressTimeout,
		Timeout:           opts.RequirementTimeout,
		Logf:              opts.Logf,
		NewContext:        opts.NewContext,
	})
	if err != nil {
		return nil, err
	}

	rep := &report.Report{Started: started}
	var mu sync.Mutex
	emit := func(r report.Result) {
		mu.Lock()
		defer mu.Unlock()
		rep.Results = append(rep.Results, r)
		if opts.OnResult != nil {
			opts.OnResult(r)
		}
	}
	type job struct {
		req *spec.Requirement
		fn  template.Function
	}
	var jobs []job
	for _, req := range selected {
		if reason, ok := binding.NotImplemented[req.ID]; ok {
			emit(report.Result{ID: req.ID, Suite: req.Suite, Description: req.Description, Optional: req.Optional,
				Status: report.NotImplemented, Reason: reason})
			continue
		}
		fn, ok := binding.Function(req.ID)
		if !ok {
			emit(report.Result{ID: req.ID, Suite: req.Suite, Description: req.Description, Optional: req.Optional,
				Status: report.Uncovered})
			continue
		}
		if n := names[fn.LogicalID]; n != "" {
			fn.FunctionName = n
		}
		jobs = append(jobs, job{req, fn})
	}
	parallel := opts.Parallel
	if parallel <= 0 {
		parallel = DefaultParallel
	}
	queue := make(chan job)
	var wg sync.WaitGroup
	for range min(parallel, max(len(jobs), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range queue {
				res := run.Run(ctx, j.req, j.fn.FunctionName)
				res.Function = j.fn.LogicalID
				emit(res)
			}
		}()
	}
	for _, j := range jobs {
		if ctx.Err() != nil {
			break
		}
		queue <- j
	}
	close(queue)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("conformance run interrupted: %w", err)
	}
	rep.Sort()
	rep.Duration = time.Since(started)
	return rep, nil
}

// Select filters a requirement set by suite names and IDs (both optional;
// both apply when given). An unknown suite or ID is an error.
func Select(set *spec.Set, suites, ids []string) ([]*spec.Requirement, error) {
	known := set.Suites()
	for _, s := range suites {
		if !slices.Contains(known, s) {
			return nil, fmt.Errorf("unknown suite %q (have: %s)", s, strings.Join(known, ", "))
		}
	}
	var missing []string
	for _, id := range ids {
		if _, ok := set.Get(id); !ok {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, fmt.Errorf("unknown requirement id(s): %s", strings.Join(missing, ", "))
	}
	var out []*spec.Requirement
	for _, r := range set.Requirements {
		if len(suites) > 0 && !slices.Contains(suites, r.Suite) {
			continue
		}
		if len(ids) > 0 && !slices.Contains(ids, r.ID) {
			continue
		}
		out = append(out, r)
	}
	return out, nil
}

// Deployer registers a template's functions with a server. It returns the
// function name of each logical ID it deployed; logical IDs it leaves out
// keep the name the template binding gives them.
type Deployer interface {
	Deploy(ctx context.Context, templatePath string) (map[string]string, error)
}

// DeployerFunc adapts a function to Deployer.
type DeployerFunc func(ctx context.Context, templatePath string) (map[string]string, error)

// Deploy implements Deployer.
func (f DeployerFunc) Deploy(ctx context.Context, templatePath string) (map[string]string, error) {
	return f(ctx, templatePath)
}

// NewDeployerFunc builds the deployer of an in-process server.
type NewDeployerFunc func(srv *server.Server) (Deployer, error)

// ErrNoDeployer is returned when Run must start a server in-process but
// no template deployer is wired.
var ErrNoDeployer = errors.New("no template deployer is wired for the in-process server: pass --endpoint of a server that already runs the template's functions (e.g. `duro dev --template`), or wire conformance.Options.NewDeployer")

// InProcess is a server started by StartInProcess.
type InProcess struct {
	Server *server.Server
	// Endpoint is the server's base URL.
	Endpoint string
	// FunctionNames maps logical IDs to deployed function names.
	FunctionNames map[string]string
	dataDir       string
}

// Shutdown stops the server and removes its data directory.
func (p *InProcess) Shutdown(ctx context.Context) error {
	err := p.Server.Shutdown(ctx)
	if rerr := os.RemoveAll(p.dataDir); err == nil && rerr != nil {
		err = fmt.Errorf("remove data dir: %w", rerr)
	}
	return err
}

// StartInProcess starts a Duro server on a loopback port with a fresh data
// directory and deploys the template with newDeployer.
func StartInProcess(ctx context.Context, newDeployer NewDeployerFunc, templatePath string, logger *slog.Logger) (*InProcess, error) {
	if newDeployer == nil {
		return nil, ErrNoDeployer
	}
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	dir, err := os.MkdirTemp("", "duro-conformance-")
	if err != nil {
		return nil, fmt.Errorf("in-process server: %w", err)
	}
	srv, err := server.Start(ctx, server.Config{
		Listen: "127.0.0.1:0", DataDir: dir, Region: "us-east-1", AccountID: "123456789012", Logger: logger,
	})
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("in-process server: %w", err)
	}
	p := &InProcess{Server: srv, Endpoint: srv.URL(), dataDir: dir}
	fail := func(err error) (*InProcess, error) {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = p.Shutdown(sctx)
		return nil, err
	}
	d, err := newDeployer(srv)
	if err != nil {
		return fail(fmt.Errorf("template deployer: %w", err))
	}
	names, err := d.Deploy(ctx, templatePath)
	if err != nil {
		return fail(fmt.Errorf("deploy %s: %w", templatePath, err))
	}
	p.FunctionNames = names
	return p, nil
}
