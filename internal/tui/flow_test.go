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

// TestEditAndReplay runs e with an editor that changes the body: an edited copy is recorded
// and replayed, and the original stays as it was.
func TestEditAndReplay(t *testing.T) {
	got := make(chan string, 4)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- string(b)
	}))
	defer target.Close()
	db := seedLog(t, 1)
	ctx := context.Background()
	// Give request 1 a forward attempt so that r and e know where to send it.
	if err := db.AddAttempt(ctx, &webhook.Attempt{RequestID: 1, Kind: webhook.KindForward, Target: target.URL + "/hook", Status: 200}); err != nil {
		t.Fatal(err)
	}
	fwd := forward.New(forward.Config{})
	defer fwd.Close()
	tm := teatest.NewTestModel(t, New(ctx, Config{
		Source: db, Replayer: forward.LogReplayer{Forwarder: fwd, Log: db}, PollInterval: -1,
		Editor: `sed -i 's/evt_0/evt_EDITED/'`,
	}), teatest.WithInitialTermSize(100, 30))
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return strings.Contains(ansi.Strip(string(b)), "/webhooks/stripe") },
		teatest.WithDuration(10*time.Second))
	tm.Type("e")
	select {
	case body := <-got:
		if !strings.Contains(body, `"id":"evt_EDITED"`) {
			t.Fatalf("the target got %s", body)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the edited copy never reached the target")
	}
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return strings.Contains(ansi.Strip(string(b)), "→ 200 in") },
		teatest.WithDuration(10*time.Second))
	tm.Type("q")
	tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))

	orig, err := db.Request(ctx, 1)
	if err != nil || !strings.Contains(string(orig.Body), `"id":"evt_0"`) {
		t.Fatalf("original: %s %v", orig.Body, err)
	}
	cp, err := db.Request(ctx, 2)
	if err != nil || cp.Ingress != webhook.IngressEdit || !strings.Contains(string(cp.Body), "evt_EDITED") {
		t.Fatalf("edited copy: %+v %v", cp, err)
	}
}

// TestNoColor checks that NO_COLOR leaves no colour in what the program writes to a terminal
// that would otherwise get true colour.
func TestNoColor(t *testing.T) {
	db := seedLog(t, 5)
	terminal := []string{"TTY_FORCE=1", "TERM=xterm-256color", "COLORTERM=truecolor"}
	for _, tt := range []struct {
		name      string
		env       []string
		wantColor bool
	}{
		{"colour terminal", terminal, true},
		{"NO_COLOR", append(terminal, "NO_COLOR=1"), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tm := teatest.NewTestModel(t, New(context.Background(), Config{Source: db, PollInterval: -1}),
				teatest.WithInitialTermSize(100, 30), teatest.WithProgramOptions(tea.WithEnvironment(tt.env)))
			var out []byte
			teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
				out = b
				return strings.Contains(ansi.Strip(string(b)), "/webhooks/stripe?n=3")
			}, teatest.WithDuration(10*time.Second))
			tm.Type("q")
			tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))
			if got := bytes.Contains(out, []byte("\x1b[38;")); got != tt.wantColor {
				t.Fatalf("foreground colour sequences present: %v, want %v", got, tt.wantColor)
			}
		})
	}
}
