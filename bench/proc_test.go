package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWaitLine(t *testing.T) {
	tests := []struct {
		name   string
		script string
		want   []string // lines waited for, one waitLine each, in order
		err    string   // the error of the waitLine after them, if any
	}{
		{
			name:   "lines in order, across writes",
			script: `printf 'first\nrea'; sleep 0.05; printf 'dy\n'; sleep 0.05; echo later; exec sleep 5`,
			want:   []string{"ready", "later"},
		},
		{
			name:   "a line printed before the process exits",
			script: `echo last`,
			want:   []string{"last"},
		},
		{
			name:   "exit without the line",
			script: `echo other; echo oops >&2; exit 3`,
			want:   nil,
			err:    "no ready line",
		},
		{
			name:   "other lines, without end",
			script: `while :; do echo other; sleep 0.001; done`,
			err:    "not ready after",
		},
		{
			name:   "a line never printed",
			script: `exec sleep 5`,
			err:    "not ready after",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := startProc("sh", "/bin/sh", filepath.Join(t.TempDir(), "out"), []string{"-c", tt.script}, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer p.stop()
			ctx := context.Background()
			for _, want := range tt.want {
				got, err := p.waitLine(ctx, 5*time.Second, func(l string) bool { return l == want })
				if err != nil || got != want {
					t.Fatalf("waitLine(%q) = %q, %v", want, got, err)
				}
			}
			if tt.err == "" {
				return
			}
			_, err = p.waitLine(ctx, 300*time.Millisecond, func(l string) bool { return l == "ready" })
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("waitLine error %v, want one with %q", err, tt.err)
			}
		})
	}
}
