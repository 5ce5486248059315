package forward_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookctl/hookctl/internal/forward"
	"github.com/hookctl/hookctl/internal/store"
	"github.com/hookctl/hookctl/internal/webhook"
)

// t0 is the injected clocks' starting time.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func noJitter(d time.Duration) time.Duration { return d }

func TestRetryPolicyOutcome(t *testing.T) {
	now := t0.Add(time.Hour)
	answered := func(status int, header ...string) *forward.Result {
		res := &forward.Result{Attempt: webhook.Attempt{Status: status}}
		for i := 0; i+1 < len(header); i += 2 {
			res.Attempt.Header = append(res.Attempt.Header, webhook.Field{Name: header[i], Value: header[i+1]})
		}
		return res
	}
	noAnswer := func(f forward.Failure) *forward.Result {
		return &forward.Result{Failure: f, Attempt: webhook.Attempt{Error: "no answer"}}
	}
	brokenBody := &forward.Result{Failure: forward.FailureUnreachable, Attempt: webhook.Attempt{Status: 200, Error: "read response body: reset"}}
	policy := forward.RetryPolicy{MinBackoff: time.Second, MaxBackoff: time.Minute, GiveUpAfter: 2 * time.Hour}
	retry4xx := policy
	retry4xx.Retry4xx = true
	next := func(d time.Duration) webhook.DeliveryOutcome { return webhook.DeliveryOutcome{NextAt: now.Add(d)} }
	delivered := webhook.DeliveryOutcome{Delivered: true}
	giveUp := webhook.DeliveryOutcome{GiveUp: true}

	tests := []struct {
		name     string
		policy   forward.RetryPolicy
		attempts int       // made before this one
		firstAt  time.Time // zero means t0
		res      *forward.Result
		jitter   func(time.Duration) time.Duration
		want     webhook.DeliveryOutcome
	}{
		{name: "200", policy: policy, res: answered(200), want: delivered},
		{name: "204 after failures", policy: policy, attempts: 5, res: answered(204), want: delivered},
		{name: "2xx whose body broke off", policy: policy, res: brokenBody, want: delivered},
		{name: "500 first failure", policy: policy, res: answered(500), want: next(time.Second)},
		{name: "502 third failure", policy: policy, attempts: 2, res: answered(502), want: next(4 * time.Second)},
		{name: "backoff capped", policy: policy, attempts: 40, res: answered(500), want: next(time.Minute)},
		{name: "backoff capped after many attempts", policy: policy, attempts: 1 << 20, res: answered(500), want: next(time.Minute)},
		{name: "refused", policy: policy, attempts: 1, res: noAnswer(forward.FailureUnreachable), want: next(2 * time.Second)},
		{name: "timeout", policy: policy, res: noAnswer(forward.FailureTimeout), want: next(time.Second)},
		{name: "cancelled by shutdown is due at once", policy: policy, attempts: 3, res: noAnswer(forward.FailureCanceled), want: next(0)},
		{name: "408", policy: policy, res: answered(408), want: next(time.Second)},
		{name: "429", policy: policy, res: answered(429), want: next(time.Second)},
		{name: "400 gives up", policy: policy, res: answered(400), want: giveUp},
		{name: "404 gives up", policy: policy, res: answered(404), want: giveUp},
		{name: "400 retried with Retry4xx", policy: retry4xx, res: answered(400), want: next(time.Second)},
		{name: "410 retried with Retry4xx", policy: retry4xx, attempts: 1, res: answered(410), want: next(2 * time.Second)},
		{name: "3xx gives up", policy: retry4xx, res: answered(302), want: giveUp},
		{name: "1xx gives up", policy: policy, res: answered(101), want: giveUp},
		{name: "jitter applied", policy: policy, attempts: 1, res: answered(500),
			jitter: func(d time.Duration) time.Duration { return d / 2 }, want: next(time.Second)},
		{name: "jitter kept under the cap", policy: policy, attempts: 10, res: answered(500),
			jitter: func(d time.Duration) time.Duration { return 3 * d }, want: next(time.Minute)},
		{name: "429 Retry-After seconds", policy: policy, res: answered(429, "Retry-After", "30"), want: next(30 * time.Second)},
		{name: "503 Retry-After date", policy: policy, res: answered(503, "retry-after", now.Add(45*time.Second).Format(http.TimeFormat)), want: next(45 * time.Second)},
		{name: "Retry-After shorter than the backoff", policy: policy, attempts: 3, res: answered(429, "Retry-After", "2"), want: next(8 * time.Second)},
		{name: "Retry-After capped", policy: policy, res: answered(429, "Retry-After", "86400"), want: next(time.Minute)},
		{name: "Retry-After date in the past", policy: policy, res: answered(503, "Retry-After", now.Add(-time.Hour).Format(http.TimeFormat)), want: next(time.Second)},
		{name: "Retry-After malformed", policy: policy, res: answered(429, "Retry-After", "soon"), want: next(time.Second)},
		{name: "Retry-After ignored on 500", policy: policy, res: answered(500, "Retry-After", "30"), want: next(time.Second)},
		{name: "give up past the deadline", policy: policy, attempts: 7, firstAt: now.Add(-2*time.Hour + 30*time.Second), res: answered(500), want: giveUp},
		{name: "retry up to the deadline", policy: policy, attempts: 7, firstAt: now.Add(-2*time.Hour + time.Minute), res: answered(500), want: next(time.Minute)},
		{name: "Retry-After past the deadline", policy: policy, firstAt: now.Add(-2*time.Hour + 10*time.Second), res: answered(429, "Retry-After", "20"), want: giveUp},
		{name: "defaults", res: answered(500), want: next(forward.DefaultMinBackoff)},
		{name: "default cap", attempts: 30, res: answered(500), want: next(forward.DefaultMaxBackoff)},
		{name: "default give-up", firstAt: now.Add(-forward.DefaultGiveUpAfter), res: answered(500), want: giveUp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := webhook.Delivery{RequestID: 1, State: webhook.DeliveryPending, Attempts: tt.attempts, FirstAt: tt.firstAt}
			if d.FirstAt.IsZero() {
				d.FirstAt = t0
			}
			jitter := tt.jitter
			if jitter == nil {
				jitter = noJitter
			}
			if got := tt.policy.Outcome(d, tt.res, now, jitter); got != tt.want {
				t.Errorf("Outcome = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestRetryPolicyDefaultJitter(t *testing.T) {
	p := forward.RetryPolicy{MinBackoff: 8 * time.Second, MaxBackoff: time.Hour}
	d := webhook.Delivery{State: webhook.DeliveryPending, FirstAt: t0}
	res := &forward.Result{Attempt: webhook.Attempt{Status: 500}}
	for range 200 {
		out := p.Outcome(d, res, t0, nil)
		if delay := out.NextAt.Sub(t0); delay < 4*time.Second || delay > 8*time.Second {
			t.Fatalf("delay %s outside [4s, 8s]", delay)
		}
	}
}

// openLog opens a fresh log for one test.
func openLog(t testing.TB) *store.Store {
	t.Helper()
	db, err := store.Open(context.Background(), store.Config{Path: filepath.Join(t.TempDir(), "h.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// queue records one request per URI, received at at and queued for delivery to target, and
// returns their ids.
func queue(t testing.TB, db *store.Store, target *url.URL, at time.Time, uris ...string) []int64 {
	t.Helper()
	ids := make([]int64, len(uris))
	for i, uri := range uris {
		r := &webhook.Request{
			ReceivedAt: at, Method: "POST", URI: uri, Host: "hooks.example", RemoteAddr: "203.0.113.9:4000",
			Header: webhook.Headers{{Name: "Content-Type", Value: "application/json"}},
			Body:   []byte(`{"uri":"` + uri + `"}`), Ingress: webhook.IngressLocal,
		}
		r.BodySize = int64(len(r.Body))
		if _, err := db.Record(context.Background(), r, store.RecordOptions{Deliver: target.String()}); err != nil {
			t.Fatal(err)
		}
		ids[i] = r.ID
	}
	return ids
}

// uris returns "/0" … "/n-1".
func uris(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "/" + strconv.Itoa(i)
	}
	return out
}

// reply is what a scripted target answers to one request; hang holds the request until the
// client gives up.
type reply struct {
	status int
	header []string // name, value, …
	hang   bool
}

// target is a local HTTP server whose answers the test scripts.
type target struct {
	URL *url.URL
	// script returns the answer to the n-th request (from 0) for uri.
	script func(uri string, n int) reply
	quit   chan struct{}

	mu     sync.Mutex
	seen   []string // request URIs in arrival order
	counts map[string]int
	oks    map[string]int // 2xx answers per URI
}

func newTarget(t testing.TB, script func(uri string, n int) reply) *target {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return newTargetOn(t, ln, script)
}

// newTargetOn serves the scripted target on ln.
func newTargetOn(t testing.TB, ln net.Listener, script func(uri string, n int) reply) *target {
	t.Helper()
	tg := &target{script: script, quit: make(chan struct{}), counts: map[string]int{}, oks: map[string]int{}}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(tg.serve))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(tg.quit) }) // runs first: hanging handlers return
	u, err := forward.ParseTarget(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	tg.URL = u
	return tg
}

func (tg *target) serve(w http.ResponseWriter, r *http.Request) {
	tg.mu.Lock()
	n := tg.counts[r.RequestURI]
	tg.counts[r.RequestURI]++
	tg.seen = append(tg.seen, r.RequestURI)
	rp := tg.script(r.RequestURI, n)
	if rp.status >= 200 && rp.status < 300 && !rp.hang {
		tg.oks[r.RequestURI]++
	}
	tg.mu.Unlock()
	if rp.hang {
		select {
		case <-r.Context().Done():
		case <-tg.quit:
		}
		return
	}
	for i := 0; i+1 < len(rp.header); i += 2 {
		w.Header().Set(rp.header[i], rp.header[i+1])
	}
	w.WriteHeader(rp.status)
}

func (tg *target) requests() []string {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return slices.Clone(tg.seen)
}

func (tg *target) delivered() map[string]int {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	out := make(map[string]int, len(tg.oks))
	for k, v := range tg.oks {
		out[k] = v
	}
	return out
}

func always(status int) func(string, int) reply {
	return func(string, int) reply { return reply{status: status} }
}

// running is a Deliverer whose Run goes on until stop.
type running struct {
	*forward.Deliverer
	stop func()
}

// start runs a Deliverer configured by cfg until the test ends or stop is called; stop waits
// for Run to return and checks that it returned nil.
func start(t testing.TB, cfg forward.DelivererConfig) running {
	t.Helper()
	d, err := forward.NewDeliverer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- d.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-errc; err != nil {
				t.Errorf("Run = %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return running{d, stop}
}

// waitFor polls cond until it holds; it fails the test if that takes unreasonably long.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func deliveryOf(t testing.TB, db *store.Store, id int64) *webhook.Delivery {
	t.Helper()
	d, err := db.Delivery(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// settled reports whether every delivery in ids is delivered or given up.
func settled(t testing.TB, db *store.Store, ids ...int64) func() bool {
	return func() bool {
		for _, id := range ids {
			if deliveryOf(t, db, id).State == webhook.DeliveryPending {
				return false
			}
		}
		return true
	}
}

func attemptsOf(t testing.TB, db *store.Store, id int64) []webhook.Attempt {
	t.Helper()
	as, err := db.Attempts(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return as
}

// fast is a policy that retries within milliseconds.
var fast = forward.RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}

func TestDeliverScriptedTarget(t *testing.T) {
	tests := []struct {
		name      string
		answers   []reply
		policy    forward.RetryPolicy
		timeout   time.Duration
		state     string
		statuses  []int
		errorLike string // in the first attempt's Error
	}{
		{name: "500 then 200", answers: []reply{{status: 500}, {status: 200}}, policy: fast,
			state: webhook.DeliveryDelivered, statuses: []int{500, 200}},
		{name: "503 twice then 202", answers: []reply{{status: 503}, {status: 503}, {status: 202}}, policy: fast,
			state: webhook.DeliveryDelivered, statuses: []int{503, 503, 202}},
		{name: "429 then 200", answers: []reply{{status: 429}, {status: 200}}, policy: fast,
			state: webhook.DeliveryDelivered, statuses: []int{429, 200}},
		{name: "408 then 200", answers: []reply{{status: 408}, {status: 200}}, policy: fast,
			state: webhook.DeliveryDelivered, statuses: []int{408, 200}},
		{name: "400 gives up at once", answers: []reply{{status: 400}, {status: 200}}, policy: fast,
			state: webhook.DeliveryGivenUp, statuses: []int{400}},
		{name: "404 gives up at once", answers: []reply{{status: 404}, {status: 200}}, policy: fast,
			state: webhook.DeliveryGivenUp, statuses: []int{404}},
		{name: "3xx gives up at once", answers: []reply{{status: 302, header: []string{"Location", "/elsewhere"}}, {status: 200}}, policy: fast,
			state: webhook.DeliveryGivenUp, statuses: []int{302}},
		{name: "400 retried with Retry4xx", answers: []reply{{status: 400}, {status: 422}, {status: 200}},
			policy: forward.RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, Retry4xx: true},
			state:  webhook.DeliveryDelivered, statuses: []int{400, 422, 200}},
		{name: "hang past the forwarder timeout then 200", answers: []reply{{hang: true}, {status: 200}}, policy: fast,
			timeout: 500 * time.Millisecond, state: webhook.DeliveryDelivered, statuses: []int{0, 200}, errorLike: "did not answer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openLog(t)
			tg := newTarget(t, func(_ string, n int) reply { return tt.answers[min(n, len(tt.answers)-1)] })
			ids := queue(t, db, tg.URL, time.Now(), "/hooks/stripe?x=1")
			timeout := tt.timeout
			if timeout == 0 {
				timeout = 10 * time.Second
			}
			d := start(t, forward.DelivererConfig{Log: db, Target: tg.URL, Policy: tt.policy,
				Forwarder: forward.New(forward.Config{Timeout: timeout}), Poll: 10 * time.Millisecond})
			waitFor(t, "the delivery to settle", settled(t, db, ids...))
			d.stop()

			dl := deliveryOf(t, db, ids[0])
			if dl.State != tt.state || dl.Attempts != len(tt.statuses) {
				t.Errorf("delivery = %+v, want state %s after %d attempts", dl, tt.state, len(tt.statuses))
			}
			as := attemptsOf(t, db, ids[0])
			var statuses []int
			for i, a := range as {
				statuses = append(statuses, a.Status)
				want := webhook.KindRedelivery
				if i == 0 {
					want = webhook.KindForward
				}
				if a.Kind != want {
					t.Errorf("attempt %d kind = %s, want %s", i, a.Kind, want)
				}
				if a.Target != tg.URL.String()+"/hooks/stripe?x=1" {
					t.Errorf("attempt %d target = %s", i, a.Target)
				}
			}
			if !slices.Equal(statuses, tt.statuses) {
				t.Errorf("attempt statuses = %v, want %v (%+v)", statuses, tt.statuses, as)
			}
			if tt.errorLike != "" && (len(as) == 0 || !strings.Contains(as[0].Error, tt.errorLike)) {
				t.Errorf("first attempt = %+v, want an error like %q", as[0], tt.errorLike)
			}
			if got := len(tg.requests()); got != len(tt.statuses) {
				t.Errorf("target saw %d requests, want %d", got, len(tt.statuses))
			}
		})
	}
}

// freeAddr returns an address on which nothing listens, so connections to it are refused.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func listenOn(t testing.TB, addr string) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen again on %s: %v", addr, err)
	}
	return ln
}

func TestDeliverTargetDownThenUp(t *testing.T) {
	db := openLog(t)
	addr := freeAddr(t)
	base, _ := forward.ParseTarget("http://" + addr + "/webhooks")
	ids := queue(t, db, base, time.Now(), "/stripe")
	var failed atomic.Int64
	start(t, forward.DelivererConfig{Log: db, Target: base, Policy: fast, Poll: 10 * time.Millisecond,
		Notify: func(e webhook.Event) {
			if e.Attempt.Status == 0 {
				failed.Add(1)
			}
		}})
	waitFor(t, "two refused attempts", func() bool { return failed.Load() >= 2 })
	if dl := deliveryOf(t, db, ids[0]); dl.State != webhook.DeliveryPending || dl.Status() != webhook.DeliveryRetrying {
		t.Fatalf("delivery while the target is down = %+v", dl)
	}

	tg := newTargetOn(t, listenOn(t, addr), always(200))
	waitFor(t, "the delivery", settled(t, db, ids...))

	if dl := deliveryOf(t, db, ids[0]); dl.State != webhook.DeliveryDelivered {
		t.Fatalf("delivery = %+v", dl)
	}
	as := attemptsOf(t, db, ids[0])
	if len(as) < 3 {
		t.Fatalf("%d attempts, want at least 2 refused and 1 delivered", len(as))
	}
	for i, a := range as {
		last := i == len(as)-1
		switch {
		case i == 0 && a.Kind != webhook.KindForward, i > 0 && a.Kind != webhook.KindRedelivery:
			t.Errorf("attempt %d kind = %s", i, a.Kind)
		case !last && (a.Status != 0 || !strings.Contains(a.Error, "unreachable")):
			t.Errorf("attempt %d while down = status %d, error %q", i, a.Status, a.Error)
		case last && (a.Status != 200 || a.Error != ""):
			t.Errorf("last attempt = status %d, error %q", a.Status, a.Error)
		}
		if a.Target != "http://"+addr+"/webhooks/stripe" {
			t.Errorf("attempt %d target = %s", i, a.Target)
		}
	}
	if got := tg.requests(); !slices.Equal(got, []string{"/webhooks/stripe"}) {
		t.Errorf("target saw %v", got)
	}
}

// clock is an injected clock that moves with real time, plus an offset the test can add to.
type clock struct {
	start  time.Time
	offset atomic.Int64
}

func newClock() *clock { return &clock{start: time.Now()} }

func (c *clock) Now() time.Time {
	return t0.Add(time.Since(c.start) + time.Duration(c.offset.Load()))
}

func (c *clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

func TestDeliverGivesUpAfterDeadline(t *testing.T) {
	db := openLog(t)
	tg := newTarget(t, always(500))
	clk := newClock()
	ids := queue(t, db, tg.URL, clk.Now(), "/late")
	var attempts atomic.Int64
	start(t, forward.DelivererConfig{Log: db, Target: tg.URL, Now: clk.Now, Jitter: noJitter, Poll: 10 * time.Millisecond,
		Policy: forward.RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, GiveUpAfter: time.Hour},
		Notify: func(e webhook.Event) {
			if attempts.Add(1) == 2 {
				clk.Advance(2 * time.Hour) // the next failure falls past the deadline
			}
		}})
	waitFor(t, "the give-up", settled(t, db, ids...))

	dl := deliveryOf(t, db, ids[0])
	if dl.State != webhook.DeliveryGivenUp || dl.Attempts != 3 {
		t.Errorf("delivery = %+v, want given up after 3 attempts", dl)
	}
	if dl.FirstAt.Before(t0) || dl.FirstAt.After(t0.Add(time.Hour)) {
		t.Errorf("FirstAt = %s, want the injected time it was queued at", dl.FirstAt)
	}
	if dl.UpdatedAt.Before(t0.Add(2 * time.Hour)) {
		t.Errorf("UpdatedAt = %s, want from the advanced clock", dl.UpdatedAt)
	}
	if n := len(tg.requests()); n != 3 {
		t.Errorf("target saw %d requests, want 3", n)
	}
}

func TestDeliverKeepsArrivalOrder(t *testing.T) {
	db := openLog(t)
	tg := newTarget(t, func(uri string, n int) reply {
		if uri == "/0" && n < 2 {
			return reply{status: 500}
		}
		return reply{status: 200}
	})
	ids := queue(t, db, tg.URL, time.Now(), uris(20)...)
	start(t, forward.DelivererConfig{Log: db, Target: tg.URL, Poll: 10 * time.Millisecond,
		Policy: forward.RetryPolicy{MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond}})
	waitFor(t, "every delivery", settled(t, db, ids...))

	want := append([]string{"/0", "/0"}, uris(20)...)
	if got := tg.requests(); !slices.Equal(got, want) {
		t.Errorf("target saw\n%v\nwant\n%v", got, want)
	}
	for i, id := range ids {
		dl := deliveryOf(t, db, id)
		wantAttempts := 1
		if i == 0 {
			wantAttempts = 3
		}
		if dl.State != webhook.DeliveryDelivered || dl.Attempts != wantAttempts {
			t.Errorf("delivery %d = %+v, want delivered after %d attempts", i, dl, wantAttempts)
		}
	}
}

func TestDeliverConcurrently(t *testing.T) {
	const n, conc = 40, 4
	db := openLog(t)
	var (
		mu          sync.Mutex
		inFlight    int
		maxInFlight int
		seen        = map[string]int{}
		oks         = map[string]int{}
		full        = make(chan struct{})
		fullOnce    sync.Once
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inFlight++
		maxInFlight = max(maxInFlight, inFlight)
		if inFlight == conc {
			fullOnce.Do(func() { close(full) })
		}
		first := seen[r.RequestURI] == 0
		seen[r.RequestURI]++
		mu.Unlock()
		defer func() {
			mu.Lock()
			inFlight--
			mu.Unlock()
		}()
		// The first requests wait until conc are in flight at once.
		select {
		case <-full:
		case <-time.After(5 * time.Second):
		}
		i, _ := strconv.Atoi(strings.TrimPrefix(r.RequestURI, "/"))
		if first && i%5 == 0 {
			w.WriteHeader(500)
			return
		}
		mu.Lock()
		oks[r.RequestURI]++
		mu.Unlock()
	}))
	defer srv.Close()
	base, _ := forward.ParseTarget(srv.URL)
	ids := queue(t, db, base, time.Now(), uris(n)...)
	var events atomic.Int64
	start(t, forward.DelivererConfig{Log: db, Target: base, Concurrency: conc, Policy: fast, Poll: 10 * time.Millisecond,
		Notify: func(webhook.Event) { events.Add(1) }})
	waitFor(t, "every delivery", settled(t, db, ids...))

	mu.Lock()
	defer mu.Unlock()
	if maxInFlight != conc {
		t.Errorf("at most %d attempts were in flight at once, want %d", maxInFlight, conc)
	}
	for _, uri := range uris(n) {
		if oks[uri] != 1 {
			t.Errorf("%s delivered %d times", uri, oks[uri])
		}
	}
	for i, id := range ids {
		want := 1
		if i%5 == 0 {
			want = 2
		}
		if dl := deliveryOf(t, db, id); dl.State != webhook.DeliveryDelivered || dl.Attempts != want {
			t.Errorf("delivery %d = %+v, want delivered after %d attempts", i, dl, want)
		}
	}
	if got := events.Load(); got != n+n/5 {
		t.Errorf("%d attempt events, want %d", got, n+n/5)
	}
}

func TestDeliverHonoursRetryAfter(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		retryAfter string
		want       time.Duration // after the injected now
	}{
		{"seconds on 429", 429, "120", 120 * time.Second},
		{"HTTP date on 503", 503, t0.Add(300 * time.Second).Format(http.TimeFormat), 300 * time.Second},
		{"capped at MaxBackoff", 429, "7200", time.Hour},
		{"shorter than the backoff", 429, "1", 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openLog(t)
			tg := newTarget(t, func(string, int) reply {
				return reply{status: tt.status, header: []string{"Retry-After", tt.retryAfter}}
			})
			ids := queue(t, db, tg.URL, t0, "/throttled")
			events := make(chan webhook.Event, 10)
			d := start(t, forward.DelivererConfig{Log: db, Target: tg.URL, Now: func() time.Time { return t0 }, Jitter: noJitter,
				Poll:   time.Hour,
				Policy: forward.RetryPolicy{MinBackoff: 10 * time.Second, MaxBackoff: time.Hour},
				Notify: func(e webhook.Event) { events <- e }})
			var e webhook.Event
			select {
			case e = <-events:
			case <-time.After(15 * time.Second):
				t.Fatal("no attempt")
			}
			d.stop()

			dl := deliveryOf(t, db, ids[0])
			if dl.State != webhook.DeliveryPending || dl.Attempts != 1 || !dl.NextAt.Equal(t0.Add(tt.want)) {
				t.Errorf("delivery = %+v, want pending, 1 attempt, due at %s", dl, t0.Add(tt.want))
			}
			if !e.Delivery.NextAt.Equal(dl.NextAt) || e.Delivery.Attempts != 1 {
				t.Errorf("event delivery = %+v, log has %+v", e.Delivery, dl)
			}
			if n := len(tg.requests()); n != 1 {
				t.Errorf("target saw %d requests before the delivery was due, want 1", n)
			}
		})
	}
}

