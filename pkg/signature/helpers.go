package signature

import (
	"bytes"
	"crypto/hmac"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"time"
)

// Helpers shared by the schemes.

// hmacSum returns the HMAC of the concatenated parts.
func hmacSum(h func() hash.Hash, key []byte, parts ...[]byte) []byte {
	m := hmac.New(h, key)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// firstMatch returns the index of the first of sigs equal to want, compared in constant time,
// or -1. Every signature is compared, so the time taken does not say which one matched.
func firstMatch(want []byte, sigs [][]byte) int {
	match := -1
	for i, sig := range sigs {
		if equal(want, sig) && match < 0 {
			match = i
		}
	}
	return match
}

// matchVersions is the end of verifying a header that carries a timestamp ts and several
// signatures of one version (Stripe's v1, Paddle's h1): valid when one of sigs equals want and
// ts is within the tolerance (opt's, or def), else invalid saying why or stale.
func matchVersions(version string, want []byte, sigs [][]byte, ts time.Time, opt Options, def time.Duration, why string) Result {
	now := opt.now()
	skew := now.Sub(ts)
	match := firstMatch(want, sigs)
	if match < 0 {
		res := invalid(Mismatch, "%s: %s", sigNoMatchText(version, len(sigs)), why)
		res.Skew = skew
		return res
	}
	tol := opt.tolerance(def)
	if res, ok := checkWindow(ts, now, tol); !ok {
		return res
	}
	return valid(sigMatchedText(version, match, len(sigs))+ageNote(skew, tol), skew)
}

// sigMatchedText says which of n signatures of a version matched.
func sigMatchedText(version string, i, n int) string {
	if n == 1 {
		return version + " signature matches"
	}
	return fmt.Sprintf("%s signature %d of %d matches", version, i+1, n)
}

// sigNoMatchText says that none of n signatures of a version matched.
func sigNoMatchText(version string, n int) string {
	if n == 1 {
		return version + " signature does not match"
	}
	return fmt.Sprintf("none of the %d %s signatures matches", n, version)
}

// mismatchWhy ends every Mismatch reason of an HMAC over the body.
const mismatchWhy = "body differs from what was signed, or the secret is wrong"

// decodeSigHex decodes a hex signature of size bytes (either case).
func decodeSigHex(s string, size int) ([]byte, bool) {
	b, err := hex.DecodeString(strings.TrimSpace(s))
	return b, err == nil && len(b) == size
}

// decodeSigB64 decodes a base64 signature of size bytes, in the standard or URL-safe alphabet,
// padded or not.
func decodeSigB64(s string, size int) ([]byte, bool) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, len(b) == size
		}
	}
	return nil, false
}

// encodedDesc describes the expected form of an encoded MAC of size bytes.
func encodedDesc(encoding string, size int) string {
	if encoding == "hex" {
		return fmt.Sprintf("%d hex digits", 2*size)
	}
	return fmt.Sprintf("the base64 of a %d-byte MAC", size)
}

// parseEpoch parses decimal digits as a count of unit since the Unix epoch.
func parseEpoch(s string, unit time.Duration) (time.Time, bool) {
	if s == "" || len(s) > 18 || strings.TrimLeft(s, "0123456789") != "" {
		return time.Time{}, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	if unit == time.Millisecond {
		return time.UnixMilli(n), true
	}
	return time.Unix(n, 0), true
}

// ageNote describes a matching signature's timestamp for a Valid reason.
func ageNote(skew, tolerance time.Duration) string {
	age := "old"
	if skew < 0 {
		age, skew = "in the future", -skew
	}
	if tolerance < 0 {
		return fmt.Sprintf("; timestamp %s %s, not checked", skew.Round(time.Second), age)
	}
	return fmt.Sprintf("; timestamp %s %s (tolerance %s)", skew.Round(time.Second), age, tolerance)
}

// jsonObject returns the top-level fields of a JSON object body, or nil.
func jsonObject(body []byte) map[string]json.RawMessage {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return nil
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(body, &obj) != nil {
		return nil
	}
	return obj
}

// jsonStringField returns obj[key] when it is a JSON string, else "".
func jsonStringField(obj map[string]json.RawMessage, key string) string {
	var s string
	if raw, ok := obj[key]; ok && json.Unmarshal(raw, &s) == nil {
		return s
	}
	return ""
}

// clipForReason shortens a value from the request before it is quoted in a Reason.
func clipForReason(s string) string {
	if len(s) > 32 {
		return s[:32] + "..."
	}
	return s
}

// clipURLForReason shortens a request URL before it is quoted in a Reason.
func clipURLForReason(s string) string {
	if len(s) > 120 {
		return s[:120] + "..."
	}
	return s
}
