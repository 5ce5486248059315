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
// and the two queries joined. The request's bytes are not re-encoded.
func JoinURI(target *url.URL, requestURI string) string {
	path, query := joinPathQuery(target, requestURI)
	s := target.Scheme + "://" + target.Host + path
	if query != "" {
		s += "?" + query
	}
	return s
}

func joinPathQuery(target *url.URL, requestURI string) (path, query string) {
	reqPath, reqQuery, _ := strings.Cut(requestURI, "?")
	base := target.EscapedPath()
	switch {
	case base == "" || base == "/":
		path = reqPath
	case reqPath == "" || reqPath == "/":
		path = base
	default:
		path = strings.TrimSuffix(base, "/") + "/" + strings.TrimPrefix(reqPath, "/")
	}
	if path == "" {
		path = "/"
	}
	switch {
	case target.RawQuery == "":
		query = reqQuery
	case reqQuery == "":
		query = target.RawQuery
	default:
		query = target.RawQuery + "&" + reqQuery
	}
	return path, query
}
