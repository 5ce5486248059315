package signature

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

const zoomTestSecret = "zoom-test-secret"

func zoomTestRequest(body []byte, ts, sig string) *Request {
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("User-Agent", "Zoom Marketplace/1.0a")
	if ts != "" {
		h.Set("X-Zm-Request-Timestamp", ts)
	}
	if sig != "" {
		h.Set("X-Zm-Signature", sig)
	}
	return &Request{Method: "POST", URL: "https://hooks.example.com/zoom", Header: h, Body: body}
}

// The challenge body is the example of Zoom's docs ("Validate your webhook endpoint",
// https://developers.zoom.us/docs/api/webhooks/#validate-your-webhook-endpoint). Zoom's docs
// show an encryptedToken for it but not the secret token, so the expected answer comes from
// elastic/beats x-pack/filebeat/input/http_endpoint/handler_test.go ("validate_CRC_request",
// secret "secretValueTest"), re-checked with Python's hmac module.
func TestZoomURLValidation(t *testing.T) {
	docsBody := []byte(`{
  "payload": {
    "plainToken": "qgg8vlvZRS6UYooatFL8Aw"
  },
  "event_ts": 1654503849680,
  "event": "endpoint.url_validation"
}`)
	got, ok := ZoomURLValidation(docsBody, "secretValueTest")
	want := `{"plainToken":"qgg8vlvZRS6UYooatFL8Aw","encryptedToken":"70c1f2e2e6ca2d39297490d1f9142c7d701415ea8e6151f6562a08fa657a40ff"}`
	if !ok || string(got) != want {
		t.Errorf("ZoomURLValidation = %s, %v; want %s", got, ok, want)
	}
	// The answer has the docs' shape: the same plainToken and a 64-hex-digit encryptedToken.
	var answer map[string]string
	if err := json.Unmarshal(got, &answer); err != nil || len(answer) != 2 || answer["plainToken"] != "qgg8vlvZRS6UYooatFL8Aw" {
		t.Errorf("answer %s: %v", got, err)
	}
	if b, err := hex.DecodeString(answer["encryptedToken"]); err != nil || len(b) != sha256.Size {
		t.Errorf("encryptedToken %q", answer["encryptedToken"])
	}
	// The challenge is signed like any event, and Event names it.
	r := zoomTestRequest(docsBody, "", "")
	if err := (Zoom{}).Sign(r, "secretValueTest", time.UnixMilli(1654503849680)); err != nil {
		t.Fatal(err)
	}
	expectResult(t, "challenge", Zoom{}.Verify(r, "secretValueTest", Options{Now: time.UnixMilli(1654503850000)}), Valid, NoProblem, "secretValueTest")
	if typ, _ := (Zoom{}).Event(r.Header, docsBody); typ != "endpoint.url_validation" {
		t.Errorf("Event = %q", typ)
	}

	for _, tc := range []struct{ name, body, secret string }{
		{"another event", `{"event":"meeting.started","payload":{"plainToken":"x"}}`, "s"},
		{"no plainToken", `{"event":"endpoint.url_validation","payload":{}}`, "s"},
		{"plainToken not a string", `{"event":"endpoint.url_validation","payload":{"plainToken":5}}`, "s"},
		{"not json", `event=endpoint.url_validation`, "s"},
		{"empty secret", string(docsBody), ""},
	} {
		if got, ok := ZoomURLValidation([]byte(tc.body), tc.secret); ok || got != nil {
			t.Errorf("%s: %s, %v", tc.name, got, ok)
		}
	}
	// A plainToken that needs JSON escaping is answered as valid JSON.
	got, ok = ZoomURLValidation([]byte(`{"event":"endpoint.url_validation","payload":{"plainToken":"a\"<b>"}}`), "s")
	if !ok || json.Unmarshal(got, &answer) != nil || answer["plainToken"] != `a"<b>` {
		t.Errorf("escaping: %s", got)
	}
}

// The corpus body (zoom/webhook-sample README, a meeting.started delivery; its 3-space
// indentation kept) signed at x-zm-request-timestamp 1635885800 with zoomTestSecret; the
// expected value was computed independently with Python's hmac module over
// "v0:1635885800:" + the file's bytes.
func TestZoomPayload(t *testing.T) {
	body := corpusFile(t, "zoom/meeting.started/webhook-sample.readme.json")
	const sig = "v0=19afcbe6f4fd1cc785a418f15f5c94b3c9ab2a9f1740767ad49969c5f18f94ad"
	r := zoomTestRequest(body, "1635885800", sig)
	r.Header.Set("X-Zm-Trackingid", "v=2.0;clid=aw1;rid=WEB_2f3c")
	if s, ok := Detect(r.Header); !ok || s.Name() != "zoom" {
		t.Errorf("Detect = %v %v", s, ok)
	}
	at := time.Unix(1635885800, 0)
	expectResult(t, "corpus", Zoom{}.Verify(r, zoomTestSecret, Options{Now: at.Add(time.Second)}), Valid, NoProblem, zoomTestSecret)
	if typ, id := (Zoom{}).Event(r.Header, body); typ != "meeting.started" || id != "v=2.0;clid=aw1;rid=WEB_2f3c" {
		t.Errorf("Event = %q %q", typ, id)
	}
	s := zoomTestRequest(body, "", "")
	if err := (Zoom{}).Sign(s, zoomTestSecret, at); err != nil {
		t.Fatal(err)
	}
	if s.Header.Get("X-Zm-Signature") != sig || s.Header.Get("X-Zm-Request-Timestamp") != "1635885800" {
		t.Errorf("Sign = %v", s.Header)
	}
	r.Body = []byte(strings.Replace(string(body), "America/Denver", "America/Chicago", 1))
	expectResult(t, "corpus tampered", Zoom{}.Verify(r, zoomTestSecret, Options{Now: at}), Invalid, Mismatch, zoomTestSecret)
	r.Body = body
	expectResult(t, "corpus today", Zoom{}.Verify(r, zoomTestSecret, Options{}), Stale, OutsideWindow, zoomTestSecret)
}

