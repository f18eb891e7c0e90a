package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// followInterval is how often --follow polls the execution's history.
const followInterval = 300 * time.Millisecond

// invokeOptions are the flags of `duro invoke`.
type invokeOptions struct {
	client    clientOptions
	payload   string
	name      string
	qualifier string
	async     bool
	follow    bool
	// interval is the --follow polling period.
	interval time.Duration
}

// invokeResult is what `duro invoke -o json` prints for a finished
// execution (or plain invocation).
type invokeResult struct {
	DurableExecutionArn string             `json:"DurableExecutionArn,omitempty"`
	ExecutedVersion     string             `json:"ExecutedVersion,omitempty"`
	Status              string             `json:"Status"`
	Result              any                `json:"Result,omitempty"`
	Error               *types.ErrorObject `json:"Error,omitempty"`
}

// newInvokeCommand builds `duro invoke`.
func newInvokeCommand() *cobra.Command {
	o := invokeOptions{interval: followInterval}
	cmd := &cobra.Command{
		Use:   "invoke FUNCTION",
		Short: "Start an execution of a function; print its result, or its ARN with --async",
		Long: `invoke starts an execution of a durable function (Invoke with the qualifier,
$LATEST by default) and waits for it to end, then prints its result on stdout
(its ARN and status go to stderr). A function without DurableConfig is invoked
once.

  --async   start the execution and print its ARN at once.
  --follow  start the execution and show its progress live until it ends (the
            operation in progress, the steps done, the waits pending with the
            time left, the callbacks pending with their ids), then the result.
            On a terminal the view is redrawn in place; otherwise one line is
            printed per history event.

With --output json the outcome is printed as
{"DurableExecutionArn","ExecutedVersion","Status","Result","Error"} (Result is
the execution's result JSON itself); with --async as
{"DurableExecutionArn","StatusCode","ExecutedVersion"}.

` + exitCodesHelp,
		Example: `  duro invoke order-workflow --payload '{"orderId":"o-1"}'
  duro invoke order-workflow --payload @order.json --name order-o-1 --follow
  ARN=$(duro invoke order-workflow --async --payload '{}')`,
		Args:              withUsage(cobra.ExactArgs(1)),
		ValidArgsFunction: completeFunctionNames(&o.client),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd, args[0])
		},
	}
	addClientFlags(cmd, &o.client)
	f := cmd.Flags()
	f.StringVarP(&o.payload, "payload", "p", "", "input of the execution: JSON, or @FILE to read it from a file (@- for stdin)")
	f.StringVarP(&o.name, "name", "n", "", "execution name (DurableExecutionName): starting the same name twice returns the first execution")
	f.StringVarP(&o.qualifier, "qualifier", "q", "$LATEST", "function version or alias to invoke")
	f.BoolVar(&o.async, "async", false, "do not wait: print the execution's ARN (InvocationType Event)")
	f.BoolVarP(&o.follow, "follow", "f", false, "show the execution's progress live until it ends, then its result")
	return cmd
}

// run invokes the function.
func (o *invokeOptions) run(cmd *cobra.Command, function string) error {
	if o.async && o.follow {
		return usageErrorf("--async and --follow exclude each other")
	}
	payload, err := readJSONArg("payload", o.payload, cmd.InOrStdin())
	if err != nil {
		return err
	}
	c, err := o.client.client(false)
	if err != nil {
		return err
	}
	in := &lambda.InvokeInput{FunctionName: aws.String(function), Payload: payload}
	if o.qualifier != "" {
		in.Qualifier = aws.String(o.qualifier)
	}
	if o.name != "" {
		in.DurableExecutionName = aws.String(o.name)
	}
	if o.async || o.follow {
		in.InvocationType = types.InvocationTypeEvent
	}
	ctx := cmd.Context()
	out, err := c.Invoke(ctx, in)
	if err != nil {
		return o.client.fail(err, "invoke "+function, "list the functions with `duro functions list`")
	}
	arn := aws.ToString(out.DurableExecutionArn)
	w := cmd.OutOrStdout()
	switch {
	case o.async:
		if o.client.json() {
			return writeJSON(w, map[string]any{"DurableExecutionArn": out.DurableExecutionArn, "StatusCode": out.StatusCode, "ExecutedVersion": out.ExecutedVersion})
		}
		if arn == "" {
			fmt.Fprintf(cmd.ErrOrStderr(), "%s is not a durable function: it was invoked once in the background (no execution ARN)\n", function)
			return nil
		}
		fmt.Fprintln(w, arn)
		return nil
	case o.follow:
		if arn == "" {
			return &cliError{code: exitError, msg: function + " is not a durable function: there is no execution to follow (it was invoked once in the background)",
				hint: "create it with a DurableConfig (`duro functions create --durable …`)"}
		}
		return o.followAndReport(ctx, cmd, c, arn)
	}
	res := invokeResult{DurableExecutionArn: arn, ExecutedVersion: aws.ToString(out.ExecutedVersion), Status: string(types.ExecutionStatusSucceeded)}
	if out.FunctionError == nil {
		if len(out.Payload) > 0 {
			res.Result = rawJSON(aws.String(string(out.Payload)))
		}
		return o.report(cmd, res)
	}
	if arn == "" {
		// A plain function failed: its error is Lambda's function-error payload.
		var fe struct {
			ErrorType    *string  `json:"errorType"`
			ErrorMessage *string  `json:"errorMessage"`
			StackTrace   []string `json:"stackTrace"`
		}
		_ = json.Unmarshal(out.Payload, &fe)
		res.Status = string(types.ExecutionStatusFailed)
		res.Error = &types.ErrorObject{ErrorType: fe.ErrorType, ErrorMessage: fe.ErrorMessage, StackTrace: fe.StackTrace}
		return o.report(cmd, res)
	}
	// The execution did not succeed: its description says how it ended.
	d, err := c.GetDurableExecution(ctx, &lambda.GetDurableExecutionInput{DurableExecutionArn: aws.String(arn), IncludeExecutionData: aws.Bool(true)})
	if err != nil {
		return o.client.fail(err, "describe execution", "")
	}
	if d.Status == types.ExecutionStatusRunning {
		var fe struct {
			ErrorMessage string `json:"errorMessage"`
		}
		_ = json.Unmarshal(out.Payload, &fe)
		return &cliError{code: exitError, msg: "the synchronous invocation ended before the execution: " + fe.ErrorMessage,
			hint: fmt.Sprintf("the execution goes on: follow it with `duro executions get %s`", arn)}
	}
	return o.report(cmd, resultOf(d))
}

