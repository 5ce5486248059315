package forward

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

// FuzzParseTarget checks that ParseTarget never panics, that what it accepts is an absolute
// http(s) URL with a host, and that JoinURI puts any request URI net/http accepts after the
// target's path without losing or re-encoding a byte, in a URL that Send writes unchanged.
func FuzzParseTarget(f *testing.F) {
	for _, s := range []struct{ target, uri string }{
		{"3000", "/stripe"},
		{":3000", "/"},
		{"localhost:3000", "/hooks?x=1"},
		{"127.0.0.1:8080", "/a%2Fb/%E2%9C%93?q=%20+x"},
		{"[::1]:8080", "/p?"},
		{"http://localhost:3000/webhooks", "/stripe?x=1"},
		{"https://example.test/hooks/", "/a?b=c&b=d"},
		{"http://localhost:3000/webhooks?k=v", "/a?b=c"},
		{"http://localhost:3000/p%20q", "/x%00y"},
		{"example.test", "*"},
		{"http://localhost:3000", "http://other.test/x?y=1"},
		{"http://localhost:3000/base", "//double/slash"},
		{"http://localhost:3000", "mailto:x://y/z"},
		{"http://user:pw@host", "/"},
		{"ftp://host/x", "/"},
		{"http://[::1", "/"},
		{"localhost:", "/"},
		{"99999", "/"},
	} {
		f.Add(s.target, s.uri)
	}
	f.Fuzz(func(t *testing.T, in, requestURI string) {
		u, err := ParseTarget(in)
		if err != nil {
			if !errors.Is(err, ErrBadTarget) {
				t.Fatalf("ParseTarget(%q) error %v does not wrap ErrBadTarget", in, err)
			}
			return
		}
		if u == nil {
			t.Fatalf("ParseTarget(%q) = nil, nil", in)
		}
		if u.Scheme != "http" && u.Scheme != "https" || !u.IsAbs() || u.Host == "" || u.Hostname() == "" {
			t.Fatalf("ParseTarget(%q) = %q: not an absolute http(s) URL with a host", in, u)
		}
		if u.User != nil || u.Fragment != "" {
			t.Fatalf("ParseTarget(%q) = %q: user info or fragment accepted", in, u)
		}
		// What ParseTarget returns reads back as the same URL.
		again, err := url.Parse(u.String())
		if err != nil || again.Host != u.Host || again.Scheme != u.Scheme {
			t.Fatalf("ParseTarget(%q) = %q, which reads back as %v, %v", in, u, again, err)
		}

		joined := JoinURI(u, requestURI) // must not panic, whatever the URI
		if _, err := url.ParseRequestURI(requestURI); err != nil || requestURI == "" || strings.Contains(requestURI, " ") {
			return // net/http answers 400 to such a request line: it never reaches JoinURI
		}
		checkJoined(t, u, requestURI, joined)
	})
}

