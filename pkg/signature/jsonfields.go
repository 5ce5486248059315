package signature

import (
	"bytes"
	"encoding/json"
	"slices"
)

// bodyStringFields returns the top-level string fields keys of a JSON object body; fields that
// are absent or not strings are "".
//
// It is on the path of every request (identifying the provider's event), so it walks the top
// level of the object once instead of decoding it: nested values are skipped by matching
// brackets and strings, and only the values asked for are decoded. On valid JSON it gives what
// json.Unmarshal would (the last of repeated keys wins; FuzzBodyStringFields checks this). A
// body that is not one complete object gives nothing; beyond that, nested values are not
// validated, which only matters for a body no sender would send and costs nothing but a label.
func bodyStringFields(body []byte, keys ...string) map[string]string {
	out := make(map[string]string, len(keys))
	found := make([][]byte, len(keys)) // the raw value of each key, the last one seen
	s := scanner{b: body}
	if !s.skipSpace() || s.b[s.i] != '{' {
		return out
	}
	s.i++
	for first := true; ; first = false {
		if !s.skipSpace() {
			return out
		}
		if s.b[s.i] == '}' && first {
			s.i++
			break
		}
		key, ok := s.str()
		if !ok || !s.skipSpace() || s.b[s.i] != ':' {
			return out
		}
		s.i++
		if !s.skipSpace() {
			return out
		}
		start := s.i
		if !s.value() {
			return out
		}
		if k := keyIndex(key, keys); k >= 0 {
			found[k] = s.b[start:s.i]
		}
		if !s.skipSpace() {
			return out
		}
		c := s.b[s.i]
		s.i++
		if c == '}' {
			break
		}
		if c != ',' {
			return out
		}
	}
	if s.skipSpace() { // something after the object
		return out
	}
	for k, raw := range found {
		if raw == nil {
			continue
		}
		switch {
		case raw[0] != '"':
			if string(raw) == "null" {
				out[keys[k]] = "" // as json.Unmarshal does: null leaves a string alone
			}
		case bytes.IndexByte(raw, '\\') < 0 && ascii(raw):
			out[keys[k]] = string(raw[1 : len(raw)-1])
		default:
			var v string
			if json.Unmarshal(raw, &v) == nil {
				out[keys[k]] = v
			}
		}
	}
	return out
}

// keyIndex is the index in keys of the raw JSON string key (quotes included), or -1.
func keyIndex(key []byte, keys []string) int {
	inner := key[1 : len(key)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return slices.Index(keys, string(inner))
	}
	var k string
	if json.Unmarshal(key, &k) != nil {
		return -1
	}
	return slices.Index(keys, k)
}

// ascii reports whether b has only ASCII bytes that may stand unescaped in a JSON string.
func ascii(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c >= 0x80 {
			return false
		}
	}
	return true
}

// scanner walks JSON text without decoding it.
type scanner struct {
	b []byte
	i int
}

// skipSpace moves past white space and reports whether any text is left.
func (s *scanner) skipSpace() bool {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return true
		}
	}
	return false
}

// str moves past the string that starts at s.i and returns it, quotes included.
func (s *scanner) str() ([]byte, bool) {
	start := s.i
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false
	}
	s.i++
	for {
		j := bytes.IndexAny(s.b[s.i:], "\"\\")
		if j < 0 {
			return nil, false
		}
		s.i += j + 1
		if s.b[s.i-1] == '"' {
			return s.b[start:s.i], true
		}
		if s.i == len(s.b) {
			return nil, false
		}
		s.i++ // the escaped byte
	}
}

// value moves past the value that starts at s.i: a string, an object or array (to its
// matching bracket), or a literal or number (to the next delimiter).
func (s *scanner) value() bool {
	switch s.b[s.i] {
	case '"':
		_, ok := s.str()
		return ok
	case '{', '[':
		depth := 0
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case '"':
				if _, ok := s.str(); !ok {
					return false
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					s.i++
					return true
				}
			}
			s.i++
		}
		return false
	}
	start := s.i
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return s.i > start
		}
		s.i++
	}
	return false
}
