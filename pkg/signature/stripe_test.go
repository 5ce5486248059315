package signature

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v85/webhook"
)

const (
	stripeTestSecret = "whsec_hookctl_stripe_test_secret"
	// stripePayloads is /work/shared/payloads/stripe seen from the package directory; tests that
	// read it skip when it is absent.
	stripePayloads = "../../../shared/payloads/stripe"
)

var stripeTestNow = time.Unix(1_764_000_000, 0)

func stripeTestRequest(body []byte, header string) *Request {
	h := http.Header{}
	if header != "" {
		h.Set("Stripe-Signature", header)
	}
	return &Request{Method: "POST", URL: "https://example.com/stripe", Header: h, Body: body}
}

func stripeSignedHeader(t *testing.T, body []byte, secret string, at time.Time) string {
	t.Helper()
	r := stripeTestRequest(body, "")
	if err := (Stripe{}).Sign(r, secret, at); err != nil {
		t.Fatal(err)
	}
	return r.Header.Get("Stripe-Signature")
}

// stripe-dotnet's published vector: src/StripeTests/Services/Events/EventUtilityTest.cs
// (github.com/stripe/stripe-dotnet) signs src/StripeTests/Resources/event_test_signature.json,
// copied byte for byte to payloads/stripe/customer.created/stripe-dotnet.event_test_signature.json,
// with the secret "webhook_secret" at t=1533204620; its header also carries a v0 signature.
func TestStripeDotnetVector(t *testing.T) {
	body, err := os.ReadFile(filepath.Join(stripePayloads, "customer.created", "stripe-dotnet.event_test_signature.json"))
	if err != nil {
		t.Skip("payload corpus not available:", err)
	}
	const (
		secret = "webhook_secret"
		header = "t=1533204620,v1=2220f87ef101a04665f11cdf770523143f875572008577fa0f20882ddb9cc3c7,v0=63f3a72374a733066c4be69ed7f8e5ac85c22c9f0a6a612ab9a025a9e4ee7eef"
	)
	if got := hex.EncodeToString(stripeMAC(secret, time.Unix(1533204620, 0), body)); got != "2220f87ef101a04665f11cdf770523143f875572008577fa0f20882ddb9cc3c7" {
		t.Fatalf("v1 = %s", got)
	}
	s, bad := parseStripeHeader(header)
	if bad != nil || len(s.v1) != 1 || s.v0 != 1 || s.ts.Unix() != 1533204620 {
		t.Fatalf("parse: %+v %+v", s, bad)
	}
	// The vector's secret is not a real whsec_ secret: hookctl says so rather than "mismatch".
	res := Stripe{}.Verify(stripeTestRequest(body, header), secret, Options{Now: time.Unix(1533204720, 0)})
	if res.Status != Invalid || res.Problem != BadSecret {
		t.Fatalf("Verify with a secret without whsec_: %+v", res)
	}
	// stripe-go does not check the secret's form, and agrees with the vector.
	if err := webhook.ValidatePayloadIgnoringTolerance(body, header, secret); err != nil {
		t.Fatal("stripe-go rejects the stripe-dotnet vector:", err)
	}
	if typ, id := (Stripe{}).Event(nil, body); typ != "customer.created" || id != "evt_123" {
		t.Fatalf("Event = %q %q", typ, id)
	}
}

