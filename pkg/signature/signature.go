// Package signature detects, verifies and signs the signature schemes webhook providers use:
// Stripe, GitHub, Slack, Shopify, Twilio, Standard Webhooks (Svix, Clerk), Paddle, Linear,
// Zoom, Square, Discord and a configurable generic HMAC. Verification always works on the raw
// body as received, and says precisely why a signature does not verify. It imports nothing
// from hookctl's internal packages and can be used on its own.
package signature

import (
	"crypto/hmac"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Request is what a signature covers: the method, the full URL the sender used (Twilio and
// Square sign it), the headers and the raw body exactly as received.
type Request struct {
	Method string
	URL    string
	Header http.Header
	Body   []byte
}

// Status is the outcome of a verification.
type Status string

// Statuses.
const (
	// Valid: a signature matches.
	Valid Status = "valid"
	// Invalid: the signature is missing a part, malformed, or does not match.
	Invalid Status = "invalid"
	// Stale: a signature matches but its timestamp is outside the tolerance.
	Stale Status = "stale"
	// Unsigned: the request carries no signature of the scheme.
	Unsigned Status = "unsigned"
)

// Problem says what is wrong when a signature does not verify.
type Problem string

// Problems.
const (
	NoProblem       Problem = ""
	MissingHeader   Problem = "missing-header"
	MalformedHeader Problem = "malformed-header"
	Mismatch        Problem = "mismatch"
	OutsideWindow   Problem = "outside-tolerance"
	BadSecret       Problem = "bad-secret"
)

// Result is the outcome of Verify.
type Result struct {
	Status  Status
	Problem Problem
	// Reason explains the outcome in one line, e.g. "timestamp is 12m3s old, tolerance 5m0s".
	Reason string
	// Skew is how far the signed timestamp is from the verification time (positive: in the
	// past), for schemes that sign one.
	Skew time.Duration
}

// ErrCannotSign is returned by Sign for schemes whose signatures cannot be made with the
// verification secret (Discord's Ed25519 public key, Standard Webhooks' whpk_ keys).
var ErrCannotSign = errors.New("this scheme cannot sign with a verification key")

// ErrBadSecret is wrapped by Sign for a secret in the wrong format.
var ErrBadSecret = errors.New("malformed secret")

// Options tune verification. Zero values get each scheme's defaults.
type Options struct {
	// Now is the verification time; zero means time.Now().
	Now time.Time
	// Tolerance is how far a signed timestamp may be from Now; zero means the scheme's
	// default (the provider's official SDK's), negative means timestamps are not checked.
	Tolerance time.Duration
}

// Scheme is one provider's signature scheme.
type Scheme interface {
	// Name is the scheme's name as users type it ("stripe", "github", ...).
	Name() string
	// Detect reports whether h carries this scheme's signature headers.
	Detect(h http.Header) bool
	// Verify checks r's signature with secret (in the format the provider gives it, such as
	// "whsec_..." for Stripe). A secret in the wrong format gives Invalid with BadSecret.
	Verify(r *Request, secret string, opt Options) Result
	// Sign adds to r.Header the signature a sender with secret would send at time t,
	// replacing any the request had; it returns an error wrapping ErrCannotSign for
	// verification-only schemes.
	Sign(r *Request, secret string, t time.Time) error
	// Event returns the event type and the provider's delivery or event id of a request,
	// from its headers or body; "" for what it cannot tell.
	Event(h http.Header, body []byte) (eventType, deliveryID string)
}

// Schemes returns every built-in scheme, in detection order (most specific headers first).
// The generic HMAC scheme is not among them: it needs a Generic configuration.
func Schemes() []Scheme {
	return []Scheme{
		Stripe{}, GitHub{}, Slack{}, Shopify{}, Twilio{}, StandardWebhooks{}, Paddle{},
		Linear{}, Zoom{}, Square{}, Discord{},
	}
}

// Names returns the names of the built-in schemes, sorted, with their aliases.
func Names() []string {
	var names []string
	for _, s := range Schemes() {
		names = append(names, s.Name())
	}
	names = append(names, "svix", "clerk")
	slices.Sort(names)
	return names
}

// Lookup returns the built-in scheme called name, case-insensitively; "svix" and "clerk" are
// Standard Webhooks.
func Lookup(name string) (Scheme, bool) {
	n := strings.ToLower(strings.TrimSpace(name))
	switch n {
	case "svix", "clerk", "standard-webhooks", "standardwebhooks":
		n = StandardWebhooks{}.Name()
	}
	for _, s := range Schemes() {
		if s.Name() == n {
			return s, true
		}
	}
	return nil, false
}

// Detect returns the first built-in scheme whose signature headers h carries.
func Detect(h http.Header) (Scheme, bool) {
	for _, s := range Schemes() {
		if s.Detect(h) {
			return s, true
		}
	}
	return nil, false
}

// Helpers shared by the schemes.

// equal compares two MACs in constant time.
func equal(a, b []byte) bool { return hmac.Equal(a, b) }

// unsigned is the Result for a request without the scheme's signature header.
func unsigned(header string) Result {
	return Result{Status: Unsigned, Problem: MissingHeader, Reason: "no " + header + " header"}
}

// invalid builds an Invalid result.
func invalid(p Problem, format string, args ...any) Result {
	return Result{Status: Invalid, Problem: p, Reason: fmt.Sprintf(format, args...)}
}

// valid builds a Valid result.
func valid(reason string, skew time.Duration) Result {
	return Result{Status: Valid, Reason: reason, Skew: skew}
}

// checkWindow returns a Stale result when a matching signature's timestamp ts is outside
// the tolerance around now, and ok otherwise.
func checkWindow(ts, now time.Time, tolerance time.Duration) (Result, bool) {
	skew := now.Sub(ts)
	if tolerance < 0 {
		return Result{}, true
	}
	if skew > tolerance || skew < -tolerance {
		dir := "old"
		d := skew
		if skew < 0 {
			dir, d = "in the future", -skew
		}
		return Result{Status: Stale, Problem: OutsideWindow, Skew: skew,
			Reason: fmt.Sprintf("signature matches, but its timestamp is %s %s (tolerance %s)", d.Round(time.Second), dir, tolerance)}, false
	}
	return Result{}, true
}

// now returns opt.Now or the current time.
func (o Options) now() time.Time {
	if o.Now.IsZero() {
		return time.Now()
	}
	return o.Now
}

// tolerance returns opt.Tolerance or def.
func (o Options) tolerance(def time.Duration) time.Duration {
	if o.Tolerance == 0 {
		return def
	}
	return o.Tolerance
}
