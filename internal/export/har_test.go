package export

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hookctl/hookctl/internal/webhook"
)

// The HAR 1.2 spec (http://www.softwareishard.com/blog/har-12-spec/), as field tables: for
// each object, its fields, their JSON types, and which are required. Fields the spec does not
// name must start with "_".
type specField struct {
	kind     string // string, number, integer, boolean, object, array
	required bool
	elem     string // the spec object of an object, or of an array's elements
}

var harSpec = map[string]map[string]specField{
	"file": {"log": {"object", true, "log"}},
	"log": {
		"version": {"string", true, ""}, "creator": {"object", true, "creator"}, "browser": {"object", false, "creator"},
		"pages": {"array", false, "page"}, "entries": {"array", true, "entry"}, "comment": {"string", false, ""},
	},
	"creator": {"name": {"string", true, ""}, "version": {"string", true, ""}, "comment": {"string", false, ""}},
	"entry": {
		"pageref": {"string", false, ""}, "startedDateTime": {"string", true, ""}, "time": {"number", true, ""},
		"request": {"object", true, "request"}, "response": {"object", true, "response"}, "cache": {"object", true, "cache"},
		"timings": {"object", true, "timings"}, "serverIPAddress": {"string", false, ""}, "connection": {"string", false, ""},
		"comment": {"string", false, ""},
	},
	"request": {
		"method": {"string", true, ""}, "url": {"string", true, ""}, "httpVersion": {"string", true, ""},
		"cookies": {"array", true, "cookie"}, "headers": {"array", true, "nv"}, "queryString": {"array", true, "nv"},
		"postData": {"object", false, "postData"}, "headersSize": {"integer", true, ""}, "bodySize": {"integer", true, ""},
		"comment": {"string", false, ""},
	},
	"response": {
		"status": {"integer", true, ""}, "statusText": {"string", true, ""}, "httpVersion": {"string", true, ""},
		"cookies": {"array", true, "cookie"}, "headers": {"array", true, "nv"}, "content": {"object", true, "content"},
		"redirectURL": {"string", true, ""}, "headersSize": {"integer", true, ""}, "bodySize": {"integer", true, ""},
		"comment": {"string", false, ""},
	},
	"cookie": {
		"name": {"string", true, ""}, "value": {"string", true, ""}, "path": {"string", false, ""},
		"domain": {"string", false, ""}, "expires": {"string", false, ""}, "httpOnly": {"boolean", false, ""},
		"secure": {"boolean", false, ""}, "comment": {"string", false, ""},
	},
	"nv": {"name": {"string", true, ""}, "value": {"string", true, ""}, "comment": {"string", false, ""}},
	"postData": {
		"mimeType": {"string", true, ""}, "params": {"array", false, "param"}, "text": {"string", false, ""},
		"comment": {"string", false, ""},
	},
	"param": {
		"name": {"string", true, ""}, "value": {"string", false, ""}, "fileName": {"string", false, ""},
		"contentType": {"string", false, ""}, "comment": {"string", false, ""},
	},
	"content": {
		"size": {"integer", true, ""}, "compression": {"integer", false, ""}, "mimeType": {"string", true, ""},
		"text": {"string", false, ""}, "encoding": {"string", false, ""}, "comment": {"string", false, ""},
	},
	"cache":   {"beforeRequest": {"object", false, ""}, "afterRequest": {"object", false, ""}, "comment": {"string", false, ""}},
	"timings": {"blocked": {"number", false, ""}, "dns": {"number", false, ""}, "connect": {"number", false, ""}, "send": {"number", true, ""}, "wait": {"number", true, ""}, "receive": {"number", true, ""}, "ssl": {"number", false, ""}, "comment": {"string", false, ""}},
}

