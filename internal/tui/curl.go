package tui

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/hookctl/hookctl/internal/webhook"
)

// curlSkip are headers curl sets itself or that describe the hop, not the request.
var curlSkip = map[string]bool{
	"host": true, "content-length": true, "connection": true, "keep-alive": true,
	"transfer-encoding": true, "te": true, "trailer": true, "upgrade": true, "proxy-connection": true,
	"expect": true,
}

// CurlCommand returns a shell command line that sends r's method, headers and exact body to
// url with curl. A body holding NUL bytes, which no shell string can carry, is piped in from
// printf.
func CurlCommand(r *webhook.Request, url string) string {
	var b strings.Builder
	piped := strings.IndexByte(string(r.Body), 0) >= 0
	if piped {
		b.WriteString("printf '" + printfEscape(r.Body) + "' | ")
	}
	b.WriteString("curl")
	if r.Method != "GET" || len(r.Body) > 0 {
		b.WriteString(" -X " + shellQuote(r.Method))
	}
	b.WriteString(" " + shellQuote(url))
	for _, f := range r.Header {
		if curlSkip[strings.ToLower(f.Name)] {
			continue
		}
		b.WriteString(" \\\n  -H " + shellQuote(f.Name+": "+f.Value))
	}
	switch {
	case piped:
		b.WriteString(" \\\n  --data-binary @-")
	case len(r.Body) > 0:
		b.WriteString(" \\\n  --data-binary " + shellQuote(string(r.Body)))
	}
	return b.String()
}

// printfEscape writes body as a printf format that prints exactly its bytes: octal escapes for
// everything but plain printable ASCII.
func printfEscape(body []byte) string {
	var b strings.Builder
	for _, c := range body {
		switch {
		case c == '%':
			b.WriteString("%%")
		case c == '\\' || c == '\'' || c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&b, `\%03o`, c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// shellQuote quotes s for a POSIX shell: single quotes for printable text, and bash's $'...'
// with escapes when s holds control characters or bytes that are not UTF-8, so that every
// byte survives.
func shellQuote(s string) string {
	plain := utf8.ValidString(s)
	for _, r := range s {
		if r < 0x20 && r != '\n' && r != '\t' || r == 0x7f {
			plain = false
			break
		}
	}
	if plain {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	var b strings.Builder
	b.WriteString("$'")
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c >= 0x20 && c < 0x7f:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, `\x%02x`, c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}
