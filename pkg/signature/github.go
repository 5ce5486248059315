package signature

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// GitHub is GitHub's scheme: X-Hub-Signature-256 "sha256=<hex>" is the hex HMAC-SHA256 of the raw
// body keyed with the webhook's secret; the legacy X-Hub-Signature "sha1=<hex>" is the same with
// HMAC-SHA1 and is only checked when X-Hub-Signature-256 is absent. Nothing is timestamped, so
// Skew is always 0 (GitHub's X-GitHub-Delivery GUID is the replay guard).
//
// https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
type GitHub struct{}

const (
	githubSig256   = "X-Hub-Signature-256"
	githubSig1     = "X-Hub-Signature"
	githubEvent    = "X-GitHub-Event"
	githubDelivery = "X-GitHub-Delivery"
)

// Name implements Scheme.
func (GitHub) Name() string { return "github" }

// Detect implements Scheme: X-Hub-Signature-256 or X-Hub-Signature.
func (GitHub) Detect(h http.Header) bool {
	return h.Get(githubSig256) != "" || h.Get(githubSig1) != ""
}

// Verify implements Scheme.
func (GitHub) Verify(r *Request, secret string, _ Options) Result {
	header, prefix, newHash, size := githubSig256, "sha256=", sha256.New, sha256.Size
	v := r.Header.Get(githubSig256)
	if v == "" {
		header, prefix, newHash, size = githubSig1, "sha1=", sha1.New, sha1.Size
		v = r.Header.Get(githubSig1)
	}
	if v == "" {
		return Result{Status: Unsigned, Problem: MissingHeader,
			Reason: "no " + githubSig256 + " (or legacy " + githubSig1 + ") header; is a secret set on the GitHub webhook?"}
	}
	got, bad := parseGitHubSig(header, prefix, size, v)
	if bad != nil {
		return *bad
	}
	if secret == "" {
		return invalid(BadSecret, "the GitHub webhook secret is empty")
	}
	if !equal(githubMAC(newHash, secret, r.Body), got) {
		return invalid(Mismatch, "%s %s does not match: body differs from what was signed, or the secret is wrong",
			header, strings.TrimSuffix(prefix, "="))
	}
	if header == githubSig1 {
		return valid("legacy sha1 signature matches (no "+githubSig256+" header)", 0)
	}
	return valid("sha256 signature matches", 0)
}

// parseGitHubSig decodes "<prefix><hex>" from header; the Result is set when it is malformed.
func parseGitHubSig(header, prefix string, size int, v string) ([]byte, *Result) {
	hexSig, ok := strings.CutPrefix(strings.TrimSpace(v), prefix)
	if !ok {
		r := invalid(MalformedHeader, "%s does not start with %s", header, prefix)
		return nil, &r
	}
	sig, err := hex.DecodeString(hexSig)
	if err != nil || len(sig) != size {
		r := invalid(MalformedHeader, "%s is not %s followed by %d hex digits", header, prefix, 2*size)
		return nil, &r
	}
	return sig, nil
}

// githubMAC is the HMAC of the raw body keyed with the secret.
func githubMAC(h func() hash.Hash, secret string, body []byte) []byte {
	return hmacSum(h, []byte(secret), body)
}

// Sign implements Scheme: it sets X-Hub-Signature-256 and the legacy X-Hub-Signature, as GitHub
// does; t is not used (GitHub signs no timestamp).
func (GitHub) Sign(r *Request, secret string, _ time.Time) error {
	if secret == "" {
		return fmt.Errorf("github: %w: the webhook secret is empty", ErrBadSecret)
	}
	if r.Header == nil {
		r.Header = http.Header{}
	}
	r.Header.Set(githubSig256, "sha256="+hex.EncodeToString(githubMAC(sha256.New, secret, r.Body)))
	r.Header.Set(githubSig1, "sha1="+hex.EncodeToString(githubMAC(sha1.New, secret, r.Body)))
	return nil
}

// Event implements Scheme: X-GitHub-Event, plus "." and the payload's action when it has one
// ("pull_request.opened"), and X-GitHub-Delivery. The payload is the JSON body, or the payload
// form field of a webhook whose content type is application/x-www-form-urlencoded.
func (GitHub) Event(h http.Header, body []byte) (eventType, deliveryID string) {
	eventType, deliveryID = h.Get(githubEvent), h.Get(githubDelivery)
	if eventType == "" {
		return "", deliveryID
	}
	payload := bytes.TrimSpace(body)
	if !bytes.HasPrefix(payload, []byte("{")) {
		if form, err := url.ParseQuery(string(payload)); err == nil {
			payload = []byte(form.Get("payload"))
		}
	}
	if action := bodyStringFields(payload, "action")["action"]; action != "" {
		eventType += "." + action
	}
	return eventType, deliveryID
}
