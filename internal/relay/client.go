package relay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/hookctl/hookctl/internal/webhook"
)

// Client defaults.
const (
	DefaultMinBackoff = 500 * time.Millisecond
	DefaultMaxBackoff = 30 * time.Second
	// stableAfter is how long a connection must last for the backoff to start over.
	stableAfter = 10 * time.Second
	// dialTimeout bounds one connection attempt.
	dialTimeout = 15 * time.Second
)

// Credentials is what a client needs to receive a channel's requests: where the relay is,
// the channel, its secret, and the public URL senders use. It is saved by the CLI as JSON.
type Credentials struct {
	// RelayURL is the relay's base URL, such as https://hooks.example.com.
	RelayURL string `json:"relay_url"`
	// ChannelID is the channel's id.
	ChannelID string `json:"channel_id"`
	// Secret is the channel's secret; only its client holds it.
	Secret string `json:"secret"`
	// PublicURL is the channel's URL for senders: <relay public URL>/c/<id>.
	PublicURL string `json:"public_url"`
}

// CreateChannel asks the relay at relayURL for a new channel, with the operator token when
// token is not "", and returns its credentials.
func CreateChannel(ctx context.Context, relayURL, token string) (Credentials, error) {
	base, err := baseURL(relayURL)
	if err != nil {
		return Credentials{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/channels", nil)
	if err != nil {
		return Credentials{}, fmt.Errorf("create relay channel: %w", err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Credentials{}, fmt.Errorf("create relay channel at %s: %w", base, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	switch resp.StatusCode {
	case http.StatusCreated:
	case http.StatusUnauthorized:
		if token == "" {
			return Credentials{}, fmt.Errorf("create relay channel at %s: the relay requires an operator token", base)
		}
		return Credentials{}, fmt.Errorf("create relay channel at %s: the relay refused the operator token", base)
	default:
		return Credentials{}, fmt.Errorf("create relay channel at %s: %s: %s", base, resp.Status, firstLine(body))
	}
	var c channelResponse
	if err := json.Unmarshal(body, &c); err != nil || c.ID == "" || c.Secret == "" || c.URL == "" {
		return Credentials{}, fmt.Errorf("create relay channel at %s: unexpected answer %q", base, firstLine(body))
	}
	return Credentials{RelayURL: base, ChannelID: c.ID, Secret: c.Secret, PublicURL: c.URL}, nil
}

// baseURL checks a relay URL and removes its trailing slash.
func baseURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("relay URL %q is not an absolute http(s) URL", s)
	}
	return strings.TrimRight(s, "/"), nil
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	return s
}

// State is the relay client's connection state.
type State string

// Client states.
const (
	StateConnecting   State = "connecting"
	StateConnected    State = "connected"
	StateDisconnected State = "disconnected"
)

// ClientConfig configures RunClient. Zero values get the defaults.
type ClientConfig struct {
	// Credentials say which channel to receive. Required.
	Credentials Credentials
	// Handler serves every request the relay hands over: the capture handler, which records
	// it, forwards it and answers with the target's response. Required.
	Handler http.Handler
	// Seen reports whether the request with the relay's id ref is in the local log. The
	// client asks it before delivering a request (one already there is acknowledged without
	// being delivered again) and after Handler answered (the acknowledgement the relay waits
	// for before it forgets the request). nil means nothing is ever acknowledged as recorded
	// unless Handler answered with a status other than 503.
	Seen func(ctx context.Context, ref string) (bool, error)
	// WithRequest returns the context Handler is called with, carrying the request's header
	// lines in wire order and case, the relay's id for it and when the relay received it.
	// nil leaves the context as it is.
	WithRequest func(ctx context.Context, headers webhook.Headers, ref string, receivedAt time.Time) context.Context
	// OnState is called on every change of the connection's state, with the error that caused
	// a disconnection. nil means no calls.
	OnState func(State, error)
	// MinBackoff and MaxBackoff bound the wait between connection attempts, which doubles
	// with each failure, with full jitter. 0 means 500ms and 30s.
	MinBackoff, MaxBackoff time.Duration
	// PingInterval is how often the client pings the relay; PongTimeout is how long the relay
	// may stay silent (no ping, pong or frame) before the connection is dropped and made
	// again. 0 means 10s and 30s.
	PingInterval, PongTimeout time.Duration
	// MaxInFlight bounds the requests served at once. 0 means 64.
	MaxInFlight int
	// Logger receives diagnostics. nil means discard.
	Logger *slog.Logger
}

// errPermanent marks a connection failure that retrying cannot fix.
type errPermanent struct{ msg string }

func (e *errPermanent) Error() string { return e.msg }

// RunClient connects to the relay, serves the channel's requests and reconnects with backoff
// whenever the connection is lost, until ctx ends; it then returns nil. A wrong secret, an
// unknown channel or an unsupported protocol version ends it at once with an error.
func RunClient(ctx context.Context, cfg ClientConfig) error {
	if cfg.Handler == nil {
		return errors.New("relay client: no handler given")
	}
	if cfg.Credentials.ChannelID == "" || cfg.Credentials.Secret == "" {
		return errors.New("relay client: credentials lack a channel id or secret")
	}
	base, err := baseURL(cfg.Credentials.RelayURL)
	if err != nil {
		return fmt.Errorf("relay client: %w", err)
	}
	wsURL := "ws" + strings.TrimPrefix(base, "http") + "/v1/connect"
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.MinBackoff, DefaultMinBackoff)
	def(&cfg.MaxBackoff, DefaultMaxBackoff)
	def(&cfg.PingInterval, DefaultPingInterval)
	def(&cfg.PongTimeout, DefaultPongTimeout)
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.OnState == nil {
		cfg.OnState = func(State, error) {}
	}
	if cfg.WithRequest == nil {
		cfg.WithRequest = func(ctx context.Context, _ webhook.Headers, _ string, _ time.Time) context.Context { return ctx }
	}
	c := &client{cfg: cfg, url: wsURL, log: cfg.Logger.With("relay", base, "channel", cfg.Credentials.ChannelID)}

	failures := 0
	for {
		cfg.OnState(StateConnecting, nil)
		start := time.Now()
		err := c.session(ctx)
		if ctx.Err() != nil {
			cfg.OnState(StateDisconnected, nil)
			return nil
		}
		var perm *errPermanent
		if errors.As(err, &perm) {
			cfg.OnState(StateDisconnected, err)
			return err
		}
		cfg.OnState(StateDisconnected, err)
		if time.Since(start) > stableAfter {
			failures = 0
		}
		wait := backoff(cfg.MinBackoff, cfg.MaxBackoff, failures)
		failures++
		c.log.Info("relay connection lost; reconnecting", "err", err, "in", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// backoff returns the wait before attempt n+1: a random duration up to min·2ⁿ, capped at max
// (full jitter), and at least a tenth of min.
func backoff(lo, hi time.Duration, n int) time.Duration {
	ceil := hi
	if n < 30 && lo<<n < hi {
		ceil = lo << n
	}
	return max(lo/10, rand.N(ceil+1))
}

// client is one RunClient.
type client struct {
	cfg ClientConfig
	url string
	log *slog.Logger
}

// session connects once and serves the connection until it fails or ctx ends.
func (c *client) session(ctx context.Context) error {
	h := http.Header{}
	h.Set("Authorization", "Bearer "+c.cfg.Credentials.Secret)
	h.Set(ChannelHeader, c.cfg.Credentials.ChannelID)
	h.Set(ProtocolHeader, strconv.Itoa(ProtocolVersion))
	d := websocket.Dialer{HandshakeTimeout: dialTimeout, Proxy: http.ProxyFromEnvironment}
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	conn, resp, err := d.DialContext(dctx, c.url, h)
	cancel()
	if err != nil {
		if resp != nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			msg := firstLine(body)
			switch resp.StatusCode {
			case http.StatusUnauthorized:
				return &errPermanent{fmt.Sprintf("the relay refused the channel secret for %s (%s); remove the saved credentials to get a new channel", c.cfg.Credentials.ChannelID, msg)}
			case http.StatusNotFound:
				return &errPermanent{fmt.Sprintf("the relay does not know channel %s (%s); remove the saved credentials to get a new channel", c.cfg.Credentials.ChannelID, msg)}
			case http.StatusBadRequest:
				if v := resp.Header.Get(ProtocolHeader); v != "" && v != strconv.Itoa(ProtocolVersion) {
					return &errPermanent{fmt.Sprintf("the relay speaks protocol %s, this hookctl %d: upgrade one of them", v, ProtocolVersion)}
				}
				return &errPermanent{fmt.Sprintf("the relay refused the connection: %s", msg)}
			}
			return fmt.Errorf("connect to %s: %s: %s", c.url, resp.Status, msg)
		}
		return fmt.Errorf("connect to %s: %w", c.url, err)
	}
	c.cfg.OnState(StateConnected, nil)
	c.log.Info("connected to relay")
	return c.serve(ctx, conn)
}

// serve reads request frames from conn and serves each on its own goroutine, until the
// connection fails or ctx ends. It waits for the requests being served before it returns.
func (c *client) serve(ctx context.Context, conn *websocket.Conn) error {
	var (
		wmu      sync.Mutex // serialises data frame writes
		dmu      sync.Mutex // serialises read deadline changes with ctx's end
		inflight sync.WaitGroup
		slots    = make(chan struct{}, c.cfg.MaxInFlight)
		done     = make(chan struct{})
		timeout  = c.cfg.PongTimeout
	)
	defer conn.Close()

	// extend pushes the read deadline out by PongTimeout, unless ctx has ended.
	extend := func() error {
		dmu.Lock()
		defer dmu.Unlock()
		if ctx.Err() != nil {
			return nil
		}
		return conn.SetReadDeadline(time.Now().Add(timeout))
	}
	// On ctx's end, stop reading; the requests being served still finish and are answered
	// before the connection is closed.
	stop := context.AfterFunc(ctx, func() {
		dmu.Lock()
		defer dmu.Unlock()
		conn.SetReadDeadline(time.Now())
	})
	defer stop()

	conn.SetReadLimit(maxFrame)
	extend()
	conn.SetPongHandler(func(string) error { return extend() })
	conn.SetPingHandler(func(data string) error {
		extend()
		err := conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(controlTimeout))
		if errors.Is(err, websocket.ErrCloseSent) {
			return nil
		}
		return err
	})

	// Ping the relay too, so that a dead relay is noticed even if it stops pinging.
	go func() {
		t := time.NewTicker(c.cfg.PingInterval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			if err := conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(controlTimeout)); err != nil {
				return
			}
		}
	}()
	// Last in, first out: stop pinging, wait for the requests being served (their responses
	// are sent), then say goodbye and close.
	defer func() {
		close(done)
		inflight.Wait()
		if ctx.Err() != nil {
			conn.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(websocket.CloseGoingAway, "client stopping"), time.Now().Add(controlTimeout))
		}
	}()

	send := func(f responseFrame) {
		b, err := json.Marshal(f)
		if err != nil {
			c.log.Error("encode response frame", "id", f.ID, "err", err)
			return
		}
		wmu.Lock()
		defer wmu.Unlock()
		conn.SetWriteDeadline(time.Now().Add(max(minWriteTimeout, timeout)))
		if err := conn.WriteMessage(websocket.TextMessage, b); err != nil {
			// The read loop notices the broken connection; the relay sends the request again.
			c.log.Debug("write response frame", "id", f.ID, "err", err)
		}
	}

	for {
		typ, b, err := conn.ReadMessage()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				return fmt.Errorf("relay closed the connection: %d %s", ce.Code, ce.Text)
			}
			return fmt.Errorf("relay connection: %w", err)
		}
		if ctx.Err() != nil {
			return nil
		}
		extend()
		if typ != websocket.TextMessage {
			continue
		}
		if err := decodeEnvelope(b, typeRequest); err != nil {
			if errors.Is(err, errUnknownFrame) {
				continue
			}
			return fmt.Errorf("relay sent a malformed frame: %w", err)
		}
		var f requestFrame
		if err := json.Unmarshal(b, &f); err != nil {
			return fmt.Errorf("relay sent a malformed request frame: %w", err)
		}
		inflight.Add(1)
		go func() {
			defer inflight.Done()
			slots <- struct{}{}
			defer func() { <-slots }()
			send(c.handle(ctx, &f))
		}()
	}
}

