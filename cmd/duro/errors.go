package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/aws/smithy-go"
	"github.com/spf13/cobra"
)

// Exit codes of the duro client commands, for scripts.
const (
	exitOK = 0
	// exitError is any failure without a more specific code.
	exitError = 1
	// exitUsage is a bad command line: unknown command or flag, wrong
	// number of arguments, a --payload or --result that is not JSON.
	exitUsage = 2
	// exitNotFound is a ResourceNotFoundException: no such function,
	// execution or callback.
	exitNotFound = 3
	// exitExecutionFailed is an invoked execution (or plain function) that
	// ended FAILED, TIMED_OUT or STOPPED.
	exitExecutionFailed = 4
)

// exitCodesHelp documents the exit codes in the help of the commands.
const exitCodesHelp = `Exit codes:
  0  success
  1  error (the server answered with an error, or could not be reached)
  2  usage error (unknown command or flag, bad arguments, invalid JSON)
  3  not found (ResourceNotFoundException: function, execution or callback)
  4  the invoked execution ended FAILED, TIMED_OUT or STOPPED (duro invoke)`

// cliError is a failure with an exit code, a one-line message and an
// optional hint on what to do about it.
type cliError struct {
	code int
	msg  string
	hint string
	err  error
}

func (e *cliError) Error() string { return e.msg }

// Unwrap returns the underlying error, if any.
func (e *cliError) Unwrap() error { return e.err }

// usageError marks err (a flag or argument error) as a usage error.
func usageError(err error) error {
	var ce *cliError
	if errors.As(err, &ce) {
		return err
	}
	return &cliError{code: exitUsage, msg: err.Error(), hint: "see --help for the command's usage", err: err}
}

// usageErrorf builds a usage error.
func usageErrorf(format string, args ...any) error {
	return &cliError{code: exitUsage, msg: fmt.Sprintf(format, args...), hint: "see --help for the command's usage"}
}

// withUsage wraps a cobra argument validator so that its errors are usage
// errors (exit code 2).
func withUsage(v cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := v(cmd, args); err != nil {
			return usageError(err)
		}
		return nil
	}
}

// exitCodeOf returns the exit code for an error returned by a command.
func exitCodeOf(err error) int {
	if err == nil {
		return exitOK
	}
	var ce *cliError
	if errors.As(err, &ce) {
		return ce.code
	}
	return exitError
}

// printError writes "Error: <message>" and, when there is one, a hint.
func printError(w io.Writer, err error) {
	fmt.Fprintf(w, "Error: %s\n", err.Error())
	var ce *cliError
	if errors.As(err, &ce) && ce.hint != "" {
		fmt.Fprintf(w, "Hint: %s\n", ce.hint)
	}
}

// apiFailure turns an error of an API call into a cliError:
// "<AWS error code>: <message>" for an error the server answered, with
// notFoundHint for a ResourceNotFoundException (exit code 3); a hint to
// start the server when it could not be reached. what names the call for
// other errors ("get execution").
func apiFailure(err error, endpoint, what, notFoundHint string) error {
	if err == nil {
		return nil
	}
	var ce *cliError
	if errors.As(err, &ce) {
		return err
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		out := &cliError{code: exitError, msg: ae.ErrorCode() + ": " + ae.ErrorMessage(), err: err}
		switch ae.ErrorCode() {
		case "ResourceNotFoundException":
			out.code, out.hint = exitNotFound, notFoundHint
		case "InvalidParameterValueException", "InvalidRequestContentException":
			out.hint = "check the arguments: see --help"
			if notFoundHint != "" && strings.Contains(strings.ToLower(ae.ErrorMessage()), "arn") {
				out.hint = notFoundHint // a malformed ARN
			}
		case "CallbackTimeoutException":
			out.hint = "the callback was already completed, or it timed out: see `duro executions history ARN`"
		case "TooManyRequestsException":
			out.hint = "the server is busy: try again shortly"
		case "ServiceException":
			out.hint = "see the log of `duro serve`"
		}
		return out
	}
	if unreachable(err) {
		return &cliError{code: exitError, msg: fmt.Sprintf("%s: cannot reach %s: %v", what, endpoint, rootCause(err)), err: err,
			hint: fmt.Sprintf("is `duro serve` running at %s? Set --endpoint or DURO_ENDPOINT to reach another server", endpoint)}
	}
	return &cliError{code: exitError, msg: fmt.Sprintf("%s: %v", what, err), err: err}
}

// isNotFound reports whether err is a ResourceNotFoundException.
func isNotFound(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "ResourceNotFoundException"
}

// unreachable reports whether err means the server could not be reached.
func unreachable(err error) bool {
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) {
		return true
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return true
	}
	var de *net.DNSError
	return errors.As(err, &de)
}

// rootCause returns the innermost error of a chain, which for a network
// failure is the readable part ("connection refused").
func rootCause(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}
