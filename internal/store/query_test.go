package store

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseQuery(t *testing.T) {
	tests := []struct {
		q    string
		want Filter
	}{
		{"", Filter{}},
		{"   \t\n ", Filter{}},

		{"method:POST", Filter{Method: "POST"}},
		{"method:post", Filter{Method: "post"}},
		{"METHOD:get", Filter{Method: "get"}},
		{"path:/stripe*", Filter{Path: "/stripe*"}},
		{"path:stripe", Filter{Path: "stripe"}},
		{"path:/a:b", Filter{Path: "/a:b"}},
		{`path:"/a b"`, Filter{Path: "/a b"}},
		{"status:5xx", Filter{Status: "5xx"}},
		{"status:404", Filter{Status: "404"}},
		{"status:failed", Filter{Status: "failed"}},
		{"status:none", Filter{Status: "none"}},
		{"status:rejected", Filter{Status: "rejected"}},
		{"status:5XX", Filter{Status: "5XX"}},
		{"event:payment_intent.*", Filter{EventType: "payment_intent.*"}},
		{"type:push", Filter{EventType: "push"}},
		{"delivery:retrying", Filter{Delivery: "retrying"}},
		{"is:duplicate stripe", Filter{Duplicates: true, Search: "stripe"}},
		{"Type:push event:push", Filter{EventType: "push"}},

		{"GET", Filter{Method: "GET"}},
		{"POST", Filter{Method: "POST"}},
		{"PUT", Filter{Method: "PUT"}},
		{"PATCH", Filter{Method: "PATCH"}},
		{"DELETE", Filter{Method: "DELETE"}},
		{"HEAD", Filter{Method: "HEAD"}},
		{"OPTIONS", Filter{Method: "OPTIONS"}},
		{"get", Filter{Search: "get"}},
		{"Delete", Filter{Search: "Delete"}},
		{"CONNECT", Filter{Search: "CONNECT"}},
		{"POST method:post", Filter{Method: "POST"}},

		{"2xx", Filter{Status: "2xx"}},
		{"3xx", Filter{Status: "3xx"}},
		{"4xx", Filter{Status: "4xx"}},
		{"5xx", Filter{Status: "5xx"}},
		{"1xx", Filter{Search: "1xx"}},
		{"6xx", Filter{Search: "6xx"}},
		{"5XX", Filter{Search: "5XX"}},
		{"404", Filter{Search: "404"}},
		{"5xx status:5xx", Filter{Status: "5xx"}},

		{"needle", Filter{Search: "needle"}},
		{"card   declined", Filter{Search: "card declined"}},
		{`"card  declined"`, Filter{Search: `"card  declined"`}},
		{`declined "card  x" 42`, Filter{Search: `declined "card  x" 42`}},
		{`"GET"`, Filter{Search: `"GET"`}},
		{`"5xx"`, Filter{Search: `"5xx"`}},
		{`"status:5xx"`, Filter{Search: `"status:5xx"`}},
		{`"https://example.com/a"`, Filter{Search: `"https://example.com/a"`}},
		{`say"hi there"`, Filter{Search: `say"hi there"`}},
		{`"unterminated phrase`, Filter{Search: `"unterminated phrase`}},
		{`""`, Filter{}},
		{`"`, Filter{}},
		{":x", Filter{Search: ":x"}},
		{"12:30", Filter{Search: "12:30"}},
		{"a1:b", Filter{Search: "a1:b"}},
		{"café ünïcode", Filter{Search: "café ünïcode"}},
		{"caf\xe9", Filter{Search: "caf\xe9"}},
		{"'); DROP TABLE requests; --", Filter{Search: "'); DROP TABLE requests; --"}},

		{"method: path: status: event:", Filter{}},
		{
			`POST status:5xx path:/webhooks/* type:invoice.* "card declined" retry`,
			Filter{Method: "POST", Status: "5xx", Path: "/webhooks/*", EventType: "invoice.*", Search: `"card declined" retry`},
		},
		{"  4xx\tGET\n needle  ", Filter{Method: "GET", Status: "4xx", Search: "needle"}},
	}
	for _, tc := range tests {
		t.Run(tc.q, func(t *testing.T) {
			got, err := ParseQuery(tc.q)
			if err != nil {
				t.Fatalf("ParseQuery(%q): %v", tc.q, err)
			}
			if got != tc.want {
				t.Errorf("ParseQuery(%q) = %+v, want %+v", tc.q, got, tc.want)
			}
		})
	}
}

