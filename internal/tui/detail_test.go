package tui

import (
	"bytes"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/hookctl/hookctl/internal/webhook"
)

// The -update flag rewrites the golden files. teatest's golden package registers a flag of the
// same name when it is linked into the test binary; this one is only defined when it is not.
var _ = func() bool {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files under testdata")
	}
	return true
}()

// updateGoldens reports whether -update was given.
func updateGoldens() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// useUTC makes RenderDetail show times in UTC. The package's TestMain already sets time.Local;
// this keeps the detail tests correct if it stops doing so, without writing it when it is set.
func useUTC(t *testing.T) {
	t.Helper()
	if time.Local != time.UTC {
		time.Local = time.UTC
	}
}

var detailFixtureTime = time.Date(2026, 3, 4, 5, 6, 7, 89_000_000, time.UTC)

// detailJSONBody holds number and string tokens that a JSON round trip would change.
const detailJSONBody = `{"id":"evt_1Nf3","object":"event","type":"payment_intent.succeeded",` +
	`"data":{"object":{"amount":1.50,"limit":1e3,"name":"caf\u00e9","big":12345678901234567890,` +
	`"tags":["a","b"],"paid":true,"refunded":false,"note":null}},"livemode":false}`

func jsonRequest() *webhook.Request {
	return &webhook.Request{
		ID:         42,
		ReceivedAt: detailFixtureTime,
		Method:     "POST",
		URI:        "/stripe?x=1",
		Proto:      "HTTP/1.1",
		Host:       "localhost:8765",
		Header: webhook.Headers{
			{Name: "Host", Value: "localhost:8765"},
			{Name: "User-Agent", Value: "Stripe/1.0 (+https://stripe.com/docs/webhooks)"},
			{Name: "Content-Type", Value: "application/json; charset=utf-8"},
			{Name: "Stripe-Signature", Value: "t=1772600767,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd"},
		},
		Body:            []byte(detailJSONBody),
		BodySize:        int64(len(detailJSONBody)),
		RemoteAddr:      "127.0.0.1:54321",
		Ingress:         webhook.IngressLocal,
		Provider:        "stripe",
		EventType:       "payment_intent.succeeded",
		DeliveryID:      "evt_1Nf3",
		Signature:       webhook.SignatureValid,
		SignatureReason: "v1 signature matches",
	}
}

func jsonAttempts() []webhook.Attempt {
	body := `{"received":true}`
	return []webhook.Attempt{{
		ID: 1, RequestID: 42, Kind: webhook.KindForward,
		Target:    "http://localhost:3000/stripe?x=1",
		StartedAt: detailFixtureTime.Add(3 * time.Millisecond),
		Duration:  12 * time.Millisecond,
		Status:    200,
		Header: webhook.Headers{
			{Name: "Content-Type", Value: "application/json"},
			{Name: "Content-Length", Value: "17"},
		},
		Body:     []byte(body),
		BodySize: int64(len(body)),
	}}
}

const slackForm = "token=gIkuvaNzQIHg97ATvDxqgjtO&team_id=T0001&team_domain=example" +
	"&enterprise_id=E0001&enterprise_name=Globular%20Construct%20Inc&channel_id=C2147483705" +
	"&channel_name=test&user_id=U2147483697&user_name=Steve&command=%2Fweather&text=94070+tomorrow" +
	"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2F1234%2F5678" +
	"&trigger_id=13345224609.738474920.8088930838d88f008e0&api_app_id=A123456"

func formRequest() *webhook.Request {
	return &webhook.Request{
		ID: 7, ReceivedAt: detailFixtureTime, Method: "POST", URI: "/slack/commands", Proto: "HTTP/1.1",
		Header: webhook.Headers{
			{Name: "Host", Value: "hooks.example.test"},
			{Name: "Content-Type", Value: "application/x-www-form-urlencoded"},
			{Name: "X-Slack-Request-Timestamp", Value: "1772600767"},
			{Name: "X-Slack-Signature", Value: "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"},
		},
		Body: []byte(slackForm), BodySize: int64(len(slackForm)),
		RemoteAddr: "34.201.10.2:41234", Ingress: webhook.IngressNgrok,
		Provider: "slack", Signature: webhook.SignatureStale,
		SignatureReason: "timestamp is 6m12s old (limit 5m)",
	}
}

