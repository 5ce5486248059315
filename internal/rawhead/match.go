package rawhead

import (
	"net/http"
	"net/textproto"
	"strings"

	"github.com/hookctl/hookctl/internal/webhook"
)

// match finds r's block in the queue. Blocks are searched oldest first: older blocks belong to
// requests whose handlers never asked for them (or that net/http answered itself, like
// "OPTIONS *"), younger ones to pipelined requests not yet served. The matching block and all
// older ones are dropped. When none matches, the oldest block with r's request line is taken
// to be r's and dropped with the older ones, so the queue cannot stay out of step.
func (rec *recorder) match(r *http.Request) (webhook.Headers, bool) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	first := -1
	for i := range rec.queue {
		b := &rec.queue[i]
		if b.method != r.Method || b.target != r.RequestURI || b.proto != r.Proto {
			continue
		}
		if first < 0 {
			first = i
		}
		if h, ok := b.headers(r); ok {
			rec.drop(i + 1)
			return h, true
		}
	}
	if first >= 0 {
		rec.drop(first + 1)
	}
	return nil, false
}

// seenKey counts the lines of one field name so far.
type seenKey struct {
	name string // as on the wire; names are compared under ASCII case folding
	n    int    // lines so far
	want int    // values in r.Header
}

// Field names that net/http treats specially.
const (
	fieldOther = iota
	fieldHost
	fieldTransferEncoding
	fieldContentLength
	fieldTrailer
	fieldCacheControl
	fieldPragma
)

// special classifies a field name.
func special(name string) int {
	switch len(name) {
	case len("Host"):
		if asciiEqualFold(name, "Host") {
			return fieldHost
		}
	case len("Transfer-Encoding"):
		if asciiEqualFold(name, "Transfer-Encoding") {
			return fieldTransferEncoding
		}
	case len("Content-Length"):
		if asciiEqualFold(name, "Content-Length") {
			return fieldContentLength
		}
	case len("Trailer"):
		if asciiEqualFold(name, "Trailer") {
			return fieldTrailer
		}
	case len("Cache-Control"):
		if asciiEqualFold(name, "Cache-Control") {
			return fieldCacheControl
		}
	case len("Pragma"):
		if asciiEqualFold(name, "Pragma") {
			return fieldPragma
		}
	}
	return fieldOther
}

// headers returns the block's fields if they account exactly for what net/http parsed into r.
//
// net/http builds r.Header from the block's lines, then moves Host out to r.Host, removes
// Transfer-Encoding (reflected in r.TransferEncoding), removes Content-Length and Trailer from
// a chunked request, keeps one copy of repeated identical Content-Length values, and adds
// "Cache-Control: no-cache" when the first Pragma is "no-cache" and there is no Cache-Control.
// Every other line must appear in r.Header under its canonical name, in the same position
// among that name's values, and r.Header must hold nothing else.
func (b *block) headers(r *http.Request) (webhook.Headers, bool) {
	if b.folded {
		return nil, false
	}
	if b.chunked {
		if len(r.TransferEncoding) != 1 || r.TransferEncoding[0] != "chunked" || r.ContentLength != -1 {
			return nil, false
		}
	} else if r.TransferEncoding != nil || r.ContentLength != b.length {
		return nil, false
	}

	h := make(webhook.Headers, 0, b.fields)
	var seenBuf [24]seenKey
	seen := seenBuf[:0] // one entry per distinct name compared with r.Header
	var keyBuf [64]byte
	host, hosts := "", 0
	sawCL, sawCC := false, false
	pragma, sawPragma := "", false
	var trailers []string

	rest := b.raw[b.hdr:]
	for {
		var line string
		line, rest = cutLine(rest)
		if line == "" {
			break
		}
		colon := strings.IndexByte(line, ':') // parseBlock checked there is one
		name, value := line[:colon], trimOWS(line[colon+1:])
		h = append(h, webhook.Field{Name: name, Value: value})

		switch special(name) {
		case fieldHost:
			host = value
			hosts++
			continue
		case fieldTransferEncoding:
			continue
		case fieldContentLength:
			if b.chunked || sawCL {
				continue
			}
			sawCL = true
		case fieldTrailer:
			if b.chunked {
				trailers = append(trailers, value)
				continue
			}
		case fieldCacheControl:
			sawCC = true
		case fieldPragma:
			if !sawPragma {
				pragma, sawPragma = value, true
			}
		}

		var s *seenKey
		for j := range seen {
			if asciiEqualFold(seen[j].name, name) {
				s = &seen[j]
				break
			}
		}
		if s == nil {
			key, ok := canonicalKey(keyBuf[:0], name)
			if !ok {
				return nil, false
			}
			vals := r.Header[string(key)]
			if len(vals) == 0 || vals[0] != value {
				return nil, false
			}
			seen = append(seen, seenKey{name: name, n: 1, want: len(vals)})
			continue
		}
		if s.n >= s.want {
			return nil, false
		}
		key, _ := canonicalKey(keyBuf[:0], name)
		if r.Header[string(key)][s.n] != value {
			return nil, false
		}
		s.n++
	}

	// Every name compared has all its values accounted for, and r.Header holds no other name.
	keys := len(seen)
	for _, s := range seen {
		if s.n != s.want {
			return nil, false
		}
	}
	if pragma == "no-cache" && !sawCC {
		if cc := r.Header["Cache-Control"]; len(cc) != 1 || cc[0] != "no-cache" {
			return nil, false
		}
		keys++
	}
	if keys != len(r.Header) {
		return nil, false
	}
	if hosts > 1 || (r.URL == nil || r.URL.Host == "") && r.Host != host {
		return nil, false
	}
	// Names declared in Trailer are keys of r.Trailer (which may gain undeclared ones once the
	// body has been read).
	for _, v := range trailers {
		for name := range strings.SplitSeq(v, ",") {
			name = textproto.TrimString(name)
			if name == "" {
				continue
			}
			if _, ok := r.Trailer[textproto.CanonicalMIMEHeaderKey(name)]; !ok {
				return nil, false
			}
		}
	}
	return h, true
}

// canonicalKey appends the canonical form of the field name to dst, as
// textproto.CanonicalMIMEHeaderKey would make it. ok is false when name is not a valid field
// name, which net/http refuses.
func canonicalKey(dst []byte, name string) (key []byte, ok bool) {
	if name == "" {
		return nil, false
	}
	upper := true
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !isTokenByte(c) {
			return nil, false
		}
		if upper && 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		} else if !upper && 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
		upper = c == '-'
	}
	return dst, true
}

// isTokenByte reports whether c may appear in a field name (an RFC 9110 token).
func isTokenByte(c byte) bool {
	const mask = 0 |
		(1<<10-1)<<'0' |
		(1<<26-1)<<'a' |
		(1<<26-1)<<'A' |
		1<<'!' | 1<<'#' | 1<<'$' | 1<<'%' | 1<<'&' | 1<<'\'' | 1<<'*' |
		1<<'+' | 1<<'-' | 1<<'.' | 1<<'^' | 1<<'_' | 1<<'`' | 1<<'|' | 1<<'~'
	return ((uint64(1)<<c)&(mask&(1<<64-1)) |
		(uint64(1)<<(c-64))&(mask>>64)) != 0
}
