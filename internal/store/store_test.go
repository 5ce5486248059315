package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookctl/hookctl/internal/webhook"
)

// logPath returns a log path in a directory that does not exist yet.
func logPath(t *testing.T) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "data", "hookctl", "hookctl.db")
}

// openStore opens a store and closes it when the test ends.
func openStore(t *testing.T, cfg Config) *Store {
	t.Helper()
	s, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Open(%+v): %v", cfg, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// rawDB opens the log file directly, for checks and tampering.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", dsn(path, "busy_timeout(5000)"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

var testHeaders = webhook.Headers{
	{Name: "Content-Type", Value: "application/json"},
	{Name: "stripe-signature", Value: "t=1,v1=abc"},
	{Name: "X-Repeat", Value: "one"},
	{Name: "x-repeat", Value: "two"},
	{Name: "X-Repeat", Value: "three"},
	{Name: "X-Quotes", Value: `say "hi" \ back\slash`},
	{Name: "X-Control", Value: "tab\there\nnewline\x01\x7f"},
	{Name: "X-Unicode", Value: "héllo ✓ 日本 \u2028"},
	{Name: "X-Empty", Value: ""},
	{Name: "X-Latin1", Value: "caf\xe9"},
	{Name: "X-Bad\xff", Value: "name is not UTF-8"},
	{Name: "Host", Value: "example.com"},
}

func sampleRequest(i int, body []byte) *webhook.Request {
	return &webhook.Request{
		ReceivedAt:      time.Date(2026, 3, 4, 5, 6, 7, 123456789+i, time.FixedZone("X", 3600)),
		Method:          "POST",
		URI:             fmt.Sprintf("/hooks/stripe?attempt=%d&x=%%2F", i),
		Proto:           "HTTP/1.1",
		Host:            "abc.ngrok.app",
		Header:          testHeaders,
		Body:            body,
		BodySize:        int64(len(body)),
		RemoteAddr:      "10.0.0.1:5555",
		Ingress:         webhook.IngressNgrok,
		Provider:        "stripe",
		EventType:       "payment_intent.succeeded",
		DeliveryID:      fmt.Sprintf("evt_%d", i),
		Signature:       webhook.SignatureValid,
		SignatureReason: "v1 matched",
		Rejected:        "",
	}
}

func checkRequest(t *testing.T, want, got *webhook.Request) {
	t.Helper()
	if !got.ReceivedAt.Equal(want.ReceivedAt) {
		t.Errorf("ReceivedAt = %v, want %v", got.ReceivedAt, want.ReceivedAt)
	}
	if !want.ReceivedAt.IsZero() && got.ReceivedAt.Location() != time.UTC {
		t.Errorf("ReceivedAt location = %v, want UTC", got.ReceivedAt.Location())
	}
	if !bytes.Equal(got.Body, want.Body) {
		t.Errorf("Body differs: got %d bytes %q..., want %d bytes", len(got.Body), trunc(got.Body), len(want.Body))
	}
	if want.Body != nil && got.Body == nil {
		t.Errorf("Body: got nil, want non-nil")
	}
	if !reflect.DeepEqual(got.Header, want.Header) {
		t.Errorf("Header = %q, want %q", got.Header, want.Header)
	}
	g, w := *got, *want
	g.ReceivedAt, w.ReceivedAt = time.Time{}, time.Time{}
	g.Body, w.Body = nil, nil
	g.Header, w.Header = nil, nil
	if w.Signature == "" {
		w.Signature = webhook.SignatureUnchecked
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("request = %+v, want %+v", g, w)
	}
}

func trunc(b []byte) []byte {
	if len(b) > 32 {
		return b[:32]
	}
	return b
}

func checkAttempt(t *testing.T, want, got webhook.Attempt) {
	t.Helper()
	if !got.StartedAt.Equal(want.StartedAt) {
		t.Errorf("StartedAt = %v, want %v", got.StartedAt, want.StartedAt)
	}
	if !want.StartedAt.IsZero() && got.StartedAt.Location() != time.UTC {
		t.Errorf("StartedAt location = %v, want UTC", got.StartedAt.Location())
	}
	if !bytes.Equal(got.Body, want.Body) {
		t.Errorf("Body differs: got %d bytes, want %d", len(got.Body), len(want.Body))
	}
	if !reflect.DeepEqual(got.Header, want.Header) {
		t.Errorf("Header = %q, want %q", got.Header, want.Header)
	}
	got.StartedAt, want.StartedAt = time.Time{}, time.Time{}
	got.Body, want.Body = nil, nil
	got.Header, want.Header = nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("attempt = %+v, want %+v", got, want)
	}
}

func bodies() []struct {
	name string
	body []byte
} {
	mib := make([]byte, 1<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range mib {
		mib[i] = byte(rng.UintN(256))
	}
	return []struct {
		name string
		body []byte
	}{
		{"json", []byte(`{"id":"evt_1","object":"event","data":{"amount":1099,"note":"café \u00e9"}}` + "\n")},
		{"json-not-reencoded", []byte("{ \"b\" : 1,\n\t\"a\":[1.0, 2e3] }")},
		{"binary", []byte{0x00, 0x01, 0xff, 0xfe, 0x00, 0x80, 0x7f}},
		{"non-utf8", []byte("caf\xe9 \xc3\x28 \xa0\xa1")},
		{"nul-bytes", []byte("a\x00b\x00\x00c")},
		{"form", []byte("a=1&b=%20x&c=%C3%A9")},
		{"empty", []byte{}},
		{"nil", nil},
		{"1MiB", mib},
	}
}

func TestRoundTripRequest(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, Config{Path: logPath(t)})
	for i, tc := range bodies() {
		t.Run(tc.name, func(t *testing.T) {
			want := sampleRequest(i, tc.body)
			if err := s.AddRequest(ctx, want); err != nil {
				t.Fatal(err)
			}
			if want.ID == 0 {
				t.Fatal("ID not set")
			}
			got, err := s.Request(ctx, want.ID)
			if err != nil {
				t.Fatal(err)
			}
			checkRequest(t, want, got)
		})
	}
}

func TestRoundTripRequestFields(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, Config{Path: logPath(t)})
	tests := []struct {
		name string
		req  *webhook.Request
	}{
		{"zero", &webhook.Request{}},
		{"unchecked-default", &webhook.Request{Method: "GET", URI: "/"}},
		{"rejected", &webhook.Request{
			ReceivedAt: time.Unix(0, 1).UTC(), Method: "POST", URI: "/big", BodySize: 99 << 20,
			Rejected: "body exceeds 25MiB", Signature: webhook.SignatureUnsigned,
		}},
		{"ns-precision", &webhook.Request{ReceivedAt: time.Unix(1700000000, 999999999)}},
		{"far-future", &webhook.Request{ReceivedAt: time.Date(2261, 12, 31, 0, 0, 0, 1, time.UTC)}},
		{"pre-epoch", &webhook.Request{ReceivedAt: time.Date(1969, 12, 31, 23, 59, 59, 5, time.UTC)}},
		{"no-headers", &webhook.Request{Header: nil, Body: []byte("x")}},
		{"odd-uri", &webhook.Request{URI: "/a%2Fb/../c?q=%zz&&=#frag", Host: "[::1]:80"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.AddRequest(ctx, tc.req); err != nil {
				t.Fatal(err)
			}
			got, err := s.Request(ctx, tc.req.ID)
			if err != nil {
				t.Fatal(err)
			}
			checkRequest(t, tc.req, got)
		})
	}
}

