package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookctl/hookctl/internal/capture"
	"github.com/hookctl/hookctl/internal/forward"
	"github.com/hookctl/hookctl/internal/humanize"
	"github.com/hookctl/hookctl/internal/relay"
	"github.com/hookctl/hookctl/internal/store"
	"github.com/hookctl/hookctl/internal/tui"
	"github.com/hookctl/hookctl/internal/tunnel"
	"github.com/hookctl/hookctl/internal/webhook"
)

type listenOptions struct {
	forwardTo string
	addr      string
	noTUI     bool
	json      bool
	maxBody   string
	timeout   time.Duration
	headers   []string
	status    int

	ngrok          bool
	ngrokDomain    string
	ngrokAuthtoken string
	ngrokTimeout   time.Duration

	relay      string
	relayToken string

	verify     []string
	verifyHMAC string

	ack            bool
	ackStatus      int
	ackBody        string
	retryMin       time.Duration
	retryMax       time.Duration
	giveUpAfter    time.Duration
	retry4xx       bool
	ackConcurrency int

	dedupe       bool
	dedupeWindow time.Duration
	maxLogSize   string
}

func newListenCmd(g *globals) *cobra.Command {
	o := &listenOptions{}
	cmd := &cobra.Command{
		Use:   "listen [--forward-to TARGET]",
		Short: "Receive webhooks, record them and forward them to your server",
		Long: `Listen for webhooks on a local URL, record every request in the log before anything else,
and forward it byte for byte to TARGET. The sender gets your server's response.

TARGET is a port (3000), a host and port (localhost:3000) or a URL with a path
(http://localhost:3000/webhooks); the request path is appended to the target's path.
Without --forward-to, hookctl only records and answers each request itself.

With --ack, each request is answered as soon as it is recorded, and delivered to TARGET in the
background from a queue kept in the log: refused connections, timeouts and 5xx answers are
retried with exponential backoff until --give-up-after, in arrival order. Deliveries still
pending when hookctl stops resume when it starts again; see them with
'hookctl requests list --delivery retrying' and send them at once with 'hookctl retry'.

Redeliveries of an event already in the log (the same Stripe event id, GitHub delivery,
webhook-id, Shopify webhook id, ...; for other senders the same body within --dedupe-window)
are marked as duplicates; with --dedupe they are recorded but not forwarded.

On a terminal, a live list of requests opens, where each can be inspected and replayed.
Otherwise (or with --no-tui) one line is printed per request; with --json, one JSON object
per line, starting with {"event":"ready",...}.`,
		Example: `  hookctl listen --forward-to localhost:3000
  hookctl listen --forward-to http://localhost:8000/api/webhooks --timeout 10s
  NGROK_AUTHTOKEN=... hookctl listen --ngrok --forward-to 3000
  hookctl listen --relay https://hooks.example.com --forward-to 3000
  hookctl listen --ack --forward-to 3000 --give-up-after 1h
  hookctl listen --json | jq .`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runListen(cmd.Context(), g, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.forwardTo, "forward-to", "", "where to forward requests: `TARGET` port, host:port or URL")
	f.StringVar(&o.addr, "addr", "127.0.0.1:8765", "address of the local ingress")
	f.BoolVar(&o.noTUI, "no-tui", false, "print one line per request instead of the terminal UI")
	f.BoolVar(&o.json, "json", false, "print one JSON object per line: ready, request and attempt events")
	f.StringVar(&o.maxBody, "max-body", "25MiB", "largest request body accepted; larger ones get 413")
	f.DurationVar(&o.timeout, "timeout", forward.DefaultTimeout, "how long the target may take to answer; then the sender gets 504")
	f.StringArrayVarP(&o.headers, "header", "H", nil, "add a header to forwarded requests (\"Key: Value\", repeatable)")
	f.IntVar(&o.status, "status", http.StatusOK, "status to answer with when there is no --forward-to")
	f.BoolVar(&o.ngrok, "ngrok", false, "also receive webhooks on a public ngrok URL (needs an ngrok authtoken)")
	f.StringVar(&o.ngrokDomain, "ngrok-domain", "", "reserved ngrok `DOMAIN` to use for the public URL")
	f.StringVar(&o.ngrokAuthtoken, "ngrok-authtoken", "", "ngrok authtoken (default $NGROK_AUTHTOKEN)")
	f.DurationVar(&o.ngrokTimeout, "ngrok-timeout", 10*time.Second, "how long to try to reach ngrok before giving up")
	f.StringVar(&o.relay, "relay", "", "also receive webhooks through the self-hosted relay at `URL` (see hookctl relay serve)")
	f.StringVar(&o.relayToken, "relay-token", "", "operator token for creating a channel on the relay (env HOOKCTL_RELAY_TOKEN)")
	f.StringArrayVar(&o.verify, "verify", nil, "verify signatures: `PROVIDER=SECRET` (repeatable; also $HOOKCTL_SECRET_<PROVIDER>)")
	f.StringVar(&o.verifyHMAC, "verify-hmac", "", "a generic HMAC scheme, `HEADER:ALGORITHM:ENCODING[:PREFIX]`, verified with --verify hmac=SECRET")
	f.BoolVar(&o.ack, "ack", false, "answer senders as soon as a request is recorded and deliver it in the background, with retries")
	f.IntVar(&o.ackStatus, "ack-status", http.StatusOK, "status answered with --ack")
	f.StringVar(&o.ackBody, "ack-body", `{"received":true}`, "body answered with --ack (JSON, or text sent as text/plain)")
	f.DurationVar(&o.retryMin, "retry-min", time.Second, "with --ack: delay before the first retry; it doubles after each failure")
	f.DurationVar(&o.retryMax, "retry-max", 5*time.Minute, "with --ack: longest delay between retries")
	f.DurationVar(&o.giveUpAfter, "give-up-after", 24*time.Hour, "with --ack: stop retrying a request this long after it arrived")
	f.BoolVar(&o.retry4xx, "retry-4xx", false, "with --ack: also retry 4xx answers (408 and 429 are always retried)")
	f.IntVar(&o.ackConcurrency, "ack-concurrency", 1, "with --ack: deliveries in flight at once; 1 keeps arrival order")
	f.BoolVar(&o.dedupe, "dedupe", false, "record redeliveries of an event already in the log, but do not forward them")
	f.DurationVar(&o.dedupeWindow, "dedupe-window", store.DefaultDedupeWindow, "how far back a request without a provider event id is compared by body")
	f.StringVar(&o.maxLogSize, "max-log-size", "", "keep the log under this `SIZE` (such as 1GiB) by pruning the oldest requests; pending deliveries are kept")
	cmd.MarkFlagsMutuallyExclusive("ngrok", "relay")
	return cmd
}

// minLogSize is the smallest --max-log-size: below it the log's own tables and index fill it.
const minLogSize = 1 << 20

// ackConfig validates the --ack flags and returns the handler's ack settings and the retry
// policy; nil without --ack.
func (o *listenOptions) ackConfig() (*capture.Ack, forward.RetryPolicy, error) {
	var p forward.RetryPolicy
	if !o.ack {
		return nil, p, nil
	}
	if o.ackStatus < 200 || o.ackStatus > 299 {
		return nil, p, fmt.Errorf("--ack-status %d: senders take only a 2xx answer as received", o.ackStatus)
	}
	for _, d := range []struct {
		flag string
		v    time.Duration
	}{{"--retry-min", o.retryMin}, {"--retry-max", o.retryMax}, {"--give-up-after", o.giveUpAfter}} {
		if d.v <= 0 {
			return nil, p, fmt.Errorf("%s must be positive, such as 30s", d.flag)
		}
	}
	if o.retryMax < o.retryMin {
		return nil, p, fmt.Errorf("--retry-max %s is shorter than --retry-min %s", o.retryMax, o.retryMin)
	}
	if o.ackConcurrency < 1 {
		return nil, p, fmt.Errorf("--ack-concurrency must be at least 1, got %d", o.ackConcurrency)
	}
	ack := &capture.Ack{Status: o.ackStatus, Body: []byte(o.ackBody), ContentType: "application/json"}
	if !json.Valid(ack.Body) {
		ack.ContentType = "text/plain; charset=utf-8"
	}
	p = forward.RetryPolicy{MinBackoff: o.retryMin, MaxBackoff: o.retryMax, GiveUpAfter: o.giveUpAfter, Retry4xx: o.retry4xx}
	return ack, p, nil
}

// listenGCPercent is the garbage collector's target while listening, unless GOGC is set. A
// listener allocates a few short-lived buffers per request over a small live heap; collecting
// at 200% growth instead of 100% halves the collector's share of the CPU for a few MiB more
// (docs/performance.md).
const listenGCPercent = 200

func runListen(ctx context.Context, g *globals, o *listenOptions) error {
	if g.env.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(listenGCPercent))
	}
	var target *url.URL
	if o.forwardTo != "" {
		t, err := forward.ParseTarget(o.forwardTo)
		if err != nil {
			return fmt.Errorf("--forward-to: %w", err)
		}
		target = t
	}
	maxBody, err := capture.ParseSize(o.maxBody)
	if err != nil {
		return fmt.Errorf("--max-body: %w", err)
	}
	if o.timeout <= 0 {
		return errors.New("--timeout must be positive, such as 30s")
	}
	if o.status < 100 || o.status > 599 {
		return fmt.Errorf("--status %d is not an HTTP status", o.status)
	}
	extra, err := parseHeaders(o.headers)
	if err != nil {
		return err
	}
	secrets, generic, err := parseSecrets(g.env, o.verify, o.verifyHMAC)
	if err != nil {
		return err
	}
	ack, policy, err := o.ackConfig()
	if err != nil {
		return err
	}
	if o.dedupeWindow <= 0 {
		return errors.New("--dedupe-window must be positive, such as 10m")
	}
	var maxLogSize int64
	if o.maxLogSize != "" {
		if maxLogSize, err = capture.ParseSize(o.maxLogSize); err != nil {
			return fmt.Errorf("--max-log-size: %w", err)
		}
		if maxLogSize < minLogSize {
			return fmt.Errorf("--max-log-size %s is too small: give at least %s", o.maxLogSize, humanize.Size(minLogSize))
		}
	}

	useTUI := g.env.OutIsTTY && !o.noTUI && !o.json
	log, closeLog, err := g.sessionLogger(useTUI)
	if err != nil {
		return err
	}
	defer closeLog()
	db, err := g.openLog(ctx, log, false)
	if err != nil {
		return err
	}
	defer db.Close()
	ingresses, err := openIngresses(ctx, g, o, log)
	if err != nil {
		return err
	}
	local, public := ingresses[0].URL(), ""
	if tunnel.Exposed(ingresses[0]) {
		fmt.Fprintf(g.env.ErrOut, "warning: --addr %s accepts requests from other machines, not only this one; use 127.0.0.1 to keep it local\n", o.addr)
	}
	if len(ingresses) > 1 {
		public = ingresses[1].URL()
	}
	var creds *relay.Credentials
	if o.relay != "" {
		token := o.relayToken
		if token == "" {
			token = g.env.Getenv("HOOKCTL_RELAY_TOKEN")
		}
		path, err := g.xdgPath("XDG_CONFIG_HOME", ".config", "relay-channels.json")
		if err != nil {
			return err
		}
		if creds, err = relayChannel(ctx, path, o.relay, token); err != nil {
			return err
		}
		public = creds.PublicURL
	}
	fwd := forward.New(forward.Config{Timeout: o.timeout, Header: extra})
	defer fwd.Close()
	targetText := ""
	if target != nil {
		targetText = target.String()
	}
	hcfg := capture.Config{
		Log: db, Forwarder: fwd, Target: target, Status: o.status, MaxBody: maxBody, Logger: log,
		Secrets: secrets, Generic: generic, Ack: ack, Dedupe: o.dedupe, DedupeWindow: o.dedupeWindow,
	}
	scfg := capture.ServeConfig{WriteTimeout: time.Minute + o.timeout + 30*time.Second, Logger: log}
	// background runs beside the ingresses: the delivery queue, the size limit.
	var background []func(context.Context)
	pending := map[string]int{}
	if ack != nil && target != nil {
		d, err := forward.NewDeliverer(forward.DelivererConfig{
			Log: db, Forwarder: fwd, Target: target, Policy: policy, Concurrency: o.ackConcurrency, Logger: log, Now: g.env.Now,
			// hcfg.Notify is set below, before anything is served.
			Notify: func(ev webhook.Event) { hcfg.Notify(ev) },
		})
		if err != nil {
			return err
		}
		ack.Queued = d.Wake
		background = append(background, func(ctx context.Context) { d.Run(ctx) })
		if pending, err = db.DeliveryTargets(ctx); err != nil {
			return err
		}
	}
	if maxLogSize > 0 {
		background = append(background, func(ctx context.Context) {
			db.LimitSize(ctx, maxLogSize, time.Minute, func(res store.PruneResult, err error) {
				switch {
				case err != nil:
					log.Error("limit log size", "err", err)
				case res.OverLimit:
					log.Warn("the log is over --max-log-size, and what is left cannot be pruned: requests whose delivery is pending",
						"deleted", res.Deleted, "kept_pending", res.KeptPending, "size", res.SizeAfter, "max", maxLogSize)
				default:
					log.Info("pruned the log to stay under --max-log-size", "deleted", res.Deleted, "kept_pending", res.KeptPending,
						"size_before", res.SizeBefore, "size_after", res.SizeAfter)
				}
			})
		})
	}
	serve := func(ctx context.Context) error { return serveAll(ctx, ingresses, creds, db, hcfg, scfg, background...) }

	if useTUI {
		events := make(chan webhook.Event, 4096)
		hcfg.Notify = func(ev webhook.Event) {
			select {
			case events <- ev:
			default: // the UI is behind: it catches up from the log
			}
		}
		return runWithTUI(ctx, g, serve, tui.Config{
			Source:   db,
			Replayer: forward.LogReplayer{Forwarder: fwd, Log: db, Resign: forward.Resigner(func(p string) (string, bool) { v, ok := secrets[p]; return v, ok }, g.env.Now)},
			Events:   events,
			Info:     tui.Info{Ingress: local, PublicURL: public, Target: targetText, DB: db.Path()},
			Editor:   editor(g.env),
			Logger:   log,
		})
	}

	answered := o.status
	if ack != nil {
		answered = ack.Status
	}
	if o.json {
		writeJSONLine(g.env.Out, readyJSON{Event: "ready", Ingress: local, PublicURL: public, Target: targetText, DB: db.Path()})
	}
	p := newPrinter(g.env.Out, o.json, g.color(), target != nil, o.dedupe, answered, g.env.Now)
	defer p.Close()
	hcfg.Notify = p.Notify
	if !o.json {
		w := g.env.ErrOut
		if public != "" {
			fmt.Fprintf(w, "Public URL        %s\n", public)
		}
		fmt.Fprintf(w, "Send webhooks to  %s\n", local)
		if target != nil {
			fmt.Fprintf(w, "Forwarding to     %s\n", targetText)
		} else {
			fmt.Fprintf(w, "Forwarding to     nowhere: answering %d (add --forward-to to forward)\n", o.status)
		}
		fmt.Fprintf(w, "Recording to      %s\n", db.Path())
		if ack != nil {
			fmt.Fprintf(w, "Answering         %d at once; delivering in the background with retries\n", ack.Status)
		}
		if n := pending[targetText]; n > 0 {
			fmt.Fprintf(w, "Resuming          %s\n", humanize.Count(n, "queued request"))
		}
		if others := len(pending) - min(pending[targetText], 1); others > 0 {
			fmt.Fprintf(w, "Note              deliveries are pending for %s (hookctl requests list --delivery queued)\n", humanize.Count(others, "other target"))
		}
		fmt.Fprintf(w, "Press Ctrl-C to stop.\n\n")
		stopping := context.AfterFunc(ctx, func() {
			fmt.Fprintln(w, "Stopping: finishing requests in flight (Ctrl-C again to quit at once)")
		})
		defer stopping()
	}
	return serve(ctx)
}

