package signature

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// fuzzSecrets holds a secret in the right format for every built-in scheme that can sign.
var fuzzSecrets = map[string]string{
	"stripe":            stripeTestSecret,
	"github":            githubTestSecret,
	"slack":             slackTestSecret,
	"shopify":           shopifyTestSecret,
	"twilio":            "hookctl-twilio-auth-token",
	"standard-webhooks": swTestSecret,
	"paddle":            paddleTestSecret,
	"linear":            linearTestSecret,
	"zoom":              zoomTestSecret,
	"square":            "hookctl-square-signature-key",
}

// fuzzExtraHeaders are headers a scheme reads besides those its Sign writes: the other
// Standard Webhooks family, headers that name a provider or carry a delivery id.
var fuzzExtraHeaders = map[string][]string{
	"standard-webhooks": {"Svix-Id", "Svix-Timestamp", "Svix-Signature"},
	"github":            {"X-GitHub-Event", "X-GitHub-Delivery"},
	"shopify":           {"X-Shopify-Topic", "X-Shopify-Webhook-Id", "X-Shopify-Event-Id"},
	"twilio":            {"I-Twilio-Idempotency-Token"},
	"linear":            {"Linear-Delivery", "Linear-Event"},
	"stripe":            {"User-Agent"},
}

const fuzzURL = "https://hooks.example.com/in?x=1"

var fuzzAt = time.Unix(1_764_000_000, 0)

// fuzzTemplate is a request every scheme can sign.
func fuzzTemplate() *Request {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	return &Request{Method: "POST", URL: fuzzURL, Header: h,
		Body: []byte(`{"id":"evt_1","type":"payment_intent.succeeded","webhookTimestamp":1764000000000}`)}
}

// fuzzSchemeHeaders returns, for every built-in scheme, the names of the headers it reads, in
// a fixed order, and the values a real signature gives them; the fuzz target fills them from
// its four header values in turn.
func fuzzSchemeHeaders(tb testing.TB) (names map[string][]string, seeds [][4]string) {
	names = map[string][]string{}
	priv, _ := discordTestKey()
	for _, s := range Schemes() {
		r := fuzzTemplate()
		if s.Name() == "discord" {
			discordSignWithKey(r, priv, fuzzAt)
		} else if err := s.Sign(r, fuzzSecrets[s.Name()], fuzzAt); err != nil {
			tb.Fatalf("%s: Sign: %v", s.Name(), err)
		}
		var n []string
		for k := range r.Header {
			if k != "Content-Type" {
				n = append(n, k)
			}
		}
		slices.Sort(n)
		n = append(n, fuzzExtraHeaders[s.Name()]...)
		names[s.Name()] = n
		var seed [4]string
		for i, k := range n {
			if i < len(seed) {
				seed[i] = r.Header.Get(k)
			}
		}
		seeds = append(seeds, seed)
	}
	return names, seeds
}

// FuzzVerify feeds arbitrary header values, URLs and bodies through every scheme's Detect, Event
// and Verify, which must never panic and must give a consistent Result; and checks that what
// Sign signs, Verify finds valid, and finds invalid once the body changes.
func FuzzVerify(f *testing.F) {
	names, seeds := fuzzSchemeHeaders(f)
	body := string(fuzzTemplate().Body)
	for _, s := range seeds {
		f.Add(s[0], s[1], s[2], s[3], "application/json", fuzzURL, body, int64(0), "X-Signature:sha256:hex:sha256=")
	}
	f.Add("t=1764000000,v1=deadbeef,v0=00", "v1,AAAA v1a,BBBB", "sha256=zz", "1764000000", "application/x-www-form-urlencoded",
		"https://hooks.example.com:443/twilio?bodySHA256=00", "CallSid=CA1&CallStatus=completed&From=%2B1", int64(-1), "hmac:X-Sig::base64")
	f.Add("", "", "", "", "", "", `{"type":1,"version":1,"event":{"type":"APPLICATION_AUTHORIZED"}}`, int64(1<<62), "hmac")
	f.Add(" ", "\t", ",", "=", "text/plain; charset=utf-8", "http://[::1]:8080/x", "\xff\xfe", int64(300), "X-Sig:sha1:base64::")

	f.Fuzz(func(t *testing.T, v0, v1, v2, v3, contentType, rawURL, body string, offset int64, spec string) {
		values := [4]string{v0, v1, v2, v3}
		now := fuzzAt.Add(time.Duration(offset%(1<<40)) * time.Millisecond)
		for _, s := range Schemes() {
			h := http.Header{}
			if contentType != "" {
				h.Set("Content-Type", contentType)
			}
			for i, name := range names[s.Name()] {
				if v := values[i%len(values)]; v != "" {
					h.Set(name, v)
				}
			}
			Detect(h)
			Identify(h)
			s.Event(h, []byte(body))
			r := &Request{Method: "POST", URL: rawURL, Header: h, Body: []byte(body)}
			secret := fuzzSecrets[s.Name()]
			if s.Name() == "discord" {
				_, secret = discordTestKey()
			}
			for _, sec := range []string{secret, "", v0} {
				for _, opt := range []Options{{Now: now}, {Now: now, Tolerance: -1}, {Now: now, Tolerance: time.Nanosecond}} {
					checkResult(t, s, r, sec, opt)
				}
			}
			roundTrip(t, s, contentType, rawURL, []byte(body), names[s.Name()], values, now)
		}

		g, err := ParseGeneric(spec)
		if err != nil {
			return
		}
		if again, err := ParseGeneric(g.String()); err != nil || again != g {
			t.Fatalf("ParseGeneric(%q) = %+v, whose String %q reads back as %+v, %v", spec, g, g.String(), again, err)
		}
		h := http.Header{}
		h.Set(g.Header, v0)
		r := &Request{Method: "POST", URL: rawURL, Header: h, Body: []byte(body)}
		g.Event(h, r.Body)
		checkResult(t, g, r, v1, Options{Now: now})
		roundTrip(t, g, contentType, rawURL, []byte(body), []string{g.Header}, values, now)
	})
}

