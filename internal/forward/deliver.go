package forward

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hookctl/hookctl/internal/webhook"
)

// Defaults for RetryPolicy's and DelivererConfig's zero values.
const (
	DefaultMinBackoff  = time.Second
	DefaultMaxBackoff  = 5 * time.Minute
	DefaultGiveUpAfter = 24 * time.Hour
	DefaultPoll        = time.Second
)

// maxShutdownGrace bounds how long an attempt in flight may run on once Run's context ends.
const maxShutdownGrace = 5 * time.Second

// Bounds of the pause after the log could not be read or written, so that a failing log is
// not hammered.
const (
	minLogRetry = 50 * time.Millisecond
	maxLogRetry = 10 * time.Second
)

// ErrNotQueued is returned, wrapped, by Redeliver for a request that has no queued delivery:
// it was not received with listen --ack.
var ErrNotQueued = errors.New("has no queued delivery (it was not received with listen --ack)")

// ErrAlreadyDelivered is returned, wrapped, by Redeliver for a request whose delivery
// succeeded already.
var ErrAlreadyDelivered = errors.New("was delivered already")

// RetryPolicy decides what happens after a failed attempt of a background delivery. Zero
// values get the defaults.
type RetryPolicy struct {
	// MinBackoff is the delay before the first retry; 0 means 1s. Each further failure doubles
	// it.
	MinBackoff time.Duration
	// MaxBackoff caps the delay between attempts, Retry-After included; 0 means 5m.
	MaxBackoff time.Duration
	// GiveUpAfter is how long after the delivery was queued (Delivery.FirstAt) retries stop;
	// 0 means 24h.
	GiveUpAfter time.Duration
	// Retry4xx retries every 4xx answer too; 408 and 429 are always retried.
	Retry4xx bool
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MinBackoff <= 0 {
		p.MinBackoff = DefaultMinBackoff
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = DefaultMaxBackoff
	}
	if p.GiveUpAfter <= 0 {
		p.GiveUpAfter = DefaultGiveUpAfter
	}
	return p
}

// Outcome returns what an attempt decides, given the delivery before it (d.Attempts attempts
// already made), the attempt's result res, the current time and a jitter function (nil means
// uniformly random in [d/2, d]).
//
// Whenever the target answered, its status decides, even if the response body then broke
// off: 2xx is delivered; 5xx, 408, 429 (and any 4xx with Retry4xx) are retried; anything else
// is given up at once. No answer (refused, reset, timeout) is retried, except that an
// attempt cancelled by shutdown is simply due again at once. A retry is due after
// MinBackoff·2^(n-1) for the n-th failed attempt, capped at MaxBackoff and then jittered, or
// after the Retry-After of a 429 or 503 when that is longer (still capped at MaxBackoff). A
// retry that would fall after FirstAt+GiveUpAfter gives up instead; a delivery with no FirstAt
// is not given up for its age.
func (p RetryPolicy) Outcome(d webhook.Delivery, res *Result, now time.Time, jitter func(time.Duration) time.Duration) webhook.DeliveryOutcome {
	status := res.Attempt.Status
	switch {
	case status >= 200 && status < 300:
		return webhook.DeliveryOutcome{Delivered: true}
	case status == 0 && res.Failure == FailureCanceled:
		return webhook.DeliveryOutcome{NextAt: now}
	case status != 0 && !p.retries(status):
		return webhook.DeliveryOutcome{GiveUp: true}
	}
	p = p.withDefaults()
	if jitter == nil {
		jitter = uniformJitter
	}
	delay := min(max(jitter(p.backoff(d.Attempts+1)), 0), p.MaxBackoff)
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		if ra, ok := retryAfter(res.Attempt.Header.Get("Retry-After"), now); ok && ra > delay {
			delay = min(ra, p.MaxBackoff)
		}
	}
	next := now.Add(delay)
	if !d.FirstAt.IsZero() && next.After(d.FirstAt.Add(p.GiveUpAfter)) {
		return webhook.DeliveryOutcome{GiveUp: true}
	}
	return webhook.DeliveryOutcome{NextAt: next}
}

