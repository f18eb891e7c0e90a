// Package runner runs one conformance requirement against a Duro server
// through the AWS Lambda API (aws-sdk-go-v2) and the log API, reproducing
// the upstream runner's flows (conformance.md §2.2, §2.3):
//
// Sync (no AsyncInvoke): Invoke(Qualifier=$LATEST, RequestResponse,
// Payload=json.dumps(Input)) with retries disabled; one
// GetDurableExecutionHistory(IncludeExecutionData=true); history match;
// then GetDurableExecution for ExpectedResult (status, then result); then
// ExpectedLogs.
//
// Async (AsyncInvoke): Invoke(Event); then every PollIntervalSeconds
// (default 2 s) fetch the history, apply the WaitForCallback name
// inheritance, stop on a terminal event (ExecutionSucceeded, ExecutionFailed,
// ExecutionTimedOut — ExecutionStopped is not terminal for upstream), fail
// after NoProgressTimeoutSeconds (default 30 s) without new events,
// dispatch CallbackActions, and — when the requirement has no
// ExpectedResult — stop as soon as the expected history matches. Then the
// history match, the ExpectedResult check, one more history fetch (saved
// in the result) and ExpectedLogs. An execution still RUNNING at the end
// is stopped with StopDurableExecution.
package runner

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/duro-run/duro/internal/conformance/callbacks"
	"github.com/duro-run/duro/internal/conformance/logs"
	"github.com/duro-run/duro/internal/conformance/match"
	"github.com/duro-run/duro/internal/conformance/placeholder"
	"github.com/duro-run/duro/internal/conformance/pyfmt"
	"github.com/duro-run/duro/internal/conformance/report"
	"github.com/duro-run/duro/internal/conformance/spec"
)

// Defaults of the async flow (upstream config.py).
const (
	DefaultPollInterval      = 2 * time.Second
	DefaultNoProgressTimeout = 30 * time.Second
	// DefaultLogSettle is how long log lines must stop arriving before
	// ExpectedLogs are checked.
	DefaultLogSettle = 500 * time.Millisecond
	// maxLogWait bounds the wait for log lines to settle.
	maxLogWait = 10 * time.Second
	// Qualifier is the version every Invoke targets.
	Qualifier = "$LATEST"
)

// Config configures a Runner.
type Config struct {
	// Client talks to the server (see NewClient). Required.
	Client *lambda.Client
	// Logs reads function log lines; requirements with ExpectedLogs fail
	// when it is nil.
	Logs logs.Source
	// AllLogs disables the upstream CloudWatch filter (only JSON lines
	// carrying the execution ARN in durableExecutionArn or executionArn)
	// and checks every line the log API returns for the execution.
	AllLogs bool
	// PollInterval and NoProgressTimeout override the async defaults (a
	// requirement's AsyncConfig still wins).
	PollInterval      time.Duration
	NoProgressTimeout time.Duration
	// LogSettle is how long the log line count must stay unchanged before
	// ExpectedLogs are checked (default DefaultLogSettle; negative: read
	// once).
	LogSettle time.Duration
	// Timeout bounds one requirement (0: no bound beyond ctx).
	Timeout time.Duration
	// Logf, when set, receives progress notes prefixed with the
	// requirement ID.
	Logf func(format string, args ...any)
	// NewContext returns the placeholder context of a requirement (tests
	// seed it); default placeholder.New(nil).
	NewContext func() *placeholder.Context
}

// Runner runs requirements; it is safe for concurrent use.
type Runner struct {
	cfg Config
}