// checkResult verifies r with s and checks that the Result is consistent: a known status, a
// problem exactly when it is not valid, a reason that does not quote the secret, and Unsigned
// for a request s does not detect.
func checkResult(t *testing.T, s Scheme, r *Request, secret string, opt Options) {
	t.Helper()
	res := s.Verify(r, secret, opt)
	switch res.Status {
	case Valid:
		if res.Problem != NoProblem {
			t.Errorf("%s: valid with problem %q", s.Name(), res.Problem)
		}
	case Invalid, Stale, Unsigned:
		if res.Problem == NoProblem {
			t.Errorf("%s: %s without a problem: %q", s.Name(), res.Status, res.Reason)
		}
	default:
		t.Fatalf("%s: unknown status %q", s.Name(), res.Status)
	}
	if res.Reason == "" {
		t.Errorf("%s: %s without a reason", s.Name(), res.Status)
	}
	if !s.Detect(r.Header) && res.Status != Unsigned {
		t.Errorf("%s: not detected on %v, yet Verify says %s: %s", s.Name(), r.Header, res.Status, res.Reason)
	}
	if len(secret) >= 8 && strings.Contains(res.Reason, secret) && !inRequest(r, secret) {
		t.Errorf("%s: the reason quotes the secret: %q", s.Name(), res.Reason)
	}
}

// inRequest reports whether s occurs in r's URL, headers or body.
func inRequest(r *Request, s string) bool {
	if strings.Contains(r.URL, s) || strings.Contains(string(r.Body), s) {
		return true
	}
	for k, vv := range r.Header {
		if strings.Contains(k, s) || slices.ContainsFunc(vv, func(v string) bool { return strings.Contains(v, s) }) {
			return true
		}
	}
	return false
}

// roundTrip signs a request whose headers of s hold arbitrary values (Sign replaces them) at
// now, and checks that Verify finds it valid at now, and not valid with another body.
func roundTrip(t *testing.T, s Scheme, contentType, rawURL string, body []byte, names []string, values [4]string, now time.Time) {
	t.Helper()
	h := http.Header{}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	for i, name := range names {
		if v := values[i%len(values)]; v != "" {
			h.Set(name, v)
		}
	}
	r := &Request{Method: "POST", URL: rawURL, Header: h, Body: body}
	secret := fuzzSecrets[s.Name()]
	if g, ok := s.(Generic); ok {
		secret = "hookctl-generic-secret"
		if g.Header == "" {
			return
		}
	}
	if s.Name() == "discord" {
		priv, pub := discordTestKey()
		discordSignWithKey(r, priv, now)
		secret = pub
	} else if err := s.Sign(r, secret, now); err != nil {
		// Twilio signs the absolute public URL (and a form body's parameters), Square the
		// notification URL: without them there is nothing to sign.
		if (s.Name() == "twilio" || s.Name() == "square") && !errors.Is(err, ErrBadSecret) {
			return
		}
		t.Fatalf("%s: Sign: %v", s.Name(), err)
	}
	res := s.Verify(r, secret, Options{Now: now})
	if res.Status != Valid {
		t.Fatalf("%s: signed %+v, Verify = %+v", s.Name(), r, res)
	}
	if d, ok := Detect(r.Header); s.Name() != "hmac" && (!ok || d.Name() != s.Name()) {
		t.Errorf("%s: signed headers %v detected as %v, %v", s.Name(), r.Header, d, ok)
	}
	if u, err := url.Parse(r.URL); s.Name() == "twilio" && (err != nil || !u.Query().Has(twilioBodyHash)) {
		return // Twilio signs a form body's parameters, not its bytes; other bodies not at all
	}
	r.Body = append(slices.Clip(body), 'x')
	if res := s.Verify(r, secret, Options{Now: now}); res.Status == Valid {
		t.Errorf("%s: a changed body still verifies: %+v", s.Name(), res)
	}
}
