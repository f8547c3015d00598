// The sandbox ("pause") process of the local cluster's pods: it holds the pod's namespaces open,
// reaps the zombies of processes that end up as its children (it is PID 1 of the pod when the pod
// shares its process namespace), and exits at once on SIGTERM or SIGINT, as the upstream pause
// container does. Built static (CGO off) into an image of its own, so the cluster pulls nothing.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for sig := range signals {
		if sig != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			pid, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
