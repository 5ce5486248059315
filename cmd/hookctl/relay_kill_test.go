package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookctl/hookctl/internal/relay"
	"github.com/hookctl/hookctl/internal/store"
)

// TestRelayClientKilled kills `hookctl listen --relay` with SIGKILL, sends 100 webhooks to its
// public URL while it is gone, restarts it, and checks that the target receives all 100, in
// order, none twice.
func TestRelayClientKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
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
	srv, err := relay.NewServer(relay.ServerConfig{PublicURL: relayURL, Log: rdb, ResponseTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	rctx, stopRelay := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(rctx, ln) }()
	defer func() { stopRelay(); <-served }()

	var mu sync.Mutex
	var got []string
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		got = append(got, r.RequestURI)
		mu.Unlock()
	}))
	defer target.Close()

	// start runs listen and returns the public URL once the relay connection is up.
	start := func() (*exec.Cmd, string) {
		cmd := exec.CommandContext(ctx, bin, "--db", filepath.Join(dir, "h.db"), "listen", "--json", "--addr", "127.0.0.1:0",
			"--relay", relayURL, "--forward-to", target.URL)
		cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+filepath.Join(dir, "config"), "XDG_STATE_HOME="+filepath.Join(dir, "state"))
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewScanner(stdout)
		public := ""
		for lines.Scan() {
			var ev struct {
				Event, State string
				PublicURL    string `json:"public_url"`
			}
			json.Unmarshal(lines.Bytes(), &ev)
			if ev.Event == "ready" {
				public = ev.PublicURL
			}
			if ev.Event == "ingress" && ev.State == "connected" {
				break
			}
		}
		go io.Copy(io.Discard, stdout)
		if public == "" {
			t.Fatal("listen never connected to the relay")
		}
		return cmd, public
	}

	cmd, public := start()
	cmd.Process.Kill() // SIGKILL: no goodbye to the relay
	cmd.Wait()

	for i := range 100 {
		resp, err := http.Post(fmt.Sprintf("%s/n/%03d", public, i), "application/json", strings.NewReader(fmt.Sprintf(`{"n":%d}`, i)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		// 202 once the relay knows the client is gone; a request sent while it still
		// thought it connected waits for the response timeout (504) but stays buffered.
		if resp.StatusCode != http.StatusAccepted && resp.StatusCode != http.StatusGatewayTimeout {
			t.Fatalf("request %d while the client was dead: %d", i, resp.StatusCode)
		}
	}

	cmd, _ = start()
	defer func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n >= 100 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the target got %d of 100 after the restart", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // a duplicate, if any, would arrive now
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 100 {
		t.Fatalf("the target got %d requests, want 100 (duplicates?)", len(got))
	}
	for i, uri := range got {
		if want := fmt.Sprintf("/n/%03d", i); uri != want {
			t.Fatalf("delivery %d was %s, want %s (out of order)", i, uri, want)
		}
	}
}
