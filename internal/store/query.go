package store

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ParseQuery parses what a user types in a filter box into a Filter, as ParseQueryAt does with
// the current time.
func ParseQuery(q string) (Filter, error) {
	return ParseQueryAt(q, time.Now())
}

// ParseQueryAt parses what a user types in a filter box into a Filter (Limit, BeforeID,
// AfterID and Oldest are left zero); now is the time that since: and until: durations count
// back from. The query is a list of terms separated by white space:
//
//	method:POST           Method (any case)
//	path:/stripe*         Path, a glob (* and ?) on the path without the query; without a
//	                      leading "/" it matches anywhere in the path
//	status:5xx            Status: 2xx, 3xx, 4xx, 5xx, a code such as 404, failed, none, rejected
//	event:invoice.*       EventType, a glob on the whole event type; type: is the same key
//	provider:stripe       Provider (any case)
//	sig:invalid           Signature: valid, invalid, stale, unsigned or unchecked;
//	                      signature: is the same key
//	since:2h              Since: an RFC 3339 time (2026-03-04T05:06:07Z), a date
//	                      (2026-03-04, midnight in now's time zone), or a duration before now
//	                      (90s, 15m, 2h, 1h30m, 7d)
//	until:2026-03-04      Until, the same forms; requests received before it
//	text:"card  x"        Text: a substring of the body or URI, exactly as typed (slow on a
//	                      big log: it reads every body)
//	GET POST PUT PATCH DELETE HEAD OPTIONS
//	                      a bare method, in upper case, is a Method
//	2xx 3xx 4xx 5xx       a bare status class is a Status
//	"card declined"       a quoted phrase is a Search phrase: these words, next to each other
//	decl*                 a bare word ending in * is a Search prefix
//	anything else         a bare word is a Search word
//
// Search is the bare words and quoted phrases in the order typed, as typed (quotes included),
// joined by single spaces: every word and phrase must appear in the URI, headers or body (see
// Filter.Search):
//
//	declined "card  x" 42    Search `declined "card  x" 42`
//
// Quotes may also surround a value (path:"/a b") or a part of a word; a quoted term is never a
// key or a bare method or status. A quote left open runs to the end of the query, so that a
// query being typed still parses.
// Keys are case-insensitive; a key with an empty value (status:) is ignored. A key given twice
// with different values is an error, as are an unknown key (quote text with a colon, such as
// "https://example.com"), an invalid status, signature or time, and a since: that is not
// before until:; all these errors wrap ErrBadFilter.
func ParseQueryAt(q string, now time.Time) (Filter, error) {
	var (
		f      Filter
		search []string
	)
	for _, t := range queryTerms(q) {
		if t.key == "" {
			switch {
			case t.quoted:
				if t.value != "" {
					search = append(search, t.raw)
				}
			case isQueryMethod(t.value):
				if err := setQueryField(&f.Method, "method", t.value, strings.EqualFold); err != nil {
					return Filter{}, err
				}
			case t.value == "2xx" || t.value == "3xx" || t.value == "4xx" || t.value == "5xx":
				if err := setQueryField(&f.Status, "status", t.value, strings.EqualFold); err != nil {
					return Filter{}, err
				}
			default:
				search = append(search, t.raw)
			}
			continue
		}
		var err error
		switch t.key {
		case "method":
			err = setQueryField(&f.Method, t.key, t.value, strings.EqualFold)
		case "path":
			err = setQueryField(&f.Path, t.key, t.value, equal)
		case "status":
			if _, err = parseStatus(t.value); err == nil {
				err = setQueryField(&f.Status, t.key, t.value, strings.EqualFold)
			}
		case "event", "type":
			err = setQueryField(&f.EventType, "event", t.value, equal)
		case "provider":
			err = setQueryField(&f.Provider, t.key, t.value, strings.EqualFold)
		case "sig", "signature":
			if _, err = parseSignature(t.value); err == nil {
				err = setQueryField(&f.Signature, "signature", t.value, strings.EqualFold)
			}
		case "since":
			err = setQueryTime(&f.Since, t.key, t.value, now)
		case "until":
			err = setQueryTime(&f.Until, t.key, t.value, now)
		case "text":
			err = setQueryField(&f.Text, t.key, t.value, equal)
		case "delivery":
			if _, err = deliveryTerm(t.value); err == nil {
				err = setQueryField(&f.Delivery, t.key, t.value, strings.EqualFold)
			}
		case "is":
			if !strings.EqualFold(t.value, "duplicate") {
				err = fmt.Errorf("%w: %q: the only is: term is is:duplicate", ErrBadFilter, t.raw)
			}
			f.Duplicates = true
		default:
			err = fmt.Errorf("%w: unknown key %q in %q; the keys are %s (put text with a colon in quotes)",
				ErrBadFilter, t.key+":", t.raw, queryKeys)
		}
		if err != nil {
			return Filter{}, err
		}
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return Filter{}, fmt.Errorf("%w: since: %s is not before until: %s, so nothing matches",
			ErrBadFilter, f.Since.Format(time.RFC3339), f.Until.Format(time.RFC3339))
	}
	f.Search = strings.Join(search, " ")
	return f, nil
}

