// Package capture holds the http.Handler that every ingress serves: it bounds the body, records
// the request in the log before anything else happens, forwards it to the target, records the
// attempt, answers the sender and publishes events.
package capture

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/hookctl/hookctl/internal/forward"
	"github.com/hookctl/hookctl/internal/humanize"
	"github.com/hookctl/hookctl/internal/rawhead"
	"github.com/hookctl/hookctl/internal/store"
	"github.com/hookctl/hookctl/internal/webhook"
	"github.com/hookctl/hookctl/pkg/signature"
)

// DefaultMaxBody is the body size limit when Config.MaxBody is zero.
const DefaultMaxBody = 25 << 20

// RequestIDHeader carries the request's id in the log on every response from the ingress.
const RequestIDHeader = "X-Hookctl-Request-Id"

// Recorder is the part of the log the handler writes to. Its methods return once the row is
// committed, and set the row's ID; Record also sets DuplicateOf when asked to look for one.
type Recorder interface {
	Record(ctx context.Context, r *webhook.Request, o store.RecordOptions) (*webhook.Delivery, error)
	// AddAttemptLater queues an attempt and returns; then is called once it is committed.
	AddAttemptLater(a *webhook.Attempt, then func(error))
}

// Ack configures acknowledge mode (listen --ack): the sender is answered as soon as the
// request is recorded, and the request is delivered to the target in the background from the
// log's delivery queue.
type Ack struct {
	// Status is the status answered. 0 means 200.
	Status int
	// Body is the body answered. nil means {"received":true}.
	Body []byte
	// ContentType is the body's type. "" means application/json.
	ContentType string
	// Queued is called after each request queued for delivery (the deliverer's Wake). nil
	// means none.
	Queued func()
}

// received is what an ingress that reads requests itself knows of one beyond *http.Request.
type received struct {
	header     webhook.Headers
	ref        string
	receivedAt time.Time
}

type receivedKey struct{}

// WithReceived attaches to ctx what an ingress that reads requests itself (the relay client)
// knows of a request: its header lines in the order and case the sender wrote them, the
// ingress's own id for it, and when the ingress received it. The handler records those
// instead of what it can see itself.
func WithReceived(ctx context.Context, header webhook.Headers, ref string, receivedAt time.Time) context.Context {
	return context.WithValue(ctx, receivedKey{}, received{header: header, ref: ref, receivedAt: receivedAt})
}

// Config configures a Handler. Zero values get sensible defaults.
type Config struct {
	// Log records requests and attempts. Required.
	Log Recorder
	// Forwarder sends requests to Target. nil means a forward.New with default settings.
	Forwarder *forward.Forwarder
	// Target is where requests are forwarded; nil means record only and answer Status.
	Target *url.URL
	// Status is the status answered when there is no target. 0 means 200.
	Status int
	// MaxBody is the largest body accepted, in bytes. 0 means DefaultMaxBody.
	MaxBody int64
	// Ingress names the ingress in recorded requests. "" means webhook.IngressLocal.
	Ingress string
	// Notify receives an event for every recorded request and finished attempt: for a request
	// on the request's goroutine, for an attempt once it is committed, on the log's writer
	// goroutine. It must not block: every write to the log would wait. nil means no events.
	Notify func(webhook.Event)
	// Logger receives diagnostics. nil means discard.
	Logger *slog.Logger
	// Now returns the current time. nil means time.Now.
	Now func() time.Time
	// Secrets maps provider names (as signature.Lookup knows them, or "hmac" for Generic) to
	// signing secrets: requests from those providers get their signature verified. Secrets
	// are never written to the log.
	Secrets map[string]string
	// Generic is an extra HMAC scheme, verified with Secrets["hmac"]; nil means none.
	Generic *signature.Generic
	// Ack, when not nil, answers senders at once and queues requests for background delivery
	// to Target instead of forwarding them while the sender waits.
	Ack *Ack
	// DedupeWindow is how far back a request without a provider delivery id is compared by
	// body to recognise a redelivery. 0 means store.DefaultDedupeWindow.
	DedupeWindow time.Duration
	// Dedupe stops redeliveries of a request already in the log from being forwarded or
	// queued: they are recorded, marked, and answered 200 at once.
	Dedupe bool
	// Fatal is called when the log cannot record anything any more (it is corrupt), after the
	// sender was answered 503; the listener should stop rather than refuse every request. nil
	// means none.
	Fatal func(error)
}

// DuplicateOfHeader names, on the answer to a redelivery that Dedupe kept from the target,
// the request it repeats.
const DuplicateOfHeader = "X-Hookctl-Duplicate-Of"

// Handler is the capture handler. Create it with New.
type Handler struct {
	cfg Config
}

var _ http.Handler = (*Handler)(nil)

