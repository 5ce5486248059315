package export

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hookctl/hookctl/internal/build"
	"github.com/hookctl/hookctl/internal/webhook"
)

// harTimeLayout is the layout of HAR's startedDateTime: RFC 3339 with milliseconds.
const harTimeLayout = "2006-01-02T15:04:05.000Z07:00"

// The types below mirror HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/); fields
// starting with "_" are hookctl's own, which the spec allows.

type harFile struct {
	Log harLog `json:"log"`
}

type harLog struct {
	Version string     `json:"version"`
	Creator harCreator `json:"creator"`
	Entries []harEntry `json:"entries"`
	Comment string     `json:"comment,omitempty"`
}

type harCreator struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

type harEntry struct {
	StartedDateTime string      `json:"startedDateTime"`
	Time            float64     `json:"time"`
	Request         harRequest  `json:"request"`
	Response        harResponse `json:"response"`
	Cache           struct{}    `json:"cache"`
	Timings         harTimings  `json:"timings"`
	Comment         string      `json:"comment,omitempty"`

	ID              int64  `json:"_id,omitempty"`
	Ingress         string `json:"_ingress,omitempty"`
	Provider        string `json:"_provider,omitempty"`
	EventType       string `json:"_eventType,omitempty"`
	DeliveryID      string `json:"_deliveryId,omitempty"`
	Signature       string `json:"_signature,omitempty"`
	SignatureReason string `json:"_signatureReason,omitempty"`
	RemoteAddr      string `json:"_remoteAddr,omitempty"`
	Rejected        string `json:"_rejected,omitempty"`
	// ReceivedAt is startedDateTime with nanoseconds.
	ReceivedAt string `json:"_receivedAt,omitempty"`
	// Attempts is every attempt, oldest first; the response is the last one's. Absent in HARs
	// that other tools wrote.
	Attempts *[]attemptJSON `json:"_attempts,omitempty"`
}

type harRequest struct {
	Method      string         `json:"method"`
	URL         string         `json:"url"`
	HTTPVersion string         `json:"httpVersion"`
	Cookies     []harCookie    `json:"cookies"`
	Headers     []harHeader    `json:"headers"`
	QueryString []harNameValue `json:"queryString"`
	PostData    *harPostData   `json:"postData,omitempty"`
	HeadersSize int64          `json:"headersSize"`
	BodySize    int64          `json:"bodySize"`
	Comment     string         `json:"comment,omitempty"`

	// URI is the request URI as received; URIEncoding is "base64" when it is not UTF-8.
	URI         string `json:"_uri,omitempty"`
	URIEncoding string `json:"_uriEncoding,omitempty"`
	Host        string `json:"_host,omitempty"`
	// NoBody says the body was never read (the request was rejected first).
	NoBody bool `json:"_noBody,omitempty"`
}

type harResponse struct {
	Status      int         `json:"status"`
	StatusText  string      `json:"statusText"`
	HTTPVersion string      `json:"httpVersion"`
	Cookies     []harCookie `json:"cookies"`
	Headers     []harHeader `json:"headers"`
	Content     harContent  `json:"content"`
	RedirectURL string      `json:"redirectURL"`
	HeadersSize int64       `json:"headersSize"`
	BodySize    int64       `json:"bodySize"`
	Comment     string      `json:"comment,omitempty"`
	Error       string      `json:"_error,omitempty"`
}

type harCookie struct {
	Name     string `json:"name"`
	Value    string `json:"value"`
	Path     string `json:"path,omitempty"`
	Domain   string `json:"domain,omitempty"`
	Expires  string `json:"expires,omitempty"`
	HTTPOnly bool   `json:"httpOnly,omitempty"`
	Secure   bool   `json:"secure,omitempty"`
}

type harHeader struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	// Encoding is "base64" when name and value are base64-encoded (one is not UTF-8).
	Encoding string `json:"_encoding,omitempty"`
}

type harNameValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type harPostData struct {
	MimeType string         `json:"mimeType"`
	Params   []harNameValue `json:"params,omitempty"`
	Text     *string        `json:"text,omitempty"`
	// Encoding is "base64" when Text holds the body base64-encoded (it is not UTF-8). HAR 1.2
	// defines "encoding" for response content only; "encoding" is read here too.
	Encoding    string `json:"_encoding,omitempty"`
	StdEncoding string `json:"encoding,omitempty"`
	Comment     string `json:"comment,omitempty"`
}

type harContent struct {
	Size     int64   `json:"size"`
	MimeType string  `json:"mimeType"`
	Text     *string `json:"text,omitempty"`
	Encoding string  `json:"encoding,omitempty"`
	Comment  string  `json:"comment,omitempty"`
}

type harTimings struct {
	Send    float64 `json:"send"`
	Wait    float64 `json:"wait"`
	Receive float64 `json:"receive"`
}

// WriteHAR writes items as a HAR 1.2 log: one entry per request, whose response is the last
// attempt's (status 0 and a comment when there was none), with every attempt in _attempts.
func WriteHAR(w io.Writer, items []Item, opt Options) error {
	redact := opt.redactor()
	bw := bufio.NewWriter(w)
	head, err := marshal(harCreator{Name: "hookctl", Version: build.Current().Version})
	if err != nil {
		return err
	}
	fmt.Fprintf(bw, "{\n  \"log\": {\n    \"version\": \"1.2\",\n    \"creator\": %s,\n    \"entries\": [", head)
	for i, it := range items {
		if it.Request == nil {
			return fmt.Errorf("item %d: no request", i+1)
		}
		e := harEntryOf(it, opt, redact)
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("      ", "  ")
		if err := enc.Encode(e); err != nil {
			return fmt.Errorf("request %d: %w", it.Request.ID, err)
		}
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n      ")
		bw.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	}
	if len(items) > 0 {
		bw.WriteString("\n    ")
	}
	bw.WriteString("]\n  }\n}\n")
	return bw.Flush()
}

// harEntryOf builds the entry for one item.
func harEntryOf(it Item, opt Options, redact func(webhook.Headers) webhook.Headers) harEntry {
	r := it.Request
	hdr := redact(r.Header)
	e := harEntry{
		StartedDateTime: r.ReceivedAt.UTC().Format(harTimeLayout),
		Request: harRequest{
			Method: r.Method, URL: opt.url(r.URI), HTTPVersion: r.Proto,
			Cookies: requestCookies(hdr), Headers: harHeaders(hdr), QueryString: queryString(r.URI),
			HeadersSize: -1, BodySize: r.BodySize, URI: r.URI, Host: r.Host, NoBody: r.Body == nil,
		},
		ID: r.ID, Ingress: r.Ingress, Provider: r.Provider, EventType: r.EventType, DeliveryID: r.DeliveryID,
		Signature: r.Signature, SignatureReason: r.SignatureReason, RemoteAddr: r.RemoteAddr,
		Rejected: r.Rejected, ReceivedAt: timeText(r.ReceivedAt),
	}
	if !utf8.ValidString(r.URI) {
		e.Request.URI, e.Request.URIEncoding = b64(r.URI), "base64"
	}
	if r.Body != nil {
		pd := &harPostData{MimeType: r.Header.Get("Content-Type")}
		text, b64 := encodeBody(r.Body)
		if b64 != nil {
			pd.Text, pd.Encoding = b64, "base64"
			pd.Comment = "the body is not UTF-8: text holds it base64-encoded"
		} else {
			pd.Text = text
		}
		e.Request.PostData = pd
	}
	attempts := make([]attemptJSON, 0, len(it.Attempts))
	for k := range it.Attempts {
		attempts = append(attempts, attemptOf(&it.Attempts[k], redact))
	}
	e.Attempts = &attempts
	e.Response = harResponse{
		Cookies: []harCookie{}, Headers: []harHeader{}, HeadersSize: -1,
		Content: harContent{Size: 0, MimeType: ""},
	}
	if len(it.Attempts) == 0 {
		e.Response.Comment = "not delivered: no attempt was made"
		if r.Rejected != "" {
			e.Response.Comment = "rejected by hookctl: " + r.Rejected
		}
		return e
	}
	a := &it.Attempts[len(it.Attempts)-1]
	ms := msOf(a.Duration)
	e.Time, e.Timings.Wait = ms, ms
	rh := redact(a.Header)
	resp := &e.Response
	resp.Status = a.Status
	resp.Headers = harHeaders(rh)
	resp.Cookies = responseCookies(rh)
	resp.BodySize = a.BodySize
	resp.Error = a.Error
	resp.Comment = fmt.Sprintf("%s attempt %d of %d to %s", a.Kind, len(it.Attempts), len(it.Attempts), a.Target)
	if a.Status == 0 {
		resp.Comment += ": no response"
		if a.Error != "" {
			resp.Comment += ": " + a.Error
		}
		resp.BodySize = -1
		return e
	}
	resp.StatusText = http.StatusText(a.Status)
	resp.HTTPVersion = "HTTP/1.1"
	if a.Status >= 300 && a.Status < 400 {
		resp.RedirectURL = a.Header.Get("Location")
	}
	resp.Content = harContent{Size: a.BodySize, MimeType: a.Header.Get("Content-Type")}
	if a.Body != nil {
		text, b64 := encodeBody(a.Body)
		if b64 != nil {
			resp.Content.Text, resp.Content.Encoding = b64, "base64"
		} else {
			resp.Content.Text = text
		}
		if int64(len(a.Body)) < a.BodySize {
			resp.Content.Comment = fmt.Sprintf("truncated: the first %d of %d bytes were recorded", len(a.Body), a.BodySize)
		}
	}
	return e
}

