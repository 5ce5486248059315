package signature

import (
	"bytes"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

const linearTestSecret = "lin_wh_hookctl_linear_test_secret"

func linearTestRequest(body []byte, sig string) *Request {
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Linear-Delivery", "234d1a4e-b617-4388-90fe-adc3633d6b72")
	h.Set("Linear-Event", "Issue")
	if sig != "" {
		h.Set("Linear-Signature", sig)
	}
	return &Request{Method: "POST", URL: "https://hooks.example.com/linear", Header: h, Body: body}
}

// linearSDKBody is the body of linear/linear packages/sdk/src/_tests/LinearWebhooks.test.ts:
// JSON.stringify of its requestBody object (webhookTimestamp 1677611643000).
const linearSDKBody = `{"action":"create","data":{"id":"2174add1-f7c8-44e3-bbf3-2d60b5ea8bc9","createdAt":"2020-01-23T12:53:18.084Z","updatedAt":"2020-01-23T12:53:18.084Z","archivedAt":null,"body":"Indeed, I think this is definitely an improvement over the previous version.","edited":false,"issueId":"539068e2-ae88-4d09-bd75-22eb4a59612f","userId":"aacdca22-6266-4c0a-ab3c-8fa70a26765c"},"type":"Comment","url":"https://linear.app/issue/LIN-1778/foo-bar#comment-77217de3-fb52-4dad-bb9a-b356beb93de8","createdAt":"2020-01-23T12:53:18.084Z","webhookTimestamp":1677611643000}`

// The Linear SDK test signs with crypto.createHmac("sha256", "SECRET").update(rawBody)
// .digest("hex"); it prints no signature, so the expected value below was computed
// independently with Python's hmac module. The SDK rejects this body's timestamp at today's
// time ("correct signature, incorrect timestamp should fail verification") and accepts it
// within a minute of 1677611643000 ms.
func TestLinearSDKVector(t *testing.T) {
	const sig = "8790fcbbea809950be9198408593c2a13f7591bba6c61adb589f709b5e1b186a"
	r := linearTestRequest([]byte(linearSDKBody), sig)
	at := time.UnixMilli(1677611643000)
	expectResult(t, "at its time", Linear{}.Verify(r, "SECRET", Options{Now: at.Add(30 * time.Second)}), Valid, NoProblem, "SECRET")
	expectResult(t, "today", Linear{}.Verify(r, "SECRET", Options{}), Stale, OutsideWindow, "SECRET")
	expectResult(t, "wrong secret", Linear{}.Verify(r, "WRONG_SECRET", Options{Now: at}), Invalid, Mismatch, "WRONG_SECRET")
	expectResult(t, "61 s later", Linear{}.Verify(r, "SECRET", Options{Now: at.Add(61 * time.Second)}), Stale, OutsideWindow, "SECRET")

	// Without a webhookTimestamp the SDK checks no age ("correct signature, no timestamp").
	noTS := []byte(strings.Replace(linearSDKBody, `,"webhookTimestamp":1677611643000`, "", 1))
	s := linearTestRequest(noTS, hexMAC(t, "SECRET", noTS))
	res := Linear{}.Verify(s, "SECRET", Options{})
	expectResult(t, "no timestamp", res, Valid, NoProblem, "SECRET")
	if !strings.Contains(res.Reason, "not checked") {
		t.Errorf("no timestamp: %s", res.Reason)
	}

	// Sign over the SDK body at its own time reproduces the vector (the timestamp is unchanged).
	u := linearTestRequest([]byte(linearSDKBody), "")
	if err := (Linear{}).Sign(u, "SECRET", at); err != nil {
		t.Fatal(err)
	}
	if got := u.Header.Get("Linear-Signature"); got != sig || string(u.Body) != linearSDKBody {
		t.Errorf("Sign = %q, body changed: %v", got, string(u.Body) != linearSDKBody)
	}
}

// hexMAC is Linear's signature of body with secret.
func hexMAC(t *testing.T, secret string, body []byte) string {
	t.Helper()
	r := &Request{Body: body}
	if err := (Linear{}).Sign(r, secret, time.Time{}); err != nil {
		t.Fatal(err)
	}
	return r.Header.Get("Linear-Signature")
}

func TestLinearVerifyProblems(t *testing.T) {
	at := time.UnixMilli(1_764_000_000_123)
	body, ok := LinearSetTimestamp([]byte(`{"action":"create","type":"Issue","data":{"id":"i1","title":"Bug"},"webhookTimestamp":1}`), at)
	if !ok || !strings.Contains(string(body), `"webhookTimestamp":1764000000123}`) {
		t.Fatalf("LinearSetTimestamp: %s", body)
	}
	signed := linearTestRequest(body, "")
	if err := (Linear{}).Sign(signed, linearTestSecret, at); err != nil {
		t.Fatal(err)
	}
	good := signed.Header.Get("Linear-Signature")
	goodBody := string(signed.Body)
	for _, tc := range []struct {
		name     string
		sig      string
		body     string
		tsHeader string
		secret   string
		opt      Options
		status   Status
		problem  Problem
	}{
		{"valid", good, goodBody, "", linearTestSecret, Options{Now: at.Add(10 * time.Second)}, Valid, NoProblem},
		{"valid with header", good, goodBody, "1764000000123", linearTestSecret, Options{Now: at}, Valid, NoProblem},
		{"unsigned", "", goodBody, "", linearTestSecret, Options{Now: at}, Unsigned, MissingHeader},
		{"not hex", "sha256=" + good, goodBody, "", linearTestSecret, Options{Now: at}, Invalid, MalformedHeader},
		{"short", good[:40], goodBody, "", linearTestSecret, Options{Now: at}, Invalid, MalformedHeader},
		{"header timestamp not ms", good, goodBody, "yesterday", linearTestSecret, Options{Now: at}, Invalid, MalformedHeader},
		{"body timestamp a string", hexMAC(t, linearTestSecret, []byte(`{"webhookTimestamp":"1764000000123"}`)), `{"webhookTimestamp":"1764000000123"}`, "", linearTestSecret, Options{Now: at}, Invalid, MalformedHeader},
		{"empty secret", good, goodBody, "", "", Options{Now: at}, Invalid, BadSecret},
		{"tampered body", good, strings.Replace(goodBody, "Bug", "Bag", 1), "", linearTestSecret, Options{Now: at}, Invalid, Mismatch},
		{"stale", good, goodBody, "", linearTestSecret, Options{Now: at.Add(90 * time.Second)}, Stale, OutsideWindow},
		{"in the future", good, goodBody, "", linearTestSecret, Options{Now: at.Add(-2 * time.Minute)}, Stale, OutsideWindow},
		{"stale by the header", good, goodBody, "1763999000000", linearTestSecret, Options{Now: at}, Stale, OutsideWindow},
		{"header preferred over a stale body", good, goodBody, "1764000600000", linearTestSecret, Options{Now: at.Add(10 * time.Minute)}, Valid, NoProblem},
		{"wider tolerance", good, goodBody, "", linearTestSecret, Options{Now: at.Add(90 * time.Second), Tolerance: 5 * time.Minute}, Valid, NoProblem},
	} {
		r := linearTestRequest([]byte(tc.body), tc.sig)
		if tc.tsHeader != "" {
			r.Header.Set("Linear-Timestamp", tc.tsHeader)
		}
		expectResult(t, tc.name, Linear{}.Verify(r, tc.secret, tc.opt), tc.status, tc.problem, tc.secret)
	}
	res := Linear{}.Verify(signed, linearTestSecret, Options{Now: at.Add(90 * time.Second)})
	if res.Skew != 90*time.Second || !strings.Contains(res.Reason, "1m30s old") {
		t.Errorf("stale: %+v", res)
	}
	if err := (Linear{}).Sign(&Request{}, "", at); !errors.Is(err, ErrBadSecret) {
		t.Errorf("Sign with an empty secret: %v", err)
	}
}

// Linear signs its timestamp inside the body. Sign changes only headers: the re-signed request
// verifies through Linear-Timestamp (which the current SDK prefers) but not for a verifier that
// reads only the body; LinearSetTimestamp rewrites webhookTimestamp in place (and only it), and
// then the replay verifies either way.
func TestLinearResign(t *testing.T) {
	old := []byte("{\n  \"type\": \"Issue\",\n  \"action\": \"create\",\n  \"data\": {\"webhookTimestamp\": 5, \"title\": \"x\"},\n  \"webhookTimestamp\" :  1677611643000 ,\n  \"url\": \"https://linear.app/x\"\n}\n")
	r := linearTestRequest(bytes.Clone(old), "")
	if err := (Linear{}).Sign(r, linearTestSecret, time.UnixMilli(1677611643000)); err != nil {
		t.Fatal(err)
	}
	now := time.UnixMilli(1_764_000_000_456)
	expectResult(t, "old", Linear{}.Verify(r, linearTestSecret, Options{Now: now}), Stale, OutsideWindow, linearTestSecret)

	if err := (Linear{}).Sign(r, linearTestSecret, now); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(r.Body, old) {
		t.Error("Sign changed the body")
	}
	if got := r.Header.Get("Linear-Timestamp"); got != "1764000000456" {
		t.Errorf("Linear-Timestamp = %q", got)
	}
	expectResult(t, "re-signed", Linear{}.Verify(r, linearTestSecret, Options{Now: now.Add(time.Second)}), Valid, NoProblem, linearTestSecret)
	bodyOnly := &Request{Header: r.Header.Clone(), Body: r.Body}
	bodyOnly.Header.Del("Linear-Timestamp")
	expectResult(t, "re-signed, body only", Linear{}.Verify(bodyOnly, linearTestSecret, Options{Now: now.Add(time.Second)}), Stale, OutsideWindow, linearTestSecret)

	fresh, ok := LinearSetTimestamp(r.Body, now)
	want := strings.Replace(string(old), "1677611643000", "1764000000456", 1)
	if !ok || string(fresh) != want {
		t.Fatalf("LinearSetTimestamp:\n%s\nwant\n%s", fresh, want)
	}
	if !bytes.Equal(r.Body, old) {
		t.Error("LinearSetTimestamp changed its argument")
	}
	r.Body = fresh
	if err := (Linear{}).Sign(r, linearTestSecret, now); err != nil {
		t.Fatal(err)
	}
	expectResult(t, "fresh body", Linear{}.Verify(r, linearTestSecret, Options{Now: now.Add(time.Second)}), Valid, NoProblem, linearTestSecret)
	r.Header.Del("Linear-Timestamp")
	expectResult(t, "fresh body, body only", Linear{}.Verify(r, linearTestSecret, Options{Now: now.Add(time.Second)}), Valid, NoProblem, linearTestSecret)
	if _, ok := LinearSetTimestamp([]byte(`{"type":"Issue"}`), now); ok {
		t.Error("LinearSetTimestamp on a body without webhookTimestamp")
	}
}

func TestLinearReplaceTopLevelNumber(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{`{"webhookTimestamp":1}`, `{"webhookTimestamp":42}`, true},
		{`{"a":{"webhookTimestamp":1},"b":[1,{"webhookTimestamp":2}],"webhookTimestamp": 3 }`, `{"a":{"webhookTimestamp":1},"b":[1,{"webhookTimestamp":2}],"webhookTimestamp": 42 }`, true},
		{`{"a":{"webhookTimestamp":1}}`, "", false},
		{`{"webhookTimestamp":"1"}`, "", false},
		{`{"webhookTimestamp":null}`, "", false},
		{`[{"webhookTimestamp":1}]`, "", false},
		{`not json`, "", false},
		{`{"webhookTimestamp":1`, `{"webhookTimestamp":42`, true}, // the field is read before the object ends
	} {
		got, ok := replaceTopLevelNumber([]byte(tc.in), "webhookTimestamp", "42")
		if ok != tc.ok || (ok && string(got) != tc.want) {
			t.Errorf("replaceTopLevelNumber(%s) = %s, %v", tc.in, got, ok)
		}
	}
}

