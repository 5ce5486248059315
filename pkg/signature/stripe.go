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

// Stripe is Stripe's scheme: a Stripe-Signature header "t=<unix>,v1=<hex>[,v1=<hex>...]" whose
// v1 values are hex HMAC-SHA256 of "<t>.<body>", keyed with the endpoint's whole signing secret
// ("whsec_...", used as-is). During a secret roll Stripe sends one v1 per secret; any match is
// enough. v0 (a legacy test-mode scheme) is ignored, as Stripe's libraries do. The default
// tolerance is 300 s, as in stripe-go (webhook.DefaultTolerance).
//
// https://docs.stripe.com/webhooks#verify-manually
type Stripe struct{}

const (
	stripeHeader    = "Stripe-Signature"
	stripeTolerance = 300 * time.Second
	stripeSecretPre = "whsec_"
)

// Name implements Scheme.
func (Stripe) Name() string { return "stripe" }

// Detect implements Scheme: the request carries a Stripe-Signature header.
func (Stripe) Detect(h http.Header) bool { return h.Get(stripeHeader) != "" }

// stripeSigned is a parsed Stripe-Signature header.
type stripeSigned struct {
	ts         time.Time
	v1         [][]byte
	unreadable int // v1 values that are not hex
	v0         int
}

// parseStripeHeader parses a Stripe-Signature value; the Result is set when it is malformed.
func parseStripeHeader(v string) (stripeSigned, *Result) {
	var s stripeSigned
	haveT := false
	for pair := range strings.SplitSeq(v, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		k, val, ok := strings.Cut(pair, "=")
		if !ok {
			r := invalid(MalformedHeader, "%s has an element without '=' (expected t=<unix>,v1=<hex>)", stripeHeader)
			return s, &r
		}
		switch k {
		case "t":
			ts, ok := parseEpoch(val, time.Second)
			if !ok {
				r := invalid(MalformedHeader, "%s timestamp t=%q is not unix seconds", stripeHeader, clipForReason(val))
				return s, &r
			}
			s.ts, haveT = ts, true
		case "v1":
			sig, err := hex.DecodeString(val)
			if err != nil || len(sig) != sha256.Size {
				s.unreadable++
				continue
			}
			s.v1 = append(s.v1, sig)
		case "v0":
			s.v0++
		}
	}
	switch {
	case !haveT:
		r := invalid(MalformedHeader, "%s has no t=<unix> timestamp", stripeHeader)
		return s, &r
	case len(s.v1) == 0 && s.unreadable > 0:
		r := invalid(MalformedHeader, "%s v1 signature is not 64 hex digits", stripeHeader)
		return s, &r
	case len(s.v1) == 0 && s.v0 > 0:
		r := invalid(MalformedHeader, "%s has only a v0 signature (Stripe's legacy test scheme); hookctl checks v1", stripeHeader)
		return s, &r
	case len(s.v1) == 0:
		r := invalid(MalformedHeader, "%s has no v1 signature", stripeHeader)
		return s, &r
	}
	return s, nil
}

// checkStripeSecret reports what is wrong with a Stripe signing secret, or "".
func checkStripeSecret(secret string) string {
	switch {
	case strings.HasPrefix(secret, "sk_"), strings.HasPrefix(secret, "rk_"), strings.HasPrefix(secret, "pk_"):
		return "the secret is a Stripe API key; webhooks are signed with the endpoint's signing secret (whsec_...)"
	case !strings.HasPrefix(secret, stripeSecretPre):
		return "a Stripe signing secret starts with whsec_ (the endpoint's signing secret, or the one stripe listen prints)"
	case len(secret) == len(stripeSecretPre):
		return "the Stripe signing secret is empty after whsec_"
	}
	return ""
}

// stripeMAC is the v1 signature: HMAC-SHA256 of "<unix>.<body>" keyed with the secret as-is.
func stripeMAC(secret string, ts time.Time, body []byte) []byte {
	return hmacSum(sha256.New, []byte(secret), []byte(strconv.FormatInt(ts.Unix(), 10)), []byte("."), body)
}

// Verify implements Scheme.
func (Stripe) Verify(r *Request, secret string, opt Options) Result {
	v := r.Header.Get(stripeHeader)
	if v == "" {
		return unsigned(stripeHeader)
	}
	s, bad := parseStripeHeader(v)
	if bad != nil {
		return *bad
	}
	if msg := checkStripeSecret(secret); msg != "" {
		return invalid(BadSecret, "%s", msg)
	}
	return matchVersions("v1", stripeMAC(secret, s.ts, r.Body), s.v1, s.ts, opt, stripeTolerance,
		"body differs from what was signed, or the secret is wrong (stripe listen and each dashboard endpoint have their own whsec_)")
}

// Sign implements Scheme: it sets Stripe-Signature to "t=<unix>,v1=<hex>".
func (Stripe) Sign(r *Request, secret string, t time.Time) error {
	if msg := checkStripeSecret(secret); msg != "" {
		return fmt.Errorf("stripe: %w: %s", ErrBadSecret, msg)
	}
	if r.Header == nil {
		r.Header = http.Header{}
	}
	r.Header.Set(stripeHeader, fmt.Sprintf("t=%d,v1=%s", t.Unix(), hex.EncodeToString(stripeMAC(secret, t, r.Body))))
	return nil
}

// Event implements Scheme: the event's type and id from the JSON body ("" for a body that is not
// a Stripe event, such as a bare API object).
func (Stripe) Event(h http.Header, body []byte) (eventType, deliveryID string) {
	f := bodyStringFields(body, "type", "id")
	if f["type"] == "" {
		return "", ""
	}
	return f["type"], f["id"]
}
