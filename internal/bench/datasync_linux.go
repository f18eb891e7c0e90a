package bench

import (
	"fmt"
	"os"
	"syscall"
)

// dataSync flushes f's data as SQLite's commits do on Linux (fdatasync).
func dataSync(f *os.File) error {
	if err := syscall.Fdatasync(int(f.Fd())); err != nil {
		return fmt.Errorf("fdatasync: %w", err)
	}
	return nil
}