// checkSpec checks v, decoded with UseNumber, against the spec object named obj.
func checkSpec(path string, v any, obj string) []string {
	m, ok := v.(map[string]any)
	if !ok {
		return []string{fmt.Sprintf("%s: want an object, got %T", path, v)}
	}
	spec := harSpec[obj]
	var errs []string
	for name, f := range spec {
		if _, ok := m[name]; !ok && f.required {
			errs = append(errs, fmt.Sprintf("%s.%s: required field missing", path, name))
		}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, name := range keys {
		val := m[name]
		f, known := spec[name]
		if !known {
			if !strings.HasPrefix(name, "_") {
				errs = append(errs, fmt.Sprintf("%s.%s: not in HAR 1.2 and not prefixed with _", path, name))
			}
			continue
		}
		p := path + "." + name
		if !hasKind(val, f.kind) {
			errs = append(errs, fmt.Sprintf("%s: want %s, got %T %v", p, f.kind, val, val))
			continue
		}
		switch {
		case f.kind == "object" && f.elem != "":
			errs = append(errs, checkSpec(p, val, f.elem)...)
		case f.kind == "array":
			for i, el := range val.([]any) {
				errs = append(errs, checkSpec(fmt.Sprintf("%s[%d]", p, i), el, f.elem)...)
			}
		}
	}
	return errs
}

func hasKind(v any, kind string) bool {
	switch kind {
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "number":
		_, ok := v.(json.Number)
		return ok
	case "integer":
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		_, err := n.Int64()
		return err == nil
	}
	return false
}

// Structs mirroring the HAR 1.2 spec, for checking values.
type (
	specHAR struct {
		Log struct {
			Version string `json:"version"`
			Creator struct {
				Name, Version string
			} `json:"creator"`
			Entries []specEntry `json:"entries"`
		} `json:"log"`
	}
	specEntry struct {
		StartedDateTime string       `json:"startedDateTime"`
		Time            float64      `json:"time"`
		Request         specRequest  `json:"request"`
		Response        specResponse `json:"response"`
		Timings         struct {
			Send, Wait, Receive float64
		} `json:"timings"`
	}
	specNV      struct{ Name, Value string }
	specRequest struct {
		Method      string   `json:"method"`
		URL         string   `json:"url"`
		HTTPVersion string   `json:"httpVersion"`
		Headers     []specNV `json:"headers"`
		QueryString []specNV `json:"queryString"`
		PostData    *struct {
			MimeType string `json:"mimeType"`
			Text     string `json:"text"`
		} `json:"postData"`
		HeadersSize int   `json:"headersSize"`
		BodySize    int64 `json:"bodySize"`
	}
	specResponse struct {
		Status      int      `json:"status"`
		StatusText  string   `json:"statusText"`
		HTTPVersion string   `json:"httpVersion"`
		Headers     []specNV `json:"headers"`
		Content     struct {
			Size     int64   `json:"size"`
			MimeType string  `json:"mimeType"`
			Text     *string `json:"text"`
			Encoding string  `json:"encoding"`
		} `json:"content"`
		RedirectURL string `json:"redirectURL"`
		BodySize    int64  `json:"bodySize"`
		Comment     string `json:"comment"`
	}
)

func TestHARStructure(t *testing.T) {
	_, items := seed(t)
	for _, tc := range []struct {
		name  string
		items []Item
		opt   Options
	}{
		{"all", items, Options{NoRedact: true}},
		{"redacted", items, Options{}},
		{"base URL", items[:2], Options{BaseURL: "https://example.test:9000/"}},
		{"empty", nil, Options{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteHAR(&buf, tc.items, tc.opt); err != nil {
				t.Fatal(err)
			}
			if !json.Valid(buf.Bytes()) {
				t.Fatalf("output is not JSON:\n%s", buf.String())
			}
			dec := json.NewDecoder(bytes.NewReader(buf.Bytes()))
			dec.UseNumber()
			var doc any
			if err := dec.Decode(&doc); err != nil {
				t.Fatal(err)
			}
			for _, e := range checkSpec("$", doc, "file") {
				t.Error(e)
			}

			var har specHAR
			if err := json.Unmarshal(buf.Bytes(), &har); err != nil {
				t.Fatal(err)
			}
			if har.Log.Version != "1.2" || har.Log.Creator.Name != "hookctl" || har.Log.Creator.Version == "" {
				t.Errorf("log: version %q creator %+v", har.Log.Version, har.Log.Creator)
			}
			if len(har.Log.Entries) != len(tc.items) {
				t.Fatalf("%d entries, want %d", len(har.Log.Entries), len(tc.items))
			}
			base := tc.opt.BaseURL
			if base == "" {
				base = DefaultBaseURL
			}
			base = strings.TrimSuffix(base, "/")
			redact := tc.opt.redactor()
			for i, e := range har.Log.Entries {
				checkEntry(t, e, tc.items[i], base, redact)
			}
		})
	}
}

// checkEntry checks one entry's values against the item it was written from.
func checkEntry(t *testing.T, e specEntry, it Item, base string, redact func(webhook.Headers) webhook.Headers) {
	t.Helper()
	r := it.Request
	name := r.Method + " " + r.URI
	at, err := time.Parse(time.RFC3339, e.StartedDateTime)
	if err != nil || !at.Equal(r.ReceivedAt.Truncate(time.Millisecond)) || len(e.StartedDateTime) != len("2006-01-02T15:04:05.000Z") {
		t.Errorf("%s: startedDateTime %q (%v), want %s with milliseconds", name, e.StartedDateTime, err, r.ReceivedAt)
	}
	q := e.Request
	if q.Method != r.Method || q.URL != base+r.URI || q.HTTPVersion != r.Proto || q.HeadersSize != -1 || q.BodySize != r.BodySize {
		t.Errorf("%s: request %s %s %s headersSize %d bodySize %d", name, q.Method, q.URL, q.HTTPVersion, q.HeadersSize, q.BodySize)
	}
	var want []specNV
	for _, f := range redact(r.Header) {
		if utf8.ValidString(f.Name + f.Value) {
			want = append(want, specNV{f.Name, f.Value})
		} else {
			want = append(want, specNV{b64(f.Name), b64(f.Value)})
		}
	}
	if !reflect.DeepEqual(q.Headers, want) && !(len(q.Headers) == 0 && len(want) == 0) {
		t.Errorf("%s: headers\n got %q\nwant %q", name, q.Headers, want)
	}
	switch {
	case r.Body == nil:
		if q.PostData != nil {
			t.Errorf("%s: postData for a body never read", name)
		}
	case q.PostData == nil:
		t.Errorf("%s: no postData", name)
	default:
		if q.PostData.MimeType != r.Header.Get("Content-Type") {
			t.Errorf("%s: postData.mimeType %q", name, q.PostData.MimeType)
		}
		got := []byte(q.PostData.Text)
		if !utf8.Valid(r.Body) {
			got, _ = base64.StdEncoding.DecodeString(q.PostData.Text)
		}
		if !bytes.Equal(got, r.Body) {
			t.Errorf("%s: postData.text %q, want %q", name, q.PostData.Text, r.Body)
		}
	}
	if strings.Contains(r.URI, "?") && len(q.QueryString) == 0 {
		t.Errorf("%s: empty queryString", name)
	}
	if e.Timings.Send+e.Timings.Wait+e.Timings.Receive != e.Time {
		t.Errorf("%s: timings %+v do not add up to time %v", name, e.Timings, e.Time)
	}
	p := e.Response
	if len(it.Attempts) == 0 {
		if p.Status != 0 || p.Comment == "" {
			t.Errorf("%s: response without attempt: status %d comment %q", name, p.Status, p.Comment)
		}
		return
	}
	a := it.Attempts[len(it.Attempts)-1]
	if p.Status != a.Status || p.StatusText != http.StatusText(a.Status) || p.BodySize != a.BodySize || p.Content.Size != a.BodySize {
		t.Errorf("%s: response %d %q bodySize %d size %d", name, p.Status, p.StatusText, p.BodySize, p.Content.Size)
	}
	if p.Content.Text == nil {
		t.Fatalf("%s: no response content text", name)
	}
	got := []byte(*p.Content.Text)
	if p.Content.Encoding == "base64" {
		got, _ = base64.StdEncoding.DecodeString(*p.Content.Text)
	}
	if !bytes.Equal(got, a.Body) {
		t.Errorf("%s: response content %q, want %q", name, got, a.Body)
	}
	if ms := float64(a.Duration) / 1e6; e.Time < ms-0.001 || e.Time > ms+0.001 {
		t.Errorf("%s: time %v, want %v", name, e.Time, ms)
	}
}
