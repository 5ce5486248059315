package tui

import (
	"os"
	"path/filepath"
	"testing"

	tea "charm.land/bubbletea/v2"
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
