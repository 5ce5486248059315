package signature

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Zoom is Zoom's webhook scheme: x-zm-signature "v0=<hex>" is the hex HMAC-SHA256 of
// "v0:<x-zm-request-timestamp>:<body>", keyed with the app's Secret Token as-is; the timestamp is
// Unix seconds. Zoom's own sample does not check the timestamp's age; Verify's default tolerance
// is 300 s, the usual choice. See ZoomURLValidation for the endpoint.url_validation challenge.
//
// https://developers.zoom.us/docs/api/webhooks/#verify-webhook-events
type Zoom struct{}

const (
	zoomHeader    = "X-Zm-Signature"
	zoomTSHeader  = "X-Zm-Request-Timestamp"
	zoomTracking  = "X-Zm-Trackingid"
	zoomVersion   = "v0"
	zoomTolerance = 300 * time.Second
)

// Name implements Scheme.
func (Zoom) Name() string { return "zoom" }

// Detect implements Scheme: the request carries x-zm-signature.
func (Zoom) Detect(h http.Header) bool { return h.Get(zoomHeader) != "" }

// zoomMAC is HMAC-SHA256 of "v0:<ts>:<body>".
func zoomMAC(secret, ts string, body []byte) []byte {
	return hmacSum(sha256.New, []byte(secret), []byte(zoomVersion+":"+ts+":"), body)
}

// Verify implements Scheme.
func (Zoom) Verify(r *Request, secret string, opt Options) Result {
	v := r.Header.Get(zoomHeader)
	if v == "" {
		return unsigned(zoomHeader)
	}
	tsText := r.Header.Get(zoomTSHeader)
	if tsText == "" {
		return invalid(MissingHeader, "no %s header: %s signs \"v0:<timestamp>:<body>\"", zoomTSHeader, zoomHeader)
	}
	ts, ok := parseEpoch(tsText, time.Second)
	if !ok {
		return invalid(MalformedHeader, "%s %q is not unix seconds", zoomTSHeader, clipForReason(tsText))
	}
	hexSig, ok := strings.CutPrefix(strings.TrimSpace(v), zoomVersion+"=")
	if !ok {
		return invalid(MalformedHeader, "%s does not start with v0=", zoomHeader)
	}
	got, ok := decodeSigHex(hexSig, sha256.Size)
	if !ok {
		return invalid(MalformedHeader, "%s is not v0= followed by %s", zoomHeader, encodedDesc("hex", sha256.Size))
	}
	if secret == "" {
		return invalid(BadSecret, "the Zoom secret token is empty")
	}
	now := opt.now()
	skew := now.Sub(ts)
	if !equal(zoomMAC(secret, tsText, r.Body), got) {
		res := invalid(Mismatch, "%s does not match: %s (Zoom signs with the app's Secret Token, not its Verification Token)", zoomHeader, mismatchWhy)
		res.Skew = skew
		return res
	}
	tol := opt.tolerance(zoomTolerance)
	if res, ok := checkWindow(ts, now, tol); !ok {
		return res
	}
	return valid("v0 signature matches"+ageNote(skew, tol), skew)
}

// Sign implements Scheme: it sets x-zm-request-timestamp to t and x-zm-signature.
func (Zoom) Sign(r *Request, secret string, t time.Time) error {
	if secret == "" {
		return fmt.Errorf("zoom: %w: the secret token is empty", ErrBadSecret)
	}
	if r.Header == nil {
		r.Header = http.Header{}
	}
	ts := strconv.FormatInt(t.Unix(), 10)
	r.Header.Set(zoomTSHeader, ts)
	r.Header.Set(zoomHeader, zoomVersion+"="+hex.EncodeToString(zoomMAC(secret, ts, r.Body)))
	return nil
}

// Event implements Scheme: the body's event ("meeting.started", "endpoint.url_validation") and
// the x-zm-trackingid header.
func (Zoom) Event(h http.Header, body []byte) (eventType, deliveryID string) {
	return jsonStringField(jsonObject(body), "event"), h.Get(zoomTracking)
}

// ZoomURLValidation answers Zoom's endpoint.url_validation challenge: for such an event body it
// returns the JSON response body {"plainToken":"...","encryptedToken":"<hex HMAC-SHA256 of
// plainToken keyed with secret>"} and true. It returns false for any other body, for a body
// without a plainToken, and for an empty secret. Zoom signs the challenge like any event, so a
// caller should Verify it first.
//
// https://developers.zoom.us/docs/api/webhooks/#validate-your-webhook-endpoint
func ZoomURLValidation(body []byte, secret string) ([]byte, bool) {
	if secret == "" {
		return nil, false
	}
	var ev struct {
		Event   string `json:"event"`
		Payload struct {
			PlainToken string `json:"plainToken"`
		} `json:"payload"`
	}
	if json.Unmarshal(body, &ev) != nil || ev.Event != "endpoint.url_validation" || ev.Payload.PlainToken == "" {
		return nil, false
	}
	answer, err := json.Marshal(struct {
		PlainToken     string `json:"plainToken"`
		EncryptedToken string `json:"encryptedToken"`
	}{ev.Payload.PlainToken, hex.EncodeToString(hmacSum(sha256.New, []byte(secret), []byte(ev.Payload.PlainToken)))})
	if err != nil {
		return nil, false
	}
	return answer, true
}
