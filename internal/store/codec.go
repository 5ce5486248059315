package store

import (
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/hookctl/hookctl/internal/jsontext"
	"github.com/hookctl/hookctl/internal/webhook"
)

// encodingBase64 marks a header pair whose name and value are base64-encoded because one of
// them is not valid UTF-8 (JSON strings cannot carry arbitrary bytes).
const encodingBase64 = "base64"

// encodeHeaders returns h as JSON text: an array of [name, value] pairs in order.
func encodeHeaders(h webhook.Headers) string {
	if len(h) == 0 {
		return "[]"
	}
	n := 2
	for _, f := range h {
		n += len(f.Name) + len(f.Value) + 8
	}
	b := make([]byte, 0, n)
	b = append(b, '[')
	for i, f := range h {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		if utf8.ValidString(f.Name) && utf8.ValidString(f.Value) {
			b = jsontext.AppendString(b, f.Name, false)
			b = append(b, ',')
			b = jsontext.AppendString(b, f.Value, false)
		} else {
			b = jsontext.AppendString(b, base64.StdEncoding.EncodeToString([]byte(f.Name)), false)
			b = append(b, ',')
			b = jsontext.AppendString(b, base64.StdEncoding.EncodeToString([]byte(f.Value)), false)
			b = append(b, `,"`+encodingBase64+`"`...)
		}
		b = append(b, ']')
	}
	b = append(b, ']')
	return string(b)
}

// decodeHeaders parses the JSON text written by encodeHeaders.
func decodeHeaders(text []byte) (webhook.Headers, error) {
	if len(text) == 0 {
		return nil, nil
	}
	var pairs [][]string
	if err := json.Unmarshal(text, &pairs); err != nil {
		return nil, fmt.Errorf("decode headers: %w", err)
	}
	if len(pairs) == 0 {
		return nil, nil
	}
	h := make(webhook.Headers, 0, len(pairs))
	for _, p := range pairs {
		switch {
		case len(p) == 2:
			h = append(h, webhook.Field{Name: p[0], Value: p[1]})
		case len(p) == 3 && p[2] == encodingBase64:
			name, err := base64.StdEncoding.DecodeString(p[0])
			if err != nil {
				return nil, fmt.Errorf("decode headers: %w", err)
			}
			value, err := base64.StdEncoding.DecodeString(p[1])
			if err != nil {
				return nil, fmt.Errorf("decode headers: %w", err)
			}
			h = append(h, webhook.Field{Name: string(name), Value: string(value)})
		default:
			return nil, fmt.Errorf("decode headers: malformed pair %q", p)
		}
	}
	return h, nil
}

// timeArg returns t as unix nanoseconds for storage, or nil for the zero time.
func timeArg(what string, t time.Time) (any, error) {
	if t.IsZero() {
		return nil, nil
	}
	ns := t.UnixNano()
	if !time.Unix(0, ns).Equal(t) {
		return nil, fmt.Errorf("%s %s is outside the range the log can store (years 1678 to 2262)", what, t.Format(time.RFC3339))
	}
	return ns, nil
}

// timeOf converts stored unix nanoseconds back into a UTC time; NULL is the zero time.
func timeOf(ns sql.NullInt64) time.Time {
	if !ns.Valid {
		return time.Time{}
	}
	return time.Unix(0, ns.Int64).UTC()
}
