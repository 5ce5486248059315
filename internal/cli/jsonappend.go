package cli

import (
	"math"
	"strconv"

	"github.com/hookctl/hookctl/internal/jsontext"
)

// listen --json prints two events for every request, on the path of every request's CPU, so
// they are written by appending instead of through encoding/json's reflection. The bytes are
// the same as json.Marshal's for the same struct (TestEventJSONMatchesMarshal checks it), so the struct tags stay the reference.

// appendJSON appends the event as json.Marshal would write it.
func (j *requestEventJSON) appendJSON(b []byte) []byte {
	b = append(b, `{"event":`...)
	b = appendJSONString(b, j.Event)
	b = j.summaryJSON.appendFields(append(b, ','))
	b = append(b, `,"host":`...)
	b = appendJSONString(b, j.Host)
	b = append(b, `,"remote_addr":`...)
	b = appendJSONString(b, j.RemoteAddr)
	return append(b, '}')
}

// appendFields appends the summary's fields, without braces.
func (j *summaryJSON) appendFields(b []byte) []byte {
	b = append(b, `"id":`...)
	b = strconv.AppendInt(b, j.ID, 10)
	b = append(b, `,"received_at":`...)
	b = appendJSONString(b, j.ReceivedAt)
	b = append(b, `,"method":`...)
	b = appendJSONString(b, j.Method)
	b = append(b, `,"path":`...)
	b = appendJSONString(b, j.Path)
	b = append(b, `,"provider":`...)
	b = appendJSONString(b, j.Provider)
	b = append(b, `,"event_type":`...)
	b = appendJSONString(b, j.EventType)
	b = append(b, `,"signature":`...)
	b = appendJSONString(b, j.Signature)
	b = append(b, `,"body_size":`...)
	b = strconv.AppendInt(b, j.BodySize, 10)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(j.Status), 10)
	b = append(b, `,"duration_ms":`...)
	b = appendJSONFloat(b, j.DurationMS)
	b = append(b, `,"error":`...)
	b = appendJSONString(b, j.Error)
	b = append(b, `,"rejected":`...)
	b = strconv.AppendBool(b, j.Rejected)
	b = append(b, `,"duplicate_of":`...)
	b = strconv.AppendInt(b, j.DuplicateOf, 10)
	b = append(b, `,"delivery":`...)
	b = appendJSONString(b, j.Delivery)
	b = append(b, `,"next_attempt_at":`...)
	return appendJSONString(b, j.NextAttemptAt)
}

// appendJSON appends the event as json.Marshal would write it.
func (j *attemptEventJSON) appendJSON(b []byte) []byte {
	b = append(b, `{"event":`...)
	b = appendJSONString(b, j.Event)
	b = append(b, `,"method":`...)
	b = appendJSONString(b, j.Method)
	b = append(b, `,"path":`...)
	b = appendJSONString(b, j.Path)
	b = j.attemptJSON.appendFields(append(b, ','))
	if j.Delivery != "" {
		b = append(b, `,"delivery":`...)
		b = appendJSONString(b, j.Delivery)
	}
	if j.NextAttemptAt != "" {
		b = append(b, `,"next_attempt_at":`...)
		b = appendJSONString(b, j.NextAttemptAt)
	}
	return append(b, '}')
}

// appendFields appends the attempt's fields, without braces.
func (j *attemptJSON) appendFields(b []byte) []byte {
	b = append(b, `"id":`...)
	b = strconv.AppendInt(b, j.ID, 10)
	b = append(b, `,"request_id":`...)
	b = strconv.AppendInt(b, j.RequestID, 10)
	b = append(b, `,"kind":`...)
	b = appendJSONString(b, j.Kind)
	b = append(b, `,"target":`...)
	b = appendJSONString(b, j.Target)
	b = append(b, `,"started_at":`...)
	b = appendJSONString(b, j.StartedAt)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(j.Status), 10)
	b = append(b, `,"duration_ms":`...)
	b = appendJSONFloat(b, j.DurationMS)
	b = append(b, `,"error":`...)
	b = appendJSONString(b, j.Error)
	b = append(b, `,"response_headers":`...)
	b = j.ResponseHeaders.appendJSON(b)
	if j.ResponseBody != nil {
		b = append(b, `,"response_body":`...)
		b = appendJSONString(b, *j.ResponseBody)
	}
	if j.ResponseBodyBase64 != nil {
		b = append(b, `,"response_body_base64":`...)
		b = appendJSONString(b, *j.ResponseBodyBase64)
	}
	b = append(b, `,"response_body_size":`...)
	return strconv.AppendInt(b, j.ResponseBodySize, 10)
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
