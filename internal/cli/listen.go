package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookctl/hookctl/internal/capture"
	"github.com/hookctl/hookctl/internal/forward"
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

On a terminal, a live list of requests opens, where each can be inspected and replayed.
Otherwise (or with --no-tui) one line is printed per request; with --json, one JSON object
per line, starting with {"event":"ready",...}.`,
		Example: `  hookctl listen --forward-to localhost:3000
  hookctl listen --forward-to http://localhost:8000/api/webhooks --timeout 10s
  NGROK_AUTHTOKEN=... hookctl listen --ngrok --forward-to 3000
  hookctl listen --relay https://hooks.example.com --forward-to 3000
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
	cmd.MarkFlagsMutuallyExclusive("ngrok", "relay")
	return cmd
}

func runListen(ctx context.Context, g *globals, o *listenOptions) error {
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
		Secrets: secrets, Generic: generic,
	}
	scfg := capture.ServeConfig{WriteTimeout: time.Minute + o.timeout + 30*time.Second, Logger: log}

	if useTUI {
		events := make(chan webhook.Event, 4096)
		hcfg.Notify = func(ev webhook.Event) {
			select {
			case events <- ev:
			default: // the UI is behind: it catches up from the log
			}
		}
		return runWithTUI(ctx, g, func(ctx context.Context) error {
			return serveAll(ctx, ingresses, creds, db, hcfg, scfg)
		}, tui.Config{
			Source:   db,
			Replayer: forward.LogReplayer{Forwarder: fwd, Log: db, Resign: forward.Resigner(func(p string) (string, bool) { v, ok := secrets[p]; return v, ok }, g.env.Now)},
			Events:   events,
			Info:     tui.Info{Ingress: local, PublicURL: public, Target: targetText, DB: db.Path()},
			Editor:   editor(g.env),
			Logger:   log,
		})
	}

	p := newPrinter(g.env.Out, o.json, g.color(), target != nil, o.status, g.env.Now)
	defer p.Close()
	hcfg.Notify = p.Notify
	if o.json {
		p.writeJSON(readyJSON{Event: "ready", Ingress: local, PublicURL: public, Target: targetText, DB: db.Path()})
	} else {
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
		fmt.Fprintf(w, "Press Ctrl-C to stop.\n\n")
		stopping := context.AfterFunc(ctx, func() {
			fmt.Fprintln(w, "Stopping: finishing requests in flight (Ctrl-C again to quit at once)")
		})
		defer stopping()
	}
	return serveAll(ctx, ingresses, creds, db, hcfg, scfg)
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
// creds is set, until ctx ends or one of them fails, which stops the others.
func serveAll(ctx context.Context, ingresses []tunnel.Ingress, creds *relay.Credentials, db *store.Store, hcfg capture.Config, scfg capture.ServeConfig) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
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
