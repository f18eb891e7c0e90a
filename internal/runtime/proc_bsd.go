//go:build unix && !linux

package runtime

import "syscall"

// workerProcAttr puts a worker in a process group of its own, so that
// stopping it also stops whatever it spawned. (There is no parent-death
// signal here: workers outlive a Duro that crashes.)
func workerProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
