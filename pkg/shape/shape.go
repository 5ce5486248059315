// Package shape infers the shape of webhook payloads from captured samples and
// renders it as JSON Schema, Go structs, TypeScript types or a readable tree.
//
// A Shape records, for every position in the documents, how many values were
// seen there and of which kinds (null, boolean, integer, number, string,
// object, array), the fields of objects with how often each was present, the
// merged shape of array elements, and what the string or integer values look
// like (formats, id prefixes, small enums, examples). Inference reads the raw
// JSON text: numbers are never round-tripped through float64.
package shape

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// Format names a recognised format of string (or, for timestamps, integer) values.
type Format string

// Formats recognised by Infer. A format is only reported when every string
// (or integer) value at a position has it.
const (
	FormatNone       Format = ""
	FormatDateTime   Format = "date-time"   // RFC 3339 date-time string
	FormatEmail      Format = "email"       // e-mail address string
	FormatURI        Format = "uri"         // absolute URI string
	FormatUUID       Format = "uuid"        // 8-4-4-4-12 hex string
	FormatUnixSecond Format = "unix-time"   // integer seconds since 1970, for timestamp-like field names
	FormatUnixMilli  Format = "unix-millis" // integer milliseconds since 1970, for timestamp-like field names
)

// Shape is the inferred shape of the values seen at one position of a set of
// samples (the root, an object field, or the elements of an array).
type Shape struct {
	// Count is how many values were seen here: samples at the root, the
	// field's values for a field (see Field.Present), elements for array items.
	Count int `json:"count"`

	// Counts per kind; they add up to Count.
	Null    int `json:"null,omitempty"`
	Boolean int `json:"boolean,omitempty"`
	Integer int `json:"integer,omitempty"` // numbers written without fraction or exponent
	Number  int `json:"number,omitempty"`  // other numbers (1.5, 1.0, 1e3)
	String  int `json:"string,omitempty"`
	Object  int `json:"object,omitempty"`
	Array   int `json:"array,omitempty"`

	// Fields of the objects seen here, sorted by name. A field whose
	// Present equals Object was present in every object: it is required.
	Fields []*Field `json:"fields,omitempty"`
	// Items is the merged shape of the elements of every array seen here; nil
	// when every array was empty.
	Items *Shape `json:"items,omitempty"`

	// BigInteger is set when some integer does not fit in an int64.
	BigInteger bool `json:"big_integer,omitempty"`
	// Format of the string values (or of integer timestamps).
	Format Format `json:"format,omitempty"`
	// Prefix is an id prefix such as "evt_" shared by every string value.
	Prefix string `json:"prefix,omitempty"`
	// Enum lists the distinct string values, sorted, when they form a small enum.
	Enum []string `json:"enum,omitempty"`
	// Examples are the most frequent distinct values (JSON text), most frequent first.
	Examples []Example `json:"examples,omitempty"`
}

// Field is one object field and the shape of its values.
type Field struct {
	Name  string `json:"name"`
	Shape *Shape `json:"shape"`
	// Present is how many objects had the field. It is Shape.Count unless a key was repeated
	// within one object: each value counts, the object once.
	Present int `json:"present"`
}

// Example is one distinct value and how many times it was seen.
type Example struct {
	Value json.RawMessage `json:"value"`
	Count int             `json:"count"`
}

// Kind names as used by JSON Schema.
const (
	KindNull    = "null"
	KindBoolean = "boolean"
	KindInteger = "integer"
	KindNumber  = "number"
	KindString  = "string"
	KindObject  = "object"
	KindArray   = "array"
)

// Kinds lists the kinds seen here except null, in a fixed order. Integers and
// numbers together are reported as "number" only.
func (s *Shape) Kinds() []string {
	var k []string
	if s.Object > 0 {
		k = append(k, KindObject)
	}
	if s.Array > 0 {
		k = append(k, KindArray)
	}
	if s.String > 0 {
		k = append(k, KindString)
	}
	if s.Number > 0 {
		k = append(k, KindNumber)
	} else if s.Integer > 0 {
		k = append(k, KindInteger)
	}
	if s.Boolean > 0 {
		k = append(k, KindBoolean)
	}
	return k
}

// Nullable reports whether null was seen here.
func (s *Shape) Nullable() bool { return s.Null > 0 }

// Field returns the shape of the named field, or nil.
func (s *Shape) Field(name string) *Shape {
	i := sort.Search(len(s.Fields), func(i int) bool { return s.Fields[i].Name >= name })
	if i < len(s.Fields) && s.Fields[i].Name == name {
		return s.Fields[i].Shape
	}
	return nil
}

// Required reports whether field f of s was present in every object seen at s.
func (s *Shape) Required(f *Field) bool { return f.Present >= s.Object }

// TypeString is a short description of the kinds seen here, such as
// "string", "integer | null" or "object | string".
func (s *Shape) TypeString() string {
	k := s.Kinds()
	if s.Nullable() {
		k = append(k, KindNull)
	}
	if len(k) == 0 {
		return "unknown"
	}
	return strings.Join(k, " | ")
}

// Infer infers one shape from JSON samples, each a complete JSON document.
func Infer(samples [][]byte) (*Shape, error) {
	root := newNode("")
	var w walker // one for all samples, so that its object numbers are never reused
	for i, data := range samples {
		if !json.Valid(data) {
			var v any
			err := json.Unmarshal(data, &v)
			if err == nil {
				err = fmt.Errorf("not a single JSON document")
			}
			return nil, fmt.Errorf("shape: sample %d: invalid JSON: %w", i, err)
		}
		w.data, w.pos = data, 0
		w.skipSpace()
		w.value(root)
	}
	return root.finish(), nil
}

// InferForm infers one shape from application/x-www-form-urlencoded samples.
// Every field becomes a string (or an array of strings when a key repeats);
// a value that is itself a JSON object or array, like Slack's payload=, is
// shaped as JSON. See FormJSON.
func InferForm(samples [][]byte) (*Shape, error) {
	docs := make([][]byte, len(samples))
	for i, s := range samples {
		d, err := FormJSON(s)
		if err != nil {
			return nil, fmt.Errorf("shape: sample %d: %w", i, err)
		}
		docs[i] = d
	}
	return Infer(docs)
}

// FormJSON converts a form-encoded body to the JSON document whose shape
// InferForm infers: an object with one member per key, holding the value as
// a string, the parsed JSON when the value is a JSON object or array, or an
// array of those when the key repeats. Shapes inferred with InferForm validate
// and unmarshal these documents.
func FormJSON(body []byte) ([]byte, error) {
	vals, err := url.ParseQuery(strings.TrimSpace(string(body)))
	if err != nil {
		return nil, fmt.Errorf("invalid form body: %w", err)
	}
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		writeJSONString(&buf, k)
		buf.WriteByte(':')
		vs := vals[k]
		if len(vs) > 1 {
			buf.WriteByte('[')
		}
		for j, v := range vs {
			if j > 0 {
				buf.WriteByte(',')
			}
			t := strings.TrimSpace(v)
			if len(t) > 0 && (t[0] == '{' || t[0] == '[') && json.Valid([]byte(t)) {
				buf.WriteString(t)
			} else {
				writeJSONString(&buf, v)
			}
		}
		if len(vs) > 1 {
			buf.WriteByte(']')
		}
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

func writeJSONString(buf *bytes.Buffer, s string) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	buf.Truncate(buf.Len() - 1) // Encode appends a newline
}
