package store

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hookctl/hookctl/internal/webhook"
)

// uriPathSQL is the path part of a request's URI, the bytes before the first "?". It is cut
// on bytes (BLOB) rather than characters, so that a URI that is not valid UTF-8 is cut at the
// right place too, and then made TEXT again: this SQLite's GLOB never matches a BLOB
// (SQLITE_LIKE_DOESNT_MATCH_BLOBS).
const uriPathSQL = `CAST(substr(CAST(r.uri AS BLOB), 1, instr(CAST(r.uri || '?' AS BLOB), X'3F') - 1) AS TEXT)`

// filtered reports whether f asks for more than the keyset bounds and Limit, that is, whether
// List needs more than its prepared newest-first query.
func (f Filter) filtered() bool {
	return f.Oldest || f.Method != "" || f.Path != "" || f.Status != "" || f.EventType != "" || f.Text != "" ||
		f.Provider != "" || f.Signature != "" || !f.Since.IsZero() || !f.Until.IsZero() || f.Search != "" ||
		f.Delivery != "" || f.Duplicates
}

// listStatement returns the SQL of the List query for f, and the arguments of its filter
// terms, which are numbered from ?(n+1) on: ?1 to ?n are the keyset bounds and limit. The SQL
// depends only on which fields of f are set (and on the kind of status filter); every value
// the user typed is a parameter.
//
// The query still walks requests along the primary key from the keyset bound and stops after
// LIMIT matching rows, so its cost is the number of rows it has to look at. The terms on the
// request row (method, event, path, rejected, provider, signature, time) are cheap; the status
// terms are checked on the latest attempt, which the join reaches through
// attempts(request_id, id), and only for rows that passed the others; the text term, the only
// one that reads bodies, comes last. The time range is checked on the row, not through the
// received_at index ("+"), so that the walk stays on the primary key, in id order, without
// sorting. With a search, the query walks the ids the full-text index matches instead (in the
// same order and between the same bounds), and checks the other terms on those rows only.
func listStatement(f Filter, n int) (string, []any, error) {
	st, err := parseStatus(f.Status)
	if err != nil {
		return "", nil, err
	}
	sig, err := parseSignature(f.Signature)
	if err != nil {
		return "", nil, err
	}
	delivery, err := deliveryTerm(f.Delivery)
	if err != nil {
		return "", nil, err
	}
	var (
		b    strings.Builder
		args []any
	)
	// param adds v to the arguments and returns its placeholder.
	param := func(v any) string {
		args = append(args, v)
		return "?" + strconv.Itoa(n+len(args))
	}
	key := "r.id"
	if match := ftsQuery(f.Search); match != "" {
		b.WriteString(searchSelect)
		b.WriteString("\n\tAND requests_fts MATCH " + param(match))
		key = "f.rowid"
	} else {
		b.WriteString(listSelect)
	}
	if f.Method != "" {
		b.WriteString("\n\tAND r.method = " + param(f.Method) + " COLLATE NOCASE")
	}
	if f.EventType != "" {
		b.WriteString("\n\tAND r.event_type GLOB " + param(globPattern(f.EventType)))
	}
	if f.Path != "" {
		p := f.Path
		if !strings.HasPrefix(p, "/") {
			p = "*" + p + "*"
		}
		b.WriteString("\n\tAND " + uriPathSQL + " GLOB " + param(globPattern(p)))
	}
	if f.Provider != "" {
		b.WriteString("\n\tAND r.provider = " + param(f.Provider) + " COLLATE NOCASE")
	}
	if sig != "" {
		b.WriteString("\n\tAND r.signature = " + param(sig))
	}
	if delivery != "" {
		b.WriteString("\n\tAND " + delivery)
	}
	if f.Duplicates {
		b.WriteString("\n\tAND EXISTS (SELECT 1 FROM duplicates d WHERE d.request_id = r.id)")
	}
	if !f.Since.IsZero() {
		b.WriteString("\n\tAND +r.received_at >= " + param(timeBound(f.Since)))
	}
	if !f.Until.IsZero() {
		b.WriteString("\n\tAND +r.received_at < " + param(timeBound(f.Until)))
	}
	// The status is a term on the request row (rejected), on its latest attempt (reached
	// through the join), or both.
	var attempt string
	switch st.kind {
	case statusRejected:
		b.WriteString("\n\tAND r.rejected <> ''")
	case statusNone:
		b.WriteString("\n\tAND r.rejected = ''")
		attempt = "a.id IS NULL"
	case statusRange:
		attempt = "a.status BETWEEN " + param(st.lo) + " AND " + param(st.hi)
	}
	var text string
	if f.Text != "" {
		// lower() is ASCII-only, like asciiLower; on a BLOB it works on the raw bytes, NULs
		// included, and returns TEXT. Cast back to BLOB, both sides are compared as bytes:
		// instr on TEXT would step over UTF-8 continuation bytes, and LIKE would stop at a NUL
		// (and never matches a BLOB). A NULL body gives NULL, which does not match.
		p := param(asciiLower(f.Text))
		text = "(instr(CAST(lower(r.uri) AS BLOB), " + p + ") > 0" +
			" OR instr(CAST(lower(r.body) AS BLOB), " + p + ") > 0)"
	}
	switch {
	case attempt != "" && text != "":
		// One term on the attempt: SQLite checks a term as soon as its tables are at hand, so
		// a separate text term would read the body of every row before the join is looked at.
		b.WriteString("\n\tAND CASE WHEN " + attempt + " THEN " + text + " END")
	case attempt != "":
		b.WriteString("\n\tAND " + attempt)
	case text != "":
		b.WriteString("\n\tAND " + text)
	}
	if f.Oldest {
		b.WriteString("\nORDER BY " + key + " ASC")
	} else {
		b.WriteString("\nORDER BY " + key + " DESC")
	}
	b.WriteString("\nLIMIT ?3")
	return b.String(), args, nil
}

