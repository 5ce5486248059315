package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// stopTimeout bounds how long a process may take to stop after SIGINT before it is killed.
const stopTimeout = 15 * time.Second

// proc is a child process under test. Its stdout goes straight to a file, so that the
// harness spends nothing on the lines a system prints while it is measured (hookctl listen
// prints an event per request); the harness reads the file only while it waits for a line.
// The tail of its stderr is kept for error messages.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *os.File      // stdout, read from where the last waitLine stopped
	rest []byte        // a line read only in part
	errs *tailBuffer   // the end of stderr
	done chan struct{} // closed when the process has exited
	err  error         // Wait's result, set before done is closed
}

// startProc starts path with args, in environment env (nil: this process's), its stdout
// written to the file stdout.
func startProc(name, path, stdout string, args, env []string) (*proc, error) {
	w, err := os.OpenFile(stdout, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	defer w.Close() // the child has its own copy
	r, err := os.Open(stdout)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{
		name: name,
		out:  r,
		errs: &tailBuffer{max: 16 << 10},
		done: make(chan struct{}),
	}
	p.cmd = exec.Command(path, args...)
	p.cmd.Env = env
	p.cmd.Stdout = w
	p.cmd.Stderr = p.errs
	p.cmd.SysProcAttr = procAttr()
	if err := p.cmd.Start(); err != nil {
		r.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
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

// linePoll is how often waitLine looks for new output.
const linePoll = 10 * time.Millisecond

// waitLine returns the first stdout line, after those an earlier waitLine read, for which
// match is true, within timeout.
func (p *proc) waitLine(ctx context.Context, timeout time.Duration, match func(string) bool) (string, error) {
	deadline := time.Now().Add(timeout)
	buf := make([]byte, 32<<10)
	for {
		exited := p.exited() // before reading, so that the last output is read
		n, err := p.out.Read(buf)
		p.rest = append(p.rest, buf[:n]...)
		for {
			i := bytes.IndexByte(p.rest, '\n')
			if i < 0 {
				break
			}
			line := string(p.rest[:i])
			p.rest = p.rest[i+1:]
			if match(line) {
				return line, nil
			}
		}
		switch {
		case err != nil && !errors.Is(err, io.EOF):
			return "", fmt.Errorf("%s: read stdout: %w", p.name, err)
		case time.Now().After(deadline):
			return "", p.failure(fmt.Sprintf("not ready after %s", timeout))
		case n > 0:
			continue
		case exited:
			return "", p.failure("no ready line")
		}
		select {
		case <-time.After(linePoll):
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}

// stop sends SIGINT and waits for the process to exit, killing it after stopTimeout. It
// returns an error when the process had to be killed or exited with a failure.
func (p *proc) stop() error {
	defer p.out.Close()
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
