//go:build !linux

package bench

import "os"

// dataSync flushes f's data with the platform's full sync (fsync, or
// F_FULLFSYNC on macOS), where fdatasync is not available.
func dataSync(f *os.File) error {
	return f.Sync()
}
