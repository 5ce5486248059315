// Package forward sends a recorded request to a target byte for byte and describes the outcome
// as a webhook.Attempt. The capture handler uses it for live forwarding and the replay command
// for replays.
package forward

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/hookctl/hookctl/internal/webhook"
)

// Defaults for Config's zero values.
const (
	DefaultTimeout           = 30 * time.Second
	DefaultResponseBodyLimit = 1 << 20
)

// Failure classifies why an attempt got no response.
type Failure int

// Failures.
const (
	// FailureNone means the target answered (whatever its status).
	FailureNone Failure = iota
	// FailureUnreachable means the connection failed or broke: a 502 for the sender.
	FailureUnreachable
	// FailureTimeout means the target did not answer in time: a 504 for the sender.
	FailureTimeout
	// FailureCanceled means the caller gave up (shutdown).
	FailureCanceled
)

// Config configures a Forwarder. Zero values get the defaults.
type Config struct {
	// Timeout bounds one attempt, from dialling to the end of the response body. 0 means 30s.
	Timeout time.Duration
	// ResponseBodyLimit caps how much of a response body is kept in the Attempt. 0 means 1 MiB.
	ResponseBodyLimit int64
	// Header lists headers added to every outgoing request (listen -H), after the received ones.
	Header webhook.Headers
	// Transport sends the requests. nil means a transport tuned for one local target: no proxy
	// from the environment, no transparent compression, a large idle pool.
	Transport http.RoundTripper
	// Now returns the current time. nil means time.Now.
	Now func() time.Time
}

// Forwarder sends stored requests to targets. It is safe for concurrent use.
type Forwarder struct {
	timeout time.Duration
	limit   int64
	header  webhook.Headers
	client  http.RoundTripper
	now     func() time.Time
}

// New returns a Forwarder configured by cfg.
func New(cfg Config) *Forwarder {
	f := &Forwarder{timeout: cfg.Timeout, limit: cfg.ResponseBodyLimit, header: cfg.Header, client: cfg.Transport, now: cfg.Now}
	if f.timeout <= 0 {
		f.timeout = DefaultTimeout
	}
	if f.limit <= 0 {
		f.limit = DefaultResponseBodyLimit
	}
	if f.client == nil {
		f.client = &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			DisableCompression:  true,
			MaxIdleConns:        256,
			MaxIdleConnsPerHost: 256,
			IdleConnTimeout:     90 * time.Second,
		}
	}
	if f.now == nil {
		f.now = time.Now
	}
	return f
}

// Timeout is the bound on one attempt.
func (f *Forwarder) Timeout() time.Duration { return f.timeout }

// Close releases idle connections to targets.
func (f *Forwarder) Close() {
	if t, ok := f.client.(interface{ CloseIdleConnections() }); ok {
		t.CloseIdleConnections()
	}
}

// Result is the outcome of Send.
type Result struct {
	// Attempt describes the attempt. When Rest is nil it is complete; otherwise its Body holds
	// the recorded prefix and Finish completes BodySize and Duration.
	Attempt webhook.Attempt
	// Failure says why no response arrived, FailureNone when one did.
	Failure Failure
	// Response holds the target's status and headers as received (nil on failure), for
	// passing on to the sender.
	Response *http.Response
	// Rest is the part of the response body beyond Attempt.Body, when the body was longer than
	// the recording cap; nil otherwise. Finish must be called when it is not nil.
	Rest io.Reader

	body    io.Closer
	cancel  context.CancelFunc
	started time.Time
	now     func() time.Time
}

// Finish copies what remains of the response body to w (io.Discard to drop it), completes the
// Attempt's BodySize and Duration, and releases the connection. It is a no-op for a result
// whose body was read whole.
func (r *Result) Finish(w io.Writer) error {
	if r.Rest == nil {
		return nil
	}
	n, err := io.Copy(w, r.Rest)
	r.Attempt.BodySize += n
	r.Attempt.Duration = r.now().Sub(r.started)
	if err != nil && r.Attempt.Error == "" {
		r.Attempt.Error = "read response body: " + err.Error()
	}
	r.release()
	r.Rest = nil
	return err
}

func (r *Result) release() {
	if r.body != nil {
		r.body.Close()
	}
	if r.cancel != nil {
		r.cancel()
	}
}

