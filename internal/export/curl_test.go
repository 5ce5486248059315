package export

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookctl/hookctl/internal/webhook"
)

// received is what the test server saw of one request.
type received struct {
	method, uri string
	header      http.Header
	body        []byte
}

// recorder starts a server on 127.0.0.1 that records every request.
func recorder(t *testing.T) (*httptest.Server, func() []received) {
	t.Helper()
	var (
		mu  sync.Mutex
		got []received
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("server: read body: %v", err)
		}
		mu.Lock()
		got = append(got, received{r.Method, r.RequestURI, r.Header.Clone(), body})
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []received {
		mu.Lock()
		defer mu.Unlock()
		return append([]received(nil), got...)
	}
}

func TestCurlSendsExactRequest(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed")
	}
	_, items := seed(t)
	byPath := map[string]Item{}
	for _, it := range items {
		byPath[it.Request.URI] = it
	}
	large := bytes.Repeat(binaryBody(), 600) // piped, above the argument limit and Expect threshold
	largeText := []byte(strings.Repeat(`{"k":"v"},`, 10000))
	for _, tc := range []struct {
		name string
		req  *webhook.Request
	}{
		{"json", byPath["/hooks/stripe?source=cli&tag=a%20b&empty=&flag"].Request},
		{"form", byPath["/slack/commands"].Request},
		{"binary", byPath["/upload/bin"].Request},
		{"latin1", byPath["/legacy"].Request},
		{"empty GET", byPath["/health"].Request},
		{"at sign", byPath["/at"].Request},
		{"large binary", &webhook.Request{Method: "POST", URI: "/large", Header: webhook.Headers{{Name: "Content-Type", Value: "application/octet-stream"}}, Body: large}},
		{"large text", &webhook.Request{Method: "PATCH", URI: "/large/text?a=[1]&b={2}", Header: webhook.Headers{{Name: "User-Agent", Value: "x"}, {Name: "Accept", Value: "*/*"}}, Body: largeText}},
		{"DELETE no body", &webhook.Request{Method: "DELETE", URI: "/thing/1", Header: webhook.Headers{{Name: "X-Only", Value: "1"}}, Body: []byte{}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, got := recorder(t)
			var out bytes.Buffer
			if err := WriteCurl(&out, []Item{{Request: tc.req}}, Options{NoRedact: true, BaseURL: srv.URL}); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			script := strings.TrimSuffix(out.String(), "\n") + " --silent --show-error --fail --max-time 10\n"
			cmd := exec.CommandContext(ctx, "sh", "-c", script)
			if len(script) > 100<<10 {
				// Too long for one argument (Linux's limit is 128 KiB): run it as a file.
				path := filepath.Join(t.TempDir(), "curl.sh")
				if err := os.WriteFile(path, []byte(script), 0o600); err != nil {
					t.Fatal(err)
				}
				cmd = exec.CommandContext(ctx, "sh", path)
			}
			if msg, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("sh -c failed: %v\n%s\ncommand:\n%.2000s", err, msg, out.String())
			}
			reqs := got()
			if len(reqs) != 1 {
				t.Fatalf("server got %d requests", len(reqs))
			}
			g := reqs[0]
			if g.method != tc.req.Method || g.uri != tc.req.URI {
				t.Errorf("got %s %s, want %s %s", g.method, g.uri, tc.req.Method, tc.req.URI)
			}
			if !bytes.Equal(g.body, tc.req.Body) {
				t.Errorf("body: got %d bytes %.200q, want %d bytes %.200q", len(g.body), g.body, len(tc.req.Body), tc.req.Body)
			}
			// Every recorded header arrives with its values in order; nothing else but what
			// curl must set (Host, Content-Length).
			want := http.Header{}
			for _, f := range tc.req.Header {
				if !curlSkip[strings.ToLower(f.Name)] {
					want.Add(f.Name, f.Value)
				}
			}
			have := g.header.Clone()
			have.Del("Content-Length")
			if len(tc.req.Body) > 0 && g.header.Get("Content-Length") != strconv.Itoa(len(tc.req.Body)) {
				t.Errorf("Content-Length %q, want %d", g.header.Get("Content-Length"), len(tc.req.Body))
			}
			if !reflect.DeepEqual(have, want) {
				t.Errorf("headers\n got %q\nwant %q", have, want)
			}
		})
	}
}

func TestWriteCurlLayout(t *testing.T) {
	_, items := seed(t)
	var out bytes.Buffer
	if err := WriteCurl(&out, items[:3], Options{}); err != nil {
		t.Fatal(err)
	}
	blocks := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n\n")
	if len(blocks) != 3 {
		t.Fatalf("%d blocks, want 3:\n%s", len(blocks), out.String())
	}
	for i, b := range blocks {
		first, _, _ := strings.Cut(b, "\n")
		want := "# request " + strconv.FormatInt(items[i].Request.ID, 10) + ": " + items[i].Request.Method + " "
		if !strings.HasPrefix(first, want) {
			t.Errorf("block %d starts with %q, want %q", i, first, want)
		}
		if !strings.Contains(b, "curl ") || !strings.Contains(b, DefaultBaseURL+items[i].Request.URI) {
			t.Errorf("block %d has no curl to %s:\n%s", i, DefaultBaseURL+items[i].Request.URI, b)
		}
	}
	if !strings.Contains(blocks[2], "printf '") || !strings.Contains(blocks[2], "--data-binary @-") {
		t.Errorf("binary body not piped from printf:\n%s", blocks[2])
	}
}
