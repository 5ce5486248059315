package tui

import (
	"os"
	"runtime"
	"strconv"
	"testing"
)

// benchRows is the size of the log the UI benchmarks open: 100,000 by default, so that a
// one-off run stays quick; HOOKCTL_BENCH_ROWS=1000000 measures the million-request target.
func benchRows(b *testing.B) int {
	if v := os.Getenv("HOOKCTL_BENCH_ROWS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("HOOKCTL_BENCH_ROWS=%q", v)
		}
		return n
	}
	return 100_000
}

// BenchmarkFirstFrame measures what opening the UI on a large log costs: the first page and
// the log's size loaded, and the first frame rendered at 120x40. heap-MB is the live heap
// after the frame, which stays flat whatever the log's size since only a page is loaded.
func BenchmarkFirstFrame(b *testing.B) {
	db := seedLog(b, benchRows(b))
	b.ResetTimer()
	var frame string
	for b.Loop() {
		d := newDriver(b, Config{Source: db}, 120, 40)
		frame = d.m.render()
	}
	b.StopTimer()
	if len(frame) == 0 {
		b.Fatal("empty frame")
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MB")
}

// BenchmarkScroll measures moving the selection one row down through a large log, loading
// pages as it goes.
func BenchmarkScroll(b *testing.B) {
	db := seedLog(b, benchRows(b))
	d := newDriver(b, Config{Source: db}, 120, 40)
	b.ResetTimer()
	for b.Loop() {
		d.press("j")
		if d.m.atBottom && d.m.cursor == len(d.m.rows)-1 {
			d.press("g")
		}
	}
}