func formAttempts() []webhook.Attempt {
	body := "It's 72\u00b0F in 94070 tomorrow.\n"
	return []webhook.Attempt{{
		ID: 3, RequestID: 7, Kind: webhook.KindForward, Target: "http://localhost:3000/slack/commands",
		StartedAt: detailFixtureTime.Add(time.Millisecond), Duration: 850 * time.Microsecond, Status: 200,
		Header: webhook.Headers{{Name: "Content-Type", Value: "text/plain; charset=utf-8"}},
		Body:   []byte(body), BodySize: int64(len(body)),
	}}
}

func binaryBody() []byte {
	b := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	for i := len(b); i < 600; i++ {
		b = append(b, byte(i*7+i/3))
	}
	return b
}

func binaryRequest() *webhook.Request {
	body := binaryBody()
	return &webhook.Request{
		ID: 9, ReceivedAt: detailFixtureTime, Method: "PUT", URI: "/upload/avatar.png", Proto: "HTTP/2.0",
		Header: webhook.Headers{
			{Name: "Host", Value: "localhost:8765"},
			{Name: "Content-Type", Value: "image/png"},
			{Name: "Content-Length", Value: "600"},
		},
		Body: body, BodySize: int64(len(body)), RemoteAddr: "[::1]:50000", Ingress: webhook.IngressLocal,
		Signature: webhook.SignatureUnsigned,
	}
}

func latin1Request() *webhook.Request {
	body := []byte("caf\xe9 cr\xe8me br\xfbl\xe9e\n")
	return &webhook.Request{
		ID: 10, ReceivedAt: detailFixtureTime, Method: "POST", URI: "/legacy", Proto: "HTTP/1.0",
		Header: webhook.Headers{
			{Name: "Host", Value: "localhost:8765"},
			{Name: "Content-Type", Value: "text/plain; charset=iso-8859-1"},
		},
		Body: body, BodySize: int64(len(body)), RemoteAddr: "127.0.0.1:40000", Ingress: webhook.IngressRelay,
		Signature: webhook.SignatureUnchecked,
	}
}

func rejectedRequest() *webhook.Request {
	return &webhook.Request{
		ID: 11, ReceivedAt: detailFixtureTime, Method: "POST", URI: "/github", Proto: "HTTP/1.1",
		Header: webhook.Headers{
			{Name: "Host", Value: "localhost:8765"},
			{Name: "Content-Type", Value: "application/json"},
			{Name: "Content-Length", Value: "31457280"},
			{Name: "X-GitHub-Event", Value: "push"},
		},
		BodySize: 30 << 20, RemoteAddr: "140.82.115.1:443", Ingress: webhook.IngressLocal,
		Provider: "github", EventType: "push", Signature: webhook.SignatureUnchecked,
		Rejected: "request body of 30MiB exceeds the 25MiB limit (raise it with --max-body)",
	}
}

