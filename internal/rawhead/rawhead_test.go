package rawhead

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookctl/hookctl/internal/webhook"
)

// result is what the test handler saw for one request.
type result struct {
	Method, URI string
	Header      webhook.Headers
	OK          bool
	Body        string
	Skipped     bool // the handler did not call Headers
}

// startServer starts an HTTP server on 127.0.0.1 whose handler reports each request on the
// returned channel. wrap installs Listen, connCtx installs ConnContext. The handler calls
// Headers before reading the body, except for requests with an X-Skip header; on /mutate it
// changes r.Header first.
func startServer(t testing.TB, wrap, connCtx bool, configure func(*http.Server)) (string, <-chan result) {
	t.Helper()
	results := make(chan result, 1000)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res := result{Method: r.Method, URI: r.RequestURI}
		switch {
		case r.Header.Get("X-Skip") != "":
			res.Skipped = true
		case r.URL.Path == "/mutate":
			r.Header.Set("X-Added", "1")
			fallthrough
		default:
			res.Header, res.OK = Headers(r)
		}
		body, err := io.ReadAll(r.Body)
		res.Body = string(body)
		if err != nil {
			res.Body += " (error: " + err.Error() + ")"
		}
		results <- res
		io.WriteString(w, "ok")
	}))
	if wrap {
		srv.Listener = Listen(srv.Listener)
	}
	if connCtx {
		srv.Config.ConnContext = ConnContext
	}
	if configure != nil {
		configure(srv.Config)
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String(), results
}

// step is one action of a raw client: write bytes, then read a response if status is set.
type step struct {
	write    string
	bytewise bool // write one byte at a time
	status   int  // status of the response to read next; 0 reads nothing
}

// runClient dials addr and performs steps on one connection.
func runClient(t *testing.T, addr string, steps []step) {
	t.Helper()
	if err := client(addr, steps); err != nil {
		t.Fatal(err)
	}
}

