package tunnel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.ngrok.com/ngrok/v2"

	"github.com/hookctl/hookctl/internal/webhook"
)

// NgrokConfig configures an ngrok ingress. Zero values get defaults.
type NgrokConfig struct {
	Authtoken string        // required; "" → ErrNoAuthtoken
	Domain    string        // optional reserved domain (e.g. "hooks.example.ngrok.app"; accept with or without https://)
	Timeout   time.Duration // bound on connecting; 0 → 10s
	Logger    *slog.Logger  // the SDK's logs go here (never slog.Default / stderr directly); nil → discard
}

const (
	// DefaultNgrokTimeout bounds connecting to ngrok when NgrokConfig.Timeout is 0.
	DefaultNgrokTimeout = 10 * time.Second
	// ngrokCloseTimeout bounds the polite "stop this endpoint" request made by Close; the session
	// is torn down after it either way.
	ngrokCloseTimeout = 5 * time.Second
	ngrokDescription  = "hookctl"
	noNgrokHint       = "check your network, or run without --ngrok to use the local ingress only"
	authtokenHint     = "check NGROK_AUTHTOKEN or --ngrok-authtoken (copy the token from https://dashboard.ngrok.com/get-started/your-authtoken)"
)

var (
	// ErrNoAuthtoken is returned by Ngrok when no authtoken is configured.
	ErrNoAuthtoken = errors.New("ngrok: no authtoken: sign up at https://dashboard.ngrok.com, copy your authtoken (https://dashboard.ngrok.com/get-started/your-authtoken), then export NGROK_AUTHTOKEN=<token> or pass --ngrok-authtoken <token>")
	// ErrNgrokUnreachable is wrapped when the first attempt to connect to ngrok fails (network
	// down, DNS, TLS) or when NgrokConfig.Timeout passes before the endpoint is up.
	ErrNgrokUnreachable = errors.New("cannot reach the ngrok service")
	// ErrNgrokAuthRejected is wrapped when the ngrok service refuses the authtoken.
	ErrNgrokAuthRejected = errors.New("the ngrok authtoken was rejected")
)

// Ngrok connects to ngrok and returns an Ingress whose URL is the public https URL and whose
// Name is webhook.IngressNgrok. It never hangs: the first dial/auth failure or the timeout ends
// it with a clear one-line error. ctx cancels it too.
//
// ctx only bounds connecting: once Ngrok has returned, the session lives until the Ingress is
// closed, and the SDK reconnects on its own after a network failure.
func Ngrok(ctx context.Context, cfg NgrokConfig) (Ingress, error) {
	return listenNgrok(ctx, cfg)
}

// listenNgrok is Ngrok with extra agent options, so that tests can point the agent at a local
// server (ngrok.WithAgentConnectURL, ngrok.WithAgentConnectCAs).
func listenNgrok(ctx context.Context, cfg NgrokConfig, agentOpts ...ngrok.AgentOption) (Ingress, error) {
	token := strings.TrimSpace(cfg.Authtoken)
	if token == "" {
		return nil, ErrNoAuthtoken
	}
	endpointURL, err := ngrokEndpointURL(cfg.Domain)
	if err != nil {
		return nil, err
	}
	if ctx.Err() != nil {
		return nil, connectError(failParent, context.Cause(ctx), nil, "", token)
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultNgrokTimeout
	}
	logger := slog.New(slog.DiscardHandler)
	connecting := new(atomic.Bool)
	connecting.Store(true)
	defer connecting.Store(false)
	if cfg.Logger != nil {
		// The service may echo the token in its error messages, which the SDK logs. While
		// connecting, the SDK's complaints are what the returned error says once: keep them
		// for debug output.
		logger = slog.New(&redactHandler{h: cfg.Logger.Handler(), secret: token, quiet: connecting})
	}

	// The SDK keeps using the context given to Connect for the whole session: every reconnect
	// is dialled with it, and the session is closed as soon as it ends. So that context must
	// outlive this call. It is detached from ctx and ended by Close; while connecting, the
	// guard ends it early on ctx's end, on the timeout, or on the first failure reported by the
	// SDK (which otherwise retries dial and auth failures forever).
	sessCtx, endSession := context.WithCancelCause(context.WithoutCancel(ctx))
	guard := &connectGuard{armed: true, cancel: endSession}
	stopParentWatch := context.AfterFunc(ctx, func() { guard.fail(failParent, context.Cause(ctx)) })
	timer := time.AfterFunc(timeout, func() { guard.fail(failTimeout, &connectTimeout{timeout}) })

	opts := append([]ngrok.AgentOption{
		ngrok.WithAuthtoken(token),
		ngrok.WithLogger(logger),
		ngrok.WithAgentDescription(ngrokDescription),
		ngrok.WithEventHandler(guard.onEvent),
	}, agentOpts...)
	agent, err := ngrok.NewAgent(opts...)
	if err != nil {
		stopParentWatch()
		timer.Stop()
		guard.disarm()
		endSession(nil)
		return nil, &ngrokErr{msg: oneLine("ngrok: "+err.Error(), token), errs: []error{err}}
	}

	endpointOpts := []ngrok.EndpointOption{ngrok.WithDescription(ngrokDescription)}
	if endpointURL != "" {
		endpointOpts = append(endpointOpts, ngrok.WithURL(endpointURL))
	}
	ln, listenErr := agent.Listen(sessCtx, endpointOpts...)

	stopParentWatch()
	timer.Stop()
	kind, cause := guard.disarm()
	if listenErr == nil && kind == failNone {
		return &ngrokIngress{ln: ln, agent: agent, endSession: endSession, url: ln.URL().String()}, nil
	}

	// Failed, or a guard fired just as Listen returned (the session is then being closed).
	_ = agent.Disconnect()
	if ln != nil {
		_ = ln.Close()
	}
	endSession(nil)
	return nil, connectError(kind, cause, listenErr, endpointURL, token)
}

