package signature

import (
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const paddleTestSecret = "pdl_ntfset_01hsdn8d43dt7mezr1ef2jtbaw_hookctlPaddleTestSecret00"

func paddleTestRequest(body []byte, sig string) *Request {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	if sig != "" {
		h.Set("Paddle-Signature", sig)
	}
	return &Request{Method: "POST", URL: "https://hooks.example.com/paddle", Header: h, Body: body}
}

func TestPaddleVectors(t *testing.T) {
	// PaddleHQ/paddle-php-sdk tests/Unit/Notifications/VerifierTest.php: three secrets, the
	// third is correct; the header carries a bogus h1 ("dummy") before the real one.
	php := paddleTestRequest([]byte("hello-world"), "ts=1696195954;h1=dummy;h1=d96299976a6eb066f484d7fde011ac56fc32b38fc9940bc419d6e537fdc6ef02")
	at := Options{Now: time.Unix(1696195954, 0)}
	for _, tc := range []struct {
		secret string
		status Status
	}{
		{"pdl_ntf_01hbpjmytsa32fhr36nqgc3kgb_TjIG2BXbm83HPXqNfziwe506sBEdqL/4", Invalid},
		{"pdl_ntf_01hbpjmytsa32fhr36nqgc3kgb_vB/yIOnTOCWIvpBadM5jzBZPHc7OmdSo", Invalid},
		{"pdl_ntf_01hbpjmytsa32fhr36nqgc3kgb_WvRO0eL4Bj9rgYYIBZY6wZhG4EHy9jzh", Valid},
	} {
		res := Paddle{}.Verify(php, tc.secret, at)
		if res.Status != tc.status || strings.Contains(res.Reason, tc.secret) {
			t.Errorf("php vector, secret %.30s...: %+v", tc.secret, res)
		}
	}

	// PaddleHQ/paddle-go-sdk example_webhook_verifier_test.go (a pdl_ntfset_ secret, a real
	// price.created notification).
	goBody := `{"data":{"id":"pri_01hsdn96k2hxjzsq5yerecdj9j","name":null,"status":"active","quantity":{"maximum":999999,"minimum":1},"tax_mode":"account_setting","product_id":"pro_01hsdn8qp7yydry3x1yeg6a9rv","unit_price":{"amount":"1000","currency_code":"USD"},"custom_data":null,"description":"testing","import_meta":null,"trial_period":null,"billing_cycle":{"interval":"month","frequency":1},"unit_price_overrides":[]},"event_id":"evt_01hsdn97563968dy0szkmgjwh3","event_type":"price.created","occurred_at":"2024-03-20T10:07:35.590857Z","notification_id":"ntf_01hsdn977e920kbgzt6r6c9rqc"}`
	goReq := paddleTestRequest([]byte(goBody), "ts=1710929255;h1=6c05ef8fa83c44d751be6d259ec955ce5638e2c54095bf128e408e2fce1589c8")
	const goSecret = "pdl_ntfset_01hsdn8d43dt7mezr1ef2jtbaw_hKkRiCGyyRhbFwIUuqiTBgI7gnWoV0Gr"
	expectResult(t, "go sdk example", Paddle{}.Verify(goReq, goSecret, Options{Now: time.Unix(1710929256, 0)}), Valid, NoProblem, goSecret)
	if typ, id := (Paddle{}).Event(goReq.Header, goReq.Body); typ != "price.created" || id != "evt_01hsdn97563968dy0szkmgjwh3" {
		t.Errorf("Event = %q %q", typ, id)
	}
	// Sign reproduces it.
	s := paddleTestRequest([]byte(goBody), "")
	if err := (Paddle{}).Sign(s, goSecret, time.Unix(1710929255, 0)); err != nil {
		t.Fatal(err)
	}
	if got := s.Header.Get("Paddle-Signature"); got != "ts=1710929255;h1=6c05ef8fa83c44d751be6d259ec955ce5638e2c54095bf128e408e2fce1589c8" {
		t.Errorf("Sign = %q", got)
	}

	// PaddleHQ/paddle-node-sdk src/__tests__/notifications/webhooks-validator.test.ts, with the
	// clock set to 2023-11-01T00:00:00Z = ts 1698796800 plus the test's offsets.
	const nodeHeader = "ts=1698796800;h1=a300428748dce5c70e4da19bffd60769591ea969c99dea3105d0ec9612cf43f9"
	for _, tc := range []struct {
		name, body, header, secret string
		now                        int64
		status                     Status
		problem                    Problem
	}{
		{"valid signature", `{"data": ["1", "2"]}`, nodeHeader, "VALID_SECRET", 1698796800, Valid, NoProblem},
		{"multiple hashes", `{"data": "value"}`, "ts=1698796800;h1=28981e941fae76e53db32f3d2a83cb69db41476595e84e1970a1b5d98f62b261;h1=28981e941fae76e53db32f3d2a83cb69db41476595e84e1970a1b5d98f62b261;h2=RANDOM_HASH", "VALID_SECRET", 1698796800, Valid, NoProblem},
		{"invalid secret", `{"data": ["1", "2"]}`, nodeHeader, "INVALID_VALID_SECRET", 1698796800, Invalid, Mismatch},
		{"invalid timestamp", `{"data": ["1", "2"]}`, strings.Replace(nodeHeader, "1698796800", "9876", 1), "VALID_SECRET", 1698796800, Invalid, Mismatch},
		{"more space", `{ "data": [ "1", "2" ]}`, nodeHeader, "VALID_SECRET", 1698796800, Invalid, Mismatch},
		{"invalid signature", `{"data": ["1", "2"]}`, "ts=1234;h1=invalid_signature", "VALID_SECRET", 1698796800, Invalid, MalformedHeader},
		{"missing ts and h1", `{}`, "invalid_header", "VALID_SECRET", 1698796800, Invalid, MalformedHeader},
		{"missing ts", `{}`, "h1=invalid_header", "VALID_SECRET", 1698796800, Invalid, MalformedHeader},
		{"missing h1", `{}`, "ts=1234;h2=invalid_header", "VALID_SECRET", 1698796800, Invalid, MalformedHeader},
		{"1 s later", `{"data": ["1", "2"]}`, nodeHeader, "VALID_SECRET", 1698796801, Valid, NoProblem},
		{"5 s later (the limit)", `{"data": ["1", "2"]}`, nodeHeader, "VALID_SECRET", 1698796805, Valid, NoProblem},
		{"6 s later", `{"data": ["1", "2"]}`, nodeHeader, "VALID_SECRET", 1698796806, Stale, OutsideWindow},
		{"days later", `{"data": ["1", "2"]}`, nodeHeader, "VALID_SECRET", 1699142400, Stale, OutsideWindow},
	} {
		r := paddleTestRequest([]byte(tc.body), tc.header)
		expectResult(t, "node sdk: "+tc.name, Paddle{}.Verify(r, tc.secret, Options{Now: time.Unix(tc.now, 0)}), tc.status, tc.problem, tc.secret)
	}
}

func TestPaddleVerifyProblems(t *testing.T) {
	signedAt := time.Unix(1_764_000_000, 0)
	body := []byte(`{"event_id":"evt_1","event_type":"transaction.completed","data":{}}`)
	signed := paddleTestRequest(body, "")
	if err := (Paddle{}).Sign(signed, paddleTestSecret, signedAt); err != nil {
		t.Fatal(err)
	}
	good := signed.Header.Get("Paddle-Signature")
	h1 := strings.SplitN(good, ";h1=", 2)[1]
	for _, tc := range []struct {
		name    string
		header  string
		body    string
		secret  string
		opt     Options
		status  Status
		problem Problem
		skew    time.Duration
	}{
		{"valid", good, string(body), paddleTestSecret, Options{Now: signedAt.Add(2 * time.Second)}, Valid, NoProblem, 2 * time.Second},
		{"rotation: second h1 matches", "ts=1764000000;h1=" + strings.Repeat("0", 64) + ";h1=" + h1, string(body), paddleTestSecret, Options{Now: signedAt}, Valid, NoProblem, 0},
		{"spaces around elements", "ts=1764000000 ; h1=" + h1, string(body), paddleTestSecret, Options{Now: signedAt}, Valid, NoProblem, 0},
		{"unsigned", "", string(body), paddleTestSecret, Options{Now: signedAt}, Unsigned, MissingHeader, 0},
		{"no ts", "h1=" + h1, string(body), paddleTestSecret, Options{Now: signedAt}, Invalid, MalformedHeader, 0},
		{"two ts", "ts=1;ts=2;h1=" + h1, string(body), paddleTestSecret, Options{Now: signedAt}, Invalid, MalformedHeader, 0},
		{"ts not a number", "ts=soon;h1=" + h1, string(body), paddleTestSecret, Options{Now: signedAt}, Invalid, MalformedHeader, 0},
		{"no h1", "ts=1764000000", string(body), paddleTestSecret, Options{Now: signedAt}, Invalid, MalformedHeader, 0},
		{"empty secret", good, string(body), "", Options{Now: signedAt}, Invalid, BadSecret, 0},
		{"api key", good, string(body), "pdl_live_apikey_01gtgztp8f4kek3yd4g1wrksa3_q6TGTJyvoIz7LDtXT65bX7_AQO", Options{Now: signedAt}, Invalid, BadSecret, 0},
		{"tampered body", good, strings.Replace(string(body), "completed", "canceled", 1), paddleTestSecret, Options{Now: signedAt.Add(time.Second)}, Invalid, Mismatch, time.Second},
		{"rotation: none matches", "ts=1764000000;h1=" + strings.Repeat("0", 64) + ";h1=" + strings.Repeat("1", 64), string(body), paddleTestSecret, Options{Now: signedAt}, Invalid, Mismatch, 0},
		{"stale", good, string(body), paddleTestSecret, Options{Now: signedAt.Add(12 * time.Minute)}, Stale, OutsideWindow, 12 * time.Minute},
		{"in the future", good, string(body), paddleTestSecret, Options{Now: signedAt.Add(-time.Minute)}, Stale, OutsideWindow, -time.Minute},
		{"wider tolerance", good, string(body), paddleTestSecret, Options{Now: signedAt.Add(12 * time.Minute), Tolerance: 15 * time.Minute}, Valid, NoProblem, 12 * time.Minute},
		{"tolerance off", good, string(body), paddleTestSecret, Options{Now: signedAt.Add(72 * time.Hour), Tolerance: -1}, Valid, NoProblem, 72 * time.Hour},
	} {
		r := paddleTestRequest([]byte(tc.body), tc.header)
		res := Paddle{}.Verify(r, tc.secret, tc.opt)
		expectResult(t, tc.name, res, tc.status, tc.problem, tc.secret)
		if res.Skew != tc.skew {
			t.Errorf("%s: Skew %v, want %v", tc.name, res.Skew, tc.skew)
		}
	}
	// The stale reason says by how much.
	res := Paddle{}.Verify(signed, paddleTestSecret, Options{Now: signedAt.Add(12*time.Minute + 3*time.Second)})
	if !strings.Contains(res.Reason, "12m3s old") || !strings.Contains(res.Reason, "tolerance 5s") {
		t.Errorf("stale reason: %s", res.Reason)
	}
	if err := (Paddle{}).Sign(&Request{}, "", signedAt); !errors.Is(err, ErrBadSecret) {
		t.Errorf("Sign with an empty secret: %v", err)
	}
}

// Re-signing an old request at a new time makes it verify again, under the 5 s tolerance.
func TestPaddleResign(t *testing.T) {
	body := []byte(`{"event_type":"transaction.completed"}`)
	r := paddleTestRequest(body, "")
	if err := (Paddle{}).Sign(r, paddleTestSecret, time.Unix(1_700_000_000, 0)); err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_764_000_000, 0)
	expectResult(t, "old", Paddle{}.Verify(r, paddleTestSecret, Options{Now: now}), Stale, OutsideWindow, paddleTestSecret)
	if err := (Paddle{}).Sign(r, paddleTestSecret, now); err != nil {
		t.Fatal(err)
	}
	expectResult(t, "re-signed", Paddle{}.Verify(r, paddleTestSecret, Options{Now: now.Add(time.Second)}), Valid, NoProblem, paddleTestSecret)
	if n := len(r.Header.Values("Paddle-Signature")); n != 1 {
		t.Errorf("%d Paddle-Signature headers after re-signing", n)
	}
}

