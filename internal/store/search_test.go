package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookctl/hookctl/internal/webhook"
)

// searchRow is a request of TestSearch's log.
type searchRow struct {
	uri    string
	header webhook.Headers
	body   []byte
}

// searchRows is TestSearch's log, oldest first.
var searchRows = []searchRow{
	0: {"/webhooks/stripe", webhook.Headers{{Name: "Content-Type", Value: "application/json"}},
		[]byte(`{"type":"payment_intent.payment_failed","data":{"customer":{"email":"Jane.Doe@example.com"},"outcome":"Card_Declined"}}`)},
	1: {"/slack/commands", webhook.Headers{{Name: "Content-Type", Value: "application/x-www-form-urlencoded"}},
		[]byte("token=gIkuvaNzQIHg97ATvDxqgjtO&team_domain=acmecorp&command=%2Fdeploy&text=ship+it+now")},
	2: {"/hooks/github", webhook.Headers{{Name: "X-GitHub-Event", Value: "pull_request"}, {Name: "User-Agent", Value: "GitHub-Hookshot/7c1f2a"}},
		[]byte(`{"action":"opened"}`)},
	3: {"/twilio/sms?MessageSid=SM5f0e8d&From=%2B15551234567", nil, nil},
	4: {"/hooks/shopify", webhook.Headers{{Name: "X-Shopify-Topic", Value: "orders/create"}},
		[]byte(`{"note":"Livraison au café, crème brûlée"}`)},
	5: {"/upload", webhook.Headers{{Name: "Content-Type", Value: "image/png"}},
		[]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR hiddenword")},
	6: {"/legacy", nil, []byte("na\xefve latin1 text, and this or that, not NEAR anything")},
	7: {"/quotes", webhook.Headers{{Name: "X-Quote", Value: `he said "hello world"`}, {Name: "X-Bad", Value: "caf\xe9 raw"}},
		[]byte(`{"path":"C:\\temp\\file.txt","q":"a*b"}`)},
}

// seedSearchLog writes searchRows into a new log through AddRequest; row i gets id i+1.
func seedSearchLog(t *testing.T, s *Store) {
	t.Helper()
	for i, row := range searchRows {
		r := &webhook.Request{ReceivedAt: time.Unix(int64(i), 0), Method: "POST", URI: row.uri, Header: row.header,
			Body: row.body, BodySize: int64(len(row.body))}
		if err := s.AddRequest(context.Background(), r); err != nil {
			t.Fatal(err)
		}
		if r.ID != rowID(i) {
			t.Fatalf("row %d has id %d", i, r.ID)
		}
	}
}

// searchIndexes lists f and returns the row indexes (id-1) of the result, newest first.
func searchIndexes(t *testing.T, s *Store, f Filter) []int {
	t.Helper()
	got, err := s.List(context.Background(), f)
	if err != nil {
		t.Fatalf("List(%+v): %v", f, err)
	}
	out := []int{}
	for _, sum := range got {
		out = append(out, int(sum.ID-1))
	}
	return out
}

func TestSearch(t *testing.T) {
	s := openStore(t, Config{Path: logPath(t)})
	seedSearchLog(t, s)
	tests := []struct {
		search string
		want   []int // searchRows indexes, newest first
	}{
		// JSON bodies: keys, values, and the words of punctuated values.
		{"outcome", []int{0}},
		{"declined", []int{0}},
		{"payment_failed", []int{0}},
		{"payment_intent.payment_failed", []int{0}},
		{"jane.doe@example.com", []int{0}},
		{"example.com", []int{0}},
		{"opened", []int{2}},
		// Form bodies.
		{"acmecorp", []int{1}},
		{"ship", []int{1}},
		{"ship it now", []int{1}},
		{`"ship it now"`, []int{1}},
		{`"now it ship"`, []int{}},
		// Header values and names.
		{"hookshot", []int{2}},
		{"pull_request", []int{2}},
		{"x-github-event", []int{2}},
		{"shopify topic", []int{4}},
		{"orders/create", []int{4}},
		{"urlencoded", []int{1}},
		{`"hello world"`, []int{7}},
		{"raw", []int{}}, // a header pair that is not UTF-8 is stored in base64 and not searched
		// URIs, path and query.
		{"twilio", []int{3}},
		{"MessageSid", []int{3}},
		{"sm5f0e8d", []int{3}},
		{"from", []int{3}},
		{"stripe", []int{0}},
		// Case and diacritics.
		{"DECLINED", []int{0}},
		{"AcmeCorp", []int{1}},
		{"cafe", []int{4}},
		{"CAFÉ", []int{4}},
		{"creme brulee", []int{4}},
		{"crème", []int{4}},
		// Bodies that are not UTF-8 are read lossily; binary ones are not searched.
		{"latin1", []int{6}},
		{"text", []int{6, 1}},
		{"hiddenword", []int{}},
		{"ihdr", []int{}},
		{"png", []int{5}}, // in the Content-Type header
		// Every word must match, in any field.
		{"stripe declined", []int{0}},
		{"stripe acmecorp", []int{}},
		{"json opened", []int{}},
		// Prefixes.
		{"decl*", []int{0}},
		{"Decl*", []int{0}},
		{"declined*", []int{0}},
		{"acme*", []int{1}},
		{"hook*", []int{4, 2}},
		{`"ship it n"*`, []int{1}},
		{"zzz*", []int{}},
		{"payment_fail*", []int{0}},
		// Words the FTS5 query language would take for operators are words.
		{"and", []int{6}},
		{"OR", []int{6}},
		{"NOT", []int{6}},
		{"NEAR", []int{6}},
		{"this AND that", []int{6}},
		// Ignored terms.
		{"declined -", []int{0}},
		{`declined ""`, []int{0}},
		{"declined *", []int{0}},
		// Missing words.
		{"nosuchword", []int{}},
		{"declined nosuchword", []int{}},
	}
	for _, tc := range tests {
		t.Run(tc.search, func(t *testing.T) {
			if got := searchIndexes(t, s, Filter{Search: tc.search}); !slices.Equal(got, tc.want) {
				t.Errorf("Search %q: rows %v, want %v (FTS5 query %s)", tc.search, got, tc.want, ftsQuery(tc.search))
			}
		})
	}
}

// TestSearchHostileInput lists with searches full of FTS5 syntax, quotes, control characters
// and bytes that are not UTF-8: none may fail.
func TestSearchHostileInput(t *testing.T) {
	s := openStore(t, Config{Path: logPath(t)})
	seedSearchLog(t, s)
	inputs := []string{
		`"`, `""`, `"""`, `""""`, `*`, `**`, `* *`, `"*"`, `"a"*"b"`, `foo"bar`, `foo"`, `"foo`, `a""b`,
		`AND`, `OR`, `NOT`, `NEAR`, `NEAR(a b)`, `NEAR(a b, 2)`, `a OR b`, `a NOT b`, `(a OR b) AND c`,
		`-x`, `+x`, `^x`, `x^`, `x:y`, `uri:foo`, `body : x`, `{uri body}: x`, `- uri : x`, `col:*`,
		`(`, `)`, `a)`, `((`, `'`, `''`, `\`, `\"`, `%`, `_`, `[`, `]`, `{`, `}`, `*x`, `x**`, `x*y*`, `"x" *`,
		"a\x00b", "\x00", "\"\x00\"", "x\x00*", "\x01\x02\x1f\x7f", "caf\xe9", "\xff\xfe", "\xe2\x82", "🙂", "😀*",
		"\u200b", "\u0301", "a\u0301*", "tab\there", "new\nline", `'); DROP TABLE requests; --`,
		strings.Repeat(`"a" `, 200), strings.Repeat("x* ", 100), strings.Repeat(`"`, 101),
	}
	// And random mixes of them.
	r := rand.New(rand.NewPCG(1, 2))
	parts := []string{`"`, `*`, ` `, `(`, `)`, `:`, `-`, `+`, `^`, `AND`, `OR`, `NOT`, `NEAR`, "\x00", "\xff", `,`, `{`, `}`, `declined`, `ship`, `a`}
	for range 300 {
		var b strings.Builder
		for range 1 + r.IntN(8) {
			b.WriteString(parts[r.IntN(len(parts))])
		}
		inputs = append(inputs, b.String())
	}
	for _, in := range inputs {
		for _, f := range []Filter{{Search: in}, {Search: in, Oldest: true, Status: "none"}, {Search: in, Text: in}} {
			if _, err := s.List(context.Background(), f); err != nil {
				t.Errorf("Search %q (FTS5 query %s): %v", in, ftsQuery(in), err)
			}
		}
		q, err := ParseQuery(in)
		if err != nil {
			continue // a key in the input, such as "uri:"
		}
		if _, err := s.List(context.Background(), q); err != nil {
			t.Errorf("query %q: %v", in, err)
		}
	}
}

func TestFTSQuery(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"   ", ""},
		{"card", `"card"`},
		{"card declined", `"card" AND "declined"`},
		{`"card declined"`, `"card declined"`},
		{`"card  declined" x`, `"card  declined" AND "x"`},
		{`say"hi there"`, `"sayhi there"`},
		{`"unterminated phrase`, `"unterminated phrase"`},
		{"decl*", `"decl" *`},
		{"decl**", `"decl" *`},
		{`"card decl"*`, `"card decl" *`},
		{`"decl*"`, `"decl*"`},
		{"a*b", `"a*b"`},
		{"*a", `"*a"`},
		{`foo"bar`, `"foobar"`},
		{`it's`, `"it's"`},
		{`a""b`, `"ab"`},
		{"AND OR NOT", `"AND" AND "OR" AND "NOT"`},
		{"uri:x", `"uri:x"`},
		{"a\x00b", `"a b"`},
		{"- * \" ( ) :", ""},
		{"card -", `"card"`},
		{"café", `"café"`},
		{"caf\xe9", "\"caf\uFFFD\""}, // as the tokenizer reads it
		{"日本", `"日本"`},
	}
	for _, tc := range tests {
		if got := ftsQuery(tc.in); got != tc.want {
			t.Errorf("ftsQuery(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// TestSearchAfterAdd checks that a request is found as soon as AddRequest returns, from
// many writers at once (so in shared transactions), and through Record with a ref and Seed.
func TestSearchAfterAdd(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, Config{Path: logPath(t)})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				word := fmt.Sprintf("w%dx%d", g, i)
				r := &webhook.Request{Method: "POST", URI: "/hooks", Body: []byte(`{"word":"` + word + `"}`)}
				if err := s.AddRequest(ctx, r); err != nil {
					t.Error(err)
					return
				}
				got, err := s.List(ctx, Filter{Search: word})
				if err != nil || len(got) != 1 || got[0].ID != r.ID {
					t.Errorf("search %q right after AddRequest: %v, %v; want request %d", word, got, err, r.ID)
					return
				}
			}
		}()
	}
	wg.Wait()

	r := &webhook.Request{Method: "POST", URI: "/relayed", Header: webhook.Headers{{Name: "X-Relay", Value: "relayedword"}}}
	if _, err := s.Record(ctx, r, RecordOptions{Ref: "chan/1"}); err != nil {
		t.Fatal(err)
	}
	if got := searchIDs(t, s, Filter{Search: "relayedword"}); !slices.Equal(got, []int64{r.ID}) {
		t.Errorf("Record with a ref: search found %v, want [%d]", got, r.ID)
	}

	var seeded []int64
	err := Seed(ctx, s, 12_000, func(i int) *webhook.Request {
		body := "plain"
		if i%4000 == 1 {
			body = "seededword"
		}
		return &webhook.Request{Method: "POST", URI: "/seed", Body: []byte(body)}
	})
	if err != nil {
		t.Fatal(err)
	}
	seeded = searchIDs(t, s, Filter{Search: "seededword", Limit: 100})
	if len(seeded) != 3 {
		t.Errorf("Seed: search found %v, want 3 requests", seeded)
	}
}

