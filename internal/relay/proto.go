// Package relay is hookctl's self-hosted relay: a server that gives each client a stable public
// channel URL, keeps every request it receives in a durable buffer, and hands it to the
// channel's client over a websocket; and the client, which serves those requests through the
// capture handler (so that they are recorded in the local log and forwarded like any other) and
// sends the target's response back. The frame protocol is documented in docs/relay-protocol.md.
//
// This package is the only importer of gorilla/websocket.
package relay

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/hookctl/hookctl/internal/webhook"
)

// ProtocolVersion is the version of the frame protocol this package speaks.
const ProtocolVersion = 1

// Header names of the connect request.
const (
	// ChannelHeader names the channel a client connects to.
	ChannelHeader = "X-Hookctl-Channel"
	// ProtocolHeader carries the protocol version the client speaks; a server that does not
	// speak it answers 400 with the versions it speaks in the same header.
	ProtocolHeader = "X-Hookctl-Protocol"
	// RelayIDHeader carries "<channel>/<seq>", the relay's id of a request, on every response
	// to a sender whose request was buffered.
	RelayIDHeader = "X-Hookctl-Relay-Id"
)

// Limits of the protocol.
const (
	// MaxFrameBody is the largest body a frame may carry, request or response.
	MaxFrameBody = 64 << 20
	// maxFrame is the largest frame either side reads: a base64 body of MaxFrameBody plus
	// room for the headers and the other fields.
	maxFrame = MaxFrameBody/3*4 + 8<<20
)

// Frame types.
const (
	typeRequest  = "request"
	typeResponse = "response"
)

// Close codes the server uses beyond the standard ones.
const (
	// closeReplaced: a newer connection for the same channel took over.
	closeReplaced = 4000
)

// pairs is a list of header lines as it travels in a frame: a JSON array of [name, value]
// arrays, in order. A line whose name or value is not valid UTF-8 (which a JSON string cannot
// carry) travels as [base64(name), base64(value), "base64"].
type pairs webhook.Headers

// MarshalJSON encodes the pairs.
func (p pairs) MarshalJSON() ([]byte, error) {
	out := make([][]string, len(p))
	for i, f := range p {
		if utf8.ValidString(f.Name) && utf8.ValidString(f.Value) {
			out[i] = []string{f.Name, f.Value}
		} else {
			out[i] = []string{
				base64.StdEncoding.EncodeToString([]byte(f.Name)),
				base64.StdEncoding.EncodeToString([]byte(f.Value)),
				"base64",
			}
		}
	}
	return json.Marshal(out)
}

// UnmarshalJSON decodes the pairs.
func (p *pairs) UnmarshalJSON(b []byte) error {
	var in [][]string
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	out := make(pairs, 0, len(in))
	for _, a := range in {
		switch {
		case len(a) == 2:
			out = append(out, webhook.Field{Name: a[0], Value: a[1]})
		case len(a) == 3 && a[2] == "base64":
			name, err := base64.StdEncoding.DecodeString(a[0])
			if err != nil {
				return fmt.Errorf("header name: %w", err)
			}
			value, err := base64.StdEncoding.DecodeString(a[1])
			if err != nil {
				return fmt.Errorf("header value: %w", err)
			}
			out = append(out, webhook.Field{Name: string(name), Value: string(value)})
		default:
			return fmt.Errorf("malformed header pair %q", a)
		}
	}
	*p = out
	return nil
}

// envelope is what every frame starts with: enough to decide what to do with it.
type envelope struct {
	V    int    `json:"v"`
	Type string `json:"type"`
}

// requestFrame hands a request received on a channel to its client.
type requestFrame struct {
	V          int       `json:"v"`
	Type       string    `json:"type"`
	ID         string    `json:"id"`
	Seq        int64     `json:"seq"`
	Buffered   bool      `json:"buffered"`
	ReceivedAt time.Time `json:"received_at"`
	Method     string    `json:"method"`
	URI        string    `json:"uri"`
	// URIBase64 replaces URI when the request URI is not valid UTF-8.
	URIBase64  []byte `json:"uri_base64,omitempty"`
	Proto      string `json:"proto"`
	Host       string `json:"host"`
	RemoteAddr string `json:"remote_addr"`
	Headers    pairs  `json:"headers"`
	Body       []byte `json:"body"`
}

// responseFrame is the client's answer to a request frame.
type responseFrame struct {
	V        int    `json:"v"`
	Type     string `json:"type"`
	ID       string `json:"id"`
	Seq      int64  `json:"seq"`
	Recorded bool   `json:"recorded"`
	Status   int    `json:"status"`
	Headers  pairs  `json:"headers"`
	Body     []byte `json:"body"`
}

// ref returns the relay's id of a buffered request: "<channel>/<seq>".
func ref(channel string, seq int64) string { return fmt.Sprintf("%s/%d", channel, seq) }

// newRequestFrame builds the frame for a buffered request r (r.ID is its seq).
func newRequestFrame(channel string, r *webhook.Request, buffered bool) requestFrame {
	f := requestFrame{
		V: ProtocolVersion, Type: typeRequest, ID: ref(channel, r.ID), Seq: r.ID, Buffered: buffered,
		ReceivedAt: r.ReceivedAt, Method: r.Method, URI: r.URI, Proto: r.Proto, Host: r.Host,
		RemoteAddr: r.RemoteAddr, Headers: pairs(r.Header), Body: r.Body,
	}
	if !utf8.ValidString(r.URI) {
		f.URI, f.URIBase64 = "", []byte(r.URI)
	}
	if f.Body == nil {
		f.Body = []byte{}
	}
	return f
}

// uri returns the frame's request URI.
func (f *requestFrame) uri() string {
	if f.URIBase64 != nil {
		return string(f.URIBase64)
	}
	return f.URI
}

// errUnknownFrame marks a frame that a receiver ignores: an unknown type or a newer version.
var errUnknownFrame = errors.New("unknown frame")

// decodeEnvelope reads a frame's version and type. A frame of another version or an unknown
// type gives errUnknownFrame; broken JSON gives another error.
func decodeEnvelope(b []byte, want string) error {
	var e envelope
	if err := json.Unmarshal(b, &e); err != nil {
		return fmt.Errorf("decode frame: %w", err)
	}
	if e.V != ProtocolVersion || e.Type != want {
		return errUnknownFrame
	}
	return nil
}
