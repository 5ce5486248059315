package export

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/hookctl/hookctl/internal/webhook"
)

// writers are the three formats, by name.
var writers = map[string]func(*bytes.Buffer, []Item, Options) error{
	"har":   func(b *bytes.Buffer, it []Item, o Options) error { return WriteHAR(b, it, o) },
	"jsonl": func(b *bytes.Buffer, it []Item, o Options) error { return WriteJSONL(b, it, o) },
	"curl":  func(b *bytes.Buffer, it []Item, o Options) error { return WriteCurl(b, it, o) },
}

func TestRedaction(t *testing.T) {
	_, items := seed(t)
	secrets := map[string]string{ // header → recorded value
		"authorization":    "Bearer sk_test_123",
		"Cookie":           "a=1; b=2",
		"Set-Cookie":       "session=s3cr3t; Path=/; HttpOnly",
		"Stripe-Signature": "t=1492774577,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd",
	}
	for _, tc := range []struct {
		name     string
		opt      Options
		redacted []string // of the secrets above
	}{
		{"default", Options{}, []string{"authorization", "Cookie", "Set-Cookie"}},
		{"configured replaces defaults", Options{Redact: []string{"stripe-signature"}}, []string{"Stripe-Signature"}},
		{"added to defaults", Options{Redact: append(DefaultRedactions(), "STRIPE-SIGNATURE")}, []string{"authorization", "Cookie", "Set-Cookie", "Stripe-Signature"}},
		{"empty list", Options{Redact: []string{}}, nil},
		{"no redact", Options{NoRedact: true, Redact: []string{"Stripe-Signature"}}, nil},
	} {
		for format, write := range writers {
			t.Run(tc.name+"/"+format, func(t *testing.T) {
				var buf bytes.Buffer
				if err := write(&buf, items, tc.opt); err != nil {
					t.Fatal(err)
				}
				out := buf.String()
				for name, secret := range secrets {
					if format == "curl" && name == "Set-Cookie" {
						continue // a response header: curl commands have none
					}
					isRedacted := false
					for _, r := range tc.redacted {
						isRedacted = isRedacted || r == name
					}
					// The secret's distinctive part, as it appears in every format.
					probe := secret[len(secret)-8:]
					if got := strings.Contains(out, probe); got == isRedacted {
						t.Errorf("%s: value present %v, want redacted %v", name, got, isRedacted)
					}
				}
				if (len(tc.redacted) > 0) != strings.Contains(out, Redacted) {
					t.Errorf("REDACTED present %v, want %v", strings.Contains(out, Redacted), len(tc.redacted) > 0)
				}
				if format == "curl" {
					return
				}
				// Redacted values are imported as "REDACTED"; the recorded items are untouched.
				imported, err := Import(&buf)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range tc.redacted {
					if r == "Set-Cookie" {
						continue
					}
					found := false
					for _, it := range imported {
						for _, v := range it.Request.Header.Values(r) {
							found = true
							if v != Redacted {
								t.Errorf("imported %s: %q", r, v)
							}
						}
					}
					if !found {
						t.Errorf("imported requests have no %s header", r)
					}
				}
			})
		}
	}
	if items[0].Request.Header.Get("Authorization") != secrets["authorization"] {
		t.Error("export modified the recorded headers")
	}
	if DefaultRedactions()[0] = "x"; DefaultRedactions()[0] == "x" {
		t.Error("DefaultRedactions shares its slice")
	}
}

