package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/spf13/cobra"
)

// hintCheckARN is the hint for an execution that does not exist.
const hintCheckARN = "check the ARN with `duro executions list`"

// logsInterval is how often `executions logs --follow` polls.
const logsInterval = 500 * time.Millisecond

// newExecutionsCommand builds `duro executions` and its subcommands.
func newExecutionsCommand() *cobra.Command {
	o := &clientOptions{}
	cmd := &cobra.Command{
		Use:     "executions",
		Aliases: []string{"execution", "exec"},
		Short:   "List, inspect and stop durable executions",
		Long: `executions lists durable executions, shows one (its input, result or error),
its history of events and its function's logs, and stops it.

` + exitCodesHelp,
		Args: withUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	addClientFlags(cmd, o)
	cmd.AddCommand(
		newExecutionsListCommand(o),
		newExecutionsGetCommand(o),
		newExecutionsHistoryCommand(o),
		newExecutionsLogsCommand(o, logsInterval),
		newExecutionsStopCommand(o),
	)
	return cmd
}

// listOptions are the flags of `duro executions list`.
type listOptions struct {
	function  string
	qualifier string
	statuses  []string
	since     string
	name      string
	limit     int
}

// newExecutionsListCommand builds `duro executions list`.
func newExecutionsListCommand(o *clientOptions) *cobra.Command {
	var l listOptions
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List executions, newest first",
		Long: `list shows executions, newest first: of one function with --function, else of
every function (ListDurableExecutionsByFunction for each function ListFunctions
returns). --output json prints {"DurableExecutions":[…]}.

--since takes a duration (90s, 15m, 2h, 7d: started that long ago or later) or
a time (2026-01-02, "2026-01-02 15:04", RFC 3339; local time unless a zone is
given).`,
		Example: `  duro executions list
  duro executions list --function order-workflow --status running --since 1h
  duro executions list --status failed,timed_out -o json`,
		Args: withUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runListExecutions(cmd, o, l)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&l.function, "function", "F", "", "only this function's executions (default: every function)")
	f.StringVarP(&l.qualifier, "qualifier", "q", "", "only executions of this function version (with --function)")
	f.StringSliceVarP(&l.statuses, "status", "s", nil, "only these statuses (repeatable or comma-separated): RUNNING, SUCCEEDED, FAILED, TIMED_OUT, STOPPED")
	f.StringVar(&l.since, "since", "", "only executions started since a duration ago (1h, 7d) or a time (2026-01-02 15:04)")
	f.StringVarP(&l.name, "name", "n", "", "only executions with this name")
	f.IntVar(&l.limit, "limit", 50, "show at most this many executions (0: all)")
	_ = cmd.RegisterFlagCompletionFunc("function", func(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		return functionNames(cmd.Context(), o, toComplete), cobra.ShellCompDirectiveNoFileComp
	})
	_ = cmd.RegisterFlagCompletionFunc("status", cobra.FixedCompletions(statusNames(), cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// statusNames lists the execution statuses.
func statusNames() []string {
	var out []string
	for _, s := range types.ExecutionStatus("").Values() {
		out = append(out, string(s))
	}
	return out
}

// parseStatuses validates --status values (any case).
func parseStatuses(in []string) ([]types.ExecutionStatus, error) {
	var out []types.ExecutionStatus
	for _, s := range in {
		s = strings.ToUpper(strings.TrimSpace(s))
		if !slices.Contains(statusNames(), s) {
			return nil, usageErrorf("--status %q: want one of %s", s, strings.Join(statusNames(), ", "))
		}
		out = append(out, types.ExecutionStatus(s))
	}
	return out, nil
}

// parseSince parses --since: a duration before now (Go syntax, plus "d" for
// days) or a time.
func parseSince(s string, now time.Time) (time.Time, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.ParseFloat(days, 64); err == nil && n >= 0 {
			return now.Add(-time.Duration(n * float64(24*time.Hour))), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usageErrorf("--since %q: want a duration (30m, 2h, 7d) or a time (2026-01-02, \"2026-01-02 15:04\", RFC 3339)", s)
}

// runListExecutions runs `duro executions list`.
func runListExecutions(cmd *cobra.Command, o *clientOptions, l listOptions) error {
	statuses, err := parseStatuses(l.statuses)
	if err != nil {
		return err
	}
	if l.limit < 0 {
		return usageErrorf("--limit %d: want 0 (all) or more", l.limit)
	}
	if l.qualifier != "" && l.function == "" {
		return usageErrorf("--qualifier needs --function")
	}
	now := time.Now()
	var since *time.Time
	if l.since != "" {
		t, err := parseSince(l.since, now)
		if err != nil {
			return err
		}
		since = &t
	}
	c, err := o.client(true)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	functions := []string{l.function}
	if l.function == "" {
		if functions, err = allFunctionNames(ctx, c); err != nil {
			return o.fail(err, "list functions", "")
		}
	}
	executions := []types.Execution{}
	for _, fn := range functions {
		in := &lambda.ListDurableExecutionsByFunctionInput{FunctionName: aws.String(fn), Statuses: statuses, StartedAfter: since}
		if l.name != "" {
			in.DurableExecutionName = aws.String(l.name)
		}
		if l.qualifier != "" {
			in.Qualifier = aws.String(l.qualifier)
		}
		found, err := listFunctionExecutions(ctx, c, in, l.limit)
		if err != nil {
			if l.function == "" && isNotFound(err) {
				continue // deleted since ListFunctions
			}
			return o.fail(err, "list executions of "+fn, "list the functions with `duro functions list`")
		}
		executions = append(executions, found...)
	}
	slices.SortStableFunc(executions, func(a, b types.Execution) int {
		return aws.ToTime(b.StartTimestamp).Compare(aws.ToTime(a.StartTimestamp))
	})
	if l.limit > 0 && len(executions) > l.limit {
		executions = executions[:l.limit]
	}
	w := cmd.OutOrStdout()
	if o.json() {
		return writeJSON(w, map[string]any{"DurableExecutions": executions})
	}
	if len(executions) == 0 {
		fmt.Fprintln(w, "No executions found.")
		return nil
	}
	tw := newTable(w)
	row(tw, "STATUS", "NAME", "FUNCTION", "STARTED", "DURATION", "ARN")
	for _, x := range executions {
		row(tw, string(x.Status), dash(aws.ToString(x.DurableExecutionName)), functionOfArn(aws.ToString(x.FunctionArn)),
			fmtTime(x.StartTimestamp, now), runTime(x.StartTimestamp, x.EndTimestamp, now), aws.ToString(x.DurableExecutionArn))
	}
	return tw.Flush()
}

// listFunctionExecutions pages ListDurableExecutionsByFunction until limit
// executions (0: all) were read.
func listFunctionExecutions(ctx context.Context, c *lambda.Client, in *lambda.ListDurableExecutionsByFunctionInput, limit int) ([]types.Execution, error) {
	in.MaxItems = 1000
	if limit > 0 && limit < 1000 {
		in.MaxItems = int32(limit)
	}
	var out []types.Execution
	p := lambda.NewListDurableExecutionsByFunctionPaginator(c, in)
	for p.HasMorePages() && (limit == 0 || len(out) < limit) {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, page.DurableExecutions...)
	}
	return out, nil
}

// allFunctionNames lists every function's name.
func allFunctionNames(ctx context.Context, c *lambda.Client) ([]string, error) {
	var names []string
	p := lambda.NewListFunctionsPaginator(c, &lambda.ListFunctionsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, f := range page.Functions {
			names = append(names, aws.ToString(f.FunctionName))
		}
	}
	return names, nil
}

// functionOfArn shortens a function ARN to "name:version".
func functionOfArn(arn string) string {
	if _, rest, ok := strings.Cut(arn, ":function:"); ok {
		return rest
	}
	return dash(arn)
}

// newExecutionsGetCommand builds `duro executions get`.
func newExecutionsGetCommand(o *clientOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "get ARN",
		Aliases: []string{"describe", "show"},
		Short:   "Show an execution: status, timing, input, result or error",
		Long: `get shows an execution (GetDurableExecution with its data): status, function,
timing, input, and its result or error. --output json prints the API response.`,
		Args: withUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client(true)
			if err != nil {
				return err
			}
			d, err := c.GetDurableExecution(cmd.Context(), &lambda.GetDurableExecutionInput{DurableExecutionArn: aws.String(args[0]), IncludeExecutionData: aws.Bool(true)})
			if err != nil {
				return o.fail(err, "get execution", hintCheckARN)
			}
			if o.json() {
				return writeJSON(cmd.OutOrStdout(), d)
			}
			printExecution(cmd.OutOrStdout(), d, time.Now())
			return nil
		},
	}
}

// printExecution shows an execution as labelled fields; JSON documents are
// indented under their label.
func printExecution(w io.Writer, d *lambda.GetDurableExecutionOutput, now time.Time) {
	field := func(label, value string) {
		if value == "" {
			return
		}
		lines := strings.Split(value, "\n")
		fmt.Fprintf(w, "%-11s %s\n", label, lines[0])
		for _, l := range lines[1:] {
			fmt.Fprintf(w, "%-11s %s\n", "", l)
		}
	}
	field("ARN", aws.ToString(d.DurableExecutionArn))
	field("Name", aws.ToString(d.DurableExecutionName))
	fn := functionOfArn(aws.ToString(d.FunctionArn))
	if v := aws.ToString(d.Version); v != "" && !strings.HasSuffix(fn, ":"+v) {
		fn += " (version " + v + ")"
	}
	field("Function", fn)
	field("Status", string(d.Status))
	field("Started", fmtTime(d.StartTimestamp, now))
	if d.EndTimestamp != nil {
		field("Ended", fmtTime(d.EndTimestamp, now))
	}
	field("Duration", runTime(d.StartTimestamp, d.EndTimestamp, now))
	if c := d.DurableConfig; c != nil {
		var parts []string
		if c.ExecutionTimeout != nil {
			parts = append(parts, fmt.Sprintf("execution timeout %s", fmtDuration(time.Duration(*c.ExecutionTimeout)*time.Second)))
		}
		if c.RetentionPeriodInDays != nil {
			parts = append(parts, fmt.Sprintf("retention %d days", *c.RetentionPeriodInDays))
		}
		field("Config", strings.Join(parts, ", "))
	}
	if d.InputPayload != nil {
		field("Input", prettyJSON(*d.InputPayload))
	}
	if d.Result != nil {
		field("Result", prettyJSON(*d.Result))
	}
	if e := d.Error; e != nil {
		field("Error", fmtError(e))
		if e.ErrorData != nil {
			field("Error data", prettyJSON(*e.ErrorData))
		}
		field("Stack trace", strings.Join(e.StackTrace, "\n"))
	}
}

// newExecutionsHistoryCommand builds `duro executions history`.
func newExecutionsHistoryCommand(o *clientOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "history ARN",
		Aliases: []string{"events"},
		Short:   "Show an execution's history of events",
		Long: `history shows every event of an execution, oldest first (all pages of
GetDurableExecutionHistory, with execution data): its time and distance from
the start, its type, the operation it is about, and a summary of its details
(results, errors, wait deadlines, callback ids, retries). --output json prints
{"Events":[…]}.`,
		Args: withUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client(true)
			if err != nil {
				return err
			}
			events, err := allEvents(cmd.Context(), c, args[0], true)
			if err != nil {
				return o.fail(err, "get history", hintCheckARN)
			}
			w := cmd.OutOrStdout()
			if o.json() {
				if events == nil {
					events = []types.Event{}
				}
				return writeJSON(w, map[string]any{"Events": events})
			}
			now := time.Now()
			var base *time.Time
			if len(events) > 0 {
				base = events[0].EventTimestamp
			}
			tw := newTable(w)
			row(tw, "#", "TIME", "ELAPSED", "EVENT", "OPERATION", "DETAILS")
			for _, ev := range events {
				ts, off := "-", "-"
				if t := ev.EventTimestamp; t != nil {
					ts = t.Local().Format("15:04:05.000")
					if base != nil {
						off = "+" + fmtDuration(t.Sub(*base))
					}
				}
				row(tw, strconv.Itoa(int(aws.ToInt32(ev.EventId))), ts, off, string(ev.EventType), dash(eventOperation(ev)), eventDetail(ev, now))
			}
			return tw.Flush()
		},
	}
}

