// Command duro runs the Duro durable execution service and talks to it.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	root := newRootCommand()
	// Invoked as dex-local-runner (a symlink or copy): run that command.
	root.SetArgs(commandArgs(os.Args))
	if err := root.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "duro:", err)
		os.Exit(1)
	}
}

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "duro",
		Short:         "Duro: the AWS Lambda durable execution service, self-hosted",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newServeCommand())
	root.AddCommand(newDevCommand())
	root.AddCommand(newConformanceCommand())
	root.AddCommand(newDexRunnerCommand())
	return root
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
