package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hookctl/hookctl/internal/store"
	"github.com/hookctl/hookctl/internal/webhook"
)

const (
	// readyTimeout bounds how long a process may take to become ready.
	readyTimeout = 20 * time.Second
	// rssEvery is how often VmRSS is sampled.
	rssEvery = 100 * time.Millisecond
	// bigBodySize and bigBodyRuns shape the bigbody suite.
	bigBodySize = 20 << 20
	bigBodyRuns = 5
	// listTimes is how many times the list suite runs requests list on each log.
	listTimes = 5
	// webhookPath is the path every load request is sent to.
	webhookPath = "/webhooks/stripe"
)

// system is something under load: a URL and the processes whose memory is measured, the
// first of which is the one the table shows first.
type system struct {
	suite string
	name  string
	url   string
	procs []*proc
}

// loadSuites runs the ingress and relay suites: every system at every concurrency level, once
// per round, the order of the systems reversed from one round to the next so that drift
// favours none of them.
func (h *harness) loadSuites(ctx context.Context) error {
	defer h.stopSuite()
	target, err := h.startTarget(ctx)
	if err != nil {
		return err
	}
	bare, err := h.startBareProxy(ctx, target)
	if err != nil {
		return err
	}
	systems := []system{bare}
	var hookctlDB string
	if h.opts.has("ingress") {
		hookctlDB = filepath.Join(h.dir, "hookctl.db")
		p, ready, err := h.startListen(ctx, "hookctl", target, hookctlDB)
		if err != nil {
			return err
		}
		systems = append(systems, system{suite: "ingress", name: "hookctl", url: ready.Ingress, procs: []*proc{p}})
	}
	if h.opts.has("relay") {
		s, err := h.startRelay(ctx, target)
		if err != nil {
			return err
		}
		systems = append(systems, s)
	}
	var all []*proc
	for _, s := range systems {
		all = append(all, s.procs...)
	}
	turn := 0
	for _, c := range h.opts.conc {
		for round := 1; round <= h.opts.rounds; round++ {
			order := slices.Clone(systems)
			if turn%2 == 1 {
				slices.Reverse(order)
			}
			turn++
			for _, s := range order {
				r, err := h.measure(ctx, s, c)
				if err != nil {
					return err
				}
				r.Round = round
				// hookctl indexes a burst for search once it is over: let every process
				// finish what the load left it, so that the next run has the machine to itself.
				r.SettleMs = ms(settle(ctx, all))
				h.rep.Load = append(h.rep.Load, r)
			}
		}
	}
	h.rep.setRatios()
	if hookctlDB != "" {
		h.checkDuplicates(ctx, hookctlDB)
	}
	return nil
}

// settle waits until procs have used (almost) no CPU for a quarter of a second, at most a
// minute, and returns how long that took.
func settle(ctx context.Context, procs []*proc) time.Duration {
	const (
		window = 250 * time.Millisecond
		idle   = 10 * time.Millisecond // CPU time within a window that counts as idle
		limit  = time.Minute
	)
	start := time.Now()
	cpu := func() time.Duration { return procsCPU(procs) }
	last := cpu()
	for time.Since(start) < limit {
		select {
		case <-ctx.Done():
			return time.Since(start)
		case <-time.After(window):
		}
		now := cpu()
		if now-last <= idle {
			return max(time.Since(start)-window, 0)
		}
		last = now
	}
	return time.Since(start)
}

// procsCPU is the CPU time procs have used, together.
func procsCPU(procs []*proc) time.Duration {
	var total time.Duration
	for _, p := range procs {
		d, _ := procCPU(p.pid())
		total += d
	}
	return total
}

// restCPU is the CPU time used by the load generator (this process) and the target.
func (h *harness) restCPU() time.Duration {
	d, _ := procCPU(os.Getpid())
	if h.target != nil {
		d += procsCPU([]*proc{h.target})
	}
	return d
}

// stopSuite stops the suite's processes, noting any that did not stop cleanly.
func (h *harness) stopSuite() {
	for _, err := range h.stopAll() {
		h.note("stop: %v", err)
	}
}

