package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/spf13/cobra"

	"github.com/duro-run/duro/internal/runtime"
)

// hintListFunctions is the hint for a function that does not exist.
const hintListFunctions = "list the functions with `duro functions list`"

// defaultRole is the execution role functions are created with: Lambda
// requires one; Duro does not use it.
const defaultRole = "arn:aws:iam::123456789012:role/duro"

// newFunctionsCommand builds `duro functions` and its subcommands.
func newFunctionsCommand() *cobra.Command {
	o := &clientOptions{}
	cmd := &cobra.Command{
		Use:     "functions",
		Aliases: []string{"function", "fn"},
		Short:   "List, show, create and delete functions",
		Long: `functions manages the functions registered with the server (the Lambda
function API: ListFunctions, GetFunction, CreateFunction, DeleteFunction).

` + exitCodesHelp,
		Args: withUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	addClientFlags(cmd, o)
	cmd.AddCommand(newFunctionsListCommand(o), newFunctionsGetCommand(o), newFunctionsCreateCommand(o), newFunctionsDeleteCommand(o))
	return cmd
}

// newFunctionsListCommand builds `duro functions list`.
func newFunctionsListCommand(o *clientOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the functions",
		Long:    `list shows every function ($LATEST). --output json prints {"Functions":[…]}.`,
		Args:    withUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := o.client(true)
			if err != nil {
				return err
			}
			functions := []types.FunctionConfiguration{}
			p := lambda.NewListFunctionsPaginator(c, &lambda.ListFunctionsInput{})
			for p.HasMorePages() {
				page, err := p.NextPage(cmd.Context())
				if err != nil {
					return o.fail(err, "list functions", "")
				}
				functions = append(functions, page.Functions...)
			}
			sort.SliceStable(functions, func(i, j int) bool {
				return aws.ToString(functions[i].FunctionName) < aws.ToString(functions[j].FunctionName)
			})
			w := cmd.OutOrStdout()
			if o.json() {
				return writeJSON(w, map[string]any{"Functions": functions})
			}
			if len(functions) == 0 {
				fmt.Fprintln(w, "No functions. Create one with `duro functions create`.")
				return nil
			}
			now := time.Now()
			tw := newTable(w)
			row(tw, "NAME", "RUNTIME", "HANDLER", "DURABLE", "TIMEOUT", "MODIFIED")
			for _, f := range functions {
				row(tw, aws.ToString(f.FunctionName), dash(string(f.Runtime)), dash(aws.ToString(f.Handler)), durableSummary(f.DurableConfig),
					fmt.Sprintf("%ds", aws.ToInt32(f.Timeout)), lastModified(f.LastModified, now))
			}
			return tw.Flush()
		},
	}
}

// managedSummary describes a CapacityProviderConfig in a few words; empty
// for a function that is not on managed instances.
func managedSummary(c *types.CapacityProviderConfig) string {
	if c == nil || c.LambdaManagedInstancesCapacityProviderConfig == nil {
		return ""
	}
	mi := c.LambdaManagedInstancesCapacityProviderConfig
	n := "the runtime's default number of"
	if mi.PerExecutionEnvironmentMaxConcurrency != nil {
		n = strconv.Itoa(int(*mi.PerExecutionEnvironmentMaxConcurrency))
	}
	return fmt.Sprintf("%s, up to %s invocations per worker", aws.ToString(mi.CapacityProviderArn), n)
}

// durableSummary describes a DurableConfig in a few words.
func durableSummary(c *types.DurableConfig) string {
	if c == nil {
		return "no"
	}
	var parts []string
	if c.ExecutionTimeout != nil {
		parts = append(parts, "timeout "+fmtDuration(time.Duration(*c.ExecutionTimeout)*time.Second))
	}
	if c.RetentionPeriodInDays != nil {
		parts = append(parts, fmt.Sprintf("retention %dd", *c.RetentionPeriodInDays))
	}
	if len(parts) == 0 {
		return "yes"
	}
	return "yes (" + strings.Join(parts, ", ") + ")"
}

// lastModified formats Lambda's LastModified ("2006-01-02T15:04:05.000+0000").
func lastModified(s *string, now time.Time) string {
	if s == nil {
		return "-"
	}
	for _, layout := range []string{"2006-01-02T15:04:05.000-0700", time.RFC3339Nano} {
		if t, err := time.Parse(layout, *s); err == nil {
			return fmtTime(&t, now)
		}
	}
	return *s
}

