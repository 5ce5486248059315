package capture_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookctl/hookctl/internal/capture"
	"github.com/hookctl/hookctl/internal/forward"
	"github.com/hookctl/hookctl/internal/store"
	"github.com/hookctl/hookctl/internal/webhook"
)

// rig is a capture handler served on 127.0.0.1 over a real log file.
type rig struct {
	url    string
	log    *store.Store
	events chan webhook.Event
	stop   func()
}

func newRig(t *testing.T, cfg capture.Config, scfg capture.ServeConfig) *rig {
	t.Helper()
	db, err := store.Open(context.Background(), store.Config{Path: filepath.Join(t.TempDir(), "log.db")})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{url: "http://" + ln.Addr().String(), log: db, events: make(chan webhook.Event, 1024)}
	cfg.Log = db
	cfg.Notify = func(ev webhook.Event) { r.events <- ev }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- capture.Serve(ctx, ln, capture.New(cfg), scfg) }()
	var once sync.Once
	r.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Serve: %v", err)
			}
			db.Close()
		})
	}
	t.Cleanup(r.stop)
	return r
}

// waitAttempts waits, bounded, until request id has n attempts in the log, and returns them:
// the handler answers the sender before the attempt is committed.
func waitAttempts(t *testing.T, log *store.Store, id int64, n int) []webhook.Attempt {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		attempts, err := log.Attempts(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if len(attempts) >= n {
			if len(attempts) > n {
				t.Fatalf("request %d has %d attempts, want %d", id, len(attempts), n)
			}
			return attempts
		}
		if time.Now().After(deadline) {
			t.Fatalf("request %d has %d attempts after 5s, want %d", id, len(attempts), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// received is what a test target saw.
type received struct {
	method, uri string
	header      http.Header
	body        []byte
}

func echoTarget(t *testing.T, got chan<- received) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- received{r.Method, r.RequestURI, r.Header.Clone(), body}
		w.Header().Add("X-Target", "a")
		w.Header().Add("X-Target", "b")
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprintf(w, "handled %d bytes", len(body))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestForwardByteExact(t *testing.T) {
	tests := []struct {
		name, contentType string
		body              []byte
	}{
		{"json", "application/json", []byte(`{"id":"evt_1","amount":1.50,"nested":{"b":1,"a":[1e3, "\u00e9"]}}`)},
		{"form", "application/x-www-form-urlencoded", []byte("token=x&command=%2Fhook&text=a+b%20c&text=d")},
		{"binary", "application/octet-stream", []byte{0, 1, 2, 0xff, 0xfe, '\r', '\n', '\r', '\n', 0}},
		{"latin1", "text/plain; charset=iso-8859-1", []byte("caf\xe9 cr\xe8me")},
		{"empty", "", nil},
	}
	got := make(chan received, 1)
	target := echoTarget(t, got)
	r := newRig(t, capture.Config{Target: mustURL(t, target.URL+"/base")}, capture.ServeConfig{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", r.url+"/hooks/"+tt.name+"?b=2&a=1&a=%20x", bytes.NewReader(tt.body))
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			req.Header.Add("X-Repeat", "first")
			req.Header.Add("X-Repeat", "second")
			req.Header.Add("X-Repeat", "third")
			req.Header.Set("Stripe-Signature", "t=1,v1=deadbeef")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			respBody, _ := io.ReadAll(resp.Body)
			resp.Body.Close()

			// The sender gets the target's answer.
			if resp.StatusCode != http.StatusAccepted || string(respBody) != fmt.Sprintf("handled %d bytes", len(tt.body)) {
				t.Errorf("sender got %d %q", resp.StatusCode, respBody)
			}
			if v := resp.Header.Values("X-Target"); strings.Join(v, ",") != "a,b" {
				t.Errorf("sender got X-Target %v", v)
			}
			id, err := strconv.ParseInt(resp.Header.Get(capture.RequestIDHeader), 10, 64)
			if err != nil {
				t.Fatalf("no request id header: %v", resp.Header)
			}

			// The target gets the request byte for byte.
			tr := <-got
			if tr.uri != "/base/hooks/"+tt.name+"?b=2&a=1&a=%20x" || tr.method != "POST" {
				t.Errorf("target got %s %s", tr.method, tr.uri)
			}
			if !bytes.Equal(tr.body, tt.body) {
				t.Errorf("target got body %q, want %q", tr.body, tt.body)
			}
			if v := tr.header.Values("X-Repeat"); strings.Join(v, ",") != "first,second,third" {
				t.Errorf("target got X-Repeat %v", v)
			}
			if tr.header.Get("Stripe-Signature") != "t=1,v1=deadbeef" || tr.header.Get("Content-Type") != tt.contentType {
				t.Errorf("target headers %v", tr.header)
			}
			if tr.header.Get("X-Forwarded-For") != "127.0.0.1" || tr.header.Get("X-Forwarded-Proto") != "http" ||
				tr.header.Get("X-Forwarded-Host") != strings.TrimPrefix(r.url, "http://") {
				t.Errorf("target X-Forwarded-* = %v", tr.header)
			}

			// The log has the request and the attempt.
			rec, err := r.log.Request(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(rec.Body, tt.body) || rec.BodySize != int64(len(tt.body)) {
				t.Errorf("logged body %q", rec.Body)
			}
			if v := rec.Header.Values("X-Repeat"); strings.Join(v, ",") != "first,second,third" {
				t.Errorf("logged X-Repeat %v", v)
			}
			if rec.URI != "/hooks/"+tt.name+"?b=2&a=1&a=%20x" || rec.Ingress != webhook.IngressLocal {
				t.Errorf("logged %+v", rec)
			}
			attempts := waitAttempts(t, r.log, id, 1)
			a := attempts[0]
			if a.Kind != webhook.KindForward || a.Status != http.StatusAccepted || a.Target != target.URL+"/base/hooks/"+tt.name+"?b=2&a=1&a=%20x" ||
				string(a.Body) != string(respBody) || a.Header.Get("X-Target") != "a" {
				t.Errorf("attempt %+v", a)
			}
		})
	}
}

func TestConcurrentRequestsAllRecordedAndForwarded(t *testing.T) {
	const n = 200
	var hits atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		hits.Add(1)
	}))
	defer target.Close()
	r := newRig(t, capture.Config{Target: mustURL(t, target.URL)}, capture.ServeConfig{})
	ids := make(chan int64, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			resp, err := http.Post(r.url+"/c/"+strconv.Itoa(i), "application/json", strings.NewReader(`{"i":`+strconv.Itoa(i)+`}`))
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("status %d", resp.StatusCode)
			}
			id, _ := strconv.ParseInt(resp.Header.Get(capture.RequestIDHeader), 10, 64)
			ids <- id
		})
	}
	wg.Wait()
	close(ids)
	seen := map[int64]bool{}
	for id := range ids {
		seen[id] = true
	}
	if len(seen) != n || hits.Load() != n {
		t.Fatalf("%d distinct ids, %d forwarded; want %d", len(seen), hits.Load(), n)
	}
	count, err := r.log.Count(context.Background())
	if err != nil || count != n {
		t.Fatalf("log has %d rows (%v), want %d", count, err, n)
	}
	// Attempts are committed after the answers: wait for the last ones.
	if err := r.log.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	rows, err := r.log.List(context.Background(), store.Filter{Limit: n})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range rows {
		if s.Status != 200 || s.Attempts != 1 {
			t.Fatalf("row %+v not forwarded once", s)
		}
	}
}