// resultOf summarises a finished execution.
func resultOf(d *lambda.GetDurableExecutionOutput) invokeResult {
	return invokeResult{
		DurableExecutionArn: aws.ToString(d.DurableExecutionArn), ExecutedVersion: aws.ToString(d.Version),
		Status: string(d.Status), Result: rawJSON(d.Result), Error: d.Error,
	}
}

// followAndReport shows the execution's progress until it ends, then its
// outcome. Ctrl-C stops following; the execution goes on.
func (o *invokeOptions) followAndReport(ctx context.Context, cmd *cobra.Command, c *lambda.Client, arn string) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	w := cmd.OutOrStdout()
	progress := w
	if o.client.json() {
		// Keep stdout a single JSON document: the live view goes to stderr.
		progress = cmd.ErrOrStderr()
	}
	tty, width := terminal(progress)
	d, err := followExecution(ctx, c, arn, newProgressView(progress, tty, width), o.interval)
	if err != nil {
		if ctx.Err() != nil {
			return &cliError{code: exitError, msg: "stopped following " + arn, hint: "the execution goes on: see it with `duro executions get " + arn + "`"}
		}
		return o.client.fail(err, "follow execution", "")
	}
	return o.report(cmd, resultOf(d))
}

// report prints the outcome of an execution and turns a failure into exit
// code 4.
func (o *invokeOptions) report(cmd *cobra.Command, res invokeResult) error {
	w := cmd.OutOrStdout()
	if o.client.json() {
		if err := writeJSON(w, res); err != nil {
			return err
		}
	} else {
		if res.DurableExecutionArn != "" {
			fmt.Fprintf(cmd.ErrOrStderr(), "Execution %s %s\n", res.DurableExecutionArn, res.Status)
		}
		if res.Status == string(types.ExecutionStatusSucceeded) && res.Result != nil {
			writeResult(w, res.Result)
		}
	}
	if res.Status == string(types.ExecutionStatusSucceeded) {
		return nil
	}
	hint := "the function failed; its log is in the output of `duro serve`"
	if res.DurableExecutionArn != "" {
		hint = fmt.Sprintf("see what happened with `duro executions history %s` (and `duro executions logs` for its output)", res.DurableExecutionArn)
	}
	msg := "execution " + res.Status
	if e := fmtError(res.Error); e != "" {
		msg += ": " + e
	}
	return &cliError{code: exitExecutionFailed, msg: msg, hint: hint}
}

// writeResult prints a result for people: indented JSON.
func writeResult(w io.Writer, v any) {
	switch r := v.(type) {
	case json.RawMessage:
		fmt.Fprintln(w, prettyJSON(string(r)))
	default:
		fmt.Fprintln(w, r)
	}
}

// terminal reports whether w is a terminal, and its width.
func terminal(w io.Writer) (bool, int) {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return false, 0
	}
	width, _, err := term.GetSize(int(f.Fd()))
	if err != nil || width <= 0 {
		width = 80
	}
	return true, width
}

// followExecution polls the history of an execution every interval and
// shows its progress on view until the execution ends; then it returns the
// execution's description (with its result).
func followExecution(ctx context.Context, c *lambda.Client, arn string, view *progressView, interval time.Duration) (*lambda.GetDurableExecutionOutput, error) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		events, err := allEvents(ctx, c, arn, false)
		if err != nil {
			return nil, err
		}
		p := buildProgress(arn, events)
		view.update(p, events, time.Now())
		if p.ended() {
			break
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
		}
	}
	return c.GetDurableExecution(ctx, &lambda.GetDurableExecutionInput{DurableExecutionArn: aws.String(arn), IncludeExecutionData: aws.Bool(true)})
}

// allEvents reads an execution's whole history, oldest first.
func allEvents(ctx context.Context, c *lambda.Client, arn string, withData bool) ([]types.Event, error) {
	var all []types.Event
	p := lambda.NewGetDurableExecutionHistoryPaginator(c, &lambda.GetDurableExecutionHistoryInput{
		DurableExecutionArn: aws.String(arn), IncludeExecutionData: aws.Bool(withData), MaxItems: 1000,
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		all = append(all, page.Events...)
	}
	return all, nil
}
