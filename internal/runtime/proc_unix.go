//go:build unix

package runtime

import (
	"fmt"
	"os"
	"syscall"
)

// killGroup signals a worker's whole process group (the worker is its
// leader), so that whatever it spawned stops with it: SIGTERM when polite,
// SIGKILL otherwise.
func killGroup(pid int, polite bool) {
	sig := syscall.SIGKILL
	if polite {
		sig = syscall.SIGTERM
	}
	_ = syscall.Kill(-pid, sig)
}

// dupFile duplicates f's descriptor (close-on-exec, so that no child
// inherits Duro's copy).
func dupFile(f *os.File) (*os.File, error) {
	syscall.ForkLock.RLock()
	fd, err := syscall.Dup(int(f.Fd()))
	if err == nil {
		syscall.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return nil, fmt.Errorf("dup output pipe: %w", err)
	}
	return os.NewFile(uintptr(fd), f.Name()), nil
}