func TestTimeOutOfRange(t *testing.T) {
	s := openStore(t, Config{Path: logPath(t)})
	r := &webhook.Request{ReceivedAt: time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC)}
	if err := s.AddRequest(context.Background(), r); err == nil || !strings.Contains(err.Error(), "range") {
		t.Fatalf("AddRequest(year 1500) = %v, want range error", err)
	}
}

func TestRoundTripAttempts(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, Config{Path: logPath(t)})
	req := sampleRequest(0, []byte("{}"))
	if err := s.AddRequest(ctx, req); err != nil {
		t.Fatal(err)
	}
	var want []webhook.Attempt
	kinds := []webhook.AttemptKind{webhook.KindForward, webhook.KindReplay, webhook.KindRedelivery, webhook.KindReplay}
	for i, tc := range bodies() {
		a := webhook.Attempt{
			RequestID: req.ID,
			Kind:      kinds[i%len(kinds)],
			Target:    "http://localhost:3000/hooks/stripe?x=1",
			StartedAt: time.Date(2026, 3, 4, 5, 6, 8, i, time.Local),
			Duration:  time.Duration(i)*time.Millisecond + 7,
			Status:    200 + i,
			Header:    webhook.Headers{{Name: "Content-Type", Value: "text/plain"}, {Name: "set-cookie", Value: "a=1"}, {Name: "Set-Cookie", Value: "b=2"}},
			Body:      tc.body,
			BodySize:  int64(len(tc.body)) + 10,
		}
		if i == 2 {
			a.Status, a.Error, a.Header = 0, "dial tcp 127.0.0.1:3000: connect: connection refused", nil
		}
		if err := s.AddAttempt(ctx, &a); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if a.ID == 0 {
			t.Fatal("ID not set")
		}
		want = append(want, a)
	}

	got, err := s.Attempts(ctx, req.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("got %d attempts, want %d", len(got), len(want))
	}
	for i := range want {
		checkAttempt(t, want[i], got[i])
	}

	for _, tc := range []struct {
		kind webhook.AttemptKind
		want int // index in want
	}{
		{"", len(want) - 1},
		{webhook.KindForward, 8},
		{webhook.KindReplay, 7},
		{webhook.KindRedelivery, 6},
	} {
		last, err := s.LastAttempt(ctx, req.ID, tc.kind)
		if err != nil {
			t.Fatalf("LastAttempt(%q): %v", tc.kind, err)
		}
		checkAttempt(t, want[tc.want], *last)
	}

	if _, err := s.LastAttempt(ctx, req.ID, "nonexistent"); !errors.Is(err, ErrNotFound) {
		t.Errorf("LastAttempt(unknown kind) = %v, want ErrNotFound", err)
	}
	none, err := s.Attempts(ctx, req.ID+1000)
	if err != nil || len(none) != 0 {
		t.Errorf("Attempts(unknown) = %v, %v; want empty", none, err)
	}
}