// measure loads s at concurrency c and samples its processes' memory meanwhile.
func (h *harness) measure(ctx context.Context, s system, c int) (loadResult, error) {
	h.progress("%s: %d concurrent, %s warm-up + %s", s.name, c, h.opts.warmup, h.opts.duration)
	pids := make([]int, len(s.procs))
	for i, p := range s.procs {
		pids[i] = p.pid()
	}
	stopRSS := watchRSS(pids, h.opts.warmup, rssEvery)
	cpuStart := make(chan [2]time.Duration, 1)
	time.AfterFunc(h.opts.warmup, func() { cpuStart <- [2]time.Duration{procsCPU(s.procs), h.restCPU()} })
	st := runLoad(ctx, loadConfig{
		url: s.url + webhookPath, concurrency: c, warmup: h.opts.warmup, duration: h.opts.duration,
		event: h.event, ids: &h.ids,
	})
	start := <-cpuStart
	cpu, rest := procsCPU(s.procs)-start[0], h.restCPU()-start[1]
	peaks := stopRSS()
	if err := ctx.Err(); err != nil {
		return loadResult{}, err
	}
	r := loadResult{
		Suite: s.suite, System: s.name, Concurrency: c,
		Requests: st.ok, ReqPerSec: float64(st.ok) / h.opts.duration.Seconds(),
		P50Ms: ms(percentile(st.latencies, 0.50)), P99Ms: ms(percentile(st.latencies, 0.99)),
		MaxMs:  ms(percentile(st.latencies, 1)),
		Errors: st.errors, Non2xx: st.non2xx, FirstError: st.firstErr,
	}
	if st.ok > 0 {
		r.CPUPerReqUs = float64(cpu) / float64(time.Microsecond) / float64(st.ok)
		r.RestCPUPerReqUs = float64(rest) / float64(time.Microsecond) / float64(st.ok)
	}
	for i, p := range s.procs {
		if p.exited() {
			return r, p.failure("exited during the load")
		}
		hwm, _ := procStatus(p.pid(), "VmHWM")
		r.Memory = append(r.Memory, procMemory{Process: p.name, MaxRSS: peaks[i], HWM: hwm})
	}
	if st.errors+st.non2xx > 0 {
		h.note("%s at %d concurrent: %d errors, %d non-2xx (first: %s)", s.name, c, st.errors, st.non2xx, st.firstErr)
	}
	return r, nil
}

// checkDuplicates notes whether hookctl took any load request for a redelivery, which would
// mean the events were not distinct.
func (h *harness) checkDuplicates(ctx context.Context, db string) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, h.bin("hookctl"), "--db", db, "requests", "list", "--duplicates", "--limit", "1", "--json")
	cmd.Env = h.hookctlEnv("check")
	out, err := cmd.Output()
	if err != nil {
		h.note("duplicate check: %v", err)
		return
	}
	var dups []json.RawMessage
	if err := json.Unmarshal(out, &dups); err != nil {
		h.note("duplicate check: %v", err)
		return
	}
	if len(dups) > 0 {
		h.note("hookctl recorded some load requests as redeliveries: the event ids were not unique")
	}
}

// startTarget starts the target and returns its URL.
func (h *harness) startTarget(ctx context.Context) (string, error) {
	p, err := h.start("target", h.bin("target"), nil, nil)
	if err != nil {
		return "", err
	}
	h.target = p
	return p.waitLine(ctx, readyTimeout, isURL)
}

// startBareProxy starts the bare proxy to target.
func (h *harness) startBareProxy(ctx context.Context, target string) (system, error) {
	p, err := h.start("bareproxy", h.bin("bareproxy"), []string{"-target", target}, nil)
	if err != nil {
		return system{}, err
	}
	u, err := p.waitLine(ctx, readyTimeout, isURL)
	if err != nil {
		return system{}, err
	}
	return system{suite: "baseline", name: "bare-proxy", url: u, procs: []*proc{p}}, nil
}

// isURL reports whether line is the URL a target or bare proxy prints when ready.
func isURL(line string) bool { return strings.HasPrefix(line, "http://") }

// listenEvent is the part of hookctl listen's JSON events the harness reads.
type listenEvent struct {
	Event     string `json:"event"`
	Ingress   string `json:"ingress"`
	PublicURL string `json:"public_url"`
	State     string `json:"state"`
	Error     string `json:"error"`
}

// startListen starts hookctl listen forwarding to target, recording to db, and waits for its
// ready event.
func (h *harness) startListen(ctx context.Context, name, target, db string, extra ...string) (*proc, listenEvent, error) {
	args := append([]string{"--db", db, "listen", "--no-tui", "--json", "--addr", "127.0.0.1:0", "--forward-to", target}, extra...)
	p, err := h.start(name, h.bin("hookctl"), args, h.hookctlEnv(name))
	if err != nil {
		return nil, listenEvent{}, err
	}
	var ev listenEvent
	_, err = p.waitLine(ctx, readyTimeout, func(line string) bool {
		return json.Unmarshal([]byte(line), &ev) == nil && ev.Event == "ready"
	})
	return p, ev, err
}

