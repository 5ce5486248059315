package tui

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/hookctl/hookctl/internal/store"
	"github.com/hookctl/hookctl/internal/webhook"
)

// TestViewGolden compares the rendered screen, colours stripped, with testdata/view/*.golden
// at fixed sizes. Regenerate with: go test ./internal/tui -run ViewGolden -update
func TestViewGolden(t *testing.T) {
	tests := []struct {
		name   string
		w, h   int
		info   Info
		keys   []string
		before func(d *driver)
	}{
		{name: "list-80x24", w: 80, h: 24},
		{name: "list-120x40", w: 120, h: 40, info: Info{Ingress: "http://127.0.0.1:8765", Target: "http://localhost:3000", DB: "/tmp/h.db"}},
		{name: "list-moved-80x24", w: 80, h: 24, keys: []string{"j", "j", "j"}},
		{name: "detail-80x24", w: 80, h: 24, keys: []string{"enter"}},
		{name: "detail-scrolled-80x24", w: 80, h: 24, keys: []string{"enter", "j", "j", "j", "j", "j"}},
		{name: "filter-prompt-80x24", w: 80, h: 24, keys: []string{"/", "s", "t", "a", "t", "u", "s", ":", "5", "x", "x"}},
		{name: "filtered-80x24", w: 80, h: 24, keys: []string{"/", "G", "E", "T", "enter"}},
		{name: "help-80x24", w: 80, h: 24, keys: []string{"?"}},
		{name: "list-40x12", w: 40, h: 12},
	}
	db := seedLog(t, 40)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := tt.info
			if info.DB == "" && info.Ingress == "" {
				info.DB = "/home/dev/.local/share/hookctl/hookctl.db"
			}
			d := newDriver(t, Config{Source: db, Info: info}, tt.w, tt.h)
			d.send(tea.BackgroundColorMsg{}) // as a terminal answers: restyles, nothing else
			d.press(tt.keys...)
			got := d.screen()
			path := filepath.Join("testdata", "view", tt.name+".golden")
			if updateGoldens() {
				os.MkdirAll(filepath.Dir(path), 0o755)
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("screen differs from %s:\n--- got\n%s\n--- want\n%s", path, got, want)
			}
		})
	}
}

// TestQueueAndDuplicateRows: rows of requests received with listen --ack show their delivery
// in the STATUS column, redeliveries say which request they repeat, and the detail pane has
// the Queue line.
func TestQueueAndDuplicateRows(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{Path: filepath.Join(t.TempDir(), "log.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	at := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	record := func(uri, delivery string) *webhook.Request {
		r := &webhook.Request{ReceivedAt: at, Method: "POST", URI: uri, Provider: "github", DeliveryID: delivery,
			Body: []byte(`{}`), BodySize: 2}
		if _, err := db.Record(ctx, r, store.RecordOptions{Dedupe: true, Deliver: "http://localhost:3000"}); err != nil {
			t.Fatal(err)
		}
		return r
	}
	finish := func(r *webhook.Request, status int, out webhook.DeliveryOutcome) {
		a := &webhook.Attempt{RequestID: r.ID, Kind: webhook.KindForward, Target: "http://localhost:3000" + r.URI, StartedAt: at, Status: status}
		if _, err := db.FinishDelivery(ctx, a, out); err != nil {
			t.Fatal(err)
		}
	}
	delivered := record("/delivered", "d-1")
	finish(delivered, 200, webhook.DeliveryOutcome{Delivered: true})
	retrying := record("/retrying", "d-2")
	finish(retrying, 503, webhook.DeliveryOutcome{NextAt: at.Add(time.Minute)})
	gaveUp := record("/gave-up", "d-3")
	finish(gaveUp, 400, webhook.DeliveryOutcome{GiveUp: true})
	queued := record("/queued", "d-1") // a redelivery of the first

	d := newDriver(t, Config{Source: db}, 100, 24)
	rows := map[string]string{}
	for _, line := range strings.Split(d.screen(), "\n") {
		for _, r := range []*webhook.Request{delivered, retrying, gaveUp, queued} {
			if strings.Contains(line, r.URI+" ") {
				rows[r.URI] = strings.Join(strings.Fields(line), " ")
			}
		}
	}
	for uri, want := range map[string][]string{
		"/delivered": {"github", "200"},
		"/retrying":  {"retry"},
		"/gave-up":   {"400"},
		"/queued":    {"dup of " + strconv.FormatInt(delivered.ID, 10), "queued"},
	} {
		for _, w := range want {
			if !strings.Contains(rows[uri], w) {
				t.Errorf("row of %s is %q, want %q in it", uri, rows[uri], w)
			}
		}
	}
	d.press("g", "j", "j", "enter") // the newest is selected first: /queued, /gave-up, /retrying
	if s := d.screen(); !strings.Contains(s, "Queue") || !strings.Contains(s, "retrying, next attempt at") {
		t.Errorf("detail of /retrying lacks its Queue line:\n%s", s)
	}
}
