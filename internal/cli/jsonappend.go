package cli

import (
	"math"
	"strconv"

	"github.com/hookctl/hookctl/internal/jsontext"
)

// listen --json prints two events for every request, on the path of every request's CPU, so
// they are written by appending instead of through encoding/json's reflection. The bytes are
// the same as json.Marshal's for the same struct (TestEventJSONMatchesMarshal checks it), so
// the struct tags stay the reference.

// appendJSON appends the event as json.Marshal would write it.
func (j *requestEventJSON) appendJSON(b []byte) []byte {
	b = appendStringField(b, `{"event":`, j.Event)
	b = j.summaryJSON.appendFields(append(b, ','))
	b = appendStringField(b, `,"host":`, j.Host)
	b = appendStringField(b, `,"remote_addr":`, j.RemoteAddr)
	return append(b, '}')
}

// appendFields appends the summary's fields, without braces.
func (j *summaryJSON) appendFields(b []byte) []byte {
	b = appendIntField(b, `"id":`, j.ID)
	b = appendStringField(b, `,"received_at":`, j.ReceivedAt)
	b = appendStringField(b, `,"method":`, j.Method)
	b = appendStringField(b, `,"path":`, j.Path)
	b = appendStringField(b, `,"provider":`, j.Provider)
	b = appendStringField(b, `,"event_type":`, j.EventType)
	b = appendStringField(b, `,"signature":`, j.Signature)
	b = appendIntField(b, `,"body_size":`, j.BodySize)
	b = appendIntField(b, `,"status":`, int64(j.Status))
	b = appendFloatField(b, `,"duration_ms":`, j.DurationMS)
	b = appendStringField(b, `,"error":`, j.Error)
	b = appendBoolField(b, `,"rejected":`, j.Rejected)
	b = appendIntField(b, `,"duplicate_of":`, j.DuplicateOf)
	b = appendStringField(b, `,"delivery":`, j.Delivery)
	return appendStringField(b, `,"next_attempt_at":`, j.NextAttemptAt)
}

// appendJSON appends the event as json.Marshal would write it.
func (j *attemptEventJSON) appendJSON(b []byte) []byte {
	b = appendStringField(b, `{"event":`, j.Event)
	b = appendStringField(b, `,"method":`, j.Method)
	b = appendStringField(b, `,"path":`, j.Path)
	b = j.attemptJSON.appendFields(append(b, ','))
	if j.Delivery != "" {
		b = appendStringField(b, `,"delivery":`, j.Delivery)
	}
	if j.NextAttemptAt != "" {
		b = appendStringField(b, `,"next_attempt_at":`, j.NextAttemptAt)
	}
	return append(b, '}')
}

// appendFields appends the attempt's fields, without braces.
func (j *attemptJSON) appendFields(b []byte) []byte {
	b = appendIntField(b, `"id":`, j.ID)
	b = appendIntField(b, `,"request_id":`, j.RequestID)
	b = appendStringField(b, `,"kind":`, j.Kind)
	b = appendStringField(b, `,"target":`, j.Target)
	b = appendStringField(b, `,"started_at":`, j.StartedAt)
	b = appendIntField(b, `,"status":`, int64(j.Status))
	b = appendFloatField(b, `,"duration_ms":`, j.DurationMS)
	b = appendStringField(b, `,"error":`, j.Error)
	b = append(b, `,"response_headers":`...)
	b = j.ResponseHeaders.appendJSON(b)
	if j.ResponseBody != nil {
		b = appendStringField(b, `,"response_body":`, *j.ResponseBody)
	}
	if j.ResponseBodyBase64 != nil {
		b = appendStringField(b, `,"response_body_base64":`, *j.ResponseBodyBase64)
	}
	return appendIntField(b, `,"response_body_size":`, j.ResponseBodySize)
}

// appendJSON appends the headers as an object of arrays, each name once, in the order in
// which it first appeared.
func (h orderedHeader) appendJSON(b []byte) []byte {
	b = append(b, '{')
	first := true
	for i, f := range h {
		if seen(h[:i], f.Name) {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendJSONString(b, f.Name)
		b = append(b, ":["...)
		for k, g := range h[i:] {
			if g.Name != f.Name {
				continue
			}
			if k > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, g.Value)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// seen reports whether a field of h is named name.
func seen(h orderedHeader, name string) bool {
	for _, f := range h {
		if f.Name == name {
			return true
		}
	}
	return false
}

// appendStringField, appendIntField, appendFloatField and appendBoolField append a field: its
// key, as json.Marshal writes it with the comma before it when there is one, then its value.
func appendStringField(b []byte, key, v string) []byte {
	return appendJSONString(append(b, key...), v)
}

func appendIntField(b []byte, key string, v int64) []byte {
	return strconv.AppendInt(append(b, key...), v, 10)
}

func appendFloatField(b []byte, key string, v float64) []byte {
	return appendJSONFloat(append(b, key...), v)
}

func appendBoolField(b []byte, key string, v bool) []byte {
	return strconv.AppendBool(append(b, key...), v)
}

// appendJSONFloat appends f as encoding/json writes a float64.
func appendJSONFloat(b []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// appendJSONString appends s quoted as json.Marshal quotes it.
func appendJSONString(b []byte, s string) []byte { return jsontext.AppendString(b, s, true) }