func TestNotFound(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, Config{Path: logPath(t)})
	req := &webhook.Request{Method: "POST"}
	if err := s.AddRequest(ctx, req); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		call func() error
	}{
		{"Request", func() error { _, err := s.Request(ctx, 4242); return err }},
		{"Request(0)", func() error { _, err := s.Request(ctx, 0); return err }},
		{"LastAttempt(no attempts)", func() error { _, err := s.LastAttempt(ctx, req.ID, ""); return err }},
		{"LastAttempt(unknown)", func() error { _, err := s.LastAttempt(ctx, 4242, webhook.KindReplay); return err }},
		{"AddAttempt(unknown)", func() error {
			return s.AddAttempt(ctx, &webhook.Attempt{RequestID: 4242, Kind: webhook.KindReplay})
		}},
		{"AddAttempt(0)", func() error { return s.AddAttempt(ctx, &webhook.Attempt{Kind: webhook.KindReplay}) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if !errors.Is(err, ErrNotFound) {
				t.Fatalf("err = %v, want ErrNotFound", err)
			}
			t.Log(err)
		})
	}
	_, err := s.Request(ctx, 4242)
	if got, want := err.Error(), "request 4242: not found"; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
	n, err := s.Count(ctx)
	if err != nil || n != 1 {
		t.Errorf("Count = %d, %v; want 1", n, err)
	}
}

