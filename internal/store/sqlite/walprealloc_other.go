//go:build !linux

package sqlite

// preallocateWAL is Linux-only (walprealloc_linux.go); elsewhere the WAL
// grows as SQLite writes it.
func preallocateWAL(uintptr) {}