// searchIDs lists f and returns the ids, newest first.
func searchIDs(t *testing.T, s *Store, f Filter) []int64 {
	t.Helper()
	got, err := s.List(context.Background(), f)
	if err != nil {
		t.Fatalf("List(%+v): %v", f, err)
	}
	ids := []int64{}
	for _, sum := range got {
		ids = append(ids, sum.ID)
	}
	return ids
}

// TestSearchDelete deletes requests behind the store's back, as a prune does, and checks that
// the full-text index forgets them, and stays consistent, while keeping the others.
func TestSearchDelete(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, Config{Path: logPath(t)})
	seedSearchLog(t, s)
	db := rawDB(t, s.Path())
	if _, err := db.Exec("DELETE FROM requests WHERE id IN (?, ?)", rowID(0), rowID(4)); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"declined", "cafe", "stripe", "shopify"} {
		if got := searchIndexes(t, s, Filter{Search: q}); len(got) != 0 {
			t.Errorf("Search %q after the delete: rows %v", q, got)
		}
	}
	if got := searchIndexes(t, s, Filter{Search: "hook*"}); !slices.Equal(got, []int{2}) {
		t.Errorf("Search hook* after the delete: rows %v, want [2]", got)
	}
	// A new request with a deleted one's words is found alone.
	r := &webhook.Request{Method: "POST", URI: "/webhooks/stripe", Body: []byte("declined again")}
	if err := s.AddRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	if got := searchIDs(t, s, Filter{Search: "declined stripe"}); !slices.Equal(got, []int64{r.ID}) {
		t.Errorf("Search after re-adding: %v, want [%d]", got, r.ID)
	}
	// Delete the rest with a single statement (the trigger runs per row).
	if _, err := db.Exec("DELETE FROM requests WHERE id <> ?", r.ID); err != nil {
		t.Fatal(err)
	}
	checkFTS(t, s.Path())
	for _, q := range []string{"hook*", "acmecorp", "text", "twilio", "png"} {
		if got := searchIndexes(t, s, Filter{Search: q}); len(got) != 0 {
			t.Errorf("Search %q after deleting everything else: rows %v", q, got)
		}
	}
}

