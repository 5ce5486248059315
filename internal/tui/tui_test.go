package tui

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/hookctl/hookctl/internal/forward"
	"github.com/hookctl/hookctl/internal/store"
	"github.com/hookctl/hookctl/internal/webhook"
)

// baseTime is when seeded requests arrive: one a second from here.
var baseTime = time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)

// sampleRequest is the i-th request of a seeded log: a mix of providers, methods and bodies.
func sampleRequest(i int) *webhook.Request {
	r := &webhook.Request{
		ReceivedAt: baseTime.Add(time.Duration(i) * time.Second),
		Method:     "POST",
		URI:        fmt.Sprintf("/webhooks/stripe?n=%d", i),
		Proto:      "HTTP/1.1",
		Host:       "127.0.0.1:8765",
		RemoteAddr: "127.0.0.1:50000",
		Ingress:    webhook.IngressLocal,
		Provider:   "stripe",
		EventType:  "payment_intent.succeeded",
		Signature:  webhook.SignatureValid,
		Header: webhook.Headers{
			{Name: "Host", Value: "127.0.0.1:8765"},
			{Name: "Content-Type", Value: "application/json"},
			{Name: "Stripe-Signature", Value: "t=1,v1=abc"},
		},
		Body: []byte(fmt.Sprintf(`{"id":"evt_%d","type":"payment_intent.succeeded","data":{"object":{"amount":%d}}}`, i, 100*i)),
	}
	if i%3 == 1 {
		r.Method, r.URI, r.Provider, r.EventType, r.Signature = "GET", fmt.Sprintf("/health/%d", i), "", "", webhook.SignatureUnchecked
		r.Header, r.Body = webhook.Headers{{Name: "Host", Value: "127.0.0.1:8765"}}, nil
	}
	r.BodySize = int64(len(r.Body))
	return r
}

// seedLog writes n sample requests into a fresh log file and returns it open.
func seedLog(tb testing.TB, n int) *store.Store {
	tb.Helper()
	db, err := store.Open(context.Background(), store.Config{Path: filepath.Join(tb.TempDir(), "log.db")})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	if err := store.Seed(context.Background(), db, n, sampleRequest); err != nil {
		tb.Fatal(err)
	}
	return db
}

// driver runs a Model the way the program would, synchronously: it feeds messages to Update
// and runs the commands that come back, feeding their messages in turn.
type driver struct {
	t testing.TB
	m Model
}

func newDriver(t testing.TB, cfg Config, w, h int) *driver {
	t.Helper()
	cfg.PollInterval = -1
	d := &driver{t: t, m: New(context.Background(), cfg)}
	d.send(tea.WindowSizeMsg{Width: w, Height: h})
	d.run(d.m.Init())
	return d
}

func (d *driver) send(msg tea.Msg) {
	d.t.Helper()
	m, cmd := d.m.Update(msg)
	d.m = m.(Model)
	d.run(cmd)
}

func (d *driver) run(cmd tea.Cmd) {
	d.t.Helper()
	if cmd == nil {
		return
	}
	switch msg := cmd().(type) {
	case nil:
	case tea.BatchMsg:
		for _, c := range msg {
			d.run(c)
		}
	default:
		d.send(msg)
	}
}

// press sends key presses: names such as "enter" or "down", or single characters.
func (d *driver) press(keys ...string) {
	d.t.Helper()
	for _, k := range keys {
		d.send(keyPress(k))
	}
}

func keyPress(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "pgdown":
		return tea.KeyPressMsg{Code: tea.KeyPgDown}
	case "pgup":
		return tea.KeyPressMsg{Code: tea.KeyPgUp}
	}
	r := []rune(k)[0]
	return tea.KeyPressMsg{Code: r, Text: k}
}

// screen is the rendered view with colours stripped.
func (d *driver) screen() string { return ansi.Strip(d.m.render()) }

func (d *driver) selectedID() int64 { return d.m.selected() }

func TestNavigation(t *testing.T) {
	d := newDriver(t, Config{Source: seedLog(t, 500)}, 80, 24)
	h := d.m.listHeight()
	tests := []struct {
		name string
		keys []string
		want int64
	}{
		{"starts on the newest", nil, 500},
		{"j moves down", []string{"j"}, 499},
		{"down arrow too", []string{"down", "down"}, 497},
		{"k moves up", []string{"k"}, 498},
		{"page down", []string{"pgdown"}, 498 - int64(h-1)},
		{"page up", []string{"pgup"}, 498},
		{"G jumps to the oldest", []string{"G"}, 1},
		{"k from the oldest", []string{"k"}, 2},
		{"g jumps to the newest", []string{"g"}, 500},
		{"k at the top stays", []string{"k"}, 500},
	}
	for _, tt := range tests {
		d.press(tt.keys...)
		if got := d.selectedID(); got != tt.want {
			t.Fatalf("%s: selected #%d, want #%d\n%s", tt.name, got, tt.want, d.screen())
		}
	}
}

