package capture

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hookctl/hookctl/internal/rawhead"
)

// ServeConfig bounds how long clients may take. Zero values get the defaults.
type ServeConfig struct {
	// ReadHeaderTimeout bounds reading a request's headers. 0 means 10s.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, body included. 0 means 60s.
	ReadTimeout time.Duration
	// WriteTimeout bounds a request from the end of its headers to the end of the response;
	// it must cover the forward timeout. 0 means ReadTimeout plus 2 minutes.
	WriteTimeout time.Duration
	// IdleTimeout bounds an idle keep-alive connection. 0 means 2 minutes.
	IdleTimeout time.Duration
	// ShutdownTimeout bounds the wait for in-flight requests after ctx ends. 0 means 10s.
	ShutdownTimeout time.Duration
	// Logger receives server errors. nil means discard.
	Logger *slog.Logger
}

// Serve serves h on ln until ctx ends, then stops accepting, waits for in-flight requests
// (bounded by ShutdownTimeout) and returns nil. Header names are recorded in their wire order
// and case (see package rawhead).
func Serve(ctx context.Context, ln net.Listener, h http.Handler, cfg ServeConfig) error {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.ReadHeaderTimeout, 10*time.Second)
	def(&cfg.ReadTimeout, time.Minute)
	def(&cfg.WriteTimeout, cfg.ReadTimeout+2*time.Minute)
	def(&cfg.IdleTimeout, 2*time.Minute)
	def(&cfg.ShutdownTimeout, 10*time.Second)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	srv := &http.Server{
		Handler:           closeUnsentBody(h),
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		ConnContext:       rawhead.ConnContext,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(rawhead.Listen(ln)) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		srv.Close()
		err = fmt.Errorf("shutdown: requests still in flight after %s were cut off", cfg.ShutdownTimeout)
	}
	<-errc
	return err
}

// closeUnsentBody wraps h for requests that wait for "100 Continue" before sending their body.
// When h answers one without reading its body (an oversize body, say), the sender never sends
// the body, yet net/http would wait for it until ReadTimeout before closing the connection; the
// connection's read deadline is set to now instead, so that it closes once the answer is sent.
func closeUnsentBody(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength == 0 || !r.ProtoAtLeast(1, 1) || !expectsContinue(r.Header.Values("Expect")) {
			h.ServeHTTP(w, r)
			return
		}
		body := &readWatcher{ReadCloser: r.Body}
		r2 := *r
		r2.Body = body
		h.ServeHTTP(w, &r2)
		if !body.read.Load() {
			// The answer is written before net/http reads what is left of the body.
			_ = http.NewResponseController(w).SetReadDeadline(time.Now())
		}
	})
}

// expectsContinue reports whether Expect header values ask for 100 Continue.
func expectsContinue(values []string) bool {
	for _, v := range values {
		for e := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(e), "100-continue") {
				return true
			}
		}
	}
	return false
}

// readWatcher records whether its body was ever read.
type readWatcher struct {
	io.ReadCloser
	read atomic.Bool
}

// Read marks the body as read and reads from it.
func (b *readWatcher) Read(p []byte) (int, error) {
	b.read.Store(true)
	return b.ReadCloser.Read(p)
}
