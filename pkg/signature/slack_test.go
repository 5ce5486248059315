package signature

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

const (
	slackTestSecret = "8f742231b10e8888abcd99yyyzzz85a5"
	slackPayloads   = "../../../shared/payloads/slack"
)

var slackTestNow = time.Unix(1_764_000_000, 0)

func slackTestRequest(body []byte, sig, ts string) *Request {
	h := http.Header{}
	if sig != "" {
		h.Set("X-Slack-Signature", sig)
	}
	if ts != "" {
		h.Set("X-Slack-Request-Timestamp", ts)
	}
	return &Request{Method: "POST", URL: "https://example.com/slack", Header: h, Body: body}
}

// slackDocMAC signs as Slack's docs describe it (slack-go has no signer): "v0=" and the hex
// HMAC-SHA256 of "v0:<timestamp>:<body>" keyed with the signing secret.
func slackDocMAC(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "v0:%s:%s", ts, body)
	return "v0=" + hex.EncodeToString(m.Sum(nil))
}

// Published vectors.
func TestSlackVectors(t *testing.T) {
	tests := []struct {
		source, secret, ts, body, sig string
	}{
		{
			// Slack's docs example: https://docs.slack.dev/authentication/verifying-requests-from-slack/
			// (also in slackapi/java-slack-sdk SlackSignatureTest.java, and
			// payloads/slack/slash_command/java-slack-sdk.verifying-requests-doc-example.txt).
			source: "Slack docs",
			secret: "8f742231b10e8888abcd99yyyzzz85a5",
			ts:     "1531420618",
			body:   "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c",
			sig:    "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
		},
		{
			// github.com/slack-go/slack v0.35.0 security_test.go (validSigningSecret, validBody,
			// newHeader(true)).
			source: "slack-go",
			secret: "e6b19c573432dcc6b075501d51b51bb8",
			ts:     "1531431954",
			body:   `{"token":"aF5ynEYQH0dFN9imlgcADxDB","team_id":"XXXXXXXXX","api_app_id":"YYYYYYYYY","event":{"type":"app_mention","user":"AAAAAAAAA","text":"<@EEEEEEEEE> hello world","client_msg_id":"477cc591-ch73-a14z-4db8-g0cd76321bec","ts":"1531431954.000073","channel":"TTTTTTTTT","event_ts":"1531431954.000073"},"type":"event_callback","event_id":"TvBP7LRED7","event_time":1531431954,"authed_users":["EEEEEEEEE"]}`,
			sig:    "v0=adada4ed31709aef585c2580ca3267678c6a8eaeb7e0c1aca3ee57b656886b2c",
		},
	}
	for _, tt := range tests {
		t.Run(tt.source, func(t *testing.T) {
			body := []byte(tt.body)
			n, _ := strconv.ParseInt(tt.ts, 10, 64)
			at := time.Unix(n, 0)
			r := &Request{Body: body}
			if err := (Slack{}).Sign(r, tt.secret, at); err != nil {
				t.Fatal(err)
			}
			if r.Header.Get("X-Slack-Signature") != tt.sig || r.Header.Get("X-Slack-Request-Timestamp") != tt.ts {
				t.Fatalf("Sign: %v", r.Header)
			}
			res := Slack{}.Verify(slackTestRequest(body, tt.sig, tt.ts), tt.secret, Options{Now: at.Add(90 * time.Second)})
			if res.Status != Valid || res.Skew != 90*time.Second {
				t.Fatalf("%+v", res)
			}
			// Years later the signature is stale, not invalid.
			if res := (Slack{}).Verify(slackTestRequest(body, tt.sig, tt.ts), tt.secret, Options{Now: slackTestNow}); res.Status != Stale {
				t.Fatalf("%+v", res)
			}
		})
	}
	// The docs' body is in the payload corpus byte for byte.
	if b, err := os.ReadFile(filepath.Join(slackPayloads, "slash_command", "java-slack-sdk.verifying-requests-doc-example.txt")); err == nil {
		if !bytes.Equal(b, []byte(tests[0].body)) {
			t.Error("the corpus copy of the docs example differs")
		}
		if typ, id := (Slack{}).Event(nil, b); typ != "slash_command./webhook-collect" || id != "398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c" {
			t.Errorf("Event = %q %q", typ, id)
		}
	}
}

