//go:build !unix

package main

// reexecWithGODEBUG does nothing where a process cannot replace itself:
// Duro runs there with the runtime's defaults.
func reexecWithGODEBUG(string) {}
