package signature

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Twilio is Twilio's request-validation scheme (Voice, Messaging and the other products that
// call webhooks): X-Twilio-Signature is the base64 HMAC-SHA1, keyed with the account's Auth
// Token, of the full URL Twilio requested (scheme, host, path and query, as configured) followed,
// for an application/x-www-form-urlencoded POST, by every POST parameter sorted by name, each
// written as name then value with no separators (several values of one name sorted too, as
// twilio-node does). For a JSON body, Twilio adds bodySHA256=<hex SHA-256 of the body> to the
// URL's query and signs the URL alone; Verify checks both. Nothing is timestamped, so Skew is
// always 0.
//
// Port quirk: Twilio's back end is inconsistent about the port in the signed URL, so its SDKs
// (twilio-go RequestValidator.Validate, twilio-python, twilio-node) accept a signature over the
// URL as given, over the URL without its port, and over the URL with the scheme's default port
// (:443 or :80) added; Verify does the same.
//
// Request.URL must be the public URL Twilio called, not the local one a tunnel forwarded to.
// HMAC-SHA256 signatures made with a Webhooks Rule's shared key are not supported.
//
// https://www.twilio.com/docs/usage/webhooks/webhooks-security
type Twilio struct{}

const (
	twilioHeader   = "X-Twilio-Signature"
	twilioIdemHdr  = "I-Twilio-Idempotency-Token"
	twilioBodyHash = "bodySHA256"
)

// Name implements Scheme.
func (Twilio) Name() string { return "twilio" }

// Detect implements Scheme: the request carries X-Twilio-Signature.
func (Twilio) Detect(h http.Header) bool { return h.Get(twilioHeader) != "" }

// Verify implements Scheme.
func (Twilio) Verify(r *Request, secret string, _ Options) Result {
	v := r.Header.Get(twilioHeader)
	if v == "" {
		return unsigned(twilioHeader)
	}
	got, ok := decodeSigB64(v, sha1.Size)
	if !ok {
		if _, is256 := decodeSigB64(v, sha256.Size); is256 {
			return invalid(MalformedHeader, "%s is a 32-byte (HMAC-SHA256) signature, from a Webhooks Rule's shared key; hookctl checks the Auth Token's HMAC-SHA1", twilioHeader)
		}
		return invalid(MalformedHeader, "%s is not %s", twilioHeader, encodedDesc("base64", sha1.Size))
	}
	if secret == "" {
		return invalid(BadSecret, "the Twilio auth token is empty")
	}
	if r.URL == "" {
		return invalid(MissingHeader, "no request URL: Twilio signs the full public URL it requested, plus the POST parameters")
	}
	u, err := url.Parse(r.URL)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return invalid(MissingHeader, "the request URL %q is not absolute: Twilio signs the full public URL it requested (scheme, host, path and query)", clipURLForReason(redactURL(r.URL)))
	}
	query, _ := url.ParseQuery(u.RawQuery)

	if query.Has(twilioBodyHash) {
		// JSON body: the signature covers the URL (which carries the body's hash) alone.
		variant, matched := twilioMatch(r.URL, "", secret, got)
		if !matched {
			return invalid(Mismatch, "%s does not match the URL %s (with or without its port): the URL differs from the one Twilio requested, or the auth token is wrong",
				twilioHeader, clipURLForReason(redactURL(r.URL)))
		}
		want, ok := decodeSigHex(query.Get(twilioBodyHash), sha256.Size)
		if !ok {
			return invalid(Mismatch, "signature matches the URL, but its bodySHA256 is not a hex SHA-256")
		}
		sum := sha256.Sum256(r.Body)
		if !equal(sum[:], want) {
			return invalid(Mismatch, "signature matches the URL, but the body's SHA-256 differs from the URL's bodySHA256: the body differs from what was sent")
		}
		return valid("signature matches the URL"+variant+" and the body matches its bodySHA256", 0)
	}

	params, err := twilioFormParams(r.Header, r.Body)
	if err != nil {
		return invalid(Mismatch, "the form body cannot be parsed (%v), so its parameters cannot be signed", err)
	}
	variant, matched := twilioMatch(r.URL, twilioParamString(params), secret, got)
	if !matched {
		return invalid(Mismatch, "%s does not match: the body or the URL (%s) differs from what Twilio signed (the public URL, with or without its port), or the auth token is wrong",
			twilioHeader, clipURLForReason(redactURL(r.URL)))
	}
	return valid(fmt.Sprintf("signature matches the URL%s and %d POST parameters", variant, len(params)), 0)
}