func TestSlackVerifyProblems(t *testing.T) {
	body := []byte(`{"type":"event_callback","event_id":"Ev1","event":{"type":"app_mention"}}`)
	ts := strconv.FormatInt(slackTestNow.Unix(), 10)
	good := slackDocMAC(slackTestSecret, ts, body)
	at := func(d time.Duration) (string, string) {
		ts := strconv.FormatInt(slackTestNow.Add(d).Unix(), 10)
		return slackDocMAC(slackTestSecret, ts, body), ts
	}
	old299, ts299 := at(-299 * time.Second)
	old301, ts301 := at(-301 * time.Second)
	fut301, tsFut := at(301 * time.Second)
	old11, ts11 := at(-11 * time.Second)
	oldYear, tsYear := at(-365 * 24 * time.Hour)

	tests := []struct {
		name    string
		sig, ts string
		body    []byte
		secret  string
		opt     Options
		status  Status
		problem Problem
		skew    time.Duration
		reason  string
	}{
		{name: "valid", sig: good, ts: ts, status: Valid, reason: "v0 signature matches"},
		{name: "unsigned", ts: ts, status: Unsigned, problem: MissingHeader, reason: "no X-Slack-Signature header"},
		{name: "no timestamp", sig: good, status: Invalid, problem: MissingHeader, reason: "X-Slack-Request-Timestamp is missing"},
		{name: "timestamp not a number", sig: good, ts: "soon", status: Invalid, problem: MalformedHeader, reason: "not unix seconds"},
		{name: "timestamp in ms", sig: good, ts: "1764000000000000000000", status: Invalid, problem: MalformedHeader},
		{name: "no v0=", sig: strings.TrimPrefix(good, "v0="), ts: ts, status: Invalid, problem: MalformedHeader, reason: "v0="},
		{name: "v1=", sig: "v1=" + strings.TrimPrefix(good, "v0="), ts: ts, status: Invalid, problem: MalformedHeader},
		{name: "not hex", sig: "v0=" + strings.Repeat("x", 64), ts: ts, status: Invalid, problem: MalformedHeader, reason: "64 hex digits"},
		{name: "short", sig: "v0=abcd", ts: ts, status: Invalid, problem: MalformedHeader},
		{name: "empty secret", sig: good, ts: ts, secret: "-", status: Invalid, problem: BadSecret, reason: "empty"},
		{name: "bot token as secret", sig: good, ts: ts, secret: "xoxb-1234-5678-abcdef", status: Invalid, problem: BadSecret, reason: "token"},
		{name: "wrong secret", sig: good, ts: ts, secret: "e6b19c573432dcc6b075501d51b51bb8", status: Invalid, problem: Mismatch, reason: "body differs from what was signed, or the secret is wrong"},
		{name: "tampered body", sig: good, ts: ts, body: bytes.Replace(body, []byte("Ev1"), []byte("Ev2"), 1), status: Invalid, problem: Mismatch},
		{name: "other timestamp", sig: good, ts: ts299, status: Invalid, problem: Mismatch, skew: 299 * time.Second},
		{name: "299 s old", sig: old299, ts: ts299, status: Valid, skew: 299 * time.Second},
		{name: "301 s old", sig: old301, ts: ts301, status: Stale, problem: OutsideWindow, skew: 301 * time.Second, reason: "5m1s old (tolerance 5m0s)"},
		{name: "301 s in the future", sig: fut301, ts: tsFut, status: Stale, problem: OutsideWindow, skew: -301 * time.Second, reason: "in the future"},
		{name: "custom tolerance", sig: old11, ts: ts11, opt: Options{Tolerance: 10 * time.Second}, status: Stale, problem: OutsideWindow, skew: 11 * time.Second},
		{name: "negative tolerance", sig: oldYear, ts: tsYear, opt: Options{Tolerance: -time.Second}, status: Valid, skew: 365 * 24 * time.Hour, reason: "not checked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := body
			if tt.body != nil {
				b = tt.body
			}
			secret := slackTestSecret
			switch tt.secret {
			case "":
			case "-":
				secret = ""
			default:
				secret = tt.secret
			}
			opt := tt.opt
			opt.Now = slackTestNow
			res := Slack{}.Verify(slackTestRequest(b, tt.sig, tt.ts), secret, opt)
			if res.Status != tt.status || res.Problem != tt.problem || res.Skew != tt.skew {
				t.Fatalf("got %+v, want %s/%q skew %s", res, tt.status, tt.problem, tt.skew)
			}
			if res.Reason == "" || !strings.Contains(res.Reason, tt.reason) {
				t.Fatalf("reason %q does not contain %q", res.Reason, tt.reason)
			}
			if secret != "" && strings.Contains(res.Reason, secret) {
				t.Fatalf("reason %q contains the secret", res.Reason)
			}
		})
	}
}

