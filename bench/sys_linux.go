package main

import "syscall"

// procAttr makes a child process get SIGTERM if the harness dies without stopping it.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