func TestStripeVerifyProblems(t *testing.T) {
	body := []byte(`{"id":"evt_1","object":"event","type":"payment_intent.succeeded","data":{"object":{}}}`)
	good := stripeSignedHeader(t, body, stripeTestSecret, stripeTestNow)
	goodHex := strings.SplitN(good, "v1=", 2)[1]
	at := func(d time.Duration) string {
		return stripeSignedHeader(t, body, stripeTestSecret, stripeTestNow.Add(d))
	}
	ts := fmt.Sprint(stripeTestNow.Unix())

	tests := []struct {
		name    string
		header  string
		body    []byte
		secret  string
		opt     Options
		status  Status
		problem Problem
		skew    time.Duration
		reason  string
	}{
		{name: "valid", header: good, status: Valid, reason: "v1 signature matches"},
		{name: "unsigned", header: "", status: Unsigned, problem: MissingHeader, reason: "no Stripe-Signature header"},
		{name: "element without =", header: "t=" + ts + ",v1", status: Invalid, problem: MalformedHeader},
		{name: "not a Stripe header", header: "sha256=abc", status: Invalid, problem: MalformedHeader, reason: "no t=<unix>"},
		{name: "no timestamp", header: "v1=" + goodHex, status: Invalid, problem: MalformedHeader, reason: "no t=<unix>"},
		{name: "timestamp not a number", header: "t=yesterday,v1=" + goodHex, status: Invalid, problem: MalformedHeader, reason: "not unix seconds"},
		{name: "negative timestamp", header: "t=-5,v1=" + goodHex, status: Invalid, problem: MalformedHeader},
		{name: "no v1", header: "t=" + ts, status: Invalid, problem: MalformedHeader, reason: "no v1"},
		{name: "only v0", header: "t=" + ts + ",v0=" + goodHex, status: Invalid, problem: MalformedHeader, reason: "only a v0"},
		{name: "v1 not hex", header: "t=" + ts + ",v1=bad_signature", status: Invalid, problem: MalformedHeader, reason: "hex"},
		{name: "v1 too short", header: "t=" + ts + ",v1=deadbeef", status: Invalid, problem: MalformedHeader},
		{name: "secret without whsec_", header: good, secret: "hookctl_stripe_test_secret", status: Invalid, problem: BadSecret, reason: "whsec_"},
		{name: "API key as secret", header: good, secret: "sk_test_hookctl", status: Invalid, problem: BadSecret, reason: "API key"},
		{name: "empty whsec_", header: good, secret: "whsec_", status: Invalid, problem: BadSecret},
		{name: "empty secret", header: good, secret: "-", status: Invalid, problem: BadSecret},
		{name: "wrong secret", header: good, secret: "whsec_other", status: Invalid, problem: Mismatch, reason: "body differs from what was signed, or the secret is wrong"},
		{name: "tampered body", header: good, body: append([]byte(" "), body...), status: Invalid, problem: Mismatch, reason: "body differs"},
		{name: "signature of another time", header: "t=" + fmt.Sprint(stripeTestNow.Unix()+1) + ",v1=" + goodHex, status: Invalid, problem: Mismatch, skew: -time.Second},
		{name: "299 s old", header: at(-299 * time.Second), status: Valid, skew: 299 * time.Second},
		{name: "301 s old", header: at(-301 * time.Second), status: Stale, problem: OutsideWindow, skew: 301 * time.Second, reason: "5m1s old"},
		{name: "301 s in the future", header: at(301 * time.Second), status: Stale, problem: OutsideWindow, skew: -301 * time.Second, reason: "in the future"},
		{name: "mismatch beats stale", header: at(-time.Hour), secret: "whsec_other", status: Invalid, problem: Mismatch, skew: time.Hour},
		{name: "custom tolerance", header: at(-11 * time.Second), opt: Options{Tolerance: 10 * time.Second}, status: Stale, problem: OutsideWindow, skew: 11 * time.Second},
		{name: "negative tolerance", header: at(-365 * 24 * time.Hour), opt: Options{Tolerance: -1}, status: Valid, skew: 365 * 24 * time.Hour, reason: "not checked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := body
			if tt.body != nil {
				b = tt.body
			}
			secret := stripeTestSecret
			switch tt.secret {
			case "":
			case "-":
				secret = ""
			default:
				secret = tt.secret
			}
			opt := tt.opt
			opt.Now = stripeTestNow
			res := Stripe{}.Verify(stripeTestRequest(b, tt.header), secret, opt)
			if res.Status != tt.status || res.Problem != tt.problem || res.Skew != tt.skew {
				t.Fatalf("got %+v, want %s/%q skew %s", res, tt.status, tt.problem, tt.skew)
			}
			if res.Reason == "" || !strings.Contains(res.Reason, tt.reason) {
				t.Fatalf("reason %q does not contain %q", res.Reason, tt.reason)
			}
			if s := strings.TrimPrefix(secret, "whsec_"); s != "" && strings.Contains(res.Reason, s) {
				t.Fatalf("reason %q contains the secret", res.Reason)
			}
		})
	}
}