func TestTargetFailures(t *testing.T) {
	unblock := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-unblock }))
	defer slow.Close()
	defer close(unblock)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	down := "http://" + ln.Addr().String()
	ln.Close()

	tests := []struct {
		name, target string
		status       int
	}{
		{"down", down, http.StatusBadGateway},
		{"slow", slow.URL, http.StatusGatewayTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fwd := forward.New(forward.Config{Timeout: 300 * time.Millisecond})
			r := newRig(t, capture.Config{Target: mustURL(t, tt.target), Forwarder: fwd}, capture.ServeConfig{})
			resp, err := http.Post(r.url+"/x", "application/json", strings.NewReader(`{}`))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status || !strings.Contains(string(body), tt.target) ||
				!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
				t.Fatalf("got %d %q, want %d naming %s", resp.StatusCode, body, tt.status, tt.target)
			}
			id, _ := strconv.ParseInt(resp.Header.Get(capture.RequestIDHeader), 10, 64)
			rec, err := r.log.Request(context.Background(), id)
			if err != nil || string(rec.Body) != "{}" {
				t.Fatalf("request not logged: %v", err)
			}
			a := waitAttempts(t, r.log, id, 1)[0]
			if a.Kind != webhook.KindForward || a.Status != 0 || a.Error == "" {
				t.Fatalf("failed attempt not logged: %+v", a)
			}
		})
	}
}