func TestParseQueryErrors(t *testing.T) {
	tests := []struct {
		q    string
		want []string // in the message
	}{
		{"foo:bar", []string{`unknown key "foo:" in "foo:bar"`, "method:, path:, status:, event:, type:, provider:, sig:, signature:, since:, until:, text:, delivery: and is:duplicate", "quotes"}},
		{"delivery:soon", []string{`delivery "soon"`, "pending, retrying, delivered, given_up or queued"}},
		{"is:new", []string{`"is:new"`, "is:duplicate"}},
		{"needle https://example.com", []string{`unknown key "https:"`, "quotes"}},
		{"Status:5xx Provider:stripe Body:x", []string{`unknown key "body:"`}},
		{"foo:", []string{`unknown key "foo:"`}},
		{"status:6xx", []string{`status "6xx"`, "2xx, 3xx, 4xx, 5xx", "failed, none or rejected"}},
		{"status:ok", []string{`status "ok"`}},
		{"GET POST", []string{`method given twice ("GET" and "POST")`}},
		{"method:get method:PUT", []string{"method given twice"}},
		{"2xx 5xx", []string{`status given twice ("2xx" and "5xx")`}},
		{"path:/a path:/b", []string{"path given twice"}},
		{"path:/a path:/A", []string{"path given twice"}},
		{"event:push type:ping", []string{"event given twice"}},
	}
	for _, tc := range tests {
		t.Run(tc.q, func(t *testing.T) {
			f, err := ParseQuery(tc.q)
			if !errors.Is(err, ErrBadFilter) {
				t.Fatalf("ParseQuery(%q) = %+v, %v; want an error wrapping ErrBadFilter", tc.q, f, err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "invalid filter: ") {
				t.Errorf("message %q should start with %q", msg, "invalid filter: ")
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q lacks %q", msg, w)
				}
			}
			if f != (Filter{}) {
				t.Errorf("filter = %+v with the error, want the zero Filter", f)
			}
			t.Log(msg)
		})
	}
}

