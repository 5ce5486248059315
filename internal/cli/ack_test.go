package cli

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// ackArgs make retries quick enough for a test.
var ackArgs = []string{"--ack", "--retry-min", "20ms", "--retry-max", "50ms"}

// listRows runs requests list --json and returns the rows by id.
func listRows(t *testing.T, db string, args ...string) map[int64]map[string]any {
	t.Helper()
	code, stdout, stderr := run(t, db, append([]string{"requests", "list", "--json"}, args...)...)
	if code != 0 {
		t.Fatalf("requests list: %d %s", code, stderr)
	}
	var rows []map[string]any
	if err := json.Unmarshal([]byte(stdout), &rows); err != nil {
		t.Fatal(err)
	}
	out := map[int64]map[string]any{}
	for _, r := range rows {
		out[int64(r["id"].(float64))] = r
	}
	return out
}

// waitRows polls requests list until ok accepts its rows.
func waitRows(t *testing.T, db string, ok func(map[int64]map[string]any) bool, args ...string) map[int64]map[string]any {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		rows := listRows(t, db, args...)
		if ok(rows) {
			return rows
		}
		if time.Now().After(deadline) {
			t.Fatalf("rows never settled: %v", rows)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// postID posts body and returns the answer's status and the request id it names.
func postID(t *testing.T, url, body string) (int, string, int64) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	id, err := strconv.ParseInt(resp.Header.Get("X-Hookctl-Request-Id"), 10, 64)
	if err != nil {
		t.Fatalf("answer without a request id: %v %s", resp.Header, b)
	}
	return resp.StatusCode, string(b), id
}

// TestListenAck: senders are answered at once, deliveries are retried until the target takes
// them, a 4xx is given up, retry delivers what was given up, and the states show in list,
// show and the JSON events.
func TestListenAck(t *testing.T) {
	db := filepath.Join(t.TempDir(), "hookctl.db")
	var flaky atomic.Int32
	var acceptBad atomic.Bool
	var mu sync.Mutex
	var seen []string
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		seen = append(seen, r.URL.Path)
		mu.Unlock()
		switch {
		case r.URL.Path == "/flaky" && flaky.Add(1) <= 2:
			w.WriteHeader(http.StatusServiceUnavailable)
		case r.URL.Path == "/bad" && !acceptBad.Load():
			w.WriteHeader(http.StatusBadRequest)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	defer target.Close()

	ingress, out, stop := listening(t, db, append(ackArgs, "--forward-to", target.URL)...)
	status, body, flakyID := postID(t, ingress+"/flaky", `{"n":1}`)
	if status != 200 || body != `{"received":true}` {
		t.Fatalf("ack answer %d %q", status, body)
	}
	_, _, badID := postID(t, ingress+"/bad", `{"n":2}`)

	rows := waitRows(t, db, func(rows map[int64]map[string]any) bool {
		return rows[flakyID]["delivery"] == "delivered" && rows[badID]["delivery"] == "given_up"
	})
	if rows[flakyID]["status"] != 204.0 || rows[badID]["status"] != 400.0 || rows[badID]["next_attempt_at"] != "" {
		t.Errorf("rows: %v", rows)
	}
	// The JSON events: each request with its pending delivery, each attempt with the state
	// after it.
	var states []string
	for _, line := range out.waitFor(t, 7)[1:] {
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatal(err)
		}
		states = append(states, ev["event"].(string)+" "+ev["path"].(string)+" "+ev["delivery"].(string))
	}
	for _, want := range []string{"request /flaky pending", "attempt /flaky retrying", "attempt /flaky delivered",
		"request /bad pending", "attempt /bad given_up"} {
		if !strings.Contains(strings.Join(states, "\n"), want) {
			t.Errorf("events lack %q:\n%s", want, strings.Join(states, "\n"))
		}
	}
	if code := stop(); code != 0 {
		t.Fatalf("listen exited %d", code)
	}

	// show tells the story of the flaky one: three attempts, forward then redeliveries.
	_, stdout, _ := run(t, db, "requests", "show", strconv.FormatInt(flakyID, 10), "--json")
	var detail struct {
		Delivery string
		Attempts []struct {
			Kind   string
			Status int
		}
	}
	if err := json.Unmarshal([]byte(stdout), &detail); err != nil {
		t.Fatal(err)
	}
	if detail.Delivery != "delivered" || len(detail.Attempts) != 3 || detail.Attempts[0].Kind != "forward" ||
		detail.Attempts[1].Kind != "redelivery" || detail.Attempts[2].Status != 204 {
		t.Errorf("show --json: %s", stdout)
	}
	_, stdout, _ = run(t, db, "requests", "show", strconv.FormatInt(badID, 10))
	if !strings.Contains(stdout, "Delivery   given up to "+target.URL+" (1 attempt)") {
		t.Errorf("show:\n%s", stdout)
	}

	// retry: still refused, then accepted; a delivered request is refused with a hint.
	code, stdout, stderr := run(t, db, "retry", "--failed")
	if code == 0 || !strings.Contains(stdout, "-> 400") || !strings.Contains(stdout, "(given up)") {
		t.Errorf("retry --failed against a 400: %d %q %q", code, stdout, stderr)
	}
	acceptBad.Store(true)
	code, stdout, stderr = run(t, db, "retry", "--failed", "--json")
	var retried []map[string]any
	if err := json.Unmarshal([]byte(stdout), &retried); err != nil || code != 0 || len(retried) != 1 ||
		retried[0]["delivery"] != "delivered" || retried[0]["kind"] != "redelivery" {
		t.Errorf("retry --failed --json: %d %s %s", code, stdout, stderr)
	}
	code, _, stderr = run(t, db, "retry", "--failed")
	if code != 0 || !strings.Contains(stderr, "no failed deliveries") {
		t.Errorf("nothing left to retry: %d %q", code, stderr)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"retry", strconv.FormatInt(flakyID, 10)}, "was delivered already; send it again with: hookctl replay"},
		{[]string{"retry", "999"}, "no request with id 999"},
		{[]string{"retry"}, "give request ids or --failed"},
		{[]string{"retry", "1", "--failed"}, "give request ids or --failed"},
	} {
		code, _, stderr := run(t, db, tc.args...)
		if code == 0 || !strings.Contains(stderr, tc.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want one line with %q", tc.args, code, stderr, tc.want)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if n := strings.Count(strings.Join(seen, " "), "/flaky"); n != 3 {
		t.Errorf("target saw /flaky %d times, want 3", n)
	}
}