func TestReopen(t *testing.T) {
	ctx := context.Background()
	path := logPath(t)
	s, err := Open(ctx, Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	var reqs []*webhook.Request
	bs := bodies()
	for i, tc := range bs {
		r := sampleRequest(i, tc.body)
		if err := s.AddRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
		a := &webhook.Attempt{RequestID: r.ID, Kind: webhook.KindForward, Status: 201, Body: tc.body}
		if err := s.AddAttempt(ctx, a); err != nil {
			t.Fatal(err)
		}
		reqs = append(reqs, r)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// The final checkpoint leaves no WAL content behind.
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() != 0 {
		t.Errorf("WAL is %d bytes after Close, want 0 or absent", fi.Size())
	}

	for _, ro := range []bool{false, true} {
		s2 := openStore(t, Config{Path: path, ReadOnly: ro})
		for i, want := range reqs {
			got, err := s2.Request(ctx, want.ID)
			if err != nil {
				t.Fatal(err)
			}
			checkRequest(t, want, got)
			last, err := s2.LastAttempt(ctx, want.ID, "")
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(last.Body, bs[i].body) || last.Status != 201 {
				t.Errorf("attempt of %d does not round-trip", want.ID)
			}
		}
		if err := s2.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// A new request after reopening gets a new id.
	s3 := openStore(t, Config{Path: path})
	r := &webhook.Request{}
	if err := s3.AddRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	if r.ID != reqs[len(reqs)-1].ID+1 {
		t.Errorf("id after reopen = %d, want %d", r.ID, reqs[len(reqs)-1].ID+1)
	}
}

func TestConcurrentAddRequest(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, Config{Path: logPath(t)})
	const n = 200
	reqs := make([]*webhook.Request, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		reqs[i] = sampleRequest(i, []byte(fmt.Sprintf(`{"n":%d}`, i)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.AddRequest(ctx, reqs[i])
		}()
	}
	wg.Wait()
	seen := make(map[int64]bool)
	for i, r := range reqs {
		if errs[i] != nil {
			t.Fatalf("AddRequest %d: %v", i, errs[i])
		}
		if r.ID <= 0 || seen[r.ID] {
			t.Fatalf("request %d got id %d (duplicate or invalid)", i, r.ID)
		}
		seen[r.ID] = true
		got, err := s.Request(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		checkRequest(t, r, got)
	}
	if c, err := s.Count(ctx); err != nil || c != n {
		t.Fatalf("Count = %d, %v; want %d", c, err, n)
	}
	t.Logf("%d requests in %d transactions", n, s.batches.Load())
}

func TestList(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, Config{Path: logPath(t)})
	const n = 120
	var ids []int64
	for i := range n {
		r := sampleRequest(i, []byte(strings.Repeat("x", i)))
		r.Rejected = map[bool]string{true: "too big"}[i%7 == 0]
		if err := s.AddRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
		// Request i gets i%4 attempts; the last one's outcome is recognisable.
		for k := range i % 4 {
			a := &webhook.Attempt{RequestID: r.ID, Kind: webhook.KindReplay, Status: 500 + k,
				Duration: time.Duration(k+1) * time.Millisecond, Error: fmt.Sprintf("err %d/%d", i, k),
				Body: []byte("response")}
			if err := s.AddAttempt(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
	}
	index := make(map[int64]int)
	for i, id := range ids {
		index[id] = i
	}

	tests := []struct {
		name    string
		f       Filter
		wantIDs []int64 // newest first
	}{
		{"default", Filter{}, reverse(ids[n-50:])},
		{"limit", Filter{Limit: 3}, reverse(ids[n-3:])},
		{"all", Filter{Limit: 1000}, reverse(ids)},
		{"before", Filter{Limit: 5, BeforeID: ids[10]}, reverse(ids[5:10])},
		{"before-near-start", Filter{Limit: 5, BeforeID: ids[2]}, reverse(ids[:2])},
		{"after", Filter{Limit: 500, AfterID: ids[n-4]}, reverse(ids[n-3:])},
		{"after-limited", Filter{Limit: 2, AfterID: ids[10]}, reverse(ids[n-2:])},
		{"between", Filter{BeforeID: ids[20], AfterID: ids[15]}, reverse(ids[16:20])},
		{"after-newest", Filter{AfterID: ids[n-1]}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.List(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var gotIDs []int64
			for _, sum := range got {
				gotIDs = append(gotIDs, sum.ID)
			}
			if !reflect.DeepEqual(gotIDs, tc.wantIDs) {
				t.Fatalf("ids = %v, want %v", gotIDs, tc.wantIDs)
			}
			for _, sum := range got {
				i := index[sum.ID]
				want := sampleRequest(i, []byte(strings.Repeat("x", i)))
				want.ID = sum.ID
				want.Rejected = map[bool]string{true: "too big"}[i%7 == 0]
				var last *webhook.Attempt
				if k := i % 4; k > 0 {
					last = &webhook.Attempt{Status: 500 + k - 1, Duration: time.Duration(k) * time.Millisecond,
						Error: fmt.Sprintf("err %d/%d", i, k-1)}
				}
				ws := webhook.Summarize(want, last, i%4)
				if !sum.ReceivedAt.Equal(ws.ReceivedAt) || sum.ReceivedAt.Location() != time.UTC {
					t.Errorf("ReceivedAt = %v, want %v in UTC", sum.ReceivedAt, ws.ReceivedAt)
				}
				sum.ReceivedAt, ws.ReceivedAt = time.Time{}, time.Time{}
				if sum != ws {
					t.Errorf("summary = %+v, want %+v", sum, ws)
				}
			}
		})
	}
}

func reverse(ids []int64) []int64 {
	out := make([]int64, len(ids))
	for i, id := range ids {
		out[len(ids)-1-i] = id
	}
	return out
}

// queryPlan returns the lines of EXPLAIN QUERY PLAN for query.
func queryPlan(t *testing.T, db *sql.DB, query string, args ...any) string {
	t.Helper()
	rows, err := db.Query("EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(plan, "\n")
}

// TestListQueryPlan guards the property that keeps List fast on a huge log: it walks the
// primary key (backwards, or forwards for Oldest) and reaches attempts through the index,
// never sorting or scanning, with or without filters; a status filter looks at the latest
// attempt through the index too.
func TestListQueryPlan(t *testing.T) {
	path := logPath(t)
	openStore(t, Config{Path: path})
	db := rawDB(t, path)
	tests := []struct {
		name string
		f    Filter
	}{
		{"unfiltered", Filter{}},
		{"oldest", Filter{Oldest: true}},
		{"method", Filter{Method: "POST"}},
		{"path", Filter{Path: "stripe"}},
		{"event", Filter{EventType: "invoice.*"}},
		{"text", Filter{Text: "needle"}},
		{"status-5xx", Filter{Status: "5xx"}},
		{"status-failed", Filter{Status: "failed"}},
		{"status-none", Filter{Status: "none"}},
		{"status-rejected", Filter{Status: "rejected"}},
		{"status+text", Filter{Status: "5xx", Text: "needle"}},
		{"all", Filter{Oldest: true, Method: "POST", Path: "/a*", Status: "404", EventType: "push", Text: "x"}},
		{"provider", Filter{Provider: "stripe"}},
		{"signature", Filter{Signature: "invalid"}},
		{"since", Filter{Since: time.Now().Add(-time.Hour)}},
		{"time-range", Filter{Since: time.Unix(1, 0), Until: time.Unix(2, 0)}},
		{"search", Filter{Search: "needle"}},
		{"search-oldest", Filter{Search: "needle", Oldest: true}},
		{"search+status", Filter{Search: "needle", Status: "5xx"}},
		{"search+all", Filter{Oldest: true, Method: "POST", Path: "/a*", Status: "404", EventType: "push", Text: "x",
			Provider: "github", Signature: "valid", Since: time.Unix(1, 0), Until: time.Unix(2, 0), Search: `"card declined" x*`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			query, args := listQuery, []any{int64(1 << 62), 0, 50}
			if tc.f.filtered() {
				q, more, err := listStatement(tc.f, len(args))
				if err != nil {
					t.Fatal(err)
				}
				query, args = q, append(args, more...)
			}
			text := queryPlan(t, db, query, args...)
			t.Logf("plan:\n%s", text)
			if tc.f.Search != "" {
				// The full-text index drives: it yields the matching ids in order, between the
				// keyset bounds (the "rowid" constraints), and each is looked up by id.
				if !strings.Contains(text, "SCAN f VIRTUAL TABLE INDEX") || strings.Index(text, "SCAN f") > strings.Index(text, "SEARCH r") {
					t.Errorf("plan does not walk the full-text index first:\n%s", text)
				}
			}
			for _, bad := range []string{"TEMP B-TREE", "SCAN r", "SCAN a", "SCAN c", "SCAN l", "requests_received_at"} {
				if strings.Contains(text, bad) {
					t.Errorf("plan contains %q:\n%s", bad, text)
				}
			}
			for _, want := range []string{
				"SEARCH r USING INTEGER PRIMARY KEY",
				"SEARCH a USING INTEGER PRIMARY KEY",
				"SEARCH l USING COVERING INDEX attempts_request",
				"SEARCH c USING COVERING INDEX attempts_request",
			} {
				if !strings.Contains(text, want) {
					t.Errorf("plan lacks %q:\n%s", want, text)
				}
			}
		})
	}
}

func TestCorruptFile(t *testing.T) {
	// A real log whose schema page is then overwritten.
	valid := func(t *testing.T) []byte {
		path := filepath.Join(t.TempDir(), "valid.db")
		s, err := Open(context.Background(), Config{Path: path})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name    string
		content func(t *testing.T) []byte
	}{
		{"text", func(*testing.T) []byte {
			return []byte("this is not a database, it is a text file somebody put here.\n" + strings.Repeat("junk ", 2000))
		}},
		{"binary", func(*testing.T) []byte {
			b := make([]byte, 8192)
			rng := rand.New(rand.NewPCG(3, 4))
			for i := range b {
				b[i] = byte(rng.UintN(256))
			}
			return b
		}},
		{"bad-header", func(t *testing.T) []byte {
			b := valid(t)
			copy(b[16:], []byte{0xff, 0xff, 0xff, 0xff}) // impossible page size and versions
			return b
		}},
		{"corrupt-schema", func(t *testing.T) []byte {
			b := valid(t)
			for i := 100; i < 4096; i++ {
				b[i] = 0xa5
			}
			return b
		}},
	}
	for _, tc := range tests {
		for _, ro := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/readonly=%v", tc.name, ro), func(t *testing.T) {
				garbage := tc.content(t)
				dir := t.TempDir()
				path := filepath.Join(dir, "hookctl.db")
				if err := os.WriteFile(path, garbage, 0o644); err != nil {
					t.Fatal(err)
				}
				before, _ := os.Stat(path)
				s, err := Open(context.Background(), Config{Path: path, ReadOnly: ro})
				if err == nil {
					s.Close()
					t.Fatal("Open succeeded on a corrupt file")
				}
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("err = %v, want ErrCorrupt", err)
				}
				msg := err.Error()
				if !strings.Contains(msg, path) || !strings.Contains(msg, "move the file aside") || !strings.Contains(msg, "--db") {
					t.Errorf("message %q should name the path and say to move the file aside or use --db", msg)
				}
				t.Log(msg)
				after, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(after, garbage) {
					t.Error("the corrupt file was modified")
				}
				fi, _ := os.Stat(path)
				if fi.Mode() != before.Mode() || !fi.ModTime().Equal(before.ModTime()) {
					t.Errorf("file mode/mtime changed: %v %v -> %v %v", before.Mode(), before.ModTime(), fi.Mode(), fi.ModTime())
				}
				entries, _ := os.ReadDir(dir)
				if len(entries) != 1 {
					var names []string
					for _, e := range entries {
						names = append(names, e.Name())
					}
					t.Errorf("directory holds %v, want only the corrupt file", names)
				}
			})
		}
	}
}

func TestForeignDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "other.db")
	db := rawDB(t, path)
	if _, err := db.Exec("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err := Open(context.Background(), Config{Path: path})
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) {
		t.Fatalf("err = %v, want ErrCorrupt naming the path", err)
	}
	t.Log(err)
}