// newFunctionsGetCommand builds `duro functions get`.
func newFunctionsGetCommand(o *clientOptions) *cobra.Command {
	var qualifier string
	cmd := &cobra.Command{
		Use:     "get NAME",
		Aliases: []string{"describe", "show"},
		Short:   "Show a function's configuration and versions",
		Long:    `get shows a function (GetFunction) and its versions. --output json prints the GetFunction response.`,
		Args:    withUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client(true)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			out, err := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(args[0]), Qualifier: optional(qualifier)})
			if err != nil {
				return o.fail(err, "get function", hintListFunctions)
			}
			w := cmd.OutOrStdout()
			if o.json() {
				return writeJSON(w, out)
			}
			var versions []string
			vs, err := c.ListVersionsByFunction(ctx, &lambda.ListVersionsByFunctionInput{FunctionName: aws.String(args[0])})
			if err == nil {
				for _, v := range vs.Versions {
					versions = append(versions, aws.ToString(v.Version))
				}
			}
			printFunction(w, out.Configuration, versions, time.Now())
			return nil
		},
	}
	cmd.Flags().StringVarP(&qualifier, "qualifier", "q", "", "version or alias (default $LATEST)")
	cmd.ValidArgsFunction = completeFunctionNames(o)
	return cmd
}

// printFunction shows a function configuration as labelled fields.
func printFunction(w io.Writer, f *types.FunctionConfiguration, versions []string, now time.Time) {
	if f == nil {
		return
	}
	tw := newTable(w)
	field := func(label, value string) {
		if value != "" {
			row(tw, label, value)
		}
	}
	field("Name", aws.ToString(f.FunctionName))
	field("ARN", aws.ToString(f.FunctionArn))
	field("Version", aws.ToString(f.Version))
	field("Runtime", string(f.Runtime))
	field("Handler", aws.ToString(f.Handler))
	field("Durable", durableSummary(f.DurableConfig))
	field("Managed instances", managedSummary(f.CapacityProviderConfig))
	field("Timeout", fmt.Sprintf("%ds", aws.ToInt32(f.Timeout)))
	if f.MemorySize != nil {
		field("Memory", fmt.Sprintf("%d MB", *f.MemorySize))
	}
	if f.Environment != nil && len(f.Environment.Variables) > 0 {
		var kv []string
		for k, v := range f.Environment.Variables {
			kv = append(kv, k+"="+v)
		}
		sort.Strings(kv)
		field("Environment", strings.Join(kv, " "))
	}
	field("Code size", fmt.Sprintf("%d bytes", f.CodeSize))
	field("State", string(f.State))
	field("Modified", lastModified(f.LastModified, now))
	field("Versions", strings.Join(versions, ", "))
	_ = tw.Flush()
}

// createOptions are the flags of `duro functions create`.
type createOptions struct {
	runtime, handler, role, description string
	zipFile, codeDir                    string
	timeout, memory                     int32
	env                                 []string
	durable                             bool
	durableTimeout, retentionDays       int32
	capacityProvider                    string
	environmentConcurrency              int32
}

// defaultCapacityProvider is the capacity provider `functions create`
// names when only --environment-concurrency is given: Duro records the ARN
// and provisions nothing.
const defaultCapacityProvider = "arn:aws:lambda:us-east-1:123456789012:capacity-provider:duro"