// queryKeys lists the keys of a query, for messages.
const queryKeys = "method:, path:, status:, event:, type:, provider:, sig:, signature:, since:, until:, text:, delivery: and is:duplicate"

// setQueryTime sets *field to the time value stands for (see parseWhen), unless value is
// empty. A field already set to another time is an error naming the key.
func setQueryTime(field *time.Time, key, value string, now time.Time) error {
	if value == "" {
		return nil
	}
	t, err := parseWhen(value, now)
	if err != nil {
		return fmt.Errorf("%w: %s%s", ErrBadFilter, key+":", err)
	}
	if !field.IsZero() && !field.Equal(t) {
		return fmt.Errorf("%w: %s given twice (%s and %s); a filter keeps one", ErrBadFilter, key,
			field.Format(time.RFC3339Nano), t.Format(time.RFC3339Nano))
	}
	*field = t
	return nil
}

// parseWhen reads a time for since: or until:: an RFC 3339 time, a date (midnight in now's
// time zone), or a non-negative duration before now, in Go's syntax (90s, 2h, 1h30m) or in
// whole days (7d). The result carries no monotonic clock reading.
func parseWhen(v string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, v, now.Location()); err == nil {
		return t, nil
	}
	d, err := time.ParseDuration(v)
	if days, ok := strings.CutSuffix(v, "d"); ok && err != nil {
		if n, aerr := strconv.Atoi(days); aerr == nil && days[0] != '+' && n >= 0 && n <= 106_751 {
			d, err = time.Duration(n)*24*time.Hour, nil
		}
	}
	if err != nil || d < 0 {
		return time.Time{}, fmt.Errorf("%q is not a time: use an RFC 3339 time (2026-03-04T05:06:07Z), a date (2026-03-04) or a duration before now (15m, 2h, 7d)", v)
	}
	return now.Add(-d).Round(0), nil
}

// isQueryMethod reports whether a bare word is a method: only in upper case, so that "get" or
// "delete" typed as text stay text.
func isQueryMethod(s string) bool {
	switch s {
	case "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS":
		return true
	}
	return false
}

// equal reports whether a and b are the same string.
func equal(a, b string) bool { return a == b }

// setQueryField sets *field to value, unless value is empty. A field already set to another
// value (as compared by same) is an error naming the key.
func setQueryField(field *string, key, value string, same func(a, b string) bool) error {
	switch {
	case value == "":
	case *field == "":
		*field = value
	case !same(*field, value):
		return fmt.Errorf("%w: %s given twice (%q and %q); a filter keeps one", ErrBadFilter, key, *field, value)
	}
	return nil
}

// queryTerm is one white-space-separated term of a query.
type queryTerm struct {
	raw    string // as typed, for messages
	key    string // the key before the first colon, in lower case; "" for a bare term
	value  string // the rest, without quotes
	quoted bool   // whether the term held a quote
}

// queryTerms splits q into terms. Quotes group white space into a term and are removed; a key
// is a run of ASCII letters before the term's first colon, with no quote before it.
func queryTerms(q string) []queryTerm {
	var (
		terms []queryTerm
		t     queryTerm
		b     strings.Builder
		start = -1 // byte offset of the current term, or -1 between terms
		open  bool // inside quotes
	)
	end := func(i int) {
		if start >= 0 {
			t.raw, t.value = q[start:i], b.String()
			terms = append(terms, t)
		}
		t, start = queryTerm{}, -1
		b.Reset()
	}
	for i, n := 0, 0; i < len(q); i += n {
		var c rune
		c, n = utf8.DecodeRuneInString(q[i:])
		if !open && unicode.IsSpace(c) {
			end(i)
			continue
		}
		if start < 0 {
			start = i
		}
		switch {
		case c == '"':
			open = !open
			t.quoted = true
		case c == ':' && !t.quoted && t.key == "" && isKey(b.String()):
			t.key = strings.ToLower(b.String())
			b.Reset()
		default:
			b.WriteString(q[i : i+n]) // the bytes as typed, even if not UTF-8
		}
	}
	end(len(q))
	return terms
}

// isKey reports whether s can be a query key: one or more ASCII letters.
func isKey(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') {
			return false
		}
	}
	return true
}
