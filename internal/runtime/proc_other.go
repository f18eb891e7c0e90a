//go:build !unix

package runtime

import (
	"errors"
	"os"
	"syscall"
)

// Local worker processes need Unix process groups; elsewhere starting one
// fails (dupFile) and functions run in-process or remotely only.

func workerProcAttr() *syscall.SysProcAttr { return nil }

func killGroup(pid int, _ bool) {
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Kill()
	}
}

func dupFile(*os.File) (*os.File, error) {
	return nil, errors.New("local function processes are supported on Unix systems only")
}
