package signature

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Paddle is Paddle Billing's scheme: Paddle-Signature "ts=<unix>;h1=<hex>" where h1 is the hex
// HMAC-SHA256 of "<ts>:<body>", keyed with the notification destination's secret key as-is
// ("pdl_ntfset_..."; older secrets have other forms, all accepted). While a secret is being
// rotated Paddle sends several h1 values; any match is enough, and h1 values that are not hex
// are skipped (as Paddle's PHP SDK does). The default tolerance is 5 s, as in Paddle's Node SDK
// (WebhooksValidator.MAX_VALID_TIME_DIFFERENCE); Paddle's Classic p_signature is not supported.
//
// https://developer.paddle.com/webhooks/signature-verification
type Paddle struct{}

const (
	paddleHeader    = "Paddle-Signature"
	paddleTolerance = 5 * time.Second
)

// Name implements Scheme.
func (Paddle) Name() string { return "paddle" }

// Detect implements Scheme: the request carries Paddle-Signature.
func (Paddle) Detect(h http.Header) bool { return h.Get(paddleHeader) != "" }

// paddleSigned is a parsed Paddle-Signature header.
type paddleSigned struct {
	tsText string // the ts digits exactly as sent: they are what is signed
	ts     time.Time
	h1     [][]byte
}

// parsePaddleHeader parses a Paddle-Signature value; the Result is set when it is malformed.
func parsePaddleHeader(v string) (paddleSigned, *Result) {
	var s paddleSigned
	bad := func(format string, args ...any) (paddleSigned, *Result) {
		r := invalid(MalformedHeader, format, args...)
		return s, &r
	}
	unreadable := 0
	for part := range strings.SplitSeq(v, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, val, ok := strings.Cut(part, "=")
		if !ok {
			return bad("%s has an element without '=' (expected ts=<unix>;h1=<hex>)", paddleHeader)
		}
		switch strings.TrimSpace(k) {
		case "ts":
			if s.tsText != "" {
				return bad("%s has more than one ts", paddleHeader)
			}
			ts, ok := parseEpoch(val, time.Second)
			if !ok {
				return bad("%s timestamp ts=%q is not unix seconds", paddleHeader, clipForReason(val))
			}
			s.tsText, s.ts = val, ts
		case "h1":
			if sig, ok := decodeSigHex(val, sha256.Size); ok {
				s.h1 = append(s.h1, sig)
			} else {
				unreadable++
			}
		}
	}
	switch {
	case s.tsText == "":
		return bad("%s has no ts=<unix> timestamp", paddleHeader)
	case len(s.h1) == 0 && unreadable > 0:
		return bad("%s h1 signature is not 64 hex digits", paddleHeader)
	case len(s.h1) == 0:
		return bad("%s has no h1 signature", paddleHeader)
	}
	return s, nil
}

// checkPaddleSecret reports what is wrong with a Paddle secret key, or "".
func checkPaddleSecret(secret string) string {
	switch {
	case secret == "":
		return "the Paddle secret key is empty"
	case strings.Contains(secret, "_apikey_"):
		return "the secret is a Paddle API key; webhooks are signed with the notification destination's secret key (pdl_ntfset_...)"
	}
	return ""
}

// paddleMAC is the h1 signature: HMAC-SHA256 of "<ts>:<body>".
func paddleMAC(secret, ts string, body []byte) []byte {
	return hmacSum(sha256.New, []byte(secret), []byte(ts), []byte(":"), body)
}

// Verify implements Scheme.
func (Paddle) Verify(r *Request, secret string, opt Options) Result {
	v := r.Header.Get(paddleHeader)
	if v == "" {
		return unsigned(paddleHeader)
	}
	s, bad := parsePaddleHeader(v)
	if bad != nil {
		return *bad
	}
	if msg := checkPaddleSecret(secret); msg != "" {
		return invalid(BadSecret, "%s", msg)
	}
	return matchVersions("h1", paddleMAC(secret, s.tsText, r.Body), s.h1, s.ts, opt, paddleTolerance, mismatchWhy)
}

// Sign implements Scheme: it sets Paddle-Signature to "ts=<unix>;h1=<hex>".
func (Paddle) Sign(r *Request, secret string, t time.Time) error {
	if msg := checkPaddleSecret(secret); msg != "" {
		return fmt.Errorf("paddle: %w: %s", ErrBadSecret, msg)
	}
	if r.Header == nil {
		r.Header = http.Header{}
	}
	ts := strconv.FormatInt(t.Unix(), 10)
	r.Header.Set(paddleHeader, "ts="+ts+";h1="+hex.EncodeToString(paddleMAC(secret, ts, r.Body)))
	return nil
}

// Event implements Scheme: event_type and event_id from the JSON body.
func (Paddle) Event(_ http.Header, body []byte) (eventType, deliveryID string) {
	obj := jsonObject(body)
	return jsonStringField(obj, "event_type"), jsonStringField(obj, "event_id")
}
