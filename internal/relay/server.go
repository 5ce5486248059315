package relay

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/hookctl/hookctl/internal/rawhead"
	"github.com/hookctl/hookctl/internal/store"
	"github.com/hookctl/hookctl/internal/webhook"
)

// Defaults for ServerConfig and ClientConfig fields left zero.
const (
	DefaultMaxBody         = 25 << 20
	DefaultMaxInFlight     = 64
	DefaultResponseTimeout = 30 * time.Second
	DefaultRetention       = 7 * 24 * time.Hour
	DefaultPingInterval    = 10 * time.Second
	DefaultPongTimeout     = 30 * time.Second
)

const (
	// expireEvery is how often the server deletes expired buffered requests.
	expireEvery = time.Minute
	// drainBatch is how many buffered requests the drain reads at once.
	drainBatch = 64
	// minWriteTimeout bounds the write of one frame (at least; PongTimeout when longer).
	minWriteTimeout = 30 * time.Second
	// controlTimeout bounds the write of a ping or close frame.
	controlTimeout = 5 * time.Second
	// shutdownTimeout bounds the wait for in-flight ingress requests on shutdown.
	shutdownTimeout = 10 * time.Second
)

// Buffer is the relay's durable state: its channel registry and the requests waiting for
// their client. *store.Store implements it on embedded SQLite; several relay instances behind a
// load balancer would share one on a database server (docs/relay.md). Every write returns once
// it is durable. Lookups of unknown channels return errors wrapping store.ErrNotFound.
type Buffer interface {
	CreateRelayChannel(ctx context.Context, ch store.RelayChannel) error
	RelayChannel(ctx context.Context, id string) (store.RelayChannel, error)
	BufferRelayRequest(ctx context.Context, channelID string, r *webhook.Request) (int64, error)
	PendingRelayRequests(ctx context.Context, channelID string, afterSeq int64, limit int) ([]*webhook.Request, error)
	RemoveRelayRequest(ctx context.Context, channelID string, seq int64) error
	ExpireRelayRequests(ctx context.Context, before time.Time) (int, error)
}

var _ Buffer = (*store.Store)(nil)

// ServerConfig configures a relay Server. Zero values get the defaults.
type ServerConfig struct {
	// PublicURL is the URL senders and clients reach the relay at, such as
	// https://hooks.example.com. Required; a trailing slash is removed.
	PublicURL string
	// Token is the operator token that creating a channel requires; "" lets anyone create one.
	Token string
	// Log is the relay's buffer and channel registry: a store of its own. Required.
	Log Buffer
	// MaxBody is the largest request body accepted, in bytes; larger ones get 413. 0 means
	// 25 MiB; at most MaxFrameBody.
	MaxBody int64
	// MaxInFlight bounds the requests in flight to one channel's client; beyond it senders
	// get 503 with Retry-After. 0 means 64.
	MaxInFlight int
	// ResponseTimeout bounds the wait for a connected client's response; then the sender
	// gets 504 (the request stays buffered until the client acknowledges it). 0 means 30s.
	ResponseTimeout time.Duration
	// OfflineStatus is the status answered to a sender whose request was buffered because no
	// client is connected (or it is catching up). 0 means 202.
	OfflineStatus int
	// Retention is how long a buffered request waits for its client before it is deleted.
	// 0 means 7 days.
	Retention time.Duration
	// PingInterval is how often the server pings each client; PongTimeout is how long a
	// connection may stay silent (no pong, no frame) before it is dropped. 0 means 10s, 30s.
	PingInterval, PongTimeout time.Duration
	// Logger receives diagnostics. nil means discard.
	Logger *slog.Logger
	// Now returns the current time. nil means time.Now.
	Now func() time.Time
}

// Server is a relay server. Create it with NewServer; serve it with Serve, or mount Handler
// in a server of your own (then no expiry runs, and hijacked connections are not closed on
// shutdown unless Close is called).
type Server struct {
	cfg ServerConfig
	up  websocket.Upgrader

	mu       sync.Mutex
	sessions map[string]*session // channel id → its connected client
	closing  bool

	bg sync.WaitGroup // session goroutines and acknowledgement removals
}

