// Package rawhead recovers the header lines of HTTP/1.x requests exactly as they arrived on the
// wire: names in the case the sender used and lines in the order it sent them, which net/http
// loses when it canonicalises names into an http.Header map.
//
// Listen wraps a listener so that each accepted connection watches the bytes net/http reads
// from it. The watcher follows HTTP/1.x request framing (Content-Length and chunked bodies,
// trailers, pipelining) and keeps a copy of every request's header block, never of its body.
// ConnContext, installed as http.Server.ConnContext, makes the connection's blocks reachable
// from its requests, and Headers hands a handler the block of the request it is serving:
//
//	srv := &http.Server{Handler: h, ConnContext: rawhead.ConnContext}
//	srv.Serve(rawhead.Listen(ln))
//
//	// in the handler:
//	hdr, ok := rawhead.Headers(r)
//	if !ok {
//		hdr = webhook.FromHTTP(r.Header)
//	}
//
// Headers only returns a block after checking it against what net/http parsed for the request,
// so it never reports headers that differ from r's; when it cannot vouch for a block it
// reports ok == false and the caller falls back to r.Header.
//
// Limits:
//   - The listener must yield plaintext HTTP/1.x. To serve TLS, wrap the listener returned by
//     tls.NewListener, with a tls.Config whose NextProtos does not offer "h2", and call
//     Serve, not ServeTLS; the server then sees no *tls.Conn, so r.TLS is nil. HTTP/2
//     requests are never recorded.
//   - ConnContext must receive the conn that Listen's Accept returned: a listener wrapped
//     around Listen's (such as netutil.LimitListener) hides it.
//   - Header blocks over http.DefaultMaxHeaderBytes+4096 bytes are not recorded, even when
//     http.Server.MaxHeaderBytes allows them; the rest of that connection is not recorded.
//   - A block with obs-fold continuation lines is never returned.
//   - Once a handler hijacks the connection, whatever it reads is followed as if it were
//     HTTP/1.x requests, harmlessly.
package rawhead

import (
	"context"
	"errors"
	"net"
	"net/http"

	"github.com/hookctl/hookctl/internal/webhook"
)

// Listen wraps ln so that every accepted connection records the header block of each HTTP/1.x
// request read from it. Bytes pass through unchanged. The recorder of a connection is dropped
// when the connection is closed, or when its stream stops making sense as HTTP/1.x requests
// (for example a header block longer than http.DefaultMaxHeaderBytes+4096 bytes, or a body
// framing net/http would refuse); the connection itself keeps working either way.
func Listen(ln net.Listener) net.Listener {
	return &listener{Listener: ln}
}

// ConnContext is meant for http.Server.ConnContext: it attaches the connection's recorder to
// the context (no-op for conns not from Listen).
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	rc, ok := c.(*conn)
	if !ok {
		return ctx
	}
	return context.WithValue(ctx, recorderKey{}, &rc.rec)
}

// Headers returns r's header lines in wire order and case, taken from its connection's
// recorder. ok is false when the block is unavailable (conn not wrapped, HTTP/2, recorder gave
// up, or the recorded block does not match r); callers then fall back to
// webhook.FromHTTP(r.Header).
//
// Every line of the block is returned, with its name as sent and its value with surrounding
// spaces and tabs removed, as net/http stores it; that includes the lines net/http moves out of
// r.Header (Host, Transfer-Encoding, and Content-Length or Trailer on a chunked request). A
// block is only returned when its request line matches r.Method, r.RequestURI and r.Proto and
// its lines account for exactly r.Header, r.Host, r.ContentLength and r.TransferEncoding.
//
// Headers consumes the block, so it must be called at most once per request, and before the
// handler changes r.Header.
func Headers(r *http.Request) (h webhook.Headers, ok bool) {
	if r.ProtoMajor != 1 {
		return nil, false
	}
	rec, _ := r.Context().Value(recorderKey{}).(*recorder)
	if rec == nil {
		return nil, false
	}
	return rec.match(r)
}

// recorderKey is the context key under which ConnContext stores a *recorder.
type recorderKey struct{}

// listener wraps the connections that a net.Listener accepts.
type listener struct {
	net.Listener
}

// Accept waits for the next connection and wraps it.
func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return c, err
	}
	return &conn{Conn: c}, nil
}

// conn feeds every byte read from it to its recorder.
type conn struct {
	net.Conn
	rec recorder
}

// Read reads from the connection and records what it read.
func (c *conn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.rec.feed(p[:n])
	}
	return n, err
}

// Close closes the connection and discards its recorder's state.
func (c *conn) Close() error {
	err := c.Conn.Close()
	c.rec.stop()
	return err
}

// CloseWrite shuts down the writing side when the wrapped connection supports it, as
// *net.TCPConn does; net/http uses it to let a client read an error response before closing.
func (c *conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}
