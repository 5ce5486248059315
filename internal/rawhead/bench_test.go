package rawhead

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hookctl/hookctl/internal/webhook"
)

// benchBody is the 2 KB body of the benchmark request.
var benchBody = strings.Repeat(`{"action":"opened","n":1234567}`, 70)[:2048]

// benchHeaders are the benchmark request's fields other than Host and Content-Length; with
// those two the request has 12 header lines.
var benchHeaders = [][2]string{
	{"User-Agent", "GitHub-Hookshot/044aadd"},
	{"Content-Type", "application/json"},
	{"Accept", "*/*"},
	{"X-GitHub-Event", "pull_request"},
	{"X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"},
	{"X-GitHub-Hook-ID", "292430182"},
	{"X-GitHub-Hook-Installation-Target-ID", "79929171"},
	{"X-GitHub-Hook-Installation-Target-Type", "repository"},
	{"X-Hub-Signature", "sha1=7d38cdd689735b008b3c702edd92eea23791c5f6"},
	{"X-Hub-Signature-256", "sha256=d57c68ca6f92289e6987922ff26938930f6e66a2d161ef06abdf1859230aa23c"},
}

// benchRequest returns the raw bytes of the benchmark request.
func benchRequest(host string) string {
	var b strings.Builder
	b.WriteString("POST /webhooks/github?x=1 HTTP/1.1\r\nHost: " + host + "\r\n")
	for _, f := range benchHeaders {
		b.WriteString(f[0] + ": " + f[1] + "\r\n")
	}
	b.WriteString("Content-Length: " + strconv.Itoa(len(benchBody)) + "\r\n\r\n" + benchBody)
	return b.String()
}

// BenchmarkServer measures a keep-alive 2 KB POST with 12 headers against an http.Server on
// 127.0.0.1, with a plain listener (handler uses webhook.FromHTTP) and with Listen (handler
// uses Headers). The raw client writes the request bytes itself, so that the server's share
// of the time dominates; the http client is net/http's.
func BenchmarkServer(b *testing.B) {
	for _, cl := range []string{"raw", "http"} {
		for _, wrapped := range []bool{false, true} {
			name := "client=" + cl + "/listener=plain"
			if wrapped {
				name = "client=" + cl + "/listener=rawhead"
			}
			b.Run(name, func(b *testing.B) {
				var fallbacks atomic.Int64
				srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					var h webhook.Headers
					if wrapped {
						var ok bool
						if h, ok = Headers(r); !ok {
							fallbacks.Add(1)
							h = webhook.FromHTTP(r.Header)
						}
					} else {
						h = webhook.FromHTTP(r.Header)
					}
					n, _ := io.Copy(io.Discard, r.Body)
					if len(h) < 10 || n != int64(len(benchBody)) {
						w.WriteHeader(http.StatusBadRequest)
						return
					}
					w.WriteHeader(http.StatusNoContent)
				}))
				if wrapped {
					srv.Listener = Listen(srv.Listener)
					srv.Config.ConnContext = ConnContext
				}
				srv.Start()
				defer srv.Close()

				if cl == "raw" {
					benchRaw(b, srv.Listener.Addr().String())
				} else {
					benchHTTP(b, srv.URL)
				}
				if n := fallbacks.Load(); n > 0 {
					b.Fatalf("%d requests fell back to r.Header", n)
				}
			})
		}
	}
}

// benchRaw sends the benchmark request b.N times on one connection.
func benchRaw(b *testing.B, addr string) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	req := []byte(benchRequest(addr))
	br := bufio.NewReader(c)
	b.SetBytes(int64(len(req)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Write(req); err != nil {
			b.Fatal(err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}

// benchHTTP sends the benchmark request b.N times with a keep-alive http.Client.
func benchHTTP(b *testing.B, url string) {
	tr := &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	body := []byte(benchBody)
	b.SetBytes(int64(len(benchRequest("127.0.0.1:00000"))))
	b.ReportAllocs()
	for b.Loop() {
		req, err := http.NewRequest("POST", url+"/webhooks/github?x=1", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		for _, f := range benchHeaders {
			req.Header[f[0]] = []string{f[1]}
		}
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}

// BenchmarkRecord measures the package's own work for one benchmark request without the
// network, feeding its bytes through a recorder and matching the block, next to the
// webhook.FromHTTP call it replaces in a handler.
func BenchmarkRecord(b *testing.B) {
	raw := []byte(benchRequest("example.com"))
	r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		b.Fatal(err)
	}
	delete(r.Header, "Host") // as http.Server does
	b.Run("rawhead", func(b *testing.B) {
		var rec recorder
		b.ReportAllocs()
		for b.Loop() {
			rec.feed(raw)
			if _, ok := rec.match(r); !ok {
				b.Fatal("no match")
			}
		}
	})
	b.Run("FromHTTP", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if h := webhook.FromHTTP(r.Header); len(h) != len(benchHeaders)+1 {
				b.Fatalf("%d headers", len(h))
			}
		}
	})
}
