package store

import (
	"errors"
	"slices"
	"strings"
	"testing"
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
		{"Type:push event:push", Filter{EventType: "push"}},

		{"GET", Filter{Method: "GET"}},
		{"POST", Filter{Method: "POST"}},
		{"PUT", Filter{Method: "PUT"}},
		{"PATCH", Filter{Method: "PATCH"}},
		{"DELETE", Filter{Method: "DELETE"}},
		{"HEAD", Filter{Method: "HEAD"}},
		{"OPTIONS", Filter{Method: "OPTIONS"}},
		{"get", Filter{Text: "get"}},
		{"Delete", Filter{Text: "Delete"}},
		{"CONNECT", Filter{Text: "CONNECT"}},
		{"POST method:post", Filter{Method: "POST"}},

		{"2xx", Filter{Status: "2xx"}},
		{"3xx", Filter{Status: "3xx"}},
		{"4xx", Filter{Status: "4xx"}},
		{"5xx", Filter{Status: "5xx"}},
		{"1xx", Filter{Text: "1xx"}},
		{"6xx", Filter{Text: "6xx"}},
		{"5XX", Filter{Text: "5XX"}},
		{"404", Filter{Text: "404"}},
		{"5xx status:5xx", Filter{Status: "5xx"}},

		{"needle", Filter{Text: "needle"}},
		{"card   declined", Filter{Text: "card declined"}},
		{`"card  declined"`, Filter{Text: "card  declined"}},
		{`declined "card  x" 42`, Filter{Text: "declined card  x 42"}},
		{`"GET"`, Filter{Text: "GET"}},
		{`"5xx"`, Filter{Text: "5xx"}},
		{`"status:5xx"`, Filter{Text: "status:5xx"}},
		{`"https://example.com/a"`, Filter{Text: "https://example.com/a"}},
		{`say"hi there"`, Filter{Text: "sayhi there"}},
		{`"unterminated phrase`, Filter{Text: "unterminated phrase"}},
		{`""`, Filter{}},
		{`"`, Filter{}},
		{":x", Filter{Text: ":x"}},
		{"12:30", Filter{Text: "12:30"}},
		{"a1:b", Filter{Text: "a1:b"}},
		{"café ünïcode", Filter{Text: "café ünïcode"}},
		{"caf\xe9", Filter{Text: "caf\xe9"}},
		{"'); DROP TABLE requests; --", Filter{Text: "'); DROP TABLE requests; --"}},

		{"method: path: status: event:", Filter{}},
		{
			`POST status:5xx path:/webhooks/* type:invoice.* "card declined" retry`,
			Filter{Method: "POST", Status: "5xx", Path: "/webhooks/*", EventType: "invoice.*", Text: "card declined retry"},
		},
		{"  4xx\tGET\n needle  ", Filter{Method: "GET", Status: "4xx", Text: "needle"}},
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
		{"foo:bar", []string{`unknown key "foo:" in "foo:bar"`, "method:, path:, status:, event: and type:", "quotes"}},
		{"needle https://example.com", []string{`unknown key "https:"`, "quotes"}},
		{"Status:5xx Provider:stripe", []string{`unknown key "provider:"`}},
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
		{"declined card", []int{}},
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