// globPattern turns a pattern with the wildcards * and ? into an SQLite GLOB pattern, in
// which every other character stands for itself: "[" would start a character class, so it
// becomes the class "[[]".
func globPattern(p string) string {
	return strings.ReplaceAll(p, "[", "[[]")
}

// asciiLower returns s with ASCII letters in lower case and every other byte unchanged, as a
// BLOB argument: the same mapping as SQLite's lower() without ICU.
func asciiLower(s string) []byte {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return b
}

// statusKind says how a Filter.Status selects requests.
type statusKind uint8

const (
	statusAll      statusKind = iota // no status filter
	statusRange                      // the latest attempt's status is within [lo, hi]
	statusNone                       // no attempt, not rejected
	statusRejected                   // rejected by the ingress
)

// statusFilter is a parsed Filter.Status.
type statusFilter struct {
	kind   statusKind
	lo, hi int
}

// parseStatus parses a Filter.Status value; keywords and classes are case-insensitive.
func parseStatus(v string) (statusFilter, error) {
	switch s := strings.ToLower(v); s {
	case "":
		return statusFilter{}, nil
	case "failed":
		return statusFilter{kind: statusRange}, nil // an attempt without a response has status 0
	case "none":
		return statusFilter{kind: statusNone}, nil
	case "rejected":
		return statusFilter{kind: statusRejected}, nil
	case "2xx", "3xx", "4xx", "5xx":
		lo := int(s[0]-'0') * 100
		return statusFilter{kind: statusRange, lo: lo, hi: lo + 99}, nil
	}
	if len(v) == 3 && strings.Trim(v, "0123456789") == "" {
		if code, _ := strconv.Atoi(v); code >= 100 && code <= 599 {
			return statusFilter{kind: statusRange, lo: code, hi: code}, nil
		}
	}
	return statusFilter{}, fmt.Errorf("%w: status %q: use 2xx, 3xx, 4xx, 5xx, a code such as 404, failed, none or rejected",
		ErrBadFilter, v)
}