// retries reports whether an answer with status is worth another attempt.
func (p RetryPolicy) retries(status int) bool {
	switch {
	case status >= 500, status == http.StatusRequestTimeout, status == http.StatusTooManyRequests:
		return true
	case status >= 400 && status < 500:
		return p.Retry4xx
	}
	return false
}

// backoff returns the delay after the n-th failed attempt, before jitter.
func (p RetryPolicy) backoff(n int) time.Duration {
	d := p.MinBackoff
	for i := 1; i < n && d < p.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, p.MaxBackoff)
}

// uniformJitter returns a delay uniformly random in [d/2, d].
func uniformJitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	return d - rand.N(d/2+1)
}

// retryAfter parses a Retry-After value, delay-seconds or an HTTP date, into a delay from now.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		return time.Duration(min(secs, math.MaxInt64/int64(time.Second))) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// DeliveryLog is the part of the log a Deliverer needs (*store.Store implements it).
type DeliveryLog interface {
	Request(ctx context.Context, id int64) (*webhook.Request, error)
	PendingDeliveries(ctx context.Context, target string, limit int, byDue bool) ([]webhook.Delivery, error)
	FinishDelivery(ctx context.Context, a *webhook.Attempt, out webhook.DeliveryOutcome) (*webhook.Delivery, error)
}

// DelivererConfig configures a Deliverer. Zero values get the defaults.
type DelivererConfig struct {
	// Log holds the queue. Required.
	Log DeliveryLog
	// Forwarder sends the attempts. nil means New(Config{Now: Now}), closed when Run returns.
	Forwarder *Forwarder
	// Target is the base URL delivered to. Required. The deliveries whose Target equals
	// Target.String() are this Deliverer's; each goes to JoinURI(Target, request.URI).
	Target *url.URL
	// Policy decides retries and give-ups.
	Policy RetryPolicy
	// Concurrency is how many deliveries may be in flight. 0 or 1 delivers one at a time in
	// arrival order: a later request waits while an earlier one is retrying (head of line).
	// N > 1 delivers up to N at once, soonest due first, without keeping their order.
	Concurrency int
	// Notify, when not nil, is called after each attempt with an EventAttempt carrying the
	// request, the recorded attempt and the delivery's state after it. It must not block; with
	// Concurrency > 1 it may be called from several goroutines at once.
	Notify func(webhook.Event)
	// Logger receives diagnostics. nil discards them.
	Logger *slog.Logger
	// Now returns the current time. nil means time.Now.
	Now func() time.Time
	// Jitter returns the delay actually used for a computed backoff d. nil means uniformly
	// random in [d/2, d].
	Jitter func(time.Duration) time.Duration
	// Poll is how often the log is read for work queued or changed by other processes
	// (hookctl retry, another hookctl). 0 means 1s.
	Poll time.Duration
}

// Deliverer delivers the queued background deliveries of one target, retrying them by its
// policy, until its Run's context ends. Anything not delivered stays queued in the log, where
// the next Deliverer resumes it.
type Deliverer struct {
	log     DeliveryLog
	fwd     *Forwarder
	ownFwd  bool
	target  *url.URL
	key     string
	policy  RetryPolicy
	conc    int
	notify  func(webhook.Event)
	logger  *slog.Logger
	now     func() time.Time
	jitter  func(time.Duration) time.Duration
	poll    time.Duration
	grace   time.Duration
	wake    chan struct{}
	running atomic.Bool
}