func TestScrollsThroughTheWholeLogAPageAtATime(t *testing.T) {
	const n = 2500
	d := newDriver(t, Config{Source: seedLog(t, n)}, 80, 24)
	seen := map[int64]bool{d.selectedID(): true}
	for range n - 1 {
		d.press("j")
		seen[d.selectedID()] = true
	}
	if len(seen) != n || d.selectedID() != 1 {
		t.Fatalf("visited %d rows, ended on #%d", len(seen), d.selectedID())
	}
	if len(d.m.rows) > d.m.maxWindow() {
		t.Errorf("window holds %d rows, more than %d", len(d.m.rows), d.m.maxWindow())
	}
	for range n - 1 {
		d.press("k")
	}
	if d.selectedID() != n {
		t.Fatalf("back up to #%d, want #%d", d.selectedID(), n)
	}
}

func TestFollowsNewestUntilTheUserMoves(t *testing.T) {
	db := seedLog(t, 10)
	d := newDriver(t, Config{Source: db}, 80, 24)
	add := func() *webhook.Request {
		r := sampleRequest(100)
		if err := db.AddRequest(context.Background(), r); err != nil {
			t.Fatal(err)
		}
		d.send(eventMsg{webhook.Event{Kind: webhook.EventRequest, Request: r}})
		return r
	}
	r := add()
	if d.selectedID() != r.ID {
		t.Fatalf("following: selected #%d, want the new #%d", d.selectedID(), r.ID)
	}
	d.press("j")
	was := d.selectedID()
	add()
	add()
	if d.selectedID() != was {
		t.Fatalf("after moving, the selection jumped to #%d", d.selectedID())
	}
	if !strings.Contains(d.screen(), "↑ 2 new") {
		t.Fatalf("no new-rows marker:\n%s", d.screen())
	}
	d.press("g")
	if d.selectedID() != 13 || strings.Contains(d.screen(), "new (g)") {
		t.Fatalf("g: selected #%d\n%s", d.selectedID(), d.screen())
	}
}

func TestFilter(t *testing.T) {
	d := newDriver(t, Config{Source: seedLog(t, 30)}, 80, 24)
	d.press("/")
	for _, c := range "GET" {
		d.press(string(c))
	}
	d.press("enter")
	for _, r := range d.m.rows {
		if r.Method != "GET" {
			t.Fatalf("filtered list has %s #%d", r.Method, r.ID)
		}
	}
	if len(d.m.rows) != 10 || !strings.Contains(d.screen(), "filter: GET") {
		t.Fatalf("%d rows\n%s", len(d.m.rows), d.screen())
	}
	d.press("esc")
	if len(d.m.rows) != 30 {
		t.Fatalf("esc left %d rows", len(d.m.rows))
	}
	d.press("/", "x", "y", "z", ":", "1", "enter")
	if !d.m.isError || !strings.Contains(d.m.status, "xyz") {
		t.Fatalf("bad filter: status %q", d.m.status)
	}
}

func TestDetailAndReplay(t *testing.T) {
	var hits atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		hits.Add(1)
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"ok":true}`)
	}))
	defer target.Close()
	db := seedLog(t, 3)
	fwd := forward.New(forward.Config{})
	defer fwd.Close()
	d := newDriver(t, Config{Source: db, Replayer: forward.LogReplayer{Forwarder: fwd, Log: db}}, 100, 30)

	// Request 3 was never forwarded: r says so; R with a target sends it.
	d.press("r")
	if !d.m.isError || !strings.Contains(d.m.status, "never forwarded") {
		t.Fatalf("replay of a never-forwarded request: %q", d.m.status)
	}
	d.press("enter")
	if d.m.mode != modeDetail || !strings.Contains(d.screen(), "evt_2") || !strings.Contains(d.screen(), "#3  POST /webhooks/stripe?n=2") {
		t.Fatalf("detail:\n%s", d.screen())
	}
	d.press("R")
	for _, c := range target.URL {
		d.press(string(c))
	}
	d.press("enter")
	if hits.Load() != 1 || !strings.Contains(d.m.status, "→ 202") {
		t.Fatalf("R: %d hits, status %q", hits.Load(), d.m.status)
	}
	if len(d.m.detail.attempts) != 1 || !strings.Contains(d.screen(), "1 attempt") {
		t.Fatalf("the replay did not show in the detail:\n%s", d.screen())
	}
	d.press("r") // now it has a target: the one it was replayed to is not a forward, so it still needs one
	d.press("esc")
	if d.m.mode != modeList || !strings.Contains(d.screen(), "202") {
		t.Fatalf("list after replay:\n%s", d.screen())
	}
}

func TestCopyAndQuit(t *testing.T) {
	d := newDriver(t, Config{Source: seedLog(t, 3), Info: Info{Ingress: "http://127.0.0.1:8765"}}, 80, 24)
	m, cmd := d.m.Update(keyPress("c"))
	msg := cmd().(copyMsg)
	if !strings.HasPrefix(msg.text, "curl ") || !strings.Contains(msg.text, "'http://127.0.0.1:8765/webhooks/stripe?n=2'") ||
		!strings.Contains(msg.text, `'{"id":"evt_2"`) || !strings.Contains(msg.text, "POST") {
		t.Fatalf("curl = %s", msg.text)
	}
	d.m = m.(Model)
	d.send(msg)
	if !strings.Contains(d.m.status, "copied curl command") {
		t.Fatalf("status %q", d.m.status)
	}
	_, cmd = d.m.Update(keyPress("y"))
	if body := cmd().(copyMsg).text; body != string(sampleRequest(2).Body) {
		t.Fatalf("y copied %q", body)
	}
	_, cmd = d.m.Update(keyPress("q"))
	if _, ok := cmd().(tea.QuitMsg); !ok {
		t.Fatal("q does not quit")
	}
}