// deliveryTerm returns the SQL term on the joined delivery (dl) for a Filter.Delivery value.
func deliveryTerm(v string) (string, error) {
	switch strings.ToLower(v) {
	case "":
		return "", nil
	case "queued":
		return "dl.state IS NOT NULL", nil
	case webhook.DeliveryPending:
		return "dl.state = 'pending' AND dl.attempts = 0", nil
	case webhook.DeliveryRetrying:
		return "dl.state = 'pending' AND dl.attempts > 0", nil
	case webhook.DeliveryDelivered:
		return "dl.state = 'delivered'", nil
	case webhook.DeliveryGivenUp, "given-up", "failed":
		return "dl.state = 'given_up'", nil
	}
	return "", fmt.Errorf("%w: delivery %q: use pending, retrying, delivered, given_up or queued", ErrBadFilter, v)
}

// parseSignature checks a Filter.Signature value and returns it in lower case.
func parseSignature(v string) (string, error) {
	switch s := strings.ToLower(v); s {
	case "", webhook.SignatureValid, webhook.SignatureInvalid, webhook.SignatureStale,
		webhook.SignatureUnsigned, webhook.SignatureUnchecked:
		return s, nil
	}
	return "", fmt.Errorf("%w: signature %q: use valid, invalid, stale, unsigned or unchecked", ErrBadFilter, v)
}

// timeBound returns t as unix nanoseconds, clamped to the range an int64 holds, for comparing
// with received_at: a bound before 1678 or after 2262 is below or above every stored time.
func timeBound(t time.Time) int64 {
	switch {
	case t.Before(minStoredTime):
		return math.MinInt64
	case t.After(maxStoredTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// The range of times that unix nanoseconds in an int64 can hold.
var (
	minStoredTime = time.Unix(0, math.MinInt64)
	maxStoredTime = time.Unix(0, math.MaxInt64)
)

// ftsQuery turns a Filter.Search value into an FTS5 query that cannot be a syntax error: each
// term becomes a quoted FTS5 string (its double quotes doubled, control characters such as NUL,
// which would end the query early, made spaces, bytes that are not UTF-8 made U+FFFD, which
// the tokenizer reads them as anyway), a term that ended in * outside quotes becomes
// a prefix query, and the terms are joined with AND. Terms with no letter or digit, which
// the tokenizer would turn into an empty phrase that matches nothing, are left out. The
// result is "" when no term is left.
func ftsQuery(search string) string {
	var b strings.Builder
	for _, t := range searchTerms(search) {
		text := strings.Map(func(r rune) rune {
			if r < 0x20 || r == 0x7f {
				return ' '
			}
			return r
		}, t.text)
		if !strings.ContainsFunc(text, isTokenRune) {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(" AND ")
		}
		b.WriteByte('"')
		b.WriteString(strings.ReplaceAll(text, `"`, `""`))
		b.WriteByte('"')
		if t.prefix {
			b.WriteString(" *")
		}
	}
	return b.String()
}

// isTokenRune reports whether the FTS5 tokenizer (unicode61) keeps r in a word: letters,
// digits and private-use characters; everything else separates words.
func isTokenRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Co, r)
}

// searchTerm is one term of a Filter.Search value.
type searchTerm struct {
	text   string // without quotes and without the trailing stars of a prefix
	prefix bool   // the term ended in * outside quotes
}

// searchTerms splits a Filter.Search value into terms, as queryTerms splits a query: white
// space outside double quotes separates terms, and quotes are removed. A quote left open runs
// to the end. Stars at the end of a term, outside quotes, make it a prefix.
func searchTerms(s string) []searchTerm {
	var (
		terms []searchTerm
		b     strings.Builder
		in    bool // inside a term
		open  bool // inside quotes
		stars int  // unquoted stars at the end of b
	)
	end := func() {
		if in {
			t := b.String()
			terms = append(terms, searchTerm{text: t[:len(t)-stars], prefix: stars > 0})
		}
		b.Reset()
		in, stars = false, 0
	}
	for i, n := 0, 0; i < len(s); i += n {
		var c rune
		c, n = utf8.DecodeRuneInString(s[i:])
		if !open && unicode.IsSpace(c) {
			end()
			continue
		}
		in = true
		switch {
		case c == '"':
			open = !open
		case c == '*' && !open:
			b.WriteByte('*')
			stars++
		default:
			b.WriteString(s[i : i+n]) // the bytes as typed, even if not UTF-8
			stars = 0
		}
	}
	end()
	return terms
}