// NewDeliverer returns a Deliverer configured by cfg. Log and Target are required.
func NewDeliverer(cfg DelivererConfig) (*Deliverer, error) {
	if cfg.Log == nil {
		return nil, errors.New("new deliverer: no log")
	}
	if cfg.Target == nil {
		return nil, errors.New("new deliverer: no target")
	}
	d := &Deliverer{
		log: cfg.Log, fwd: cfg.Forwarder, target: cfg.Target, key: cfg.Target.String(),
		policy: cfg.Policy.withDefaults(), conc: max(cfg.Concurrency, 1), notify: cfg.Notify,
		logger: cfg.Logger, now: cfg.Now, jitter: cfg.Jitter, poll: cfg.Poll,
		wake: make(chan struct{}, 1),
	}
	if d.now == nil {
		d.now = time.Now
	}
	if d.fwd == nil {
		d.fwd, d.ownFwd = New(Config{Now: d.now}), true
	}
	if d.logger == nil {
		d.logger = slog.New(slog.DiscardHandler)
	}
	if d.jitter == nil {
		d.jitter = uniformJitter
	}
	if d.poll <= 0 {
		d.poll = DefaultPoll
	}
	d.grace = min(d.fwd.Timeout(), maxShutdownGrace)
	return d, nil
}

// Wake tells the Deliverer that something was queued, so that it looks at the log now rather
// than at its next poll. It never blocks; wakes that arrive while one is pending coalesce.
func (d *Deliverer) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run delivers the queue until ctx ends, then returns nil. Once ctx ends no new attempt
// starts; an attempt in flight gets a short grace (the forwarder's timeout, at most 5s) to
// finish before it is cancelled, and its outcome is recorded either way before Run returns (a
// cancelled attempt is due again at once). Run returns an error only when it is running
// already; it may be called again once it has returned.
func (d *Deliverer) Run(ctx context.Context) error {
	if !d.running.CompareAndSwap(false, true) {
		return errors.New("run deliverer: already running")
	}
	defer d.running.Store(false)
	if d.ownFwd {
		defer d.fwd.Close()
	}
	tick := time.NewTicker(d.poll)
	defer tick.Stop()
	d.logger.Debug("delivering", "target", d.key, "concurrency", d.conc)
	if d.conc == 1 {
		d.runOrdered(ctx, tick.C)
	} else {
		d.runConcurrent(ctx, tick.C)
	}
	d.logger.Debug("delivery stopped", "target", d.key)
	return nil
}

// runOrdered delivers one at a time in arrival order: the oldest pending delivery is the
// head, and nothing behind it is attempted until it is delivered or given up.
func (d *Deliverer) runOrdered(ctx context.Context, tick <-chan time.Time) {
	var pause logRetry
	for ctx.Err() == nil {
		ds, err := d.log.PendingDeliveries(ctx, d.key, 1, false)
		if err != nil {
			if ctx.Err() == nil {
				d.logger.Error("read delivery queue", "target", d.key, "err", err)
				sleep(ctx, pause.next())
			}
			continue
		}
		if len(ds) == 0 {
			pause.reset()
			d.wait(ctx, tick, 0)
			continue
		}
		head := ds[0]
		if wait := head.NextAt.Sub(d.now()); wait > 0 {
			pause.reset()
			d.wait(ctx, tick, wait) // or re-read early: another process may have delivered it
			continue
		}
		if err := d.attempt(ctx, head); err != nil {
			d.logger.Error("deliver", "request", head.RequestID, "target", d.key, "err", err)
			sleep(ctx, pause.next())
			continue
		}
		pause.reset()
	}
}

// wait returns when ctx ends, Wake is called, the poll ticks, or, when due > 0, due has passed.
func (d *Deliverer) wait(ctx context.Context, tick <-chan time.Time, due time.Duration) {
	var timer <-chan time.Time
	if due > 0 {
		t := time.NewTimer(due)
		defer t.Stop()
		timer = t.C
	}
	select {
	case <-ctx.Done():
	case <-d.wake:
	case <-tick:
	case <-timer:
	}
}

// finished reports the end of one delivery's attempt in concurrent mode.
type finished struct {
	id  int64
	err error
}

