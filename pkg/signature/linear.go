package signature

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Linear is Linear's scheme: Linear-Signature is the hex HMAC-SHA256 of the raw body, keyed with
// the webhook's signing secret as-is. The body's webhookTimestamp (Unix milliseconds) is covered
// by the signature; Linear's SDK (LinearWebhookClient.verify) rejects it when it is more than
// 60 s from now, and the newer SDK prefers an unsigned Linear-Timestamp header (also
// milliseconds) when present. Verify does the same, with a 60 s default tolerance; like the SDK,
// it checks no age when neither is present.
//
// https://linear.app/developers/webhooks#securing-webhooks
type Linear struct{}

const (
	linearHeader    = "Linear-Signature"
	linearTSHeader  = "Linear-Timestamp"
	linearDelivery  = "Linear-Delivery"
	linearEventHdr  = "Linear-Event"
	linearTSField   = "webhookTimestamp"
	linearTolerance = 60 * time.Second
)

// Name implements Scheme.
func (Linear) Name() string { return "linear" }

// Detect implements Scheme: the request carries Linear-Signature.
func (Linear) Detect(h http.Header) bool { return h.Get(linearHeader) != "" }

// linearTimestamp returns the timestamp Linear's SDK checks: the Linear-Timestamp header, else
// the body's webhookTimestamp. found is false when there is neither; the Result is set when the
// one there is is not a count of milliseconds.
func linearTimestamp(h http.Header, body []byte) (ts time.Time, found bool, bad *Result) {
	if v := h.Get(linearTSHeader); v != "" {
		t, ok := parseEpoch(v, time.Millisecond)
		if !ok {
			r := invalid(MalformedHeader, "%s %q is not Unix milliseconds", linearTSHeader, clipForReason(v))
			return time.Time{}, true, &r
		}
		return t, true, nil
	}
	raw, ok := jsonObject(body)[linearTSField]
	if !ok || string(raw) == "null" {
		return time.Time{}, false, nil
	}
	t, ok := parseEpoch(string(raw), time.Millisecond)
	if !ok {
		r := invalid(MalformedHeader, "the body's %s %s is not Unix milliseconds", linearTSField, clipForReason(string(raw)))
		return time.Time{}, true, &r
	}
	return t, true, nil
}

// Verify implements Scheme.
func (Linear) Verify(r *Request, secret string, opt Options) Result {
	v := r.Header.Get(linearHeader)
	if v == "" {
		return unsigned(linearHeader)
	}
	got, ok := decodeSigHex(v, sha256.Size)
	if !ok {
		return invalid(MalformedHeader, "%s is not %s", linearHeader, encodedDesc("hex", sha256.Size))
	}
	ts, haveTS, bad := linearTimestamp(r.Header, r.Body)
	if bad != nil {
		return *bad
	}
	if secret == "" {
		return invalid(BadSecret, "the Linear webhook signing secret is empty")
	}
	now := opt.now()
	var skew time.Duration
	if haveTS {
		skew = now.Sub(ts)
	}
	if !equal(hmacSum(sha256.New, []byte(secret), r.Body), got) {
		res := invalid(Mismatch, "%s does not match: %s", linearHeader, mismatchWhy)
		res.Skew = skew
		return res
	}
	if !haveTS {
		return valid("signature matches; no "+linearTSField+" in the body nor "+linearTSHeader+" header, so its age is not checked (as in Linear's SDK)", 0)
	}
	tol := opt.tolerance(linearTolerance)
	if res, ok := checkWindow(ts, now, tol); !ok {
		return res
	}
	return valid("signature matches"+ageNote(skew, tol), skew)
}

// Sign implements Scheme: it sets Linear-Timestamp to t (Unix milliseconds) and
// Linear-Signature over the body as it is. Sign changes only headers, so a re-signed old request
// still carries its original webhookTimestamp in the body: Linear's current SDK, which prefers
// the Linear-Timestamp header, accepts it, but a verifier that reads only the body sees the old
// time. To make the body itself fresh, rewrite it with LinearSetTimestamp before signing.
func (Linear) Sign(r *Request, secret string, t time.Time) error {
	if secret == "" {
		return fmt.Errorf("linear: %w: the webhook signing secret is empty", ErrBadSecret)
	}
	if r.Header == nil {
		r.Header = http.Header{}
	}
	r.Header.Set(linearTSHeader, strconv.FormatInt(t.UnixMilli(), 10))
	r.Header.Set(linearHeader, hex.EncodeToString(hmacSum(sha256.New, []byte(secret), r.Body)))
	return nil
}

// LinearSetTimestamp returns a copy of a Linear webhook body whose top-level webhookTimestamp is
// t in Unix milliseconds, every other byte unchanged, and true; or nil and false when body is
// not a JSON object with a numeric webhookTimestamp. Linear signs that timestamp inside the
// body, so a replay that should look fresh to any verifier rewrites it and then calls Sign.
func LinearSetTimestamp(body []byte, t time.Time) ([]byte, bool) {
	return replaceTopLevelNumber(body, linearTSField, strconv.FormatInt(t.UnixMilli(), 10))
}

// replaceTopLevelNumber returns a copy of the JSON object body with the number value of its
// top-level field key replaced by num, leaving every other byte as it was; ok is false when body
// is not a JSON object or has no such numeric field.
func replaceTopLevelNumber(body []byte, key, num string) ([]byte, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		name, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, false
		}
		if name != key {
			continue
		}
		end := int(dec.InputOffset())
		start := end - len(raw)
		if start < 0 || !bytes.Equal(body[start:end], raw) {
			return nil, false
		}
		if _, err := strconv.ParseFloat(string(raw), 64); err != nil {
			return nil, false // not a number
		}
		out := make([]byte, 0, len(body)-len(raw)+len(num))
		out = append(out, body[:start]...)
		out = append(out, num...)
		return append(out, body[end:]...), true
	}
	return nil, false
}

// Event implements Scheme: the body's type and action joined by "." as Linear writes them
// ("Issue.create", "Comment.update"; just the type when there is no action, and the
// Linear-Event header when the body has no type), and the Linear-Delivery header.
func (Linear) Event(h http.Header, body []byte) (eventType, deliveryID string) {
	obj := jsonObject(body)
	eventType = jsonStringField(obj, "type")
	if eventType == "" {
		eventType = h.Get(linearEventHdr)
	}
	if action := jsonStringField(obj, "action"); eventType != "" && action != "" {
		eventType += "." + action
	}
	return eventType, h.Get(linearDelivery)
}