func TestUnwritableDirectory(t *testing.T) {
	t.Run("parent-is-a-file", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "file")
		if err := os.WriteFile(file, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(file, "sub", "hookctl.db")
		_, err := Open(context.Background(), Config{Path: path})
		if err == nil || !strings.Contains(err.Error(), filepath.Join(file, "sub")) {
			t.Fatalf("err = %v, want an error naming the directory", err)
		}
		t.Log(err)
	})
	t.Run("path-is-a-directory", func(t *testing.T) {
		path := t.TempDir()
		_, err := Open(context.Background(), Config{Path: path})
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Fatalf("err = %v, want an error naming the path", err)
		}
		t.Log(err)
	})
	t.Run("read-only-directory", func(t *testing.T) {
		if runtime.GOOS == "windows" || os.Geteuid() == 0 {
			t.Skip("permissions are not enforced for this user")
		}
		dir := filepath.Join(t.TempDir(), "ro")
		if err := os.Mkdir(dir, 0o500); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(dir, 0o700) })
		path := filepath.Join(dir, "hookctl.db")
		_, err := Open(context.Background(), Config{Path: path})
		if !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), path) {
			t.Fatalf("err = %v, want a permission error naming the path", err)
		}
	})
}

func TestNewerSchema(t *testing.T) {
	path := logPath(t)
	s, err := Open(context.Background(), Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db := rawDB(t, path)
	if _, err := db.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, '0999_future', 0)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	for _, ro := range []bool{false, true} {
		_, err := Open(context.Background(), Config{Path: path, ReadOnly: ro})
		if !errors.Is(err, ErrNewerSchema) {
			t.Fatalf("readonly=%v: err = %v, want ErrNewerSchema", ro, err)
		}
		if !strings.Contains(err.Error(), path) {
			t.Errorf("message %q does not name the path", err)
		}
		t.Log(err)
	}
}

func TestMigrations(t *testing.T) {
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 || ms[0].version != 1 {
		t.Fatalf("migrations = %v", ms)
	}
	// Several processes (here: stores) opening a fresh log at once apply each migration once.
	path := logPath(t)
	var wg sync.WaitGroup
	errs := make([]error, 6)
	stores := make([]*Store, 6)
	for i := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = Open(context.Background(), Config{Path: path, ReadOnly: i%2 == 1})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	db := rawDB(t, path)
	var n, maxV int
	if err := db.QueryRow("SELECT count(*), max(version) FROM schema_migrations").Scan(&n, &maxV); err != nil {
		t.Fatal(err)
	}
	if n != len(ms) || maxV != len(ms) {
		t.Errorf("schema_migrations has %d rows up to %d, want %d", n, maxV, len(ms))
	}
	var mode string
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
}

