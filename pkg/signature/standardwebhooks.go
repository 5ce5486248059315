package signature

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// StandardWebhooks is the Standard Webhooks scheme, which Svix and Clerk (through Svix) use
// under svix-* header names. The headers webhook-id, webhook-timestamp and webhook-signature (or
// svix-id, svix-timestamp, svix-signature) carry the message id, unix seconds and a
// space-separated list of signatures over "<id>.<timestamp>.<body>":
//
//   - "v1,<base64>": HMAC-SHA256 keyed with the base64-decoded part of the "whsec_<base64>"
//     secret (the prefix is optional, as in the official libraries);
//   - "v1a,<base64>": Ed25519, verified with a "whpk_<base64>" public key (or the public half of
//     a "whsk_<base64>" private key, which can also sign).
//
// Several signatures are sent during a key rotation; any match is enough. The default tolerance
// is 5 minutes either way, as in the reference libraries.
//
// https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
type StandardWebhooks struct{}

const swTolerance = 5 * time.Minute

// swHeaders is one family of Standard Webhooks header names.
type swHeaders struct{ id, ts, sig string }

var (
	swStandard = swHeaders{"webhook-id", "webhook-timestamp", "webhook-signature"}
	swSvix     = swHeaders{"svix-id", "svix-timestamp", "svix-signature"}
)

// Name implements Scheme.
func (StandardWebhooks) Name() string { return "standard-webhooks" }

// Detect implements Scheme: a webhook-signature or svix-signature header.
func (StandardWebhooks) Detect(h http.Header) bool {
	return h.Get(swStandard.sig) != "" || h.Get(swSvix.sig) != ""
}

// swKey is a parsed Standard Webhooks secret: an HMAC key or Ed25519 keys.
type swKey struct {
	hmac []byte
	pub  ed25519.PublicKey
	priv ed25519.PrivateKey // set for whsk_ keys only
}

// swDecode decodes standard base64, padded or not.
func swDecode(s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		b, err = base64.RawStdEncoding.DecodeString(s)
	}
	return b, err
}

// parseSWSecret parses a whsec_, whpk_ or whsk_ secret; the error text never contains it.
func parseSWSecret(secret string) (swKey, error) {
	switch {
	case strings.HasPrefix(secret, "whpk_"):
		b, err := swDecode(secret[len("whpk_"):])
		if err != nil || len(b) != ed25519.PublicKeySize {
			return swKey{}, fmt.Errorf("a whpk_ key is an Ed25519 public key: 32 bytes in base64")
		}
		return swKey{pub: ed25519.PublicKey(b)}, nil
	case strings.HasPrefix(secret, "whsk_"):
		b, err := swDecode(secret[len("whsk_"):])
		var priv ed25519.PrivateKey
		switch {
		case err != nil:
		case len(b) == ed25519.SeedSize:
			priv = ed25519.NewKeyFromSeed(b)
		case len(b) == ed25519.PrivateKeySize:
			priv = ed25519.NewKeyFromSeed(b[:ed25519.SeedSize])
			if !bytes.Equal(priv, b) {
				priv = nil
			}
		}
		if priv == nil {
			return swKey{}, fmt.Errorf("a whsk_ key is an Ed25519 private key: a 32-byte seed or 64-byte key in base64")
		}
		return swKey{pub: priv.Public().(ed25519.PublicKey), priv: priv}, nil
	}
	b, err := swDecode(strings.TrimPrefix(secret, "whsec_"))
	if err != nil || len(b) == 0 {
		return swKey{}, fmt.Errorf("a Standard Webhooks signing secret is whsec_ followed by base64 (or whpk_ for an Ed25519 public key)")
	}
	return swKey{hmac: b}, nil
}

// swContent is the signed content "<id>.<unix>.<body>".
func swContent(id string, ts time.Time, body []byte) []byte {
	c := make([]byte, 0, len(id)+len(body)+24)
	c = append(c, id...)
	c = append(c, '.')
	c = strconv.AppendInt(c, ts.Unix(), 10)
	c = append(c, '.')
	return append(c, body...)
}

// swFamily returns the header family whose signature header h carries, preferring svix-*
// (what Svix's own libraries read first), and the values of id, timestamp and signature, each
// falling back to the other family's header as Svix's libraries do.
func swFamily(h http.Header) (f swHeaders, id, ts, sig string) {
	f, other := swSvix, swStandard
	if h.Get(swSvix.sig) == "" {
		f, other = swStandard, swSvix
	}
	get := func(a, b string) string {
		if v := h.Get(a); v != "" {
			return v
		}
		return h.Get(b)
	}
	return f, get(f.id, other.id), get(f.ts, other.ts), h.Get(f.sig)
}

