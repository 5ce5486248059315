package main

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// report is everything a run measured; -json prints it as is.
type report struct {
	Date    string          `json:"date"`
	Machine machine         `json:"machine"`
	Config  settings        `json:"config"`
	Load    []loadResult    `json:"load,omitempty"`
	BigBody []bigBodyResult `json:"bigbody,omitempty"`
	List    *listResult     `json:"list,omitempty"`
	Notes   []string        `json:"notes,omitempty"`
}

// machine describes where the run happened.
type machine struct {
	CPUs      int    `json:"cpus"`
	GOOS      string `json:"goos"`
	GOARCH    string `json:"goarch"`
	GoVersion string `json:"go_version"`
}

// settings are the options the run used.
type settings struct {
	DurationS   float64  `json:"duration_s"`
	WarmupS     float64  `json:"warmup_s"`
	Concurrency []int    `json:"concurrency"`
	Rounds      int      `json:"rounds"`
	Suites      []string `json:"suites"`
	BodyBytes   int      `json:"body_bytes"`
}

// loadResult is one system at one concurrency level. The ratios are set on hookctl's rows
// only, against the bare proxy at the same level in the same run.
type loadResult struct {
	Suite       string       `json:"suite"`
	System      string       `json:"system"`
	Concurrency int          `json:"concurrency"`
	Round       int          `json:"round"` // 1, 2, … with -rounds
	Requests    int          `json:"requests"`
	ReqPerSec   float64      `json:"req_per_s"`
	P50Ms       float64      `json:"p50_ms"`
	P99Ms       float64      `json:"p99_ms"`
	MaxMs       float64      `json:"max_ms"`
	Errors      int          `json:"errors"`
	Non2xx      int          `json:"non_2xx"`
	FirstError  string       `json:"first_error,omitempty"`
	Memory      []procMemory `json:"memory"`
	// CPUPerReqUs is the CPU time (user and system) the system's processes used during the
	// measurement window, per 2xx response in it, in microseconds.
	CPUPerReqUs float64 `json:"cpu_us_per_req"`
	// RestCPUPerReqUs is the same for the load generator and the target together.
	RestCPUPerReqUs float64 `json:"rest_cpu_us_per_req"`
	// SettleMs is how long the processes kept working after the load ended (hookctl indexes
	// a burst for search once it is over); the next run starts only after that.
	SettleMs        float64 `json:"settle_ms"`
	ThroughputRatio float64 `json:"throughput_ratio,omitempty"`
	P99Ratio        float64 `json:"p99_ratio,omitempty"`
}

// procMemory is the memory of one process: the highest VmRSS sampled during the
// measurement, and VmHWM (the peak over the process's life so far) at its end.
type procMemory struct {
	Process string `json:"process"`
	MaxRSS  int64  `json:"max_rss_bytes"`
	HWM     int64  `json:"hwm_bytes"`
}

// bigBodyResult is the bigbody suite on one system.
type bigBodyResult struct {
	System    string    `json:"system"`
	Bytes     int       `json:"bytes"`
	TimesMs   []float64 `json:"times_ms"`
	RSSBefore int64     `json:"rss_before_bytes"`
	MaxRSS    int64     `json:"max_rss_bytes"`
	HWM       int64     `json:"hwm_bytes"`
	Check     string    `json:"check"` // "ok", or what was wrong with a response
}

// listResult is the list suite: the seeded log, and requests list on it and on an empty log.
type listResult struct {
	Rows    int      `json:"rows"`
	SeedMs  float64  `json:"seed_ms"`
	CloseMs float64  `json:"close_ms"` // closing the seeded log, which indexes it
	DBBytes int64    `json:"db_bytes"`
	Full    listRuns `json:"full"`
	Empty   listRuns `json:"empty"`
}

// listRuns are the runs of requests list on one log: wall times, the highest peak RSS of the
// processes, and the lines the last one printed.
type listRuns struct {
	TimesMs []float64 `json:"times_ms"`
	MaxRSS  int64     `json:"max_rss_bytes"`
	Lines   int       `json:"lines"`
}

