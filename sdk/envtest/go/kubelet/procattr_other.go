//go:build !linux

package main

import "syscall"

// processAttrs puts a container's process in a process group of its own (a session, with a TTY). Without Linux's
// parent-death signal, a process outlives a kubelet that is killed rather than stopped.
func processAttrs(tty bool) *syscall.SysProcAttr {
	if tty {
		return &syscall.SysProcAttr{Setsid: true, Setctty: true}
	}
	return &syscall.SysProcAttr{Setpgid: true}
}
