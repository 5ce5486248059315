package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildBinary builds hookctl into the test's temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "hookctl")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// TestSignalsFinishInFlight runs the real binary: SIGINT or SIGTERM while a request is being
// forwarded lets it finish, then the process exits 0 with the log closed cleanly.
func TestSignalsFinishInFlight(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "h.db")
			arrived, release := make(chan struct{}), make(chan struct{})
			target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				close(arrived)
				<-release
				io.WriteString(w, "done")
			}))
			defer target.Close()

			cmd := exec.Command(bin, "--db", db, "listen", "--json", "--addr", "127.0.0.1:0", "--forward-to", target.URL)
			stdout, _ := cmd.StdoutPipe()
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			lines := bufio.NewScanner(stdout)
			if !lines.Scan() {
				t.Fatalf("no ready line; stderr: %s", stderr.String())
			}
			var ready struct{ Ingress string }
			json.Unmarshal(lines.Bytes(), &ready)
			go func() {
				for lines.Scan() {
				}
			}()

			type result struct {
				body string
				err  error
			}
			done := make(chan result, 1)
			go func() {
				resp, err := http.Post(ready.Ingress+"/slow", "text/plain", strings.NewReader("payload"))
				if err != nil {
					done <- result{err: err}
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				done <- result{body: string(b)}
			}()
			<-arrived
			cmd.Process.Signal(sig)
			time.Sleep(100 * time.Millisecond) // let the signal land while the request is in flight
			close(release)
			if res := <-done; res.err != nil || res.body != "done" {
				t.Fatalf("in-flight request: %+v", res)
			}
			if err := cmd.Wait(); err != nil {
				t.Fatalf("listen exited with %v; stderr: %s", err, stderr.String())
			}
			if strings.Contains(stderr.String(), "goroutine") {
				t.Fatalf("stack trace on stderr: %s", stderr.String())
			}
			if _, err := os.Stat(db + "-wal"); err == nil {
				if fi, _ := os.Stat(db + "-wal"); fi.Size() > 0 {
					t.Errorf("WAL not checkpointed on close: %d bytes", fi.Size())
				}
			}
			out, err := exec.Command(bin, "--db", db, "requests", "list", "--json").Output()
			if err != nil {
				t.Fatal(err)
			}
			var rows []struct{ Status int }
			if json.Unmarshal(out, &rows); len(rows) != 1 || rows[0].Status != 200 {
				t.Fatalf("log after shutdown: %s", out)
			}
		})
	}
}
