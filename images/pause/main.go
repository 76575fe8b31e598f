// Command pause is the sandbox ("pause") process of every pod on the local cluster: it holds the
// pod's namespaces open and does nothing else. As PID 1 of the pod it also reaps orphaned
// children, so zombies of processes that share its PID namespace do not pile up. It exits 0 on
// SIGTERM or SIGINT, which is how the runtime stops a sandbox.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) > 1 && (os.Args[1] == "-v" || os.Args[1] == "--version") {
		fmt.Println("nexus pause")
		return
	}
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for sig := range signals {
		if sig != syscall.SIGCHLD {
			os.Exit(0)
		}
		reap()
	}
}

// reap collects every child that has exited. Signals coalesce, so one SIGCHLD may stand for
// several exits: loop until no exited child is left.
func reap() {
	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}
