package signature

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"strings"
	"time"
	"unicode"
)

// Generic is a configurable HMAC scheme for senders that are not built in: the header Header
// carries Prefix followed by the HMAC of the raw body, keyed with the secret as-is and encoded
// with Encoding. Nothing is timestamped. Its Name is "hmac"; it is not among Schemes() because
// it needs a configuration (see ParseGeneric).
//
// The zero Algorithm is "sha256" and the zero Encoding is "hex"; Header is required.
type Generic struct {
	// Header is the name of the signature header, e.g. "X-Signature".
	Header string
	// Algorithm is the HMAC's hash: "sha1", "sha256" or "sha512".
	Algorithm string
	// Encoding is how the MAC is written: "hex" or "base64" (standard alphabet when signing;
	// the URL-safe alphabet and missing padding are accepted when verifying).
	Encoding string
	// Prefix comes before the encoded MAC, e.g. "sha256="; "" for none. It is matched
	// case-insensitively; leading white space in it is ignored, since header values lose
	// theirs on the wire.
	Prefix string
}

const genericSpecPrefix = "hmac"

// ParseGeneric parses a generic HMAC scheme written as
//
//	[hmac:]HEADER[:ALGORITHM[:ENCODING[:PREFIX]]]
//
// The leading "hmac:" is optional (so "--verify-hmac X-Signature:sha256:hex" works too); a
// spec whose first field is "hmac" followed by more fields is read with it, so a header that is
// itself named "hmac" must be written "hmac:hmac:...". ALGORITHM is sha1, sha256 or sha512
// (default sha256), ENCODING is hex or base64 (default hex), and PREFIX is everything after the
// ENCODING field's colon, verbatim (so it may itself contain colons). Empty fields take their
// defaults; names are case-insensitive. Examples:
//
//	hmac:X-Signature                         hex HMAC-SHA256 of the body, no prefix
//	hmac:X-Signature:sha256:hex:sha256=      "sha256=<hex>", like GitHub's header
//	X-Hook-Signature:sha512:base64           base64 HMAC-SHA512
//	hmac:X-Sig::base64                       base64 HMAC-SHA256
func ParseGeneric(spec string) (Generic, error) {
	const form = "[hmac:]HEADER[:ALGORITHM[:ENCODING[:PREFIX]]]"
	rest := spec
	if head, tail, ok := strings.Cut(spec, ":"); ok && strings.EqualFold(strings.TrimSpace(head), genericSpecPrefix) {
		rest = tail
	} else if strings.EqualFold(strings.TrimSpace(spec), genericSpecPrefix) {
		rest = ""
	}
	parts := strings.SplitN(rest, ":", 4)
	if strings.TrimSpace(parts[0]) == "" {
		return Generic{}, fmt.Errorf("hmac spec %q: no header name (%s)", spec, form)
	}
	g := Generic{Header: strings.TrimSpace(parts[0]), Algorithm: "sha256", Encoding: "hex"}
	if len(parts) > 1 && strings.TrimSpace(parts[1]) != "" {
		g.Algorithm = strings.ToLower(strings.TrimSpace(parts[1]))
	}
	if len(parts) > 2 && strings.TrimSpace(parts[2]) != "" {
		g.Encoding = strings.ToLower(strings.TrimSpace(parts[2]))
	}
	if len(parts) > 3 {
		g.Prefix = parts[3]
	}
	if err := g.check(); err != nil {
		return Generic{}, fmt.Errorf("hmac spec %q: %w (%s)", spec, err, form)
	}
	return g, nil
}

// String returns g in the form ParseGeneric reads, with defaults filled in.
func (g Generic) String() string {
	s := genericSpecPrefix + ":" + g.Header + ":" + g.algorithm() + ":" + g.encoding()
	if g.Prefix != "" {
		s += ":" + g.Prefix
	}
	return s
}

func (g Generic) algorithm() string {
	if g.Algorithm == "" {
		return "sha256"
	}
	return strings.ToLower(g.Algorithm)
}

func (g Generic) encoding() string {
	if g.Encoding == "" {
		return "hex"
	}
	return strings.ToLower(g.Encoding)
}