// checkFTS runs FTS5's integrity check on the log's index and compares the ids it holds with
// the requests' up to search_state.indexed_to (the requests above it are the tail, not yet
// indexed).
func checkFTS(t *testing.T, path string) {
	t.Helper()
	db := rawDB(t, path)
	if _, err := db.Exec("INSERT INTO requests_fts (requests_fts, rank) VALUES ('integrity-check', 0)"); err != nil {
		t.Errorf("FTS5 integrity check: %v", err)
	}
	var missing, extra int
	err := db.QueryRow(`SELECT
		(SELECT count(*) FROM requests WHERE id <= (SELECT indexed_to FROM search_state)
			AND id NOT IN (SELECT rowid FROM requests_fts)),
		(SELECT count(*) FROM requests_fts WHERE rowid NOT IN (SELECT id FROM requests))`).Scan(&missing, &extra)
	if err != nil {
		t.Fatal(err)
	}
	if missing != 0 || extra != 0 {
		t.Errorf("full-text index: %d requests missing, %d ids of deleted requests", missing, extra)
	}
}

// TestSearchBrokenTransaction checks that the index follows the writer's retries: requests
// whose transaction was rolled back and retried are indexed once, failed ones not at all.
func TestSearchBrokenTransaction(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, Config{Path: logPath(t)})
	db := rawDB(t, s.Path())
	if _, err := db.Exec(`CREATE TRIGGER boom BEFORE INSERT ON requests WHEN NEW.method = 'BOOM'
		BEGIN SELECT RAISE(ROLLBACK, 'boom'); END`); err != nil {
		t.Fatal(err)
	}
	const n = 30
	reqs := make([]*webhook.Request, n)
	errs := make([]error, n)
	calls := make([]func(), n)
	for i := range n {
		reqs[i] = &webhook.Request{Method: "POST", Body: []byte(fmt.Sprintf("batchword w%d", i))}
		if i%10 == 5 {
			reqs[i].Method = "BOOM"
		}
		calls[i] = func() { errs[i] = s.AddRequest(ctx, reqs[i]) }
	}
	queueBehindLock(t, s, calls)
	var want []int64
	for i := n - 1; i >= 0; i-- {
		if (errs[i] == nil) == (reqs[i].Method == "BOOM") {
			t.Fatalf("op %d: err = %v", i, errs[i])
		}
		if errs[i] == nil {
			want = append(want, reqs[i].ID)
			if got := searchIDs(t, s, Filter{Search: fmt.Sprintf("w%d", i)}); !slices.Equal(got, []int64{reqs[i].ID}) {
				t.Errorf("op %d: search found %v, want [%d]", i, got, reqs[i].ID)
			}
		}
	}
	slices.SortFunc(want, func(a, b int64) int { return int(b - a) })
	if got := searchIDs(t, s, Filter{Search: "batchword", Limit: 100}); !slices.Equal(got, want) {
		t.Errorf("search found %v, want %v", got, want)
	}
	checkFTS(t, s.Path())
}