// ngrokEndpointURL turns NgrokConfig.Domain into the endpoint URL given to the SDK: "" for a
// random URL, otherwise "https://<domain>".
func ngrokEndpointURL(domain string) (string, error) {
	d := strings.TrimSpace(domain)
	if d == "" {
		return "", nil
	}
	raw := d
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Hostname() == "" || u.User != nil ||
		(u.Port() != "" && u.Port() != "443") || (u.Path != "" && u.Path != "/") ||
		u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(u.Hostname(), " /") {
		return "", fmt.Errorf("ngrok: invalid domain %q: give a domain reserved in your ngrok account, such as hooks.example.ngrok.app (https:// is optional; no path, port or other scheme)", domain)
	}
	return "https://" + strings.ToLower(u.Hostname()), nil
}

// failKind says what ended connecting early.
type failKind int

const (
	failNone    failKind = iota
	failSession          // the SDK reported a dial or auth failure
	failTimeout          // NgrokConfig.Timeout passed
	failParent           // the caller's ctx ended
)

// connectGuard ends the session context on the first failure, but only while it is armed,
// i.e. until Listen returns. A disconnect after that is the SDK's to recover from.
type connectGuard struct {
	mu     sync.Mutex
	armed  bool
	kind   failKind
	cause  error
	cancel context.CancelCauseFunc
}

func (g *connectGuard) fail(kind failKind, cause error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.armed {
		return
	}
	g.armed, g.kind, g.cause = false, kind, cause
	g.cancel(cause)
}

// disarm stops the guard and reports what, if anything, made it fire.
func (g *connectGuard) disarm() (failKind, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.armed = false
	return g.kind, g.cause
}

// onEvent is the agent's event handler. It must not block.
func (g *connectGuard) onEvent(e ngrok.Event) {
	if d, ok := e.(*ngrok.EventAgentDisconnected); ok && d.Error != nil {
		g.fail(failSession, d.Error)
	}
}

// ngrokErr is a one-line message that wraps the sentinel and the underlying error.
type ngrokErr struct {
	msg  string
	errs []error
}

func (e *ngrokErr) Error() string   { return e.msg }
func (e *ngrokErr) Unwrap() []error { return e.errs }

func connectError(kind failKind, cause, listenErr error, endpointURL, token string) error {
	switch kind {
	case failParent:
		if cause == nil {
			cause = context.Canceled
		}
		return &ngrokErr{msg: oneLine("ngrok: connecting was canceled ("+cause.Error()+")", token), errs: []error{cause}}
	case failTimeout:
		return &ngrokErr{
			msg:  "ngrok: cannot reach the ngrok service (" + cause.Error() + "); " + noNgrokHint,
			errs: []error{ErrNgrokUnreachable, cause},
		}
	case failSession:
		if authRejected(cause) {
			return &ngrokErr{
				msg:  oneLine("ngrok: the authtoken was rejected by the ngrok service ("+serviceMessage(cause)+"); "+authtokenHint, token),
				errs: []error{ErrNgrokAuthRejected, cause},
			}
		}
		return &ngrokErr{
			msg:  oneLine("ngrok: cannot reach the ngrok service ("+dialDetail(cause)+"); "+noNgrokHint, token),
			errs: []error{ErrNgrokUnreachable, cause},
		}
	}
	// Connected, but the endpoint could not be created (e.g. a domain that is not reserved in
	// this account, or already in use).
	if listenErr == nil {
		listenErr = errors.New("unknown error")
	}
	msg := "ngrok: could not start the endpoint (" + serviceMessage(listenErr) + ")"
	if endpointURL != "" {
		msg = "ngrok: could not start the endpoint " + endpointURL + " (" + serviceMessage(listenErr) +
			"); check --ngrok-domain: it must be a domain reserved in your ngrok account (https://dashboard.ngrok.com/domains)"
	}
	return &ngrokErr{msg: oneLine(msg, token), errs: []error{listenErr}}
}

// connectTimeout is the cause recorded when NgrokConfig.Timeout passes.
type connectTimeout struct{ d time.Duration }

func (e *connectTimeout) Error() string { return "no answer within " + e.d.String() }
func (e *connectTimeout) Unwrap() error { return context.DeadlineExceeded }