func TestTwoStoresOneFile(t *testing.T) {
	ctx := context.Background()
	path := logPath(t)
	writer := openStore(t, Config{Path: path, CheckpointInterval: 5 * time.Millisecond})
	reader := openStore(t, Config{Path: path, ReadOnly: true})
	replayer := openStore(t, Config{Path: path, CheckpointInterval: 7 * time.Millisecond})

	const n = 150
	var wg sync.WaitGroup
	var mu sync.Mutex
	ids := make(map[int64]string)
	write := func(s *Store, name string) {
		defer wg.Done()
		for i := range n {
			r := sampleRequest(i, []byte(name))
			if err := s.AddRequest(ctx, r); err != nil {
				t.Errorf("%s: %v", name, err)
				return
			}
			a := &webhook.Attempt{RequestID: r.ID, Kind: webhook.KindReplay, Status: 200}
			if err := s.AddAttempt(ctx, a); err != nil {
				t.Errorf("%s: %v", name, err)
				return
			}
			mu.Lock()
			if other, dup := ids[r.ID]; dup {
				t.Errorf("id %d given to %s and %s", r.ID, other, name)
			}
			ids[r.ID] = name
			mu.Unlock()
		}
	}
	wg.Add(2)
	go write(writer, "listen")
	go write(replayer, "replay")

	// Meanwhile the read-only store lists, and sees a consistent, growing log.
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	var lastCount int64
	for reading := true; reading; {
		select {
		case <-done:
			reading = false
		default:
		}
		c, err := reader.Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if c < lastCount {
			t.Fatalf("count went down: %d -> %d", lastCount, c)
		}
		lastCount = c
		if _, err := reader.List(ctx, Filter{Limit: 20}); err != nil {
			t.Fatal(err)
		}
	}
	if c, err := reader.Count(ctx); err != nil || c != 2*n {
		t.Fatalf("reader Count = %d, %v; want %d", c, err, 2*n)
	}
	for id, name := range ids {
		r, err := reader.Request(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if string(r.Body) != name {
			t.Fatalf("request %d body = %q, want %q", id, r.Body, name)
		}
	}
	// Writes from one store are visible to the other writer too.
	list, err := writer.List(ctx, Filter{Limit: 2 * n})
	if err != nil || len(list) != 2*n {
		t.Fatalf("writer List = %d rows, %v", len(list), err)
	}
	for _, sum := range list {
		if sum.Attempts != 1 || sum.Status != 200 {
			t.Fatalf("summary %+v lacks its attempt", sum)
		}
	}
}

func TestCloseFlushesAndIsIdempotent(t *testing.T) {
	ctx := context.Background()
	path := logPath(t)
	s, err := Open(ctx, Config{Path: path, MaxBatch: 8})
	if err != nil {
		t.Fatal(err)
	}
	const n = 300
	var wg sync.WaitGroup
	reqs := make([]*webhook.Request, n)
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		reqs[i] = &webhook.Request{Method: "POST", Body: []byte(fmt.Sprint(i))}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = s.AddRequest(ctx, reqs[i])
		}()
	}
	close(start)
	time.Sleep(time.Millisecond)
	closeErrs := make(chan error, 2)
	go func() { closeErrs <- s.Close() }()
	go func() { closeErrs <- s.Close() }()
	for range 2 {
		if err := <-closeErrs; err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Fatalf("third Close: %v", err)
	}

	accepted := 0
	for i, err := range errs {
		switch {
		case err == nil:
			accepted++
		case errors.Is(err, ErrClosed):
		default:
			t.Fatalf("AddRequest %d: %v", i, err)
		}
	}
	s2 := openStore(t, Config{Path: path, ReadOnly: true})
	c, err := s2.Count(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c != int64(accepted) {
		t.Fatalf("log holds %d rows, %d AddRequest calls succeeded", c, accepted)
	}
	for i, r := range reqs {
		if errs[i] != nil {
			continue
		}
		got, err := s2.Request(ctx, r.ID)
		if err != nil || string(got.Body) != fmt.Sprint(i) {
			t.Fatalf("request %d (id %d): %v", i, r.ID, err)
		}
	}
	t.Logf("%d of %d accepted before Close", accepted, n)

	// After Close, every method fails cleanly.
	if err := s.AddRequest(ctx, &webhook.Request{}); !errors.Is(err, ErrClosed) {
		t.Errorf("AddRequest after Close = %v", err)
	}
	if _, err := s.List(ctx, Filter{}); !errors.Is(err, ErrClosed) {
		t.Errorf("List after Close = %v", err)
	}
	if _, err := s.Request(ctx, 1); !errors.Is(err, ErrClosed) {
		t.Errorf("Request after Close = %v", err)
	}
}

func TestFileMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes")
	}
	path := logPath(t)
	s := openStore(t, Config{Path: path})
	if err := s.AddRequest(context.Background(), &webhook.Request{Body: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode = %v, want 0600", filepath.Base(p), fi.Mode().Perm())
		}
	}
	fi, err := os.Stat(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("directory mode = %v, want 0700", fi.Mode().Perm())
	}
	if s.Path() != path {
		t.Errorf("Path() = %q, want %q", s.Path(), path)
	}
}