// NewServer checks cfg and returns a Server.
func NewServer(cfg ServerConfig) (*Server, error) {
	if cfg.Log == nil {
		return nil, errors.New("relay server: no buffer store given")
	}
	pub, err := parsePublicURL(cfg.PublicURL)
	if err != nil {
		return nil, err
	}
	cfg.PublicURL = pub
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.MaxBody > MaxFrameBody {
		return nil, fmt.Errorf("relay server: body limit %d exceeds the protocol's %d bytes", cfg.MaxBody, MaxFrameBody)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.ResponseTimeout, DefaultResponseTimeout)
	def(&cfg.Retention, DefaultRetention)
	def(&cfg.PingInterval, DefaultPingInterval)
	def(&cfg.PongTimeout, DefaultPongTimeout)
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	if cfg.OfflineStatus == 0 {
		cfg.OfflineStatus = http.StatusAccepted
	}
	if cfg.OfflineStatus < 200 || cfg.OfflineStatus > 599 {
		return nil, fmt.Errorf("relay server: offline status %d is not an HTTP status", cfg.OfflineStatus)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Server{
		cfg:      cfg,
		sessions: make(map[string]*session),
		up: websocket.Upgrader{
			HandshakeTimeout: 10 * time.Second,
			// Clients authenticate with a bearer secret, not cookies: no origin to check.
			CheckOrigin: func(*http.Request) bool { return true },
		},
	}, nil
}

// parsePublicURL checks a public URL: absolute http(s), no query or fragment.
func parsePublicURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("relay server: public URL %q is not an absolute http(s) URL without query", s)
	}
	return strings.TrimRight(s, "/"), nil
}

// Handler returns the relay's HTTP handler: POST /v1/channels, GET /v1/connect, /healthz, and
// every method on /c/<id> and /c/<id>/<path>.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(s.serveHTTP)
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	uri := requestPath(r.RequestURI)
	if rest, ok := strings.CutPrefix(uri, "/c/"); ok {
		s.ingress(w, r, rest)
		return
	}
	switch r.URL.Path {
	case "/v1/channels":
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			plainError(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		s.createChannel(w, r)
	case "/v1/connect":
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", "GET")
			plainError(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		s.connect(w, r)
	case "/healthz":
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, "{\"ok\":true}\n")
	default:
		plainError(w, "not found", http.StatusNotFound)
	}
}

// requestPath returns the request URI in origin form: an absolute-form URI
// (http://host/path?q) loses its scheme and authority, byte for byte otherwise.
func requestPath(uri string) string {
	if strings.HasPrefix(uri, "/") {
		return uri
	}
	if _, rest, ok := strings.Cut(uri, "://"); ok {
		if i := strings.IndexAny(rest, "/?"); i >= 0 {
			if rest[i] == '?' {
				return "/" + rest[i:]
			}
			return rest[i:]
		}
		return "/"
	}
	return uri
}

func plainError(w http.ResponseWriter, msg string, status int) {
	http.Error(w, "hookctl relay: "+msg, status)
}

