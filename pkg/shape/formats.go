package shape

import (
	"bytes"
	"net/url"
	"strings"
	"time"
)

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// isDateTime accepts RFC 3339 date-times: 2006-01-02T15:04:05[.frac](Z|±hh:mm).
func isDateTime(b []byte) bool {
	if len(b) < 20 || len(b) > 40 {
		return false
	}
	for _, i := range []int{0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18} {
		if !isDigit(b[i]) {
			return false
		}
	}
	if b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' {
		return false
	}
	rest := b[19:]
	if rest[0] == '.' {
		i := 1
		for i < len(rest) && isDigit(rest[i]) {
			i++
		}
		if i == 1 {
			return false
		}
		rest = rest[i:]
	}
	switch {
	case len(rest) == 1 && rest[0] == 'Z':
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && isDigit(rest[1]) && isDigit(rest[2]) &&
		rest[3] == ':' && isDigit(rest[4]) && isDigit(rest[5]):
	default:
		return false
	}
	_, err := time.Parse(time.RFC3339Nano, string(b))
	return err == nil
}

// isUUID accepts 8-4-4-4-12 hexadecimal strings.
func isUUID(b []byte) bool {
	if len(b) != 36 {
		return false
	}
	for i, c := range b {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isHex(c) {
				return false
			}
		}
	}
	return true
}

// isEmail accepts plain addresses: dot-atom local part, hostname domain with
// a top-level domain of letters.
func isEmail(b []byte) bool {
	at := bytes.LastIndexByte(b, '@')
	if at < 1 || len(b) > 254 || at > 64 {
		return false
	}
	local, domain := b[:at], b[at+1:]
	if local[0] == '.' || local[len(local)-1] == '.' || bytes.Contains(local, []byte("..")) {
		return false
	}
	for _, c := range local {
		if !(isLetter(c) || isDigit(c) || strings.IndexByte(".!#$%&'*+-/=?^_`{|}~", c) >= 0) {
			return false
		}
	}
	labels := bytes.Split(domain, []byte("."))
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, c := range l {
			if !(isLetter(c) || isDigit(c) || c == '-') {
				return false
			}
		}
	}
	tld := labels[len(labels)-1]
	for _, c := range tld {
		if !isLetter(c) {
			return false
		}
	}
	return len(tld) >= 2
}

// isURI accepts absolute URIs with an authority, such as https://example.com/x.
func isURI(b []byte) bool {
	i := bytes.Index(b, []byte("://"))
	if i < 1 || !isLetter(b[0]) {
		return false
	}
	for _, c := range b[:i] {
		if !(isLetter(c) || isDigit(c) || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	for _, c := range b {
		if c <= ' ' || c == 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c >= 0x80 {
			return false
		}
	}
	u, err := url.Parse(string(b))
	if err != nil || !u.IsAbs() || u.Host == "" {
		return false
	}
	return !strings.Contains(u.Hostname(), ":")
}

// idPrefix returns the leading "<letters>_" segments of an id-like string
// such as "evt_1NfX..." or "cs_test_a1B2...", or nil. The rest must be
// alphanumeric, at least 4 characters, with a digit.
func idPrefix(b []byte) []byte {
	end := 0
	i := 0
	for {
		j := i
		for j < len(b) && isLetter(b[j]) {
			j++
		}
		if j == i || j >= len(b) || b[j] != '_' {
			break
		}
		i = j + 1
		end = i
	}
	if end == 0 {
		return nil
	}
	rest := b[end:]
	if len(rest) < 4 {
		return nil
	}
	digit := false
	for _, c := range rest {
		switch {
		case isDigit(c):
			digit = true
		case isLetter(c):
		default:
			return nil
		}
	}
	if !digit {
		return nil
	}
	return b[:end]
}

// commonPrefix returns the longest common prefix of a and b that ends with '_'.
func commonPrefix(a string, b []byte) string {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	for n > 0 && a[n-1] != '_' {
		n--
	}
	return a[:n]
}
