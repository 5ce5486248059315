package rawhead

import (
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

// queued returns the raw blocks waiting in r's queue.
func queued(r *recorder) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, b := range r.queue {
		out = append(out, b.raw)
	}
	return out
}

func TestRecorderFraming(t *testing.T) {
	const (
		get    = "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
		getLF  = "GET /lf HTTP/1.1\nHost: a\n\n"
		post   = "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 40\r\n\r\n"
		body   = "\r\n\r\nGET /evil HTTP/1.1\r\nHost: a\r\n\r\n12345"
		chunkH = "POST /c HTTP/1.1\r\nhost: a\r\ntransfer-encoding: Chunked\r\nTrailer: X-Sum\r\n\r\n"
		chunks = "5;ext=1;x=\"y z\"\r\nhello\r\nA  \r\n\r\n\r\n\r\nGET \r\n0\r\nX-Sum: 1\r\nX-Other: 2\r\n\r\n"
		h10    = "POST /old HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
	)
	big := strings.Repeat("x", maxBlock)
	tests := []struct {
		name    string
		stream  string
		want    []string // queued blocks
		stopped bool
	}{
		{"get", get, []string{get}, false},
		{"bare LF", getLF + get, []string{getLF, get}, false},
		{"leading empty lines", "\r\n\r\n" + get + "\r\n\n" + get, []string{get, get}, false},
		{"content-length body", post + body + get, []string{post, get}, false},
		{"duplicate content-length", "POST / HTTP/1.1\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\nab" + get,
			[]string{"POST / HTTP/1.1\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\n", get}, false},
		{"chunked with extensions and trailers", chunkH + chunks + get, []string{chunkH, get}, false},
		{"chunked no trailers", chunkH + "3\r\nabc\r\n0\r\n\r\n" + get, []string{chunkH, get}, false},
		{"chunked beats content-length", "POST / HTTP/1.1\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + get,
			[]string{"POST / HTTP/1.1\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n", get}, false},
		{"HTTP/1.0 ignores transfer-encoding", h10 + "abc" + get, []string{h10, get}, false},
		{"folded field", "GET / HTTP/1.1\r\nX-A: 1\r\n 2\r\n\r\n" + get, []string{"GET / HTTP/1.1\r\nX-A: 1\r\n 2\r\n\r\n", get}, false},
		{"no header fields", "GET / HTTP/1.0\r\n\r\n", []string{"GET / HTTP/1.0\r\n\r\n"}, false},
		{"incomplete block", get + "GET / HTTP/1.1\r\nHost: a\r\n", []string{get}, false},

		{"malformed request line", "GET /\r\n\r\n", nil, true},
		{"HTTP/2 request line", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", nil, true},
		{"field without colon", "GET / HTTP/1.1\r\nHost a\r\n\r\n", nil, true},
		{"leading fold", "GET / HTTP/1.1\r\n X: 1\r\n\r\n", nil, true},
		{"folded content-length", "POST / HTTP/1.1\r\nContent-Length:\r\n 5\r\n\r\nhello", nil, true},
		{"conflicting content-length", "POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc", nil, true},
		{"bad content-length", "POST / HTTP/1.1\r\nContent-Length: +2\r\n\r\nab", nil, true},
		{"empty content-length", "POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", nil, true},
		{"gzip transfer-encoding", "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", nil, true},
		{"two transfer-encodings", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", nil, true},
		{"chunk size bare LF", chunkH + "5\nhello\r\n0\r\n\r\n", nil, true},
		{"chunk size stray CR", chunkH + "5\r;x\r\nhello\r\n0\r\n\r\n", nil, true},
		{"chunk size space before extension", chunkH + "5 ;x\r\nhello\r\n0\r\n\r\n", nil, true},
		{"chunk size empty", chunkH + ";x\r\n", nil, true},
		{"chunk size not hex", chunkH + "5g\r\n", nil, true},
		{"chunk size too long", chunkH + "00000000000000001\r\n", nil, true},
		{"chunk data without CRLF", chunkH + "5\r\nhelloX\r\n0\r\n\r\n", nil, true},
		{"chunk line too long", chunkH + "1;" + strings.Repeat("e", maxChunkLine) + "\r\n", nil, true},
		{"chunk overhead", chunkH + strings.Repeat("1;"+strings.Repeat("e", 300)+"\r\nx\r\n", 100), nil, true},
		{"trailer bare LF", chunkH + "0\r\nX: 1\n\r\n", nil, true},
		{"trailer without colon", chunkH + "0\r\nX\r\n\r\n", nil, true},
		{"trailer too long", chunkH + "0\r\nX: " + strings.Repeat("y", maxTrailer) + "\r\n\r\n", nil, true},
		{"block over bound", "GET / HTTP/1.1\r\nX: " + big + "\r\n\r\n" + get, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check := func(how string, pieces []string) {
				t.Helper()
				var r recorder
				for _, p := range pieces {
					r.feed([]byte(p))
				}
				if got := queued(&r); !slices.Equal(got, tt.want) {
					t.Errorf("%s: queued %q, want %q", how, got, tt.want)
				}
				if stopped := r.st == stDone; stopped != tt.stopped {
					t.Errorf("%s: stopped = %v, want %v", how, stopped, tt.stopped)
				}
			}
			check("whole", []string{tt.stream})
			if len(tt.stream) > 4096 {
				check("4k pieces", split(tt.stream, 4096))
				return
			}
			check("bytewise", split(tt.stream, 1))
			for i := 1; i < len(tt.stream); i++ {
				check(fmt.Sprintf("split at %d", i), []string{tt.stream[:i], tt.stream[i:]})
			}
		})
	}
}

// split cuts s into pieces of n bytes.
func split(s string, n int) []string {
	var out []string
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	return append(out, s)
}

func TestRecorderQueueBound(t *testing.T) {
	t.Run("count", func(t *testing.T) {
		var r recorder
		const n = 3*maxQueue + 7
		for i := range n {
			r.feed(fmt.Appendf(nil, "GET /%d HTTP/1.1\r\nHost: a\r\n\r\n", i))
		}
		got := queued(&r)
		if len(got) > maxQueue || len(got) < maxQueue*3/4 {
			t.Fatalf("queue holds %d blocks, want %d to %d", len(got), maxQueue*3/4, maxQueue)
		}
		size := 0
		for i, raw := range got {
			if want := fmt.Sprintf("GET /%d HTTP/1.1\r\nHost: a\r\n\r\n", n-len(got)+i); raw != want {
				t.Fatalf("block %d is %q, want %q", i, raw, want)
			}
			size += len(raw)
		}
		if r.queued != size {
			t.Errorf("queued bytes %d, want %d", r.queued, size)
		}
	})
	t.Run("bytes", func(t *testing.T) {
		var r recorder
		for i := range 5 {
			r.feed(fmt.Appendf(nil, "GET /%d HTTP/1.1\r\nX: %s\r\n\r\n", i, strings.Repeat("x", maxBlock*3/5)))
		}
		got := queued(&r)
		if len(got) != 3 || !strings.HasPrefix(got[0], "GET /2 ") {
			t.Errorf("queue holds %d blocks, want the 3 newest", len(got))
		}
		if r.queued > maxQueued {
			t.Errorf("queued bytes %d > %d", r.queued, maxQueued)
		}
	})
}

// TestCloseReleases checks that closing a connection from Listen leaves nothing behind.
func TestCloseReleases(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := Listen(inner)
	defer ln.Close()

	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	const stream = "GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\nX-Partial: "
	if _, err := client.Write([]byte(stream)); err != nil {
		t.Fatal(err)
	}

	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 1024)
	read := 0
	for read < len(stream) {
		n, err := c.Read(buf[read:])
		if err != nil {
			t.Fatal(err)
		}
		read += n
	}
	if string(buf[:read]) != stream {
		t.Fatalf("read %q, want %q", buf[:read], stream)
	}
	rec := &c.(*conn).rec
	if got := queued(rec); len(got) != 1 || len(rec.buf) == 0 {
		t.Fatalf("before Close: queue %q, buffer %q", got, rec.buf)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.st != stDone || rec.buf != nil || rec.queue != nil || rec.queued != 0 {
		t.Errorf("after Close: state %d, buffer %q, queue %v, queued %d", rec.st, rec.buf, rec.queue, rec.queued)
	}
}