// harHeaders converts h, base64-encoding the fields that are not UTF-8.
func harHeaders(h webhook.Headers) []harHeader {
	out := make([]harHeader, 0, len(h))
	for _, f := range h {
		if utf8.ValidString(f.Name) && utf8.ValidString(f.Value) {
			out = append(out, harHeader{Name: f.Name, Value: f.Value})
		} else {
			out = append(out, harHeader{Name: b64(f.Name), Value: b64(f.Value), Encoding: "base64"})
		}
	}
	return out
}

// requestCookies lists the cookies of h's Cookie headers (already redacted: a redacted
// header gives no cookies).
func requestCookies(h webhook.Headers) []harCookie {
	out := []harCookie{}
	for _, v := range h.Values("Cookie") {
		if v == Redacted {
			continue
		}
		cs, err := http.ParseCookie(v)
		if err != nil {
			continue
		}
		for _, c := range cs {
			out = append(out, harCookie{Name: c.Name, Value: c.Value})
		}
	}
	return out
}

// responseCookies lists the cookies of h's Set-Cookie headers.
func responseCookies(h webhook.Headers) []harCookie {
	out := []harCookie{}
	for _, v := range h.Values("Set-Cookie") {
		if v == Redacted {
			continue
		}
		c, err := http.ParseSetCookie(v)
		if err != nil {
			continue
		}
		hc := harCookie{Name: c.Name, Value: c.Value, Path: c.Path, Domain: c.Domain, HTTPOnly: c.HttpOnly, Secure: c.Secure}
		if !c.Expires.IsZero() {
			hc.Expires = c.Expires.UTC().Format(harTimeLayout)
		}
		out = append(out, hc)
	}
	return out
}

// queryString splits the query of uri into decoded name/value pairs, in order.
func queryString(uri string) []harNameValue {
	out := []harNameValue{}
	_, q, ok := strings.Cut(uri, "?")
	if !ok {
		return out
	}
	q, _, _ = strings.Cut(q, "#")
	for part := range strings.SplitSeq(q, "&") {
		if part == "" {
			continue
		}
		name, value, _ := strings.Cut(part, "=")
		out = append(out, harNameValue{Name: unescape(name), Value: unescape(value)})
	}
	return out
}

