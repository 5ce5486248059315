// Package export writes recorded requests, with the attempts to deliver them, as HAR 1.2, as
// JSON Lines or as curl commands, and reads HAR and JSON Lines files back for import.
//
// Format choices, which Import relies on to read its own output back byte for byte:
//
//   - Bodies are written as text when they are valid UTF-8 and as base64 otherwise: in JSON
//     Lines as "body" or "body_base64" (the names of `requests show --json`); in HAR as
//     content.text with content.encoding "base64" for responses (HAR 1.2 defines that field),
//     and as postData.text with the custom field postData._encoding "base64" for requests (HAR
//     1.2 has no encoding for postData; custom fields start with "_"). A body that was never
//     read (a request rejected before its body) has no "body" field in JSON Lines and no
//     postData plus request._noBody true in HAR; an empty body is "" in both.
//   - Headers keep their order, case and repeats. A header whose name or value is not valid
//     UTF-8 is written base64-encoded: as a [name, value, "base64"] triple in JSON Lines (the
//     log's own header encoding) and with _encoding "base64" on the HAR header object.
//   - Times: JSON Lines writes RFC 3339 with nanoseconds, and durations in nanoseconds
//     (duration_ns) next to duration_ms. HAR's startedDateTime has milliseconds; the entry's
//     _receivedAt and the attempts in _attempts keep nanoseconds, and import prefers them
//     (a HAR without them imports with millisecond times).
//   - HAR entries carry every attempt in _attempts (the JSON Lines attempt objects); the HAR
//     response is the last attempt's, with status 0 and a comment when there was none. A HAR
//     written by another tool (no _attempts) imports its response, when it has a status, as
//     one forward attempt to the entry's URL.
//   - HAR request URLs are Options.BaseURL followed by the request URI; the URI as received is
//     also kept in request._uri (and the Host in request._host) so that import does not have
//     to take the URL apart.
//   - Ids are written (JSON Lines "id", HAR "_id") for the reader's benefit but are not
//     imported: the log gives imported requests new ids, and the original id is not kept.
//     Imported requests get ingress "import".
//   - Redaction replaces header values (request and response headers alike) by "REDACTED";
//     bodies and URIs are written as recorded. Import keeps "REDACTED" as the value.
//   - Strings other than URIs, headers and bodies (targets, error texts, provider fields) are
//     written as JSON strings; bytes in them that are not UTF-8 become U+FFFD.
package export

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hookctl/hookctl/internal/store"
	"github.com/hookctl/hookctl/internal/webhook"
)

// Redacted is the value written in place of a redacted header's value.
const Redacted = "REDACTED"

// DefaultBaseURL is where curl commands and HAR URLs point when Options.BaseURL is "".
const DefaultBaseURL = "http://127.0.0.1:8765"

// Item is one request with its attempts, as exported.
type Item struct {
	Request  *webhook.Request
	Attempts []webhook.Attempt
}

// Options say how requests are exported.
type Options struct {
	// Redact lists header names (case-insensitive) whose values are replaced by "REDACTED";
	// nil means DefaultRedactions(). It replaces the defaults: to add to them, append to
	// DefaultRedactions(). An empty, non-nil list redacts nothing.
	Redact []string
	// NoRedact exports every header as recorded.
	NoRedact bool
	// BaseURL is where curl commands and HAR request URLs point (DefaultBaseURL when ""): the
	// request URI is appended.
	BaseURL string
}

// DefaultRedactions returns the headers redacted by default, as a new slice.
func DefaultRedactions() []string {
	return []string{"Authorization", "Cookie", "Proxy-Authorization", "Set-Cookie"}
}

// redactor returns the function that redacts headers as opt says; it returns its input
// unchanged when nothing is to be redacted, and a copy otherwise.
func (opt Options) redactor() func(webhook.Headers) webhook.Headers {
	if opt.NoRedact {
		return func(h webhook.Headers) webhook.Headers { return h }
	}
	names := opt.Redact
	if names == nil {
		names = DefaultRedactions()
	}
	if len(names) == 0 {
		return func(h webhook.Headers) webhook.Headers { return h }
	}
	set := make(map[string]bool, len(names))
	for _, n := range names {
		set[strings.ToLower(strings.TrimSpace(n))] = true
	}
	return func(h webhook.Headers) webhook.Headers {
		var out webhook.Headers
		for i, f := range h {
			if !set[strings.ToLower(f.Name)] {
				continue
			}
			if out == nil {
				out = append(make(webhook.Headers, 0, len(h)), h...)
			}
			out[i].Value = Redacted
		}
		if out == nil {
			return h
		}
		return out
	}
}

// url returns the URL a request with the given URI is sent to: the base URL (without a
// trailing slash) followed by the URI, which gets a leading "/" when it has none.
func (opt Options) url(uri string) string {
	base := opt.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	base = strings.TrimRight(base, "/")
	if !strings.HasPrefix(uri, "/") {
		uri = "/" + uri
	}
	return base + uri
}

// Load reads the requests with the given ids from the log, each with its attempts, in the
// order given.
func Load(ctx context.Context, st *store.Store, ids []int64) ([]Item, error) {
	items := make([]Item, 0, len(ids))
	for _, id := range ids {
		r, err := st.Request(ctx, id)
		if err != nil {
			return nil, err
		}
		as, err := st.Attempts(ctx, id)
		if err != nil {
			return nil, err
		}
		items = append(items, Item{Request: r, Attempts: as})
	}
	return items, nil
}

// Save records items, as returned by Import, in the log: each request, then its attempts.
// It sets the ids the log assigns (Request.ID, and each attempt's ID and RequestID). On an
// error, the items before the failing one are recorded.
func Save(ctx context.Context, st *store.Store, items []Item) error {
	for i := range items {
		it := &items[i]
		if it.Request == nil {
			return fmt.Errorf("item %d: no request", i+1)
		}
		if err := st.AddRequest(ctx, it.Request); err != nil {
			return fmt.Errorf("item %d: %w", i+1, err)
		}
		for j := range it.Attempts {
			a := &it.Attempts[j]
			a.RequestID = it.Request.ID
			if err := st.AddAttempt(ctx, a); err != nil {
				return fmt.Errorf("item %d: attempt %d: %w", i+1, j+1, err)
			}
		}
	}
	return nil
}

// timeText formats t in UTC with nanoseconds, or "" for the zero time.
func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// parseTime parses an RFC 3339 time with any number of fractional digits; "" is the zero time.
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("invalid time %q (want RFC 3339)", s)
	}
	return t.UTC(), nil
}

// encodeBody returns b as text when it is valid UTF-8, else as base64; both are nil for a nil b.
func encodeBody(b []byte) (text, b64 *string) {
	if b == nil {
		return nil, nil
	}
	if utf8.Valid(b) {
		s := string(b)
		return &s, nil
	}
	s := base64.StdEncoding.EncodeToString(b)
	return nil, &s
}

// decodeBody is the inverse of encodeBody; it names the fields in its errors.
func decodeBody(text, b64 *string, textName, b64Name string) ([]byte, error) {
	switch {
	case text != nil && b64 != nil:
		return nil, fmt.Errorf("both %s and %s are set", textName, b64Name)
	case b64 != nil:
		b, err := base64.StdEncoding.DecodeString(*b64)
		if err != nil {
			return nil, fmt.Errorf("%s: invalid base64: %v", b64Name, err)
		}
		return b, nil
	case text != nil:
		return []byte(*text), nil
	}
	return nil, nil
}