// client dials addr and performs steps on one connection.
func client(addr string, steps []step) error {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	br := bufio.NewReader(c)
	for i, s := range steps {
		if s.bytewise {
			for j := range len(s.write) {
				if _, err := io.WriteString(c, s.write[j:j+1]); err != nil {
					return fmt.Errorf("step %d: %v", i, err)
				}
			}
		} else if s.write != "" {
			if _, err := io.WriteString(c, s.write); err != nil {
				return fmt.Errorf("step %d: %v", i, err)
			}
		}
		if s.status == 0 {
			continue
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return fmt.Errorf("step %d: reading response: %v", i, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != s.status {
			return fmt.Errorf("step %d: status %d, want %d", i, resp.StatusCode, s.status)
		}
	}
	return nil
}

// expect reads len(want) results and compares them with want.
func expect(t *testing.T, results <-chan result, want []result) {
	t.Helper()
	for i, w := range want {
		var got result
		select {
		case got = <-results:
		case <-time.After(10 * time.Second):
			t.Fatalf("request %d (%s %s): no result", i, w.Method, w.URI)
		}
		if got.Method != w.Method || got.URI != w.URI || got.OK != w.OK || got.Skipped != w.Skipped {
			t.Errorf("request %d: got %s %s ok=%v skipped=%v, want %s %s ok=%v skipped=%v",
				i, got.Method, got.URI, got.OK, got.Skipped, w.Method, w.URI, w.OK, w.Skipped)
		}
		if !slices.Equal(got.Header, w.Header) {
			t.Errorf("request %d (%s %s): headers\n got %q\nwant %q", i, w.Method, w.URI, got.Header, w.Header)
		}
		if got.Body != w.Body {
			t.Errorf("request %d (%s %s): body %.80q (%d bytes), want %.80q (%d bytes)",
				i, w.Method, w.URI, got.Body, len(got.Body), w.Body, len(w.Body))
		}
	}
	select {
	case got := <-results:
		t.Errorf("unexpected request %s %s", got.Method, got.URI)
	default:
	}
}

// hdr builds Headers from name, value pairs.
func hdr(kv ...string) webhook.Headers {
	h := webhook.Headers{}
	for i := 0; i < len(kv); i += 2 {
		h = append(h, webhook.Field{Name: kv[i], Value: kv[i+1]})
	}
	return h
}

// Requests shared by the keep-alive and pipelining cases.
const (
	// A body that holds an empty line and text that looks like a request.
	smuggleBody = "a=1\r\n\r\nGET /evil HTTP/1.1\r\nHost: evil\r\n\r\n"
	reqChunked  = "POST /chunked?x=1 HTTP/1.1\r\nHost: example.com\r\nTrailer: X-Checksum\r\nTransfer-Encoding: chunked\r\nContent-Length: 99\r\nx-z: last\r\n\r\n" +
		"7;name=value;quoted=\"a;b\"\r\nhello, \r\n" +
		"b  \r\n\r\n\r\n\r\nGET /\r\n" +
		"0;done\r\nX-Checksum: abc\r\nX-Undeclared: 1\r\n\r\n"
	reqGet = "GET /nobody HTTP/1.1\r\nUSER-AGENT: test\r\nhost: example.com\r\nAccept: */*\r\n\r\n"
)

var (
	reqCL = "POST /cl HTTP/1.1\r\nhost: example.com\r\nContent-Type: text/plain\r\ncontent-length: " +
		strconv.Itoa(len(smuggleBody)) + "\r\n\r\n" + smuggleBody
	wantCL = result{Method: "POST", URI: "/cl", OK: true, Body: smuggleBody,
		Header: hdr("host", "example.com", "Content-Type", "text/plain", "content-length", strconv.Itoa(len(smuggleBody)))}
	wantChunked = result{Method: "POST", URI: "/chunked?x=1", OK: true, Body: "hello, \r\n\r\n\r\nGET /",
		Header: hdr("Host", "example.com", "Trailer", "X-Checksum", "Transfer-Encoding", "chunked", "Content-Length", "99", "x-z", "last")}
	wantGet = result{Method: "GET", URI: "/nobody", OK: true,
		Header: hdr("USER-AGENT", "test", "host", "example.com", "Accept", "*/*")}
)

func TestHeaders(t *testing.T) {
	largeBody := strings.Repeat("0123456789\r\n\r\nPOST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\n", 2000)[:100000]
	var largeChunked strings.Builder
	for i := 0; i < len(largeBody); i += 40000 {
		part := largeBody[i:min(i+40000, len(largeBody))]
		fmt.Fprintf(&largeChunked, "%x\r\n%s\r\n", len(part), part)
	}
	largeChunked.WriteString("0\r\n\r\n")

	// As many minimal requests as fit twice in net/http's 4096-byte read buffer.
	var tiny strings.Builder
	var tinySteps []step
	var tinyWant []result
	for i := range 300 {
		fmt.Fprintf(&tiny, "GET /%d HTTP/1.1\r\nHost: h\r\n\r\n", i)
		tinySteps = append(tinySteps, step{status: 200})
		tinyWant = append(tinyWant, result{Method: "GET", URI: fmt.Sprintf("/%d", i), OK: true, Header: hdr("Host", "h")})
	}
	tinySteps[0].write = tiny.String()

	tests := []struct {
		name  string
		steps []step
		want  []result
	}{
		{name: "many small pipelined requests", steps: tinySteps, want: tinyWant},
		{
			name: "mixed case and odd order",
			steps: []step{{write: "POST /hook?a=1&b=%20 HTTP/1.1\r\n" +
				"x-GitHub-Event: push\r\n" +
				"HOST: example.com:8080\r\n" +
				"content-TYPE: application/json\r\n" +
				"X-Hub-Signature-256: \t sha256=abc \t\r\n" +
				"user-agent: GitHub-Hookshot/1\r\n" +
				"Empty:\r\n" +
				"Content-Length: 2\r\n" +
				"accept: */*\r\n\r\n{}", status: 200}},
			want: []result{{Method: "POST", URI: "/hook?a=1&b=%20", OK: true, Body: "{}", Header: hdr(
				"x-GitHub-Event", "push",
				"HOST", "example.com:8080",
				"content-TYPE", "application/json",
				"X-Hub-Signature-256", "sha256=abc",
				"user-agent", "GitHub-Hookshot/1",
				"Empty", "",
				"Content-Length", "2",
				"accept", "*/*")}},
		},
		{
			name:  "repeated headers",
			steps: []step{{write: "GET /r HTTP/1.1\r\nX-A: 1\r\nHost: h\r\nx-b: 2\r\nx-a: 3\r\nCookie: a=1\r\nX-B: 4\r\ncookie: b=2\r\nX-A: 1\r\n\r\n", status: 200}},
			want: []result{{Method: "GET", URI: "/r", OK: true, Header: hdr(
				"X-A", "1", "Host", "h", "x-b", "2", "x-a", "3", "Cookie", "a=1", "X-B", "4", "cookie", "b=2", "X-A", "1")}},
		},
		{
			name: "keep-alive with several body framings",
			steps: []step{
				{write: reqCL, status: 200},
				{write: reqChunked, status: 200},
				{write: "\r\n" + reqGet, status: 200}, // net/http tolerates a CRLF after a POST
				{write: reqCL, status: 200},
			},
			want: []result{wantCL, wantChunked, wantGet, wantCL},
		},
		{
			name:  "pipelined",
			steps: []step{{write: reqGet + reqCL + reqChunked + reqGet, status: 200}, {status: 200}, {status: 200}, {status: 200}},
			want:  []result{wantGet, wantCL, wantChunked, wantGet},
		},
		{
			name:  "pipelined, one byte per write",
			steps: []step{{write: reqChunked + reqCL + reqGet, bytewise: true, status: 200}, {status: 200}, {status: 200}},
			want:  []result{wantChunked, wantCL, wantGet},
		},
		{
			name: "expect 100-continue",
			steps: []step{
				{write: "PUT /upload HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n", status: 100},
				{write: "hello", status: 200},
				{write: reqGet, status: 200},
			},
			want: []result{
				{Method: "PUT", URI: "/upload", OK: true, Body: "hello",
					Header: hdr("Host", "h", "Expect", "100-continue", "Content-Length", "5")},
				wantGet,
			},
		},
		{
			name: "HTTP/1.0",
			steps: []step{
				// net/http ignores Transfer-Encoding in HTTP/1.0 and reads Content-Length bytes.
				{write: "POST /old HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\nhello", status: 200},
				{write: "GET /old2 HTTP/1.0\r\n\r\n", status: 200},
			},
			want: []result{
				{Method: "POST", URI: "/old", OK: true, Body: "hello",
					Header: hdr("Connection", "keep-alive", "Transfer-Encoding", "chunked", "Content-Length", "5")},
				{Method: "GET", URI: "/old2", OK: true, Header: hdr()},
			},
		},
		{
			name: "bodies over 64 KB",
			steps: []step{
				{write: fmt.Sprintf("POST /big HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\n%s", len(largeBody), largeBody), status: 200},
				{write: "POST /bigchunked HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" + largeChunked.String() + reqGet, status: 200},
				{status: 200},
			},
			want: []result{
				{Method: "POST", URI: "/big", OK: true, Body: largeBody,
					Header: hdr("Host", "h", "Content-Length", fmt.Sprint(len(largeBody)))},
				{Method: "POST", URI: "/bigchunked", OK: true, Body: largeBody,
					Header: hdr("Host", "h", "Transfer-Encoding", "chunked")},
				wantGet,
			},
		},
		{
			name: "fields net/http rewrites",
			steps: []step{
				{write: "GET http://example.com/abs HTTP/1.1\r\nHost: other.example\r\nPragma: no-cache\r\n\r\n", status: 200},
				{write: "POST /dup HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nX: y\r\ncontent-length:  2\r\nTrailer: X-T\r\n\r\nab", status: 200},
			},
			want: []result{
				{Method: "GET", URI: "http://example.com/abs", OK: true,
					Header: hdr("Host", "other.example", "Pragma", "no-cache")},
				{Method: "POST", URI: "/dup", OK: true, Body: "ab",
					Header: hdr("Host", "h", "Content-Length", "2", "X", "y", "content-length", "2", "Trailer", "X-T")},
			},
		},
		{
			name: "requests whose block is never asked for",
			steps: []step{{write: "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n" +
				"POST /hook HTTP/1.1\r\nHost: h\r\nX-Skip: 1\r\nContent-Length: 1\r\n\r\na" +
				"POST /hook HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nb" +
				"POST /mutate HTTP/1.1\r\nHost: h\r\n\r\n" +
				"POST /hook HTTP/1.1\r\nHost: h\r\nX-Skip: 1\r\nContent-Length: 1\r\n\r\nc" +
				"POST /hook HTTP/1.1\r\nHost: h\r\nX-Skip: 1\r\nContent-Length: 1\r\n\r\nd" +
				"POST /hook HTTP/1.1\r\nhost: h\r\nContent-Length: 1\r\n\r\ne",
				status: 200}, {status: 200}, {status: 200}, {status: 200}, {status: 200}, {status: 200}, {status: 200}},
			want: []result{
				{Method: "POST", URI: "/hook", Skipped: true, Body: "a"},
				{Method: "POST", URI: "/hook", OK: true, Body: "b", Header: hdr("Host", "h", "Content-Length", "1")},
				{Method: "POST", URI: "/mutate"},
				{Method: "POST", URI: "/hook", Skipped: true, Body: "c"},
				{Method: "POST", URI: "/hook", Skipped: true, Body: "d"},
				{Method: "POST", URI: "/hook", OK: true, Body: "e", Header: hdr("host", "h", "Content-Length", "1")},
			},
		},
		{
			name: "folded field",
			steps: []step{
				{write: "GET /fold HTTP/1.1\r\nHost: h\r\nX-Folded: a\r\n  b\r\n\r\n", status: 200},
				{write: reqGet, status: 200},
			},
			want: []result{{Method: "GET", URI: "/fold"}, wantGet},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, results := startServer(t, true, true, nil)
			runClient(t, addr, tt.steps)
			expect(t, results, tt.want)
		})
	}
}

func TestHeaderBlockOverBound(t *testing.T) {
	big := "GET /big HTTP/1.1\r\nHost: h\r\nX-Big: " + strings.Repeat("a", maxBlock) + "\r\n\r\n"

	t.Run("server accepts it", func(t *testing.T) {
		addr, results := startServer(t, true, true, func(s *http.Server) { s.MaxHeaderBytes = 4 << 20 })
		runClient(t, addr, []step{{write: big, status: 200}, {write: reqGet, status: 200}})
		// The recorder gave up on the connection; the server kept serving it.
		expect(t, results, []result{{Method: "GET", URI: "/big"}, {Method: "GET", URI: "/nobody"}})
		runClient(t, addr, []step{{write: reqGet, status: 200}})
		expect(t, results, []result{wantGet})
	})

	t.Run("server refuses it", func(t *testing.T) {
		addr, results := startServer(t, true, true, nil)
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		go io.WriteString(c, big) // fails once the server closes
		// net/http answers 431 and closes; depending on timing the client may see a reset first.
		if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
				t.Errorf("status %d, want 431", resp.StatusCode)
			}
		}
		runClient(t, addr, []step{{write: reqGet, status: 200}})
		expect(t, results, []result{wantGet})
	})
}

