package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookctl/hookctl/internal/webhook"
)

// filterRow is a request of the filter tests' log and the statuses of its attempts, in order
// (0: no response).
type filterRow struct {
	method, uri, event, rejected string
	body                         []byte
	statuses                     []int
}

// filterRows is the filter tests' log, oldest first: a mix of methods (one in lower case),
// paths (one with a glob metacharacter, one not UTF-8), outcomes (2xx, 3xx, 4xx, 5xx, failed,
// none, rejected; some after earlier attempts with another outcome), event types and bodies
// (JSON, binary with NUL, not UTF-8, form, empty, NULL).
var filterRows = []filterRow{
	0:  {"POST", "/webhooks/stripe?source=cli", "payment_intent.succeeded", "", []byte(`{"type":"payment_intent.succeeded","amount":1099}`), []int{200}},
	1:  {"POST", "/webhooks/stripe", "payment_intent.payment_failed", "", []byte(`{"error":"Card Declined"}`), []int{500}},
	2:  {"GET", "/health?probe=Stripe", "", "", []byte{}, []int{200, 404}},
	3:  {"POST", "/hooks/github", "push", "", []byte(`{"ref":"refs/heads/main"}`), []int{502, 0}},
	4:  {"PUT", "/api/items/7", "", "", []byte("\x00\x01ITEM\x00needle\xff"), nil},
	5:  {"POST", "/upload", "", "body exceeds 25MiB", nil, nil},
	6:  {"DELETE", "/hooks/slack", "app_uninstalled", "", []byte("caf\xe9 Ol\xe1 CAF\xc9"), []int{301}},
	7:  {"post", "/Webhooks/Stripe/[v1]", "charge.refunded", "", nil, []int{204}},
	8:  {"PATCH", "/hooks/shopify?topic=orders/create", "orders/create", "", []byte("a=1&note=Needle+here"), []int{422, 500, 503}},
	9:  {"OPTIONS", "/webhooks/stripe?x=needle", "payment_intent.created", "", []byte(`{"price":"5€"}`), nil},
	10: {"GET", "/caf\xe9/x?q=1", "", "", []byte{}, []int{200}},
}

// rowID is the id of filterRows[i] in a log that seedFilterLog wrote into a new file.
func rowID(i int) int64 { return int64(i) + 1 }