// newExecutionsLogsCommand builds `duro executions logs`; interval is the
// --follow polling period.
func newExecutionsLogsCommand(o *clientOptions, interval time.Duration) *cobra.Command {
	var follow bool
	cmd := &cobra.Command{
		Use:   "logs ARN",
		Short: "Show the log lines the execution's function printed",
		Long: `logs prints the lines the execution's function wrote to stdout and stderr, in
the order they were written (Duro's log route, GET /duro/v1/logs). With
--follow it keeps printing new lines until the execution has ended.

--output json prints {"Logs":[…]}; with --follow, one JSON object per line.
Functions run in-process (embedding, tests) have no captured output.`,
		Args: withUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return showLogs(cmd, o, args[0], follow, interval)
		},
	}
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new lines until the execution ends")
	return cmd
}

// showLogs runs `duro executions logs`.
func showLogs(cmd *cobra.Command, o *clientOptions, arn string, follow bool, interval time.Duration) error {
	c, err := o.client(true)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	// The log route answers an unknown ARN with no lines: check it exists.
	d, err := c.GetDurableExecution(ctx, &lambda.GetDurableExecutionInput{DurableExecutionArn: aws.String(arn)})
	if err != nil {
		return o.fail(err, "get execution", hintCheckARN)
	}
	ended := d.Status != types.ExecutionStatusRunning
	w := cmd.OutOrStdout()
	hc := &http.Client{Timeout: time.Minute}
	all := []logEvent{}
	token := ""
	for {
		page, err := o.listLogs(ctx, hc, arn, token)
		if err != nil {
			return o.fail(err, "read logs", hintCheckARN)
		}
		token = page.NextToken
		for _, l := range page.Logs {
			switch {
			case o.json() && follow:
				b, err := json.Marshal(l)
				if err != nil {
					return fmt.Errorf("encode log line: %w", err)
				}
				fmt.Fprintf(w, "%s\n", b)
			case o.json():
				all = append(all, l)
			default:
				fmt.Fprintf(w, "%s %-6s %s\n", time.UnixMilli(l.Timestamp).Local().Format("15:04:05.000"), l.Stream, l.Message)
			}
		}
		if len(page.Logs) > 0 {
			continue // drain
		}
		if !follow || ended {
			break
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(interval):
		}
		// Read the lines written before the end once more, then stop.
		d, err := c.GetDurableExecution(ctx, &lambda.GetDurableExecutionInput{DurableExecutionArn: aws.String(arn)})
		if err != nil {
			return o.fail(err, "get execution", hintCheckARN)
		}
		ended = d.Status != types.ExecutionStatusRunning
	}
	if o.json() && !follow {
		return writeJSON(w, logPage{Logs: all, NextToken: token})
	}
	return nil
}

