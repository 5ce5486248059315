package signature

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Discord is the scheme of Discord's interactions endpoint (and webhook events):
// X-Signature-Ed25519 is the hex Ed25519 signature of X-Signature-Timestamp followed by the raw
// body, made with the application's private key. The secret is the application's public key as
// shown in the Developer Portal: 64 hex digits. Discord documents no timestamp tolerance and its
// libraries check none, so by default Verify does not check the timestamp's age; a positive
// Options.Tolerance makes it. Sign cannot sign with a public key and returns ErrCannotSign.
//
// https://discord.com/developers/docs/interactions/overview#setting-up-an-endpoint-validating-security-request-headers
type Discord struct{}

const (
	discordHeader   = "X-Signature-Ed25519"
	discordTSHeader = "X-Signature-Timestamp"
)

// Name implements Scheme.
func (Discord) Name() string { return "discord" }

// Detect implements Scheme: the request carries X-Signature-Ed25519.
func (Discord) Detect(h http.Header) bool { return h.Get(discordHeader) != "" }

// Verify implements Scheme.
func (Discord) Verify(r *Request, secret string, opt Options) Result {
	v := r.Header.Get(discordHeader)
	if v == "" {
		return unsigned(discordHeader)
	}
	tsText := r.Header.Get(discordTSHeader)
	if tsText == "" {
		return invalid(MissingHeader, "no %s header: %s signs the timestamp followed by the body", discordTSHeader, discordHeader)
	}
	sig, ok := decodeSigHex(v, ed25519.SignatureSize)
	if !ok {
		return invalid(MalformedHeader, "%s is not %d hex digits", discordHeader, 2*ed25519.SignatureSize)
	}
	pub, err := hex.DecodeString(secret)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		what := "is not hex"
		if len(secret) != 2*ed25519.PublicKeySize {
			what = fmt.Sprintf("has %d characters", len(secret))
		}
		return invalid(BadSecret, "a Discord public key is %d hex digits (the application's PUBLIC KEY in the Developer Portal); this one %s",
			2*ed25519.PublicKeySize, what)
	}
	ts, tsOK := parseEpoch(tsText, time.Second)
	now := opt.now()
	var skew time.Duration
	if tsOK {
		skew = now.Sub(ts)
	}
	msg := make([]byte, 0, len(tsText)+len(r.Body))
	msg = append(append(msg, tsText...), r.Body...)
	if !ed25519.Verify(ed25519.PublicKey(pub), msg, sig) {
		res := invalid(Mismatch, "%s does not match: the body or timestamp differs from what was signed, or the public key is not this application's", discordHeader)
		res.Skew = skew
		return res
	}
	tol := opt.tolerance(-1)
	if tol < 0 {
		if !tsOK {
			return valid("Ed25519 signature matches; timestamp not checked", 0)
		}
		return valid("Ed25519 signature matches"+ageNote(skew, tol), skew)
	}
	if !tsOK {
		return invalid(MalformedHeader, "%s %q is not unix seconds, so its age cannot be checked", discordTSHeader, clipForReason(tsText))
	}
	if res, ok := checkWindow(ts, now, tol); !ok {
		return res
	}
	return valid("Ed25519 signature matches"+ageNote(skew, tol), skew)
}

// Sign implements Scheme: Discord signs with the application's private key, which only Discord
// has, so Sign returns an error wrapping ErrCannotSign; for a public key that is not 64 hex
// digits, the error wraps ErrBadSecret too, so that Sign can check a key's format.
func (Discord) Sign(_ *Request, secret string, _ time.Time) error {
	if pub, err := hex.DecodeString(secret); err != nil || len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("discord: %w, and %w: a Discord public key is %d hex digits", ErrCannotSign, ErrBadSecret, 2*ed25519.PublicKeySize)
	}
	return fmt.Errorf("discord: %w: Discord signs with the application's private key; the public key only verifies", ErrCannotSign)
}

// discordSignWithKey sets X-Signature-Timestamp to t and X-Signature-Ed25519 as Discord would
// with priv. It is for tests, which generate their own key pair.
func discordSignWithKey(r *Request, priv ed25519.PrivateKey, t time.Time) {
	if r.Header == nil {
		r.Header = http.Header{}
	}
	ts := strconv.FormatInt(t.Unix(), 10)
	msg := append([]byte(ts), r.Body...)
	r.Header.Set(discordTSHeader, ts)
	r.Header.Set(discordHeader, hex.EncodeToString(ed25519.Sign(priv, msg)))
}

// discordInteractionTypes names Discord's interaction types.
var discordInteractionTypes = map[int]string{
	1: "ping",
	2: "application_command",
	3: "message_component",
	4: "application_command_autocomplete",
	5: "modal_submit",
}

// Event implements Scheme. For an interaction, the type number's name ("ping",
// "application_command", "message_component", "application_command_autocomplete",
// "modal_submit"; the number itself for one not known here) and the interaction's id. For a
// webhook event ({"version":1,"type":1,"event":{"type":"APPLICATION_AUTHORIZED",...}}), the
// event's type, or "ping" for type 0; webhook events carry no id.
func (Discord) Event(_ http.Header, body []byte) (eventType, deliveryID string) {
	obj := jsonObject(body)
	if obj == nil {
		return "", ""
	}
	var n int
	if raw, ok := obj["type"]; !ok || json.Unmarshal(raw, &n) != nil {
		return "", ""
	}
	if _, isWebhookEvent := obj["version"]; isWebhookEvent && (n == 0 || obj["event"] != nil) {
		if n == 0 {
			return "ping", ""
		}
		var ev struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal(obj["event"], &ev)
		return ev.Type, ""
	}
	name, ok := discordInteractionTypes[n]
	if !ok {
		name = strconv.Itoa(n)
	}
	return name, jsonStringField(obj, "id")
}