func failedRequest() *webhook.Request {
	body := `{"type":"user.created","data":{"id":"usr_1"}}`
	return &webhook.Request{
		ID: 12, ReceivedAt: detailFixtureTime, Method: "POST", URI: "/hooks/clerk", Proto: "HTTP/1.1",
		Header: webhook.Headers{
			{Name: "Host", Value: "localhost:8765"},
			{Name: "Content-Type", Value: "application/json"},
			{Name: "svix-id", Value: "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"},
			{Name: "svix-timestamp", Value: "1772600767"},
			{Name: "svix-signature", Value: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
		},
		Body: []byte(body), BodySize: int64(len(body)), RemoteAddr: "44.228.126.217:39000",
		Ingress: webhook.IngressNgrok, Provider: "svix", EventType: "user.created",
		DeliveryID: "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", Signature: webhook.SignatureInvalid,
		SignatureReason: "no v1 signature matches the secret",
	}
}

// failedAttempts are in the wrong order on purpose: RenderDetail shows the oldest first.
func failedAttempts() []webhook.Attempt {
	page := "<!DOCTYPE html>\n<html>\n<head><title>Error</title></head>\n<body>\n<pre>TypeError: Cannot read properties of undefined (reading 'id')\n\tat handler (/app/routes/clerk.js:12:31)</pre>\n"
	return []webhook.Attempt{
		{
			ID: 21, RequestID: 12, Kind: webhook.KindReplay, Target: "http://localhost:3000/hooks/clerk",
			StartedAt: detailFixtureTime.Add(2*time.Minute + 5*time.Second), Duration: 1500 * time.Millisecond,
			Status: 500,
			Header: webhook.Headers{
				{Name: "Content-Type", Value: "text/html; charset=utf-8"},
				{Name: "X-Powered-By", Value: "Express"},
			},
			Body: []byte(page), BodySize: 4096,
		},
		{
			ID: 20, RequestID: 12, Kind: webhook.KindForward, Target: "http://localhost:3000/hooks/clerk",
			StartedAt: detailFixtureTime.Add(time.Millisecond), Duration: 2 * time.Millisecond,
			Error: "dial tcp 127.0.0.1:3000: connect: connection refused",
		},
	}
}

func emptyRequest() *webhook.Request {
	return &webhook.Request{
		ID: 13, ReceivedAt: detailFixtureTime, Method: "GET", URI: "/health", Proto: "HTTP/1.1",
		Header: webhook.Headers{
			{Name: "Host", Value: "localhost:8765"},
			{Name: "User-Agent", Value: "curl/8.5.0"},
			{Name: "Accept", Value: "*/*"},
		},
		Body: []byte{}, RemoteAddr: "127.0.0.1:39999", Ingress: webhook.IngressLocal,
		Signature: webhook.SignatureUnsigned,
	}
}

func longHeaderRequest() *webhook.Request {
	r := emptyRequest()
	r.ID, r.Method, r.URI = 14, "POST", "/very/long/path/"+strings.Repeat("segment/", 12)+"end?query=1&other=two"
	r.Header = append(r.Header,
		webhook.Field{Name: "X-Long-Token", Value: strings.Repeat("0123456789abcdef", 10)},
		webhook.Field{Name: "X-Long-Sentence", Value: "this header value is a sentence that goes on well past the width of the pane so that it has to wrap at spaces"},
		webhook.Field{Name: "X-Wide", Value: "日本語のテキストと絵文字👍🏽が混ざった長いヘッダーの値で、幅を正しく数える必要がある。" + "👨‍👩‍👧‍👦"},
		webhook.Field{Name: "X-Tabs-And-Controls", Value: "a\tb\x1b[31mnot red\x07\u202eevil"},
	)
	return r
}

type detailCase struct {
	name     string
	req      *webhook.Request
	attempts []webhook.Attempt
	width    int
	delivery *webhook.Delivery
}

// retryingDuplicate is a redelivery received with listen --ack whose delivery is retrying.
func retryingDuplicate() (*webhook.Request, *webhook.Delivery) {
	r := failedRequest()
	r.ID, r.DuplicateOf = 13, 12
	return r, &webhook.Delivery{RequestID: 13, Target: "http://localhost:3000", State: webhook.DeliveryPending, Attempts: 2,
		FirstAt: detailFixtureTime, NextAt: detailFixtureTime.Add(3 * time.Second)}
}

func detailCases() []detailCase {
	return []detailCase{
		{"json_forward", jsonRequest(), jsonAttempts(), 80, nil},
		{"form_slack", formRequest(), formAttempts(), 80, nil},
		{"binary", binaryRequest(), nil, 80, nil},
		{"non_utf8_text", latin1Request(), nil, 80, nil},
		{"rejected_413", rejectedRequest(), nil, 80, nil},
		{"failed_and_replay", failedRequest(), failedAttempts(), 80, nil},
		{"empty_no_attempts", emptyRequest(), nil, 80, nil},
		{"json_forward_40", jsonRequest(), jsonAttempts(), 40, nil},
		{"long_header", longHeaderRequest(), nil, 80, nil},
		func() detailCase {
			r, d := retryingDuplicate()
			return detailCase{"ack_retrying_duplicate", r, failedAttempts(), 80, d}
		}(),
	}
}

func TestDetailGolden(t *testing.T) {
	useUTC(t)
	st := DefaultDetailStyles(true)
	for _, tc := range detailCases() {
		t.Run(tc.name, func(t *testing.T) {
			got := ansi.Strip(RenderDetail(tc.req, tc.attempts, tc.delivery, tc.width, st)) + "\n"
			path := filepath.Join("testdata", "detail", tc.name+".golden")
			if updateGoldens() {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -run Detail -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("RenderDetail(%s, width %d) differs from %s:\n--- got\n%s--- want\n%s",
					tc.name, tc.width, path, got, want)
			}
		})
	}
}

func TestDetailLinesFitWidth(t *testing.T) {
	useUTC(t)
	styles := map[string]DetailStyles{"dark": DefaultDetailStyles(true), "light": DefaultDetailStyles(false), "plain": {}}
	for _, tc := range detailCases() {
		for name, st := range styles {
			for _, width := range []int{1, 2, 5, 9, 10, 13, 19, 20, 23, 33, 40, 57, 80, 132} {
				out := RenderDetail(tc.req, tc.attempts, tc.delivery, width, st)
				for i, line := range strings.Split(out, "\n") {
					if w := ansi.StringWidth(line); w > width {
						t.Errorf("%s/%s width %d: line %d is %d wide: %q", tc.name, name, width, i+1, w, ansi.Strip(line))
					}
				}
			}
		}
	}
}

func TestDetailJSONTokensVerbatim(t *testing.T) {
	r := jsonRequest()
	for _, width := range []int{0, 40, 80} {
		out := ansi.Strip(RenderDetail(r, nil, nil, width, DefaultDetailStyles(true)))
		for _, tok := range []string{`1.50`, `1e3`, `"caf\u00e9"`, `12345678901234567890`, `"livemode": false`, `"note": null`} {
			if !strings.Contains(out, tok) {
				t.Errorf("width %d: output lacks %s:\n%s", width, tok, out)
			}
		}
	}
}

func TestDetailJSONIsHighlighted(t *testing.T) {
	out := RenderDetail(jsonRequest(), jsonAttempts(), nil, 80, DefaultDetailStyles(true))
	var line string
	for l := range strings.SplitSeq(out, "\n") {
		if strings.Contains(ansi.Strip(l), `"amount": 1.50`) {
			line = l
		}
	}
	if !strings.Contains(line, "\x1b[") {
		t.Fatalf("JSON body has no colour: %q", line)
	}
	if plain := RenderDetail(jsonRequest(), jsonAttempts(), nil, 80, DetailStyles{}); strings.Contains(plain, "\x1b") {
		t.Errorf("zero DetailStyles emitted escape sequences:\n%q", plain)
	}
}

func TestDetailHighlightLimit(t *testing.T) {
	var b strings.Builder
	b.WriteString("[\n")
	for b.Len() < 2*maxHighlight {
		b.WriteString(`  {"n": 1.50, "s": "x"},` + "\n")
	}
	b.WriteString(`  {"n": 1}` + "\n]")
	pretty := b.String()
	h := newJSONHighlighter(true)
	out := h.highlightJSON(pretty)
	if ansi.Strip(out) != pretty {
		t.Fatal("highlighting changed the text")
	}
	lines := strings.Split(out, "\n")
	if !strings.Contains(lines[1], "\x1b[") {
		t.Errorf("first lines are not highlighted: %q", lines[1])
	}
	if last := lines[len(lines)-2]; strings.Contains(last, "\x1b") {
		t.Errorf("lines past the limit are highlighted: %q", last)
	}
	var nilH *jsonHighlighter
	if got := nilH.highlightJSON(pretty); got != pretty {
		t.Error("a nil highlighter changed the text")
	}

	// A body past the limit still renders whole.
	body := []byte(strings.ReplaceAll(pretty, "\n", ""))
	r := jsonRequest()
	r.Body, r.BodySize = body, int64(len(body))
	got := ansi.Strip(RenderDetail(r, nil, nil, 80, DefaultDetailStyles(true)))
	if n := strings.Count(got, `"s": "x"`); n != strings.Count(pretty, `"s": "x"`) {
		t.Errorf("rendered %d of %d objects", n, strings.Count(pretty, `"s": "x"`))
	}
}

func TestDetailBodies(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		body        string
		want        []string
		notWant     []string
	}{
		{"text tabs and controls", "text/plain", "a\tbc\td\r\nnul-free \x1b[31m\x7f end\n",
			[]string{"a   bc  d␍", "nul-free ␛[31m␡ end"}, []string{"\t", "\x1b"}},
		{"form repeated keys in order", "application/x-www-form-urlencoded; charset=utf-8",
			"b=2&a=1&b=3+4&c=%E2%9C%93&flag",
			[]string{"b     2", "a     1", "b     3 4", "c     ✓", "flag"}, nil},
		{"form with JSON payload", "application/x-www-form-urlencoded",
			"payload=%7B%22type%22%3A%22block_actions%22%2C%22n%22%3A1.50%7D",
			[]string{"payload  (JSON)", `"type": "block_actions"`, `"n": 1.50`}, nil},
		{"form content type but not a form", "application/x-www-form-urlencoded", "100%",
			[]string{"\n  100%"}, nil},
		{"json content type, invalid", "application/json", "{\"a\":", []string{"Not valid JSON", `{"a":`}, nil},
		{"json without content type", "", `[1,2.0]`, []string{"  1,", "  2.0"}, nil},
		{"nul makes it binary", "text/plain", "ab\x00cd", []string{"Binary data:", "61 62 00 63 64", "|ab.cd|"}, nil},
		{"bidi controls shown", "application/json", `{"s":"a` + "\u202e" + `b"}`, []string{`"a\u202eb"`}, []string{"\u202e"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := emptyRequest()
			r.Header = webhook.Headers{{Name: "Content-Type", Value: tc.contentType}}
			r.Body, r.BodySize = []byte(tc.body), int64(len(tc.body))
			out := ansi.Strip(RenderDetail(r, nil, nil, 80, DefaultDetailStyles(false)))
			for _, s := range tc.want {
				if !strings.Contains(out, s) {
					t.Errorf("output lacks %q:\n%s", s, out)
				}
			}
			for _, s := range tc.notWant {
				if strings.Contains(out, s) {
					t.Errorf("output holds %q:\n%s", s, out)
				}
			}
		})
	}
}

