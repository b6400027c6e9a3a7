package main

import "syscall"

// processAttrs puts a container's process in a process group of its own (a session, with a TTY), and has the kernel
// kill it should the kubelet die first.
func processAttrs(tty bool) *syscall.SysProcAttr {
	if tty {
		return &syscall.SysProcAttr{Setsid: true, Setctty: true, Pdeathsig: syscall.SIGKILL}
	}
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