func TestImportErrors(t *testing.T) {
	_, items := seed(t)
	var har, jsonl bytes.Buffer
	if err := WriteHAR(&har, items, Options{}); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSONL(&jsonl, items, Options{}); err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(jsonl.String(), "\n")
	line1 := strings.TrimSuffix(lines[0], "\n")
	for _, tc := range []struct {
		name, input, want string
	}{
		{"empty", "", "empty file"},
		{"blank", " \n\t\n", "empty file"},
		{"not JSON", "hello world\n", "not HAR or JSON Lines"},
		{"JSON array", "[1,2]", "not HAR or JSON Lines"},
		{"HAR truncated", har.String()[:har.Len()/2], "HAR: truncated JSON"},
		{"HAR truncated early", `{"log": {"version": "1.2", "entr`, "HAR: truncated JSON"},
		{"HAR trailing data", har.String() + "{}", "HAR: unexpected data after the log object"},
		{"HAR no entries", `{"log":{"version":"1.2","creator":{"name":"x","version":"1"}}}`, `HAR: log has no "entries" array`},
		{"HAR zero entries", `{"log":{"version":"1.2","entries":[]}}`, "HAR: no entries"},
		{"HAR entry without method", `{"log":{"entries":[{"startedDateTime":"2026-01-01T00:00:00.000Z","request":{"url":"http://x/"}}]}}`, "HAR entry 1: request.method is missing"},
		{"HAR bad time", `{"log":{"entries":[{"startedDateTime":"yesterday","request":{"method":"GET","url":"http://x/"}}]}}`, `HAR entry 1: startedDateTime: invalid time "yesterday"`},
		{"HAR relative url", `{"log":{"entries":[{"startedDateTime":"2026-01-01T00:00:00Z","request":{"method":"GET","url":"/x"}}]}}`, `HAR entry 1: request.url "/x" is not an absolute URL`},
		{"HAR bad base64", `{"log":{"entries":[{"startedDateTime":"2026-01-01T00:00:00Z","request":{"method":"POST","url":"http://x/","postData":{"mimeType":"","text":"!!","_encoding":"base64"}}}]}}`, "HAR entry 1: request.postData.text: invalid base64"},
		{"HAR wrong type", `{"log":{"entries":[{"startedDateTime":"2026-01-01T00:00:00Z","time":"slow","request":{"method":"GET","url":"http://x/"}}]}}`, "HAR entry 1: time: want float64, got JSON string"},
		{"HAR attempt without kind", `{"log":{"entries":[{"startedDateTime":"2026-01-01T00:00:00Z","request":{"method":"GET","url":"http://x/"},"_attempts":[{"status":200}]}]}}`, "HAR entry 1: _attempts[0]: missing kind"},
		{"JSONL truncated", lines[0] + lines[1][:len(lines[1])/2], "line 2: truncated JSON"},
		{"JSONL bad line", lines[0] + "{\"method\": POST}\n", "line 2: invalid JSON at byte 12"},
		{"JSONL two values", line1 + " {}\n", "line 1: more than one JSON value on the line"},
		{"JSONL no method", `{"path":"/x"}`, "line 1: missing method"},
		{"JSONL no path", `{"method":"GET"}`, "line 1: missing path"},
		{"JSONL bad body", `{"method":"POST","path":"/","body_base64":"%%%"}`, "line 1: body_base64: invalid base64"},
		{"JSONL both bodies", `{"method":"POST","path":"/","body":"a","body_base64":"YQ=="}`, "line 1: both body and body_base64 are set"},
		{"JSONL bad headers", `{"method":"POST","path":"/","headers":{"A":["b"]}}`, "line 1: headers must be an array of [name, value] pairs"},
		{"JSONL short header", `{"method":"POST","path":"/","headers":[["A"]]}`, "line 1: header 1: want [name, value], got 1 elements"},
		{"JSONL bad time", `{"method":"POST","path":"/","received_at":"2026-13-01T00:00:00Z"}`, "line 1: received_at: invalid time"},
		{"JSONL attempt status", `{"method":"POST","path":"/","attempts":[{"kind":"forward","status":-1}]}`, "line 1: attempt 1: invalid status -1"},
		{"JSONL attempt time", `{"method":"POST","path":"/","attempts":[{"kind":"forward","started_at":"now"}]}`, `line 1: attempt 1: started_at: invalid time "now"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Import(strings.NewReader(tc.input))
			if err == nil {
				t.Fatalf("no error; got %d items", len(got))
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error %q, want it to start with %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}

// TestImportForeignHAR imports a HAR written by another tool: no hookctl fields.
func TestImportForeignHAR(t *testing.T) {
	const har = `{"log":{"version":"1.2","creator":{"name":"WebInspector","version":"537.36"},"pages":[],
	"entries":[
	  {"startedDateTime":"2026-02-03T04:05:06.789+01:00","time":42.5,
	   "request":{"method":"POST","url":"https://api.example.com/hooks/form?x=1#frag","httpVersion":"HTTP/2","cookies":[],
	     "headers":[{"name":":authority","value":"api.example.com"},{"name":"content-type","value":"application/x-www-form-urlencoded"}],
	     "queryString":[{"name":"x","value":"1"}],
	     "postData":{"mimeType":"application/x-www-form-urlencoded","params":[{"name":"a b","value":"c&d"},{"name":"e","value":""}]},
	     "headersSize":-1,"bodySize":13},
	   "response":{"status":201,"statusText":"Created","httpVersion":"HTTP/2","cookies":[],
	     "headers":[{"name":"content-type","value":"image/png"}],
	     "content":{"size":4,"mimeType":"image/png","text":"iVBORw==","encoding":"base64"},
	     "redirectURL":"","headersSize":-1,"bodySize":4},
	   "cache":{},"timings":{"send":1,"wait":40,"receive":1.5}},
	  {"startedDateTime":"2026-02-03T04:05:07Z","time":0,
	   "request":{"method":"GET","url":"http://localhost:8080","httpVersion":"HTTP/1.1","cookies":[],"headers":[],"queryString":[],"headersSize":-1,"bodySize":0},
	   "response":{"status":0,"statusText":"","httpVersion":"","cookies":[],"headers":[],"content":{"size":0,"mimeType":""},"redirectURL":"","headersSize":-1,"bodySize":-1},
	   "cache":{},"timings":{"send":0,"wait":0,"receive":0}}
	]}}`
	items, err := Import(strings.NewReader(har))
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 {
		t.Fatalf("%d items", len(items))
	}
	r := items[0].Request
	if r.Method != "POST" || r.URI != "/hooks/form?x=1" || r.Host != "api.example.com" || r.Proto != "HTTP/2" ||
		r.Ingress != webhook.IngressImport || string(r.Body) != "a+b=c%26d&e=" || r.ReceivedAt.Format("15:04:05.000") != "03:05:06.789" {
		t.Errorf("request %+v body %q", r, r.Body)
	}
	if len(items[0].Attempts) != 1 {
		t.Fatalf("%d attempts", len(items[0].Attempts))
	}
	a := items[0].Attempts[0]
	if a.Kind != webhook.KindForward || a.Status != 201 || string(a.Body) != "\x89PNG" || a.Duration.Microseconds() != 42500 ||
		a.Target != "https://api.example.com/hooks/form?x=1#frag" {
		t.Errorf("attempt %+v", a)
	}
	r2 := items[1].Request
	if r2.URI != "/" || r2.Host != "localhost:8080" || r2.Body == nil || len(r2.Body) != 0 || len(items[1].Attempts) != 0 {
		t.Errorf("second request %+v, %d attempts", r2, len(items[1].Attempts))
	}
	// They can be recorded.
	st := openStore(t)
	if err := Save(context.Background(), st, items); err != nil {
		t.Fatal(err)
	}
	back, err := Load(context.Background(), st, []int64{items[0].Request.ID, items[1].Request.ID})
	if err != nil {
		t.Fatal(err)
	}
	if string(back[0].Request.Body) != "a+b=c%26d&e=" || len(back[0].Attempts) != 1 {
		t.Errorf("read back %+v", back[0])
	}
}

// TestImportMinifiedAndDetection checks that format detection does not depend on layout.
func TestImportMinifiedAndDetection(t *testing.T) {
	_, items := seed(t)
	var har bytes.Buffer
	if err := WriteHAR(&har, items, Options{NoRedact: true}); err != nil {
		t.Fatal(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, har.Bytes()); err != nil {
		t.Fatal(err)
	}
	// "log" not the first key, spread over lines.
	reordered := strings.Replace(har.String(), "{\n  \"log\"", "{\n  \"_note\": \"first\",\n  \"log\"", 1)
	for name, input := range map[string]string{
		"pretty":    har.String(),
		"minified":  compact.String(),
		"BOM":       "\xef\xbb\xbf" + har.String(),
		"reordered": reordered,
	} {
		t.Run(name, func(t *testing.T) {
			got, err := Import(strings.NewReader(input))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(items) {
				t.Errorf("%d items, want %d", len(got), len(items))
			}
		})
	}
}
