// Package tunnel provides the ingresses a sender reaches hookctl through: each is a
// net.Listener plus the URL to give to the sender. The local ingress is always on; public
// ingresses (ngrok, the self-hosted relay) are added on top.
package tunnel

import (
	"errors"
	"fmt"
	"net"
	"syscall"

	"github.com/hookctl/hookctl/internal/webhook"
)

// Ingress is a listener that accepts connections from senders, and the URL they use.
type Ingress interface {
	net.Listener
	// URL is the base URL senders send webhooks to.
	URL() string
	// Name identifies the ingress in the log: one of the webhook.Ingress* names.
	Name() string
}

// ErrAddrInUse is wrapped by Local when the address is taken.
var ErrAddrInUse = errors.New("address already in use")

type local struct {
	net.Listener
	url string
}

func (l *local) URL() string  { return l.url }
func (l *local) Name() string { return webhook.IngressLocal }

// Local listens on the TCP address addr (host:port; port 0 picks a free one) and returns it as
// an Ingress whose URL is http://host:port.
func Local(addr string) (Ingress, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("listen on %s: %w (is another hookctl listen running? pick another port with --addr)", addr, ErrAddrInUse)
		}
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return &local{Listener: ln, url: "http://" + net.JoinHostPort(host, port)}, nil
}

// Exposed reports whether ln accepts connections from other machines: it is bound to an
// address other than a loopback one (all interfaces, or a network interface's address).
func Exposed(ln net.Listener) bool {
	a, ok := ln.Addr().(*net.TCPAddr)
	return ok && !a.IP.IsLoopback()
}
