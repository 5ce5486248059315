package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hookctl/hookctl/internal/store"
	"github.com/hookctl/hookctl/internal/webhook"
)

// TestKillUnderLoad kills `hookctl listen` with SIGKILL while 16 clients are posting to it,
// then checks the log: every request whose sender got a 2xx answer is in it with exactly the
// body that was sent (and, when forwarding, at most the one attempt whose response the sender
// got), every row in it is whole, the full-text index agrees with the rows, and a new listener starts on
// it and records the next request with a larger id. Once forwarding, once recording only, and
// once with --ack, where every acknowledged request must also be queued, and all of them
// delivered by the next listener.
func TestKillUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	for _, tc := range []struct {
		name         string
		forward, ack bool
	}{
		{"forward", true, false},
		{"record-only", false, false},
		{"ack", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const (
				clients   = 16
				perClient = 250 // a bound; the kill comes long before
				killAfter = 300 // 2xx answers before the kill
			)
			dir := t.TempDir()
			db := filepath.Join(dir, "h.db")

			// The target checks that each body arrives whole and belongs to its path.
			var targetErrs, targetHits sync.Map
			target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				targetHits.Store(r.URL.Path, true)
				b, err := io.ReadAll(r.Body)
				if err == nil && !bytes.Equal(b, loadBody(markerOf(r.URL.Path))) {
					targetErrs.Store(r.URL.Path, fmt.Sprintf("body of %d bytes does not match its path", len(b)))
				}
				w.Header().Set("Content-Type", "text/plain")
				io.WriteString(w, "ok "+r.URL.Path)
			}))
			defer target.Close()

			args := []string{"--db", db, "listen", "--json", "--addr", "127.0.0.1:0"}
			if tc.forward || tc.ack {
				args = append(args, "--forward-to", target.URL)
			}
			if tc.ack {
				args = append(args, "--ack", "--retry-min", "50ms", "--retry-max", "200ms")
			}
			p := mustStartListen(t, hookctlCommand(t, bin, dir, args...))

			client := &http.Client{
				Transport: &http.Transport{MaxIdleConnsPerHost: clients, DisableCompression: true},
				Timeout:   30 * time.Second,
			}
			defer client.CloseIdleConnections()

			var (
				mu      sync.Mutex
				acks    []ackedRequest
				cutOff  int      // clients whose connection broke: expected once the process is gone
				refused []string // non-2xx answers: a failure of the listener
				okCount atomic.Int64
				killed  = make(chan struct{})
				wg      sync.WaitGroup
			)
			for c := range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for n := range perClient {
						marker := fmt.Sprintf("m%02dx%05d", c, n)
						status, id, body, err := postTo(client, p.URL+"/load/"+marker, loadBody(marker))
						if err != nil {
							mu.Lock()
							cutOff++
							mu.Unlock()
							return
						}
						if status < 200 || status > 299 {
							mu.Lock()
							refused = append(refused, fmt.Sprintf("%s: %d %s", marker, status, body))
							mu.Unlock()
							return
						}
						if id <= 0 {
							t.Errorf("%s: %d answer without a request id", marker, status)
							return
						}
						if want := "ok /load/" + marker; tc.forward && body != want {
							t.Errorf("%s: the sender got %q, want the target's %q", marker, body, want)
						}
						if want := fmt.Sprintf(`{"received":true,"id":%d}`, id); !tc.forward && !tc.ack && strings.TrimSpace(body) != want {
							t.Errorf("%s: the sender got %q, want %q", marker, body, want)
						}
						if tc.ack && body != `{"received":true}` {
							t.Errorf("%s: the sender got %q, want the ack", marker, body)
						}
						mu.Lock()
						acks = append(acks, ackedRequest{id, marker})
						mu.Unlock()
						if okCount.Add(1) == killAfter {
							close(killed)
						}
					}
				}()
			}
			clientsDone := make(chan struct{})
			go func() { wg.Wait(); close(clientsDone) }()
			select {
			case <-killed:
			case <-p.exited:
				t.Fatalf("listen exited under load: %v; stderr: %s", p.err, p.stderr.String())
			case <-clientsDone:
				t.Fatalf("the clients stopped after %d 2xx answers, before the kill: %v", okCount.Load(), refused)
			}
			p.cmd.Process.Kill() // SIGKILL, with clients still sending
			<-p.exited
			<-clientsDone

			var ee *exec.ExitError
			if !errors.As(p.err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("listen ended with %v, not by SIGKILL; stderr: %s", p.err, p.stderr.String())
			}
			if cutOff == 0 {
				t.Fatal("no client saw the process go away: the kill did not happen under load")
			}
			for _, r := range refused {
				t.Errorf("non-2xx answer under load: %s", r)
			}
			targetErrs.Range(func(k, v any) bool {
				t.Errorf("target: %s: %s", k, v)
				return true
			})
			t.Logf("%d requests answered 2xx before and around the kill; %d clients cut off", len(acks), cutOff)
			if fi, err := os.Stat(db + "-wal"); err != nil || fi.Size() == 0 {
				t.Fatalf("the kill left no write-ahead log (%v), so reopening does not recover one", err)
			}

			// A reader opens the log as the crash left it, write-ahead log included.
			listed := listIDs(t, bin, dir, db)
			rows := readLog(t, db)
			if len(listed) != len(rows) {
				t.Errorf("requests list shows %d requests, the log holds %d", len(listed), len(rows))
			}
			for _, a := range acks {
				r, ok := rows[a.id]
				switch {
				case !ok:
					t.Errorf("request %d (%s) was answered 2xx but is not in the log", a.id, a.marker)
				case r.URI != "/load/"+a.marker || !bytes.Equal(r.Body, loadBody(a.marker)):
					t.Errorf("request %d: recorded %s with a body of %d bytes, want /load/%s with the body sent",
						a.id, r.URI, len(r.Body), a.marker)
				case tc.forward && (r.Attempts > 1 || r.Attempts == 1 && r.Status != http.StatusOK):
					// The attempt is recorded just after the sender gets the target's answer, so
					// the kill may take the record of the last ones with it, never a wrong one.
					t.Errorf("request %d: %d attempts, last status %d; want the one forward whose 200 the sender got",
						a.id, r.Attempts, r.Status)
				}
			}
			// Rows the sender never heard about (recorded just before the kill) are whole too.
			for id, r := range rows {
				if !bytes.Equal(r.Body, loadBody(markerOf(r.URI))) || r.BodySize != int64(len(r.Body)) {
					t.Errorf("request %d (%s): torn row: body of %d bytes, body_size %d", id, r.URI, len(r.Body), r.BodySize)
				}
			}
			checkSearch(t, db, acks[:min(len(acks), 20)], acks[max(0, len(acks)-20):])
			if tc.ack {
				checkQueued(t, db, acks)
			}

			// The log opens cleanly for a new listener, which records the next request
			// with an id above every one before.
			maxID := slices.Max(append(listed, 0))
			p = mustStartListen(t, hookctlCommand(t, bin, dir, args...))
			status, id, _, err := postTo(client, p.URL+"/load/after", loadBody("after"))
			if err != nil || status != http.StatusOK {
				t.Fatalf("first request after the crash: %d %v; stderr: %s", status, err, p.stderr.String())
			}
			if id <= maxID {
				t.Errorf("first request after the crash got id %d, not above the previous %d", id, maxID)
			}
			if tc.ack {
				// The new listener delivers everything the killed one acknowledged.
				waitDelivered(t, db, acks)
				for _, a := range acks {
					if _, ok := targetHits.Load("/load/" + a.marker); !ok {
						t.Errorf("request %d (%s) was acknowledged but never reached the target", a.id, a.marker)
					}
				}
			}
			p.stop(t)
			out := hookctlOutput(t, bin, dir, "--db", db, "requests", "show", strconv.FormatInt(id, 10), "--json")
			var shown struct {
				ID   int64
				Body string
			}
			if err := json.Unmarshal(out, &shown); err != nil || shown.ID != id || shown.Body != string(loadBody("after")) {
				t.Errorf("requests show %d after the restart: %v: %.200s", id, err, out)
			}
		})
	}
}

