package main

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/spf13/cobra"
)

// hintCheckCallback is the hint for a callback that does not exist.
const hintCheckCallback = "check the callback id: it is in the CallbackStarted event of `duro executions history ARN`; a completed or timed-out callback is gone"

// newCallbackCommand builds `duro callback` and its subcommands.
func newCallbackCommand() *cobra.Command {
	o := &clientOptions{}
	cmd := &cobra.Command{
		Use:   "callback",
		Short: "Complete or heartbeat a pending callback of an execution",
		Long: `callback completes a callback an execution waits for, or keeps it alive:
  duro callback succeed CALLBACK_ID [--result JSON|@FILE]
  duro callback fail CALLBACK_ID [--error-type T] [--error-message M] [--error-data D]
  duro callback heartbeat CALLBACK_ID
The id is in the CallbackStarted event (duro executions history ARN) and in the
live view of duro invoke --follow. --output json prints the API response ({}).

` + exitCodesHelp,
		Args: withUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	addClientFlags(cmd, o)
	cmd.AddCommand(newCallbackSucceedCommand(o), newCallbackFailCommand(o), newCallbackHeartbeatCommand(o))
	return cmd
}

// callbackDone prints the outcome of a callback call.
func callbackDone(cmd *cobra.Command, o *clientOptions, out any, text string) error {
	if o.json() {
		return writeJSON(cmd.OutOrStdout(), out)
	}
	fmt.Fprintln(cmd.OutOrStdout(), text)
	return nil
}

// newCallbackSucceedCommand builds `duro callback succeed`.
func newCallbackSucceedCommand(o *clientOptions) *cobra.Command {
	var result string
	cmd := &cobra.Command{
		Use:     "succeed CALLBACK_ID",
		Aliases: []string{"success"},
		Short:   "Complete a callback successfully, with a JSON result",
		Example: `  duro callback succeed "$ID" --result '{"approved":true}'
  duro callback succeed "$ID" --result @approval.json`,
		Args: withUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			payload, err := readJSONArg("result", result, cmd.InOrStdin())
			if err != nil {
				return err
			}
			c, err := o.client(true)
			if err != nil {
				return err
			}
			out, err := c.SendDurableExecutionCallbackSuccess(cmd.Context(), &lambda.SendDurableExecutionCallbackSuccessInput{CallbackId: aws.String(args[0]), Result: payload})
			if err != nil {
				return o.fail(err, "complete callback", hintCheckCallback)
			}
			return callbackDone(cmd, o, out, "Callback succeeded: "+args[0])
		},
	}
	cmd.Flags().StringVarP(&result, "result", "r", "", "result: JSON, or @FILE to read it from a file (@- for stdin)")
	return cmd
}

// newCallbackFailCommand builds `duro callback fail`.
func newCallbackFailCommand(o *clientOptions) *cobra.Command {
	var errType, errMessage, errData string
	cmd := &cobra.Command{
		Use:     "fail CALLBACK_ID",
		Aliases: []string{"failure"},
		Short:   "Complete a callback with an error",
		Example: `  duro callback fail "$ID" --error-type Rejected --error-message "card declined"`,
		Args:    withUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client(true)
			if err != nil {
				return err
			}
			in := &lambda.SendDurableExecutionCallbackFailureInput{CallbackId: aws.String(args[0]),
				Error: &types.ErrorObject{ErrorType: optional(errType), ErrorMessage: optional(errMessage), ErrorData: optional(errData)}}
			out, err := c.SendDurableExecutionCallbackFailure(cmd.Context(), in)
			if err != nil {
				return o.fail(err, "fail callback", hintCheckCallback)
			}
			return callbackDone(cmd, o, out, "Callback failed: "+args[0])
		},
	}
	f := cmd.Flags()
	f.StringVar(&errType, "error-type", "", "error type")
	f.StringVar(&errMessage, "error-message", "", "error message")
	f.StringVar(&errData, "error-data", "", "error data (free text, often JSON)")
	return cmd
}

// newCallbackHeartbeatCommand builds `duro callback heartbeat`.
func newCallbackHeartbeatCommand(o *clientOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "heartbeat CALLBACK_ID",
		Short: "Tell the execution that the callback's work is still going on",
		Long: `heartbeat resets the heartbeat timeout of a pending callback (a callback
started with a heartbeat timeout fails when no heartbeat comes in time).`,
		Args: withUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client(true)
			if err != nil {
				return err
			}
			out, err := c.SendDurableExecutionCallbackHeartbeat(cmd.Context(), &lambda.SendDurableExecutionCallbackHeartbeatInput{CallbackId: aws.String(args[0])})
			if err != nil {
				return o.fail(err, "heartbeat callback", hintCheckCallback)
			}
			return callbackDone(cmd, o, out, "Heartbeat sent: "+args[0])
		},
	}
}