// checkJoined checks JoinURI(target, requestURI) = joined for a request URI that net/http
// accepts.
func checkJoined(t *testing.T, target *url.URL, requestURI, joined string) {
	t.Helper()
	origin := target.Scheme + "://" + target.Host
	rest, ok := strings.CutPrefix(joined, origin)
	if !ok {
		t.Fatalf("JoinURI(%q, %q) = %q: does not start with %q", target, requestURI, joined, origin)
	}
	if !strings.HasPrefix(rest, "/") {
		t.Fatalf("JoinURI(%q, %q) = %q: no '/' after the host", target, requestURI, joined)
	}
	reqPath, reqQuery, hasQuery := strings.Cut(requestOriginForm(requestURI), "?")
	path, query, joinedHasQuery := strings.Cut(rest, "?")

	// The path: the target's path, then the request's path bytes.
	base := strings.TrimSuffix(target.EscapedPath(), "/")
	if !strings.HasPrefix(path, base) {
		t.Errorf("JoinURI(%q, %q) = %q: path %q does not start with the target's %q", target, requestURI, joined, path, base)
	}
	if tail := strings.TrimPrefix(reqPath, "/"); !strings.HasSuffix(path, tail) {
		t.Errorf("JoinURI(%q, %q) = %q: path %q does not end with the request's %q", target, requestURI, joined, path, tail)
	}
	// The query: the target's, then the request's, bytes unchanged; a request's "?" kept.
	switch {
	case hasQuery && !joinedHasQuery:
		t.Errorf("JoinURI(%q, %q) = %q: the request's query was dropped", target, requestURI, joined)
	case hasQuery && !strings.HasSuffix(query, reqQuery):
		t.Errorf("JoinURI(%q, %q) = %q: query %q does not end with the request's %q", target, requestURI, joined, query, reqQuery)
	case target.RawQuery != "" && !strings.HasPrefix(query, target.RawQuery):
		t.Errorf("JoinURI(%q, %q) = %q: query %q does not start with the target's %q", target, requestURI, joined, query, target.RawQuery)
	case !hasQuery && target.RawQuery == "" && joinedHasQuery:
		t.Errorf("JoinURI(%q, %q) = %q: a query appeared", target, requestURI, joined)
	}

	// Send writes the joined URL to the target's host, byte for byte but for paths that start
	// with "//" (see below).
	w, err := splitURL(joined)
	if err == nil && w.Host != target.Host {
		t.Errorf("JoinURI(%q, %q) = %q is sent to host %q", target, requestURI, joined, w.Host)
	}
	if strings.HasPrefix(path, "//") {
		// A known fidelity loss: splitURL parses such paths (written as is, they would read
		// as an authority), so url.Parse refuses a '%' that is not an escape (which net/http
		// accepts in a request URI such as "A:%"), a '#' starts a fragment, which is not
		// sent, and url.URL.RequestURI escapes the bytes it must, such as non-ASCII ones.
		switch {
		case err == nil && w.RequestURI() == joined:
			// Sent in absolute form, every byte kept.
		case err != nil || strings.Contains(joined, "#"):
		default:
			if unescaped, err := url.PathUnescape(path); err == nil && w.Path != unescaped {
				t.Errorf("JoinURI(%q, %q) = %q is sent with path %q, want %q", target, requestURI, joined, w.Path, unescaped)
			}
		}
		return
	}
	if err != nil {
		t.Fatalf("splitURL(JoinURI(%q, %q) = %q): %v", target, requestURI, joined, err)
	}
	if got := w.Scheme + "://" + w.Host + w.RequestURI(); got != joined {
		t.Errorf("JoinURI(%q, %q) = %q is written as %q", target, requestURI, joined, got)
	}
}

// requestOriginForm returns the path and query of a request URI in absolute form
// ("http://host/path?q"), and other request URIs unchanged.
func requestOriginForm(requestURI string) string {
	u, err := url.ParseRequestURI(requestURI)
	if err != nil || u.Scheme == "" || !strings.HasPrefix(requestURI[len(u.Scheme)+1:], "//") {
		return requestURI
	}
	rest := requestURI[len(u.Scheme)+3:]
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		return rest[i:]
	}
	return ""
}

// Request URIs that are not a plain path still name the target's host, and keep their bytes.
func TestJoinURIOddRequestURIs(t *testing.T) {
	tests := []struct {
		target, uri, want string
	}{
		{"http://localhost:3000", "/p?", "http://localhost:3000/p?"},
		{"http://localhost:3000/base?k=v", "/p?", "http://localhost:3000/base/p?k=v"},
		{"http://localhost:3000", "http://other.test/x%20y?q=1", "http://localhost:3000/x%20y?q=1"},
		{"http://localhost:3000/base", "https://other.test", "http://localhost:3000/base"},
		{"http://localhost:3000", "http://other.test?q", "http://localhost:3000/?q"},
		{"http://localhost:3000", "*", "http://localhost:3000/*"},
		{"http://localhost:3000/base", "*", "http://localhost:3000/base/*"},
		{"http://localhost:3000", "urn:x:y", "http://localhost:3000/urn:x:y"},
		{"http://localhost:3000", "mailto:x://y/z", "http://localhost:3000/mailto:x://y/z"},
		{"http://localhost:3000", "/a%00b?c=%00", "http://localhost:3000/a%00b?c=%00"},
	}
	for _, tt := range tests {
		t.Run(tt.target+" "+tt.uri, func(t *testing.T) {
			u, err := ParseTarget(tt.target)
			if err != nil {
				t.Fatal(err)
			}
			got := JoinURI(u, tt.uri)
			if got != tt.want {
				t.Fatalf("JoinURI(%s, %s) = %s, want %s", tt.target, tt.uri, got, tt.want)
			}
			checkJoined(t, u, tt.uri, got)
		})
	}
}