func TestLinearDetectAndEvent(t *testing.T) {
	h := http.Header{}
	h.Set("Linear-Delivery", "d1")
	if (Linear{}).Detect(h) {
		t.Error("detected without a signature")
	}
	h.Set("linear-signature", "00")
	if !(Linear{}).Detect(h) {
		t.Error("not detected")
	}
	for _, tc := range []struct{ body, header, event string }{
		{`{"action":"create","type":"Issue"}`, "", "Issue.create"},
		{`{"action":"update","type":"Comment"}`, "Comment", "Comment.update"},
		{`{"action":"remove","type":"IssueLabel"}`, "", "IssueLabel.remove"},
		{`{"type":"OAuthApp","action":"revoked"}`, "", "OAuthApp.revoked"},
		{`{"type":"Issue"}`, "", "Issue"},
		{`{"action":"create"}`, "Project", "Project.create"},
		{`not json`, "Issue", "Issue"},
		{`{}`, "", ""},
	} {
		hh := http.Header{}
		hh.Set("Linear-Delivery", "234d1a4e-b617-4388-90fe-adc3633d6b72")
		if tc.header != "" {
			hh.Set("Linear-Event", tc.header)
		}
		typ, id := Linear{}.Event(hh, []byte(tc.body))
		if typ != tc.event || id != "234d1a4e-b617-4388-90fe-adc3633d6b72" {
			t.Errorf("Event(%s) = %q %q, want %q", tc.body, typ, id, tc.event)
		}
	}
	if typ, _ := (Linear{}).Event(http.Header{}, []byte(linearSDKBody)); typ != "Comment.create" {
		t.Errorf("SDK body Event = %q", typ)
	}
}