// New returns a Handler configured by cfg.
func New(cfg Config) *Handler {
	if cfg.Forwarder == nil {
		cfg.Forwarder = forward.New(forward.Config{})
	}
	if cfg.Status == 0 {
		cfg.Status = http.StatusOK
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.Ingress == "" {
		cfg.Ingress = webhook.IngressLocal
	}
	if cfg.Notify == nil {
		cfg.Notify = func(webhook.Event) {}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if a := cfg.Ack; a != nil {
		ack := *a
		if ack.Status == 0 {
			ack.Status = http.StatusOK
		}
		if ack.Body == nil {
			ack.Body = []byte(`{"received":true}`)
		}
		if ack.ContentType == "" {
			ack.ContentType = "application/json"
		}
		if ack.Queued == nil {
			ack.Queued = func() {}
		}
		cfg.Ack = &ack
	}
	return &Handler{cfg: cfg}
}

// ServeHTTP records r, then forwards it or answers it.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := h.request(r)
	// The log write and the forward must finish even if the sender goes away: the sender
	// cannot take back a webhook it has sent.
	ctx := context.WithoutCancel(r.Context())

	ref := ""
	if rc, ok := r.Context().Value(receivedKey{}).(received); ok {
		ref = rc.ref
	}
	if rejected, status := h.readBody(r, rec); rejected != "" {
		rec.Rejected = rejected
		if _, err := h.record(ctx, w, rec, ref); err != nil {
			return
		}
		w.Header().Set("Connection", "close")
		http.Error(w, "hookctl: "+rejected, status)
		return
	}
	h.identify(rec)
	queued, err := h.record(ctx, w, rec, ref)
	if err != nil {
		return
	}
	switch {
	case h.cfg.Dedupe && rec.DuplicateOf != 0:
		w.Header().Set(DuplicateOfHeader, strconv.FormatInt(rec.DuplicateOf, 10))
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, "{\"received\":true,\"id\":%d,\"duplicate_of\":%d}\n", rec.ID, rec.DuplicateOf)
	case h.cfg.Ack != nil:
		if queued != nil {
			h.cfg.Ack.Queued()
		}
		w.Header().Set("Content-Type", h.cfg.Ack.ContentType)
		w.WriteHeader(h.cfg.Ack.Status)
		w.Write(h.cfg.Ack.Body)
	case h.cfg.Target == nil:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(h.cfg.Status)
		fmt.Fprintf(w, "{\"received\":true,\"id\":%d}\n", rec.ID)
	default:
		h.forward(ctx, w, rec)
	}
}

// request builds the log row for r from what has been read so far: everything but the body.
func (h *Handler) request(r *http.Request) *webhook.Request {
	at := h.cfg.Now().UTC()
	headers, ok := rawhead.Headers(r)
	if rc, given := r.Context().Value(receivedKey{}).(received); given {
		headers, ok = rc.header, true
		if !rc.receivedAt.IsZero() {
			at = rc.receivedAt.UTC()
		}
	}
	if !ok {
		headers = append(webhook.Headers{{Name: "Host", Value: r.Host}}, webhook.FromHTTP(r.Header)...)
	}
	return &webhook.Request{
		ReceivedAt: at,
		Method:     r.Method,
		URI:        r.RequestURI,
		Proto:      r.Proto,
		Host:       r.Host,
		Header:     headers,
		RemoteAddr: r.RemoteAddr,
		Ingress:    h.cfg.Ingress,
		Signature:  webhook.SignatureUnchecked,
	}
}

// identify sets rec's provider, event type and delivery id, and its signature status: checked
// against the configured secret when there is one for its provider, "unchecked" when there is
// none, "unsigned" when the request carries no signature.
func (h *Handler) identify(rec *webhook.Request) {
	hdr := rec.Header.Canonical()
	var s signature.Scheme
	if g := h.cfg.Generic; g != nil && g.Detect(hdr) {
		s = *g
	} else if found, ok := signature.Identify(hdr); ok {
		s = found
	} else {
		rec.Signature = webhook.SignatureUnsigned
		return
	}
	rec.Provider = s.Name()
	rec.EventType, rec.DeliveryID = s.Event(hdr, rec.Body)
	secret, ok := h.cfg.Secrets[s.Name()]
	switch {
	case !s.Detect(hdr):
		rec.Signature, rec.SignatureReason = webhook.SignatureUnsigned, "no "+s.Name()+" signature header"
	case !ok:
		rec.Signature, rec.SignatureReason = webhook.SignatureUnchecked, "no secret given for "+s.Name()+" (listen --verify "+s.Name()+"=...)"
	default:
		res := s.Verify(&signature.Request{Method: rec.Method, URL: rec.URL(), Header: hdr, Body: rec.Body}, secret,
			signature.Options{Now: rec.ReceivedAt})
		rec.Signature, rec.SignatureReason = string(res.Status), res.Reason
	}
}

