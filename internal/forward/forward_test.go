package forward

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookctl/hookctl/internal/webhook"
)

// rawTarget accepts one connection, records the request's header block and body as sent on the
// wire, and answers 200.
func rawTarget(t *testing.T) (addr string, got <-chan [2][]byte) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ch := make(chan [2][]byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		br := bufio.NewReader(c)
		var head bytes.Buffer
		for {
			line, err := br.ReadBytes('\n')
			head.Write(line)
			if err != nil || len(line) <= 2 {
				break
			}
		}
		req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(head.Bytes())))
		var body []byte
		if err == nil && req.ContentLength > 0 {
			body = make([]byte, req.ContentLength)
			io.ReadFull(br, body)
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
		ch <- [2][]byte{head.Bytes(), body}
	}()
	return ln.Addr().String(), ch
}

func TestSendWireFidelity(t *testing.T) {
	addr, got := rawTarget(t)
	body := []byte("\xff\x00binary\r\n\r\nnot utf-8 \xc3\x28")
	req := &webhook.Request{
		ID: 7, Method: "POST", URI: "/hooks/a%2Fb?x=%zz&y=1&y=2", Host: "public.example:443",
		RemoteAddr: "203.0.113.9:5555",
		Header: webhook.Headers{
			{Name: "Host", Value: "public.example:443"},
			{Name: "stripe-signature", Value: "t=1,v1=abc"},
			{Name: "X-Multi", Value: "one"},
			{Name: "Connection", Value: "keep-alive, X-Hop"},
			{Name: "X-Hop", Value: "dropped"},
			{Name: "X-Multi", Value: "two"},
			{Name: "content-length", Value: "999"},
			{Name: "Content-Type", Value: "application/octet-stream"},
			{Name: "X-Forwarded-For", Value: "198.51.100.1"},
		},
		Body: body,
	}
	f := New(Config{Header: webhook.Headers{{Name: "X-Extra", Value: "1"}}})
	defer f.Close()
	res := f.Send(context.Background(), req, "http://"+addr+"/hooks/a%2Fb?x=%zz&y=1&y=2", webhook.KindForward)
	if res.Failure != FailureNone || res.Attempt.Status != 200 || string(res.Attempt.Body) != "ok" {
		t.Fatalf("attempt = %+v", res.Attempt)
	}
	wire := <-got
	head, gotBody := string(wire[0]), wire[1]
	if !bytes.Equal(gotBody, body) {
		t.Errorf("body on the wire = %q, want %q", gotBody, body)
	}
	for _, want := range []string{
		"POST /hooks/a%2Fb?x=%zz&y=1&y=2 HTTP/1.1\r\n",
		"\r\nstripe-signature: t=1,v1=abc\r\n",
		"\r\nX-Multi: one\r\nX-Multi: two\r\n",
		"\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n",
		"\r\nX-Forwarded-For: 198.51.100.1, 203.0.113.9\r\n",
		"\r\nX-Forwarded-Host: public.example:443\r\n",
		"\r\nX-Forwarded-Proto: http\r\n",
		"\r\nX-Extra: 1\r\n",
		"\r\nHost: " + addr + "\r\n",
	} {
		if !strings.Contains(head, want) {
			t.Errorf("request head lacks %q:\n%s", want, head)
		}
	}
	for _, bad := range []string{"X-Hop", "content-length: 999", "User-Agent", "Accept-Encoding", "keep-alive"} {
		if strings.Contains(head, bad) {
			t.Errorf("request head has %q:\n%s", bad, head)
		}
	}
}

func TestSendFailures(t *testing.T) {
	unblock := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-unblock }))
	defer slow.Close()
	defer close(unblock)
	down, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	downURL := "http://" + down.Addr().String() + "/x"
	down.Close()

	tests := []struct {
		name   string
		target string
		want   Failure
		errHas string
	}{
		{"refused", downURL, FailureUnreachable, "unreachable"},
		{"timeout", slow.URL + "/x", FailureTimeout, "did not answer within"},
		{"bad url", "ftp://x/y", FailureUnreachable, "not an http(s) URL"},
	}
	f := New(Config{Timeout: 200 * time.Millisecond})
	defer f.Close()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := f.Send(context.Background(), &webhook.Request{ID: 1, Method: "POST", URI: "/x"}, tt.target, webhook.KindForward)
			if res.Failure != tt.want || res.Attempt.Status != 0 || !strings.Contains(res.Attempt.Error, tt.errHas) {
				t.Fatalf("failure=%v attempt=%+v", res.Failure, res.Attempt)
			}
			if !strings.Contains(res.Attempt.Error, tt.target) {
				t.Errorf("error %q does not name the target", res.Attempt.Error)
			}
		})
	}
}

func TestSendLongResponseIsStreamed(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789"), 1000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Resp", "yes")
		w.WriteHeader(201)
		w.Write(big)
	}))
	defer srv.Close()
	f := New(Config{ResponseBodyLimit: 1000})
	defer f.Close()
	res := f.Send(context.Background(), &webhook.Request{ID: 1, Method: "GET", URI: "/"}, srv.URL+"/", webhook.KindReplay)
	if res.Rest == nil || len(res.Attempt.Body) != 1000 || res.Attempt.Status != 201 {
		t.Fatalf("want a streamed result with a 1000-byte prefix, got %+v", res.Attempt)
	}
	var rest bytes.Buffer
	if err := res.Finish(&rest); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(append(res.Attempt.Body, rest.Bytes()...), big) || res.Attempt.BodySize != int64(len(big)) {
		t.Errorf("streamed %d+%d bytes, BodySize %d", len(res.Attempt.Body), rest.Len(), res.Attempt.BodySize)
	}
	if res.Attempt.Header.Get("x-resp") != "yes" {
		t.Errorf("response headers = %v", res.Attempt.Header)
	}
}
