package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
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
			ts, ok := unixSecondsHeader(val)
			if !ok {
				r := invalid(MalformedHeader, "%s timestamp t=%q is not unix seconds", stripeHeader, clipHeaderValue(val))
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
	now := opt.now()
	skew := now.Sub(s.ts)
	want := stripeMAC(secret, s.ts, r.Body)
	match := -1
	for i, sig := range s.v1 {
		if equal(want, sig) && match < 0 {
			match = i
		}
	}
	if match < 0 {
		res := invalid(Mismatch, "%s: body differs from what was signed, or the secret is wrong (stripe listen and each dashboard endpoint have their own whsec_)",
			sigNoMatchText("v1", len(s.v1)))
		res.Skew = skew
		return res
	}
	tol := opt.tolerance(stripeTolerance)
	if res, ok := checkWindow(s.ts, now, tol); !ok {
		return res
	}
	return valid(sigMatchedText("v1", match, len(s.v1))+sigSkewText(skew, tol), skew)
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

// Helpers shared by stripe.go, github.go, slack.go and standardwebhooks.go.

// hmacSum returns the HMAC of the concatenated parts.
func hmacSum(h func() hash.Hash, key []byte, parts ...[]byte) []byte {
	m := hmac.New(h, key)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// unixSecondsHeader parses a timestamp header of unix seconds (decimal digits only).
func unixSecondsHeader(s string) (time.Time, bool) {
	if s == "" || len(s) > 18 || strings.TrimLeft(s, "0123456789") != "" {
		return time.Time{}, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(n, 0), true
}

// bodyStringFields returns the top-level string fields keys of a JSON object body; fields that
// are absent or not strings are "".
func bodyStringFields(body []byte, keys ...string) map[string]string {
	out := make(map[string]string, len(keys))
	var obj map[string]json.RawMessage
	if json.Unmarshal(body, &obj) != nil {
		return out
	}
	for _, k := range keys {
		var s string
		if raw, ok := obj[k]; ok && json.Unmarshal(raw, &s) == nil {
			out[k] = s
		}
	}
	return out
}

// sigSkewText describes a signed timestamp's age for a Valid reason.
func sigSkewText(skew, tolerance time.Duration) string {
	age := "old"
	if skew < 0 {
		age, skew = "in the future", -skew
	}
	if tolerance < 0 {
		return fmt.Sprintf("; timestamp %s %s, not checked", skew.Round(time.Second), age)
	}
	return fmt.Sprintf("; timestamp %s %s (tolerance %s)", skew.Round(time.Second), age, tolerance)
}

// sigMatchedText says which of n signatures of a version matched.
func sigMatchedText(version string, i, n int) string {
	if n == 1 {
		return version + " signature matches"
	}
	return fmt.Sprintf("%s signature %d of %d matches", version, i+1, n)
}

// sigNoMatchText says that none of n signatures of a version matched.
func sigNoMatchText(version string, n int) string {
	if n == 1 {
		return version + " signature does not match"
	}
	return fmt.Sprintf("none of the %d %s signatures matches", n, version)
}

// clipHeaderValue shortens an attacker-controlled header value quoted in a Reason.
func clipHeaderValue(s string) string {
	if len(s) > 24 {
		return s[:24] + "..."
	}
	return s
}
