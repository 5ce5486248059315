package signature

import (
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const shopifyTestSecret = "shpss_hookctl_shopify_test_secret"

func shopifyTestRequest(body []byte, sig string) *Request {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("X-Shopify-Topic", "orders/create")
	if sig != "" {
		h.Set("X-Shopify-Hmac-Sha256", sig)
	}
	return &Request{Method: "POST", URL: "https://hooks.example.com/shopify", Header: h, Body: body}
}

// Shopify publishes no secret together with a signature, so this vector was computed
// independently with Python: base64(hmac.new(b"hush", body, hashlib.sha256).digest()). The
// scheme (base64 HMAC-SHA256 of the raw body with the client secret) is from
// https://shopify.dev/docs/apps/build/webhooks/subscribe/https (see Shopify's
// shopify-app-js lib/webhooks/validate.ts).
func TestShopifyVector(t *testing.T) {
	body := []byte(`{"id":820982911946154508,"email":"jon@example.com"}`)
	r := shopifyTestRequest(body, "D0UMXmhjwBRi4y66TmhJrDlhQABD7zI2fm3p6/QLMo8=")
	expectResult(t, "vector", Shopify{}.Verify(r, "hush", Options{}), Valid, NoProblem, "hush")

	s := shopifyTestRequest(body, "")
	if err := (Shopify{}).Sign(s, "hush", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if got := s.Header.Get("X-Shopify-Hmac-Sha256"); got != "D0UMXmhjwBRi4y66TmhJrDlhQABD7zI2fm3p6/QLMo8=" {
		t.Errorf("Sign = %q", got)
	}
}

func TestShopifyVerifyProblems(t *testing.T) {
	body := []byte(`{"id":1,"topic":"orders/create"}`)
	signed := shopifyTestRequest(body, "")
	if err := (Shopify{}).Sign(signed, shopifyTestSecret, time.Time{}); err != nil {
		t.Fatal(err)
	}
	good := signed.Header.Get("X-Shopify-Hmac-Sha256")
	for _, tc := range []struct {
		name    string
		sig     string
		body    string
		secret  string
		status  Status
		problem Problem
	}{
		{"valid", good, string(body), shopifyTestSecret, Valid, NoProblem},
		{"unsigned", "", string(body), shopifyTestSecret, Unsigned, MissingHeader},
		{"not base64", "not*base64", string(body), shopifyTestSecret, Invalid, MalformedHeader},
		{"hex instead of base64", strings.Repeat("ab", 32), string(body), shopifyTestSecret, Invalid, MalformedHeader},
		{"empty secret", good, string(body), "", Invalid, BadSecret},
		{"tampered body", good, strings.Replace(string(body), "1", "2", 1), shopifyTestSecret, Invalid, Mismatch},
		{"wrong secret", good, string(body), "shpss_other", Invalid, Mismatch},
	} {
		r := shopifyTestRequest([]byte(tc.body), tc.sig)
		res := Shopify{}.Verify(r, tc.secret, Options{Now: time.Unix(1, 0)})
		expectResult(t, tc.name, res, tc.status, tc.problem, tc.secret)
		if res.Skew != 0 {
			t.Errorf("%s: Skew %v for an untimestamped scheme", tc.name, res.Skew)
		}
	}
	if err := (Shopify{}).Sign(&Request{}, "", time.Time{}); !errors.Is(err, ErrBadSecret) {
		t.Errorf("Sign with an empty secret: %v", err)
	}
}

// Every Shopify payload in the corpus: sign with a test secret, verify, and Event gives the
// topic (the directory name with "." back to "/") and the delivery id; tampering is caught.
func TestShopifyPayloads(t *testing.T) {
	for _, f := range corpusFiles(t, "shopify") {
		body := corpusFile(t, strings.TrimPrefix(f, corpusDir+"/"))
		topic := strings.Replace(filepath.Base(filepath.Dir(f)), ".", "/", 1)
		r := shopifyTestRequest(body, "")
		r.Header.Set("X-Shopify-Topic", topic)
		r.Header.Set("X-Shopify-Webhook-Id", "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043")
		if err := (Shopify{}).Sign(r, shopifyTestSecret, time.Now()); err != nil {
			t.Fatal(err)
		}
		if s, ok := Detect(r.Header); !ok || s.Name() != "shopify" {
			t.Errorf("%s: Detect = %v %v", f, s, ok)
		}
		expectResult(t, f, Shopify{}.Verify(r, shopifyTestSecret, Options{}), Valid, NoProblem, shopifyTestSecret)
		typ, id := Shopify{}.Event(r.Header, body)
		if typ != topic || id != "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043" {
			t.Errorf("%s: Event = %q %q", f, typ, id)
		}
		r.Body = append([]byte(" "), body...)
		expectResult(t, f+" tampered", Shopify{}.Verify(r, shopifyTestSecret, Options{}), Invalid, Mismatch, shopifyTestSecret)
	}
}

func TestShopifyDetectAndEvent(t *testing.T) {
	h := http.Header{}
	h.Set("X-Shopify-Topic", "app/uninstalled")
	if (Shopify{}).Detect(h) {
		t.Error("detected without a signature header")
	}
	h.Set("X-Shopify-Event-Id", "evt-98880550-7158-44d4-b7cd-2c97c8a091b5")
	if typ, id := (Shopify{}).Event(h, nil); typ != "app/uninstalled" || id != "evt-98880550-7158-44d4-b7cd-2c97c8a091b5" {
		t.Errorf("Event with only X-Shopify-Event-Id = %q %q", typ, id)
	}
	h.Set("X-Shopify-Webhook-Id", "wh-1")
	if _, id := (Shopify{}).Event(h, nil); id != "wh-1" {
		t.Errorf("X-Shopify-Webhook-Id not preferred: %q", id)
	}
	h.Set("x-shopify-hmac-sha256", "abc=")
	if !(Shopify{}).Detect(h) {
		t.Error("not detected")
	}
	if s, ok := Lookup("Shopify"); !ok || s.Name() != "shopify" {
		t.Errorf("Lookup = %v %v", s, ok)
	}
}