// TestParseQueryList runs parsed queries against the filter tests' log.
func TestParseQueryList(t *testing.T) {
	s := openStore(t, Config{Path: logPath(t)})
	ids := seedFilterLog(t, s)
	tests := []struct {
		q    string
		want []int // filterRows indexes, newest first
	}{
		{"", every()},
		{"POST 5xx", []int{1}},
		{"method:post path:/hooks/* status:failed", []int{3}},
		{"path:stripe NEEDLE", []int{9}},
		{`"card declined"`, []int{1}},
		{"card declined", []int{1}},
		{"declined card", []int{1}},
		{`"declined card"`, []int{}},
		{"text:declined", []int{1}},
		{`text:"card declined"`, []int{1}},
		{`text:"declined card"`, []int{}},
		{"decl*", []int{1}},
		{"needle", []int{9, 8}},         // row 4's body is binary (NUL): not searched
		{"text:needle", []int{9, 8, 4}}, // but Text reads it
		{"caf", []int{10, 6}},           // "caf\xe9" is read lossily
		{"type:payment_intent.* status:none", []int{9}},
		{`PATCH 5xx path:/hooks/* event:orders/* needle`, []int{8}},
		{`path:"/Webhooks/Stripe/[v1]"`, []int{7}},
		{"status:rejected upload", []int{5}},
	}
	for _, tc := range tests {
		t.Run(tc.q, func(t *testing.T) {
			f, err := ParseQuery(tc.q)
			if err != nil {
				t.Fatal(err)
			}
			f.Limit = 100
			if got := listIndexes(t, s, ids, f); !slices.Equal(got, tc.want) {
				t.Errorf("rows = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParseQueryAt(t *testing.T) {
	now := time.Date(2026, 3, 4, 12, 0, 0, 0, time.FixedZone("CET", 3600))
	tests := []struct {
		q    string
		want Filter
	}{
		{"provider:stripe", Filter{Provider: "stripe"}},
		{"Provider:GitHub provider:github", Filter{Provider: "GitHub"}},
		{"sig:invalid", Filter{Signature: "invalid"}},
		{"signature:STALE sig:stale", Filter{Signature: "STALE"}},
		{"sig:unsigned", Filter{Signature: "unsigned"}},
		{"sig:unchecked", Filter{Signature: "unchecked"}},
		{"sig:valid", Filter{Signature: "valid"}},
		{"since:2h", Filter{Since: now.Add(-2 * time.Hour)}},
		{"since:90s", Filter{Since: now.Add(-90 * time.Second)}},
		{"since:1h30m", Filter{Since: now.Add(-90 * time.Minute)}},
		{"since:0s", Filter{Since: now}},
		{"since:7d", Filter{Since: now.Add(-7 * 24 * time.Hour)}},
		{"until:30m", Filter{Until: now.Add(-30 * time.Minute)}},
		{"since:2026-03-01T10:00:00Z", Filter{Since: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}},
		{"until:2026-03-01T10:00:00.5+02:00", Filter{Until: time.Date(2026, 3, 1, 8, 0, 0, 5e8, time.UTC)}},
		{"since:2026-03-01", Filter{Since: time.Date(2026, 3, 1, 0, 0, 0, 0, now.Location())}},
		{"since:2026-03-01 until:1h", Filter{Since: time.Date(2026, 3, 1, 0, 0, 0, 0, now.Location()), Until: now.Add(-time.Hour)}},
		{"since:2h since:120m", Filter{Since: now.Add(-2 * time.Hour)}},
		{"since: until:", Filter{}},
		{"text:needle", Filter{Text: "needle"}},
		{`text:"card  declined"`, Filter{Text: "card  declined"}},
		{`text:a:b`, Filter{Text: "a:b"}},
		{"decl*", Filter{Search: "decl*"}},
		{`"card decl"*`, Filter{Search: `"card decl"*`}},
		{
			`POST provider:stripe sig:invalid since:1d until:2026-03-04T11:00:00+01:00 "card declined" retry text:x`,
			Filter{Method: "POST", Provider: "stripe", Signature: "invalid", Since: now.Add(-24 * time.Hour),
				Until: now.Add(-time.Hour), Search: `"card declined" retry`, Text: "x"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.q, func(t *testing.T) {
			got, err := ParseQueryAt(tc.q, now)
			if err != nil {
				t.Fatalf("ParseQueryAt(%q): %v", tc.q, err)
			}
			if !got.Since.Equal(tc.want.Since) || !got.Until.Equal(tc.want.Until) {
				t.Errorf("ParseQueryAt(%q): since %v until %v, want %v and %v", tc.q, got.Since, got.Until, tc.want.Since, tc.want.Until)
			}
			got.Since, got.Until, tc.want.Since, tc.want.Until = time.Time{}, time.Time{}, time.Time{}, time.Time{}
			if got != tc.want {
				t.Errorf("ParseQueryAt(%q) = %+v, want %+v", tc.q, got, tc.want)
			}
		})
	}
	// ParseQuery counts from the current time.
	before := time.Now()
	f, err := ParseQuery("since:1h")
	if err != nil || f.Since.Before(before.Add(-time.Hour)) || f.Since.After(time.Now().Add(-time.Hour)) {
		t.Errorf("ParseQuery(since:1h) = %v, %v", f.Since, err)
	}
}

func TestParseQueryAtErrors(t *testing.T) {
	now := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		q    string
		want []string
	}{
		{"sig:ok", []string{`signature "ok"`, "valid, invalid, stale, unsigned or unchecked"}},
		{"signature:none", []string{`signature "none"`}},
		{"sig:valid sig:invalid", []string{"signature given twice"}},
		{"provider:stripe provider:github", []string{"provider given twice"}},
		{"since:yesterday", []string{`since:"yesterday" is not a time`, "RFC 3339", "2h"}},
		{"until:-2h", []string{`until:"-2h" is not a time`}},
		{"since:-1d", []string{"is not a time"}},
		{"since:2026-13-01", []string{"is not a time"}},
		{"since:2h since:3h", []string{"since given twice"}},
		{"since:1h until:2h", []string{"is not before until:"}},
		{"since:2026-03-04 until:2026-03-04", []string{"is not before until:"}},
		{"text:a text:b", []string{"text given twice"}},
	}
	for _, tc := range tests {
		t.Run(tc.q, func(t *testing.T) {
			f, err := ParseQueryAt(tc.q, now)
			if !errors.Is(err, ErrBadFilter) {
				t.Fatalf("ParseQueryAt(%q) = %+v, %v; want an error wrapping ErrBadFilter", tc.q, f, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message %q lacks %q", err, w)
				}
			}
			if f != (Filter{}) {
				t.Errorf("filter = %+v with the error, want the zero Filter", f)
			}
			t.Log(err)
		})
	}
}