// handle serves one request frame through the handler and returns the response frame.
func (c *client) handle(ctx context.Context, f *requestFrame) responseFrame {
	out := responseFrame{V: ProtocolVersion, Type: typeResponse, ID: f.ID, Seq: f.Seq}
	// The request must be recorded and delivered even if the client is stopping.
	ctx = context.WithoutCancel(ctx)
	if c.cfg.Seen != nil {
		seen, err := c.cfg.Seen(ctx, f.ID)
		if err != nil {
			c.log.Error("look up request in the log", "id", f.ID, "err", err)
			out.Status, out.Body = http.StatusServiceUnavailable, []byte("hookctl: could not read the local log\n")
			out.Headers = pairs{{Name: "Content-Type", Value: "text/plain; charset=utf-8"}, {Name: "Retry-After", Value: "5"}}
			return out
		}
		if seen {
			c.log.Debug("request already recorded; acknowledging", "id", f.ID)
			out.Recorded, out.Status = true, http.StatusOK
			out.Headers = pairs{{Name: "Content-Type", Value: "text/plain; charset=utf-8"}}
			out.Body = []byte("hookctl: already recorded\n")
			return out
		}
	}

	r := c.request(ctx, f)
	w := &responseRecorder{header: make(http.Header)}
	c.cfg.Handler.ServeHTTP(w, r)
	if w.status == 0 {
		w.status = http.StatusOK
	}
	out.Status = w.status
	out.Headers = pairs(webhook.FromHTTP(w.header))
	out.Body = w.body.Bytes()
	if len(out.Body) > MaxFrameBody {
		out.Status = http.StatusBadGateway
		out.Headers = pairs{{Name: "Content-Type", Value: "text/plain; charset=utf-8"}}
		out.Body = []byte("hookctl: the response body is too large for the relay\n")
	}
	if c.cfg.Seen != nil {
		seen, err := c.cfg.Seen(ctx, f.ID)
		if err != nil {
			c.log.Error("look up request in the log", "id", f.ID, "err", err)
		}
		out.Recorded = seen
	} else {
		out.Recorded = w.status != http.StatusServiceUnavailable
	}
	return out
}

