// Command duro runs the Duro durable execution service and talks to it.
package main

import (
	"context"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/duro-run/duro/internal/heapfloor"
)

func main() {
	if v, ok := godebugWithStackSetting(os.Getenv); ok {
		reexecWithGODEBUG(v)
	}
	if p, ok := gcPercent(os.Getenv); ok {
		heapfloor.Start(heapFloor, p)
	}
	// Invoked as dex-local-runner (a symlink or copy): run that command.
	os.Exit(run(context.Background(), commandArgs(os.Args), os.Stdout, os.Stderr))
}

// defaultGCPercent and heapFloor are the garbage collector's targets for
// Duro's process unless GOGC says otherwise: a heap goal of at least
// heapFloor, and 200 % of the live heap above it (package heapfloor).
// The server's live heap is small (tens of MB: the store is on disk) and it
// allocates a little for every request, so Go's default of 100 runs a
// collection every few MB of requests. 200 halved how often (2-4 % more
// checkpoints per second, bench/README.md, seventh session); the floor
// makes them rarer still while the live heap is small (a collection every
// ~0.6 s instead of every 140 ms at 8,500 checkpoints/s; with a goal of
// that size the open loop's p99 had a median of 10.1 against 16.8 ms over
// eleven alternated pairs, bench/README.md, fourteenth session), for about
// 70 MB more memory under load. GOMEMLIMIT still caps the goal.
const (
	defaultGCPercent = 200
	heapFloor        = 128 << 20
)

// gcPercent returns the GC percent to set, and false when GOGC is set in
// the environment and the runtime has already applied it.
func gcPercent(getenv func(string) string) (int, bool) {
	if getenv("GOGC") != "" {
		return 0, false
	}
	return defaultGCPercent, true
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