// startRelay starts hookctl relay serve and a hookctl listen connected to it, forwarding to
// target, and waits until the client is connected.
func (h *harness) startRelay(ctx context.Context, target string) (system, error) {
	addr, err := freeAddr()
	if err != nil {
		return system{}, err
	}
	relayURL := "http://" + addr
	srv, err := h.start("relay-server", h.bin("hookctl"),
		[]string{"relay", "serve", "--addr", addr, "--public-url", relayURL, "--db", filepath.Join(h.dir, "relay.db")},
		h.hookctlEnv("relay-server"))
	if err != nil {
		return system{}, err
	}
	if err := pollHealth(ctx, srv, relayURL+"/healthz"); err != nil {
		return system{}, err
	}
	client, ready, err := h.startListen(ctx, "relay-client", target, filepath.Join(h.dir, "relay-client.db"), "--relay", relayURL)
	if err != nil {
		return system{}, err
	}
	if ready.PublicURL == "" {
		return system{}, client.failure("no public_url in the ready event")
	}
	var ev listenEvent
	_, err = client.waitLine(ctx, readyTimeout, func(line string) bool {
		return json.Unmarshal([]byte(line), &ev) == nil && ev.Event == "ingress" && ev.State == "connected"
	})
	if err != nil {
		return system{}, err
	}
	return system{suite: "relay", name: "hookctl-relay", url: ready.PublicURL, procs: []*proc{client, srv}}, nil
}

// freeAddr returns a 127.0.0.1 address with a port that was free a moment ago, for a
// process that must know its URL before it listens.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// pollHealth polls url every 50 ms until it answers 200, p exits, or readyTimeout passes.
func pollHealth(ctx context.Context, p *proc, url string) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(readyTimeout)
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if p.exited() || time.Now().After(deadline) {
			return p.failure("no answer on " + url)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// bigBodySuite sends a 20 MiB body five times through a fresh bare proxy and a fresh hookctl
// listen, checking at the target that it arrived whole.
func (h *harness) bigBodySuite(ctx context.Context) error {
	defer h.stopSuite()
	target, err := h.startTarget(ctx)
	if err != nil {
		return err
	}
	bare, err := h.startBareProxy(ctx, target)
	if err != nil {
		return err
	}
	p, ready, err := h.startListen(ctx, "hookctl", target, filepath.Join(h.dir, "bigbody.db"))
	if err != nil {
		return err
	}
	body := make([]byte, bigBodySize)
	if _, err := rand.Read(body); err != nil {
		return fmt.Errorf("make body: %w", err)
	}
	sum := sha256.Sum256(body)
	for _, s := range []system{bare, {suite: "bigbody", name: "hookctl", url: ready.Ingress, procs: []*proc{p}}} {
		r, err := h.bigBody(ctx, s, body, hex.EncodeToString(sum[:]))
		if err != nil {
			return err
		}
		h.rep.BigBody = append(h.rep.BigBody, r)
	}
	return nil
}

// bigBody posts body bigBodyRuns times, one after another, to s, and measures the time of
// each and the memory of s's process.
func (h *harness) bigBody(ctx context.Context, s system, body []byte, sum string) (bigBodyResult, error) {
	h.progress("bigbody: %s, %d x %d MiB", s.name, bigBodyRuns, len(body)>>20)
	p := s.procs[0]
	r := bigBodyResult{System: s.name, Bytes: len(body), Check: "ok"}
	r.RSSBefore, _ = procStatus(p.pid(), "VmRSS")
	tr := &http.Transport{Proxy: nil, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: time.Minute}
	stopRSS := watchRSS([]int{p.pid()}, 0, rssEvery)
	for range bigBodyRuns {
		start := time.Now()
		err := postBig(ctx, client, s.url+"/upload?sha256=1", body, sum)
		r.TimesMs = append(r.TimesMs, ms(time.Since(start)))
		if err != nil && r.Check == "ok" {
			r.Check = err.Error()
			h.note("bigbody %s: %v", s.name, err)
		}
	}
	r.MaxRSS = stopRSS()[0]
	r.HWM, _ = procStatus(p.pid(), "VmHWM")
	if p.exited() {
		return r, p.failure("exited during the bigbody suite")
	}
	return r, ctx.Err()
}

// postBig posts body and checks that the target answered 200 with its size and hash.
func postBig(ctx context.Context, client *http.Client, url string, body []byte, sum string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("read response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d: %.200s", resp.StatusCode, b)
	}
	var a struct {
		Bytes  int    `json:"bytes"`
		SHA256 string `json:"sha256"`
	}
	if err := json.Unmarshal(b, &a); err != nil {
		return fmt.Errorf("read answer %.200q: %w", b, err)
	}
	if a.Bytes != len(body) || a.SHA256 != sum {
		return fmt.Errorf("target got %d bytes (sha256 %.12s), want %d (%.12s)", a.Bytes, a.SHA256, len(body), sum)
	}
	return nil
}

