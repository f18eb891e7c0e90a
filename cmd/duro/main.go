// Command duro runs the Duro durable execution service and talks to it.
package main

import (
	"context"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

func main() {
	// Invoked as dex-local-runner (a symlink or copy): run that command.
	os.Exit(run(context.Background(), commandArgs(os.Args), os.Stdout, os.Stderr))
}

// run executes one command line with the given output streams, prints a
// failure as "Error: …" (and a hint) on stderr, and returns the process exit
// code (see exitCodesHelp). main and the tests both go through it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRootCommand()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	// Cobra reports an unknown subcommand of the root with a plain error.
	if strings.HasPrefix(err.Error(), "unknown command ") {
		err = &cliError{code: exitUsage, msg: err.Error(), hint: "run `duro --help` for the list of commands"}
	}
	printError(stderr, err)
	return exitCodeOf(err)
}

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "duro",
		Short:         "Duro: the AWS Lambda durable execution service, self-hosted",
		Long:          "Duro: the AWS Lambda durable execution service, self-hosted.\n\n" + exitCodesHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	root.AddCommand(newServeCommand())
	root.AddCommand(newDevCommand())
	root.AddCommand(newConformanceCommand())
	root.AddCommand(newDexRunnerCommand())
	root.AddCommand(newInvokeCommand())
	root.AddCommand(newExecutionsCommand())
	root.AddCommand(newCallbackCommand())
	root.AddCommand(newFunctionsCommand())
	root.AddCommand(newBenchCommand())
	return root
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
