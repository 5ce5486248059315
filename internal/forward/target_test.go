package forward

import (
	"errors"
	"net/url"
	"testing"
)

func TestParseTarget(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"3000", "http://localhost:3000"},
		{":3000", "http://localhost:3000"},
		{"localhost:3000", "http://localhost:3000"},
		{"127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"[::1]:8080", "http://[::1]:8080"},
		{"http://localhost:3000/webhooks", "http://localhost:3000/webhooks"},
		{"https://example.test/hooks/", "https://example.test/hooks/"},
		{"example.test", "http://example.test"},
		{" 3000 ", "http://localhost:3000"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			u, err := ParseTarget(tt.in)
			if err != nil {
				t.Fatalf("ParseTarget(%q): %v", tt.in, err)
			}
			if got := u.String(); got != tt.want {
				t.Errorf("ParseTarget(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseTargetErrors(t *testing.T) {
	for _, in := range []string{"", "0", "99999", "localhost:abc", "ftp://host/x", "http://", "http://:3000",
		"localhost:", "http://user:pw@host", "http://host/#frag", "http://ho st:1", "http://[::1"} {
		t.Run(in, func(t *testing.T) {
			_, err := ParseTarget(in)
			if !errors.Is(err, ErrBadTarget) {
				t.Fatalf("ParseTarget(%q) error = %v, want ErrBadTarget", in, err)
			}
		})
	}
}

func TestJoinURI(t *testing.T) {
	tests := []struct {
		target, uri, want string
	}{
		{"http://localhost:3000", "/stripe", "http://localhost:3000/stripe"},
		{"http://localhost:3000", "/", "http://localhost:3000/"},
		{"http://localhost:3000/webhooks", "/stripe?x=1", "http://localhost:3000/webhooks/stripe?x=1"},
		{"http://localhost:3000/webhooks/", "/stripe", "http://localhost:3000/webhooks/stripe"},
		{"http://localhost:3000/webhooks", "/", "http://localhost:3000/webhooks"},
		{"http://localhost:3000/webhooks?k=v", "/a?b=c", "http://localhost:3000/webhooks/a?k=v&b=c"},
		{"http://localhost:3000", "/a%2Fb/%E2%9C%93?q=%20+x", "http://localhost:3000/a%2Fb/%E2%9C%93?q=%20+x"},
		{"http://localhost:3000/p%20q", "/x", "http://localhost:3000/p%20q/x"},
	}
	for _, tt := range tests {
		t.Run(tt.target+tt.uri, func(t *testing.T) {
			u, err := url.Parse(tt.target)
			if err != nil {
				t.Fatal(err)
			}
			if got := JoinURI(u, tt.uri); got != tt.want {
				t.Errorf("JoinURI(%s, %s) = %s, want %s", tt.target, tt.uri, got, tt.want)
			}
		})
	}
}

func TestSplitURLKeepsBytes(t *testing.T) {
	for _, in := range []string{
		"http://h:1/a%2Fb?x=%zz&y=1",
		"http://h:1/%E2%9C%93",
		"http://h:1/p?",
		"http://h:1/p",
	} {
		u, err := splitURL(in)
		if err != nil {
			t.Fatalf("splitURL(%q): %v", in, err)
		}
		got := u.Scheme + "://" + u.Host + u.RequestURI()
		if got != in {
			t.Errorf("splitURL(%q) writes %q", in, got)
		}
	}
}