// New returns a Runner.
func New(cfg Config) (*Runner, error) {
	if cfg.Client == nil {
		return nil, errors.New("runner: a Lambda client is required")
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.NoProgressTimeout <= 0 {
		cfg.NoProgressTimeout = DefaultNoProgressTimeout
	}
	if cfg.LogSettle == 0 {
		cfg.LogSettle = DefaultLogSettle
	}
	if cfg.NewContext == nil {
		cfg.NewContext = func() *placeholder.Context { return placeholder.New(nil) }
	}
	return &Runner{cfg: cfg}, nil
}

// run is the state of one requirement.
type run struct {
	*Runner
	req    *spec.Requirement
	fn     string
	pctx   *placeholder.Context
	res    *report.Result
	logf   func(format string, args ...any)
	client *lambda.Client
}

// Run runs one requirement against functionName and returns its verdict
// (PASSED, FAILED or OPTIONAL_FAILED). The caller fills in Function.
func (r *Runner) Run(ctx context.Context, req *spec.Requirement, functionName string) report.Result {
	start := time.Now()
	res := report.Result{
		ID: req.ID, Suite: req.Suite, Description: req.Description, Optional: req.Optional,
		Async: req.AsyncInvoke, FunctionName: functionName,
	}
	if r.cfg.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.cfg.Timeout)
		defer cancel()
	}
	x := &run{Runner: r, req: req, fn: functionName, pctx: r.cfg.NewContext(), res: &res, client: r.cfg.Client,
		logf: func(format string, args ...any) {
			if r.cfg.Logf != nil {
				r.cfg.Logf("%s: "+format, append([]any{req.ID}, args...)...)
			}
		}}
	x.pctx.ResolveVariables(req.Variables)
	var errs []string
	if req.AsyncInvoke {
		errs = x.async(ctx)
	} else {
		errs = x.sync(ctx)
	}
	if ctx.Err() != nil && len(errs) > 0 {
		errs = append(errs, fmt.Sprintf("requirement interrupted: %v", context.Cause(ctx)))
	}
	res.Errors = errs
	res.Placeholders = x.pctx.Bindings()
	res.Duration = time.Since(start)
	switch {
	case len(errs) == 0:
		res.Status = report.Passed
	case req.Optional:
		res.Status = report.OptionalFailed
	default:
		res.Status = report.Failed
	}
	return res
}

// payload substitutes Input and serialises it with json.dumps.
func (x *run) payload() ([]byte, error) {
	s, err := pyfmt.JSONDumps(x.pctx.Substitute(x.req.Input))
	if err != nil {
		return nil, fmt.Errorf("serialise Input: %w", err)
	}
	return []byte(s), nil
}

func (x *run) sync(ctx context.Context) []string {
	body, err := x.payload()
	if err != nil {
		return []string{err.Error()}
	}
	x.logf("invoking %s (RequestResponse) with %s", x.fn, body)
	out, err := x.client.Invoke(ctx, &lambda.InvokeInput{
		FunctionName:   aws.String(x.fn),
		Qualifier:      aws.String(Qualifier),
		InvocationType: types.InvocationTypeRequestResponse,
		Payload:        body,
	}, noRetry)
	if err != nil {
		return []string{fmt.Sprintf("Invocation failed: %v", err)}
	}
	arn := aws.ToString(out.DurableExecutionArn)
	if arn == "" {
		return []string{fmt.Sprintf("No DurableExecutionArn in invocation response (status %d, function error %q, payload %s)",
			out.StatusCode, aws.ToString(out.FunctionError), snippet(out.Payload))}
	}
	x.res.ExecutionArn = arn
	defer x.stopIfRunning(ctx, arn)
	events, raw, err := fetchHistory(ctx, x.client, arn)
	x.res.History = jsonOrNil(raw)
	if err != nil {
		return []string{fmt.Sprintf("Failed to retrieve execution history: %v", err)}
	}
	if len(x.req.ExpectedHistory) == 0 {
		return []string{"No ExpectedExecutionHistory found in description file"}
	}
	if mm := match.New(x.pctx).Match(x.req.ExpectedHistory, events); len(mm) > 0 {
		return match.Messages(mm)
	}
	if x.req.HasExpectedResult {
		if errs := x.checkResult(ctx, arn); len(errs) > 0 {
			return errs
		}
	}
	return x.checkLogs(ctx, arn)
}

func (x *run) async(ctx context.Context) []string {
	body, err := x.payload()
	if err != nil {
		return []string{err.Error()}
	}
	actions, err := callbacks.ParseActions(x.req.CallbackActions)
	if err != nil {
		return []string{err.Error()}
	}
	interval, stall := x.cfg.PollInterval, x.cfg.NoProgressTimeout
	if x.req.PollIntervalSeconds > 0 {
		interval = seconds(x.req.PollIntervalSeconds)
	}
	if x.req.NoProgressTimeoutSeconds > 0 {
		stall = seconds(x.req.NoProgressTimeoutSeconds)
	}
	x.logf("invoking %s (Event) with %s", x.fn, body)
	out, err := x.client.Invoke(ctx, &lambda.InvokeInput{
		FunctionName:   aws.String(x.fn),
		Qualifier:      aws.String(Qualifier),
		InvocationType: types.InvocationTypeEvent,
		Payload:        body,
	}, noRetry)
	if err != nil {
		return []string{fmt.Sprintf("Async invocation failed: %v", err)}
	}
	arn := aws.ToString(out.DurableExecutionArn)
	if arn == "" {
		return []string{fmt.Sprintf("No DurableExecutionArn in async invocation response (status %d)", out.StatusCode)}
	}
	x.res.ExecutionArn = arn
	defer x.stopIfRunning(ctx, arn)

	p := x.poll(ctx, arn, actions, interval, stall)
	x.saveFinalHistory(ctx, arn)
	switch p.outcome {
	case historyMatched:
		return x.checkLogs(ctx, arn)
	case fetchFailed, interrupted:
		return p.errs
	}
	// Terminal, or no progress: match the last polled history, then the
	// result (upstream keeps the polling errors in front).
	errs := p.errs
	if len(x.req.ExpectedHistory) > 0 {
		if mm := match.New(x.pctx).Match(x.req.ExpectedHistory, p.events); len(mm) > 0 {
			return append(errs, match.Messages(mm)...)
		}
	}
	if x.req.HasExpectedResult {
		errs = append(errs, x.checkResult(ctx, arn)...)
	}
	if len(errs) > 0 {
		return errs
	}
	return x.checkLogs(ctx, arn)
}