// authRejected reports whether err is the SDK's "authentication failed" error, which it
// returns when the ngrok service answered the auth request with an error (as opposed to
// "failed to send authentication request", a transport failure).
func authRejected(err error) bool {
	return strings.HasPrefix(err.Error(), "authentication failed")
}

// serviceMessage renders an error answered by the ngrok service as "message (ERR_NGROK_123)",
// without the SDK's prefixes.
func serviceMessage(err error) string {
	var words, codes []string
	for _, w := range strings.Fields(err.Error()) {
		if strings.HasPrefix(w, "ERR_NGROK_") {
			codes = append(codes, w)
		} else {
			words = append(words, w)
		}
	}
	msg := strings.Join(words, " ")
	for _, prefix := range []string{"failed to start tunnel: ", "authentication failed: "} {
		msg = strings.TrimPrefix(msg, prefix)
	}
	if len(codes) > 0 {
		msg += " (" + strings.Join(codes, ", ") + ")"
	}
	return msg
}

// dialDetail keeps the useful part of a connection failure: the *net.OpError ("dial tcp:
// lookup connect.ngrok-agent.com on ...: no such host") when there is one.
func dialDetail(err error) string {
	var op *net.OpError
	if errors.As(err, &op) {
		return op.Error()
	}
	return err.Error()
}

// oneLine collapses whitespace, so a multi-line message from the service stays on one line,
// and removes the authtoken should the service or the SDK have echoed it.
func oneLine(s, token string) string {
	return strings.Join(strings.Fields(redact(s, token)), " ")
}

// redact replaces the authtoken in s. Tokens shorter than 8 bytes are not real ngrok tokens
// and would match ordinary text, so they are left alone.
func redact(s, token string) string {
	if len(token) < 8 {
		return s
	}
	return strings.ReplaceAll(s, token, "[authtoken]")
}

// redactHandler removes the authtoken from the SDK's log records before they reach the
// caller's handler: the ngrok service echoes the token in some errors (ERR_NGROK_105), and
// the SDK logs those errors and, at debug level, the raw responses.
type redactHandler struct {
	h      slog.Handler
	secret string
	quiet  *atomic.Bool // records are demoted to debug while it is set
}

func (r *redactHandler) Enabled(ctx context.Context, l slog.Level) bool { return r.h.Enabled(ctx, l) }

func (r *redactHandler) Handle(ctx context.Context, rec slog.Record) error {
	level := rec.Level
	if r.quiet != nil && r.quiet.Load() && level > slog.LevelDebug {
		if level = slog.LevelDebug; !r.h.Enabled(ctx, level) {
			return nil
		}
	}
	out := slog.NewRecord(rec.Time, level, redact(rec.Message, r.secret), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(r.attr(a))
		return true
	})
	return r.h.Handle(ctx, out)
}

func (r *redactHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	clean := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		clean[i] = r.attr(a)
	}
	return &redactHandler{h: r.h.WithAttrs(clean), secret: r.secret, quiet: r.quiet}
}

func (r *redactHandler) WithGroup(name string) slog.Handler {
	return &redactHandler{h: r.h.WithGroup(name), secret: r.secret, quiet: r.quiet}
}

func (r *redactHandler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, redact(v.String(), r.secret))
	case slog.KindGroup:
		group := v.Group()
		clean := make([]any, len(group))
		for i, g := range group {
			clean[i] = r.attr(g)
		}
		return slog.Group(a.Key, clean...)
	case slog.KindAny:
		// Errors and structs (e.g. an RPC response): render them only to look for the token.
		if text := fmt.Sprintf("%+v", v.Any()); strings.Contains(text, r.secret) {
			return slog.String(a.Key, redact(text, r.secret))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

// ngrokIngress is an Ingress over an ngrok endpoint listener; it owns the agent.
type ngrokIngress struct {
	ln         ngrok.EndpointListener
	agent      ngrok.Agent
	endSession context.CancelCauseFunc
	url        string

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

func (n *ngrokIngress) URL() string    { return n.url }
func (n *ngrokIngress) Name() string   { return webhook.IngressNgrok }
func (n *ngrokIngress) Addr() net.Addr { return n.ln.Addr() }

// Accept waits for the next connection a sender made to the public URL. After Close it
// returns an error wrapping net.ErrClosed, like a TCP listener.
func (n *ngrokIngress) Accept() (net.Conn, error) {
	c, err := n.ln.Accept()
	if err != nil && n.closed.Load() {
		return nil, fmt.Errorf("ngrok: accept: %w", net.ErrClosed)
	}
	return c, err
}

// Close stops the endpoint and disconnects the agent. Calling it again does nothing.
func (n *ngrokIngress) Close() error {
	n.closeOnce.Do(func() {
		n.closed.Store(true)
		done := make(chan error, 1)
		go func() { done <- n.ln.Close() }()
		var lnErr error
		select {
		case lnErr = <-done:
		case <-time.After(ngrokCloseTimeout):
			// The service does not answer; disconnecting below ends the request.
		}
		dErr := n.agent.Disconnect()
		n.endSession(nil)
		if err := errors.Join(lnErr, dErr); err != nil {
			n.closeErr = fmt.Errorf("ngrok: close: %w", err)
		}
	})
	return n.closeErr
}