func TestDetailPartialAndMissingResponse(t *testing.T) {
	r := jsonRequest()
	a := jsonAttempts()
	a[0].Body, a[0].BodySize = a[0].Body[:5], 70000
	out := ansi.Strip(RenderDetail(r, a, nil, 80, DetailStyles{}))
	if !strings.Contains(out, "Only the first 5 bytes of 68.4KiB were recorded.") {
		t.Errorf("no note about the short body:\n%s", out)
	}
	a[0].Body = nil
	out = ansi.Strip(RenderDetail(r, a, nil, 80, DetailStyles{}))
	if !strings.Contains(out, "Response body (application/json, 68.4KiB)\n      Not recorded.") {
		t.Errorf("no note about the missing body:\n%s", out)
	}
	if out := RenderDetail(nil, nil, nil, 80, DetailStyles{}); out != "No request selected." {
		t.Errorf("nil request: %q", out)
	}
}

// wrapCells breaks one line of text into lines at most w1 columns wide for the first and w2 for
// the others.
func wrapCells(text string, w1, w2 int) []string {
	var c cellWrapper
	return strings.Split(c.wrap(text, w1, w2), "\n")
}

// TestWrapCells checks the wrapper on random text: no line is too wide, and only spaces are
// lost.
func TestWrapCells(t *testing.T) {
	alphabet := []string{"a", "b", "word", "-", " ", " ", "  ", "日", "本", "👍", "👍🏽", "é", "e\u0301",
		"\x1b[31m", "\x1b[0m", "\x1b[1;38;5;197m", "longwordwithoutspaces"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		var b strings.Builder
		for n := rng.IntN(40); n >= 0; n-- {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		text := b.String()
		w1, w2 := 2+rng.IntN(30), 2+rng.IntN(30)
		lines := wrapCells(text, w1, w2)
		for i, line := range lines {
			limit := w2
			if i == 0 {
				limit = w1
			}
			if w := ansi.StringWidth(line); w > limit {
				t.Fatalf("wrapCells(%q, %d, %d) line %d is %d wide: %q", text, w1, w2, i, w, line)
			}
		}
		strip := func(s string) string { return strings.ReplaceAll(ansi.Strip(s), " ", "") }
		if got, want := strip(strings.Join(lines, "")), strip(text); got != want {
			t.Fatalf("wrapCells(%q, %d, %d) lost text: %q, want %q", text, w1, w2, got, want)
		}
	}
}

func TestVisibleText(t *testing.T) {
	tests := map[string]string{
		"plain":             "plain",
		"a\tb":              "a   b",
		"日\tb":              "日  b",
		"\x00\x1b\r\x7f":    "␀␛␍␡",
		"bad\xffbyte":       `bad\xffbyte`,
		"c1\u009bx":         `c1\u009bx`,
		"rtl\u202eoverride": `rtl\u202eoverride`,
	}
	for in, want := range tests {
		if got := visibleText(in); got != want {
			t.Errorf("visibleText(%q) = %q, want %q", in, got, want)
		}
	}
	if !bytes.Equal([]byte(visibleText("é")), []byte("é")) {
		t.Error("visibleText changed é")
	}
}

func BenchmarkRenderDetail(b *testing.B) {
	var obj strings.Builder
	obj.WriteString(`{"items":[`)
	for i := 0; obj.Len() < 4<<20; i++ {
		if i > 0 {
			obj.WriteByte(',')
		}
		obj.WriteString(`{"id":"item_` + strings.Repeat("x", i%40) + `","amount":1.50,"note":"some words that may need wrapping when the pane is narrow"}`)
	}
	obj.WriteString(`]}`)
	jsonBody := []byte(obj.String())
	textBody := bytes.Repeat([]byte("2026-03-04T05:06:07Z INFO\thandled request id=42 status=200 took=12ms path=/stripe\n"), (4<<20)/80)
	st := DefaultDetailStyles(true)
	for _, bc := range []struct {
		name        string
		body        []byte
		contentType string
	}{{"json_4MiB", jsonBody, "application/json"}, {"text_4MiB", textBody, "text/plain"}} {
		r := jsonRequest()
		r.Header = webhook.Headers{{Name: "Content-Type", Value: bc.contentType}}
		r.Body, r.BodySize = bc.body, int64(len(bc.body))
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.body)))
			for b.Loop() {
				RenderDetail(r, nil, nil, 80, st)
			}
		})
	}
}

func BenchmarkHighlightJSON(b *testing.B) {
	var s strings.Builder
	s.WriteString("[\n")
	for s.Len() < maxHighlight-64 {
		s.WriteString(`  {"id": "item_1", "amount": 1.50, "note": "some words", "ok": true},` + "\n")
	}
	s.WriteString(`  {"id": "last"}` + "\n]")
	pretty := s.String()
	h := newJSONHighlighter(true)
	b.SetBytes(int64(len(pretty)))
	for b.Loop() {
		h.highlightJSON(pretty)
	}
}
