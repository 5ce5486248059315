package cli

import (
	"encoding/base64"
	"math"
	"time"
	"unicode/utf8"

	"github.com/hookctl/hookctl/internal/webhook"
)

// The JSON shapes below are a contract (see docs/commands.md): field names do not change.

// summaryJSON is one row of `requests list --json`, and the common part of `requests show --json`.
type summaryJSON struct {
	ID         int64   `json:"id"`
	ReceivedAt string  `json:"received_at"`
	Method     string  `json:"method"`
	Path       string  `json:"path"`
	Provider   string  `json:"provider"`
	EventType  string  `json:"event_type"`
	Signature  string  `json:"signature"`
	BodySize   int64   `json:"body_size"`
	Status     int     `json:"status"`
	DurationMS float64 `json:"duration_ms"`
	Error      string  `json:"error"`
	Rejected   bool    `json:"rejected"`
	// DuplicateOf is the id of the request this one redelivers, 0 when it is not a redelivery.
	DuplicateOf int64 `json:"duplicate_of"`
	// Delivery is the background delivery's state (listen --ack): pending, retrying,
	// delivered or given_up; "" when the request was not queued.
	Delivery string `json:"delivery"`
	// NextAttemptAt is when a pending or retrying delivery is due, "" otherwise.
	NextAttemptAt string `json:"next_attempt_at"`
}

// detailJSON is the output of `requests show --json`.
type detailJSON struct {
	summaryJSON
	Host            string        `json:"host"`
	RemoteAddr      string        `json:"remote_addr"`
	Proto           string        `json:"proto"`
	Ingress         string        `json:"ingress"`
	SignatureReason string        `json:"signature_reason"`
	Headers         orderedHeader `json:"headers"`
	Body            *string       `json:"body,omitempty"`
	BodyBase64      *string       `json:"body_base64,omitempty"`
	Attempts        []attemptJSON `json:"attempts"`
}

// attemptJSON is one attempt in `requests show --json`, and the attempt event of `listen --json`.
type attemptJSON struct {
	ID                 int64         `json:"id"`
	RequestID          int64         `json:"request_id"`
	Kind               string        `json:"kind"`
	Target             string        `json:"target"`
	StartedAt          string        `json:"started_at"`
	Status             int           `json:"status"`
	DurationMS         float64       `json:"duration_ms"`
	Error              string        `json:"error"`
	ResponseHeaders    orderedHeader `json:"response_headers"`
	ResponseBody       *string       `json:"response_body,omitempty"`
	ResponseBodyBase64 *string       `json:"response_body_base64,omitempty"`
	ResponseBodySize   int64         `json:"response_body_size"`
}

func timeJSON(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func msJSON(d time.Duration) float64 {
	return math.Round(float64(d)/float64(time.Microsecond)) / 1000
}

func summaryOf(s webhook.Summary) summaryJSON {
	j := summaryJSON{
		ID: s.ID, ReceivedAt: timeJSON(s.ReceivedAt), Method: s.Method, Path: s.URI,
		Provider: s.Provider, EventType: s.EventType, Signature: s.Signature, BodySize: s.BodySize,
		Status: s.Status, DurationMS: msJSON(s.Duration), Error: s.Error,
	}
	if s.Rejected != "" {
		j.Rejected = true
		j.Error = "rejected: " + s.Rejected
	}
	if j.Signature == "" {
		j.Signature = webhook.SignatureUnchecked
	}
	j.DuplicateOf = s.DuplicateOf
	j.Delivery, j.NextAttemptAt = deliveryJSON(s.Delivery)
	return j
}

// deliveryJSON returns a delivery's state for JSON, and when it is due if it is pending.
func deliveryJSON(d webhook.Delivery) (state, nextAt string) {
	if d.State == webhook.DeliveryPending {
		nextAt = timeJSON(d.NextAt)
	}
	return d.Status(), nextAt
}

// detailOf is the JSON of a request with its attempts and its delivery (nil when it was not
// queued).
func detailOf(r *webhook.Request, attempts []webhook.Attempt, delivery *webhook.Delivery) detailJSON {
	var last *webhook.Attempt
	if len(attempts) > 0 {
		last = &attempts[len(attempts)-1]
	}
	sum := webhook.Summarize(r, last, len(attempts))
	if delivery != nil {
		sum.Delivery = *delivery
	}
	d := detailJSON{
		summaryJSON: summaryOf(sum),
		Host:        r.Host, RemoteAddr: r.RemoteAddr, Proto: r.Proto, Ingress: r.Ingress,
		SignatureReason: r.SignatureReason,
		Headers:         orderedHeader(r.Header),
		Attempts:        make([]attemptJSON, 0, len(attempts)),
	}
	d.Body, d.BodyBase64 = bodyJSON(r.Body)
	for i := range attempts {
		d.Attempts = append(d.Attempts, attemptOf(&attempts[i]))
	}
	return d
}

func attemptOf(a *webhook.Attempt) attemptJSON {
	j := attemptJSON{
		ID: a.ID, RequestID: a.RequestID, Kind: string(a.Kind), Target: a.Target,
		StartedAt: timeJSON(a.StartedAt), Status: a.Status, DurationMS: msJSON(a.Duration),
		Error: a.Error, ResponseHeaders: orderedHeader(a.Header), ResponseBodySize: a.BodySize,
	}
	j.ResponseBody, j.ResponseBodyBase64 = bodyJSON(a.Body)
	return j
}

// bodyJSON returns the body as a string when it is valid UTF-8, and as base64 otherwise.
func bodyJSON(b []byte) (text, b64 *string) {
	if utf8.Valid(b) {
		s := string(b)
		return &s, nil
	}
	s := base64.StdEncoding.EncodeToString(b)
	return nil, &s
}

// orderedHeader marshals as an object of arrays whose keys keep the order in which each name
// first appeared, spelled as received.
type orderedHeader webhook.Headers

// MarshalJSON implements json.Marshaler.
func (h orderedHeader) MarshalJSON() ([]byte, error) {
	return h.appendJSON(nil), nil
}