// Verify implements Scheme.
func (StandardWebhooks) Verify(r *Request, secret string, opt Options) Result {
	f, id, tsText, sigs := swFamily(r.Header)
	if sigs == "" {
		return unsigned(swStandard.sig + " (or " + swSvix.sig + ")")
	}
	var missing []string
	if id == "" {
		missing = append(missing, f.id)
	}
	if tsText == "" {
		missing = append(missing, f.ts)
	}
	if len(missing) > 0 {
		verb := "is"
		if len(missing) > 1 {
			verb = "are"
		}
		return invalid(MissingHeader, "%s is there but %s %s missing", f.sig, strings.Join(missing, " and "), verb)
	}
	ts, ok := parseEpoch(tsText, time.Second)
	if !ok {
		return invalid(MalformedHeader, "%s %q is not unix seconds", f.ts, clipForReason(tsText))
	}
	var v1, v1a [][]byte
	for entry := range strings.FieldsSeq(sigs) {
		version, b64, ok := strings.Cut(entry, ",")
		if !ok {
			continue
		}
		sig, err := swDecode(b64)
		switch {
		case err != nil:
		case version == "v1" && len(sig) == sha256.Size:
			v1 = append(v1, sig)
		case version == "v1a" && len(sig) == ed25519.SignatureSize:
			v1a = append(v1a, sig)
		}
	}
	if len(v1) == 0 && len(v1a) == 0 {
		return invalid(MalformedHeader, "%s has no readable v1,<base64> or v1a,<base64> signature", f.sig)
	}
	key, err := parseSWSecret(secret)
	if err != nil {
		return invalid(BadSecret, "%s", err)
	}
	now := opt.now()
	skew := now.Sub(ts)
	content := swContent(id, ts, r.Body)
	version, n, match := "v1", len(v1), -1
	if key.hmac != nil {
		want := hmacSum(sha256.New, key.hmac, content)
		for i, sig := range v1 {
			if equal(want, sig) && match < 0 {
				match = i
			}
		}
	} else {
		version, n = "v1a", len(v1a)
		for i, sig := range v1a {
			if ed25519.Verify(key.pub, content, sig) && match < 0 {
				match = i
			}
		}
	}
	if match < 0 {
		var res Result
		switch {
		case n == 0 && version == "v1":
			res = invalid(Mismatch, "%s has only v1a (Ed25519) signatures; verify them with the sender's whpk_ public key, not a whsec_ secret", f.sig)
		case n == 0:
			res = invalid(Mismatch, "%s has only v1 (HMAC) signatures; verify them with the whsec_ secret, not an Ed25519 key", f.sig)
		default:
			res = invalid(Mismatch, "%s: body differs from what was signed, or the secret is wrong", sigNoMatchText(version, n))
		}
		res.Skew = skew
		return res
	}
	tol := opt.tolerance(swTolerance)
	if res, ok := checkWindow(ts, now, tol); !ok {
		return res
	}
	return valid(sigMatchedText(version, match, n)+ageNote(skew, tol), skew)
}

// Sign implements Scheme. It signs with the id the request already carries (webhook-id or
// svix-id) or a new "msg_..." id, and writes the headers of the family the request uses (svix-*
// if it has any svix-* header, webhook-* if it has any webhook-* header, webhook-* if neither;
// both when it has both): v1 with a whsec_ secret, v1a with a whsk_ private key. A whpk_ public
// key cannot sign: the error wraps ErrCannotSign.
func (StandardWebhooks) Sign(r *Request, secret string, t time.Time) error {
	key, err := parseSWSecret(secret)
	if err != nil {
		return fmt.Errorf("standard-webhooks: %w: %s", ErrBadSecret, err)
	}
	if key.hmac == nil && key.priv == nil {
		return fmt.Errorf("standard-webhooks: a whpk_ key verifies v1a signatures, it does not make them: %w", ErrCannotSign)
	}
	if r.Header == nil {
		r.Header = http.Header{}
	}
	has := func(f swHeaders) bool {
		return r.Header.Get(f.id) != "" || r.Header.Get(f.ts) != "" || r.Header.Get(f.sig) != ""
	}
	families := []swHeaders{}
	for _, f := range []swHeaders{swStandard, swSvix} {
		if has(f) {
			families = append(families, f)
		}
	}
	if len(families) == 0 {
		families = []swHeaders{swStandard}
	}
	_, id, _, _ := swFamily(r.Header)
	if id == "" {
		id = newSWMessageID()
	}
	content := swContent(id, t, r.Body)
	var sig string
	if key.hmac != nil {
		sig = "v1," + base64.StdEncoding.EncodeToString(hmacSum(sha256.New, key.hmac, content))
	} else {
		sig = "v1a," + base64.StdEncoding.EncodeToString(ed25519.Sign(key.priv, content))
	}
	for _, f := range families {
		r.Header.Set(f.id, id)
		r.Header.Set(f.ts, strconv.FormatInt(t.Unix(), 10))
		r.Header.Set(f.sig, sig)
	}
	return nil
}

// newSWMessageID returns a new message id in Svix's style: "msg_" and 27 base62 characters.
func newSWMessageID() string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 27)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "msg_" + string(b)
}

// Event implements Scheme: the JSON body's type and the message id (webhook-id or svix-id).
func (StandardWebhooks) Event(h http.Header, body []byte) (eventType, deliveryID string) {
	_, id, _, _ := swFamily(h)
	return bodyStringFields(body, "type")["type"], id
}