// facetRow describes request i of TestSearchFilterPaging's log.
type facetRow struct {
	method, provider, signature, path string
	at                                time.Time
	status                            int // latest attempt; -1: none
	alpha, beta, gamma, delta         bool
}

// facetBase is when TestSearchFilterPaging's first request arrived.
var facetBase = time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)

// facetLog describes request i of TestSearchFilterPaging's log: patterns with coprime periods,
// so that every combination occurs.
func facetLog(i int) facetRow {
	return facetRow{
		method:    []string{"POST", "GET", "PUT"}[i%3],
		provider:  []string{"stripe", "GitHub", "slack", ""}[i%4],
		signature: []string{webhook.SignatureValid, webhook.SignatureInvalid, webhook.SignatureStale, webhook.SignatureUnsigned, ""}[i%5],
		path:      []string{"/hooks/a", "/webhooks/b"}[i%2],
		at:        facetBase.Add(time.Duration(i) * time.Minute),
		status:    []int{200, 500, -1, 404, 0, 302, 503}[i%7],
		alpha:     i%3 == 1 || i%11 == 0, // in the body
		beta:      i%5 == 2,              // in the URI
		gamma:     i%7 == 3,              // in a header value
		delta:     i%13 == 4,             // in a header name
	}
}

// TestSearchFilterPaging pages through searches and the provider, signature and time filters,
// alone and combined with the other filters, over a log of 500 requests, and checks that
// every match comes exactly once, in order, in full pages, both ways.
func TestSearchFilterPaging(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, Config{Path: logPath(t)})
	const n = 500
	rows := make([]facetRow, n)
	reqs := make([]*webhook.Request, n)
	err := Seed(ctx, s, n, func(i int) *webhook.Request {
		row := facetLog(i)
		r := &webhook.Request{ReceivedAt: row.at, Method: row.method, URI: row.path + "?i=" + fmt.Sprint(i),
			Provider: row.provider, Signature: row.signature, Body: []byte(fmt.Sprintf(`{"n":%d,"tags":[`, i))}
		if row.alpha {
			r.Body = append(r.Body, `"Alpha"`...)
		}
		r.Body = append(r.Body, "]}"...)
		if row.beta {
			r.URI += "&tag=beta"
		}
		r.Header = webhook.Headers{{Name: "Content-Type", Value: "application/json"}}
		if row.gamma {
			r.Header = append(r.Header, webhook.Field{Name: "X-Tag", Value: "gamma-ray"})
		}
		if row.delta {
			r.Header = append(r.Header, webhook.Field{Name: "X-Delta", Value: "1"})
		}
		rows[i], reqs[i] = row, r
		return r
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, row := range rows {
		if row.status >= 0 {
			if err := s.AddAttempt(ctx, &webhook.Attempt{RequestID: reqs[i].ID, Kind: webhook.KindForward, Status: row.status}); err != nil {
				t.Fatal(err)
			}
		}
	}
	sig := func(r facetRow) string { return cmpOr(r.signature, webhook.SignatureUnchecked) }
	at := func(i int) time.Time { return facetBase.Add(time.Duration(i) * time.Minute) }
	tests := []struct {
		name  string
		f     Filter
		match func(r facetRow) bool
	}{
		{"search-body", Filter{Search: "alpha"}, func(r facetRow) bool { return r.alpha }},
		{"search-uri", Filter{Search: "beta"}, func(r facetRow) bool { return r.beta }},
		{"search-header-value", Filter{Search: "gamma-ray"}, func(r facetRow) bool { return r.gamma }},
		{"search-header-name", Filter{Search: "x-delta"}, func(r facetRow) bool { return r.delta }},
		{"search-prefix", Filter{Search: "gam*"}, func(r facetRow) bool { return r.gamma }},
		{"search-two-words", Filter{Search: "alpha beta"}, func(r facetRow) bool { return r.alpha && r.beta }},
		{"search-common", Filter{Search: "json"}, func(facetRow) bool { return true }},
		{"search-none", Filter{Search: "epsilon"}, func(facetRow) bool { return false }},
		{"provider", Filter{Provider: "github"}, func(r facetRow) bool { return r.provider == "GitHub" }},
		{"provider-case", Filter{Provider: "STRIPE"}, func(r facetRow) bool { return r.provider == "stripe" }},
		{"signature", Filter{Signature: "invalid"}, func(r facetRow) bool { return r.signature == webhook.SignatureInvalid }},
		{"signature-unchecked", Filter{Signature: "Unchecked"}, func(r facetRow) bool { return r.signature == "" }},
		{"since", Filter{Since: at(420)}, func(r facetRow) bool { return !r.at.Before(at(420)) }},
		{"until", Filter{Until: at(33)}, func(r facetRow) bool { return r.at.Before(at(33)) }},
		{"since-until", Filter{Since: at(100), Until: at(250)}, func(r facetRow) bool {
			return !r.at.Before(at(100)) && r.at.Before(at(250))
		}},
		{"search+provider", Filter{Search: "alpha", Provider: "slack"}, func(r facetRow) bool { return r.alpha && r.provider == "slack" }},
		{"search+signature+status", Filter{Search: "alpha", Signature: "valid", Status: "5xx"}, func(r facetRow) bool {
			return r.alpha && r.signature == webhook.SignatureValid && r.status >= 500
		}},
		{"search+time", Filter{Search: "beta", Since: at(50), Until: at(400)}, func(r facetRow) bool {
			return r.beta && !r.at.Before(at(50)) && r.at.Before(at(400))
		}},
		{"search+method+path", Filter{Search: "alpha", Method: "post", Path: "/webhooks/*"}, func(r facetRow) bool {
			return r.alpha && r.method == "POST" && r.path == "/webhooks/b"
		}},
		{"search+text", Filter{Search: "alpha", Text: `"n":1`}, func(r facetRow) bool { return false }},
		{"search+status", Filter{Search: "gamma", Status: "404"}, func(r facetRow) bool { return r.gamma && r.status == 404 }},
		{"all", Filter{Search: "json", Provider: "stripe", Signature: "stale", Since: at(10), Until: at(490), Status: "2xx", Method: "POST"},
			func(r facetRow) bool {
				return r.provider == "stripe" && sig(r) == "stale" && !r.at.Before(at(10)) && r.at.Before(at(490)) &&
					r.status == 200 && r.method == "POST"
			}},
	}
	for _, tc := range tests {
		var want []int64 // oldest first
		for i, r := range rows {
			if tc.match(r) {
				want = append(want, reqs[i].ID)
			}
		}
		if tc.name == "search+text" {
			// `"n":1` is in the bodies of requests 1, 10-19, 100-199.
			for i, r := range rows {
				if r.alpha && strings.Contains(string(reqs[i].Body), `"n":1`) {
					want = append(want, reqs[i].ID)
				}
			}
		}
		if len(want) == 0 && !strings.HasSuffix(tc.name, "-none") {
			t.Fatalf("%s: the log has no matching request; fix the test", tc.name)
		}
		for _, limit := range []int{1, 7, 50} {
			t.Run(fmt.Sprintf("%s/limit=%d", tc.name, limit), func(t *testing.T) {
				f := tc.f
				f.Limit = limit
				down := pages(t, s, f, func(f *Filter, page []webhook.Summary) { f.BeforeID = page[len(page)-1].ID })
				wantDown := slices.Clone(want)
				slices.Reverse(wantDown)
				if !slices.Equal(down, wantDown) {
					t.Errorf("towards older: %v\nwant %v", down, wantDown)
				}
				f.Oldest = true
				up := pages(t, s, f, func(f *Filter, page []webhook.Summary) { f.AfterID = page[0].ID })
				if !slices.Equal(up, want) {
					t.Errorf("towards newer: %v\nwant %v", up, want)
				}
			})
		}
	}
}

// cmpOr returns a, or b when a is "".
func cmpOr(a, b string) string {
	if a == "" {
		return b
	}
	return a
}

func TestListFilterTimeBounds(t *testing.T) {
	s := openStore(t, Config{Path: logPath(t)})
	seedSearchLog(t, s) // row i received at unix second i
	// A request without a receive time matches no bound.
	if err := s.AddRequest(context.Background(), &webhook.Request{Method: "POST"}); err != nil {
		t.Fatal(err)
	}
	all := []int{8, 7, 6, 5, 4, 3, 2, 1, 0}
	tests := []struct {
		name string
		f    Filter
		want []int
	}{
		{"since-inclusive", Filter{Since: time.Unix(6, 0)}, []int{7, 6}},
		{"until-exclusive", Filter{Until: time.Unix(2, 0)}, []int{1, 0}},
		{"between", Filter{Since: time.Unix(2, 0), Until: time.Unix(4, 1)}, []int{4, 3, 2}},
		{"empty", Filter{Since: time.Unix(4, 0), Until: time.Unix(4, 0)}, []int{}},
		{"nanosecond", Filter{Since: time.Unix(3, 1)}, []int{7, 6, 5, 4}},
		{"other-zone", Filter{Since: time.Unix(6, 0).In(time.FixedZone("X", -7*3600))}, []int{7, 6}},
		{"far-past", Filter{Since: time.Date(1, 1, 2, 0, 0, 0, 0, time.UTC)}, []int{7, 6, 5, 4, 3, 2, 1, 0}},
		{"far-future", Filter{Until: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)}, []int{7, 6, 5, 4, 3, 2, 1, 0}},
		{"beyond-range", Filter{Since: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)}, []int{}},
		{"open", Filter{}, all},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := searchIndexes(t, s, tc.f); !slices.Equal(got, tc.want) {
				t.Errorf("rows %v, want %v", got, tc.want)
			}
		})
	}
}