// unescape decodes a query component, or returns it as it is when it is not valid escaping.
func unescape(s string) string {
	if u, err := url.QueryUnescape(s); err == nil && utf8.ValidString(u) {
		return u
	}
	return s
}

// importHAR reads a HAR log. Entries that hookctl wrote come back as they were recorded; for
// entries other tools wrote, the response (when it has a status) becomes a forward attempt.
func importHAR(data []byte) ([]Item, error) {
	var f struct {
		Log *struct {
			Version string            `json:"version"`
			Entries []json.RawMessage `json:"entries"`
		} `json:"log"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("HAR: %w", jsonErr(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("HAR: unexpected data after the log object")
	}
	if f.Log == nil {
		return nil, fmt.Errorf("HAR: no \"log\" object")
	}
	if f.Log.Entries == nil {
		return nil, fmt.Errorf("HAR: log has no \"entries\" array")
	}
	items := make([]Item, 0, len(f.Log.Entries))
	for i, raw := range f.Log.Entries {
		it, err := harItem(raw)
		if err != nil {
			return nil, fmt.Errorf("HAR entry %d: %w", i+1, err)
		}
		items = append(items, it)
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("HAR: no entries")
	}
	return items, nil
}

// harItem converts one entry.
func harItem(raw json.RawMessage) (Item, error) {
	var e harEntry
	if err := json.Unmarshal(raw, &e); err != nil {
		return Item{}, jsonErr(err)
	}
	q := &e.Request
	if q.Method == "" {
		return Item{}, fmt.Errorf("request.method is missing")
	}
	r := &webhook.Request{
		Method: q.Method, Proto: q.HTTPVersion, Ingress: webhook.IngressImport, Provider: e.Provider,
		EventType: e.EventType, DeliveryID: e.DeliveryID, Signature: e.Signature,
		SignatureReason: e.SignatureReason, RemoteAddr: e.RemoteAddr, Rejected: e.Rejected,
	}
	at := e.ReceivedAt
	if at == "" {
		at = e.StartedDateTime
		if at == "" {
			return Item{}, fmt.Errorf("startedDateTime is missing")
		}
	}
	var err error
	if r.ReceivedAt, err = parseTime(at); err != nil {
		return Item{}, fmt.Errorf("startedDateTime: %v", err)
	}
	for k, h := range q.Headers {
		f := webhook.Field{Name: h.Name, Value: h.Value}
		if h.Encoding == "base64" {
			name, err1 := base64.StdEncoding.DecodeString(h.Name)
			value, err2 := base64.StdEncoding.DecodeString(h.Value)
			if err1 != nil || err2 != nil {
				return Item{}, fmt.Errorf("request.headers[%d]: invalid base64", k)
			}
			f = webhook.Field{Name: string(name), Value: string(value)}
		}
		if f.Name == "" {
			return Item{}, fmt.Errorf("request.headers[%d]: empty name", k)
		}
		r.Header = append(r.Header, f)
	}
	switch {
	case q.URIEncoding == "base64":
		uri, err := base64.StdEncoding.DecodeString(q.URI)
		if err != nil {
			return Item{}, fmt.Errorf("request._uri: invalid base64")
		}
		r.URI = string(uri)
	case q.URI != "":
		r.URI = q.URI
	default:
		if q.URL == "" {
			return Item{}, fmt.Errorf("request.url is missing")
		}
		u, err := url.Parse(q.URL)
		if err != nil || u.Host == "" {
			return Item{}, fmt.Errorf("request.url %q is not an absolute URL", q.URL)
		}
		r.URI = requestURI(q.URL)
	}
	switch {
	case q.Host != "":
		r.Host = q.Host
	case r.Header.Get("Host") != "":
		r.Host = r.Header.Get("Host")
	default:
		if u, err := url.Parse(q.URL); err == nil {
			r.Host = u.Host
		}
	}
	if r.Body, err = harBody(q.PostData); err != nil {
		return Item{}, err
	}
	switch {
	case r.Body != nil:
		r.BodySize = int64(len(r.Body))
	case q.NoBody:
		r.BodySize = max(q.BodySize, 0)
	default:
		r.Body = []byte{}
	}
	it := Item{Request: r}
	if e.Attempts != nil {
		for k := range *e.Attempts {
			a, err := (*e.Attempts)[k].attempt()
			if err != nil {
				return Item{}, fmt.Errorf("_attempts[%d]: %w", k, err)
			}
			it.Attempts = append(it.Attempts, a)
		}
		return it, nil
	}
	if e.Response.Status > 0 {
		a, err := harResponseAttempt(&e, q.URL, r.ReceivedAt)
		if err != nil {
			return Item{}, err
		}
		it.Attempts = append(it.Attempts, a)
	}
	return it, nil
}

// requestURI returns the part of an absolute URL after its authority: path, query and
// fragment as written, "/" when there is no path.
func requestURI(raw string) string {
	_, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return raw
	}
	i := strings.IndexAny(rest, "/?#")
	if i < 0 {
		return "/"
	}
	rest = rest[i:]
	if rest[0] != '/' {
		rest = "/" + rest
	}
	if j := strings.IndexByte(rest, '#'); j >= 0 {
		rest = rest[:j] // a fragment is never sent
	}
	return rest
}

// harBody returns the request body of postData: nil when there is none.
func harBody(pd *harPostData) ([]byte, error) {
	if pd == nil {
		return nil, nil
	}
	enc := pd.Encoding
	if enc == "" {
		enc = pd.StdEncoding
	}
	switch {
	case pd.Text != nil && enc == "base64":
		b, err := base64.StdEncoding.DecodeString(*pd.Text)
		if err != nil {
			return nil, fmt.Errorf("request.postData.text: invalid base64: %v", err)
		}
		return b, nil
	case enc != "":
		return nil, fmt.Errorf("request.postData: unknown encoding %q", enc)
	case pd.Text != nil:
		return []byte(*pd.Text), nil
	case len(pd.Params) > 0:
		// Other tools may give form fields instead of text: encode them back.
		var b strings.Builder
		for i, p := range pd.Params {
			if i > 0 {
				b.WriteByte('&')
			}
			b.WriteString(url.QueryEscape(p.Name) + "=" + url.QueryEscape(p.Value))
		}
		return []byte(b.String()), nil
	}
	return []byte{}, nil
}

// harResponseAttempt turns the response of an entry another tool wrote into a forward attempt.
func harResponseAttempt(e *harEntry, target string, at time.Time) (webhook.Attempt, error) {
	resp := &e.Response
	a := webhook.Attempt{
		Kind: webhook.KindForward, Target: target, StartedAt: at, Status: resp.Status, Error: resp.Error,
		Duration: time.Duration(math.Round(max(e.Time, 0) * float64(time.Millisecond))),
	}
	if resp.Status > 999 {
		return a, fmt.Errorf("response.status %d is not an HTTP status", resp.Status)
	}
	for k, h := range resp.Headers {
		f := webhook.Field{Name: h.Name, Value: h.Value}
		if h.Encoding == "base64" {
			name, err1 := base64.StdEncoding.DecodeString(h.Name)
			value, err2 := base64.StdEncoding.DecodeString(h.Value)
			if err1 != nil || err2 != nil {
				return a, fmt.Errorf("response.headers[%d]: invalid base64", k)
			}
			f = webhook.Field{Name: string(name), Value: string(value)}
		}
		a.Header = append(a.Header, f)
	}
	c := &resp.Content
	switch {
	case c.Text != nil && c.Encoding == "base64":
		b, err := base64.StdEncoding.DecodeString(*c.Text)
		if err != nil {
			return a, fmt.Errorf("response.content.text: invalid base64: %v", err)
		}
		a.Body = b
	case c.Encoding != "":
		return a, fmt.Errorf("response.content: unknown encoding %q", c.Encoding)
	case c.Text != nil:
		a.Body = []byte(*c.Text)
	}
	a.BodySize = max(int64(len(a.Body)), c.Size, resp.BodySize)
	return a, nil
}