// newExecutionsStopCommand builds `duro executions stop`.
func newExecutionsStopCommand(o *clientOptions) *cobra.Command {
	var errType, errMessage, errData string
	cmd := &cobra.Command{
		Use:   "stop ARN",
		Short: "Stop a running execution",
		Long: `stop ends a running execution at once with status STOPPED
(StopDurableExecution), optionally with an error that records why.
--output json prints the API response ({"StopTimestamp"}).`,
		Args: withUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client(true)
			if err != nil {
				return err
			}
			in := &lambda.StopDurableExecutionInput{DurableExecutionArn: aws.String(args[0])}
			if errType != "" || errMessage != "" || errData != "" {
				in.Error = &types.ErrorObject{ErrorType: optional(errType), ErrorMessage: optional(errMessage), ErrorData: optional(errData)}
			}
			out, err := c.StopDurableExecution(cmd.Context(), in)
			if err != nil {
				return o.fail(err, "stop execution", hintCheckARN)
			}
			if o.json() {
				return writeJSON(cmd.OutOrStdout(), out)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Stopped %s at %s\n", args[0], fmtTime(out.StopTimestamp, time.Now()))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&errType, "error-type", "", "error type recorded with the stop")
	f.StringVar(&errMessage, "error-message", "", "error message recorded with the stop")
	f.StringVar(&errData, "error-data", "", "error data recorded with the stop")
	return cmd
}

// optional returns nil for an empty string.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
