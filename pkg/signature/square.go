package signature

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"hash"
	"net/http"
	"time"
)

// Square is Square's webhook scheme: x-square-hmacsha256-signature is the base64 HMAC-SHA256,
// keyed with the subscription's signature key as-is, of the subscription's notification URL
// followed by the raw body. The legacy x-square-signature is the same with HMAC-SHA1; it is
// checked only when the SHA-256 header is absent. Nothing is timestamped, so Skew is always 0
// (event_id is Square's replay guard).
//
// Request.URL must be the notification URL exactly as configured in Square (it is signed as a
// string), not the local URL a tunnel forwarded to.
//
// https://developer.squareup.com/docs/webhooks/step3validate
type Square struct{}

const (
	squareHeader       = "X-Square-Hmacsha256-Signature"
	squareLegacyHeader = "X-Square-Signature"
)

// Name implements Scheme.
func (Square) Name() string { return "square" }

// Detect implements Scheme: the request carries x-square-hmacsha256-signature or the legacy
// x-square-signature.
func (Square) Detect(h http.Header) bool {
	return h.Get(squareHeader) != "" || h.Get(squareLegacyHeader) != ""
}

// squareMAC is the HMAC of the notification URL followed by the body.
func squareMAC(h func() hash.Hash, secret, notificationURL string, body []byte) []byte {
	return hmacSum(h, []byte(secret), []byte(notificationURL), body)
}

// Verify implements Scheme.
func (Square) Verify(r *Request, secret string, _ Options) Result {
	header, newHash, size, label := squareHeader, sha256.New, sha256.Size, "HMAC-SHA256"
	v := r.Header.Get(squareHeader)
	if v == "" {
		header, newHash, size, label = squareLegacyHeader, sha1.New, sha1.Size, "legacy HMAC-SHA1"
		v = r.Header.Get(squareLegacyHeader)
	}
	if v == "" {
		return Result{Status: Unsigned, Problem: MissingHeader,
			Reason: "no " + squareHeader + " (or legacy " + squareLegacyHeader + ") header"}
	}
	got, ok := decodeSigB64(v, size)
	if !ok {
		return invalid(MalformedHeader, "%s is not %s", header, encodedDesc("base64", size))
	}
	if secret == "" {
		return invalid(BadSecret, "the Square signature key is empty")
	}
	if r.URL == "" {
		return invalid(MissingHeader, "no notification URL: Square signs the subscription's notification URL followed by the body")
	}
	if !equal(squareMAC(newHash, secret, r.URL, r.Body), got) {
		return invalid(Mismatch, "%s does not match: the body or the notification URL (%s) differs from what Square signed, or the signature key is wrong",
			header, clipURLForReason(redactURL(r.URL)))
	}
	if header == squareLegacyHeader {
		return valid(label+" signature matches (no "+squareHeader+" header)", 0)
	}
	return valid(label+" signature matches", 0)
}

// Sign implements Scheme: it sets x-square-hmacsha256-signature and the legacy
// x-square-signature over r.URL, which must be the notification URL; t is not used.
func (Square) Sign(r *Request, secret string, _ time.Time) error {
	if secret == "" {
		return fmt.Errorf("square: %w: the signature key is empty", ErrBadSecret)
	}
	if r.URL == "" {
		return fmt.Errorf("square: no notification URL: Square signs the subscription's notification URL")
	}
	if r.Header == nil {
		r.Header = http.Header{}
	}
	r.Header.Set(squareHeader, base64.StdEncoding.EncodeToString(squareMAC(sha256.New, secret, r.URL, r.Body)))
	r.Header.Set(squareLegacyHeader, base64.StdEncoding.EncodeToString(squareMAC(sha1.New, secret, r.URL, r.Body)))
	return nil
}

// Event implements Scheme: type ("payment.updated") and event_id from the JSON body.
func (Square) Event(_ http.Header, body []byte) (eventType, deliveryID string) {
	obj := jsonObject(body)
	return jsonStringField(obj, "type"), jsonStringField(obj, "event_id")
}