// newFunctionsCreateCommand builds `duro functions create`.
func newFunctionsCreateCommand(o *clientOptions) *cobra.Command {
	var c createOptions
	cmd := &cobra.Command{
		Use:   "create NAME --runtime RUNTIME --handler HANDLER (--zip FILE | --code-dir DIR)",
		Short: "Create a function from a zip archive or a directory",
		Long: `create registers a function (CreateFunction). Its code is a zip archive
(--zip) or a directory that is zipped (--code-dir, file modes kept). The
function is durable (it has a DurableConfig) with --durable, --durable-timeout
or --retention-days. With --environment-concurrency N (or --capacity-provider)
it runs on managed instances: each worker serves up to N invocations at once.
--output json prints the CreateFunction response.`,
		Example: `  duro functions create orders --runtime nodejs22.x --handler index.handler --code-dir ./orders --durable-timeout 3600
  duro functions create resize --runtime python3.12 --handler app.handler --zip resize.zip --env SIZE=128`,
		Args: withUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			in, err := c.input(args[0], cmd.Flags().Changed("durable-timeout"), cmd.Flags().Changed("retention-days"),
				cmd.Flags().Changed("capacity-provider") || cmd.Flags().Changed("environment-concurrency"))
			if err != nil {
				return err
			}
			cl, err := o.client(true)
			if err != nil {
				return err
			}
			out, err := cl.CreateFunction(cmd.Context(), in)
			if err != nil {
				return o.fail(err, "create function", "")
			}
			if o.json() {
				return writeJSON(cmd.OutOrStdout(), out)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Created %s (%s, %s, durable: %s)\n", aws.ToString(out.FunctionArn), out.Runtime, aws.ToString(out.Handler), durableSummary(out.DurableConfig))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&c.runtime, "runtime", "", "runtime: nodejs22.x, python3.12, provided.al2023, … (required)")
	f.StringVar(&c.handler, "handler", "", "handler, e.g. index.handler (required)")
	f.StringVar(&c.zipFile, "zip", "", "zip archive of the code")
	f.StringVar(&c.codeDir, "code-dir", "", "directory of the code (zipped by duro)")
	f.StringVar(&c.role, "role", defaultRole, "execution role ARN (required by the API, unused by Duro)")
	f.StringVar(&c.description, "description", "", "description")
	f.Int32Var(&c.timeout, "timeout", 0, "timeout of one invocation in seconds (default 3)")
	f.Int32Var(&c.memory, "memory", 0, "memory in MB (default 128)")
	f.StringArrayVarP(&c.env, "env", "e", nil, "environment variable KEY=VALUE (repeatable)")
	f.BoolVar(&c.durable, "durable", false, "make it a durable function (default execution timeout and retention)")
	f.Int32Var(&c.durableTimeout, "durable-timeout", 0, "durable execution timeout in seconds (implies --durable)")
	f.Int32Var(&c.retentionDays, "retention-days", 0, "days a finished execution is kept (implies --durable)")
	f.StringVar(&c.capacityProvider, "capacity-provider", defaultCapacityProvider, "capacity provider ARN: run the function on managed instances (recorded, not provisioned)")
	f.Int32Var(&c.environmentConcurrency, "environment-concurrency", 0, "invocations one worker serves at once (PerExecutionEnvironmentMaxConcurrency; implies managed instances; default 64 there)")
	_ = cmd.RegisterFlagCompletionFunc("runtime", cobra.FixedCompletions(runtimeNames(), cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.MarkFlagFilename("zip", "zip")
	_ = cmd.MarkFlagDirname("code-dir")
	return cmd
}

// runtimeNames lists the runtimes the SDK knows.
func runtimeNames() []string {
	var out []string
	for _, r := range types.Runtime("").Values() {
		out = append(out, string(r))
	}
	return out
}

// input builds the CreateFunction request; durableTimeoutSet,
// retentionSet and managed say whether those flags (managed: either
// managed-instances flag) were given.
func (c *createOptions) input(name string, durableTimeoutSet, retentionSet, managed bool) (*lambda.CreateFunctionInput, error) {
	switch {
	case c.runtime == "":
		return nil, usageErrorf("--runtime is required")
	case c.handler == "":
		return nil, usageErrorf("--handler is required")
	case (c.zipFile == "") == (c.codeDir == ""):
		return nil, usageErrorf("give the code with exactly one of --zip FILE and --code-dir DIR")
	}
	var code []byte
	var err error
	if c.zipFile != "" {
		if code, err = os.ReadFile(c.zipFile); err != nil {
			return nil, usageErrorf("--zip: %v", err)
		}
	} else if code, err = runtime.ZipDir(c.codeDir); err != nil {
		return nil, usageErrorf("--code-dir: %v", err)
	}
	in := &lambda.CreateFunctionInput{
		FunctionName: aws.String(name), Runtime: types.Runtime(c.runtime), Handler: aws.String(c.handler),
		Role: aws.String(c.role), Code: &types.FunctionCode{ZipFile: code}, Description: optional(c.description),
	}
	if c.timeout != 0 {
		in.Timeout = aws.Int32(c.timeout)
	}
	if c.memory != 0 {
		in.MemorySize = aws.Int32(c.memory)
	}
	if len(c.env) > 0 {
		vars := map[string]string{}
		for _, kv := range c.env {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return nil, usageErrorf("--env %q: want KEY=VALUE", kv)
			}
			vars[k] = v
		}
		in.Environment = &types.Environment{Variables: vars}
	}
	if c.durable || durableTimeoutSet || retentionSet {
		in.DurableConfig = &types.DurableConfig{}
		if durableTimeoutSet {
			in.DurableConfig.ExecutionTimeout = aws.Int32(c.durableTimeout)
		}
		if retentionSet {
			in.DurableConfig.RetentionPeriodInDays = aws.Int32(c.retentionDays)
		}
	}
	if managed {
		mi := &types.LambdaManagedInstancesCapacityProviderConfig{CapacityProviderArn: aws.String(c.capacityProvider)}
		if c.environmentConcurrency != 0 {
			mi.PerExecutionEnvironmentMaxConcurrency = aws.Int32(c.environmentConcurrency)
		}
		in.CapacityProviderConfig = &types.CapacityProviderConfig{LambdaManagedInstancesCapacityProviderConfig: mi}
	}
	return in, nil
}

// newFunctionsDeleteCommand builds `duro functions delete`.
func newFunctionsDeleteCommand(o *clientOptions) *cobra.Command {
	var qualifier string
	cmd := &cobra.Command{
		Use:     "delete NAME",
		Aliases: []string{"rm"},
		Short:   "Delete a function (or one version of it)",
		Long:    `delete removes a function (DeleteFunction), or only one version with --qualifier. --output json prints the API response ({}).`,
		Args:    withUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client(true)
			if err != nil {
				return err
			}
			out, err := c.DeleteFunction(cmd.Context(), &lambda.DeleteFunctionInput{FunctionName: aws.String(args[0]), Qualifier: optional(qualifier)})
			if err != nil {
				return o.fail(err, "delete function", hintListFunctions)
			}
			if o.json() {
				return writeJSON(cmd.OutOrStdout(), out)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Deleted %s\n", args[0])
			return nil
		},
	}
	cmd.Flags().StringVarP(&qualifier, "qualifier", "q", "", "delete only this version")
	cmd.ValidArgsFunction = completeFunctionNames(o)
	return cmd
}
