package cli

import (
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/hookctl/hookctl/internal/capture"
	"github.com/hookctl/hookctl/internal/store"
	"github.com/hookctl/hookctl/internal/tunnel"
	"github.com/hookctl/hookctl/internal/webhook"
)

// namedIngress is a real local listener that reports another ingress name, standing in for a
// public ingress (ngrok, relay) whose cloud side cannot be reached from a test.
type namedIngress struct {
	tunnel.Ingress
	name string
}

func (n namedIngress) Name() string { return n.name }

// TestServeAllIngresses checks the wiring every ingress goes through: each one serves the
// same capture handler, requests are recorded with the ingress they came in by, and stopping
// stops them all.
func TestServeAllIngresses(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	db, err := store.Open(ctx, store.Config{Path: filepath.Join(t.TempDir(), "h.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	local, err := tunnel.Local("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	other, err := tunnel.Local("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ingresses := []tunnel.Ingress{local, namedIngress{other, webhook.IngressNgrok}}
	done := make(chan error, 1)
	go func() { done <- serveAll(ctx, ingresses, nil, db, capture.Config{Log: db}, capture.ServeConfig{}) }()

	for _, in := range ingresses {
		resp, err := http.Post(in.URL()+"/via/"+in.Name(), "text/plain", strings.NewReader(in.Name()))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: status %d", in.Name(), resp.StatusCode)
		}
	}
	for id, want := range map[int64]string{1: webhook.IngressLocal, 2: webhook.IngressNgrok} {
		r, err := db.Request(ctx, id)
		if err != nil || r.Ingress != want || r.URI != "/via/"+want {
			t.Fatalf("request %d: %+v %v", id, r, err)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serveAll: %v", err)
	}
	for _, in := range ingresses {
		if _, err := http.Get(in.URL()); err == nil {
			t.Errorf("%s still serves after stop", in.Name())
		}
	}
}

// TestListenersBindLoopback: every listener hookctl opens binds a loopback address unless
// told otherwise.
func TestListenersBindLoopback(t *testing.T) {
	g := &globals{}
	relay := newRelayCmd(g)
	serve, _, err := relay.Find([]string{"serve"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cmd  *cobra.Command
	}{
		{"listen", newListenCmd(g)},
		{"relay serve", serve},
	} {
		def := tc.cmd.Flags().Lookup("addr").DefValue
		host, _, err := net.SplitHostPort(def)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			t.Errorf("%s --addr defaults to %q, not a loopback address", tc.name, def)
		}
	}
}