// twilioMatch reports whether sig is the signature of one of rawURL's port variants followed by
// params, and which variant matched ("" for the URL as given).
func twilioMatch(rawURL, params, secret string, sig []byte) (variant string, ok bool) {
	for _, c := range twilioURLVariants(rawURL) {
		if equal(hmacSum(sha1.New, []byte(secret), []byte(c.url+params)), sig) {
			return c.note, true
		}
	}
	return "", false
}

type twilioVariant struct{ url, note string }

// twilioURLVariants returns rawURL as given, without its port (if it has one) and with the
// scheme's default port (if it has none), as Twilio's SDKs try them.
func twilioURLVariants(rawURL string) []twilioVariant {
	out := []twilioVariant{{rawURL, ""}}
	prefix, host, port, rest, ok := splitURLHostPort(rawURL)
	if !ok {
		return out
	}
	if port != "" {
		return append(out, twilioVariant{prefix + host + rest, " (without its port :" + port + ", a Twilio quirk)"})
	}
	def := ""
	switch strings.ToLower(prefix[:strings.Index(prefix, ":")]) {
	case "https":
		def = "443"
	case "http":
		def = "80"
	default:
		return out
	}
	return append(out, twilioVariant{prefix + host + ":" + def + rest, " (with the default port :" + def + ", a Twilio quirk)"})
}

// splitURLHostPort splits an absolute URL string into everything up to the host (scheme, "://"
// and any userinfo), the host, the port (without ':', "" if none) and the rest (path, query and
// fragment), without re-encoding anything.
func splitURLHostPort(rawURL string) (prefix, host, port, rest string, ok bool) {
	i := strings.Index(rawURL, "://")
	if i <= 0 {
		return "", "", "", "", false
	}
	authStart := i + 3
	authEnd := len(rawURL)
	if j := strings.IndexAny(rawURL[authStart:], "/?#"); j >= 0 {
		authEnd = authStart + j
	}
	auth := rawURL[authStart:authEnd]
	hostStart := authStart
	if at := strings.LastIndex(auth, "@"); at >= 0 {
		hostStart = authStart + at + 1
	}
	hostport := rawURL[hostStart:authEnd]
	host = hostport
	if strings.HasPrefix(hostport, "[") { // IPv6 literal
		end := strings.Index(hostport, "]")
		if end < 0 {
			return "", "", "", "", false
		}
		host = hostport[:end+1]
		if p, ok := strings.CutPrefix(hostport[end+1:], ":"); ok {
			port = p
		}
	} else if c := strings.LastIndex(hostport, ":"); c >= 0 {
		host, port = hostport[:c], hostport[c+1:]
	}
	if host == "" {
		return "", "", "", "", false
	}
	return rawURL[:hostStart], host, port, rawURL[authEnd:], true
}

// redactURL hides the password of a URL's userinfo (Twilio supports basic-auth credentials in
// webhook URLs) before the URL appears in a Reason.
func redactURL(rawURL string) string {
	if u, err := url.Parse(rawURL); err == nil && u.User != nil {
		return u.Redacted()
	}
	return rawURL
}

// twilioFormParams returns the POST parameters Twilio signs: those of a form-encoded body (or of
// a body without a Content-Type that does not look like JSON); none for other bodies.
func twilioFormParams(h http.Header, body []byte) (url.Values, error) {
	ct := h.Get("Content-Type")
	form := false
	if ct == "" {
		trimmed := bytes.TrimSpace(body)
		form = len(trimmed) > 0 && trimmed[0] != '{' && trimmed[0] != '['
	} else if mt, _, err := mime.ParseMediaType(ct); err == nil && mt == "application/x-www-form-urlencoded" {
		form = true
	}
	if !form || len(body) == 0 {
		return url.Values{}, nil
	}
	return url.ParseQuery(string(body))
}