// During a secret roll Stripe signs with each secret and sends several v1 values.
func TestStripeRotation(t *testing.T) {
	body := []byte(`{"id":"evt_rot","object":"event","type":"invoice.paid"}`)
	oldHdr := stripeSignedHeader(t, body, "whsec_old", stripeTestNow)
	newHdr := stripeSignedHeader(t, body, "whsec_new", stripeTestNow)
	both := oldHdr + ",v1=" + strings.SplitN(newHdr, "v1=", 2)[1] + ",v0=" + strings.Repeat("00", 32)
	for _, tc := range []struct {
		secret string
		status Status
		reason string
	}{
		{"whsec_old", Valid, "v1 signature 1 of 2 matches"},
		{"whsec_new", Valid, "v1 signature 2 of 2 matches"},
		{"whsec_neither", Invalid, "none of the 2 v1 signatures matches"},
	} {
		res := Stripe{}.Verify(stripeTestRequest(body, both), tc.secret, Options{Now: stripeTestNow})
		if res.Status != tc.status || !strings.Contains(res.Reason, tc.reason) {
			t.Errorf("%s: %+v", tc.secret, res)
		}
		if sdk := webhook.ValidatePayloadIgnoringTolerance(body, both, tc.secret); (sdk == nil) != (tc.status == Valid) {
			t.Errorf("%s: stripe-go says %v", tc.secret, sdk)
		}
	}
	// An unreadable v1 next to a good one is ignored, as stripe-go does.
	res := Stripe{}.Verify(stripeTestRequest(body, newHdr+",v1=bad_signature"), "whsec_new", Options{Now: stripeTestNow})
	if res.Status != Valid {
		t.Errorf("unreadable extra v1: %+v", res)
	}
}

func TestStripeSignRoundTrip(t *testing.T) {
	body := []byte(`{"id":"evt_2","object":"event","type":"charge.refunded"}`)
	r := stripeTestRequest(body, "t=1,v1=00")
	r.Header.Set("Content-Type", "application/json")
	if err := (Stripe{}).Sign(r, stripeTestSecret, stripeTestNow); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("t=%d,v1=%x", stripeTestNow.Unix(), stripeMAC(stripeTestSecret, stripeTestNow, body))
	if got := r.Header.Values("Stripe-Signature"); len(got) != 1 || got[0] != want {
		t.Fatalf("header %q, want %q", got, want)
	}
	if res := (Stripe{}).Verify(r, stripeTestSecret, Options{Now: stripeTestNow}); res.Status != Valid || res.Skew != 0 {
		t.Fatalf("%+v", res)
	}
	// Sign on a request without a header map.
	bare := &Request{Body: body}
	if err := (Stripe{}).Sign(bare, stripeTestSecret, stripeTestNow); err != nil || bare.Header.Get("Stripe-Signature") != want {
		t.Fatal(err, bare.Header)
	}
	for _, bad := range []string{"", "sk_live_x", "whsec_", "secret"} {
		if err := (Stripe{}).Sign(stripeTestRequest(body, ""), bad, stripeTestNow); !errors.Is(err, ErrBadSecret) {
			t.Errorf("Sign with %q: %v", bad, err)
		}
	}
}

// Cross-checks with stripe-go v85 (github.com/stripe/stripe-go/v85/webhook), both ways.
func TestStripeCrossCheckSDK(t *testing.T) {
	body := []byte(`{"id":"evt_3","object":"event","type":"payment_intent.succeeded","api_version":"2026-03-25.dahlia","data":{"object":{}}}`)
	now := time.Now()

	// hookctl signs, stripe-go accepts (ValidatePayload uses the real clock and 300 s).
	hdr := stripeSignedHeader(t, body, stripeTestSecret, now)
	if err := webhook.ValidatePayload(body, hdr, stripeTestSecret); err != nil {
		t.Fatal("stripe-go rejects hookctl's signature:", err)
	}
	ev, err := webhook.ConstructEventWithOptions(body, hdr, stripeTestSecret, webhook.ConstructEventOptions{IgnoreAPIVersionMismatch: true})
	if err != nil || string(ev.Type) != "payment_intent.succeeded" || ev.ID != "evt_3" {
		t.Fatal("ConstructEventWithOptions:", err, ev.Type, ev.ID)
	}

	// stripe-go signs, hookctl accepts.
	sp := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: stripeTestSecret, Timestamp: stripeTestNow})
	if res := (Stripe{}).Verify(stripeTestRequest(sp.Payload, sp.Header), stripeTestSecret, Options{Now: stripeTestNow}); res.Status != Valid {
		t.Fatalf("hookctl rejects stripe-go's signature %q: %+v", sp.Header, res)
	}
	if hdr := stripeSignedHeader(t, body, stripeTestSecret, stripeTestNow); hdr != sp.Header {
		t.Fatalf("headers differ: hookctl %q, stripe-go %q", hdr, sp.Header)
	}

	// Tampered: both reject.
	tampered := []byte(strings.Replace(string(body), "evt_3", "evt_4", 1))
	if err := webhook.ValidatePayload(tampered, hdr, stripeTestSecret); !errors.Is(err, webhook.ErrNoValidSignature) {
		t.Error("stripe-go accepts a tampered body:", err)
	}
	if res := (Stripe{}).Verify(stripeTestRequest(tampered, hdr), stripeTestSecret, Options{Now: now}); res.Problem != Mismatch {
		t.Errorf("hookctl: %+v", res)
	}

	// Stale (10 minutes old): both reject; with the window off both accept.
	old := now.Add(-10 * time.Minute)
	stale := stripeSignedHeader(t, body, stripeTestSecret, old)
	if err := webhook.ValidatePayload(body, stale, stripeTestSecret); !errors.Is(err, webhook.ErrTooOld) {
		t.Error("stripe-go accepts a stale signature:", err)
	}
	if res := (Stripe{}).Verify(stripeTestRequest(body, stale), stripeTestSecret, Options{Now: now}); res.Status != Stale || res.Problem != OutsideWindow {
		t.Errorf("hookctl: %+v", res)
	}
	if err := webhook.ValidatePayloadIgnoringTolerance(body, stale, stripeTestSecret); err != nil {
		t.Error(err)
	}
	if res := (Stripe{}).Verify(stripeTestRequest(body, stale), stripeTestSecret, Options{Now: now, Tolerance: -1}); res.Status != Valid {
		t.Errorf("hookctl: %+v", res)
	}
	sdkStale := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: stripeTestSecret, Timestamp: old})
	if res := (Stripe{}).Verify(stripeTestRequest(body, sdkStale.Header), stripeTestSecret, Options{Now: now}); res.Status != Stale {
		t.Errorf("hookctl on stripe-go's stale signature: %+v", res)
	}
}