func TestSlackSignRoundTrip(t *testing.T) {
	body := []byte("token=x&command=%2Fdeploy&text=prod&trigger_id=13345224609.738474920.8088930838d88f008e0")
	r := slackTestRequest(body, "v0=00", "1")
	if err := (Slack{}).Sign(r, slackTestSecret, slackTestNow); err != nil {
		t.Fatal(err)
	}
	ts := strconv.FormatInt(slackTestNow.Unix(), 10)
	if r.Header.Get("X-Slack-Request-Timestamp") != ts || r.Header.Get("X-Slack-Signature") != slackDocMAC(slackTestSecret, ts, body) || len(r.Header.Values("X-Slack-Signature")) != 1 {
		t.Fatalf("%v", r.Header)
	}
	if res := (Slack{}).Verify(r, slackTestSecret, Options{Now: slackTestNow}); res.Status != Valid || res.Skew != 0 {
		t.Fatalf("%+v", res)
	}
	for _, bad := range []string{"", "xoxp-1-2", "xapp-1-A1-2"} {
		if err := (Slack{}).Sign(slackTestRequest(body, "", ""), bad, slackTestNow); !errors.Is(err, ErrBadSecret) {
			t.Errorf("Sign with %q: %v", bad, err)
		}
	}
}

// Cross-checks with slack-go v0.35.0 (NewSecretsVerifier + Ensure), both ways. slack-go has no
// signer, so its side signs as Slack's docs say (slackDocMAC).
func TestSlackCrossCheckSDK(t *testing.T) {
	body := []byte("token=xyz&team_id=T1&command=%2Fhook&text=hi&trigger_id=1.2.3")
	sdkVerify := func(body []byte, h http.Header, secret string) error {
		sv, err := slack.NewSecretsVerifier(h, secret)
		if err != nil {
			return err
		}
		if _, err := io.Copy(&sv, bytes.NewReader(body)); err != nil {
			return err
		}
		return sv.Ensure()
	}
	now := time.Now()

	// hookctl signs, slack-go accepts.
	r := slackTestRequest(body, "", "")
	if err := (Slack{}).Sign(r, slackTestSecret, now); err != nil {
		t.Fatal(err)
	}
	if err := sdkVerify(body, r.Header, slackTestSecret); err != nil {
		t.Fatal("slack-go rejects hookctl's signature:", err)
	}

	// Signed as the docs say, hookctl accepts (and slack-go too).
	ts := strconv.FormatInt(slackTestNow.Unix(), 10)
	docs := slackTestRequest(body, slackDocMAC(slackTestSecret, ts, body), ts)
	if res := (Slack{}).Verify(docs, slackTestSecret, Options{Now: slackTestNow}); res.Status != Valid {
		t.Fatalf("%+v", res)
	}
	ts = strconv.FormatInt(now.Unix(), 10)
	docs = slackTestRequest(body, slackDocMAC(slackTestSecret, ts, body), ts)
	if err := sdkVerify(body, docs.Header, slackTestSecret); err != nil {
		t.Fatal(err)
	}

	// Tampered: both reject.
	tampered := bytes.Replace(body, []byte("hi"), []byte("ho"), 1)
	if err := sdkVerify(tampered, r.Header, slackTestSecret); !errors.Is(err, slack.ErrInvalidSignature) {
		t.Error("slack-go accepts a tampered body:", err)
	}
	if res := (Slack{}).Verify(slackTestRequest(tampered, r.Header.Get("X-Slack-Signature"), r.Header.Get("X-Slack-Request-Timestamp")), slackTestSecret, Options{Now: now}); res.Problem != Mismatch {
		t.Errorf("hookctl: %+v", res)
	}

	// Stale, either way: both reject.
	for _, d := range []time.Duration{-10 * time.Minute, 10 * time.Minute} {
		sr := slackTestRequest(body, "", "")
		if err := (Slack{}).Sign(sr, slackTestSecret, now.Add(d)); err != nil {
			t.Fatal(err)
		}
		if err := sdkVerify(body, sr.Header, slackTestSecret); !errors.Is(err, slack.ErrExpiredTimestamp) {
			t.Errorf("%s: slack-go: %v", d, err)
		}
		if res := (Slack{}).Verify(sr, slackTestSecret, Options{Now: now}); res.Status != Stale || res.Problem != OutsideWindow {
			t.Errorf("%s: hookctl: %+v", d, res)
		}
	}
}

