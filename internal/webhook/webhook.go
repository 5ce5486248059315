// Package webhook holds the domain types that hookctl's packages share: a recorded Request, an
// Attempt to deliver it, and the Events published while a listener runs.
package webhook

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// Signature statuses a request can carry.
const (
	SignatureValid     = "valid"
	SignatureInvalid   = "invalid"
	SignatureStale     = "stale"
	SignatureUnsigned  = "unsigned"
	SignatureUnchecked = "unchecked"
)

// Ingress names: where a request entered hookctl.
const (
	IngressLocal  = "local"
	IngressNgrok  = "ngrok"
	IngressRelay  = "relay"
	IngressImport = "import"
	// IngressEdit marks an edited copy of a recorded request, made to be replayed.
	IngressEdit = "edit"
)

// AttemptKind says why an attempt was made.
type AttemptKind string

// Attempt kinds.
const (
	KindForward    AttemptKind = "forward"
	KindReplay     AttemptKind = "replay"
	KindRedelivery AttemptKind = "redelivery"
)

// Field is one header line: the name in the case it was received in, and the exact value.
type Field struct {
	Name  string
	Value string
}

// Headers is a list of header fields in the order they were received. Repeated names appear
// once per line, in their original order.
type Headers []Field

// FromHTTP converts an http.Header into Headers. Names are sorted so that the result is
// deterministic; values of one name keep their order.
func FromHTTP(h http.Header) Headers {
	names := make([]string, 0, len(h))
	n := 0
	for name, vv := range h {
		names = append(names, name)
		n += len(vv)
	}
	slices.Sort(names)
	out := make(Headers, 0, n)
	for _, name := range names {
		for _, v := range h[name] {
			out = append(out, Field{Name: name, Value: v})
		}
	}
	return out
}

// Get returns the first value of the named header, compared case-insensitively, or "".
func (h Headers) Get(name string) string {
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			return f.Value
		}
	}
	return ""
}

// Values returns every value of the named header in order, compared case-insensitively.
func (h Headers) Values(name string) []string {
	var out []string
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			out = append(out, f.Value)
		}
	}
	return out
}

// HTTP returns the headers as an http.Header keyed by the names as received (not
// canonicalised), so that a request written from it keeps the original spelling.
func (h Headers) HTTP() http.Header {
	out := make(http.Header, len(h))
	for _, f := range h {
		out[f.Name] = append(out[f.Name], f.Value)
	}
	return out
}

// Canonical returns the headers as an http.Header with canonical keys, the form that
// libraries reading headers with http.Header.Get expect.
func (h Headers) Canonical() http.Header {
	out := make(http.Header, len(h))
	for _, f := range h {
		out.Add(f.Name, f.Value)
	}
	return out
}

// URL returns the URL the sender used for r as well as it can be known: the scheme and host
// from X-Forwarded-Proto and X-Forwarded-Host when a proxy in front (ngrok, a load balancer)
// set them, else plain http and the Host header, then the request URI as received. Twilio and
// Square sign this URL.
func (r *Request) URL() string {
	scheme, host := "http", r.Host
	if p := r.Header.Get("X-Forwarded-Proto"); p != "" {
		scheme = strings.TrimSpace(strings.Split(p, ",")[0])
	}
	if fh := r.Header.Get("X-Forwarded-Host"); fh != "" {
		host = strings.TrimSpace(strings.Split(fh, ",")[0])
	}
	return scheme + "://" + host + r.URI
}

// Request is one request received at an ingress, as recorded in the log.
type Request struct {
	// ID is the log's integer id, the one users type. Zero until the request is stored.
	ID int64
	// ReceivedAt is when the request's headers were read.
	ReceivedAt time.Time
	// Method is the HTTP method.
	Method string
	// URI is the request URI as received: path and query, never re-encoded.
	URI string
	// Proto is the protocol version the sender used, such as "HTTP/1.1".
	Proto string
	// Host is the Host header the sender used.
	Host string
	// Header holds the request headers in the order and case received.
	Header Headers
	// Body holds the raw body bytes; nil when the request was rejected before its body was read.
	Body []byte
	// BodySize is the size of the body in bytes; for a rejected body, the size that was announced
	// or read before the request was refused.
	BodySize int64
	// RemoteAddr is the sender's address as seen by the ingress.
	RemoteAddr string
	// Ingress names where the request entered: local, ngrok, relay or import.
	Ingress string
	// Provider is the detected webhook provider, such as "stripe", or "".
	Provider string
	// EventType is the detected event type, such as "payment_intent.succeeded", or "".
	EventType string
	// DeliveryID is the provider's delivery or event id, used to recognise redeliveries.
	DeliveryID string
	// Signature is one of the Signature* statuses.
	Signature string
	// SignatureReason explains the signature status.
	SignatureReason string
	// Rejected is the reason the ingress refused the request (for example an oversize body), or
	// "" when it was accepted.
	Rejected string
	// DuplicateOf is the id of the first request of the same event when this one is a
	// redelivery of it (same provider delivery id, or same body within a window), else 0. The
	// log sets it when the request is recorded.
	DuplicateOf int64
}

