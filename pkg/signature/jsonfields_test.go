package signature

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"testing"
)

// unmarshalStringFields is bodyStringFields done with json.Unmarshal: what it must agree with
// on valid JSON.
func unmarshalStringFields(body []byte, keys ...string) map[string]string {
	out := make(map[string]string, len(keys))
	var obj map[string]json.RawMessage
	if json.Unmarshal(body, &obj) != nil {
		return out
	}
	for _, k := range keys {
		var s string
		if raw, ok := obj[k]; ok && json.Unmarshal(raw, &s) == nil {
			out[k] = s
		}
	}
	return out
}

var stringFieldsCases = []struct {
	name string
	body string
	want map[string]string
}{
	{"plain", `{"id":"evt_1","type":"charge.succeeded"}`, map[string]string{"id": "evt_1", "type": "charge.succeeded"}},
	{"nested first", `{"data":{"type":"inner","x":[1,{"type":"deep"}]},"type":"outer"}`, map[string]string{"type": "outer"}},
	{"only nested", `{"data":{"type":"inner","id":"x"}}`, map[string]string{}},
	{"spaces", " {\n\t\"type\" : \"a b\" ,\r\n\"id\":\"x\" } \n", map[string]string{"type": "a b", "id": "x"}},
	{"escapes", `{"type":"a\"b\\c\u00e9","id":"\ud83d\ude00"}`, map[string]string{"type": "a\"b\\cé", "id": "😀"}},
	{"escaped key", `{"\u0074ype":"t"}`, map[string]string{"type": "t"}},
	{"brackets in strings", `{"a":"}]{[","b":{"c":"}}}"},"type":"t"}`, map[string]string{"type": "t"}},
	{"last wins", `{"type":"a","type":"b"}`, map[string]string{"type": "b"}},
	{"last not a string", `{"type":"a","type":1}`, map[string]string{}},
	{"null", `{"type":null}`, map[string]string{"type": ""}},
	{"number", `{"type":12,"id":true}`, map[string]string{}},
	{"non-ASCII", `{"type":"naïve"}`, map[string]string{"type": "naïve"}},
	{"empty object", `{}`, map[string]string{}},
	{"array", `[{"type":"t"}]`, map[string]string{}},
	{"truncated", `{"type":"t","data":{`, map[string]string{}},
	{"unterminated string", `{"type":"t`, map[string]string{}},
	{"trailing text", `{"type":"t"}x`, map[string]string{}},
	{"missing comma", `{"type":"t" "id":"x"}`, map[string]string{}},
	{"empty", ``, map[string]string{}},
	{"null body", `null`, map[string]string{}},
}

func TestBodyStringFields(t *testing.T) {
	for _, tc := range stringFieldsCases {
		t.Run(tc.name, func(t *testing.T) {
			got := bodyStringFields([]byte(tc.body), "type", "id")
			if !maps.Equal(got, tc.want) {
				t.Errorf("bodyStringFields(%s) = %v, want %v", tc.body, got, tc.want)
			}
			if json.Valid([]byte(tc.body)) {
				if ref := unmarshalStringFields([]byte(tc.body), "type", "id"); !maps.Equal(got, ref) {
					t.Errorf("json.Unmarshal gives %v", ref)
				}
			}
		})
	}
}

// FuzzBodyStringFields checks that bodyStringFields agrees with json.Unmarshal on every valid
// JSON body, and never panics on any other.
func FuzzBodyStringFields(f *testing.F) {
	for _, tc := range stringFieldsCases {
		f.Add([]byte(tc.body))
	}
	if paths, err := filepath.Glob(filepath.Join("..", "..", "..", "shared", "payloads", "*", "*", "*.json")); err == nil {
		for _, p := range paths {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got := bodyStringFields(body, "type", "id", "event_id")
		if !json.Valid(body) {
			return
		}
		if want := unmarshalStringFields(body, "type", "id", "event_id"); !maps.Equal(got, want) {
			t.Errorf("bodyStringFields(%q) = %v, json.Unmarshal gives %v", body, got, want)
		}
	})
}

func BenchmarkBodyStringFields(b *testing.B) {
	body, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "payloads", "stripe", "charge.failed", "sync-engine.charge_failed.json"))
	if err != nil {
		b.Skip(err)
	}
	for _, bc := range []struct {
		name string
		fn   func([]byte, ...string) map[string]string
	}{{"scan", bodyStringFields}, {"unmarshal", unmarshalStringFields}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				bc.fn(body, "type", "id")
			}
		})
	}
}