// pollOutcome is how the polling loop ended.
type pollOutcome int

const (
	terminal       pollOutcome = iota // a terminal execution event appeared
	noProgress                        // the event count stopped growing
	historyMatched                    // history-only mode: the expected events matched
	fetchFailed                       // the history could not be read
	interrupted                       // ctx ended
)

// pollResult is the end state of the polling loop.
type pollResult struct {
	outcome pollOutcome
	// events is the last history fetched (with WaitForCallback names
	// inherited).
	events []any
	// errs are the errors gathered while polling.
	errs []string
}

// poll runs the async polling loop.
func (x *run) poll(ctx context.Context, arn string, actions []callbacks.Action, interval, noProgressAfter time.Duration) pollResult {
	d := callbacks.NewDispatcher(actions, x.pctx, callbackSender{x.client})
	d.Logf = x.logf
	var res pollResult
	lastCount := 0
	lastProgress := time.Now()
	for {
		if err := sleep(ctx, interval); err != nil {
			res.outcome = interrupted
			res.errs = append(res.errs, fmt.Sprintf("polling interrupted: %v", context.Cause(ctx)))
			return res
		}
		events, _, err := fetchHistory(ctx, x.client, arn)
		if err != nil {
			res.outcome = fetchFailed
			res.errs = append(res.errs, fmt.Sprintf("Failed to retrieve execution history during polling: %v", err))
			return res
		}
		match.InheritWaitForCallbackNames(events)
		res.events = events
		if status := TerminalStatus(events); status != "" {
			x.logf("terminal status %s after %d events", status, len(events))
			res.outcome = terminal
			return res
		}
		if len(events) > lastCount {
			lastCount, lastProgress = len(events), time.Now()
		} else if elapsed := time.Since(lastProgress); elapsed >= noProgressAfter {
			res.outcome = noProgress
			res.errs = append(res.errs, fmt.Sprintf("No new events for %.1fs (timeout: %ss)", elapsed.Seconds(), pyfmt.FloatRepr(noProgressAfter.Seconds())))
			return res
		}
		res.errs = append(res.errs, d.Poll(ctx, events)...)
		if ctx.Err() != nil {
			res.outcome = interrupted
			return res
		}
		if x.req.HistoryOnly && len(x.req.ExpectedHistory) > 0 {
			if mm := match.New(x.pctx).Match(x.req.ExpectedHistory, events); len(mm) == 0 {
				// Upstream returns a pass here, dropping earlier polling errors.
				x.logf("history-only: the expected events matched after %d events", len(events))
				res.outcome = historyMatched
				res.errs = nil
				return res
			}
		}
	}
}

// TerminalStatus returns the status of the last terminal execution event
// (ExecutionSucceeded → SUCCEEDED, ExecutionFailed → FAILED,
// ExecutionTimedOut → TIMED_OUT, and upstream's ExecutionCancelled →
// CANCELLED), or "" while the execution runs. ExecutionStopped is not
// terminal for the upstream runner.
func TerminalStatus(events []any) string {
	for i := len(events) - 1; i >= 0; i-- {
		ev, _ := events[i].(*pyfmt.Map)
		switch ev.Value("EventType") {
		case "ExecutionSucceeded":
			return "SUCCEEDED"
		case "ExecutionFailed":
			return "FAILED"
		case "ExecutionTimedOut":
			return "TIMED_OUT"
		case "ExecutionCancelled":
			return "CANCELLED"
		}
	}
	return ""
}

func (x *run) saveFinalHistory(ctx context.Context, arn string) {
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
	}
	if _, raw, err := fetchHistory(ctx, x.client, arn); err == nil {
		x.res.History = jsonOrNil(raw)
	}
}

