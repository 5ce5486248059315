//go:build linux

// Command peakrss runs a command and writes its wall time and peak resident set size, as
// JSON {"wall_ns":N,"max_rss_bytes":N}, to the file named by -o; the command's stdin, stdout,
// stderr and exit status pass through.
//
// The harness in bench measures short hookctl commands through it because on Linux a child's
// ru_maxrss also counts the memory its parent had when the child called exec (the child
// shared the parent's memory until then). Measured by this small process, the figure is the
// command's own, not the harness's.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// usage is the measurement written to -o.
type usage struct {
	WallNs      int64 `json:"wall_ns"`
	MaxRSSBytes int64 `json:"max_rss_bytes"`
}

func main() {
	out := flag.String("o", "", "file to write the measurement to (required)")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: peakrss -o FILE COMMAND [ARG...]")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *out == "" || flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	code, err := run(*out, flag.Args())
	if err != nil {
		fmt.Fprintln(os.Stderr, "peakrss:", err)
		os.Exit(2)
	}
	os.Exit(code)
}

// run runs args, writes the measurement to out and returns the command's exit status.
func run(out string, args []string) (int, error) {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if cmd.ProcessState == nil {
		return 0, fmt.Errorf("run: %w", err)
	}
	u := usage{WallNs: wall.Nanoseconds()}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		u.MaxRSSBytes = ru.Maxrss << 10 // kilobytes on Linux
	}
	b, err := json.Marshal(u)
	if err != nil {
		return 0, fmt.Errorf("write measurement: %w", err)
	}
	if err := os.WriteFile(out, b, 0o644); err != nil {
		return 0, fmt.Errorf("write measurement: %w", err)
	}
	return cmd.ProcessState.ExitCode(), nil
}
