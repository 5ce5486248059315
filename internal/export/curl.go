package export

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
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

// maxInlineBody is the largest body passed to curl as an argument; larger ones are piped in
// from printf (a shell builtin), because Linux limits one argument to 128 KiB.
const maxInlineBody = 64 << 10

// WriteCurl writes one POSIX shell command per request, each after a "# request ID" comment
// and separated by blank lines. See CurlCommand.
func WriteCurl(w io.Writer, items []Item, opt Options) error {
	redact := opt.redactor()
	bw := bufio.NewWriter(w)
	for i, it := range items {
		r := it.Request
		if r == nil {
			return fmt.Errorf("item %d: no request", i+1)
		}
		if i > 0 {
			bw.WriteString("\n")
		}
		n := strconv.FormatInt(r.ID, 10)
		if r.ID == 0 {
			n = strconv.Itoa(i + 1)
		}
		fmt.Fprintf(bw, "# request %s: %s\n", n, commentText(r.Method+" "+r.URI))
		cp := *r
		cp.Header = redact(r.Header)
		bw.WriteString(CurlCommand(&cp, opt.url(r.URI)))
		bw.WriteString("\n")
	}
	return bw.Flush()
}

// commentText makes s safe on a shell comment line.
func commentText(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return '?'
		}
		return r
	}, s)
}

// CurlCommand returns a POSIX shell command (sh, dash, bash, zsh) that sends r's method,
// headers and exact body bytes to url with curl:
//
//   - the URL is sent as is (--globoff, --path-as-is);
//   - the recorded headers go in order, except Host, Content-Length and hop-by-hop headers,
//     which curl sets; an empty value is sent as such ("-H 'Name;'");
//   - headers curl would add on its own (User-Agent, Accept, and Content-Type for a body) are
//     removed when the request did not have them, and Expect: 100-continue is not sent;
//   - a body of printable UTF-8 text is passed as one argument; any other body (binary, not
//     UTF-8, control characters, starting with "@", or large) is printed by printf from octal
//     escapes and piped into curl --data-binary @-.
func CurlCommand(r *webhook.Request, url string) string {
	var b strings.Builder
	body := r.Body
	piped := len(body) > 0 && !inlineBody(body)
	if piped {
		b.WriteString("printf '" + printfEscape(body) + "' | ")
	}
	b.WriteString("curl --globoff --path-as-is")
	switch {
	case r.Method == "HEAD":
		b.WriteString(" --head")
	case r.Method != "GET" || len(body) > 0:
		b.WriteString(" -X " + shellQuote(r.Method))
	}
	b.WriteString(" " + shellQuote(url))
	header := func(line string) { b.WriteString(" \\\n  -H " + singleQuote(line)) }
	for _, f := range r.Header {
		if curlSkip[strings.ToLower(f.Name)] {
			continue
		}
		if f.Value == "" {
			header(f.Name + ";")
		} else {
			header(f.Name + ": " + f.Value)
		}
	}
	for _, name := range []string{"User-Agent", "Accept"} {
		if len(r.Header.Values(name)) == 0 {
			header(name + ":")
		}
	}
	if len(body) > 0 {
		if len(r.Header.Values("Content-Type")) == 0 {
			header("Content-Type:")
		}
		if len(body) > 1024 {
			header("Expect:") // curl would send Expect: 100-continue
		}
	}
	switch {
	case piped:
		b.WriteString(" \\\n  --data-binary @-")
	case len(body) > 0:
		b.WriteString(" \\\n  --data-binary " + shellQuote(string(body)))
	}
	return b.String()
}

// inlineBody says whether body can be given to curl as an argument: printable UTF-8 text (tabs
// and newlines allowed), not starting with "@" (a file name to curl), and not too large.
func inlineBody(body []byte) bool {
	if len(body) > maxInlineBody || body[0] == '@' || !utf8.Valid(body) {
		return false
	}
	for _, c := range body {
		if c < 0x20 && c != '\n' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// printfEscape writes body as a printf format that prints exactly its bytes: octal escapes for
// everything but plain printable ASCII.
func printfEscape(body []byte) string {
	var b strings.Builder
	b.Grow(len(body) + len(body)/4)
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

// shellQuote quotes s for a POSIX shell in single quotes, which keep every byte but NUL (which
// no argument can hold) as it is.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:") == "" {
		return s
	}
	return singleQuote(s)
}

// singleQuote quotes s in single quotes.
func singleQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