// runConcurrent keeps up to d.conc deliveries in flight, soonest due first.
func (d *Deliverer) runConcurrent(ctx context.Context, tick <-chan time.Time) {
	inflight := map[int64]bool{}
	done := make(chan finished)
	var pause logRetry
	var hold <-chan time.Time // set while the log is failing: no reads until it fires
	for ctx.Err() == nil {
		var due <-chan time.Time
		var timer *time.Timer
		if free := d.conc - len(inflight); free > 0 && hold == nil {
			// In-flight deliveries are pending too and due, so they come first: d.conc rows
			// hold at least free others.
			ds, err := d.log.PendingDeliveries(ctx, d.key, d.conc, true)
			if err != nil {
				if ctx.Err() != nil {
					break
				}
				d.logger.Error("read delivery queue", "target", d.key, "err", err)
				hold = time.After(pause.next())
			}
			now := d.now()
			for _, dl := range ds {
				if inflight[dl.RequestID] {
					continue
				}
				if wait := dl.NextAt.Sub(now); wait > 0 {
					timer = time.NewTimer(wait) // the soonest, as the rows are by due time
					due = timer.C
					break
				}
				if free == 0 {
					break
				}
				inflight[dl.RequestID] = true
				free--
				go func() {
					done <- finished{dl.RequestID, d.attempt(ctx, dl)}
				}()
			}
		}
		select {
		case f := <-done:
			delete(inflight, f.id)
			if f.err != nil {
				d.logger.Error("deliver", "request", f.id, "target", d.key, "err", f.err)
				hold = time.After(pause.next())
			} else {
				pause.reset()
			}
		case <-hold:
			hold = nil
		case <-d.wake:
		case <-tick:
		case <-due:
		case <-ctx.Done():
		}
		if timer != nil {
			timer.Stop()
		}
	}
	for len(inflight) > 0 {
		delete(inflight, (<-done).id)
	}
}

// attempt makes one attempt of dl, records it with its outcome, and notifies. It returns an
// error when the request could not be read or the attempt could not be recorded before
// shutdown; the delivery then stays as it was in the log.
func (d *Deliverer) attempt(ctx context.Context, dl webhook.Delivery) error {
	req, err := d.log.Request(ctx, dl.RequestID)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("read request %d: %w", dl.RequestID, err)
	}
	if ctx.Err() != nil {
		return nil // shutting down: take no new work
	}
	kind := webhook.KindForward
	if dl.Attempts > 0 {
		kind = webhook.KindRedelivery
	}
	actx, release := d.attemptContext(ctx)
	res := d.fwd.Send(actx, req, JoinURI(d.target, req.URI), kind)
	res.Finish(io.Discard)
	release()
	out := d.policy.Outcome(dl, res, d.now(), d.jitter)
	after, err := d.record(ctx, &res.Attempt, out)
	if err != nil {
		return err
	}
	switch {
	case after.State == webhook.DeliveryGivenUp:
		d.logger.Warn("delivery given up", "request", req.ID, "target", res.Attempt.Target,
			"attempts", after.Attempts, "status", res.Attempt.Status, "err", res.Attempt.Error)
	default:
		d.logger.Debug("delivery attempt", "request", req.ID, "target", res.Attempt.Target,
			"status", res.Attempt.Status, "err", res.Attempt.Error, "state", after.Status(), "next", after.NextAt)
	}
	if d.notify != nil {
		d.notify(webhook.Event{Kind: webhook.EventAttempt, Request: req, Attempt: &res.Attempt, Delivery: after})
	}
	return nil
}

// attemptContext returns the context of one attempt: it outlives ctx by d.grace, so that an
// attempt in flight at shutdown may finish. release must be called when the attempt is over.
func (d *Deliverer) attemptContext(ctx context.Context) (actx context.Context, release func()) {
	actx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() {
		t := time.NewTimer(d.grace)
		defer t.Stop()
		select {
		case <-t.C:
			cancel()
		case <-actx.Done():
		}
	})
	return actx, func() {
		stop()
		cancel()
	}
}

// record stores a with its outcome. A failure is logged and retried after a pause, rather
// than attempting the delivery again (the target may have accepted it), until it succeeds or
// ctx ends; the write itself is not cut short by ctx ending.
func (d *Deliverer) record(ctx context.Context, a *webhook.Attempt, out webhook.DeliveryOutcome) (*webhook.Delivery, error) {
	wctx := context.WithoutCancel(ctx)
	var pause logRetry
	for {
		after, err := d.log.FinishDelivery(wctx, a, out)
		if err == nil {
			return after, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("record attempt of request %d: %w", a.RequestID, err)
		}
		d.logger.Error("record delivery attempt", "request", a.RequestID, "target", a.Target, "err", err)
		if !sleep(ctx, pause.next()) {
			return nil, fmt.Errorf("record attempt of request %d: %w", a.RequestID, err)
		}
	}
}