// queueBehindLock runs calls concurrently while another connection holds the log's write lock,
// so that the writer waits in BEGIN with the first op while the rest queue up behind it; it
// releases the lock once the queue stops growing and returns how many transactions the writer
// committed for them.
func queueBehindLock(t *testing.T, s *Store, calls []func()) uint64 {
	t.Helper()
	ctx := context.Background()
	lock, err := rawDB(t, s.Path()).Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if _, err := lock.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	before := s.batches.Load()
	var wg sync.WaitGroup
	for _, call := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			call()
		}()
	}
	deadline := time.Now().Add(3 * time.Second)
	for prev, stable := -1, 0; stable < 20 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
		if l := len(s.ops); l == prev && l > 0 {
			stable++
		} else {
			prev, stable = l, 0
		}
	}
	if _, err := lock.ExecContext(ctx, "COMMIT"); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	return s.batches.Load() - before
}

// TestBatchIsolation forces good and bad inserts into one group-commit transaction and checks
// that only the bad ones fail.
func TestBatchIsolation(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, Config{Path: logPath(t)})
	parent := &webhook.Request{Method: "POST"}
	if err := s.AddRequest(ctx, parent); err != nil {
		t.Fatal(err)
	}

	const n = 60
	type result struct {
		bad bool
		err error
		id  int64
	}
	results := make([]result, n)
	calls := make([]func(), n)
	for i := range n {
		calls[i] = func() {
			switch i % 3 {
			case 0:
				r := &webhook.Request{Body: []byte(fmt.Sprint(i))}
				err := s.AddRequest(ctx, r)
				results[i] = result{err: err, id: r.ID}
			case 1:
				a := &webhook.Attempt{RequestID: parent.ID, Kind: webhook.KindReplay, Status: i}
				err := s.AddAttempt(ctx, a)
				results[i] = result{err: err, id: a.ID}
			case 2:
				a := &webhook.Attempt{RequestID: 1_000_000 + int64(i), Kind: webhook.KindReplay}
				err := s.AddAttempt(ctx, a)
				results[i] = result{bad: true, err: err}
			}
		}
	}
	txs := queueBehindLock(t, s, calls)

	for i, r := range results {
		if r.bad {
			if !errors.Is(r.err, ErrNotFound) {
				t.Errorf("op %d: err = %v, want ErrNotFound", i, r.err)
			}
			continue
		}
		if r.err != nil || r.id == 0 {
			t.Errorf("op %d: err = %v, id = %d", i, r.err, r.id)
		}
	}
	if txs > 3 {
		t.Errorf("%d ops took %d transactions; the test did not build a mixed batch", n, txs)
	} else {
		t.Logf("%d ops in %d transactions", n, txs)
	}
	as, err := s.Attempts(ctx, parent.ID)
	if err != nil || len(as) != n/3 {
		t.Errorf("parent has %d attempts (%v), want %d", len(as), err, n/3)
	}
	c, _ := s.Count(ctx)
	if c != 1+n/3 {
		t.Errorf("Count = %d, want %d", c, 1+n/3)
	}
}

// TestBatchBrokenTransaction makes one op of a batch abort the whole transaction (a trigger
// raising ROLLBACK, standing in for an I/O error or a full disk) and checks that its
// batch-mates are retried and committed.
func TestBatchBrokenTransaction(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, Config{Path: logPath(t)})
	db := rawDB(t, s.Path())
	if _, err := db.Exec(`CREATE TRIGGER boom BEFORE INSERT ON requests WHEN NEW.method = 'BOOM'
		BEGIN SELECT RAISE(ROLLBACK, 'boom'); END`); err != nil {
		t.Fatal(err)
	}
	const n = 40
	reqs := make([]*webhook.Request, n)
	errs := make([]error, n)
	calls := make([]func(), n)
	for i := range n {
		reqs[i] = &webhook.Request{Method: "POST", Body: []byte(fmt.Sprint(i))}
		if i%10 == 5 {
			reqs[i].Method = "BOOM"
		}
		calls[i] = func() { errs[i] = s.AddRequest(ctx, reqs[i]) }
	}
	txs := queueBehindLock(t, s, calls)
	t.Logf("%d ops in %d transactions", n, txs)
	for i := range n {
		if reqs[i].Method == "BOOM" {
			if errs[i] == nil || !strings.Contains(errs[i].Error(), "boom") {
				t.Errorf("op %d: err = %v, want boom", i, errs[i])
			}
			continue
		}
		if errs[i] != nil {
			t.Fatalf("op %d: %v", i, errs[i])
		}
		got, err := s.Request(ctx, reqs[i].ID)
		if err != nil || string(got.Body) != fmt.Sprint(i) {
			t.Fatalf("op %d (id %d): %v", i, reqs[i].ID, err)
		}
	}
	if c, _ := s.Count(ctx); c != n-n/10 {
		t.Errorf("Count = %d, want %d", c, n-n/10)
	}
}