// checkResult validates ExpectedResult with GetDurableExecution: the
// status first (checking stops on a mismatch), then — for SUCCEEDED and a
// present Result key — json.loads(Result) (or the raw string) == the
// substituted expected value.
func (x *run) checkResult(ctx context.Context, arn string) []string {
	out, err := x.client.GetDurableExecution(ctx, &lambda.GetDurableExecutionInput{DurableExecutionArn: aws.String(arn)})
	if err != nil {
		return []string{fmt.Sprintf("Failed to retrieve durable execution details: %v", err)}
	}
	var actualStatus any
	if out.Status != "" {
		actualStatus = string(out.Status)
	}
	exp := x.req.ExpectedResult
	if want := exp.Value("ExecutionStatus"); spec.Truthy(want) && !pyfmt.Equal(actualStatus, want) {
		msg := fmt.Sprintf("Expected ExecutionStatus=%s, got %s", pyfmt.Repr(want), pyfmt.Repr(actualStatus))
		if out.Error != nil {
			msg += fmt.Sprintf(" (error %s: %s)", aws.ToString(out.Error.ErrorType), aws.ToString(out.Error.ErrorMessage))
		}
		return []string{msg}
	}
	if actualStatus != "SUCCEEDED" || !exp.Has("Result") {
		return nil
	}
	var actual any
	if out.Result != nil {
		v, err := pyfmt.JSONLoads(*out.Result)
		if err != nil {
			actual = *out.Result
		} else {
			actual = v
		}
	}
	want := x.pctx.Substitute(exp.Value("Result"))
	if !pyfmt.Equal(actual, want) {
		return []string{fmt.Sprintf("Expected Result=%s, got %s", pyfmt.Repr(want), pyfmt.Repr(actual))}
	}
	return nil
}

// checkLogs validates ExpectedLogs against the log API.
func (x *run) checkLogs(ctx context.Context, arn string) []string {
	if len(x.req.ExpectedLogs) == 0 {
		return nil
	}
	if x.cfg.Logs == nil {
		return []string{"ExpectedLogs: no log source is configured"}
	}
	records, err := x.settledLogs(ctx, arn)
	if err != nil {
		return []string{fmt.Sprintf("ExpectedLogs: %v", err)}
	}
	if !x.cfg.AllLogs {
		records = logs.FilterExecution(records, arn)
	}
	sort.SliceStable(records, func(i, j int) bool { return records[i].Before(records[j]) })
	x.logf("checking %d ExpectedLogs entries against %d log records", len(x.req.ExpectedLogs), len(records))
	return logs.Validate(x.req.ExpectedLogs, records, x.pctx)
}

// settledLogs reads the execution's log lines until their number stops
// changing for LogSettle (bounded by maxLogWait).
func (x *run) settledLogs(ctx context.Context, arn string) ([]logs.Record, error) {
	records, err := x.cfg.Logs.Logs(ctx, arn)
	if err != nil || x.cfg.LogSettle < 0 {
		return records, err
	}
	deadline := time.Now().Add(maxLogWait)
	stableSince := time.Now()
	for time.Since(stableSince) < x.cfg.LogSettle && time.Now().Before(deadline) {
		if err := sleep(ctx, min(x.cfg.LogSettle, 250*time.Millisecond)); err != nil {
			return nil, err
		}
		again, err := x.cfg.Logs.Logs(ctx, arn)
		if err != nil {
			return nil, err
		}
		if len(again) != len(records) {
			stableSince = time.Now()
		}
		records = again
	}
	return records, nil
}

// stopIfRunning stops an execution the flow leaves RUNNING (history-only
// requirements with long waits, failures, interruptions).
func (x *run) stopIfRunning(ctx context.Context, arn string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	out, err := x.client.GetDurableExecution(ctx, &lambda.GetDurableExecutionInput{DurableExecutionArn: aws.String(arn)})
	if err != nil {
		x.logf("cleanup: GetDurableExecution: %v", err)
		return
	}
	if out.Status != types.ExecutionStatusRunning {
		return
	}
	if _, err := x.client.StopDurableExecution(ctx, &lambda.StopDurableExecutionInput{DurableExecutionArn: aws.String(arn)}); err != nil {
		x.logf("cleanup: StopDurableExecution: %v", err)
		return
	}
	x.logf("cleanup: stopped the still-running execution")
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return pyfmt.StrRepr(s)
}

func jsonOrNil(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	if _, err := pyfmt.JSONLoads(string(b)); err != nil {
		return nil
	}
	return b
}