// logRetry is the growing pause after failures to read or write the log.
type logRetry struct{ d time.Duration }

func (r *logRetry) next() time.Duration {
	r.d = min(max(2*r.d, minLogRetry), maxLogRetry)
	return r.d
}

func (r *logRetry) reset() { r.d = 0 }

// sleep waits for d or until ctx ends, and reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// QueueLog is the part of the log that Redeliver reads and writes (*store.Store implements it).
type QueueLog interface {
	Request(ctx context.Context, id int64) (*webhook.Request, error)
	Delivery(ctx context.Context, requestID int64) (*webhook.Delivery, error)
	FinishDelivery(ctx context.Context, a *webhook.Attempt, out webhook.DeliveryOutcome) (*webhook.Delivery, error)
}

// RedeliverLog is the log that Redeliver works on: for the store,
// RedeliverLog{Log: db, NotFound: store.ErrNotFound}.
type RedeliverLog struct {
	// Log holds the request and its delivery.
	Log QueueLog
	// NotFound is the sentinel that Log.Delivery's error wraps for a request that has no
	// delivery; Redeliver reports such an error as ErrNotQueued. nil passes every error on as
	// it is.
	NotFound error
}

// Redeliver makes one attempt now, of kind redelivery, to deliver request id: to to (the
// request URI appended) when to is not nil, else to its delivery's target. The attempt is
// recorded against the delivery: a 2xx answer marks it delivered, even one given up; any
// other result leaves its state and due time as they were. It returns the request, the
// recorded attempt, and the delivery as the log holds it after the attempt. A request with no delivery
// gives an error wrapping ErrNotQueued, and one delivered already ErrAlreadyDelivered;
// neither is attempted. An attempt that got no response is returned without error.
func (f *Forwarder) Redeliver(ctx context.Context, log RedeliverLog, id int64, to *url.URL) (*webhook.Request, *webhook.Attempt, *webhook.Delivery, error) {
	if log.Log == nil {
		return nil, nil, nil, errors.New("redeliver: no log")
	}
	req, err := log.Log.Request(ctx, id)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("redeliver: %w", err)
	}
	d, err := log.Log.Delivery(ctx, id)
	switch {
	case err != nil && log.NotFound != nil && errors.Is(err, log.NotFound), err == nil && (d == nil || d.State == ""):
		return req, nil, nil, fmt.Errorf("redeliver: request %d %w", id, ErrNotQueued)
	case err != nil:
		return req, nil, nil, fmt.Errorf("redeliver: %w", err)
	case d.State == webhook.DeliveryDelivered:
		return req, nil, d, fmt.Errorf("redeliver: request %d %w", id, ErrAlreadyDelivered)
	}
	var target string
	if to != nil {
		target = JoinURI(to, req.URI)
	} else {
		base, err := url.Parse(d.Target)
		if err != nil {
			return req, nil, d, fmt.Errorf("redeliver: request %d: %w %q: %v", id, ErrBadTarget, d.Target, err)
		}
		target = JoinURI(base, req.URI)
	}
	res := f.Send(ctx, req, target, webhook.KindRedelivery)
	res.Finish(io.Discard)
	out := webhook.DeliveryOutcome{Delivered: res.Attempt.Status >= 200 && res.Attempt.Status < 300}
	// Record the attempt even when ctx ended during it: the target may have seen it.
	after, err := log.Log.FinishDelivery(context.WithoutCancel(ctx), &res.Attempt, out)
	if err != nil {
		return req, &res.Attempt, d, fmt.Errorf("redeliver: record attempt of request %d: %w", id, err)
	}
	return req, &res.Attempt, after, nil
}