func TestDeliverResumesAfterRestart(t *testing.T) {
	db := openLog(t)
	addr := freeAddr(t)
	base, _ := forward.ParseTarget(addr)
	ids := queue(t, db, base, time.Now(), uris(10)...)
	var failed atomic.Int64
	first := start(t, forward.DelivererConfig{Log: db, Target: base, Policy: fast, Poll: 10 * time.Millisecond,
		Notify: func(webhook.Event) { failed.Add(1) }})
	waitFor(t, "refused attempts", func() bool { return failed.Load() >= 3 })
	first.stop()

	pending, err := db.PendingDeliveries(context.Background(), base.String(), 100, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != len(ids) {
		t.Fatalf("%d deliveries pending after the stop, want %d", len(pending), len(ids))
	}
	for i, dl := range pending {
		if dl.RequestID != ids[i] || (i == 0) != (dl.Attempts > 0) {
			t.Errorf("pending %d = %+v: only the head is attempted", i, dl)
		}
	}

	tg := newTargetOn(t, listenOn(t, addr), always(200))
	start(t, forward.DelivererConfig{Log: db, Target: base, Policy: fast, Poll: 10 * time.Millisecond})
	waitFor(t, "every delivery", settled(t, db, ids...))
	if got := tg.requests(); !slices.Equal(got, uris(10)) {
		t.Errorf("target saw %v, want each request once in order", got)
	}
	for _, id := range ids {
		if dl := deliveryOf(t, db, id); dl.State != webhook.DeliveryDelivered {
			t.Errorf("delivery = %+v", dl)
		}
	}
}

func TestDeliverShutdownRecordsAttemptInFlight(t *testing.T) {
	for _, conc := range []int{1, 3} {
		t.Run(fmt.Sprint("concurrency ", conc), func(t *testing.T) {
			db := openLog(t)
			arrived := make(chan struct{}, 1)
			tg := newTarget(t, func(string, int) reply {
				select {
				case arrived <- struct{}{}:
				default:
				}
				return reply{hang: true}
			})
			ids := queue(t, db, tg.URL, time.Now(), "/slow")
			d := start(t, forward.DelivererConfig{Log: db, Target: tg.URL, Concurrency: conc, Poll: time.Hour,
				Forwarder: forward.New(forward.Config{Timeout: 300 * time.Millisecond})})
			select {
			case <-arrived:
			case <-time.After(15 * time.Second):
				t.Fatal("no attempt")
			}
			d.stop() // returns once the attempt is recorded

			dl := deliveryOf(t, db, ids[0])
			if dl.State != webhook.DeliveryPending || dl.Attempts != 1 {
				t.Errorf("delivery = %+v, want pending with the interrupted attempt counted", dl)
			}
			as := attemptsOf(t, db, ids[0])
			if len(as) != 1 || as[0].Status != 0 || as[0].Error == "" {
				t.Errorf("attempts = %+v, want one without an answer", as)
			}
		})
	}
}

func TestDeliverWake(t *testing.T) {
	for _, conc := range []int{1, 3} {
		t.Run(fmt.Sprint("concurrency ", conc), func(t *testing.T) {
			db := openLog(t)
			tg := newTarget(t, always(200))
			// With an hour between polls, only Wake brings the new requests in.
			d := start(t, forward.DelivererConfig{Log: db, Target: tg.URL, Concurrency: conc, Poll: time.Hour})
			var ids []int64
			for i := range 5 {
				ids = append(ids, queue(t, db, tg.URL, time.Now(), fmt.Sprint("/w", i))...)
				d.Wake()
				d.Wake() // coalesces
			}
			waitFor(t, "the woken deliveries", settled(t, db, ids...))
			if n := len(tg.requests()); n != 5 {
				t.Errorf("target saw %d requests, want 5", n)
			}
		})
	}
}

func TestDeliverIgnoresOtherTargets(t *testing.T) {
	db := openLog(t)
	tg := newTarget(t, always(200))
	other, _ := forward.ParseTarget(tg.URL.String() + "/other")
	mine := queue(t, db, tg.URL, time.Now(), "/mine")
	theirs := queue(t, db, other, time.Now(), "/theirs")
	start(t, forward.DelivererConfig{Log: db, Target: tg.URL, Poll: 10 * time.Millisecond})
	waitFor(t, "the delivery", settled(t, db, mine...))
	if dl := deliveryOf(t, db, theirs[0]); dl.State != webhook.DeliveryPending || dl.Attempts != 0 {
		t.Errorf("another target's delivery = %+v", dl)
	}
	if got := tg.requests(); !slices.Equal(got, []string{"/mine"}) {
		t.Errorf("target saw %v", got)
	}
}

func TestDeliverNotify(t *testing.T) {
	db := openLog(t)
	tg := newTarget(t, func(_ string, n int) reply { return reply{status: []int{500, 200}[min(n, 1)]} })
	ids := queue(t, db, tg.URL, time.Now(), "/n")
	events := make(chan webhook.Event, 10)
	start(t, forward.DelivererConfig{Log: db, Target: tg.URL, Policy: fast, Poll: 10 * time.Millisecond,
		Notify: func(e webhook.Event) { events <- e }})
	waitFor(t, "the delivery", settled(t, db, ids...))

	var got []webhook.Event
	for len(got) < 2 {
		select {
		case e := <-events:
			got = append(got, e)
		case <-time.After(15 * time.Second):
			t.Fatalf("%d events", len(got))
		}
	}
	want := []struct {
		kind     webhook.AttemptKind
		status   int
		state    string
		attempts int
	}{
		{webhook.KindForward, 500, webhook.DeliveryRetrying, 1},
		{webhook.KindRedelivery, 200, webhook.DeliveryDelivered, 2},
	}
	logged := attemptsOf(t, db, ids[0])
	for i, e := range got {
		w := want[i]
		if e.Kind != webhook.EventAttempt || e.Request == nil || e.Request.ID != ids[0] || e.Request.URI != "/n" {
			t.Fatalf("event %d = %+v", i, e)
		}
		if e.Attempt == nil || e.Attempt.ID != logged[i].ID || e.Attempt.Kind != w.kind || e.Attempt.Status != w.status {
			t.Errorf("event %d attempt = %+v, logged %+v", i, e.Attempt, logged[i])
		}
		if e.Delivery == nil || e.Delivery.Status() != w.state || e.Delivery.Attempts != w.attempts || e.Delivery.RequestID != ids[0] {
			t.Errorf("event %d delivery = %+v, want %s after %d attempts", i, e.Delivery, w.state, w.attempts)
		}
	}
	if !got[0].Delivery.NextAt.After(got[0].Attempt.StartedAt) {
		t.Errorf("retry due at %s, attempt started at %s", got[0].Delivery.NextAt, got[0].Attempt.StartedAt)
	}
	final := deliveryOf(t, db, ids[0])
	if e := got[1].Delivery; e.State != final.State || e.Attempts != final.Attempts || !e.UpdatedAt.Equal(final.UpdatedAt) {
		t.Errorf("last event's delivery = %+v, log has %+v", e, final)
	}
}

// flakyLog fails its first fail FinishDelivery calls.
type flakyLog struct {
	*store.Store
	fail  int
	calls atomic.Int64
}

func (l *flakyLog) FinishDelivery(ctx context.Context, a *webhook.Attempt, out webhook.DeliveryOutcome) (*webhook.Delivery, error) {
	if l.calls.Add(1) <= int64(l.fail) {
		return nil, errors.New("insert attempt: disk I/O error")
	}
	return l.Store.FinishDelivery(ctx, a, out)
}

func TestDeliverRecordFailureIsRetriedNotResent(t *testing.T) {
	db := openLog(t)
	tg := newTarget(t, always(200))
	ids := queue(t, db, tg.URL, time.Now(), "/once")
	log := &flakyLog{Store: db, fail: 2}
	start(t, forward.DelivererConfig{Log: log, Target: tg.URL, Policy: fast, Poll: 10 * time.Millisecond})
	waitFor(t, "the delivery", settled(t, db, ids...))
	if dl := deliveryOf(t, db, ids[0]); dl.State != webhook.DeliveryDelivered || dl.Attempts != 1 {
		t.Errorf("delivery = %+v, want delivered after 1 attempt", dl)
	}
	if got := tg.requests(); len(got) != 1 {
		t.Errorf("target saw %v, want the request once", got)
	}
	if n := log.calls.Load(); n != 3 {
		t.Errorf("%d FinishDelivery calls, want 3", n)
	}
}

func TestNewDelivererErrors(t *testing.T) {
	db := openLog(t)
	u, _ := forward.ParseTarget("3000")
	tests := []struct {
		name string
		cfg  forward.DelivererConfig
	}{
		{"no log", forward.DelivererConfig{Target: u}},
		{"no target", forward.DelivererConfig{Log: db}},
	}
	for _, tt := range tests {
		if d, err := forward.NewDeliverer(tt.cfg); err == nil || d != nil {
			t.Errorf("%s: NewDeliverer = %v, %v", tt.name, d, err)
		}
	}
}

func TestDeliverRunTwice(t *testing.T) {
	db := openLog(t)
	tg := newTarget(t, always(200))
	queue(t, db, tg.URL, time.Now(), "/h")
	attempted := make(chan struct{}, 1)
	d := start(t, forward.DelivererConfig{Log: db, Target: tg.URL, Poll: time.Hour,
		Notify: func(webhook.Event) { attempted <- struct{}{} }})
	<-attempted // the first Run is running
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := d.Run(ctx); err == nil {
		t.Error("a second Run at the same time was not refused")
	}
}

// setState records a first attempt of request id with outcome out, without sending anything.
func setState(t testing.TB, db *store.Store, id int64, out webhook.DeliveryOutcome) {
	t.Helper()
	a := &webhook.Attempt{RequestID: id, Kind: webhook.KindForward, Target: "http://localhost:1/", StartedAt: time.Now(), Status: 400}
	if _, err := db.FinishDelivery(context.Background(), a, out); err != nil {
		t.Fatal(err)
	}
}

func TestRedeliver(t *testing.T) {
	ctx := context.Background()
	f := forward.New(forward.Config{Timeout: 10 * time.Second})
	defer f.Close()

	t.Run("given up, then fixed", func(t *testing.T) {
		db := openLog(t)
		tg := newTarget(t, always(200))
		id := queue(t, db, tg.URL, time.Now(), "/hook?a=1")[0]
		setState(t, db, id, webhook.DeliveryOutcome{GiveUp: true})
		req, a, dl, err := f.Redeliver(ctx, forward.RedeliverLog{Log: db, NotFound: store.ErrNotFound}, id, nil)
		if err != nil {
			t.Fatal(err)
		}
		if req.ID != id || a.ID == 0 || a.Kind != webhook.KindRedelivery || a.Status != 200 || a.Target != tg.URL.String()+"/hook?a=1" {
			t.Errorf("request %d, attempt %+v", req.ID, a)
		}
		if dl.State != webhook.DeliveryDelivered || dl.Attempts != 2 {
			t.Errorf("delivery = %+v, want delivered after 2 attempts", dl)
		}
		if got := tg.requests(); !slices.Equal(got, []string{"/hook?a=1"}) {
			t.Errorf("target saw %v", got)
		}
	})

	t.Run("given up, failing again", func(t *testing.T) {
		db := openLog(t)
		tg := newTarget(t, always(500))
		id := queue(t, db, tg.URL, time.Now(), "/h")[0]
		setState(t, db, id, webhook.DeliveryOutcome{GiveUp: true})
		_, a, dl, err := f.Redeliver(ctx, forward.RedeliverLog{Log: db, NotFound: store.ErrNotFound}, id, nil)
		if err != nil {
			t.Fatal(err)
		}
		if a.Status != 500 || dl.State != webhook.DeliveryGivenUp || dl.Attempts != 2 {
			t.Errorf("attempt %+v, delivery %+v: want still given up", a, dl)
		}
	})

	t.Run("pending, failing, keeps its due time", func(t *testing.T) {
		db := openLog(t)
		id := queue(t, db, mustTarget(t, freeAddr(t)), time.Now(), "/h")[0]
		due := time.Now().Add(time.Hour).UTC()
		setState(t, db, id, webhook.DeliveryOutcome{NextAt: due})
		_, a, dl, err := f.Redeliver(ctx, forward.RedeliverLog{Log: db, NotFound: store.ErrNotFound}, id, nil)
		if err != nil {
			t.Fatal(err)
		}
		if a.Status != 0 || a.Error == "" || dl.State != webhook.DeliveryPending || !dl.NextAt.Equal(due) || dl.Attempts != 2 {
			t.Errorf("attempt %+v, delivery %+v: want pending, due at %s", a, dl, due)
		}
	})

	t.Run("to another target", func(t *testing.T) {
		db := openLog(t)
		down := mustTarget(t, freeAddr(t))
		tg := newTarget(t, always(204))
		to, _ := forward.ParseTarget(tg.URL.String() + "/v2")
		id := queue(t, db, down, time.Now(), "/h")[0]
		_, a, dl, err := f.Redeliver(ctx, forward.RedeliverLog{Log: db, NotFound: store.ErrNotFound}, id, to)
		if err != nil {
			t.Fatal(err)
		}
		if a.Target != tg.URL.String()+"/v2/h" || dl.State != webhook.DeliveryDelivered || dl.Attempts != 1 {
			t.Errorf("attempt %+v, delivery %+v", a, dl)
		}
	})

	t.Run("not queued", func(t *testing.T) {
		db := openLog(t)
		r := &webhook.Request{ReceivedAt: time.Now(), Method: "POST", URI: "/h"}
		if err := db.AddRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
		_, a, _, err := f.Redeliver(ctx, forward.RedeliverLog{Log: db, NotFound: store.ErrNotFound}, r.ID, mustTarget(t, freeAddr(t)))
		if !errors.Is(err, forward.ErrNotQueued) || a != nil {
			t.Errorf("Redeliver = %v, %v; want ErrNotQueued", a, err)
		}
	})

	t.Run("delivered already", func(t *testing.T) {
		db := openLog(t)
		tg := newTarget(t, always(200))
		id := queue(t, db, tg.URL, time.Now(), "/h")[0]
		setState(t, db, id, webhook.DeliveryOutcome{Delivered: true})
		_, a, dl, err := f.Redeliver(ctx, forward.RedeliverLog{Log: db, NotFound: store.ErrNotFound}, id, nil)
		if !errors.Is(err, forward.ErrAlreadyDelivered) || a != nil || dl == nil || dl.State != webhook.DeliveryDelivered {
			t.Errorf("Redeliver = %v, %+v, %v; want ErrAlreadyDelivered", a, dl, err)
		}
		if n := len(tg.requests()); n != 0 {
			t.Errorf("target saw %d requests", n)
		}
	})

	t.Run("unknown request", func(t *testing.T) {
		db := openLog(t)
		_, _, _, err := f.Redeliver(ctx, forward.RedeliverLog{Log: db, NotFound: store.ErrNotFound}, 42, nil)
		if !errors.Is(err, store.ErrNotFound) || errors.Is(err, forward.ErrNotQueued) {
			t.Errorf("Redeliver = %v; want the log's not-found", err)
		}
	})
}

func mustTarget(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := forward.ParseTarget(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// BenchmarkDeliver measures the cost of one background delivery to a target that answers 200
// at once: reading the queue and the request, sending it, and recording the attempt.
func BenchmarkDeliver(b *testing.B) {
	for _, conc := range []int{1, 8} {
		b.Run(fmt.Sprint("concurrency=", conc), func(b *testing.B) {
			db := openLog(b)
			srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
			defer srv.Close()
			base := mustTarget(b, srv.URL)
			var wg sync.WaitGroup
			for w := range 8 {
				wg.Go(func() {
					for i := w; i < b.N; i += 8 {
						queue(b, db, base, time.Now(), fmt.Sprint("/b/", i))
					}
				})
			}
			wg.Wait()
			var delivered atomic.Int64
			all := make(chan struct{})
			b.ResetTimer()
			d := start(b, forward.DelivererConfig{Log: db, Target: base, Concurrency: conc, Poll: time.Hour,
				Notify: func(e webhook.Event) {
					if delivered.Add(1) == int64(b.N) {
						close(all)
					}
				}})
			<-all
			b.StopTimer()
			d.stop()
		})
	}
}