// request builds the *http.Request the handler serves from a request frame.
func (c *client) request(ctx context.Context, f *requestFrame) *http.Request {
	uri := f.uri()
	u, err := url.ParseRequestURI(uri)
	if err != nil {
		path, query, _ := strings.Cut(uri, "?")
		u = &url.URL{Opaque: path, RawQuery: query}
	}
	h := make(http.Header, len(f.Headers))
	for _, p := range f.Headers {
		if strings.EqualFold(p.Name, "Host") {
			continue // net/http keeps it in r.Host only
		}
		k := http.CanonicalHeaderKey(p.Name)
		h[k] = append(h[k], p.Value)
	}
	body := f.Body
	if body == nil {
		body = []byte{}
	}
	major, minor, ok := http.ParseHTTPVersion(f.Proto)
	if !ok {
		major, minor = 1, 1
	}
	ctx = c.cfg.WithRequest(ctx, webhook.Headers(f.Headers), f.ID, f.ReceivedAt)
	r := (&http.Request{
		Method:        f.Method,
		URL:           u,
		Proto:         f.Proto,
		ProtoMajor:    major,
		ProtoMinor:    minor,
		Header:        h,
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Host:          f.Host,
		RemoteAddr:    f.RemoteAddr,
		RequestURI:    uri,
	}).WithContext(ctx)
	return r
}

// responseRecorder is the in-memory http.ResponseWriter the handler answers into.
type responseRecorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *responseRecorder) Header() http.Header { return w.header }

func (w *responseRecorder) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *responseRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(b)
}
