package cli

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookctl/hookctl/internal/relay"
	"github.com/hookctl/hookctl/internal/store"
)

// TestListenThroughRelay runs a relay and `listen --relay` in-process: the channel is created
// once and kept across restarts, requests reach the target through the relay, and the
// connection state is reported.
func TestListenThroughRelay(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rdb, err := store.Open(ctx, store.Config{Path: filepath.Join(dir, "relay.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	relayURL := "http://" + ln.Addr().String()
	srv, err := relay.NewServer(relay.ServerConfig{PublicURL: relayURL, Log: rdb})
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	defer func() { cancel(); <-served }()

	hits := make(chan string, 4)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		hits <- r.RequestURI + " " + string(b)
		w.WriteHeader(http.StatusCreated)
	}))
	defer target.Close()

	env := map[string]string{"XDG_CONFIG_HOME": filepath.Join(dir, "config")}
	db := filepath.Join(dir, "h.db")
	start := func() (string, *syncBuffer, func() int) {
		lctx, lcancel := context.WithCancel(ctx)
		out := &syncBuffer{}
		code := make(chan int, 1)
		go func() {
			code <- Main([]string{"--db", db, "listen", "--json", "--addr", "127.0.0.1:0", "--relay", relayURL, "--forward-to", target.URL},
				Env{Out: out, ErrOut: io.Discard, Getenv: func(k string) string { return env[k] }, Context: lctx})
		}()
		lines := out.waitFor(t, 2) // ready, then the relay's state
		var ready struct {
			PublicURL string `json:"public_url"`
		}
		json.Unmarshal([]byte(lines[0]), &ready)
		var once sync.Once
		c := -1
		return ready.PublicURL, out, func() int { once.Do(func() { lcancel(); c = <-code }); return c }
	}

	public, out, stop := start()
	if !strings.HasPrefix(public, relayURL+"/c/") {
		t.Fatalf("public URL %q", public)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), `"state":"connected"`) {
		if time.Now().After(deadline) {
			t.Fatalf("never connected:\n%s", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	resp, err := http.Post(public+"/stripe?x=1", "application/json", strings.NewReader(`{"via":"relay"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || <-hits != `/stripe?x=1 {"via":"relay"}` {
		t.Fatalf("through the relay: %d", resp.StatusCode)
	}
	if code := stop(); code != 0 {
		t.Fatalf("listen exited %d", code)
	}
	creds := filepath.Join(dir, "config", "hookctl", "relay-channels.json")
	if fi, err := os.Stat(creds); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file: %v %v", fi, err)
	}

	// While listen is away the relay keeps the request; the restarted listen, on the same
	// channel, gets it.
	resp, err = http.Post(public+"/while-away", "application/json", strings.NewReader(`{"n":2}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("while away: %d", resp.StatusCode)
	}
	again, _, stop := start()
	defer stop()
	if again != public {
		t.Fatalf("the public URL changed across restarts: %s then %s", public, again)
	}
	select {
	case got := <-hits:
		if got != `/while-away {"n":2}` {
			t.Fatalf("after reconnect the target got %q", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the buffered request was not delivered after reconnecting")
	}
	code, stdout, _ := run(t, db, "requests", "list", "--json")
	if code != 0 || strings.Count(stdout, `"id"`) != 2 {
		t.Fatalf("local log: %s", stdout)
	}
}