func TestNotWrapped(t *testing.T) {
	for _, tt := range []struct {
		name          string
		wrap, connCtx bool
	}{
		{"plain listener", false, true},
		{"no ConnContext", true, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			addr, results := startServer(t, tt.wrap, tt.connCtx, nil)
			runClient(t, addr, []step{{write: reqGet, status: 200}})
			expect(t, results, []result{{Method: "GET", URI: "/nobody"}})
		})
	}

	t.Run("ConnContext", func(t *testing.T) {
		a, b := net.Pipe()
		defer a.Close()
		defer b.Close()
		ctx := context.Background()
		if got := ConnContext(ctx, a); got != ctx {
			t.Error("ConnContext changed the context of a conn not from Listen")
		}
	})

	t.Run("request without context", func(t *testing.T) {
		r := httptest.NewRequest("GET", "/", nil)
		if h, ok := Headers(r); ok || h != nil {
			t.Errorf("Headers = %v, %v; want nil, false", h, ok)
		}
	})
}

// TestConcurrentConns runs several keep-alive connections at once, for the race detector.
func TestConcurrentConns(t *testing.T) {
	addr, results := startServer(t, true, true, nil)
	const conns, requests = 8, 25
	var wg sync.WaitGroup
	for range conns {
		wg.Go(func() {
			var steps []step
			for i := range requests {
				switch i % 3 {
				case 0:
					steps = append(steps, step{write: reqCL, status: 200})
				case 1:
					steps = append(steps, step{write: reqChunked + reqGet, status: 200}, step{status: 200})
				default:
					steps = append(steps, step{write: reqGet, status: 200})
				}
			}
			if err := client(addr, steps); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got := 0
	for range conns * (requests + requests/3) {
		select {
		case res := <-results:
			if !res.OK {
				t.Errorf("%s %s: ok = false", res.Method, res.URI)
			}
			got++
		case <-time.After(10 * time.Second):
			t.Fatalf("only %d results", got)
		}
	}
}

// TestTLS checks the TLS setup the package documents: Listen around tls.NewListener.
func TestTLS(t *testing.T) {
	// Borrow httptest's certificate and a client that trusts it.
	certSrv := httptest.NewTLSServer(http.NotFoundHandler())
	defer certSrv.Close()
	cfg := certSrv.TLS.Clone()
	cfg.NextProtos = []string{"http/1.1"}

	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	results := make(chan result, 1)
	srv := &http.Server{
		ConnContext: ConnContext,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h, ok := Headers(r)
			results <- result{Method: r.Method, URI: r.RequestURI, Header: h, OK: ok}
		}),
	}
	go srv.Serve(Listen(tls.NewListener(inner, cfg)))
	defer srv.Close()

	req, err := http.NewRequest("GET", "https://"+inner.Addr().String()+"/tls", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header["x-lower"] = []string{"1"}
	resp, err := certSrv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// The order of the other lines is net/http's client's business.
	res := <-results
	if !res.OK || res.URI != "/tls" || !slices.Contains(res.Header, webhook.Field{Name: "x-lower", Value: "1"}) {
		t.Errorf("got %s ok=%v %q, want ok=true with x-lower: 1", res.URI, res.OK, res.Header)
	}
}