// Every Stripe event in the payload corpus: hookctl signs it, hookctl and stripe-go accept it,
// and Event returns the directory's event type (the corpus is laid out by Stripe's type).
func TestStripePayloads(t *testing.T) {
	dirs, err := os.ReadDir(stripePayloads)
	if err != nil {
		t.Skip("payload corpus not available:", err)
	}
	n := 0
	for _, d := range dirs {
		if !d.IsDir() || d.Name() == "objects" {
			continue
		}
		files, _ := filepath.Glob(filepath.Join(stripePayloads, d.Name(), "*.json"))
		for _, f := range files {
			body, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			n++
			hdr := stripeSignedHeader(t, body, stripeTestSecret, stripeTestNow)
			if res := (Stripe{}).Verify(stripeTestRequest(body, hdr), stripeTestSecret, Options{Now: stripeTestNow}); res.Status != Valid {
				t.Errorf("%s: %+v", f, res)
			}
			if err := webhook.ValidatePayloadIgnoringTolerance(body, hdr, stripeTestSecret); err != nil {
				t.Errorf("%s: stripe-go: %v", f, err)
			}
			typ, id := Stripe{}.Event(http.Header{}, body)
			if typ != d.Name() || !strings.HasPrefix(id, "evt_") {
				t.Errorf("%s: Event = %q %q", f, typ, id)
			}
		}
	}
	if n < 20 {
		t.Fatalf("only %d Stripe payloads", n)
	}
	// A bare API object is not an event.
	if obj, err := os.ReadFile(filepath.Join(stripePayloads, "objects", "payment_intent", "openapi-fixtures3.json")); err == nil {
		if typ, id := (Stripe{}).Event(nil, obj); typ != "" || id != "" {
			t.Errorf("bare object: Event = %q %q", typ, id)
		}
	}
}

func TestStripeDetectAndEvent(t *testing.T) {
	h := http.Header{}
	if (Stripe{}).Detect(h) {
		t.Fatal("detected without a header")
	}
	h.Set("Stripe-Signature", "t=1,v1=00")
	if !(Stripe{}).Detect(h) {
		t.Fatal("not detected")
	}
	if s, ok := Lookup("Stripe"); !ok || s.Name() != "stripe" {
		t.Fatal("Lookup")
	}
	for _, tc := range []struct{ body, typ, id string }{
		{`{"id":"evt_9","type":"customer.subscription.updated"}`, "customer.subscription.updated", "evt_9"},
		{`{"id":"evt_test_65R","object":"v2.core.event","type":"v1.billing.meter.error_report_triggered"}`, "v1.billing.meter.error_report_triggered", "evt_test_65R"},
		{`{"id":"pi_1","object":"payment_intent"}`, "", ""},
		{`{"type":7}`, "", ""},
		{`not json`, "", ""},
		{``, "", ""},
	} {
		if typ, id := (Stripe{}).Event(nil, []byte(tc.body)); typ != tc.typ || id != tc.id {
			t.Errorf("%s: %q %q", tc.body, typ, id)
		}
	}
}