// Slack bodies from the payload corpus: sign, verify with hookctl and slack-go, and Event.
func TestSlackPayloads(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(slackPayloads, "*", "*"))
	if len(files) == 0 {
		t.Skip("payload corpus not available")
	}
	now := time.Now()
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		r := slackTestRequest(body, "", "")
		if err := (Slack{}).Sign(r, slackTestSecret, now); err != nil {
			t.Fatal(err)
		}
		if res := (Slack{}).Verify(r, slackTestSecret, Options{Now: now}); res.Status != Valid {
			t.Errorf("%s: %+v", f, res)
		}
		sv, err := slack.NewSecretsVerifier(r.Header, slackTestSecret)
		if err != nil {
			t.Fatal(err)
		}
		sv.Write(body)
		if err := sv.Ensure(); err != nil {
			t.Errorf("%s: slack-go: %v", f, err)
		}
	}
	for _, tc := range []struct{ file, typ, id string }{
		{"event_callback.reaction_added/python-slack-events-api.reaction_added.json", "event_callback.reaction_added", ""},
		{"url_verification/python-slack-events-api.url_challenge.json", "url_verification", ""},
		{"slash_command/bolt-js.AwsLambdaReceiver.command.txt", "slash_command./hello-bolt-js", "111.222.xxx"},
		{"shortcut/bolt-js.AwsLambdaReceiver.shortcut.txt", "shortcut", "111.222.xxx"},
		{"block_actions/java-slack-sdk.shape.BlockActionPayload.json", "block_actions", ""},
		{"view_submission/java-slack-sdk.shape.ViewSubmissionPayload.json", "view_submission", ""},
	} {
		body, err := os.ReadFile(filepath.Join(slackPayloads, tc.file))
		if err != nil {
			t.Fatal(err)
		}
		if typ, id := (Slack{}).Event(http.Header{}, body); typ != tc.typ || id != tc.id {
			t.Errorf("%s: Event = %q %q, want %q %q", tc.file, typ, id, tc.typ, tc.id)
		}
	}
}

func TestSlackDetectAndEvent(t *testing.T) {
	h := http.Header{}
	h.Set("X-Slack-Request-Timestamp", "1531420618")
	if (Slack{}).Detect(h) {
		t.Fatal("detected without a signature header")
	}
	h.Set("X-Slack-Signature", "v0=00")
	if !(Slack{}).Detect(h) {
		t.Fatal("not detected")
	}
	retry := http.Header{"X-Slack-Retry-Num": {"1"}, "X-Slack-Retry-Reason": {"http_timeout"}}
	for _, tc := range []struct{ body, typ, id string }{
		{`{"type":"event_callback","event_id":"Ev08MFMKH6","event":{"type":"app_mention","text":"hi"}}`, "event_callback.app_mention", "Ev08MFMKH6"},
		{`{"type":"event_callback","event_id":"Ev1","event":{}}`, "event_callback", "Ev1"},
		{`{"type":"url_verification","challenge":"3eZbrw1aB"}`, "url_verification", ""},
		{`{"type":"app_rate_limited","minute_rate_limited":1518467820}`, "app_rate_limited", ""},
		{"token=x&command=%2Fdeploy&text=prod&trigger_id=1.2.3", "slash_command./deploy", "1.2.3"},
		{"payload=" + strings.ReplaceAll(`{"type":"view_submission","trigger_id":"4.5.6"}`, `"`, "%22"), "view_submission", "4.5.6"},
		{"payload=%7Bnot+json", "", ""},
		{"a=b", "", ""},
		{"%zz", "", ""},
		{"", "", ""},
	} {
		if typ, id := (Slack{}).Event(retry, []byte(tc.body)); typ != tc.typ || id != tc.id {
			t.Errorf("%s: %q %q, want %q %q", tc.body, typ, id, tc.typ, tc.id)
		}
	}
}