func TestListBadSignature(t *testing.T) {
	s := openStore(t, Config{Path: logPath(t)})
	for _, v := range []string{"ok", "valid ", "none", "signed", "*"} {
		_, err := s.List(context.Background(), Filter{Signature: v})
		if !errors.Is(err, ErrBadFilter) || !strings.Contains(err.Error(), "valid, invalid, stale, unsigned or unchecked") {
			t.Errorf("Signature %q: err = %v, want ErrBadFilter naming the valid values", v, err)
		}
	}
}

// TestSearchMigration makes a log as schema version 2 left it, with requests in it, then opens
// it with the full-text migration and searches them.
func TestSearchMigration(t *testing.T) {
	ctx := context.Background()
	path := logPath(t)
	testMigrateUpTo = 2
	old, err := Open(ctx, Config{Path: path, ReadOnly: true})
	testMigrateUpTo = 0
	if err == nil { // preparing today's reads fails on the old schema; the file is migrated anyway
		old.Close()
	}
	db := rawDB(t, path)
	for i, row := range searchRows {
		args, err := requestArgs(&webhook.Request{ReceivedAt: time.Unix(int64(i), 0), Method: "POST", URI: row.uri,
			Header: row.header, Body: row.body, BodySize: int64(len(row.body))})
		if err != nil {
			t.Fatal(err)
		}
		// Version 2 has neither ingress_ref nor body_hash; id is left to SQLite.
		cols := strings.TrimSuffix(requestInsertCols, ", ingress_ref, body_hash, id")
		if _, err := db.Exec("INSERT INTO requests ("+cols+") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", args[:16]...); err != nil {
			t.Fatal(err)
		}
	}
	// A row an older hookctl could not have written, whose headers are not JSON: the
	// migration must not fail on it.
	if _, err := db.Exec("INSERT INTO requests (method, uri, headers, body) VALUES ('POST', '/odd', 'not json', 'oddword')"); err != nil {
		t.Fatal(err)
	}
	var v int
	if err := db.QueryRow("SELECT max(version) FROM schema_migrations").Scan(&v); err != nil || v != 2 {
		t.Fatalf("schema version %d, %v; want 2", v, err)
	}
	db.Close()

	s := openStore(t, Config{Path: path})
	for _, tc := range []struct {
		search string
		want   []int
	}{
		{"declined", []int{0}},
		{"acmecorp", []int{1}},
		{"hookshot", []int{2}},
		{"twilio", []int{3}},
		{"cafe", []int{4}},
		{"hiddenword", []int{}},
		{"hook*", []int{4, 2}},
		{"oddword", []int{8}},
	} {
		if got := searchIndexes(t, s, Filter{Search: tc.search}); !slices.Equal(got, tc.want) {
			t.Errorf("Search %q after the migration: rows %v, want %v", tc.search, got, tc.want)
		}
	}
	// New requests are indexed along with the backfilled ones.
	r := &webhook.Request{Method: "POST", URI: "/new", Body: []byte("declined")}
	if err := s.AddRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	if got := searchIndexes(t, s, Filter{Search: "declined"}); !slices.Equal(got, []int{int(r.ID - 1), 0}) {
		t.Errorf("Search declined: rows %v", got)
	}
	checkFTS(t, path)
}

