package export

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
	"unicode/utf8"

	"github.com/hookctl/hookctl/internal/webhook"
)

// headerEncodingBase64 marks a header written base64-encoded because it is not valid UTF-8.
const headerEncodingBase64 = "base64"

// requestJSON is one line of the JSON Lines format. The names are those of
// `requests show --json`, except that headers are [name, value] pairs (to keep their order
// and repeats), the rejection reason has its own field, and the fields show does not have
// (delivery_id) are added.
type requestJSON struct {
	ID              int64         `json:"id"`
	ReceivedAt      string        `json:"received_at"`
	Method          string        `json:"method"`
	Path            string        `json:"path"`
	PathBase64      string        `json:"path_base64,omitempty"`
	Proto           string        `json:"proto"`
	Host            string        `json:"host"`
	RemoteAddr      string        `json:"remote_addr"`
	Ingress         string        `json:"ingress"`
	Provider        string        `json:"provider"`
	EventType       string        `json:"event_type"`
	DeliveryID      string        `json:"delivery_id"`
	Signature       string        `json:"signature"`
	SignatureReason string        `json:"signature_reason"`
	Rejected        bool          `json:"rejected"`
	RejectedReason  string        `json:"rejected_reason,omitempty"`
	BodySize        int64         `json:"body_size"`
	Headers         headerPairs   `json:"headers"`
	Body            *string       `json:"body,omitempty"`
	BodyBase64      *string       `json:"body_base64,omitempty"`
	Attempts        []attemptJSON `json:"attempts"`
}

// attemptJSON is one attempt, in JSON Lines and in HAR's _attempts. The names are those of
// `requests show --json`, plus duration_ns, the exact duration (duration_ms is rounded to
// microseconds).
type attemptJSON struct {
	ID                 int64       `json:"id"`
	RequestID          int64       `json:"request_id"`
	Kind               string      `json:"kind"`
	Target             string      `json:"target"`
	StartedAt          string      `json:"started_at"`
	Status             int         `json:"status"`
	DurationMS         float64     `json:"duration_ms"`
	DurationNS         *int64      `json:"duration_ns,omitempty"`
	Error              string      `json:"error"`
	ResponseHeaders    headerPairs `json:"response_headers"`
	ResponseBody       *string     `json:"response_body,omitempty"`
	ResponseBodyBase64 *string     `json:"response_body_base64,omitempty"`
	ResponseBodySize   int64       `json:"response_body_size"`
}

// headerPairs marshals as an array of [name, value] pairs, or [name, value, "base64"] with
// both base64-encoded when either is not valid UTF-8.
type headerPairs webhook.Headers

// MarshalJSON implements json.Marshaler.
func (h headerPairs) MarshalJSON() ([]byte, error) {
	pairs := make([][]string, 0, len(h))
	for _, f := range h {
		if utf8.ValidString(f.Name) && utf8.ValidString(f.Value) {
			pairs = append(pairs, []string{f.Name, f.Value})
		} else {
			pairs = append(pairs, []string{b64(f.Name), b64(f.Value), headerEncodingBase64})
		}
	}
	return marshal(pairs)
}

// UnmarshalJSON implements json.Unmarshaler.
func (h *headerPairs) UnmarshalJSON(text []byte) error {
	var pairs [][]string
	if err := json.Unmarshal(text, &pairs); err != nil {
		return fmt.Errorf("headers must be an array of [name, value] pairs")
	}
	out := make(headerPairs, 0, len(pairs))
	for i, p := range pairs {
		switch {
		case len(p) == 2:
			out = append(out, webhook.Field{Name: p[0], Value: p[1]})
		case len(p) == 3 && p[2] == headerEncodingBase64:
			name, err1 := base64.StdEncoding.DecodeString(p[0])
			value, err2 := base64.StdEncoding.DecodeString(p[1])
			if err1 != nil || err2 != nil {
				return fmt.Errorf("header %d: invalid base64", i+1)
			}
			out = append(out, webhook.Field{Name: string(name), Value: string(value)})
		default:
			return fmt.Errorf("header %d: want [name, value], got %d elements", i+1, len(p))
		}
		if out[len(out)-1].Name == "" {
			return fmt.Errorf("header %d: empty name", i+1)
		}
	}
	*h = out
	return nil
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// marshal encodes v as JSON without escaping <, > and &, and without a trailing newline.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func msOf(d time.Duration) float64 {
	return math.Round(float64(d)/float64(time.Microsecond)) / 1000
}

// attemptOf returns a as JSON, its response headers passed through redact.
func attemptOf(a *webhook.Attempt, redact func(webhook.Headers) webhook.Headers) attemptJSON {
	ns := int64(a.Duration)
	j := attemptJSON{
		ID: a.ID, RequestID: a.RequestID, Kind: string(a.Kind), Target: a.Target,
		StartedAt: timeText(a.StartedAt), Status: a.Status, DurationMS: msOf(a.Duration), DurationNS: &ns,
		Error: a.Error, ResponseHeaders: headerPairs(redact(a.Header)), ResponseBodySize: a.BodySize,
	}
	if j.ResponseHeaders == nil {
		j.ResponseHeaders = headerPairs{}
	}
	j.ResponseBody, j.ResponseBodyBase64 = encodeBody(a.Body)
	return j
}

