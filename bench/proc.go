package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// stopTimeout bounds how long a process may take to stop after SIGINT before it is killed.
const stopTimeout = 15 * time.Second

// proc is a child process under test, with its stdout split into lines and the tail of its
// stderr kept for error messages.
type proc struct {
	name  string
	cmd   *exec.Cmd
	lines chan string   // stdout lines; closed when the process has exited
	errs  *tailBuffer   // the end of stderr
	done  chan struct{} // closed when the process has exited
	err   error         // Wait's result, set before done is closed
}

// startProc starts path with args, in environment env (nil: this process's).
func startProc(name, path string, args, env []string) (*proc, error) {
	p := &proc{
		name:  name,
		lines: make(chan string, 64),
		errs:  &tailBuffer{max: 16 << 10},
		done:  make(chan struct{}),
	}
	p.cmd = exec.Command(path, args...)
	p.cmd.Env = env
	p.cmd.Stdout = &lineWriter{out: p.lines}
	p.cmd.Stderr = p.errs
	p.cmd.SysProcAttr = procAttr()
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.lines)
		close(p.done)
	}()
	return p, nil
}

// pid is the process's id.
func (p *proc) pid() int { return p.cmd.Process.Pid }

// exited reports whether the process has exited.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// failure describes why the process is not usable: how it exited and the end of its stderr.
func (p *proc) failure(what string) error {
	msg := strings.TrimSpace(p.errs.String())
	if p.exited() {
		what = fmt.Sprintf("%s (exited: %v)", what, p.err)
	}
	if msg == "" {
		return fmt.Errorf("%s: %s", p.name, what)
	}
	return fmt.Errorf("%s: %s; stderr:\n%s", p.name, what, msg)
}

// waitLine returns the first stdout line for which match is true, within timeout. Lines the
// process writes faster than they are read may be dropped, so match only lines written while
// waiting, such as a ready line.
func (p *proc) waitLine(ctx context.Context, timeout time.Duration, match func(string) bool) (string, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				return "", p.failure("no ready line")
			}
			if match(line) {
				return line, nil
			}
		case <-t.C:
			return "", p.failure(fmt.Sprintf("not ready after %s", timeout))
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}

// stop sends SIGINT and waits for the process to exit, killing it after stopTimeout. It
// returns an error when the process had to be killed or exited with a failure.
func (p *proc) stop() error {
	if p.exited() {
		return p.exitErr()
	}
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stop %s: %w", p.name, err)
	}
	select {
	case <-p.done:
		return p.exitErr()
	case <-time.After(stopTimeout):
		p.cmd.Process.Kill()
		<-p.done
		return p.failure(fmt.Sprintf("killed: still running %s after SIGINT", stopTimeout))
	}
}

// exitErr is nil when the process exited with status 0.
func (p *proc) exitErr() error {
	if p.err == nil {
		return nil
	}
	return p.failure("exit")
}

// lineWriter splits what a process writes into lines and hands them to out without ever
// blocking: lines find out full are dropped. exec.Cmd calls Write from one goroutine.
type lineWriter struct {
	out     chan<- string
	partial []byte
}

// maxLine is the longest line a lineWriter keeps; longer ones are cut.
const maxLine = 64 << 10

// Write implements io.Writer.
func (w *lineWriter) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			if room := maxLine - len(w.partial); room > 0 {
				w.partial = append(w.partial, b[:min(len(b), room)]...)
			}
			break
		}
		if len(w.out) < cap(w.out) {
			line := string(append(w.partial, b[:i]...))
			select {
			case w.out <- line:
			default:
			}
		}
		w.partial = w.partial[:0]
		b = b[i+1:]
	}
	return n, nil
}

// tailBuffer keeps the last max bytes written to it. It is safe for concurrent use.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

// Write implements io.Writer.
func (t *tailBuffer) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, b...)
	if over := len(t.b) - t.max; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	return len(b), nil
}

// String returns what the buffer holds.
func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

// procCPU returns the CPU time (user and system) pid has used, from /proc/PID/stat in clock
// ticks of 10 ms (USER_HZ is 100 on Linux).
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read stat: %w", err)
	}
	// The command name, in parentheses, may hold spaces: the fields after it are counted
	// from its closing parenthesis. utime and stime are fields 14 and 15 of the line.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("read stat: no command name")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("read stat: too few fields")
	}
	var ticks int64
	for _, v := range f[11:13] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("read stat: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond, nil
}

// procStatus reads a size field such as VmRSS or VmHWM of /proc/PID/status, in bytes.
func procStatus(pid int, field string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read status: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != field {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("read status %s: %w", field, err)
		}
		return kb << 10, nil
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("read status: %w", err)
	}
	return 0, fmt.Errorf("read status: no %s", field)
}

// watchRSS samples VmRSS of each pid every interval, starting after delay, until the returned
// stop is called; stop returns the highest sample of each (0 when none could be read).
func watchRSS(pids []int, delay, every time.Duration) (stop func() []int64) {
	quit := make(chan struct{})
	out := make(chan []int64, 1)
	go func() {
		peak := make([]int64, len(pids))
		sample := func() {
			for i, pid := range pids {
				if v, err := procStatus(pid, "VmRSS"); err == nil && v > peak[i] {
					peak[i] = v
				}
			}
		}
		select {
		case <-time.After(delay):
		case <-quit:
			out <- peak
			return
		}
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			sample()
			select {
			case <-tick.C:
			case <-quit:
				sample()
				out <- peak
				return
			}
		}
	}()
	return func() []int64 {
		close(quit)
		return <-out
	}
}