// openIngresses opens the local ingress and, with --ngrok, the public one after it.
func openIngresses(ctx context.Context, g *globals, o *listenOptions, log *slog.Logger) ([]tunnel.Ingress, error) {
	local, err := tunnel.Local(o.addr)
	if err != nil {
		return nil, err
	}
	if !o.ngrok {
		return []tunnel.Ingress{local}, nil
	}
	token := o.ngrokAuthtoken
	if token == "" {
		token = g.env.Getenv("NGROK_AUTHTOKEN")
	}
	public, err := tunnel.Ngrok(ctx, tunnel.NgrokConfig{Authtoken: token, Domain: o.ngrokDomain, Timeout: o.ngrokTimeout, Logger: log})
	if err != nil {
		local.Close()
		return nil, err
	}
	return []tunnel.Ingress{local, public}, nil
}

// serveAll serves the capture handler on every ingress, and through the relay client when
// creds is set, until ctx ends or one of them fails, which stops the others. The background
// tasks run meanwhile, and are waited for once serving has stopped.
func serveAll(ctx context.Context, ingresses []tunnel.Ingress, creds *relay.Credentials, db *store.Store, hcfg capture.Config,
	scfg capture.ServeConfig, background ...func(context.Context)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// A log that went corrupt stops everything: every request would be refused.
	fatal := make(chan error, 1)
	hcfg.Fatal = func(err error) {
		select {
		case fatal <- fmt.Errorf("%s: %w; stopped listening (move the file aside or choose another log with --db)", db.Path(), err):
		default:
		}
		cancel()
	}
	var tasks sync.WaitGroup
	defer tasks.Wait()
	for _, task := range background {
		tasks.Go(func() { task(ctx) })
	}
	n := len(ingresses)
	errs := make(chan error, n+1)
	if creds != nil {
		n++
		cfg := hcfg
		cfg.Ingress = webhook.IngressRelay
		notify := hcfg.Notify
		go func() {
			err := relay.RunClient(ctx, relay.ClientConfig{
				Credentials: *creds,
				Handler:     capture.New(cfg),
				Seen: func(ctx context.Context, ref string) (bool, error) {
					_, err := db.RequestIDByRef(ctx, ref)
					if errors.Is(err, store.ErrNotFound) {
						return false, nil
					}
					return err == nil, err
				},
				WithRequest: capture.WithReceived,
				OnState: func(st relay.State, err error) {
					if notify == nil {
						return
					}
					in := &webhook.IngressState{Name: webhook.IngressRelay, State: string(st)}
					if err != nil {
						in.Error = err.Error()
					}
					notify(webhook.Event{Kind: webhook.EventIngress, Ingress: in})
				},
				Logger: hcfg.Logger,
			})
			if err != nil {
				err = fmt.Errorf("relay: %w", err)
			}
			cancel()
			errs <- err
		}()
	}
	for _, in := range ingresses {
		cfg := hcfg
		cfg.Ingress = in.Name()
		h := capture.New(cfg)
		go func() {
			err := capture.Serve(ctx, in, h, scfg)
			if err != nil {
				err = fmt.Errorf("%s ingress: %w", in.Name(), err)
			}
			cancel()
			errs <- err
		}()
	}
	var all []error
	for range n {
		all = append(all, <-errs)
	}
	// Attempts are recorded after their senders were answered: have them recorded, and
	// their events sent, before the printer or the UI goes away.
	if err := db.Flush(context.WithoutCancel(ctx)); err != nil && !errors.Is(err, store.ErrClosed) {
		all = append(all, err)
	}
	select {
	case err := <-fatal:
		return err
	default:
	}
	return errors.Join(all...)
}

// runWithTUI runs serve while the terminal UI runs in the foreground; quitting the UI stops
// serving, and serving that stops on its own ends the UI.
func runWithTUI(ctx context.Context, g *globals, serve func(context.Context) error, cfg tui.Config) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	served := make(chan error, 1)
	go func() {
		served <- serve(ctx)
		cancel()
	}()
	uiErr := tui.Run(ctx, cfg, tui.Terminal{In: g.env.In, Out: g.env.Out, NoColor: !g.color()})
	cancel()
	return errors.Join(uiErr, <-served)
}

// parseHeaders parses -H values ("Key: Value").
func parseHeaders(in []string) (webhook.Headers, error) {
	var out webhook.Headers
	for _, h := range in {
		name, value, ok := strings.Cut(h, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t\r\n") || strings.ContainsAny(value, "\r\n") {
			return nil, fmt.Errorf("-H %q: want \"Key: Value\"", h)
		}
		out = append(out, webhook.Field{Name: name, Value: strings.TrimSpace(value)})
	}
	return out, nil
}