func TestZoomVerifyProblems(t *testing.T) {
	at := time.Unix(1_764_000_000, 0)
	body := []byte(`{"event":"meeting.ended","payload":{"object":{"id":"85746065"}},"event_ts":1764000000000}`)
	signed := zoomTestRequest(body, "", "")
	if err := (Zoom{}).Sign(signed, zoomTestSecret, at); err != nil {
		t.Fatal(err)
	}
	ts, good := signed.Header.Get("X-Zm-Request-Timestamp"), signed.Header.Get("X-Zm-Signature")
	for _, tc := range []struct {
		name, ts, sig, body, secret string
		opt                         Options
		status                      Status
		problem                     Problem
	}{
		{"valid", ts, good, string(body), zoomTestSecret, Options{Now: at.Add(4 * time.Minute)}, Valid, NoProblem},
		{"unsigned", ts, "", string(body), zoomTestSecret, Options{Now: at}, Unsigned, MissingHeader},
		{"no timestamp", "", good, string(body), zoomTestSecret, Options{Now: at}, Invalid, MissingHeader},
		{"timestamp in ms", ts + "000x", good, string(body), zoomTestSecret, Options{Now: at}, Invalid, MalformedHeader},
		{"no v0=", ts, strings.TrimPrefix(good, "v0="), string(body), zoomTestSecret, Options{Now: at}, Invalid, MalformedHeader},
		{"v1=", ts, "v1=" + strings.TrimPrefix(good, "v0="), string(body), zoomTestSecret, Options{Now: at}, Invalid, MalformedHeader},
		{"not hex", ts, "v0=" + strings.Repeat("z", 64), string(body), zoomTestSecret, Options{Now: at}, Invalid, MalformedHeader},
		{"empty secret", ts, good, string(body), "", Options{Now: at}, Invalid, BadSecret},
		{"tampered body", ts, good, string(body) + "\n", zoomTestSecret, Options{Now: at}, Invalid, Mismatch},
		{"other timestamp", "1764000001", good, string(body), zoomTestSecret, Options{Now: at}, Invalid, Mismatch},
		{"verification token instead of secret token", ts, good, string(body), "legacy-verification-token", Options{Now: at}, Invalid, Mismatch},
		{"stale", ts, good, string(body), zoomTestSecret, Options{Now: at.Add(6 * time.Minute)}, Stale, OutsideWindow},
		{"in the future", ts, good, string(body), zoomTestSecret, Options{Now: at.Add(-6 * time.Minute)}, Stale, OutsideWindow},
		{"wider tolerance", ts, good, string(body), zoomTestSecret, Options{Now: at.Add(6 * time.Minute), Tolerance: time.Hour}, Valid, NoProblem},
		{"tolerance off", ts, good, string(body), zoomTestSecret, Options{Now: at.Add(240 * time.Hour), Tolerance: -1}, Valid, NoProblem},
	} {
		r := zoomTestRequest([]byte(tc.body), tc.ts, tc.sig)
		expectResult(t, tc.name, Zoom{}.Verify(r, tc.secret, tc.opt), tc.status, tc.problem, tc.secret)
	}
	res := Zoom{}.Verify(signed, zoomTestSecret, Options{Now: at.Add(6 * time.Minute)})
	if res.Skew != 6*time.Minute || !strings.Contains(res.Reason, "6m0s old (tolerance 5m0s)") {
		t.Errorf("stale: %+v", res)
	}
	if err := (Zoom{}).Sign(&Request{}, "", at); !errors.Is(err, ErrBadSecret) {
		t.Errorf("Sign with an empty secret: %v", err)
	}
}

func TestZoomDetectAndEvent(t *testing.T) {
	h := http.Header{}
	h.Set("x-zm-request-timestamp", "1")
	if (Zoom{}).Detect(h) {
		t.Error("detected without a signature")
	}
	h.Set("x-zm-signature", "v0=00")
	if !(Zoom{}).Detect(h) {
		t.Error("not detected")
	}
	if typ, id := (Zoom{}).Event(http.Header{}, []byte(`{"event":"recording.completed"}`)); typ != "recording.completed" || id != "" {
		t.Errorf("Event = %q %q", typ, id)
	}
}