// newReport starts the report of a run begun at now.
func newReport(o *options, now time.Time) *report {
	return &report{
		Date: now.UTC().Format(time.RFC3339),
		Machine: machine{
			CPUs: runtime.NumCPU(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, GoVersion: runtime.Version(),
		},
		Config: settings{
			DurationS: o.duration.Seconds(), WarmupS: o.warmup.Seconds(),
			Concurrency: o.conc, Rounds: o.rounds, Suites: o.suites, BodyBytes: eventSize,
		},
	}
}

// setRatios sets every non-baseline row's ratios against the bare proxy at its level in the
// same round.
func (r *report) setRatios() {
	for i := range r.Load {
		row := &r.Load[i]
		if row.Suite == "baseline" {
			continue
		}
		j := slices.IndexFunc(r.Load, func(b loadResult) bool {
			return b.Suite == "baseline" && b.Concurrency == row.Concurrency && b.Round == row.Round
		})
		if j < 0 {
			continue
		}
		if b := r.Load[j]; b.ReqPerSec > 0 && b.P99Ms > 0 {
			row.ThroughputRatio = row.ReqPerSec / b.ReqPerSec
			row.P99Ratio = row.P99Ms / b.P99Ms
		}
	}
}

// print writes the report as tables.
func (r *report) print(w io.Writer) {
	m := r.Machine
	fmt.Fprintf(w, "hookctl bench  %s  %s/%s  %d CPUs  %s\n", r.Date, m.GOOS, m.GOARCH, m.CPUs, m.GoVersion)
	if len(r.Load) > 0 {
		fmt.Fprintf(w, "\nload: %d-byte Stripe-like JSON POST, a new event id each; %gs warm-up + %gs measured per row; RSS sampled every %s\n\n",
			r.Config.BodyBytes, r.Config.WarmupS, r.Config.DurationS, rssEvery)
		rows := slices.Clone(r.Load)
		rank := map[string]int{"baseline": 0, "ingress": 1, "relay": 2}
		slices.SortStableFunc(rows, func(a, b loadResult) int {
			if a.Concurrency != b.Concurrency {
				return a.Concurrency - b.Concurrency
			}
			if a.Round != b.Round {
				return a.Round - b.Round
			}
			return rank[a.Suite] - rank[b.Suite]
		})
		tw := newTable()
		fmt.Fprintln(tw, "system\tconc\tround\treq/s\tp50\tp99\tCPU/req\tload+target\tmax RSS\tHWM\terrors\tnon-2xx\tsettle\treq/s vs bare\tp99 vs bare\t")
		for _, x := range rows {
			ratios := "\t"
			if x.ThroughputRatio > 0 {
				ratios = fmt.Sprintf("%.2fx\t%.2fx", x.ThroughputRatio, x.P99Ratio)
			}
			fmt.Fprintf(tw, "%s\t%d\t%d\t%.0f\t%s\t%s\t%.0fµs\t%.0fµs\t%s\t%s\t%d\t%d\t%s\t%s\t\n", x.System, x.Concurrency, x.Round, x.ReqPerSec,
				latency(x.P50Ms), latency(x.P99Ms), x.CPUPerReqUs, x.RestCPUPerReqUs, sizes(x.Memory, false), sizes(x.Memory, true), x.Errors, x.Non2xx,
				latency(x.SettleMs), ratios)
		}
		flushTable(w, tw)
		if r.Config.Rounds > 1 {
			r.printMedians(w)
		}
		if slices.ContainsFunc(r.Load, func(x loadResult) bool { return len(x.Memory) > 1 }) {
			fmt.Fprintln(w, "\nhookctl-relay memory: listen client + relay server. HWM: peak over the process's life so far.")
			fmt.Fprintln(w, "settle: how long the processes kept working after the load (indexing the burst for search); the next run waits for it.")
		}
	}
	if len(r.BigBody) > 0 {
		b := r.BigBody[0]
		fmt.Fprintf(w, "\nbigbody: %d MiB application/octet-stream POST, %d in a row, size and SHA-256 checked at the target\n\n", b.Bytes>>20, len(b.TimesMs))
		tw := newTable()
		fmt.Fprintln(tw, "system\tmedian\tmin\tmax\tRSS before\tmax RSS\tHWM\tcheck\t")
		for _, x := range r.BigBody {
			sorted := slices.Sorted(slices.Values(x.TimesMs))
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", x.System, latency(median(sorted)), latency(sorted[0]),
				latency(sorted[len(sorted)-1]), mib(x.RSSBefore), mib(x.MaxRSS), mib(x.HWM), x.Check)
		}
		flushTable(w, tw)
	}
	if l := r.List; l != nil {
		fmt.Fprintf(w, "\nlist: hookctl requests list --limit 50 as a process, %d runs each, on a log of %d requests (%.1f GiB, seeded in %.1fs, closed in %.1fs) and an empty one\n\n",
			len(l.Full.TimesMs), l.Rows, float64(l.DBBytes)/(1<<30), l.SeedMs/1000, l.CloseMs/1000)
		tw := newTable()
		fmt.Fprintln(tw, "log\tmedian\truns\tmax RSS\tlines\t")
		for _, x := range []struct {
			name string
			runs listRuns
		}{{fmt.Sprintf("%d rows", l.Rows), l.Full}, {"empty", l.Empty}} {
			times := make([]string, len(x.runs.TimesMs))
			for i, t := range x.runs.TimesMs {
				times[i] = latency(t)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t\n", x.name, latency(median(slices.Sorted(slices.Values(x.runs.TimesMs)))),
				strings.Join(times, " "), mib(x.runs.MaxRSS), x.runs.Lines)
		}
		flushTable(w, tw)
	}
	if len(r.Notes) > 0 {
		fmt.Fprintln(w, "\nnotes:")
		for _, n := range r.Notes {
			fmt.Fprintf(w, "  - %s\n", n)
		}
	}
}

