// Command bench is hookctl's benchmark harness: it builds hookctl, a minimal target
// (bench/target) and a bare reverse proxy (bench/bareproxy), runs each as its own process on
// 127.0.0.1, and loads them from this process with a 2 KB Stripe-like event, so that hookctl's
// throughput, latency and memory are read as ratios against the bare proxy measured in the
// same run. Run it from the repository root:
//
//	go run ./bench [-duration 10s] [-warmup 2s] [-conc 1,32] [-rounds 1] [-suite ingress,relay,bigbody,list] [-json] [-keep]
//
// See bench/README.md for what each suite measures and how to read the figures.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// suiteNames are the suites -suite accepts, in the order they run.
func suiteNames() []string { return []string{"ingress", "relay", "bigbody", "list"} }

// options are the command-line flags.
type options struct {
	duration time.Duration
	warmup   time.Duration
	conc     []int
	rounds   int
	suites   []string
	json     bool
	keep     bool
	listRows int
}

// has reports whether suite s was selected.
func (o *options) has(s string) bool { return slices.Contains(o.suites, s) }

func main() {
	o, err := parseFlags(os.Args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := run(ctx, o, os.Stderr)
	if rep != nil {
		if o.json {
			enc := json.NewEncoder(os.Stdout)
			enc.SetIndent("", "  ")
			if err := enc.Encode(rep); err != nil {
				fmt.Fprintln(os.Stderr, "bench: write json:", err)
			}
		} else {
			rep.print(os.Stdout)
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			err = errors.New("interrupted")
		}
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// parseFlags parses and checks the command line.
func parseFlags(args []string) (*options, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	o := &options{}
	var conc, suites string
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "measurement time of each load run")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "warm-up before each load run's measurement")
	fs.StringVar(&conc, "conc", "1,32", "comma-separated concurrency levels")
	fs.IntVar(&o.rounds, "rounds", 1, "times each load run is repeated, the order of the systems alternating; ratios are paired by round")
	fs.StringVar(&suites, "suite", "ingress,relay,bigbody", "comma-separated suites: "+strings.Join(suiteNames(), ","))
	fs.BoolVar(&o.json, "json", false, "print the results as JSON")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory (binaries, logs)")
	fs.IntVar(&o.listRows, "list-rows", 1_000_000, "requests in the log of the list suite")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.duration <= 0 || o.warmup < 0 {
		return nil, errors.New("-duration must be positive and -warmup not negative")
	}
	if o.rounds < 1 {
		return nil, errors.New("-rounds must be at least 1")
	}
	if o.listRows < 50 {
		return nil, errors.New("-list-rows must be at least 50")
	}
	for _, f := range strings.Split(conc, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-conc %q: want positive integers such as 1,32", conc)
		}
		o.conc = append(o.conc, n)
	}
	for _, f := range strings.Split(suites, ",") {
		s := strings.TrimSpace(f)
		if !slices.Contains(suiteNames(), s) {
			return nil, fmt.Errorf("-suite: unknown suite %q (have %s)", s, strings.Join(suiteNames(), ", "))
		}
		if !o.has(s) {
			o.suites = append(o.suites, s)
		}
	}
	return o, nil
}

// harness owns the temporary directory, the binaries and the processes of one run.
type harness struct {
	opts    *options
	dir     string // the temporary directory
	log     io.Writer
	ids     atomic.Uint64 // event ids, unique across the run
	event   *event
	procs   []*proc // running processes, stopped in reverse order
	started int     // processes started, which numbers their stdout files
	target  *proc   // the target of the load suites
	rep     *report
}

// run builds everything, runs the selected suites and returns the report, which is non-nil
// (with what was measured) even when a suite failed.
func run(ctx context.Context, o *options, progress io.Writer) (rep *report, err error) {
	dir, err := os.MkdirTemp("", "hookctl-bench-")
	if err != nil {
		return nil, fmt.Errorf("make temp dir: %w", err)
	}
	defer func() {
		if o.keep {
			fmt.Fprintf(progress, "kept %s\n", dir)
		} else if rerr := os.RemoveAll(dir); rerr != nil {
			err = errors.Join(err, fmt.Errorf("remove temp dir: %w", rerr))
		}
	}()
	now := time.Now()
	ev, err := newEvent(eventSize, now)
	if err != nil {
		return nil, err
	}
	h := &harness{opts: o, dir: dir, log: progress, event: ev, rep: newReport(o, now)}
	defer func() {
		for _, e := range h.stopAll() {
			h.note("stop: %v", e)
		}
	}()
	if err := h.build(ctx); err != nil {
		return nil, err
	}
	if o.has("ingress") || o.has("relay") {
		if err := h.loadSuites(ctx); err != nil {
			return h.rep, err
		}
	}
	if o.has("bigbody") {
		if err := h.bigBodySuite(ctx); err != nil {
			return h.rep, err
		}
	}
	if o.has("list") {
		if err := h.listSuite(ctx); err != nil {
			return h.rep, err
		}
	}
	return h.rep, nil
}

// bin is the path of a built binary.
func (h *harness) bin(name string) string { return filepath.Join(h.dir, "bin", name) }

// progress prints a progress line on the progress writer (stderr).
func (h *harness) progress(format string, args ...any) {
	fmt.Fprintf(h.log, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// note records something odd in the report and prints it as progress.
func (h *harness) note(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	h.rep.Notes = append(h.rep.Notes, msg)
	h.progress("note: %s", msg)
}

// build builds hookctl and the harness's helpers once, into the temporary directory.
func (h *harness) build(ctx context.Context) error {
	root, err := moduleRoot(ctx)
	if err != nil {
		return err
	}
	h.progress("building hookctl, target, bareproxy and peakrss")
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", h.bin("")+string(filepath.Separator),
		"./cmd/hookctl", "./bench/target", "./bench/bareproxy", "./bench/peakrss")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build: %w\n%s", err, out)
	}
	return nil
}

// moduleRoot is the directory of the main module's go.mod.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("find module: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("find module: run from the hookctl repository")
	}
	return filepath.Dir(gomod), nil
}

// start starts a process that stopAll will stop.
func (h *harness) start(name, bin string, args, env []string) (*proc, error) {
	h.started++
	p, err := startProc(name, bin, filepath.Join(h.dir, fmt.Sprintf("%s-%d.stdout", name, h.started)), args, env)
	if err != nil {
		return nil, err
	}
	h.procs = append(h.procs, p)
	return p, nil
}

// stop stops p (SIGINT, then a kill after a while) and forgets it.
func (h *harness) stop(p *proc) error {
	h.procs = slices.DeleteFunc(h.procs, func(q *proc) bool { return q == p })
	return p.stop()
}

// stopAll stops every running process, newest first.
func (h *harness) stopAll() []error {
	var errs []error
	for i := len(h.procs) - 1; i >= 0; i-- {
		if err := h.procs[i].stop(); err != nil {
			errs = append(errs, err)
		}
	}
	h.procs = nil
	return errs
}

// hookctlEnv is this process's environment without HOOKCTL_* and XDG_* variables, and with
// the configuration, state and data of a hookctl process in its own directory under the
// temporary one.
func (h *harness) hookctlEnv(name string) []string {
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "HOOKCTL_") || strings.HasPrefix(kv, "XDG_")
	})
	base := filepath.Join(h.dir, "xdg", name)
	return append(env,
		"XDG_CONFIG_HOME="+filepath.Join(base, "config"),
		"XDG_STATE_HOME="+filepath.Join(base, "state"),
		"XDG_DATA_HOME="+filepath.Join(base, "data"),
	)
}
