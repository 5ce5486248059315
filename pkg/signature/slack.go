package signature

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Slack is Slack's scheme: X-Slack-Signature "v0=<hex>" is the hex HMAC-SHA256 of
// "v0:<X-Slack-Request-Timestamp>:<body>" keyed with the app's signing secret. The default
// tolerance is 5 minutes either way, as in Slack's SDKs (slack-go NewSecretsVerifier).
//
// https://docs.slack.dev/authentication/verifying-requests-from-slack/
type Slack struct{}

const (
	slackSig       = "X-Slack-Signature"
	slackTimestamp = "X-Slack-Request-Timestamp"
	slackTolerance = 5 * time.Minute
)

// Name implements Scheme.
func (Slack) Name() string { return "slack" }

// Detect implements Scheme: X-Slack-Signature.
func (Slack) Detect(h http.Header) bool { return h.Get(slackSig) != "" }

// checkSlackSecret reports what is wrong with a Slack signing secret, or "".
func checkSlackSecret(secret string) string {
	switch {
	case secret == "":
		return "the Slack signing secret is empty"
	case strings.HasPrefix(secret, "xox"), strings.HasPrefix(secret, "xapp-"):
		return "the secret is a Slack token; requests are signed with the app's Signing Secret (Basic Information page)"
	}
	return ""
}

// slackMAC is HMAC-SHA256 of "v0:<ts>:<body>", ts exactly as the header carries it.
func slackMAC(secret, ts string, body []byte) []byte {
	return hmacSum(sha256.New, []byte(secret), []byte("v0:"+ts+":"), body)
}

// Verify implements Scheme.
func (Slack) Verify(r *Request, secret string, opt Options) Result {
	v := r.Header.Get(slackSig)
	if v == "" {
		return unsigned(slackSig)
	}
	tsText := r.Header.Get(slackTimestamp)
	if tsText == "" {
		return invalid(MissingHeader, "%s is there but %s is missing", slackSig, slackTimestamp)
	}
	ts, ok := parseEpoch(tsText, time.Second)
	if !ok {
		return invalid(MalformedHeader, "%s %q is not unix seconds", slackTimestamp, clipForReason(tsText))
	}
	hexSig, ok := strings.CutPrefix(strings.TrimSpace(v), "v0=")
	if !ok {
		return invalid(MalformedHeader, "%s does not start with v0=", slackSig)
	}
	sig, err := hex.DecodeString(hexSig)
	if err != nil || len(sig) != sha256.Size {
		return invalid(MalformedHeader, "%s is not v0= followed by 64 hex digits", slackSig)
	}
	if msg := checkSlackSecret(secret); msg != "" {
		return invalid(BadSecret, "%s", msg)
	}
	now := opt.now()
	skew := now.Sub(ts)
	if !equal(slackMAC(secret, tsText, r.Body), sig) {
		res := invalid(Mismatch, "v0 signature does not match: body differs from what was signed, or the secret is wrong")
		res.Skew = skew
		return res
	}
	tol := opt.tolerance(slackTolerance)
	if res, ok := checkWindow(ts, now, tol); !ok {
		return res
	}
	return valid("v0 signature matches"+ageNote(skew, tol), skew)
}

// Sign implements Scheme: it sets X-Slack-Request-Timestamp to t and X-Slack-Signature.
func (Slack) Sign(r *Request, secret string, t time.Time) error {
	if msg := checkSlackSecret(secret); msg != "" {
		return fmt.Errorf("slack: %w: %s", ErrBadSecret, msg)
	}
	if r.Header == nil {
		r.Header = http.Header{}
	}
	ts := strconv.FormatInt(t.Unix(), 10)
	r.Header.Set(slackTimestamp, ts)
	r.Header.Set(slackSig, "v0="+hex.EncodeToString(slackMAC(secret, ts, r.Body)))
	return nil
}

// Event implements Scheme.
//
// JSON bodies (Events API): the type, "event_callback.<event.type>" for events, and event_id.
// Form bodies: a slash command is "slash_command.<command>" ("slash_command./deploy"); an
// interactivity payload (payload=<JSON>) gives its type ("block_actions", "view_submission",
// "shortcut"...). Their id is trigger_id. X-Slack-Retry-Num is a retry counter, not an id.
func (Slack) Event(h http.Header, body []byte) (eventType, deliveryID string) {
	b := bytes.TrimSpace(body)
	if bytes.HasPrefix(b, []byte("{")) {
		return slackJSONEvent(b)
	}
	form, err := url.ParseQuery(string(b))
	if err != nil {
		return "", ""
	}
	if cmd := form.Get("command"); cmd != "" {
		return "slash_command." + cmd, form.Get("trigger_id")
	}
	if p := form.Get("payload"); p != "" {
		f := bodyStringFields([]byte(p), "type", "trigger_id")
		return f["type"], f["trigger_id"]
	}
	return "", ""
}

// slackJSONEvent reads an Events API body.
func slackJSONEvent(body []byte) (eventType, deliveryID string) {
	f := bodyStringFields(body, "type", "event_id", "trigger_id")
	eventType, deliveryID = f["type"], f["event_id"]
	if deliveryID == "" {
		deliveryID = f["trigger_id"]
	}
	if eventType == "event_callback" {
		var env struct {
			Event json.RawMessage `json:"event"`
		}
		if json.Unmarshal(body, &env) == nil {
			if inner := bodyStringFields(env.Event, "type")["type"]; inner != "" {
				eventType += "." + inner
			}
		}
	}
	return eventType, deliveryID
}