// attempt converts j back into an attempt to record: no ids.
func (j *attemptJSON) attempt() (webhook.Attempt, error) {
	a := webhook.Attempt{
		Kind: webhook.AttemptKind(j.Kind), Target: j.Target, Status: j.Status, Error: j.Error,
		Header: webhook.Headers(j.ResponseHeaders), BodySize: j.ResponseBodySize,
	}
	if j.Kind == "" {
		return a, fmt.Errorf("missing kind")
	}
	if j.Status < 0 || j.Status > 999 {
		return a, fmt.Errorf("invalid status %d", j.Status)
	}
	var err error
	if a.StartedAt, err = parseTime(j.StartedAt); err != nil {
		return a, fmt.Errorf("started_at: %v", err)
	}
	if j.DurationNS != nil {
		a.Duration = time.Duration(*j.DurationNS)
	} else {
		a.Duration = time.Duration(math.Round(j.DurationMS * float64(time.Millisecond)))
	}
	if a.Body, err = decodeBody(j.ResponseBody, j.ResponseBodyBase64, "response_body", "response_body_base64"); err != nil {
		return a, err
	}
	if a.BodySize < int64(len(a.Body)) {
		a.BodySize = int64(len(a.Body))
	}
	return a, nil
}

// WriteJSONL writes one JSON object per line for each item: the request's fields and its
// attempts (see requestJSON).
func WriteJSONL(w io.Writer, items []Item, opt Options) error {
	redact := opt.redactor()
	bw := bufio.NewWriter(w)
	for i, it := range items {
		r := it.Request
		if r == nil {
			return fmt.Errorf("item %d: no request", i+1)
		}
		j := requestJSON{
			ID: r.ID, ReceivedAt: timeText(r.ReceivedAt), Method: r.Method, Path: r.URI, Proto: r.Proto,
			Host: r.Host, RemoteAddr: r.RemoteAddr, Ingress: r.Ingress, Provider: r.Provider,
			EventType: r.EventType, DeliveryID: r.DeliveryID, Signature: r.Signature,
			SignatureReason: r.SignatureReason, Rejected: r.Rejected != "", RejectedReason: r.Rejected,
			BodySize: r.BodySize, Headers: headerPairs(redact(r.Header)),
			Attempts: make([]attemptJSON, 0, len(it.Attempts)),
		}
		if !utf8.ValidString(r.URI) {
			j.Path, j.PathBase64 = "", b64(r.URI)
		}
		if j.Headers == nil {
			j.Headers = headerPairs{}
		}
		j.Body, j.BodyBase64 = encodeBody(r.Body)
		for k := range it.Attempts {
			j.Attempts = append(j.Attempts, attemptOf(&it.Attempts[k], redact))
		}
		line, err := marshal(j)
		if err != nil {
			return fmt.Errorf("request %d: %w", r.ID, err)
		}
		bw.Write(line)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// importJSONL reads the JSON Lines format; blank lines are skipped.
func importJSONL(data []byte) ([]Item, error) {
	var items []Item
	for n := 1; len(data) > 0; n++ {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		it, err := jsonlItem(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		items = append(items, it)
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("no requests in the file")
	}
	return items, nil
}

// jsonlItem parses one line.
func jsonlItem(line []byte) (Item, error) {
	var j requestJSON
	dec := json.NewDecoder(bytes.NewReader(line))
	if err := dec.Decode(&j); err != nil {
		return Item{}, jsonErr(err)
	}
	if dec.More() {
		return Item{}, fmt.Errorf("more than one JSON value on the line")
	}
	if j.Method == "" {
		return Item{}, fmt.Errorf("missing method")
	}
	r := &webhook.Request{
		Method: j.Method, URI: j.Path, Proto: j.Proto, Host: j.Host, Header: webhook.Headers(j.Headers),
		BodySize: j.BodySize, RemoteAddr: j.RemoteAddr, Ingress: webhook.IngressImport,
		Provider: j.Provider, EventType: j.EventType, DeliveryID: j.DeliveryID, Signature: j.Signature,
		SignatureReason: j.SignatureReason, Rejected: j.RejectedReason,
	}
	if j.PathBase64 != "" {
		uri, err := base64.StdEncoding.DecodeString(j.PathBase64)
		if err != nil {
			return Item{}, fmt.Errorf("path_base64: invalid base64")
		}
		r.URI = string(uri)
	}
	if r.URI == "" {
		return Item{}, fmt.Errorf("missing path")
	}
	if j.Rejected && r.Rejected == "" {
		r.Rejected = "rejected"
	}
	var err error
	if r.ReceivedAt, err = parseTime(j.ReceivedAt); err != nil {
		return Item{}, fmt.Errorf("received_at: %v", err)
	}
	if r.Body, err = decodeBody(j.Body, j.BodyBase64, "body", "body_base64"); err != nil {
		return Item{}, err
	}
	if r.Body != nil {
		r.BodySize = int64(len(r.Body))
	}
	it := Item{Request: r}
	for k := range j.Attempts {
		a, err := j.Attempts[k].attempt()
		if err != nil {
			return Item{}, fmt.Errorf("attempt %d: %w", k+1, err)
		}
		it.Attempts = append(it.Attempts, a)
	}
	return it, nil
}

// jsonErr turns a decoding error into a short message.
func jsonErr(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return fmt.Errorf("truncated JSON")
	case errors.As(err, &se):
		return fmt.Errorf("invalid JSON at byte %d: %v", se.Offset, se)
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "value"
		}
		return fmt.Errorf("%s: want %s, got JSON %s", field, te.Type, te.Value)
	}
	return err
}