// twilioParamString writes params sorted by name, each name followed by its value; a name's
// several values are sorted and each written with the name.
func twilioParamString(params url.Values) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(params)) {
		vals := slices.Clone(params[k])
		slices.Sort(vals)
		for _, v := range vals {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	return b.String()
}

// Sign implements Scheme: it sets X-Twilio-Signature for r.URL (used exactly as given; it must
// be absolute) and, for a form body, its parameters; t is not used. A JSON body (Content-Type
// application/json, or a URL that already has bodySHA256) is signed through its hash in the URL,
// so when r.URL has no bodySHA256, or one that does not match the body (an edited body), Sign
// also sets it in r.URL's query, as Twilio does: the request must then be sent to r.URL as Sign
// leaves it. An unchanged body leaves r.URL unchanged.
func (Twilio) Sign(r *Request, secret string, _ time.Time) error {
	if secret == "" {
		return fmt.Errorf("twilio: %w: the auth token is empty", ErrBadSecret)
	}
	u, err := url.Parse(r.URL)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return fmt.Errorf("twilio: the request URL %q is not absolute; Twilio signs the full public URL", redactURL(r.URL))
	}
	if r.Header == nil {
		r.Header = http.Header{}
	}
	query, _ := url.ParseQuery(u.RawQuery)
	if query.Has(twilioBodyHash) || isJSONContentType(r.Header.Get("Content-Type")) {
		sum := sha256.Sum256(r.Body)
		if stated, ok := decodeSigHex(query.Get(twilioBodyHash), sha256.Size); !ok || len(query[twilioBodyHash]) != 1 || !equal(stated, sum[:]) {
			r.URL = setQueryParam(r.URL, twilioBodyHash, hex.EncodeToString(sum[:]))
		}
		r.Header.Set(twilioHeader, base64.StdEncoding.EncodeToString(hmacSum(sha1.New, []byte(secret), []byte(r.URL))))
		return nil
	}
	params, err := twilioFormParams(r.Header, r.Body)
	if err != nil {
		return fmt.Errorf("twilio: the form body cannot be parsed: %w", err)
	}
	r.Header.Set(twilioHeader, base64.StdEncoding.EncodeToString(hmacSum(sha1.New, []byte(secret), []byte(r.URL+twilioParamString(params)))))
	return nil
}

// isJSONContentType reports whether ct is application/json or a +json type.
func isJSONContentType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// setQueryParam sets name=value as the last query parameter of rawURL, removing any existing
// name=... and leaving the rest of the URL's bytes as they are.
func setQueryParam(rawURL, name, value string) string {
	base, frag, hasFrag := strings.Cut(rawURL, "#")
	path, query, _ := strings.Cut(base, "?")
	var kept []string
	if query != "" {
		for p := range strings.SplitSeq(query, "&") {
			k, _, _ := strings.Cut(p, "=")
			if uk, err := url.QueryUnescape(k); err == nil && uk == name {
				continue
			}
			kept = append(kept, p)
		}
	}
	kept = append(kept, url.QueryEscape(name)+"="+url.QueryEscape(value))
	out := path + "?" + strings.Join(kept, "&")
	if hasFrag {
		out += "#" + frag
	}
	return out
}

// Event implements Scheme. Twilio sends no event type, so it is inferred from the form body:
//
//   - a message (MessageSid, SmsSid or SmsMessageSid): "sms" for an incoming message, or
//     "sms.status" for a status callback (a MessageStatus other than "received");
//   - a call (CallSid): "call" for an incoming call or a TwiML callback, or "call.status" for a
//     status callback (a CallbackSource parameter, or a final CallStatus: completed, busy,
//     failed, no-answer, canceled);
//   - "" otherwise (JSON bodies included).
//
// The delivery id is I-Twilio-Idempotency-Token, which Twilio keeps across retries of one
// callback. MessageSid and CallSid are not delivery ids: every status callback of a message or
// call carries the same one.
func (Twilio) Event(h http.Header, body []byte) (eventType, deliveryID string) {
	deliveryID = h.Get(twilioIdemHdr)
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] == '{' || trimmed[0] == '[' {
		return "", deliveryID
	}
	p, _ := url.ParseQuery(string(trimmed))
	firstOf := func(keys ...string) string {
		for _, k := range keys {
			if v := p.Get(k); v != "" {
				return v
			}
		}
		return ""
	}
	if firstOf("MessageSid", "SmsSid", "SmsMessageSid") != "" {
		eventType = "sms"
		if st := p.Get("MessageStatus"); st != "" && st != "received" {
			eventType = "sms.status"
		}
		return eventType, deliveryID
	}
	if p.Get("CallSid") != "" {
		eventType = "call"
		switch p.Get("CallStatus") {
		case "completed", "busy", "failed", "no-answer", "canceled":
			eventType = "call.status"
		}
		if p.Get("CallbackSource") != "" {
			eventType = "call.status"
		}
		return eventType, deliveryID
	}
	return "", deliveryID
}
