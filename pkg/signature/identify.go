package signature

import (
	"net/http"
	"strings"
)

// providerHeaders are headers that name a provider even on a request that carries no
// signature (an endpoint configured without a secret, say), in the order they are checked.
var providerHeaders = []struct{ header, scheme string }{
	{"X-GitHub-Event", "github"},
	{"X-Shopify-Topic", "shopify"},
	{"X-Slack-Request-Timestamp", "slack"},
	{"Svix-Id", "standard-webhooks"},
	{"Webhook-Id", "standard-webhooks"},
	{"Linear-Delivery", "linear"},
	{"Paddle-Signature", "paddle"},
	{"X-Zm-Request-Timestamp", "zoom"},
	{"X-Twilio-Signature", "twilio"},
}

// Identify returns the scheme of the provider that sent a request: the one whose signature
// headers it carries, or else one that a provider-specific header or Stripe's User-Agent
// names. It returns false for requests from unknown senders.
func Identify(h http.Header) (Scheme, bool) {
	if s, ok := Detect(h); ok {
		return s, true
	}
	for _, p := range providerHeaders {
		if h.Get(p.header) != "" {
			return Lookup(p.scheme)
		}
	}
	if strings.HasPrefix(h.Get("User-Agent"), "Stripe/") {
		return Lookup("stripe")
	}
	return nil, false
}

// Timestamped reports whether s signs a timestamp that verifiers check against a tolerance,
// so that an old request's signature fails as stale however authentic it is.
func Timestamped(s Scheme) bool {
	switch s.Name() {
	case "stripe", "slack", "standard-webhooks", "paddle", "zoom", "linear":
		return true
	}
	return false
}