func TestContextCancelled(t *testing.T) {
	s := openStore(t, Config{Path: logPath(t)})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.AddRequest(ctx, &webhook.Request{}); !errors.Is(err, context.Canceled) {
		t.Errorf("AddRequest = %v, want context.Canceled", err)
	}
	if _, err := s.List(ctx, Filter{}); !errors.Is(err, context.Canceled) {
		t.Errorf("List = %v, want context.Canceled", err)
	}

	// A deadline that expires while the writer is blocked by another process's lock.
	path := s.Path()
	lock, err := rawDB(t, path).Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if _, err := lock.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s.AddRequest(ctx, &webhook.Request{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("AddRequest = %v, want context.DeadlineExceeded", err)
	}
	if _, err := lock.ExecContext(context.Background(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
}

func TestLocked(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the 5s busy timeout")
	}
	path := logPath(t)
	s := openStore(t, Config{Path: path})
	lock, err := rawDB(t, path).Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if _, err := lock.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = s.AddRequest(context.Background(), &webhook.Request{})
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "locked by another process") {
		t.Fatalf("err = %v, want ErrLocked", err)
	}
	t.Logf("%v after %v", err, time.Since(start).Round(time.Millisecond))
	lock.ExecContext(context.Background(), "ROLLBACK")
	if err := s.AddRequest(context.Background(), &webhook.Request{}); err != nil {
		t.Fatalf("AddRequest after the lock went away: %v", err)
	}
}

func TestReadOnly(t *testing.T) {
	ctx := context.Background()
	// A read-only open of a missing log creates an empty, migrated one.
	s := openStore(t, Config{Path: logPath(t), ReadOnly: true})
	if c, err := s.Count(ctx); err != nil || c != 0 {
		t.Fatalf("Count = %d, %v", c, err)
	}
	if l, err := s.List(ctx, Filter{}); err != nil || len(l) != 0 {
		t.Fatalf("List = %v, %v", l, err)
	}
	if err := s.AddRequest(ctx, &webhook.Request{}); !errors.Is(err, ErrReadOnly) {
		t.Errorf("AddRequest = %v, want ErrReadOnly", err)
	}
	if err := s.AddAttempt(ctx, &webhook.Attempt{RequestID: 1, Kind: webhook.KindReplay}); !errors.Is(err, ErrReadOnly) {
		t.Errorf("AddAttempt = %v, want ErrReadOnly", err)
	}
	if err := Seed(ctx, s, 1, func(int) *webhook.Request { return &webhook.Request{} }); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Seed = %v, want ErrReadOnly", err)
	}
}

func TestConfig(t *testing.T) {
	ctx := context.Background()
	if _, err := Open(ctx, Config{}); err == nil {
		t.Error("Open without a path succeeded")
	}
	if _, err := Open(ctx, Config{Path: logPath(t), Synchronous: "sometimes"}); err == nil {
		t.Error("Open with a bad synchronous mode succeeded")
	}
	for _, mode := range []string{"normal", "full", "FULL"} {
		s := openStore(t, Config{Path: logPath(t), Synchronous: mode, MaxBatch: 1})
		if err := s.AddRequest(ctx, &webhook.Request{}); err != nil {
			t.Errorf("%s: %v", mode, err)
		}
	}
	// Special characters in the path survive the DSN.
	odd := filepath.Join(t.TempDir(), "we?ird #dir%20", "log file.db")
	s := openStore(t, Config{Path: odd})
	if err := s.AddRequest(ctx, &webhook.Request{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(odd); err != nil {
		t.Fatalf("log not at %q: %v", odd, err)
	}
	// A nil request or attempt is an error, not a panic.
	if err := s.AddRequest(ctx, nil); err == nil {
		t.Error("AddRequest(nil) succeeded")
	}
	if err := s.AddAttempt(ctx, nil); err == nil {
		t.Error("AddAttempt(nil) succeeded")
	}
}

func TestCheckpoints(t *testing.T) {
	ctx := context.Background()
	path := logPath(t)
	s := openStore(t, Config{Path: path, CheckpointInterval: 5 * time.Millisecond})
	for i := range 50 {
		if err := s.AddRequest(ctx, sampleRequest(i, make([]byte, 4096))); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.checkpoints.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no checkpoint ran")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// The writer connection never checkpoints by itself.
	var n int
	if err := s.w.conn.QueryRowContext(ctx, "PRAGMA wal_autocheckpoint").Scan(&n); err != nil || n != 0 {
		t.Errorf("wal_autocheckpoint = %d, %v; want 0", n, err)
	}
}

func TestSeed(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, Config{Path: logPath(t)})
	const n = 7000
	reqs := make([]*webhook.Request, n)
	err := Seed(ctx, s, n, func(i int) *webhook.Request {
		reqs[i] = sampleRequest(i, []byte(fmt.Sprint(i)))
		return reqs[i]
	})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := s.Count(ctx); err != nil || c != n {
		t.Fatalf("Count = %d, %v", c, err)
	}
	for _, i := range []int{0, 4999, 5000, n - 1} {
		got, err := s.Request(ctx, reqs[i].ID)
		if err != nil {
			t.Fatal(err)
		}
		checkRequest(t, reqs[i], got)
	}
	if reqs[n-1].ID != reqs[0].ID+n-1 {
		t.Errorf("ids not consecutive: %d .. %d", reqs[0].ID, reqs[n-1].ID)
	}
}

func TestHeadersCodec(t *testing.T) {
	tests := []webhook.Headers{
		nil,
		testHeaders,
		{{Name: "", Value: ""}},
		{{Name: "\xff\xfe", Value: "\x00"}},
		{{Name: "a", Value: "\u2028\u2029</script>&<>"}},
	}
	for _, h := range tests {
		text := encodeHeaders(h)
		got, err := decodeHeaders([]byte(text))
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		if !reflect.DeepEqual(got, h) {
			t.Errorf("round trip of %q via %s = %q", h, text, got)
		}
	}
	if got := encodeHeaders(webhook.Headers{{Name: "Content-Type", Value: "a\"b"}, {Name: "X", Value: "1"}}); got != `[["Content-Type","a\"b"],["X","1"]]` {
		t.Errorf("encoding = %s", got)
	}
	if _, err := decodeHeaders([]byte(`[["a"]]`)); err == nil {
		t.Error("malformed pair decoded")
	}
}