// Send sends req to the absolute URL target (as built by JoinURI) and records the outcome.
// The request is sent with its method, URI, body and headers unchanged except that hop-by-hop
// headers are dropped and X-Forwarded-For, -Host and -Proto are added. Send never returns
// a nil Result; transport failures are described in it.
func (f *Forwarder) Send(ctx context.Context, req *webhook.Request, target string, kind webhook.AttemptKind) *Result {
	started := f.now()
	res := &Result{
		Attempt: webhook.Attempt{RequestID: req.ID, Kind: kind, Target: target, StartedAt: started},
		started: started,
		now:     f.now,
	}
	fail := func(how Failure, msg string) *Result {
		res.Failure = how
		res.Attempt.Error = msg
		res.Attempt.Duration = f.now().Sub(started)
		res.release()
		return res
	}
	u, err := splitURL(target)
	if err != nil {
		return fail(FailureUnreachable, err.Error())
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	res.cancel = cancel
	out := f.outgoing(ctx, req, u)
	resp, err := f.client.RoundTrip(out)
	if err != nil {
		return fail(classify(ctx, err, f.timeout, target))
	}
	res.Response = resp
	res.body = resp.Body
	res.Attempt.Status = resp.StatusCode
	res.Attempt.Header = webhook.FromHTTP(resp.Header)
	buf, err := io.ReadAll(io.LimitReader(resp.Body, f.limit))
	res.Attempt.Body = buf
	res.Attempt.BodySize = int64(len(buf))
	if err != nil {
		how, msg := classify(ctx, err, f.timeout, target)
		return fail(how, "read response body: "+msg)
	}
	if int64(len(buf)) == f.limit {
		// There may be more: let the caller stream it.
		res.Rest = resp.Body
		return res
	}
	res.Attempt.Duration = f.now().Sub(started)
	res.release()
	return res
}

// hopHeaders are dropped when forwarding (RFC 9110 section 7.6.1), along with the framing
// headers that the transport writes itself.
var hopHeaders = []string{
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
	"Te", "Trailer", "Transfer-Encoding", "Upgrade", "Host", "Content-Length",
}

func (f *Forwarder) outgoing(ctx context.Context, req *webhook.Request, u *url.URL) *http.Request {
	// The headers Connection names are hop-by-hop too; most requests have none.
	var listed []string
	for _, v := range req.Header.Values("Connection") {
		for name := range strings.SplitSeq(v, ",") {
			listed = append(listed, http.CanonicalHeaderKey(strings.TrimSpace(name)))
		}
	}
	h := make(http.Header, len(req.Header)+4)
	add := func(fields webhook.Headers) {
		for _, fl := range fields {
			key := http.CanonicalHeaderKey(fl.Name)
			if slices.Contains(hopHeaders, key) || slices.Contains(listed, key) {
				continue
			}
			if key == "User-Agent" {
				// The transport writes User-Agent itself, from the canonical key only.
				h[key] = append(h[key], fl.Value)
				continue
			}
			h[fl.Name] = append(h[fl.Name], fl.Value)
		}
	}
	add(req.Header)
	if _, ok := h["User-Agent"]; !ok {
		h["User-Agent"] = []string{""} // send none rather than Go's default, as the sender did
	}
	if ip, _, err := net.SplitHostPort(req.RemoteAddr); err == nil {
		if prior := req.Header.Values("X-Forwarded-For"); len(prior) > 0 {
			ip = strings.Join(prior, ", ") + ", " + ip
		}
		setHeader(h, "X-Forwarded-For", ip)
	}
	if req.Header.Get("X-Forwarded-Host") == "" && req.Host != "" {
		setHeader(h, "X-Forwarded-Host", req.Host)
	}
	if req.Header.Get("X-Forwarded-Proto") == "" {
		setHeader(h, "X-Forwarded-Proto", "http")
	}
	add(f.header)

	out := (&http.Request{
		Method:     req.Method,
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     h,
		Host:       u.Host,
	}).WithContext(ctx)
	if len(req.Body) > 0 {
		body := req.Body
		out.ContentLength = int64(len(body))
		out.Body = io.NopCloser(bytes.NewReader(body))
		out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	} else {
		out.Body = http.NoBody
	}
	return out
}

// setHeader replaces every spelling of name in h with one canonical entry.
func setHeader(h http.Header, name, value string) {
	for k := range h {
		if strings.EqualFold(k, name) {
			delete(h, k)
		}
	}
	h[name] = []string{value}
}

// splitURL turns an absolute URL built by JoinURI into a url.URL whose path and query are
// written on the wire exactly as given, without re-encoding.
func splitURL(target string) (*url.URL, error) {
	scheme, rest, ok := strings.Cut(target, "://")
	if !ok || (scheme != "http" && scheme != "https") {
		return nil, fmt.Errorf("%w %q: not an http(s) URL", ErrBadTarget, target)
	}
	i := strings.IndexAny(rest, "/?")
	if i < 0 {
		i = len(rest)
	}
	host, pathQuery := rest[:i], rest[i:]
	if host == "" {
		return nil, fmt.Errorf("%w %q: no host", ErrBadTarget, target)
	}
	path, query, hasQuery := strings.Cut(pathQuery, "?")
	if path == "" || strings.HasPrefix(path, "//") {
		// An opaque "//..." would be written in absolute form; keep such paths parsed.
		u, err := url.Parse(target)
		if err != nil {
			return nil, fmt.Errorf("%w %q: %v", ErrBadTarget, target, err)
		}
		return u, nil
	}
	return &url.URL{Scheme: scheme, Host: host, Opaque: path, RawQuery: query, ForceQuery: hasQuery && query == ""}, nil
}

func classify(ctx context.Context, err error, timeout time.Duration, target string) (Failure, string) {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || isTimeout(err):
		return FailureTimeout, fmt.Sprintf("target %s did not answer within %s", target, timeout)
	case errors.Is(ctx.Err(), context.Canceled):
		return FailureCanceled, fmt.Sprintf("forward to %s canceled", target)
	}
	return FailureUnreachable, fmt.Sprintf("target %s unreachable: %s", target, rootCause(err))
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// rootCause strips the url.Error wrapper, whose message repeats the method and URL.
func rootCause(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err.Error()
}