// listSuite seeds a log with -list-rows requests, then times hookctl requests list --limit 50
// as a process, listRuns times, on it and on an empty log for reference.
func (h *harness) listSuite(ctx context.Context) error {
	path := filepath.Join(h.dir, "list.db")
	r := listResult{Rows: h.opts.listRows}
	h.progress("list: seeding %d requests", r.Rows)
	seeded, closed, err := h.seed(ctx, path, r.Rows)
	if err != nil {
		return err
	}
	r.SeedMs, r.CloseMs = ms(seeded), ms(closed)
	if fi, err := os.Stat(path); err == nil {
		r.DBBytes = fi.Size()
	}
	h.progress("list: seeded in %s, closed in %s; running requests list %d times on it and on an empty log",
		seeded.Round(time.Millisecond), closed.Round(time.Millisecond), listTimes)
	if r.Full, err = h.timeList(ctx, path); err != nil {
		return err
	}
	if r.Empty, err = h.timeList(ctx, filepath.Join(h.dir, "empty.db")); err != nil {
		return err
	}
	if r.Full.Lines != 50 {
		h.note("requests list --limit 50 printed %d lines", r.Full.Lines)
	}
	h.rep.List = &r
	return nil
}

// timeList runs hookctl requests list --limit 50 on the log at path listTimes times, each
// through peakrss (see bench/peakrss for why).
func (h *harness) timeList(ctx context.Context, path string) (listRuns, error) {
	var r listRuns
	measured := filepath.Join(h.dir, "peakrss.json")
	for range listTimes {
		var out lineCounter
		var stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, h.bin("peakrss"), "-o", measured,
			h.bin("hookctl"), "--db", path, "requests", "list", "--limit", "50")
		cmd.Env = h.hookctlEnv("list")
		cmd.Stdout, cmd.Stderr = &out, &stderr
		if err := cmd.Run(); err != nil {
			return r, fmt.Errorf("requests list: %w: %s", err, strings.TrimSpace(stderr.String()))
		}
		b, err := os.ReadFile(measured)
		if err != nil {
			return r, fmt.Errorf("requests list: %w", err)
		}
		var u struct {
			WallNs      int64 `json:"wall_ns"`
			MaxRSSBytes int64 `json:"max_rss_bytes"`
		}
		if err := json.Unmarshal(b, &u); err != nil {
			return r, fmt.Errorf("requests list: read peakrss output: %w", err)
		}
		r.TimesMs = append(r.TimesMs, ms(time.Duration(u.WallNs)))
		r.MaxRSS = max(r.MaxRSS, u.MaxRSSBytes)
		r.Lines = int(out)
	}
	return r, nil
}

// seed fills a new log at path with n requests like the load's, and returns how long seeding
// and closing the log (which indexes what was seeded) took.
func (h *harness) seed(ctx context.Context, path string, n int) (seeded, closed time.Duration, err error) {
	start := time.Now()
	s, err := store.Open(ctx, store.Config{Path: path})
	if err != nil {
		return 0, 0, err
	}
	header := webhook.FromHTTP(h.event.header)
	first := start.Add(-time.Duration(n) * time.Millisecond)
	err = store.Seed(ctx, s, n, func(i int) *webhook.Request {
		body := h.event.withID(uint64(i))
		return &webhook.Request{
			ReceivedAt: first.Add(time.Duration(i) * time.Millisecond),
			Method:     http.MethodPost,
			URI:        webhookPath,
			Proto:      "HTTP/1.1",
			Host:       "127.0.0.1:8765",
			Header:     header,
			Body:       body,
			BodySize:   int64(len(body)),
			RemoteAddr: "127.0.0.1:50312",
			Ingress:    webhook.IngressLocal,
			Provider:   "stripe",
			EventType:  "payment_intent.succeeded",
			DeliveryID: string(body[h.event.idAt-len("evt_") : h.event.idAt+idDigits]),
			Signature:  webhook.SignatureUnchecked,
		}
	})
	seeded = time.Since(start)
	start = time.Now()
	cerr := s.Close()
	closed = time.Since(start)
	if err := errors.Join(err, cerr); err != nil {
		return seeded, closed, fmt.Errorf("seed log: %w", err)
	}
	return seeded, closed, nil
}

// lineCounter counts the lines written to it.
type lineCounter int

// Write implements io.Writer.
func (c *lineCounter) Write(b []byte) (int, error) {
	*c += lineCounter(bytes.Count(b, []byte{'\n'}))
	return len(b), nil
}

// ms is d in milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