// TestAckResumesAfterRestart queues requests while the target is down, stops listen, and
// checks that the next listen delivers every one of them, in arrival order.
func TestAckResumesAfterRestart(t *testing.T) {
	db := filepath.Join(t.TempDir(), "hookctl.db")
	// Reserve an address for the target, and leave it closed: connections are refused.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	ingress, _, stop := listening(t, db, append(ackArgs, "--forward-to", addr)...)
	var ids []int64
	for i := range 5 {
		_, _, id := postID(t, ingress+"/n/"+strconv.Itoa(i), `{}`)
		ids = append(ids, id)
	}
	waitRows(t, db, func(rows map[int64]map[string]any) bool {
		return rows[ids[0]]["delivery"] == "retrying"
	})
	stop()
	rows := listRows(t, db)
	for _, id := range ids {
		if d := rows[id]["delivery"]; d != "retrying" && d != "pending" {
			t.Fatalf("request %d after stopping: delivery %v", id, d)
		}
	}

	var mu sync.Mutex
	var got []string
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.URL.Path)
		mu.Unlock()
	}))
	if srv.Listener, err = net.Listen("tcp", addr); err != nil {
		t.Skipf("the target's address was taken meanwhile: %v", err)
	}
	srv.Start()
	defer srv.Close()

	_, _, stop = listening(t, db, append(ackArgs, "--forward-to", addr)...)
	waitRows(t, db, func(rows map[int64]map[string]any) bool {
		for _, id := range ids {
			if rows[id]["delivery"] != "delivered" {
				return false
			}
		}
		return true
	})
	stop()
	mu.Lock()
	defer mu.Unlock()
	if want := "/n/0 /n/1 /n/2 /n/3 /n/4"; strings.Join(got, " ") != want {
		t.Errorf("target got %v, want %s once each, in order", got, want)
	}
}

// TestAckFlagErrors: bad --ack settings are one-line errors.
func TestAckFlagErrors(t *testing.T) {
	db := filepath.Join(t.TempDir(), "hookctl.db")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--ack", "--ack-status", "500"}, "--ack-status 500"},
		{[]string{"--ack", "--retry-min", "0s"}, "--retry-min must be positive"},
		{[]string{"--ack", "--retry-min", "10s", "--retry-max", "1s"}, "--retry-max 1s is shorter than --retry-min 10s"},
		{[]string{"--ack", "--ack-concurrency", "0"}, "--ack-concurrency must be at least 1"},
		{[]string{"--dedupe-window", "0s"}, "--dedupe-window must be positive"},
		{[]string{"--max-log-size", "10KiB"}, "--max-log-size 10KiB is too small"},
		{[]string{"--max-log-size", "lots"}, "--max-log-size"},
	} {
		code, _, stderr := run(t, db, append([]string{"listen", "--no-tui", "--addr", "127.0.0.1:0"}, tc.args...)...)
		if code == 0 || !strings.Contains(stderr, tc.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want one line with %q", tc.args, code, stderr, tc.want)
		}
	}
}