// printMedians writes, for every system compared with the bare proxy, the median of its
// per-round ratios at each level, with their range.
func (r *report) printMedians(w io.Writer) {
	type key struct {
		system string
		conc   int
	}
	var keys []key
	tput := map[key][]float64{}
	p99 := map[key][]float64{}
	for _, x := range r.Load {
		if x.ThroughputRatio == 0 {
			continue
		}
		k := key{x.System, x.Concurrency}
		if _, ok := tput[k]; !ok {
			keys = append(keys, k)
		}
		tput[k] = append(tput[k], x.ThroughputRatio)
		p99[k] = append(p99[k], x.P99Ratio)
	}
	fmt.Fprintf(w, "\nmedian of %d rounds (range)\n\n", r.Config.Rounds)
	tw := newTable()
	fmt.Fprintln(tw, "system\tconc\treq/s vs bare\tp99 vs bare\t")
	for _, k := range keys {
		t, p := slices.Sorted(slices.Values(tput[k])), slices.Sorted(slices.Values(p99[k]))
		fmt.Fprintf(tw, "%s\t%d\t%.2fx (%.2f–%.2f)\t%.2fx (%.2f–%.2f)\t\n", k.system, k.conc,
			median(t), t[0], t[len(t)-1], median(p), p[0], p[len(p)-1])
	}
	flushTable(w, tw)
}

// table is a tabwriter aligning right into a buffer.
type table struct {
	*tabwriter.Writer
	buf *bytes.Buffer
}

// newTable starts a table.
func newTable() table {
	var buf bytes.Buffer
	return table{tabwriter.NewWriter(&buf, 0, 0, 2, ' ', tabwriter.AlignRight), &buf}
}

// flushTable writes t to w without the spaces that end its lines.
func flushTable(w io.Writer, t table) {
	t.Flush()
	for line := range strings.Lines(t.buf.String()) {
		fmt.Fprintln(w, strings.TrimRight(line, " \n"))
	}
}

// median of sorted values, 0 when there are none.
func median(sorted []float64) float64 {
	n := len(sorted)
	switch {
	case n == 0:
		return 0
	case n%2 == 1:
		return sorted[n/2]
	default:
		return (sorted[n/2-1] + sorted[n/2]) / 2
	}
}

// latency formats milliseconds: µs below 1 ms, ms below 10 s.
func latency(ms float64) string {
	switch {
	case ms < 1:
		return fmt.Sprintf("%.0fµs", ms*1000)
	case ms < 10_000:
		return fmt.Sprintf("%.2fms", ms)
	default:
		return fmt.Sprintf("%.1fs", ms/1000)
	}
}

// mib formats bytes in MiB, "-" when unknown.
func mib(b int64) string {
	if b <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.1fMiB", float64(b)/(1<<20))
}

// sizes formats the max RSS (or HWM) of each process, joined by "+".
func sizes(m []procMemory, hwm bool) string {
	parts := make([]string, len(m))
	for i, p := range m {
		if hwm {
			parts[i] = mib(p.HWM)
		} else {
			parts[i] = mib(p.MaxRSS)
		}
	}
	return strings.Join(parts, "+")
}
