package cli

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/hookctl/hookctl/internal/webhook"
)

// TestEventJSONMatchesMarshal checks that listen's hand-written events are byte for byte what
// json.Marshal writes for the same structs, which stay the reference for the field names.
func TestEventJSONMatchesMarshal(t *testing.T) {
	text, b64 := "ok <b>&</b>", "AAEC"
	odd := "q\"\\\b\f\n\r\t\x00\x1f\x7f é \u2028\u2029 \xff😀"
	sum := summaryJSON{ID: 42, ReceivedAt: "2026-11-28T10:00:00.123456789Z", Method: "POST", Path: "/hooks?a=<1>&b=2",
		Provider: "stripe", EventType: "payment_intent.succeeded", Signature: "valid", BodySize: 2048, Status: 201,
		DurationMS: 12.345, Error: odd, Rejected: true, DuplicateOf: 7, Delivery: "retrying", NextAttemptAt: "2026-11-28T10:00:01Z"}
	att := attemptJSON{ID: 9, RequestID: 42, Kind: "forward", Target: "http://localhost:3000/hooks", StartedAt: "2026-11-28T10:00:00Z",
		Status: 502, DurationMS: 0.001, Error: "dial tcp: refused",
		ResponseHeaders: orderedHeader{{Name: "Content-Type", Value: "text/plain"}, {Name: "Set-Cookie", Value: "a=1"},
			{Name: "X-Odd", Value: odd}, {Name: "Set-Cookie", Value: "b=2"}, {Name: "set-cookie", Value: "c"}},
		ResponseBodySize: 11}
	requests := []requestEventJSON{
		{},
		{Event: "request", summaryJSON: sum, Host: "abc.example", RemoteAddr: "127.0.0.1:5555"},
	}
	for _, f := range []float64{0, 1, 0.5, 1e-7, 123456.789, 1e21, 1e20, -3.25, math.SmallestNonzeroFloat64, math.MaxFloat64} {
		requests = append(requests, requestEventJSON{Event: "request", summaryJSON: summaryJSON{DurationMS: f}})
	}
	attempts := []attemptEventJSON{
		{},
		{Event: "attempt", Method: "POST", Path: "/x", attemptJSON: att},
		{Event: "attempt", Method: "POST", Path: "/x", attemptJSON: att, Delivery: "pending", NextAttemptAt: "2026-11-28T10:00:05Z"},
		{Event: "attempt", attemptJSON: attemptJSON{ResponseBody: &text, ResponseBodyBase64: &b64, ResponseHeaders: orderedHeader{}}},
	}
	check := func(t *testing.T, v any, got []byte) {
		t.Helper()
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("appended:\n%s\njson.Marshal:\n%s", got, want)
		}
	}
	for _, j := range requests {
		check(t, j, j.appendJSON(nil))
	}
	for _, j := range attempts {
		check(t, j, j.appendJSON(nil))
	}
}

// TestPrinterJSONEvents checks the events the printer writes for a request and its attempt.
func TestPrinterJSONEvents(t *testing.T) {
	var out bytes.Buffer
	at := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	p := newPrinter(&out, true, false, true, false, 200, func() time.Time { return at })
	r := &webhook.Request{ID: 3, ReceivedAt: at, Method: "POST", URI: "/h", Host: "h", RemoteAddr: "127.0.0.1:1", BodySize: 2,
		Body: []byte("{}"), Provider: "github", EventType: "push", Signature: webhook.SignatureUnsigned}
	a := &webhook.Attempt{ID: 4, RequestID: 3, Kind: webhook.KindForward, Target: "http://t/h", StartedAt: at, Status: 200,
		Duration: 1500 * time.Microsecond, Header: webhook.Headers{{Name: "Content-Type", Value: "application/json"}},
		Body: []byte(`{"ok":true}`), BodySize: 11}
	p.Notify(webhook.Event{Kind: webhook.EventRequest, Request: r})
	p.Notify(webhook.Event{Kind: webhook.EventAttempt, Request: r, Attempt: a})
	p.Close()
	want := `{"event":"request","id":3,"received_at":"2026-11-28T10:00:00Z","method":"POST","path":"/h","provider":"github","event_type":"push","signature":"unsigned","body_size":2,"status":0,"duration_ms":0,"error":"","rejected":false,"duplicate_of":0,"delivery":"","next_attempt_at":"","host":"h","remote_addr":"127.0.0.1:1"}
{"event":"attempt","method":"POST","path":"/h","id":4,"request_id":3,"kind":"forward","target":"http://t/h","started_at":"2026-11-28T10:00:00Z","status":200,"duration_ms":1.5,"error":"","response_headers":{"Content-Type":["application/json"]},"response_body_size":11}
`
	if out.String() != want {
		t.Errorf("printed:\n%s\nwant:\n%s", out.String(), want)
	}
}
