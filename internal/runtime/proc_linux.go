package runtime

import "syscall"

// workerProcAttr puts a worker in a process group of its own, so that
// stopping it also stops whatever it spawned, and has the kernel kill it
// if Duro dies without running its shutdown.
func workerProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