func TestHelpFromBindings(t *testing.T) {
	d := newDriver(t, Config{Source: seedLog(t, 3)}, 100, 30)
	if !strings.Contains(d.screen(), "enter detail") || !strings.Contains(d.screen(), "? help") {
		t.Fatalf("short help:\n%s", d.screen())
	}
	d.press("?")
	for _, b := range []string{"oldest", "replay to…", "edit & replay", "copy curl", "copy body", "page down"} {
		if !strings.Contains(d.screen(), b) {
			t.Errorf("full help lacks %q:\n%s", b, d.screen())
		}
	}
}

func TestResizeKeepsLinesWithinWidth(t *testing.T) {
	d := newDriver(t, Config{Source: seedLog(t, 50)}, 120, 40)
	for _, size := range [][2]int{{80, 24}, {60, 20}, {40, 12}, {200, 50}} {
		d.send(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		for _, mode := range []string{"list", "detail"} {
			if mode == "detail" {
				d.press("enter")
			}
			lines := strings.Split(d.screen(), "\n")
			if len(lines) > size[1] {
				t.Errorf("%dx%d %s: %d lines", size[0], size[1], mode, len(lines))
			}
			for _, l := range lines {
				if w := ansi.StringWidth(l); w > size[0] {
					t.Errorf("%dx%d %s: line of width %d: %q", size[0], size[1], mode, w, l)
				}
			}
			if mode == "detail" {
				d.press("esc")
			}
		}
	}
}

func TestMain(m *testing.M) {
	time.Local = time.UTC
	os.Exit(m.Run())
}

func TestIngressStateInHeader(t *testing.T) {
	d := newDriver(t, Config{Source: seedLog(t, 2), Info: Info{Ingress: "http://127.0.0.1:8765", PublicURL: "https://hooks.example.com/c/abc"}}, 100, 20)
	for _, tt := range []struct {
		state webhook.IngressState
		want  string
	}{
		{webhook.IngressState{Name: "relay", State: "connecting"}, "○ relay connecting"},
		{webhook.IngressState{Name: "relay", State: "connected"}, "● relay connected"},
		{webhook.IngressState{Name: "relay", State: "disconnected", Error: "connection reset"}, "○ relay disconnected: connection reset"},
	} {
		st := tt.state
		d.send(eventMsg{webhook.Event{Kind: webhook.EventIngress, Ingress: &st}})
		if !strings.Contains(d.screen(), tt.want) || !strings.Contains(d.screen(), "https://hooks.example.com/c/abc") {
			t.Fatalf("header lacks %q:\n%s", tt.want, d.screen())
		}
	}
}

func TestResignToggle(t *testing.T) {
	d := newDriver(t, Config{Source: seedLog(t, 2)}, 100, 20)
	d.press("s")
	if !d.m.resign || !strings.Contains(d.screen(), "re-sign on") {
		t.Fatalf("s did not turn re-signing on:\n%s", d.screen())
	}
	d.press("s")
	if d.m.resign || strings.Contains(d.screen(), "re-sign on") {
		t.Fatalf("s did not turn re-signing off:\n%s", d.screen())
	}
}

func TestShapePane(t *testing.T) {
	d := newDriver(t, Config{Source: seedLog(t, 30)}, 100, 30)
	d.press("t") // the selected request is #30, a stripe payment_intent.succeeded
	scr := d.screen()
	if !strings.Contains(scr, "shape of stripe payment_intent.succeeded (20 samples)") || !strings.Contains(scr, "id: string") {
		t.Fatalf("shape pane:\n%s", scr)
	}
	d.press("esc")
	if d.m.mode != modeList {
		t.Fatalf("esc from the shape pane went to mode %d", d.m.mode)
	}
	d.press("j", "t") // #29: a health check without a body
	if !strings.Contains(d.screen(), "no JSON or form payloads") {
		t.Fatalf("shape of a bodyless event:\n%s", d.screen())
	}
}
