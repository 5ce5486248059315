package signature

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"time"
)

// Shopify is Shopify's webhook scheme: X-Shopify-Hmac-Sha256 is the base64 HMAC-SHA256 of the
// raw body, keyed with the app's client secret (API secret key) as-is. Nothing is timestamped,
// so Skew is always 0; X-Shopify-Webhook-Id / X-Shopify-Event-Id are Shopify's replay guards.
//
// https://shopify.dev/docs/apps/build/webhooks/subscribe/https#step-2-validate-the-origin-of-your-webhook-to-ensure-its-coming-from-shopify
type Shopify struct{}

const (
	shopifyHeader    = "X-Shopify-Hmac-Sha256"
	shopifyTopic     = "X-Shopify-Topic"
	shopifyWebhookID = "X-Shopify-Webhook-Id"
	shopifyEventID   = "X-Shopify-Event-Id"
)

// Name implements Scheme.
func (Shopify) Name() string { return "shopify" }

// Detect implements Scheme: the request carries X-Shopify-Hmac-Sha256.
func (Shopify) Detect(h http.Header) bool { return h.Get(shopifyHeader) != "" }

// Verify implements Scheme.
func (Shopify) Verify(r *Request, secret string, _ Options) Result {
	v := r.Header.Get(shopifyHeader)
	if v == "" {
		return unsigned(shopifyHeader)
	}
	got, ok := decodeSigB64(v, sha256.Size)
	if !ok {
		return invalid(MalformedHeader, "%s is not %s", shopifyHeader, encodedDesc("base64", sha256.Size))
	}
	if secret == "" {
		return invalid(BadSecret, "the Shopify client secret is empty")
	}
	if !equal(hmacSum(sha256.New, []byte(secret), r.Body), got) {
		return invalid(Mismatch, "%s does not match: %s (Shopify signs with the app's client secret)", shopifyHeader, mismatchWhy)
	}
	return valid("signature matches", 0)
}

// Sign implements Scheme: it sets X-Shopify-Hmac-Sha256; t is not used.
func (Shopify) Sign(r *Request, secret string, _ time.Time) error {
	if secret == "" {
		return fmt.Errorf("shopify: %w: the client secret is empty", ErrBadSecret)
	}
	if r.Header == nil {
		r.Header = http.Header{}
	}
	r.Header.Set(shopifyHeader, base64.StdEncoding.EncodeToString(hmacSum(sha256.New, []byte(secret), r.Body)))
	return nil
}

// Event implements Scheme: the topic from X-Shopify-Topic ("orders/create") and the delivery's
// X-Shopify-Webhook-Id, or X-Shopify-Event-Id when that is absent. Shopify publishes the same
// body for several topics, so the body is not read.
func (Shopify) Event(h http.Header, _ []byte) (eventType, deliveryID string) {
	id := h.Get(shopifyWebhookID)
	if id == "" {
		id = h.Get(shopifyEventID)
	}
	return h.Get(shopifyTopic), id
}
