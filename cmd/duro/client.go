package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/smithy-go"
	"github.com/spf13/cobra"
)

// defaultEndpoint is where `duro serve` listens by default.
const defaultEndpoint = "http://127.0.0.1:9014"

// Output formats of --output.
const (
	outputTable = "table"
	outputJSON  = "json"
)

// clientOptions are the flags every client command (invoke, executions,
// callback, functions) shares: which server to talk to and how to print.
type clientOptions struct {
	endpoint string
	output   string
	region   string
}

// addClientFlags declares the client flags as persistent flags of cmd, so
// that its subcommands have them too.
func addClientFlags(cmd *cobra.Command, o *clientOptions) {
	f := cmd.PersistentFlags()
	f.StringVar(&o.endpoint, "endpoint", envOr("DURO_ENDPOINT", defaultEndpoint), "URL of the Duro server (env DURO_ENDPOINT)")
	f.StringVarP(&o.output, "output", "o", outputTable, "output format: table (for people) or json (the API response, for scripts)")
	f.StringVar(&o.region, "region", "us-east-1", "AWS region to sign requests for")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{outputTable, outputJSON}, cobra.ShellCompDirectiveNoFileComp))
}

// check validates the client flags.
func (o *clientOptions) check() error {
	if o.output != outputTable && o.output != outputJSON {
		return usageErrorf("--output %q: want table or json", o.output)
	}
	u, err := url.Parse(o.endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageErrorf("--endpoint %q: want a URL such as %s", o.endpoint, defaultEndpoint)
	}
	return nil
}

// json reports whether --output json was asked for.
func (o *clientOptions) json() bool { return o.output == outputJSON }

// client returns a Lambda client for the endpoint with dummy static
// credentials (Duro does not check signatures). The HTTP client has no
// overall timeout: a synchronous Invoke lasts as long as the execution.
// retries false disables the SDK's retries (for Invoke, which must not
// start an execution twice).
func (o *clientOptions) client(retries bool) (*lambda.Client, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	opts := lambda.Options{
		Region:       o.region,
		BaseEndpoint: aws.String(strings.TrimRight(o.endpoint, "/")),
		Credentials:  credentials.NewStaticCredentialsProvider("duro", "duro", ""),
		HTTPClient:   &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()},
	}
	if !retries {
		opts.Retryer = aws.NopRetryer{}
	}
	return lambda.New(opts), nil
}

// fail converts an error of an API call into a cliError (see apiFailure).
func (o *clientOptions) fail(err error, what, notFoundHint string) error {
	return apiFailure(err, o.endpoint, what, notFoundHint)
}

// logEvent is one line of Duro's log route (GET /duro/v1/logs).
type logEvent struct {
	Timestamp           int64  `json:"Timestamp"`
	Sequence            int64  `json:"Sequence"`
	FunctionName        string `json:"FunctionName"`
	FunctionVersion     string `json:"FunctionVersion"`
	RequestId           string `json:"RequestId,omitempty"`
	DurableExecutionArn string `json:"DurableExecutionArn,omitempty"`
	Stream              string `json:"Stream"`
	Message             string `json:"Message"`
}

// logPage is a response of the log route.
type logPage struct {
	Logs      []logEvent `json:"Logs"`
	NextToken string     `json:"NextToken"`
}

// routeError is an error answered by the log route, in the AWS error
// format (code in X-Amzn-ErrorType, message in the body). It implements
// smithy.APIError so that apiFailure treats it like an SDK error.
type routeError struct {
	code, message string
}

func (e *routeError) Error() string                 { return e.code + ": " + e.message }
func (e *routeError) ErrorCode() string             { return e.code }
func (e *routeError) ErrorMessage() string          { return e.message }
func (e *routeError) ErrorFault() smithy.ErrorFault { return smithy.FaultUnknown }

// listLogs reads one page of the log lines of an execution after token
// ("" for the first).
func (o *clientOptions) listLogs(ctx context.Context, hc *http.Client, arn, token string) (logPage, error) {
	q := url.Values{"durableExecutionArn": {arn}}
	if token != "" {
		q.Set("NextToken", token)
	}
	u := strings.TrimRight(o.endpoint, "/") + "/duro/v1/logs?" + q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return logPage{}, fmt.Errorf("build log request: %w", err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return logPage{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return logPage{}, fmt.Errorf("read logs: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		re := &routeError{code: resp.Header.Get("X-Amzn-ErrorType"), message: strings.TrimSpace(string(body))}
		var m map[string]any
		if json.Unmarshal(body, &m) == nil {
			for _, k := range []string{"message", "Message"} {
				if s, ok := m[k].(string); ok {
					re.message = s
				}
			}
		}
		if i := strings.IndexByte(re.code, ':'); i >= 0 {
			re.code = re.code[:i]
		}
		if re.code == "" {
			re.code = fmt.Sprintf("HTTP %d", resp.StatusCode)
		}
		return logPage{}, re
	}
	var page logPage
	if err := json.Unmarshal(body, &page); err != nil {
		return logPage{}, fmt.Errorf("decode logs: %w", err)
	}
	return page, nil
}

// completeFunctionNames completes a function name argument from
// ListFunctions (one page, a short timeout: completion must stay snappy).
func completeFunctionNames(o *clientOptions) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return functionNames(cmd.Context(), o, toComplete), cobra.ShellCompDirectiveNoFileComp
	}
}

// functionNames lists the function names starting with prefix, or nothing
// when the server cannot be asked.
func functionNames(ctx context.Context, o *clientOptions, prefix string) []string {
	c, err := o.client(false)
	if err != nil {
		return nil
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	out, err := c.ListFunctions(ctx, &lambda.ListFunctionsInput{MaxItems: aws.Int32(1000)})
	if err != nil {
		return nil
	}
	var names []string
	for _, f := range out.Functions {
		if n := aws.ToString(f.FunctionName); strings.HasPrefix(n, prefix) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}
