package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer that a command writes to while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor polls b until it holds n lines or the deadline passes.
func (b *syncBuffer) waitFor(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
		if b.String() != "" && len(lines) >= n {
			return lines
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited for %d lines, have:\n%s", n, b.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// run runs hookctl in-process with args and returns its exit code, stdout and stderr.
func run(t *testing.T, db string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(append([]string{"--db", db}, args...), Env{Out: &out, ErrOut: &errOut, Getenv: func(string) string { return "" }})
	return code, out.String(), errOut.String()
}

// listening runs `hookctl listen --json` in the background until the test ends and returns
// the ingress URL and the JSON lines it prints.
func listening(t *testing.T, db string, args ...string) (string, *syncBuffer, func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, errOut := &syncBuffer{}, &syncBuffer{}
	codec := make(chan int, 1)
	go func() {
		codec <- Main(append([]string{"--db", db, "listen", "--json", "--addr", "127.0.0.1:0"}, args...),
			Env{Out: out, ErrOut: errOut, Getenv: func(string) string { return "" }, Context: ctx})
	}()
	var once sync.Once
	code := -1
	stop := func() int {
		once.Do(func() {
			cancel()
			code = <-codec
		})
		return code
	}
	t.Cleanup(func() { stop() })
	var ready map[string]any
	deadline := time.Now().Add(10 * time.Second)
	for ready == nil {
		if s := out.String(); s != "" {
			line, _, _ := strings.Cut(s, "\n")
			if err := json.Unmarshal([]byte(line), &ready); err != nil {
				t.Fatalf("first line %q: %v", line, err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("listen never got ready; stderr: %s", errOut.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if ready["event"] != "ready" || ready["db"] != db {
		t.Fatalf("ready = %v", ready)
	}
	return ready["ingress"].(string), out, stop
}

func keys(m map[string]any) []string {
	var k []string
	for key := range m {
		k = append(k, key)
	}
	slices.Sort(k)
	return k
}

func post(t *testing.T, url, body string) *http.Response {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func TestListenListShowReplay(t *testing.T) {
	db := filepath.Join(t.TempDir(), "hookctl.db")
	hits := make(chan string, 10)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		hits <- r.RequestURI + " " + string(b)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":true}`)
	}))
	defer target.Close()
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits <- "other " + r.RequestURI
		w.WriteHeader(http.StatusTeapot)
	}))
	defer other.Close()

	ingress, out, stop := listening(t, db, "--forward-to", target.URL+"/base")
	resp := post(t, ingress+"/stripe?x=1", `{"type":"payment_intent.succeeded"}`)
	if resp.StatusCode != 200 || resp.Header.Get("X-Hookctl-Request-Id") != "1" {
		t.Fatalf("got %d %v", resp.StatusCode, resp.Header)
	}
	if got := <-hits; got != `/base/stripe?x=1 {"type":"payment_intent.succeeded"}` {
		t.Fatalf("target got %q", got)
	}
	lines := out.waitFor(t, 3)
	var reqEv, attEv map[string]any
	json.Unmarshal([]byte(lines[1]), &reqEv)
	json.Unmarshal([]byte(lines[2]), &attEv)
	if reqEv["event"] != "request" || reqEv["id"] != 1.0 || reqEv["path"] != "/stripe?x=1" {
		t.Errorf("request event %s", lines[1])
	}
	if attEv["event"] != "attempt" || attEv["request_id"] != 1.0 || attEv["status"] != 200.0 || attEv["kind"] != "forward" {
		t.Errorf("attempt event %s", lines[2])
	}
	if code := stop(); code != 0 {
		t.Fatalf("listen exited %d", code)
	}

	// The log survives the restart of listen, and list/show read it.
	code, stdout, stderr := run(t, db, "requests", "list", "--json")
	if code != 0 {
		t.Fatalf("list: %d %s", code, stderr)
	}
	var list []map[string]any
	if err := json.Unmarshal([]byte(stdout), &list); err != nil || len(list) != 1 {
		t.Fatalf("list --json = %s (%v)", stdout, err)
	}
	wantList := []string{"body_size", "delivery", "duplicate_of", "duration_ms", "error", "event_type", "id", "method", "next_attempt_at",
		"path", "provider", "received_at", "rejected", "signature", "status"}
	if got := keys(list[0]); !reflect.DeepEqual(got, wantList) {
		t.Errorf("list fields = %v, want %v", got, wantList)
	}
	if list[0]["status"] != 200.0 || list[0]["signature"] != "unsigned" || list[0]["body_size"] != 35.0 {
		t.Errorf("list row = %v", list[0])
	}
	if _, err := time.Parse(time.RFC3339Nano, list[0]["received_at"].(string)); err != nil {
		t.Errorf("received_at: %v", err)
	}

	code, stdout, _ = run(t, db, "requests", "show", "1", "--json")
	var show map[string]any
	if err := json.Unmarshal([]byte(stdout), &show); err != nil || code != 0 {
		t.Fatalf("show --json = %s (%v)", stdout, err)
	}
	for _, f := range append(wantList, "host", "remote_addr", "headers", "body", "attempts") {
		if _, ok := show[f]; !ok {
			t.Errorf("show --json lacks %q", f)
		}
	}
	if show["body"] != `{"type":"payment_intent.succeeded"}` {
		t.Errorf("body = %v", show["body"])
	}
	if h := show["headers"].(map[string]any); !reflect.DeepEqual(h["Content-Type"], []any{"application/json"}) {
		t.Errorf("headers = %v", h)
	}
	attempts := show["attempts"].([]any)
	a := attempts[0].(map[string]any)
	for _, f := range []string{"id", "kind", "target", "started_at", "status", "duration_ms", "error", "response_headers", "response_body"} {
		if _, ok := a[f]; !ok {
			t.Errorf("attempt lacks %q: %v", f, a)
		}
	}
	if a["response_body"] != `{"ok":true}` || a["target"] != target.URL+"/base/stripe?x=1" {
		t.Errorf("attempt = %v", a)
	}

	code, stdout, _ = run(t, db, "requests", "show", "1", "--body")
	if code != 0 || stdout != `{"type":"payment_intent.succeeded"}` {
		t.Errorf("show --body = %q", stdout)
	}
	code, stdout, _ = run(t, db, "requests", "show", "#1")
	if code != 0 || !strings.Contains(stdout, `"type": "payment_intent.succeeded"`) || !strings.Contains(stdout, "forward") {
		t.Errorf("show = %s", stdout)
	}

	// Replay goes to the original target, --to elsewhere; both are recorded.
	code, stdout, stderr = run(t, db, "replay", "1")
	if code != 0 || !strings.Contains(stdout, "-> 200") {
		t.Fatalf("replay: %d %s %s", code, stdout, stderr)
	}
	if got := <-hits; got != `/base/stripe?x=1 {"type":"payment_intent.succeeded"}` {
		t.Fatalf("replay reached %q", got)
	}
	code, stdout, _ = run(t, db, "replay", "1", "--to", other.URL)
	if code != 0 || !strings.Contains(stdout, "-> 418") {
		t.Fatalf("replay --to: %d %s", code, stdout)
	}
	if got := <-hits; got != "other /stripe?x=1" {
		t.Fatalf("replay --to reached %q", got)
	}
	_, stdout, _ = run(t, db, "requests", "show", "1", "--json")
	json.Unmarshal([]byte(stdout), &show)
	var kinds []string
	for _, a := range show["attempts"].([]any) {
		kinds = append(kinds, a.(map[string]any)["kind"].(string))
	}
	if !reflect.DeepEqual(kinds, []string{"forward", "replay", "replay"}) || show["status"] != 418.0 {
		t.Errorf("attempts %v, status %v", kinds, show["status"])
	}
}

func TestRecordOnlyAndReplayNeedsTarget(t *testing.T) {
	db := filepath.Join(t.TempDir(), "hookctl.db")
	ingress, _, stop := listening(t, db, "--status", "202")
	if resp := post(t, ingress+"/capture", `{}`); resp.StatusCode != 202 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	stop()
	code, _, stderr := run(t, db, "replay", "1")
	if code != 1 || !strings.Contains(stderr, "never forwarded") || !strings.Contains(stderr, "--to") {
		t.Errorf("replay of a never-forwarded request: %d %q", code, stderr)
	}
}

func TestErrorsAreOneLine(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "hookctl.db")
	if code, _, stderr := run(t, db, "requests", "list"); code != 0 {
		t.Fatalf("list on a new log: %d %s", code, stderr)
	}
	corrupt := filepath.Join(dir, "corrupt.db")
	garbage := bytes.Repeat([]byte("not a database "), 500)
	os.WriteFile(corrupt, garbage, 0o600)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	readOnlyDir := filepath.Join(dir, "ro")
	os.Mkdir(readOnlyDir, 0o500)

	tests := []struct {
		name string
		db   string
		args []string
		want string
	}{
		{"busy port", db, []string{"listen", "--addr", busy.Addr().String()}, "address already in use"},
		{"malformed target", db, []string{"listen", "--forward-to", "http://"}, "malformed target"},
		{"bad port", db, []string{"listen", "--forward-to", "70000"}, "port must be between"},
		{"bad max body", db, []string{"listen", "--max-body", "lots"}, "invalid size"},
		{"bad header", db, []string{"listen", "-H", "nocolon"}, `want "Key: Value"`},
		{"corrupt log", corrupt, []string{"requests", "list"}, "corrupt"},
		{"corrupt log listen", corrupt, []string{"listen"}, "corrupt"},
		{"unknown id", db, []string{"requests", "show", "42"}, "no request with id 42"},
		{"unknown id replay", db, []string{"replay", "42"}, "no request with id 42"},
		{"bad id", db, []string{"requests", "show", "x1"}, "invalid request id"},
		{"unknown flag", db, []string{"requests", "list", "--nope"}, "unknown flag"},
		{"bad limit", db, []string{"requests", "list", "--limit", "0"}, "--limit"},
		{"unknown command", db, []string{"lisen"}, "unknown command"},
		{"inspect without a terminal", db, []string{"inspect"}, "needs a terminal"},
		{"log under a file", filepath.Join(corrupt, "h.db"), []string{"listen"}, "log directory"},
		{"log is a directory", dir, []string{"requests", "list"}, dir},
	}
	if os.Geteuid() != 0 { // root writes anywhere
		tests = append(tests, struct {
			name string
			db   string
			args []string
			want string
		}{"unwritable log", filepath.Join(readOnlyDir, "sub", "h.db"), []string{"listen"}, "log"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(t, tt.db, tt.args...)
			if code != 1 {
				t.Errorf("exit code %d, want 1", code)
			}
			if strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "hookctl: ") || !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr = %q, want one line containing %q", stderr, tt.want)
			}
			if strings.Contains(stderr, "goroutine") || stdout != "" {
				t.Errorf("stdout %q, stderr %q", stdout, stderr)
			}
		})
	}
	if b, _ := os.ReadFile(corrupt); !bytes.Equal(b, garbage) {
		t.Error("the corrupt log was modified")
	}
}