// seedFilterLog writes filterRows into a new log and returns their ids, which are rowID(i).
func seedFilterLog(t *testing.T, s *Store) []int64 {
	t.Helper()
	ctx := context.Background()
	ids := make([]int64, len(filterRows))
	for i, row := range filterRows {
		r := &webhook.Request{
			ReceivedAt: time.Date(2026, 3, 4, 5, 6, i, 0, time.UTC), Method: row.method, URI: row.uri,
			EventType: row.event, Body: row.body, BodySize: int64(len(row.body)), Rejected: row.rejected,
		}
		if err := s.AddRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
		if ids[i] = r.ID; r.ID != rowID(i) {
			t.Fatalf("row %d has id %d, want %d", i, r.ID, rowID(i))
		}
		for k, status := range row.statuses {
			a := &webhook.Attempt{RequestID: r.ID, Kind: webhook.KindForward, Status: status,
				Duration: time.Duration(k+1) * time.Millisecond}
			if status == 0 {
				a.Error = "connection refused"
			}
			if err := s.AddAttempt(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
	}
	return ids
}

// listIndexes lists f and returns the filterRows indexes of the result, in its order, after
// checking each summary against its row.
func listIndexes(t *testing.T, s *Store, ids []int64, f Filter) []int {
	t.Helper()
	got, err := s.List(context.Background(), f)
	if err != nil {
		t.Fatalf("List(%+v): %v", f, err)
	}
	out := []int{}
	for _, sum := range got {
		i := slices.Index(ids, sum.ID)
		if i < 0 {
			t.Fatalf("List returned unknown id %d", sum.ID)
		}
		out = append(out, i)
		row := filterRows[i]
		want := webhook.Summary{ID: sum.ID, ReceivedAt: time.Date(2026, 3, 4, 5, 6, i, 0, time.UTC), Method: row.method, URI: row.uri,
			EventType: row.event, Signature: webhook.SignatureUnchecked, BodySize: int64(len(row.body)),
			Rejected: row.rejected, Attempts: len(row.statuses)}
		if n := len(row.statuses); n > 0 {
			want.Status, want.Duration = row.statuses[n-1], time.Duration(n)*time.Millisecond
			if want.Status == 0 {
				want.Error = "connection refused"
			}
		}
		if sum != want {
			t.Errorf("summary of row %d = %+v, want %+v", i, sum, want)
		}
	}
	return out
}

// every returns the filterRows indexes, newest first.
func every() []int {
	var out []int
	for i := len(filterRows) - 1; i >= 0; i-- {
		out = append(out, i)
	}
	return out
}

func TestListFilter(t *testing.T) {
	s := openStore(t, Config{Path: logPath(t)})
	ids := seedFilterLog(t, s)
	tests := []struct {
		name string
		f    Filter
		want []int // filterRows indexes, newest first
	}{
		{"none", Filter{}, every()},

		{"method", Filter{Method: "POST"}, []int{7, 5, 3, 1, 0}},
		{"method-any-case", Filter{Method: "pOsT"}, []int{7, 5, 3, 1, 0}},
		{"method-get", Filter{Method: "GET"}, []int{10, 2}},
		{"method-no-prefix", Filter{Method: "PO"}, []int{}},

		{"path-exact", Filter{Path: "/webhooks/stripe"}, []int{9, 1, 0}},
		{"path-anywhere", Filter{Path: "stripe"}, []int{9, 1, 0}},
		{"path-anywhere-glob", Filter{Path: "stripe*"}, []int{9, 1, 0}},
		{"path-case-sensitive", Filter{Path: "Stripe"}, []int{7}},
		{"path-prefix", Filter{Path: "/hooks/*"}, []int{8, 6, 3}},
		{"path-bracket-literal", Filter{Path: "/Webhooks/Stripe/[v1]"}, []int{7}},
		{"path-bracket-anywhere", Filter{Path: "[v1]"}, []int{7}},
		{"path-question-mark", Filter{Path: "/api/items/?"}, []int{4}},
		{"path-not-query", Filter{Path: "topic"}, []int{}},
		{"path-not-utf8", Filter{Path: "/caf?/x"}, []int{10}},
		{"path-all", Filter{Path: "*"}, every()},
		{"path-root-only", Filter{Path: "/"}, []int{}},

		{"status-2xx", Filter{Status: "2xx"}, []int{10, 7, 0}},
		{"status-3xx", Filter{Status: "3xx"}, []int{6}},
		{"status-4xx", Filter{Status: "4xx"}, []int{2}},
		{"status-5xx", Filter{Status: "5xx"}, []int{8, 1}},
		{"status-5XX", Filter{Status: "5XX"}, []int{8, 1}},
		{"status-code", Filter{Status: "404"}, []int{2}},
		{"status-code-latest-only", Filter{Status: "500"}, []int{1}},
		{"status-code-earlier-attempt", Filter{Status: "502"}, []int{}},
		{"status-failed", Filter{Status: "failed"}, []int{3}},
		{"status-FAILED", Filter{Status: "FAILED"}, []int{3}},
		{"status-none", Filter{Status: "none"}, []int{9, 4}},
		{"status-rejected", Filter{Status: "rejected"}, []int{5}},

		{"event-glob", Filter{EventType: "payment_intent.*"}, []int{9, 1, 0}},
		{"event-exact", Filter{EventType: "push"}, []int{3}},
		{"event-whole-match", Filter{EventType: "payment_intent"}, []int{}},
		{"event-suffix", Filter{EventType: "*.created"}, []int{9}},
		{"event-slash", Filter{EventType: "orders/*"}, []int{8}},
		{"event-question-mark", Filter{EventType: "pus?"}, []int{3}},
		{"event-all", Filter{EventType: "*"}, every()},

		{"text-body-and-uri", Filter{Text: "needle"}, []int{9, 8, 4}},
		{"text-any-case", Filter{Text: "NEEDLE"}, []int{9, 8, 4}},
		{"text-phrase", Filter{Text: "card declined"}, []int{1}},
		{"text-uri", Filter{Text: "stripe"}, []int{9, 7, 2, 1, 0}},
		{"text-uri-empty-body", Filter{Text: "health"}, []int{2}},
		{"text-uri-null-body", Filter{Text: "upload"}, []int{5}},
		{"text-not-event", Filter{Text: "refunded"}, []int{}},
		{"text-literal-underscore", Filter{Text: "payment_intent"}, []int{0}},
		{"text-literal-percent", Filter{Text: "payment%intent"}, []int{}},
		{"text-after-nul", Filter{Text: "item\x00needle"}, []int{4}},
		{"text-binary", Filter{Text: "\xff"}, []int{4}},
		{"text-utf8", Filter{Text: "5€"}, []int{9}},
		{"text-raw-bytes", Filter{Text: "\x82\xac"}, []int{9}}, // the end of "€": bytes, not characters
		{"text-not-utf8", Filter{Text: "OL\xe1"}, []int{6}},
		{"text-not-utf8-uri", Filter{Text: "CAF\xe9"}, []int{10, 6}},
		{"text-ascii-folding-only", Filter{Text: "caf\xc9"}, []int{6}},
		{"text-quote", Filter{Text: `"error"`}, []int{1}},

		{"injection", Filter{Method: "x' OR 'a'='a", Path: "' OR 1=1 --", Text: "'); DROP TABLE requests; --"}, []int{}},

		{"method+status", Filter{Method: "POST", Status: "5xx"}, []int{1}},
		{"path+text", Filter{Path: "stripe", Text: "needle"}, []int{9}},
		{"event+status-none", Filter{EventType: "payment_intent.*", Status: "none"}, []int{9}},
		{"method+path+status", Filter{Method: "post", Path: "/hooks/*", Status: "failed"}, []int{3}},
		{"all-fields", Filter{Method: "patch", Path: "/hooks/*", Status: "5xx", EventType: "orders/*", Text: "NEEDLE"}, []int{8}},
		{"status-5xx+text", Filter{Status: "5xx", Text: "card"}, []int{1}},
		{"status-none+text", Filter{Status: "none", Text: "needle"}, []int{9, 4}},
		{"status-rejected+text", Filter{Status: "rejected", Text: "upload"}, []int{5}},
		{"status-2xx+text-not-utf8", Filter{Status: "2xx", Text: "caf\xe9"}, []int{10}},
		{"status-failed+text-miss", Filter{Status: "failed", Text: "needle"}, []int{}},
		{"contradiction", Filter{Method: "GET", Status: "5xx"}, []int{}},

		{"filter+limit", Filter{Status: "2xx", Limit: 2}, []int{10, 7}},
		{"filter+before", Filter{Status: "5xx", BeforeID: rowID(8)}, []int{1}},
		{"filter+after", Filter{Method: "POST", AfterID: rowID(1)}, []int{7, 5, 3}},
		{"filter+after-limited", Filter{Method: "POST", AfterID: rowID(1), Limit: 1}, []int{7}},

		{"oldest", Filter{Oldest: true, Limit: 3}, []int{2, 1, 0}},
		{"oldest-default-limit", Filter{Oldest: true}, every()},
		{"oldest-after", Filter{Oldest: true, AfterID: rowID(3), Limit: 3}, []int{6, 5, 4}},
		{"oldest-after-near-end", Filter{Oldest: true, AfterID: rowID(8), Limit: 5}, []int{10, 9}},
		{"oldest-after-newest", Filter{Oldest: true, AfterID: rowID(10)}, []int{}},
		{"oldest-between", Filter{Oldest: true, AfterID: rowID(2), BeforeID: rowID(5), Limit: 10}, []int{4, 3}},
		{"oldest-filtered", Filter{Oldest: true, Status: "none", Limit: 1}, []int{4}},
		{"oldest-filtered-after", Filter{Oldest: true, Text: "needle", AfterID: rowID(4), Limit: 1}, []int{8}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := listIndexes(t, s, ids, tc.f); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("rows = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestListBadFilter(t *testing.T) {
	s := openStore(t, Config{Path: logPath(t)})
	seedFilterLog(t, s)
	for _, status := range []string{"abc", "6xx", "1xx", "xx", "5x", "5xxx", "0", "99", "600", "1000", "-1", "+200", " 5xx", "4O4", "none "} {
		t.Run(status, func(t *testing.T) {
			_, err := s.List(context.Background(), Filter{Status: status})
			if !errors.Is(err, ErrBadFilter) {
				t.Fatalf("err = %v, want ErrBadFilter", err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "list requests: invalid filter: status ") || !strings.Contains(msg, "5xx") ||
				!strings.Contains(msg, "rejected") {
				t.Errorf("message %q should say what is wrong and what is valid", msg)
			}
		})
	}
	_, err := s.List(context.Background(), Filter{Status: "6xx"})
	t.Log(err)
}

// pagingRow describes request i of TestListFilterPaging's log.
type pagingRow struct {
	method, path, event string
	status              int // latest attempt; -1: none
	rejected            bool
	needle              bool // body or URI holds "needle" in some case
}

// pagingLog returns the description of request i of TestListFilterPaging's log; the patterns
// have coprime periods, so that every combination occurs.
func pagingLog(i int) pagingRow {
	r := pagingRow{
		method: []string{"POST", "GET", "post", "PUT", "DELETE"}[i%5],
		path:   []string{"/hooks/stripe", "/hooks/github", "/api/x", "/webhooks/stripe/v2"}[i%4],
		event:  []string{"invoice.paid", "invoice.created", "push", ""}[i%3],
		status: []int{200, 503, 0, -1, 404, 500, 302}[i%7],
		needle: i%11 == 3 || i%13 == 0,
	}
	if i%17 == 5 {
		r.rejected, r.status = true, -1
	}
	return r
}

// pagingBody returns the body of request i of TestListFilterPaging's log.
func pagingBody(i int, needle bool) []byte {
	switch {
	case !needle && i%2 == 0:
		return []byte(fmt.Sprintf(`{"n":%d}`, i))
	case !needle:
		return []byte("\x00\xff\xfe binary \xe9")
	case i%3 == 0:
		return []byte("\x00\xff prefix NeEdLe suffix \x80")
	default:
		return nil // the needle is in the URI
	}
}

// TestListFilterPaging pages through filtered results of a larger log with keyset paging,
// towards older requests from the newest and towards newer ones from the oldest, and checks
// that every matching request comes exactly once, in order, in full pages.
func TestListFilterPaging(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, Config{Path: logPath(t)})
	const n = 400
	rows := make([]pagingRow, n)
	reqs := make([]*webhook.Request, n)
	err := Seed(ctx, s, n, func(i int) *webhook.Request {
		row := pagingLog(i)
		r := &webhook.Request{Method: row.method, URI: row.path + "?i=" + fmt.Sprint(i), EventType: row.event,
			Body: pagingBody(i, row.needle)}
		if row.rejected {
			r.Rejected, r.Body = "too big", nil
		}
		if row.needle && r.Body == nil {
			r.URI += "&q=NEEDLE"
		}
		rows[i], reqs[i] = row, r
		return r
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, row := range rows {
		if row.status < 0 {
			continue
		}
		// An earlier attempt with another outcome, for some: only the latest counts.
		if i%2 == 0 {
			if err := s.AddAttempt(ctx, &webhook.Attempt{RequestID: reqs[i].ID, Kind: webhook.KindForward, Status: 599}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.AddAttempt(ctx, &webhook.Attempt{RequestID: reqs[i].ID, Kind: webhook.KindReplay, Status: row.status}); err != nil {
			t.Fatal(err)
		}
	}

	tests := []struct {
		name  string
		f     Filter
		match func(r pagingRow) bool
	}{
		{"all", Filter{}, func(pagingRow) bool { return true }},
		{"status-5xx", Filter{Status: "5xx"}, func(r pagingRow) bool { return r.status >= 500 && r.status <= 599 }},
		{"status-none", Filter{Status: "none"}, func(r pagingRow) bool { return r.status < 0 && !r.rejected }},
		{"method+text", Filter{Method: "post", Text: "needle"}, func(r pagingRow) bool {
			return (r.method == "POST" || r.method == "post") && r.needle
		}},
		{"path", Filter{Path: "stripe"}, func(r pagingRow) bool { return strings.Contains(r.path, "stripe") }},
		{"event+status", Filter{EventType: "invoice.*", Status: "failed"}, func(r pagingRow) bool {
			return strings.HasPrefix(r.event, "invoice.") && r.status == 0
		}},
		{"status+text", Filter{Status: "2xx", Text: "NEEDLE"}, func(r pagingRow) bool { return r.status == 200 && r.needle }},
		{"rejected", Filter{Status: "rejected"}, func(r pagingRow) bool { return r.rejected }},
		{"no-match", Filter{Text: "no such text"}, func(pagingRow) bool { return false }},
	}
	for _, tc := range tests {
		var want []int64 // oldest first
		for i, r := range rows {
			if tc.match(r) {
				want = append(want, reqs[i].ID)
			}
		}
		if len(want) == 0 && tc.name != "no-match" {
			t.Fatalf("%s: the log has no matching request; fix the test", tc.name)
		}
		for _, limit := range []int{1, 7, 50} {
			t.Run(fmt.Sprintf("%s/limit=%d", tc.name, limit), func(t *testing.T) {
				f := tc.f
				f.Limit = limit
				// Towards older requests, from the newest page.
				down := pages(t, s, f, func(f *Filter, page []webhook.Summary) { f.BeforeID = page[len(page)-1].ID })
				wantDown := slices.Clone(want)
				slices.Reverse(wantDown)
				if !slices.Equal(down, wantDown) {
					t.Errorf("towards older: %v\nwant %v", down, wantDown)
				}
				// Towards newer requests, from the oldest page.
				f.Oldest = true
				up := pages(t, s, f, func(f *Filter, page []webhook.Summary) { f.AfterID = page[0].ID })
				if !slices.Equal(up, want) {
					t.Errorf("towards newer: %v\nwant %v", up, want)
				}
			})
		}
	}
}

// pages lists f page by page, moving the keyset bound with next, and returns the ids in the
// order of the walk: towards older requests, newest first; towards newer ones (f.Oldest),
// oldest first, each page (which List returns newest first) reversed. Every page must be
// newest first and full, but the last.
func pages(t *testing.T, s *Store, f Filter, next func(f *Filter, page []webhook.Summary)) []int64 {
	t.Helper()
	var ids []int64
	short := false
	for range 10_000 {
		page, err := s.List(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			return ids
		}
		if short || len(page) > f.Limit {
			t.Fatalf("page of %d after a short page, or over the limit of %d", len(page), f.Limit)
		}
		short = len(page) < f.Limit
		got := make([]int64, len(page))
		for i, sum := range page {
			got[i] = sum.ID
		}
		if !slices.IsSortedFunc(got, func(a, b int64) int { return cmp.Compare(b, a) }) {
			t.Fatalf("page not newest first: %v", got)
		}
		if f.Oldest {
			slices.Reverse(got)
		}
		ids = append(ids, got...)
		next(&f, page)
	}
	t.Fatal("paging does not end")
	return nil
}

// TestListFilterConcurrent lists with many filters at once from many goroutines, sharing the
// prepared statements, and compares with the results listed one at a time.
func TestListFilterConcurrent(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, Config{Path: logPath(t)})
	seedFilterLog(t, s)
	filters := []Filter{
		{}, {Oldest: true}, {Status: "5xx"}, {Status: "none"}, {Status: "rejected"}, {Method: "POST"},
		{Path: "stripe"}, {EventType: "payment_intent.*"}, {Text: "needle"}, {Status: "2xx", Text: "stripe"},
		{Oldest: true, Method: "GET", Limit: 1},
	}
	want := make([][]webhook.Summary, len(filters))
	for i, f := range filters {
		var err error
		if want[i], err = s.List(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 40 {
				i := (g + k) % len(filters)
				got, err := s.List(ctx, filters[i])
				if err != nil {
					t.Error(err)
					return
				}
				if !reflect.DeepEqual(got, want[i]) {
					t.Errorf("List(%+v) differs when run concurrently", filters[i])
					return
				}
			}
		}()
	}
	wg.Wait()
}
