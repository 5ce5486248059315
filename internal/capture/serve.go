package capture

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
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
		Handler:           h,
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
