//go:build unix

package main

import (
	"os"
	"syscall"
)

// reexecWithGODEBUG replaces the process with the same executable and
// arguments, GODEBUG set to value. It returns only if that fails, and the
// process then goes on with the runtime's defaults.
func reexecWithGODEBUG(value string) {
	exe, err := os.Executable()
	if err != nil {
		return
	}
	prev, had := os.LookupEnv("GODEBUG")
	if err := os.Setenv("GODEBUG", value); err != nil {
		return
	}
	_ = syscall.Exec(exe, os.Args, os.Environ())
	if had {
		_ = os.Setenv("GODEBUG", prev)
	} else {
		_ = os.Unsetenv("GODEBUG")
	}
}
