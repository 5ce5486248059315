package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookctl/hookctl/internal/capture"
	"github.com/hookctl/hookctl/internal/forward"
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
	ingress, err := tunnel.Local(o.addr)
	if err != nil {
		return err
	}
	fwd := forward.New(forward.Config{Timeout: o.timeout, Header: extra})
	defer fwd.Close()
	targetText := ""
	if target != nil {
		targetText = target.String()
	}
	hcfg := capture.Config{
		Log: db, Forwarder: fwd, Target: target, Status: o.status, MaxBody: maxBody,
		Ingress: ingress.Name(), Logger: log,
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
		return runWithTUI(ctx, g, ingress, capture.New(hcfg), scfg, tui.Config{
			Source:   db,
			Replayer: forward.LogReplayer{Forwarder: fwd, Log: db},
			Events:   events,
			Info:     tui.Info{Ingress: ingress.URL(), Target: targetText, DB: db.Path()},
			Editor:   editor(g.env),
			Logger:   log,
		})
	}

	p := newPrinter(g.env.Out, o.json, g.color(), target != nil, o.status)
	defer p.Close()
	hcfg.Notify = p.Notify
	handler := capture.New(hcfg)
	if o.json {
		p.writeJSON(readyJSON{Event: "ready", Ingress: ingress.URL(), Target: targetText, DB: db.Path()})
	} else {
		w := g.env.ErrOut
		fmt.Fprintf(w, "Send webhooks to  %s\n", ingress.URL())
		if target != nil {
			fmt.Fprintf(w, "Forwarding to     %s\n", targetText)
		} else {
			fmt.Fprintf(w, "Forwarding to     nowhere: answering %d (add --forward-to to forward)\n", o.status)
		}
		fmt.Fprintf(w, "Recording to      %s\n", db.Path())
		fmt.Fprintf(w, "Press Ctrl-C to stop.\n\n")
	}
	if !o.json {
		stopping := context.AfterFunc(ctx, func() {
			fmt.Fprintln(g.env.ErrOut, "Stopping: finishing requests in flight (Ctrl-C again to quit at once)")
		})
		defer stopping()
	}
	return capture.Serve(ctx, ingress, handler, scfg)
}

// runWithTUI serves the ingress while the terminal UI runs in the foreground; quitting the UI
// stops the listener.
func runWithTUI(ctx context.Context, g *globals, ingress net.Listener, h http.Handler, scfg capture.ServeConfig, cfg tui.Config) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	served := make(chan error, 1)
	go func() {
		served <- capture.Serve(ctx, ingress, h, scfg)
		cancel() // a server that stops on its own ends the UI too
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
