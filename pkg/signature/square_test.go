package signature

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func squareTestRequest(notificationURL string, body []byte, sig256, legacy string) *Request {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	if sig256 != "" {
		h.Set("X-Square-Hmacsha256-Signature", sig256)
	}
	if legacy != "" {
		h.Set("X-Square-Signature", legacy)
	}
	return &Request{Method: "POST", URL: notificationURL, Header: h, Body: body}
}

// squareSDKBody is the body of square/square-nodejs-sdk test/utilities/webhooksHelper.test.ts.
const squareSDKBody = `{"merchant_id":"MLEFBHHSJGVHD","type":"webhooks.test_notification","event_id":"ac3ac95b-f97d-458c-a6e6-18981597e05f","created_at":"2022-07-13T20:30:59.037339943Z","data":{"type":"webhooks","id":"bc368e64-01aa-407e-b46e-3231809b1129"}}`

func TestSquareVectors(t *testing.T) {
	for _, tc := range []struct {
		name, key, url, body, sig string
		status                    Status
		problem                   Problem
	}{
		// Square's docs, "Validate notifications"
		// (https://developer.squareup.com/docs/webhooks/step3validate): signature key asdf1234,
		// notification URL https://example.com/webhook, body {"hello":"world"}.
		{"docs", "asdf1234", "https://example.com/webhook", `{"hello":"world"}`, "2kRE5qRU2tR+tBGlDwMEw2avJ7QM4ikPYD/PJ3bd9Og=", Valid, NoProblem},
		// square/square-nodejs-sdk test/utilities/webhooksHelper.test.ts.
		{"sdk pass", "Ibxx_5AKakO-3qeNVR61Dw", "https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9", squareSDKBody, "GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4=", Valid, NoProblem},
		{"sdk unescaped chars", "signature-key", "https://webhook.site/webhooks", `{"data":{"type":"webhooks","id":"fake_id"}}`, "W3FlCNk5IA3ZQ2LHTWoajvzfaDu/OwY2tNHIHC3IUOA=", Valid, NoProblem},
		{"sdk escaped chars", "signature-key", "https://webhook.site/webhooks", `{"data":{"type":"webhooks","id":">id<"}}`, "Cxt7+aTi4rKgcA0bC4g9EHdVtLSDWdqccmL5MvihU4U=", Valid, NoProblem},
		{"sdk url mismatch", "Ibxx_5AKakO-3qeNVR61Dw", "https://webhook.site/79a4f3a-dcfa-49ee-bac5-9d0edad886b9", squareSDKBody, "GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4=", Invalid, Mismatch},
		{"sdk invalid key", "MCmhFRxGX82xMwg5FsaoQA", "https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9", squareSDKBody, "GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4=", Invalid, Mismatch},
		{"sdk invalid header", "Ibxx_5AKakO-3qeNVR61Dw", "https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9", squareSDKBody, "1z2n3DEJJiUPKcPzQo1ftvbxGdw=", Invalid, MalformedHeader},
		{"sdk body mismatch", "Ibxx_5AKakO-3qeNVR61Dw", "https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9", strings.Replace(squareSDKBody, "2022-07-13", "2022-06-13", 1), "GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4=", Invalid, Mismatch},
		{"sdk body formatted", "Ibxx_5AKakO-3qeNVR61Dw", "https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9", strings.ReplaceAll(squareSDKBody, `,"`, `, "`), "GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4=", Invalid, Mismatch},
		{"sdk empty key", "", "https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9", squareSDKBody, "GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4=", Invalid, BadSecret},
		{"sdk empty url", "Ibxx_5AKakO-3qeNVR61Dw", "", squareSDKBody, "GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4=", Invalid, MissingHeader},
	} {
		r := squareTestRequest(tc.url, []byte(tc.body), tc.sig, "")
		expectResult(t, tc.name, Square{}.Verify(r, tc.key, Options{}), tc.status, tc.problem, tc.key)
	}

	// Sign reproduces the docs vector, plus the legacy HMAC-SHA1 header (computed independently
	// with Python: base64(hmac.new(b"asdf1234", url+body, hashlib.sha1).digest())).
	r := squareTestRequest("https://example.com/webhook", []byte(`{"hello":"world"}`), "", "")
	if err := (Square{}).Sign(r, "asdf1234", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if got := r.Header.Get("X-Square-Hmacsha256-Signature"); got != "2kRE5qRU2tR+tBGlDwMEw2avJ7QM4ikPYD/PJ3bd9Og=" {
		t.Errorf("Sign = %q", got)
	}
	if got := r.Header.Get("X-Square-Signature"); got != "KiPKaeNj311k3uhWDUbESP1QTRM=" {
		t.Errorf("Sign legacy = %q", got)
	}
	if typ, id := (Square{}).Event(r.Header, []byte(squareSDKBody)); typ != "webhooks.test_notification" || id != "ac3ac95b-f97d-458c-a6e6-18981597e05f" {
		t.Errorf("Event = %q %q", typ, id)
	}
}

func TestSquareVerifyProblems(t *testing.T) {
	const key, u = "sq-signature-key", "https://hooks.example.com/square?tenant=1"
	body := []byte(`{"merchant_id":"M1","type":"payment.updated","event_id":"e1","data":{"object":{"payment":{"id":"p1"}}}}`)
	signed := squareTestRequest(u, body, "", "")
	if err := (Square{}).Sign(signed, key, time.Time{}); err != nil {
		t.Fatal(err)
	}
	sig256, legacy := signed.Header.Get("X-Square-Hmacsha256-Signature"), signed.Header.Get("X-Square-Signature")
	for _, tc := range []struct {
		name, url, body, sig256, legacy, key string
		status                               Status
		problem                              Problem
	}{
		{"valid", u, string(body), sig256, legacy, key, Valid, NoProblem},
		{"only sha256", u, string(body), sig256, "", key, Valid, NoProblem},
		{"only legacy", u, string(body), "", legacy, key, Valid, NoProblem},
		{"sha256 wins over a bad legacy", u, string(body), sig256, "AAAA", key, Valid, NoProblem},
		{"unsigned", u, string(body), "", "", key, Unsigned, MissingHeader},
		{"sha256 not base64", u, string(body), "***", legacy, key, Invalid, MalformedHeader},
		{"legacy sha1 in the sha256 header", u, string(body), legacy, "", key, Invalid, MalformedHeader},
		{"legacy malformed", u, string(body), "", sig256, key, Invalid, MalformedHeader},
		{"empty key", u, string(body), sig256, legacy, "", Invalid, BadSecret},
		{"no URL", "", string(body), sig256, legacy, key, Invalid, MissingHeader},
		{"local URL", "http://localhost:3000/square?tenant=1", string(body), sig256, legacy, key, Invalid, Mismatch},
		{"tampered body", u, strings.Replace(string(body), "p1", "p2", 1), sig256, legacy, key, Invalid, Mismatch},
		{"legacy tampered body", u, strings.Replace(string(body), "p1", "p2", 1), "", legacy, key, Invalid, Mismatch},
		{"wrong key", u, string(body), sig256, legacy, "other-key", Invalid, Mismatch},
	} {
		r := squareTestRequest(tc.url, []byte(tc.body), tc.sig256, tc.legacy)
		res := Square{}.Verify(r, tc.key, Options{})
		expectResult(t, tc.name, res, tc.status, tc.problem, tc.key)
		if res.Skew != 0 {
			t.Errorf("%s: Skew %v", tc.name, res.Skew)
		}
	}
	if err := (Square{}).Sign(&Request{URL: u}, "", time.Time{}); !errors.Is(err, ErrBadSecret) {
		t.Errorf("Sign with an empty key: %v", err)
	}
	if err := (Square{}).Sign(&Request{}, key, time.Time{}); err == nil {
		t.Error("Sign without a notification URL succeeded")
	}
}

func TestSquareDetectAndEvent(t *testing.T) {
	h := http.Header{}
	if (Square{}).Detect(h) {
		t.Error("detected without a signature")
	}
	h.Set("x-square-signature", "abc")
	if !(Square{}).Detect(h) {
		t.Error("legacy header not detected")
	}
	h = http.Header{}
	h.Set("x-square-hmacsha256-signature", "abc")
	if s, ok := Detect(h); !ok || s.Name() != "square" {
		t.Errorf("Detect = %v %v", s, ok)
	}
	if typ, id := (Square{}).Event(h, []byte(`{"type":"payment.created"}`)); typ != "payment.created" || id != "" {
		t.Errorf("Event = %q %q", typ, id)
	}
}