// readBody reads r's body into rec, up to the limit. It returns a rejection reason and the
// status to answer with when the body cannot be accepted.
func (h *Handler) readBody(r *http.Request, rec *webhook.Request) (string, int) {
	limit := h.cfg.MaxBody
	tooBig := func(size int64) (string, int) {
		rec.Body, rec.BodySize = nil, size
		return fmt.Sprintf("request body of %s exceeds the %s limit (raise it with --max-body)",
			sizeText(size, r.ContentLength < 0), humanize.Size(limit)), http.StatusRequestEntityTooLarge
	}
	if r.ContentLength > limit {
		return tooBig(r.ContentLength)
	}
	var (
		n   int64
		err error
	)
	if r.ContentLength >= 0 {
		// The size is known (and net/http holds the body to it): read it into a buffer of
		// exactly that size, without the growing and copying of a bytes.Buffer.
		rec.Body = make([]byte, r.ContentLength)
		var k int
		k, err = io.ReadFull(r.Body, rec.Body)
		n = int64(k)
	} else {
		var buf bytes.Buffer
		n, err = buf.ReadFrom(io.LimitReader(r.Body, limit+1))
		if n > limit {
			return tooBig(n)
		}
		rec.Body = buf.Bytes()
	}
	rec.BodySize = n
	if err != nil {
		rec.Body = nil
		status := http.StatusBadRequest
		if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
			status = http.StatusRequestTimeout
		}
		return "request body could not be read: " + err.Error(), status
	}
	return "", 0
}

func sizeText(n int64, atLeast bool) string {
	if atLeast {
		return "more than " + humanize.Size(n-1)
	}
	return humanize.Size(n)
}

// record commits rec to the log, under the ingress's ref when it has one, marked when it is a
// redelivery, and queued for delivery in ack mode; it returns the queued delivery, if any. If
// that fails, it answers 503 so that the sender retries.
func (h *Handler) record(ctx context.Context, w http.ResponseWriter, rec *webhook.Request, ref string) (*webhook.Delivery, error) {
	o := store.RecordOptions{Ref: ref, Dedupe: true, DedupeWindow: h.cfg.DedupeWindow, SkipDuplicates: h.cfg.Dedupe}
	if h.cfg.Ack != nil && h.cfg.Target != nil && rec.Rejected == "" {
		o.Deliver = h.cfg.Target.String()
	}
	queued, err := h.cfg.Log.Record(ctx, rec, o)
	if err != nil {
		h.cfg.Logger.Error("record request", "method", rec.Method, "uri", rec.URI, "err", err)
		w.Header().Set("Retry-After", "5")
		http.Error(w, "hookctl: could not record the request: "+err.Error(), http.StatusServiceUnavailable)
		if errors.Is(err, store.ErrCorrupt) && h.cfg.Fatal != nil {
			h.cfg.Fatal(err)
		}
		return nil, err
	}
	w.Header().Set(RequestIDHeader, strconv.FormatInt(rec.ID, 10))
	h.cfg.Notify(webhook.Event{Kind: webhook.EventRequest, Request: rec, Delivery: queued})
	return queued, nil
}

// forward sends rec to the target, answers the sender with the target's response, and queues
// the attempt's record. The request itself was committed before anything was sent; the attempt
// is committed after the answer is on its way, so neither the sender nor the next request on
// its connection waits for a second commit (a crash in between loses the attempt's record,
// never the request).
func (h *Handler) forward(ctx context.Context, w http.ResponseWriter, rec *webhook.Request) {
	target := forward.JoinURI(h.cfg.Target, rec.URI)
	res := h.cfg.Forwarder.Send(ctx, rec, target, webhook.KindForward)
	switch {
	case res.Rest != nil:
		// A response longer than the recording cap: stream it.
		h.writeHead(w, res)
		w.Write(res.Attempt.Body)
		res.Finish(w)
	case res.Failure == forward.FailureNone:
		h.writeHead(w, res)
		w.Write(res.Attempt.Body)
	case res.Failure == forward.FailureTimeout:
		http.Error(w, "hookctl: "+res.Attempt.Error, http.StatusGatewayTimeout)
	default:
		http.Error(w, "hookctl: "+res.Attempt.Error, http.StatusBadGateway)
	}
	h.recordAttempt(rec, &res.Attempt)
}

func (h *Handler) recordAttempt(rec *webhook.Request, a *webhook.Attempt) {
	h.cfg.Log.AddAttemptLater(a, func(err error) {
		if err != nil {
			h.cfg.Logger.Error("record attempt", "request_id", a.RequestID, "err", err)
		}
		h.cfg.Notify(webhook.Event{Kind: webhook.EventAttempt, Request: rec, Attempt: a})
	})
}

// hopResponseHeaders are not passed back to the sender.
var hopResponseHeaders = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Connection": true, "Te": true, "Trailer": true,
	"Transfer-Encoding": true, "Upgrade": true,
}

func (h *Handler) writeHead(w http.ResponseWriter, res *forward.Result) {
	dst := w.Header()
	for k, vv := range res.Response.Header {
		if hopResponseHeaders[k] {
			continue
		}
		dst[k] = vv
	}
	if _, ok := dst["Content-Type"]; !ok {
		dst["Content-Type"] = nil // pass on the absence too: no sniffed type
	}
	w.WriteHeader(res.Response.StatusCode)
}
