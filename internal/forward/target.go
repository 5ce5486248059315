package forward

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// ErrBadTarget is wrapped by ParseTarget's errors.
var ErrBadTarget = errors.New("malformed target")

// ParseTarget parses a forwarding target as users write it: a port ("3000" or ":3000"), a
// host and port ("localhost:3000"), or a full http or https URL with an optional path
// ("http://localhost:3000/webhooks"). A bare port or host means plain http.
func ParseTarget(s string) (*url.URL, error) {
	in := strings.TrimSpace(s)
	bad := func(why string) error {
		return fmt.Errorf("%w %q: %s (use a port like 3000, host:port, or an http(s) URL)", ErrBadTarget, s, why)
	}
	if in == "" {
		return nil, bad("empty")
	}
	if port, ok := strings.CutPrefix(in, ":"); ok || isDigits(in) {
		if !ok {
			port = in
		}
		in = "localhost:" + port
	}
	if !strings.Contains(in, "://") {
		in = "http://" + in
	}
	u, err := url.Parse(in)
	if err != nil {
		return nil, bad(errors.Unwrap(err).Error())
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, bad("scheme must be http or https")
	}
	if u.Hostname() == "" {
		return nil, bad("no host")
	}
	if u.User != nil || u.Fragment != "" {
		return nil, bad("user info and fragments are not allowed")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, bad("port must be between 1 and 65535")
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return nil, bad("empty port")
	}
	if strings.ContainsAny(u.Hostname(), " \t") || (net.ParseIP(u.Hostname()) == nil && strings.Contains(u.Hostname(), ":")) {
		return nil, bad("invalid host")
	}
	return u, nil
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// JoinURI returns the URL that a request received with requestURI (path and optional query,
// exactly as received) is sent to at target: the request path appended to the target's path,
// and the two queries joined. The request's bytes are not re-encoded, and a "?" it ends with
// is kept. A request URI in absolute form ("http://host/path?q", which HTTP/1.1 servers
// accept) contributes its path and query; one that does not start with "/" otherwise (such as
// "*") is put after a "/", so that the result always names target's host.
func JoinURI(target *url.URL, requestURI string) string {
	path, query, hasQuery := joinPathQuery(target, requestURI)
	s := target.Scheme + "://" + target.Host + path
	if hasQuery {
		s += "?" + query
	}
	return s
}

func joinPathQuery(target *url.URL, requestURI string) (path, query string, hasQuery bool) {
	reqPath, reqQuery, reqHasQuery := strings.Cut(originForm(requestURI), "?")
	base := target.EscapedPath()
	switch {
	case base == "" || base == "/":
		path = reqPath
	case reqPath == "" || reqPath == "/":
		path = base
	default:
		path = strings.TrimSuffix(base, "/") + "/" + strings.TrimPrefix(reqPath, "/")
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	switch {
	case target.RawQuery == "":
		query = reqQuery
	case reqQuery == "":
		query = target.RawQuery
	default:
		query = target.RawQuery + "&" + reqQuery
	}
	return path, query, reqHasQuery || query != ""
}

// originForm returns the path and query of a request URI in absolute form
// ("scheme://authority/path?query"), and any other request URI unchanged.
func originForm(requestURI string) string {
	if strings.HasPrefix(requestURI, "/") {
		return requestURI
	}
	scheme, rest, ok := strings.Cut(requestURI, "://")
	if !ok || !isScheme(scheme) {
		return requestURI
	}
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		return rest[i:]
	}
	return ""
}

// isScheme reports whether s is a URI scheme: a letter, then letters, digits, '+', '-' or '.'.
func isScheme(s string) bool {
	for i, c := range []byte(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return s != ""
}