// secretHash is what the registry keeps of a channel secret. Secrets are 256 random bits, so
// a plain SHA-256 is enough: there is nothing to brute-force.
func secretHash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// randomID returns n random bytes in lowercase base32 without padding.
func randomID(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// bearer returns the token of an "Authorization: Bearer <token>" header, or "".
func bearer(r *http.Request) string {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}

// channelResponse is the body of a 201 answer to POST /v1/channels.
type channelResponse struct {
	ID     string `json:"id"`
	Secret string `json:"secret"`
	URL    string `json:"url"`
}

// createChannel answers POST /v1/channels.
func (s *Server) createChannel(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Token != "" {
		got := bearer(r)
		if subtle.ConstantTimeCompare([]byte(got), []byte(s.cfg.Token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="hookctl relay"`)
			plainError(w, "creating a channel needs the operator token (Authorization: Bearer <token>)", http.StatusUnauthorized)
			return
		}
	}
	c := channelResponse{ID: randomID(16), Secret: randomID(32)}
	c.URL = s.cfg.PublicURL + "/c/" + c.ID
	err := s.cfg.Log.CreateRelayChannel(r.Context(), store.RelayChannel{
		ID: c.ID, SecretHash: secretHash(c.Secret), CreatedAt: s.cfg.Now().UTC(),
	})
	if err != nil {
		s.cfg.Logger.Error("create channel", "err", err)
		w.Header().Set("Retry-After", "5")
		plainError(w, "could not store the channel", http.StatusServiceUnavailable)
		return
	}
	s.cfg.Logger.Info("channel created", "channel", c.ID, "remote_addr", r.RemoteAddr)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(c)
}

// connect answers GET /v1/connect: it authenticates the client and upgrades to a websocket.
func (s *Server) connect(w http.ResponseWriter, r *http.Request) {
	if v := r.Header.Get(ProtocolHeader); v != strconv.Itoa(ProtocolVersion) {
		w.Header().Set(ProtocolHeader, strconv.Itoa(ProtocolVersion))
		plainError(w, fmt.Sprintf("unsupported protocol version %q; this relay speaks %d", v, ProtocolVersion), http.StatusBadRequest)
		return
	}
	id := r.Header.Get(ChannelHeader)
	if id == "" {
		plainError(w, "missing "+ChannelHeader+" header", http.StatusBadRequest)
		return
	}
	ch, err := s.cfg.Log.RelayChannel(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		plainError(w, "no such channel", http.StatusNotFound)
		return
	}
	if err != nil {
		s.cfg.Logger.Error("read channel", "channel", id, "err", err)
		w.Header().Set("Retry-After", "5")
		plainError(w, "could not read the channel", http.StatusServiceUnavailable)
		return
	}
	secret := bearer(r)
	if secret == "" || subtle.ConstantTimeCompare(secretHash(secret), ch.SecretHash) != 1 {
		s.cfg.Logger.Warn("connect refused: wrong secret", "channel", id, "remote_addr", r.RemoteAddr)
		w.Header().Set("WWW-Authenticate", `Bearer realm="hookctl relay"`)
		plainError(w, "wrong or missing channel secret", http.StatusUnauthorized)
		return
	}
	s.mu.Lock()
	closing := s.closing
	s.mu.Unlock()
	if closing {
		w.Header().Set("Retry-After", "5")
		plainError(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	conn, err := s.up.Upgrade(w, r, nil)
	if err != nil {
		s.cfg.Logger.Debug("upgrade failed", "channel", id, "err", err) // already answered
		return
	}
	ss := newSession(s, id, conn, r.RemoteAddr)

	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		ss.close(websocket.CloseGoingAway, "relay shutting down")
		return
	}
	old := s.sessions[id]
	s.sessions[id] = ss
	s.bg.Add(3)
	s.mu.Unlock()
	if old != nil {
		old.close(closeReplaced, "replaced by a newer connection")
	}
	s.cfg.Logger.Info("client connected", "channel", id, "remote_addr", r.RemoteAddr, "replaced", old != nil)
	go ss.readLoop()
	go ss.pingLoop()
	go ss.drain()
}

// session returns the channel's connected client, or nil.
func (s *Server) session(id string) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[id]
}

// connected reports whether a client is connected to the channel (for tests).
func (s *Server) connected(id string) bool { return s.session(id) != nil }

// ingress receives a sender's request on /c/<rest>.
func (s *Server) ingress(w http.ResponseWriter, r *http.Request, rest string) {
	id, tail := rest, "/"
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		id, tail = rest[:i], rest[i:]
		if tail[0] == '?' {
			tail = "/" + tail
		}
	}
	ctx := r.Context()
	at := s.cfg.Now().UTC()
	headers, ok := rawhead.Headers(r)
	if !ok {
		headers = append(webhook.Headers{{Name: "Host", Value: r.Host}}, webhook.FromHTTP(r.Header)...)
	}
	if id == "" {
		plainError(w, "no such channel", http.StatusNotFound)
		return
	}
	if _, err := s.cfg.Log.RelayChannel(ctx, id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			plainError(w, "no such channel", http.StatusNotFound)
			return
		}
		s.cfg.Logger.Error("read channel", "channel", id, "err", err)
		w.Header().Set("Retry-After", "5")
		plainError(w, "could not read the channel", http.StatusServiceUnavailable)
		return
	}

	body, status, msg := readBody(r, s.cfg.MaxBody)
	if status != 0 {
		w.Header().Set("Connection", "close")
		plainError(w, msg, status)
		return
	}

	// A live client at its in-flight bound: refuse before anything is kept, so that the
	// sender's retry is the only copy.
	ss := s.session(id)
	slot := false
	if ss != nil && ss.isLive() {
		if !ss.acquire() {
			w.Header().Set("Retry-After", "1")
			plainError(w, "too many requests in flight to this channel's client", http.StatusServiceUnavailable)
			return
		}
		slot = true
	}
	rec := &webhook.Request{
		ReceivedAt: at, Method: r.Method, URI: tail, Proto: r.Proto, Host: r.Host,
		Header: headers, Body: body, BodySize: int64(len(body)), RemoteAddr: r.RemoteAddr,
	}
	// The buffer write must finish even if the sender goes away.
	seq, err := s.cfg.Log.BufferRelayRequest(context.WithoutCancel(ctx), id, rec)
	if err != nil {
		if slot {
			ss.release()
		}
		s.cfg.Logger.Error("buffer request", "channel", id, "uri", tail, "err", err)
		w.Header().Set("Retry-After", "5")
		plainError(w, "could not keep the request", http.StatusServiceUnavailable)
		return
	}
	rec.ID = seq
	w.Header().Set(RelayIDHeader, ref(id, seq))
	s.deliver(w, r, id, rec, ss, slot)
}

// readBody reads r's body up to limit. A status other than 0 refuses the request.
func readBody(r *http.Request, limit int64) ([]byte, int, string) {
	if r.ContentLength > limit {
		return nil, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body of %d bytes exceeds the %d-byte limit", r.ContentLength, limit)
	}
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength))
	}
	n, err := buf.ReadFrom(io.LimitReader(r.Body, limit+1))
	if n > limit {
		return nil, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body exceeds the %d-byte limit", limit)
	}
	if err != nil {
		return nil, http.StatusBadRequest, "request body could not be read: " + err.Error()
	}
	return buf.Bytes(), 0, ""
}

// deliver hands the buffered request rec to the channel's client and answers the sender with
// the client's response, or answers that the request was buffered. ss is the session seen
// before buffering, of which a slot is held when slot is set.
func (s *Server) deliver(w http.ResponseWriter, r *http.Request, id string, rec *webhook.Request, ss *session, slot bool) {
	cur := s.session(id)
	if slot && ss != cur {
		ss.release()
		slot = false
	}
	if cur == nil {
		s.offline(w, id, rec.ID)
		return
	}
	if !slot {
		// The client is catching up on the buffer (or was not live when the slot was
		// taken): its drain delivers this one in order.
		if !cur.liveOrKick() {
			s.offline(w, id, rec.ID)
			return
		}
		if !cur.acquire() {
			cur.kick()
			s.offline(w, id, rec.ID)
			return
		}
	}
	defer cur.release()
	resp, err := cur.roundTrip(r.Context(), rec, false)
	switch {
	case err == nil:
		writeResponse(w, r, resp)
	case errors.Is(err, errTimeout):
		plainError(w, fmt.Sprintf("the client did not answer within %s (the request stays buffered)", s.cfg.ResponseTimeout), http.StatusGatewayTimeout)
	case errors.Is(err, errGone), errors.Is(err, errClaimed):
		s.offline(w, id, rec.ID)
	default:
		// The sender went away; nothing to answer.
	}
}

// offline answers a sender whose request stays in the buffer for the client.
func (s *Server) offline(w http.ResponseWriter, id string, seq int64) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(s.cfg.OfflineStatus)
	fmt.Fprintf(w, "{\"buffered\":true,\"id\":%q}\n", ref(id, seq))
}

// hopHeaders are not passed from a response frame to the sender.
var hopHeaders = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Connection": true, "Te": true, "Trailer": true,
	"Transfer-Encoding": true, "Upgrade": true, "Content-Length": true,
}

// writeResponse answers the sender with the client's response.
func writeResponse(w http.ResponseWriter, r *http.Request, f responseFrame) {
	dst := w.Header()
	for _, h := range f.Headers {
		canon := http.CanonicalHeaderKey(h.Name)
		if hopHeaders[canon] {
			if canon == "Content-Length" && (r.Method == http.MethodHead || f.Status == http.StatusNotModified) {
				dst[h.Name] = append(dst[h.Name], h.Value)
			}
			continue
		}
		dst[h.Name] = append(dst[h.Name], h.Value)
	}
	if _, ok := dst["Content-Type"]; !ok {
		dst["Content-Type"] = nil // pass on the absence too: no sniffed type
	}
	status := f.Status
	if status < 100 || status > 999 {
		status = http.StatusBadGateway
	}
	if r.Method != http.MethodHead && status != http.StatusNoContent && status != http.StatusNotModified && status >= 200 {
		dst.Set("Content-Length", strconv.Itoa(len(f.Body)))
	}
	w.WriteHeader(status)
	w.Write(f.Body)
}

// Serve serves the relay on ln until ctx ends: an http.Server with timeouts that records
// header lines in wire order (see package rawhead), plus the loop that expires old buffered
// requests. When ctx ends it closes every client connection with a close frame, waits for
// in-flight requests (bounded) and returns nil.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      2*time.Minute + s.cfg.ResponseTimeout,
		IdleTimeout:       2 * time.Minute,
		ConnContext:       rawhead.ConnContext,
		ErrorLog:          slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	stopExpiry := make(chan struct{})
	var expiry sync.WaitGroup
	expiry.Add(1)
	go func() {
		defer expiry.Done()
		s.expireLoop(stopExpiry)
	}()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(rawhead.Listen(ln)) }()
	var err error
	select {
	case err = <-errc:
		err = fmt.Errorf("serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	close(stopExpiry)
	s.Close()
	if err == nil {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
		err = srv.Shutdown(sctx)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			srv.Close()
			err = fmt.Errorf("shutdown: requests still in flight after %s were cut off", shutdownTimeout)
		}
		<-errc
	}
	expiry.Wait()
	s.bg.Wait()
	return err
}

// Close closes every client connection with a close frame and refuses new ones; senders still
// waiting for a response are told their request is buffered. It does not stop the listener.
func (s *Server) Close() {
	s.mu.Lock()
	s.closing = true
	all := make([]*session, 0, len(s.sessions))
	for _, ss := range s.sessions {
		all = append(all, ss)
	}
	s.mu.Unlock()
	for _, ss := range all {
		ss.close(websocket.CloseGoingAway, "relay shutting down")
	}
}

// expireLoop deletes buffered requests older than Retention, at start and every minute,
// until stop is closed.
func (s *Server) expireLoop(stop <-chan struct{}) {
	t := time.NewTicker(expireEvery)
	defer t.Stop()
	for {
		s.expire()
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

// expire deletes buffered requests older than Retention once.
func (s *Server) expire() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n, err := s.cfg.Log.ExpireRelayRequests(ctx, s.cfg.Now().Add(-s.cfg.Retention))
	switch {
	case err != nil:
		s.cfg.Logger.Error("expire buffered requests", "err", err)
	case n > 0:
		s.cfg.Logger.Info("expired buffered requests", "count", n, "retention", s.cfg.Retention)
	}
}
