package signature

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// The URL, auth token and parameters of Twilio's SDK tests (twilio-go
// client/request_validator_test.go, twilio-python tests/unit/test_request_validator.py,
// twilio-node spec/validation.spec.js).
const (
	twilioTestToken = "12345"
	twilioTestURL   = "https://mycompany.com/myapp.php?foo=1&bar=2"
	twilioBodyHashT = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
	twilioJSONBody  = `{"property": "value", "boolean": true}`
)

// twilioSDKParams are the SDK tests' POST parameters, with Caller and From set to phone.
func twilioSDKParams(phone string) url.Values {
	return url.Values{
		"CallSid": {"CA1234567890ABCDE"},
		"Caller":  {phone},
		"Digits":  {"1234"},
		"From":    {phone},
		"To":      {"+18005551212"},
	}
}

func twilioTestRequest(rawURL, contentType string, body []byte, sig string) *Request {
	h := http.Header{}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	if sig != "" {
		h.Set("X-Twilio-Signature", sig)
	}
	return &Request{Method: "POST", URL: rawURL, Header: h, Body: body}
}

const twilioForm = "application/x-www-form-urlencoded"

func TestTwilioVectors(t *testing.T) {
	sdk := twilioSDKParams("+14158675309")
	// Written out of order on purpose: the signature sorts the parameters.
	sdkBody := "To=%2B18005551212&Digits=1234&From=%2B14158675309&CallSid=CA1234567890ABCDE&Caller=%2B14158675309"
	if got, _ := url.ParseQuery(sdkBody); got.Encode() != sdk.Encode() {
		t.Fatalf("test body %v", got)
	}
	for _, tc := range []struct {
		name, url, ct, body, sig, source string
	}{
		{"sdk vector", twilioTestURL, twilioForm, sdkBody, "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
			"twilio-go request_validator_test.go `signature`; twilio-python test_compute_signature; twilio-node"},
		{"docs vector", twilioTestURL, twilioForm, twilioSDKParams("+12349013030").Encode(), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=",
			"https://www.twilio.com/docs/usage/webhooks/webhooks-security (its example uses Caller/From +12349013030)"},
		{"api-snippets vector", twilioTestURL, twilioForm, twilioSDKParams("+14158675310").Encode(), "GvWf1cFY/Q7PnoempGyD5oXAezc=",
			"TwilioDevEd/api-snippets security/signature_validation/signature_validation.5.x.php"},
		{"signed with :443, requested without", twilioTestURL, twilioForm, sdkBody, "kvajT1Ptam85bY51eRf/AJRuM3w=",
			"twilio-go 'https and port is specified and signature is generated with it'; twilio-python test_validation_adds_port_on_https"},
		{"requested with a port, signed without", strings.Replace(twilioTestURL, ".com", ".com:1234", 1), twilioForm, sdkBody, "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
			"twilio-go 'https and port is specified but signature is generated without it'; twilio-python test_validation_removes_port_on_https"},
		{"http, signed with :80", "http://mycompany.com/myapp.php?foo=1&bar=2", twilioForm, sdkBody, "0ZXoZLH/DfblKGATFgpif+LLRf4=",
			"twilio-python test_validation_adds_port_on_http; twilio-go"},
		{"http with a port, signed with it", "http://mycompany.com:1234/myapp.php?foo=1&bar=2", twilioForm, sdkBody, "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=",
			"twilio-python test_validation_removes_port_on_http; twilio-go"},
		{"repeated parameters", twilioTestURL, twilioForm, "Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234", "IK+Dwps556ElfBT0I3Rgjkr1wJU=",
			"twilio-python test_compute_signature_duplicate_query_dict"},
		{"json body", twilioTestURL + "&bodySHA256=" + twilioBodyHashT, "application/json", twilioJSONBody, "a9nBmqA0ju/hNViExpshrM61xv4=",
			"twilio-go TestRequestValidator_ValidateBody; twilio-python test_validation_of_body_succeeds"},
		{"json body, bodySHA256 the only parameter", "https://mycompany.com/myapp.php?bodySHA256=" + twilioBodyHashT, "application/json", twilioJSONBody, "y77kIzt2vzLz71DgmJGsen2scGs=",
			"twilio-go 'there's no other parameters and the signature is right'"},
	} {
		r := twilioTestRequest(tc.url, tc.ct, []byte(tc.body), tc.sig)
		expectResult(t, tc.name+" ("+tc.source+")", Twilio{}.Verify(r, twilioTestToken, Options{}), Valid, NoProblem, "")
	}

	// The JSON body of the corpus travels with the same vector (SOURCES.md).
	body := corpusFile(t, "twilio/json-webhook.bodySHA256/twilio-node.validation-spec.body.json")
	r := twilioTestRequest(twilioTestURL+"&bodySHA256="+twilioBodyHashT, "application/json", body, "a9nBmqA0ju/hNViExpshrM61xv4=")
	expectResult(t, "corpus json body", Twilio{}.Verify(r, twilioTestToken, Options{}), Valid, NoProblem, "")
}

