package cli

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookctl/hookctl/internal/capture"
	"github.com/hookctl/hookctl/internal/relay"
	"github.com/hookctl/hookctl/internal/store"
	"github.com/hookctl/hookctl/internal/tunnel"
)

type relayServeOptions struct {
	addr          string
	publicURL     string
	db            string
	token         string
	retention     time.Duration
	maxBody       string
	offlineStatus int
	timeout       time.Duration
}

func newRelayServeCmd(g *globals) *cobra.Command {
	o := &relayServeOptions{}
	cmd := &cobra.Command{
		Use:   "serve --public-url URL",
		Short: "Serve the relay: public webhook URLs for hookctl listen --relay clients",
		Long: `Serve the relay. Each 'hookctl listen --relay URL' gets a channel with an unguessable URL
(<public-url>/c/<id>) that only it can receive. Webhooks sent to a channel are kept in the
relay's own log until the client has recorded them: while the client is connected the sender
gets the developer's server's response; while it is not, the sender gets 202 and the request
waits (up to --retention) to be delivered in order when the client reconnects.

Put it behind a TLS-terminating reverse proxy; see docs/relay.md.`,
		Example: `  hookctl relay serve --public-url https://hooks.example.com --token "$RELAY_TOKEN"
  hookctl relay serve --addr :8080 --public-url http://relay.internal:8080`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			public, err := parsePublicURL(o.publicURL)
			if err != nil {
				return err
			}
			maxBody, err := capture.ParseSize(o.maxBody)
			if err != nil {
				return fmt.Errorf("--max-body: %w", err)
			}
			if o.offlineStatus < 200 || o.offlineStatus > 599 {
				return fmt.Errorf("--offline-status %d is not an HTTP status", o.offlineStatus)
			}
			token := o.token
			if token == "" {
				token = g.env.Getenv("HOOKCTL_RELAY_TOKEN")
			}
			path := o.db
			if path == "" {
				if path, err = g.xdgPath("XDG_DATA_HOME", ".local/share", "relay.db"); err != nil {
					return fmt.Errorf("%w (use --db)", err)
				}
			}
			log := g.loggerFrom(slog.LevelInfo) // a server: connections and expiries are worth seeing
			db, err := store.Open(ctx, store.Config{Path: path, Logger: log})
			if err != nil {
				return err
			}
			defer db.Close()
			srv, err := relay.NewServer(relay.ServerConfig{
				PublicURL: public, Token: token, Log: db, MaxBody: maxBody,
				OfflineStatus: o.offlineStatus, Retention: o.retention, ResponseTimeout: o.timeout,
				Logger: log, Now: g.env.Now,
			})
			if err != nil {
				return err
			}
			ln, err := tunnel.Local(o.addr)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.env.ErrOut, "Relay listening on %s, public URL %s, buffer %s\n", ln.Addr(), public, db.Path())
			if token == "" {
				fmt.Fprintln(g.env.ErrOut, "Anyone who can reach the relay may create channels: set --token to require one.")
			}
			return srv.Serve(ctx, ln)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.addr, "addr", "127.0.0.1:8080", "address to listen on (\":8080\" for every interface)")
	f.StringVar(&o.publicURL, "public-url", "", "the URL senders and clients reach the relay at, e.g. https://hooks.example.com (required)")
	f.StringVar(&o.db, "db", "", "the relay's buffer and channel registry (default $XDG_DATA_HOME/hookctl/relay.db)")
	f.StringVar(&o.token, "token", "", "require this operator token to create channels (env HOOKCTL_RELAY_TOKEN)")
	f.DurationVar(&o.retention, "retention", 7*24*time.Hour, "how long a request waits for its client before it expires")
	f.StringVar(&o.maxBody, "max-body", "25MiB", "largest request body accepted; larger ones get 413")
	f.IntVar(&o.offlineStatus, "offline-status", http.StatusAccepted, "status answered to senders while the channel's client is away")
	f.DurationVar(&o.timeout, "timeout", 30*time.Second, "how long a connected client may take to answer; then the sender gets 504")
	return cmd
}

// parsePublicURL checks --public-url: an absolute http(s) URL with no query or fragment.
func parsePublicURL(s string) (string, error) {
	if s == "" {
		return "", errors.New("--public-url is required: the URL senders reach the relay at, e.g. https://hooks.example.com")
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("--public-url %q: want an http(s) URL such as https://hooks.example.com", s)
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}