// indexedTo reads search_state.indexed_to.
func indexedTo(t *testing.T, path string) int64 {
	t.Helper()
	var n int64
	if err := rawDB(t, path).QueryRow("SELECT indexed_to FROM search_state").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSearchTail: requests are indexed after their commit, yet a search finds every request
// recorded before it, whether it runs in the writing process, in a read-only store of another,
// or after the writer was stopped with its tail unindexed.
func TestSearchTail(t *testing.T) {
	ctx := context.Background()
	path := logPath(t)
	s := openStore(t, Config{Path: path})
	add := func(s *Store, word string) int64 {
		r := &webhook.Request{Method: "POST", URI: "/t", Body: []byte(`{"word":"` + word + `"}`)}
		if err := s.AddRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
		return r.ID
	}
	// In the writing process: found at once, and the search indexed the tail.
	first := add(s, "alpha")
	if got := searchIDs(t, s, Filter{Search: "alpha"}); !slices.Equal(got, []int64{first}) {
		t.Errorf("search alpha = %v, want [%d]", got, first)
	}
	if n := indexedTo(t, path); n != first {
		t.Errorf("indexed_to = %d after a search, want %d", n, first)
	}

	// A reader in another store (as `requests list --search` while listen runs) indexes the
	// tail itself, under the write lock, and finds it.
	second := add(s, "beta")
	ro := openStore(t, Config{Path: path, ReadOnly: true})
	if got := searchIDs(t, ro, Filter{Search: "beta"}); !slices.Equal(got, []int64{second}) {
		t.Errorf("read-only search beta = %v, want [%d]", got, second)
	}

	// A tail left behind (indexed_to set back, as after a kill) is indexed when a writer
	// starts, without a search.
	third := add(s, "gamma")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db := rawDB(t, path)
	if _, err := db.Exec("DELETE FROM requests_fts WHERE rowid = ?", third); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("UPDATE search_state SET indexed_to = ?", second); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, Config{Path: path})
	if err := s.Flush(ctx); err != nil { // the writer indexes the tail before anything else
		t.Fatal(err)
	}
	if n := indexedTo(t, path); n != third {
		t.Errorf("indexed_to = %d after a writer started, want %d", n, third)
	}
	checkFTS(t, path)
	if got := searchIDs(t, s, Filter{Search: "gamma"}); !slices.Equal(got, []int64{third}) {
		t.Errorf("search gamma = %v, want [%d]", got, third)
	}

	// A burst is indexed once the writer has had nothing to do for a moment.
	var last int64
	for i := range 50 {
		last = add(s, fmt.Sprint("burst", i))
	}
	deadline := time.Now().Add(5 * time.Second)
	for indexedTo(t, path) != last {
		if time.Now().After(deadline) {
			t.Fatalf("indexed_to = %d five seconds after the burst, want %d", indexedTo(t, path), last)
		}
		time.Sleep(10 * time.Millisecond)
	}
	checkFTS(t, path)
}

// TestSearchHeaderPhrases: header names and values are found as the words they are made of, a
// name next to its value, as the user reads them ("X-Shop-Domain: acme.example").
func TestSearchHeaderPhrases(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, Config{Path: logPath(t)})
	r := &webhook.Request{Method: "POST", URI: "/h", Header: webhook.Headers{
		{Name: "Content-Type", Value: "application/json"},
		{Name: "X-Shop-Domain", Value: "acme.example"},
		{Name: "X-Quote", Value: `say "hi"`},
	}}
	if err := s.AddRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`"shop domain acme example"`, `"x quote say hi"`, "acme", `"content type application json"`} {
		if got := searchIDs(t, s, Filter{Search: q}); !slices.Equal(got, []int64{r.ID}) {
			t.Errorf("search %s = %v, want [%d]", q, got, r.ID)
		}
	}
	if got := searchIDs(t, s, Filter{Search: `"domain application"`}); len(got) != 0 {
		t.Errorf("a phrase across two headers in the wrong order matched: %v", got)
	}
}
