package store

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ParseQuery parses what a user types in a filter box into a Filter (Limit, BeforeID, AfterID
// and Oldest are left zero). The query is a list of terms separated by white space:
//
//	method:POST           Method (any case)
//	path:/stripe*         Path, a glob (* and ?) on the path without the query; without a
//	                      leading "/" it matches anywhere in the path
//	status:5xx            Status: 2xx, 3xx, 4xx, 5xx, a code such as 404, failed, none, rejected
//	event:invoice.*       EventType, a glob on the whole event type; type: is the same key
//	GET POST PUT PATCH DELETE HEAD OPTIONS
//	                      a bare method, in upper case, is a Method
//	2xx 3xx 4xx 5xx       a bare status class is a Status
//	"card declined"       a quoted phrase is Text, kept exactly as typed
//	anything else         a bare word is Text
//
// Text is the quoted phrases and the other bare words in the order typed, joined by single
// spaces; a phrase keeps its own spacing:
//
//	declined "card  x" 42    Text "declined card  x 42"
//
// Quotes may also surround a value (path:"/a b") or a part of a word; a quoted term is never a
// key or a bare method or status. A quote left open runs to the end of the query, so that a
// query being typed still parses.
// Keys are case-insensitive; a key with an empty value (status:) is ignored. A key given twice
// with different values is an error, as are an unknown key (quote text with a colon, such as
// "https://example.com") and an invalid status; all these errors wrap ErrBadFilter.
func ParseQuery(q string) (Filter, error) {
	var (
		f    Filter
		text []string
	)
	for _, t := range queryTerms(q) {
		if t.key == "" {
			switch {
			case t.quoted:
				if t.value != "" {
					text = append(text, t.value)
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
				text = append(text, t.value)
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
		default:
			err = fmt.Errorf("%w: unknown key %q in %q; the keys are method:, path:, status:, event: and type: (put text with a colon in quotes)",
				ErrBadFilter, t.key+":", t.raw)
		}
		if err != nil {
			return Filter{}, err
		}
	}
	f.Text = strings.Join(text, " ")
	return f, nil
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