func TestOversizeBody(t *testing.T) {
	var hits atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer target.Close()
	r := newRig(t, capture.Config{Target: mustURL(t, target.URL), MaxBody: 1024}, capture.ServeConfig{})
	tests := []struct {
		name    string
		body    io.Reader
		size    int64
		chunked bool
	}{
		{"content-length", bytes.NewReader(make([]byte, 2048)), 2048, false},
		{"chunked", io.MultiReader(strings.NewReader(strings.Repeat("x", 4096))), 1025, true},
		{"at the limit is fine", bytes.NewReader(make([]byte, 1024)), 1024, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", r.url+"/big", tt.body)
			if tt.chunked {
				req.ContentLength = -1
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			msg, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			id, _ := strconv.ParseInt(resp.Header.Get(capture.RequestIDHeader), 10, 64)
			rec, err := r.log.Request(context.Background(), id)
			if err != nil {
				t.Fatalf("request not logged: %v", err)
			}
			if tt.size == 1024 {
				if resp.StatusCode != 200 || rec.Rejected != "" || len(rec.Body) != 1024 {
					t.Fatalf("got %d, rejected %q", resp.StatusCode, rec.Rejected)
				}
				return
			}
			if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(msg), "1KiB limit") {
				t.Fatalf("got %d %q", resp.StatusCode, msg)
			}
			if rec.Rejected == "" || rec.Body != nil || rec.BodySize != tt.size || rec.Method != "POST" || rec.URI != "/big" {
				t.Fatalf("logged %+v", rec)
			}
		})
	}
	if hits.Load() != 1 {
		t.Errorf("target got %d requests, want only the one within the limit", hits.Load())
	}
}

func TestNoContentTypeAdded(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Type"] = nil
		io.WriteString(w, "<html>plain bytes</html>")
	}))
	defer target.Close()
	r := newRig(t, capture.Config{Target: mustURL(t, target.URL)}, capture.ServeConfig{})
	resp, err := http.Get(r.url + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ct, ok := resp.Header["Content-Type"]; ok {
		t.Fatalf("the sender got Content-Type %q that the target did not send", ct)
	}
}

func TestRecordOnly(t *testing.T) {
	r := newRig(t, capture.Config{Status: http.StatusCreated}, capture.ServeConfig{})
	resp, err := http.Post(r.url+"/capture?x=1", "text/plain", strings.NewReader("hello"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	id := resp.Header.Get(capture.RequestIDHeader)
	if resp.StatusCode != http.StatusCreated || string(body) != `{"received":true,"id":`+id+"}\n" {
		t.Fatalf("got %d %q", resp.StatusCode, body)
	}
	ev := <-r.events
	if ev.Kind != webhook.EventRequest || ev.Request.URI != "/capture?x=1" || string(ev.Request.Body) != "hello" {
		t.Fatalf("event %+v", ev)
	}
	n, _ := strconv.ParseInt(id, 10, 64)
	if _, err := r.log.LastAttempt(context.Background(), n, ""); err == nil {
		t.Fatal("a record-only request has an attempt")
	}
}

func TestLogFailureAnswers503(t *testing.T) {
	r := newRig(t, capture.Config{}, capture.ServeConfig{})
	r.log.Close()
	resp, err := http.Post(r.url+"/x", "text/plain", strings.NewReader("hello"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("got %d", resp.StatusCode)
	}
}

func TestSlowClientsAreCutOff(t *testing.T) {
	r := newRig(t, capture.Config{}, capture.ServeConfig{ReadHeaderTimeout: 200 * time.Millisecond, ReadTimeout: 400 * time.Millisecond})
	tests := []struct{ name, send string }{
		{"headers never end", "POST /x HTTP/1.1\r\nHost: a\r\nX-Slow: "},
		{"body never ends", "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nonly part"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := net.Dial("tcp", strings.TrimPrefix(r.url, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			io.WriteString(c, tt.send)
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, err = io.ReadAll(c) // returns when the server closes the connection
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatal("the server kept the connection open")
			}
		})
	}
	// The server still serves others.
	resp, err := http.Post(r.url+"/after", "text/plain", strings.NewReader("ok"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("got %d", resp.StatusCode)
	}
}

func TestShutdownFinishesInFlight(t *testing.T) {
	release := make(chan struct{})
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		io.WriteString(w, "late")
	}))
	defer target.Close()
	r := newRig(t, capture.Config{Target: mustURL(t, target.URL)}, capture.ServeConfig{})
	type result struct {
		status int
		body   string
		err    error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := http.Post(r.url+"/x", "text/plain", strings.NewReader("in flight"))
		if err != nil {
			done <- result{err: err}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- result{status: resp.StatusCode, body: string(b)}
	}()
	<-r.events // recorded; the forward is now waiting on the target
	stopped := make(chan struct{})
	go func() { r.stop(); close(stopped) }()
	time.Sleep(50 * time.Millisecond)
	close(release)
	res := <-done
	<-stopped
	if res.err != nil || res.status != 200 || res.body != "late" {
		t.Fatalf("in-flight request got %+v", res)
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"25MiB", 25 << 20, true},
		{"512KiB", 512 << 10, true},
		{"10MB", 10_000_000, true},
		{"2048", 2048, true},
		{"1.5MiB", 3 << 19, true},
		{"1g", 1 << 30, true},
		{"", 0, false},
		{"-1", 0, false},
		{"0", 0, false},
		{"12 parsecs", 0, false},
	}
	for _, tt := range tests {
		got, err := capture.ParseSize(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v", tt.in, got, err)
		}
	}
}
