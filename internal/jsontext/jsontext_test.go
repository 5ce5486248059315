package jsontext

import (
	"bytes"
	"encoding/json"
	"testing"
)

// marshal is what encoding/json writes for s, HTML-escaped or not.
func marshal(t *testing.T, s string, html bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(html)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

var seeds = []string{"", "plain", `<a href="x">&</a>`, "\x00\x01\b\f\n\r\t\x1f\x7f", "é😀\u2028\u2029", "\xff\xfe", "\xe2\x80", `a\b`}

func TestAppendString(t *testing.T) {
	for _, s := range seeds {
		for _, html := range []bool{true, false} {
			if got, want := AppendString([]byte("x"), s, html), append([]byte("x"), marshal(t, s, html)...); !bytes.Equal(got, want) {
				t.Errorf("AppendString(%q, html=%v) = %s, encoding/json: %s", s, html, got, want)
			}
		}
	}
}

// FuzzAppendString checks AppendString against encoding/json on any string.
func FuzzAppendString(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, html := range []bool{true, false} {
			if got, want := AppendString(nil, s, html), marshal(t, s, html); !bytes.Equal(got, want) {
				t.Errorf("AppendString(%q, html=%v) = %s, encoding/json: %s", s, html, got, want)
			}
		}
	})
}