// What hookctl signs reproduces the SDK vectors exactly.
func TestTwilioSignVectors(t *testing.T) {
	r := twilioTestRequest(twilioTestURL, twilioForm, []byte(twilioSDKParams("+14158675309").Encode()), "")
	if err := (Twilio{}).Sign(r, twilioTestToken, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if got := r.Header.Get("X-Twilio-Signature"); got != "RSOYDt4T1cUTdK1PDd93/VVr8B8=" {
		t.Errorf("form Sign = %q", got)
	}
	if r.URL != twilioTestURL {
		t.Errorf("form Sign changed the URL to %q", r.URL)
	}

	j := twilioTestRequest(twilioTestURL, "application/json", []byte(twilioJSONBody), "")
	if err := (Twilio{}).Sign(j, twilioTestToken, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if j.URL != twilioTestURL+"&bodySHA256="+twilioBodyHashT {
		t.Errorf("JSON Sign URL = %q", j.URL)
	}
	if got := j.Header.Get("X-Twilio-Signature"); got != "a9nBmqA0ju/hNViExpshrM61xv4=" {
		t.Errorf("JSON Sign = %q", got)
	}

	// An unchanged body keeps the URL as it was, bodySHA256 and all (a re-signed replay).
	k := twilioTestRequest("https://mycompany.com/myapp.php?bodySHA256="+twilioBodyHashT+"&x=1", "", []byte(twilioJSONBody), "")
	before := k.URL
	if err := (Twilio{}).Sign(k, twilioTestToken, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if k.URL != before {
		t.Errorf("Sign changed the URL of an unchanged body: %q", k.URL)
	}
	expectResult(t, "re-signed unchanged json", Twilio{}.Verify(k, twilioTestToken, Options{}), Valid, NoProblem, "")

	// A stale bodySHA256 (an edited body) is replaced, whatever the content type says.
	e := twilioTestRequest("https://mycompany.com/myapp.php?bodySHA256=00&x=1", "", []byte(twilioJSONBody), "")
	if err := (Twilio{}).Sign(e, twilioTestToken, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if e.URL != "https://mycompany.com/myapp.php?x=1&bodySHA256="+twilioBodyHashT {
		t.Errorf("re-signed URL = %q", e.URL)
	}
	expectResult(t, "re-signed json", Twilio{}.Verify(e, twilioTestToken, Options{}), Valid, NoProblem, "")
}

func TestTwilioVerifyProblems(t *testing.T) {
	form := []byte(twilioSDKParams("+14158675309").Encode())
	jsonURL := twilioTestURL + "&bodySHA256=" + twilioBodyHashT
	const sig, jsonSig = "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "a9nBmqA0ju/hNViExpshrM61xv4="
	// A body whose hash the URL states, signed with the URL: only the body hash is wrong.
	otherBody := []byte(`{"property": "other"}`)
	for _, tc := range []struct {
		name, url, ct, body, sig, token string
		status                          Status
		problem                         Problem
	}{
		{"valid", twilioTestURL, twilioForm, string(form), sig, twilioTestToken, Valid, NoProblem},
		{"unsigned", twilioTestURL, twilioForm, string(form), "", twilioTestToken, Unsigned, MissingHeader},
		{"not base64", twilioTestURL, twilioForm, string(form), "%%%", twilioTestToken, Invalid, MalformedHeader},
		{"hmac-sha256 signature", twilioTestURL, twilioForm, string(form), "D0UMXmhjwBRi4y66TmhJrDlhQABD7zI2fm3p6/QLMo8=", twilioTestToken, Invalid, MalformedHeader},
		{"empty token", twilioTestURL, twilioForm, string(form), sig, "", Invalid, BadSecret},
		{"no URL", "", twilioForm, string(form), sig, twilioTestToken, Invalid, MissingHeader},
		{"relative URL", "/myapp.php?foo=1&bar=2", twilioForm, string(form), sig, twilioTestToken, Invalid, MissingHeader},
		{"tampered parameter", twilioTestURL, twilioForm, strings.Replace(string(form), "Digits=1234", "Digits=9999", 1), sig, twilioTestToken, Invalid, Mismatch},
		{"extra parameter", twilioTestURL, twilioForm, string(form) + "&Extra=1", sig, twilioTestToken, Invalid, Mismatch},
		{"local URL", "http://localhost:3000/myapp.php?foo=1&bar=2", twilioForm, string(form), sig, twilioTestToken, Invalid, Mismatch},
		{"wrong token", twilioTestURL, twilioForm, string(form), sig, "54321", Invalid, Mismatch},
		{"unparsable form", twilioTestURL, twilioForm, "a=%zz", sig, twilioTestToken, Invalid, Mismatch},
		{"json tampered body", jsonURL, "application/json", string(otherBody), jsonSig, twilioTestToken, Invalid, Mismatch},
		{"json bodySHA256 not hex", twilioTestURL + "&bodySHA256=xyz", "application/json", twilioJSONBody, "", twilioTestToken, Invalid, Mismatch},
		{"json wrong URL", jsonURL + "&x=1", "application/json", twilioJSONBody, jsonSig, twilioTestToken, Invalid, Mismatch},
	} {
		s := tc.sig
		if tc.name == "json bodySHA256 not hex" {
			// Sign the URL itself (Sign would fix the hash), so that only the hash is wrong.
			s = base64.StdEncoding.EncodeToString(hmacSum(sha1.New, []byte(twilioTestToken), []byte(tc.url)))
		}
		r := twilioTestRequest(tc.url, tc.ct, []byte(tc.body), s)
		res := Twilio{}.Verify(r, tc.token, Options{})
		expectResult(t, tc.name, res, tc.status, tc.problem, tc.token)
		if tc.name == "json bodySHA256 not hex" && !strings.Contains(res.Reason, "not a hex SHA-256") {
			t.Errorf("%s: %s", tc.name, res.Reason)
		}
		if tc.name == "json tampered body" && !strings.Contains(res.Reason, "body's SHA-256 differs") {
			t.Errorf("%s: %s", tc.name, res.Reason)
		}
		if res.Skew != 0 {
			t.Errorf("%s: Skew %v", tc.name, res.Skew)
		}
	}
	// The password of a URL with credentials does not appear in a Reason.
	r := twilioTestRequest("https://user:hunter2pass@mycompany.com/x", twilioForm, form, sig)
	if res := (Twilio{}).Verify(r, twilioTestToken, Options{}); res.Problem != Mismatch || strings.Contains(res.Reason, "hunter2pass") {
		t.Errorf("credentials: %+v", res)
	}
}

func TestTwilioSignRoundTrip(t *testing.T) {
	for _, tc := range []struct{ name, url, ct, body string }{
		{"form", "https://hooks.example.com/sms?tenant=a%20b", twilioForm, "Body=Hello+there&From=%2B15017122661&MessageSid=SM1&To=%2B15558675310"},
		{"form, charset", "https://hooks.example.com:8443/voice", twilioForm + "; charset=UTF-8", "CallSid=CA1&CallStatus=ringing"},
		{"GET, no body", "https://hooks.example.com/status?CallSid=CA1&CallStatus=completed", "", ""},
		{"json", "https://hooks.example.com/events", "application/json; charset=utf-8", `{"a":1}`},
		{"ipv6 with port", "https://[2001:db8::1]:8443/sms", twilioForm, "MessageSid=SM2"},
	} {
		r := twilioTestRequest(tc.url, tc.ct, []byte(tc.body), "")
		if err := (Twilio{}).Sign(r, "tw-token", time.Unix(1_764_000_000, 0)); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		expectResult(t, tc.name, Twilio{}.Verify(r, "tw-token", Options{}), Valid, NoProblem, "tw-token")
		r.Body = append(r.Body, 'x')
		if tc.body != "" {
			expectResult(t, tc.name+" tampered", Twilio{}.Verify(r, "tw-token", Options{}), Invalid, Mismatch, "tw-token")
		}
	}
	if err := (Twilio{}).Sign(&Request{URL: twilioTestURL}, "", time.Time{}); !errors.Is(err, ErrBadSecret) {
		t.Errorf("Sign with an empty token: %v", err)
	}
	if err := (Twilio{}).Sign(&Request{URL: "/relative"}, "tw-token", time.Time{}); err == nil {
		t.Error("Sign with a relative URL succeeded")
	}
}

// The two rendered bodies of the corpus (what the twilio webhook:invoke plugin sends), signed
// with a test token over a public URL, verify; Event tells SMS from voice.
func TestTwilioPayloads(t *testing.T) {
	for _, tc := range []struct{ file, event, id string }{
		{"twilio/sms.incoming/plugin-webhook.default.rendered.txt", "sms", ""},
		{"twilio/voice.incoming/plugin-webhook.default.rendered.txt", "call", ""},
	} {
		body := corpusFile(t, tc.file)
		r := twilioTestRequest("https://abc123.ngrok.app/twilio/incoming", twilioForm, body, "")
		if err := (Twilio{}).Sign(r, "tw-test-token", time.Time{}); err != nil {
			t.Fatal(err)
		}
		if s, ok := Detect(r.Header); !ok || s.Name() != "twilio" {
			t.Errorf("%s: Detect = %v %v", tc.file, s, ok)
		}
		expectResult(t, tc.file, Twilio{}.Verify(r, "tw-test-token", Options{}), Valid, NoProblem, "tw-test-token")
		if typ, id := (Twilio{}).Event(r.Header, body); typ != tc.event || id != tc.id {
			t.Errorf("%s: Event = %q %q", tc.file, typ, id)
		}
		r.Header.Set("I-Twilio-Idempotency-Token", "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee")
		if _, id := (Twilio{}).Event(r.Header, body); id != "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee" {
			t.Errorf("%s: idempotency token not the delivery id: %q", tc.file, id)
		}
		// Forwarded to a local URL, the signature no longer matches: Twilio signs the public URL.
		r.URL = "http://localhost:3000/twilio/incoming"
		expectResult(t, tc.file+" local URL", Twilio{}.Verify(r, "tw-test-token", Options{}), Invalid, Mismatch, "tw-test-token")
	}
}

// Without I-Twilio-Idempotency-Token there is no delivery id: every status callback of one
// message or call carries the same MessageSid or CallSid, so a sid would mark them duplicates.
func TestTwilioEvent(t *testing.T) {
	for _, tc := range []struct{ body, event, id string }{
		{"MessageSid=SM1&SmsStatus=received&Body=hi", "sms", ""},
		{"MessageSid=SM1&MessageStatus=received", "sms", ""},
		{"MessageSid=SM1&MessageStatus=delivered&SmsStatus=delivered", "sms.status", ""},
		{"SmsSid=SM2&MessageStatus=failed", "sms.status", ""},
		{"CallSid=CA1&CallStatus=ringing", "call", ""},
		{"CallSid=CA1&CallStatus=in-progress&Digits=1", "call", ""},
		{"CallSid=CA1&CallStatus=completed&CallDuration=12", "call.status", ""},
		{"CallSid=CA1&CallStatus=ringing&CallbackSource=call-progress-events", "call.status", ""},
		{"AccountSid=AC1", "", ""},
		{`{"MessageSid":"SM1"}`, "", ""},
		{"", "", ""},
	} {
		if typ, id := (Twilio{}).Event(http.Header{}, []byte(tc.body)); typ != tc.event || id != tc.id {
			t.Errorf("Event(%q) = %q %q, want %q %q", tc.body, typ, id, tc.event, tc.id)
		}
	}
	h := http.Header{}
	if (Twilio{}).Detect(h) {
		t.Error("detected without a signature")
	}
	h.Set("x-twilio-signature", "abc")
	if !(Twilio{}).Detect(h) {
		t.Error("not detected")
	}
}

func TestTwilioURLHelpers(t *testing.T) {
	for _, tc := range []struct{ in, prefix, host, port, rest string }{
		{"https://mycompany.com/myapp.php?foo=1", "https://", "mycompany.com", "", "/myapp.php?foo=1"},
		{"https://mycompany.com:1234", "https://", "mycompany.com", "1234", ""},
		{"http://u:p@h.example:80?x", "http://u:p@", "h.example", "80", "?x"},
		{"https://[::1]:8443/a", "https://", "[::1]", "8443", "/a"},
		{"https://[::1]/a", "https://", "[::1]", "", "/a"},
	} {
		p, h, port, rest, ok := splitURLHostPort(tc.in)
		if !ok || p != tc.prefix || h != tc.host || port != tc.port || rest != tc.rest {
			t.Errorf("splitURLHostPort(%q) = %q %q %q %q %v", tc.in, p, h, port, rest, ok)
		}
	}
	if _, _, _, _, ok := splitURLHostPort("/relative"); ok {
		t.Error("relative URL split")
	}
	variants := twilioURLVariants("https://a.example/x")
	if len(variants) != 2 || variants[1].url != "https://a.example:443/x" {
		t.Errorf("variants %+v", variants)
	}
	variants = twilioURLVariants("https://a.example:8443/x")
	if len(variants) != 2 || variants[1].url != "https://a.example/x" {
		t.Errorf("variants %+v", variants)
	}
	sum := sha256.Sum256([]byte("x"))
	h := hex.EncodeToString(sum[:])
	for in, want := range map[string]string{
		"https://a/p":                           "https://a/p?bodySHA256=" + h,
		"https://a/p?q=1":                       "https://a/p?q=1&bodySHA256=" + h,
		"https://a/p?bodySHA256=1&q=%20#frag":   "https://a/p?q=%20&bodySHA256=" + h + "#frag",
		"https://a/p?bodySHA256=1&bodySHA256=2": "https://a/p?bodySHA256=" + h,
	} {
		if got := setQueryParam(in, "bodySHA256", h); got != want {
			t.Errorf("setQueryParam(%q) = %q, want %q", in, got, want)
		}
	}
}