// Attempt is one delivery of a stored request to a target: the original forward, a replay or a
// background redelivery.
type Attempt struct {
	// ID is the attempt's id in the log.
	ID int64
	// RequestID is the id of the request that was sent.
	RequestID int64
	// Kind says why the attempt was made.
	Kind AttemptKind
	// Target is the full URL the request was sent to.
	Target string
	// StartedAt is when the attempt started.
	StartedAt time.Time
	// Duration is how long the attempt took, until the response body was read or the attempt failed.
	Duration time.Duration
	// Status is the target's HTTP status, or 0 when no response arrived.
	Status int
	// Header holds the response headers.
	Header Headers
	// Body holds the response body, up to the recording cap.
	Body []byte
	// BodySize is the full size of the response body, which may exceed len(Body).
	BodySize int64
	// Error describes why the attempt failed, or "" when a response arrived.
	Error string
}

// Summary is the view of a request that lists need: no headers or body, and the outcome of its
// latest attempt.
type Summary struct {
	ID         int64
	ReceivedAt time.Time
	Method     string
	URI        string
	Provider   string
	EventType  string
	Signature  string
	BodySize   int64
	Rejected   string
	// Attempts is how many attempts were made.
	Attempts int
	// Status, Duration and Error describe the latest attempt; Status is 0 when there was none.
	Status   int
	Duration time.Duration
	Error    string
	// DuplicateOf is the request's DuplicateOf.
	DuplicateOf int64
	// Delivery is the state of the request's background delivery; its State is "" when the
	// request was not queued (it was not received with listen --ack).
	Delivery Delivery
}

// Summarize returns the summary of r given its latest attempt (nil when there is none) and the
// number of attempts.
func Summarize(r *Request, last *Attempt, attempts int) Summary {
	s := Summary{
		ID: r.ID, ReceivedAt: r.ReceivedAt, Method: r.Method, URI: r.URI, Provider: r.Provider,
		EventType: r.EventType, Signature: r.Signature, BodySize: r.BodySize, Rejected: r.Rejected,
		Attempts: attempts, DuplicateOf: r.DuplicateOf,
	}
	if last != nil {
		s.Status, s.Duration, s.Error = last.Status, last.Duration, last.Error
	}
	return s
}

// Delivery states, as stored. A pending delivery that has had attempts is shown as retrying
// (Delivery.Status).
const (
	DeliveryPending   = "pending"
	DeliveryRetrying  = "retrying"
	DeliveryDelivered = "delivered"
	DeliveryGivenUp   = "given_up"
)

// Delivery is the background delivery of a request received with listen --ack: queued when
// the request is recorded, retried until the target accepts it or the retry policy gives up.
type Delivery struct {
	// RequestID is the request being delivered.
	RequestID int64
	// Target is the base URL the request is delivered to; the request URI is appended.
	Target string
	// State is DeliveryPending, DeliveryDelivered or DeliveryGivenUp, or "" for a request that
	// was not queued.
	State string
	// Attempts is how many attempts have been made.
	Attempts int
	// FirstAt is when the delivery was queued.
	FirstAt time.Time
	// NextAt is when a pending delivery is due.
	NextAt time.Time
	// UpdatedAt is when the latest attempt ended, or when the delivery was queued.
	UpdatedAt time.Time
}

// Status is the state to show: State, except that a pending delivery with failed attempts
// behind it is DeliveryRetrying.
func (d Delivery) Status() string {
	if d.State == DeliveryPending && d.Attempts > 0 {
		return DeliveryRetrying
	}
	return d.State
}

// DeliveryOutcome is what one attempt of a background delivery decided.
type DeliveryOutcome struct {
	// Delivered is set when the target accepted the request.
	Delivered bool
	// GiveUp is set when the delivery is not to be tried again.
	GiveUp bool
	// NextAt is when a delivery neither delivered nor given up is due again.
	NextAt time.Time
}

// EventKind names what an Event reports.
type EventKind string

// Event kinds.
const (
	EventRequest EventKind = "request"
	EventAttempt EventKind = "attempt"
	EventIngress EventKind = "ingress"
)

// Event reports a request that was recorded, an attempt that finished, or a change in a public
// ingress's connection. Request is set for EventRequest and EventAttempt, Attempt for
// EventAttempt, Ingress for EventIngress. Delivery is set, for a request received with
// listen --ack, to its delivery's state after the event.
type Event struct {
	Kind     EventKind
	Request  *Request
	Attempt  *Attempt
	Ingress  *IngressState
	Delivery *Delivery
}

// IngressState is the connection state of a public ingress, such as the relay client.
type IngressState struct {
	// Name is the ingress: one of the Ingress* names.
	Name string
	// State is "connecting", "connected" or "disconnected".
	State string
	// Error says why it is not connected, or "".
	Error string
}