func TestListTable(t *testing.T) {
	db := filepath.Join(t.TempDir(), "hookctl.db")
	ingress, _, stop := listening(t, db)
	for _, p := range []string{"/a", "/b", "/c"} {
		post(t, ingress+p, `{}`)
	}
	stop()
	var out bytes.Buffer
	code := Main([]string{"--db", db, "requests", "list", "--limit", "2"}, Env{Out: &out, ErrOut: io.Discard, OutIsTTY: true, Getenv: func(string) string { return "" }})
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if code != 0 || len(lines) != 3 || !strings.HasPrefix(lines[0], "ID ") || !strings.HasPrefix(lines[1], "3 ") || !strings.Contains(lines[2], "/b") {
		t.Fatalf("table:\n%s", out.String())
	}
	// Columns line up: every row has METHOD at the header's offset.
	col := strings.Index(lines[0], "METHOD")
	for _, l := range lines[1:] {
		if !strings.HasPrefix(l[col:], "POST") {
			t.Errorf("misaligned row %q", l)
		}
	}
	// Without a terminal: tab-separated values.
	_, stdout, _ := run(t, db, "requests", "list")
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		if f := strings.Split(sc.Text(), "\t"); len(f) != 10 {
			t.Errorf("TSV row %q has %d fields", sc.Text(), len(f))
		}
	}
}

