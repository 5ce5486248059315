package tui

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/hookctl/hookctl/internal/capture"
	"github.com/hookctl/hookctl/internal/forward"
	"github.com/hookctl/hookctl/internal/webhook"
)

// TestFlow runs the program as a user meets it: a request arrives through a real ingress,
// its row appears, enter opens the detail, r replays it, and the new attempt shows.
func TestFlow(t *testing.T) {
	var hits atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		hits.Add(1)
		io.WriteString(w, `{"handled":true}`)
	}))
	defer target.Close()
	targetURL, _ := url.Parse(target.URL)

	db := seedLog(t, 0)
	fwd := forward.New(forward.Config{})
	defer fwd.Close()
	events := make(chan webhook.Event, 64)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- capture.Serve(ctx, ln, capture.New(capture.Config{
			Log: db, Forwarder: fwd, Target: targetURL,
			Notify: func(ev webhook.Event) { events <- ev },
		}), capture.ServeConfig{})
	}()
	defer func() { cancel(); <-served }()
	ingress := "http://" + ln.Addr().String()

	tm := teatest.NewTestModel(t, New(ctx, Config{
		Source: db, Replayer: forward.LogReplayer{Forwarder: fwd, Log: db}, Events: events,
		Info: Info{Ingress: ingress, Target: target.URL}, PollInterval: -1,
	}), teatest.WithInitialTermSize(100, 30))

	waitFor := func(text string) {
		t.Helper()
		teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
			return strings.Contains(ansi.Strip(string(b)), text)
		}, teatest.WithDuration(10*time.Second))
	}
	waitFor("waiting for requests")

	resp, err := http.Post(ingress+"/flow/hook", "application/json", strings.NewReader(`{"flow":true}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	waitFor("/flow/hook")

	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	waitFor("#1  POST /flow/hook")

	tm.Type("r")
	// The renderer redraws only the cells that change, so wait for text that is new on the
	// status line as a whole: "replaying #1…" becomes "replayed #1 → 200 in …".
	waitFor("→ 200 in")

	tm.Type("q")
	fm := tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second)).(Model)
	if fm.detail == nil || len(fm.detail.attempts) != 2 {
		t.Fatalf("detail attempts: %+v", fm.detail)
	}
	if k0, k1 := fm.detail.attempts[0].Kind, fm.detail.attempts[1].Kind; k0 != webhook.KindForward || k1 != webhook.KindReplay {
		t.Fatalf("attempt kinds %s, %s", k0, k1)
	}
	if hits.Load() != 2 {
		t.Fatalf("the target got %d requests, want 2", hits.Load())
	}
	if fm.received != 1 || fm.forwardedOK != 1 {
		t.Errorf("counters: received %d ok %d", fm.received, fm.forwardedOK)
	}
	if !bytes.Contains([]byte(ansi.Strip(fm.render())), []byte("2 attempts")) {
		t.Errorf("final screen:\n%s", ansi.Strip(fm.render()))
	}
}