// prefix is Prefix without the leading white space that a header value never keeps on the
// wire.
func (g Generic) prefix() string {
	return strings.TrimLeftFunc(g.Prefix, unicode.IsSpace)
}

// hash returns the configured hash and its size.
func (g Generic) hash() (func() hash.Hash, int, error) {
	switch g.algorithm() {
	case "sha1":
		return sha1.New, sha1.Size, nil
	case "sha256":
		return sha256.New, sha256.Size, nil
	case "sha512":
		return sha512.New, sha512.Size, nil
	}
	return nil, 0, fmt.Errorf("unknown algorithm %q (want sha1, sha256 or sha512)", g.Algorithm)
}

// check reports what is wrong with g's configuration.
func (g Generic) check() error {
	if g.Header == "" {
		return errors.New("no header name")
	}
	if !validHeaderName(g.Header) {
		return fmt.Errorf("%q is not a valid HTTP header name", g.Header)
	}
	if _, _, err := g.hash(); err != nil {
		return err
	}
	switch g.encoding() {
	case "hex", "base64":
	default:
		return fmt.Errorf("unknown encoding %q (want hex or base64)", g.Encoding)
	}
	if strings.ContainsAny(g.Prefix, "\r\n\x00") {
		return errors.New("the prefix contains a control character")
	}
	return nil
}

// validHeaderName reports whether s is an HTTP token (RFC 9110 section 5.6.2).
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// Name implements Scheme.
func (Generic) Name() string { return "hmac" }

// Detect implements Scheme: the request carries g.Header.
func (g Generic) Detect(h http.Header) bool { return g.Header != "" && h.Get(g.Header) != "" }

// Verify implements Scheme. A Generic that is not configured correctly gives Invalid with
// MalformedHeader, since no header can be read with it.
func (g Generic) Verify(r *Request, secret string, _ Options) Result {
	newHash, size, err := g.hash()
	if err == nil {
		err = g.check()
	}
	if err != nil {
		return invalid(MalformedHeader, "the hmac scheme is misconfigured: %v", err)
	}
	v := strings.TrimSpace(r.Header.Get(g.Header))
	if v == "" {
		return unsigned(g.Header)
	}
	enc := v
	if p := g.prefix(); p != "" {
		if len(v) < len(p) || !strings.EqualFold(v[:len(p)], p) {
			return invalid(MalformedHeader, "%s does not start with %q", g.Header, p)
		}
		enc = v[len(p):]
	}
	var got []byte
	var ok bool
	if g.encoding() == "hex" {
		got, ok = decodeSigHex(enc, size)
	} else {
		got, ok = decodeSigB64(enc, size)
	}
	if !ok {
		return invalid(MalformedHeader, "%s is not %s%s", g.Header, g.prefix(), encodedDesc(g.encoding(), size))
	}
	if secret == "" {
		return invalid(BadSecret, "the HMAC secret is empty")
	}
	if !equal(hmacSum(newHash, []byte(secret), r.Body), got) {
		return invalid(Mismatch, "%s (HMAC-%s) does not match: %s", g.Header, strings.ToUpper(g.algorithm()), mismatchWhy)
	}
	return valid(fmt.Sprintf("%s (HMAC-%s) matches", g.Header, strings.ToUpper(g.algorithm())), 0)
}

// Sign implements Scheme: it sets g.Header to Prefix and the encoded HMAC of the body; t is not
// used.
func (g Generic) Sign(r *Request, secret string, _ time.Time) error {
	if err := g.check(); err != nil {
		return fmt.Errorf("hmac: misconfigured: %w", err)
	}
	if secret == "" {
		return fmt.Errorf("hmac: %w: the secret is empty", ErrBadSecret)
	}
	newHash, _, _ := g.hash()
	sum := hmacSum(newHash, []byte(secret), r.Body)
	enc := hex.EncodeToString(sum)
	if g.encoding() == "base64" {
		enc = base64.StdEncoding.EncodeToString(sum)
	}
	if r.Header == nil {
		r.Header = http.Header{}
	}
	r.Header.Set(g.Header, g.prefix()+enc)
	return nil
}

// Event implements Scheme: a generic sender's event type and id are unknown, so both are "".
func (Generic) Event(http.Header, []byte) (eventType, deliveryID string) { return "", "" }