func TestVersion(t *testing.T) {
	code, stdout, _ := run(t, filepath.Join(t.TempDir(), "x.db"), "version")
	if code != 0 || !strings.HasPrefix(stdout, "hookctl ") {
		t.Fatalf("version: %d %q", code, stdout)
	}
	code, stdout, _ = run(t, filepath.Join(t.TempDir(), "x.db"), "completion", "bash")
	if code != 0 || !strings.Contains(stdout, "hookctl") {
		t.Fatalf("completion: %d", code)
	}
}

func TestDBPath(t *testing.T) {
	tests := []struct {
		name, flag string
		env        map[string]string
		want       string
	}{
		{"flag wins", "/f.db", map[string]string{"HOOKCTL_DB": "/e.db"}, "/f.db"},
		{"env", "", map[string]string{"HOOKCTL_DB": "/e.db", "XDG_DATA_HOME": "/x"}, "/e.db"},
		{"xdg", "", map[string]string{"XDG_DATA_HOME": "/x", "HOME": "/h"}, "/x/hookctl/hookctl.db"},
		{"relative xdg ignored", "", map[string]string{"XDG_DATA_HOME": "rel", "HOME": "/h"}, "/h/.local/share/hookctl/hookctl.db"},
		{"home", "", map[string]string{"HOME": "/h"}, "/h/.local/share/hookctl/hookctl.db"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &globals{db: tt.flag, env: &Env{Getenv: func(k string) string { return tt.env[k] }}}
			got, err := g.dbPath()
			if err != nil || got != tt.want {
				t.Errorf("dbPath = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