// checkQueued checks that every acknowledged request was queued for delivery.
func checkQueued(t *testing.T, db string, acks []ackedRequest) {
	t.Helper()
	s, err := store.Open(context.Background(), store.Config{Path: db, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, a := range acks {
		if d, err := s.Delivery(context.Background(), a.id); err != nil || d.State == "" {
			t.Errorf("request %d was acknowledged with --ack but is not queued: %v", a.id, err)
		}
	}
}

// waitDelivered waits, bounded, until every acknowledged request's delivery is delivered.
func waitDelivered(t *testing.T, db string, acks []ackedRequest) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		s, err := store.Open(context.Background(), store.Config{Path: db, ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		left := 0
		for _, a := range acks {
			if d, err := s.Delivery(context.Background(), a.id); err != nil || d.State != webhook.DeliveryDelivered {
				left++
			}
		}
		s.Close()
		if left == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d acknowledged requests still not delivered after the restart", left)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkSearch checks that the log's full-text index finds each of the given requests, and
// only it, by its marker.
func checkSearch(t *testing.T, db string, samples ...[]ackedRequest) {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, store.Config{Path: db, ReadOnly: true})
	if err != nil {
		t.Fatalf("open the log: %v", err)
	}
	defer s.Close()
	for _, sample := range samples {
		for _, a := range sample {
			found, err := s.List(ctx, store.Filter{Search: a.marker, Limit: 10})
			if err != nil || len(found) != 1 || found[0].ID != a.id {
				t.Errorf("search for %s: %+v, %v; want request %d alone", a.marker, found, err, a.id)
			}
		}
	}
}

// ackedRequest is a request whose sender got a 2xx answer: the id in its
// X-Hookctl-Request-Id header and the marker of the body sent.
type ackedRequest struct {
	id     int64
	marker string
}

// loadBody is the 2 KiB JSON body posted for marker.
func loadBody(marker string) []byte {
	head := `{"marker":"` + marker + `","pad":"`
	tail := `"}`
	return []byte(head + strings.Repeat("x", 2048-len(head)-len(tail)) + tail)
}

// markerOf is the marker in a request path of the form /load/MARKER.
func markerOf(path string) string {
	return strings.TrimPrefix(path, "/load/")
}

// postTo posts body to url and returns the status, the X-Hookctl-Request-Id (0 when absent)
// and the response body.
func postTo(c *http.Client, url string, body []byte) (status int, id int64, respBody string, err error) {
	resp, err := c.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, 0, "", err
	}
	id, _ = strconv.ParseInt(resp.Header.Get("X-Hookctl-Request-Id"), 10, 64)
	return resp.StatusCode, id, string(b), nil
}

// syncBuffer collects a process's output while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// hookctlCommand is a hookctl command whose configuration and state directories are under
// dir; it is killed if the test outlives its deadline.
func hookctlCommand(t *testing.T, bin, dir string, args ...string) *exec.Cmd {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(),
		"XDG_CONFIG_HOME="+filepath.Join(dir, "config"),
		"XDG_STATE_HOME="+filepath.Join(dir, "state"),
		"XDG_DATA_HOME="+filepath.Join(dir, "data"),
		"HOOKCTL_DB=", "NO_COLOR=1")
	return cmd
}

// hookctlOutput runs a hookctl command that must succeed and returns its stdout.
func hookctlOutput(t *testing.T, bin, dir string, args ...string) []byte {
	t.Helper()
	cmd := hookctlCommand(t, bin, dir, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("hookctl %s: %v; stderr: %s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// listIDs runs `hookctl requests list --json` over the whole log and returns the ids listed.
func listIDs(t *testing.T, bin, dir, db string) []int64 {
	t.Helper()
	return jsonIDs(t, hookctlOutput(t, bin, dir, "--db", db, "requests", "list", "--json", "--limit", "1000000"))
}

// loggedRequest is a request as the log holds it, with the outcome of its attempts.
type loggedRequest struct {
	*webhook.Request
	Attempts int // how many attempts were recorded
	Status   int // the latest attempt's status, 0 if none
}

// readLog opens the log read-only in the test process and returns every request in it, with
// its body, by id.
func readLog(t *testing.T, db string) map[int64]loggedRequest {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, store.Config{Path: db, ReadOnly: true})
	if err != nil {
		t.Fatalf("open the log: %v", err)
	}
	defer s.Close()
	sums, err := s.List(ctx, store.Filter{Limit: 1 << 30})
	if err != nil {
		t.Fatalf("list the log: %v", err)
	}
	rows := make(map[int64]loggedRequest, len(sums))
	for _, sum := range sums {
		r, err := s.Request(ctx, sum.ID)
		if err != nil {
			t.Fatalf("read request %d: %v", sum.ID, err)
		}
		if _, dup := rows[r.ID]; dup {
			t.Fatalf("request %d listed twice", r.ID)
		}
		rows[r.ID] = loggedRequest{Request: r, Attempts: sum.Attempts, Status: sum.Status}
	}
	return rows
}

// listenProc is a running `hookctl listen --json`.
type listenProc struct {
	cmd    *exec.Cmd
	URL    string // the local ingress, from the ready line
	stderr *syncBuffer
	exited chan struct{} // closed once the process has exited
	err    error         // its exit status, once exited is closed
}

// startListen starts cmd, a `hookctl listen --json`, and waits for its ready line. When the
// process ends before it is ready, the returned listenProc has no URL and has exited. It may
// be called from any goroutine.
func startListen(t *testing.T, cmd *exec.Cmd) (*listenProc, error) {
	p := &listenProc{cmd: cmd, stderr: &syncBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = p.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	lines := bufio.NewScanner(stdout)
	var ready struct{ Event, Ingress string }
	if lines.Scan() {
		json.Unmarshal(lines.Bytes(), &ready)
	}
	go func() {
		io.Copy(io.Discard, stdout)
		p.err = cmd.Wait()
		close(p.exited)
	}()
	if ready.Event != "ready" || ready.Ingress == "" {
		<-p.exited
		return p, nil
	}
	p.URL = ready.Ingress
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.exited
	})
	return p, nil
}

// mustStartListen is startListen for a listener that must start.
func mustStartListen(t *testing.T, cmd *exec.Cmd) *listenProc {
	t.Helper()
	p, err := startListen(t, cmd)
	if err != nil {
		t.Fatal(err)
	}
	if p.URL == "" {
		t.Fatalf("listen was not ready (%v); stderr: %s", p.err, p.stderr.String())
	}
	return p
}

// stop interrupts the listener, as Ctrl-C does, and checks that it exits 0 without a stack
// trace.
func (p *listenProc) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(os.Interrupt)
	<-p.exited
	if p.err != nil {
		t.Errorf("listen exited with %v after SIGINT; stderr: %s", p.err, p.stderr.String())
	}
	if s := p.stderr.String(); strings.Contains(s, "goroutine ") || strings.Contains(s, "panic:") {
		t.Errorf("stack trace on stderr: %s", s)
	}
}