// Every Paddle payload in the corpus: sign at a fixed time, verify, and Event gives the
// directory's event type and the evt_ id; tampering is caught.
func TestPaddlePayloads(t *testing.T) {
	at := time.Unix(1_764_000_000, 0)
	for _, f := range corpusFiles(t, "paddle") {
		body := corpusFile(t, strings.TrimPrefix(f, corpusDir+"/"))
		r := paddleTestRequest(body, "")
		if err := (Paddle{}).Sign(r, paddleTestSecret, at); err != nil {
			t.Fatal(err)
		}
		if s, ok := Detect(r.Header); !ok || s.Name() != "paddle" {
			t.Errorf("%s: Detect = %v %v", f, s, ok)
		}
		expectResult(t, f, Paddle{}.Verify(r, paddleTestSecret, Options{Now: at.Add(3 * time.Second)}), Valid, NoProblem, paddleTestSecret)
		typ, id := Paddle{}.Event(r.Header, body)
		if typ != filepath.Base(filepath.Dir(f)) || !strings.HasPrefix(id, "evt_") {
			t.Errorf("%s: Event = %q %q", f, typ, id)
		}
		r.Body = []byte(strings.Replace(string(body), "evt_", "evt_x", 1))
		expectResult(t, f+" tampered", Paddle{}.Verify(r, paddleTestSecret, Options{Now: at}), Invalid, Mismatch, paddleTestSecret)
	}
}

func TestPaddleDetectAndEvent(t *testing.T) {
	h := http.Header{}
	if (Paddle{}).Detect(h) {
		t.Error("detected without a signature")
	}
	h.Set("paddle-signature", "ts=1;h1=00")
	if !(Paddle{}).Detect(h) {
		t.Error("not detected")
	}
	for _, body := range []string{"", "not json", `{"event_type":1}`, `[]`} {
		if typ, id := (Paddle{}).Event(h, []byte(body)); typ != "" || id != "" {
			t.Errorf("Event(%q) = %q %q", body, typ, id)
		}
	}
}
