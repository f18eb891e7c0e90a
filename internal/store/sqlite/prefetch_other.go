//go:build !linux

package sqlite

// prefetch does nothing where posix_fadvise is not used.
func prefetch(string, <-chan struct{}) {}
