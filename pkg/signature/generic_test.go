package signature

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Helpers shared by the tests of shopify, twilio, paddle, linear, zoom, square, discord and
// generic.

// corpusDir is the payload corpus beside the repository; tests read it in place (it is never
// copied into the repository) and skip when it is absent.
const corpusDir = "../../../shared/payloads"

// corpusFiles returns the files of one provider's corpus folder, "<event>/<name>", or skips.
func corpusFiles(t *testing.T, provider string) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(corpusDir, provider, "*", "*"))
	if len(files) == 0 {
		t.Skip("payload corpus not available at " + corpusDir)
	}
	return files
}

// corpusFile reads one corpus file, or skips.
func corpusFile(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(corpusDir, rel))
	if err != nil {
		t.Skip("payload corpus not available:", err)
	}
	return b
}

// expectResult checks a Result's Status and Problem, that it has a Reason, and that the Reason
// does not give the secret away.
func expectResult(t *testing.T, label string, got Result, status Status, problem Problem, secret string) {
	t.Helper()
	if got.Status != status || got.Problem != problem {
		t.Errorf("%s: got %s/%q (%s), want %s/%q", label, got.Status, got.Problem, got.Reason, status, problem)
	}
	if got.Reason == "" {
		t.Errorf("%s: empty Reason", label)
	}
	if len(secret) >= 4 && strings.Contains(got.Reason, secret) {
		t.Errorf("%s: Reason contains the secret: %s", label, got.Reason)
	}
}

func TestParseGeneric(t *testing.T) {
	for _, tc := range []struct {
		spec    string
		want    Generic
		wantErr string
	}{
		{spec: "hmac:X-Signature:sha256:hex:sha256=", want: Generic{"X-Signature", "sha256", "hex", "sha256="}},
		{spec: "hmac:X-Signature", want: Generic{"X-Signature", "sha256", "hex", ""}},
		{spec: "HMAC:X-Hook-Signature:SHA512:Base64", want: Generic{"X-Hook-Signature", "sha512", "base64", ""}},
		{spec: "hmac:X-Sig::base64", want: Generic{"X-Sig", "sha256", "base64", ""}},
		{spec: "hmac:X-Sig:sha1:", want: Generic{"X-Sig", "sha1", "hex", ""}},
		{spec: "hmac:X-Sig:sha256:hex:v1:", want: Generic{"X-Sig", "sha256", "hex", "v1:"}},                // the prefix keeps its colon
		{spec: "hmac: X-Sig : SHA256 :hex:t=", want: Generic{"X-Sig", "sha256", "hex", "t="}},              // fields trimmed
		{spec: "hmac:X-Sig:sha256:hex:", want: Generic{"X-Sig", "sha256", "hex", ""}},                      // empty prefix
		{spec: "X-Signature:sha256:hex:sha256=", want: Generic{"X-Signature", "sha256", "hex", "sha256="}}, // without "hmac:", as --verify-hmac takes it
		{spec: "X-Signature", want: Generic{"X-Signature", "sha256", "hex", ""}},
		{spec: "hmac:hmac:sha1", want: Generic{"hmac", "sha1", "hex", ""}}, // a header named hmac
		{spec: "", wantErr: "no header name"},
		{spec: ":sha256", wantErr: "no header name"},
		{spec: "hmac", wantErr: "no header name"},
		{spec: "hmac:", wantErr: "no header name"},
		{spec: "hmac::sha256", wantErr: "no header name"},
		{spec: "hmac:X Sig", wantErr: "not a valid HTTP header name"},
		{spec: "hmac:X-Sig:md5", wantErr: "unknown algorithm"},
		{spec: "hmac:X-Sig:sha256:base32", wantErr: "unknown encoding"},
		{spec: "hmac:X-Sig:sha256:hex:a\nb", wantErr: "control character"},
	} {
		g, err := ParseGeneric(tc.spec)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseGeneric(%q) = %+v, %v; want error containing %q", tc.spec, g, err, tc.wantErr)
			}
			continue
		}
		if err != nil || g != tc.want {
			t.Errorf("ParseGeneric(%q) = %+v, %v; want %+v", tc.spec, g, err, tc.want)
			continue
		}
		// String gives back a spec that parses to the same scheme.
		if again, err := ParseGeneric(g.String()); err != nil || again != g {
			t.Errorf("ParseGeneric(%q.String() = %q) = %+v, %v", tc.spec, g.String(), again, err)
		}
	}
	if got := (Generic{Header: "X-Sig"}).String(); got != "hmac:X-Sig:sha256:hex" {
		t.Errorf("String with defaults = %q", got)
	}
}

// Expected values computed independently with Python's hmac module, e.g.
// hmac.new(b"k", b"hello", hashlib.sha512).
func TestGenericVectors(t *testing.T) {
	for _, tc := range []struct {
		spec, header string
	}{
		{"hmac:X-Signature:sha256:hex:sha256=", "sha256=406e4b43f87095aa86ca6299d25e875921fefa180f02043bb29bec5681c0c2d0"},
		{"hmac:X-Signature:sha256:hex:sha256=", "SHA256=406E4B43F87095AA86CA6299D25E875921FEFA180F02043BB29BEC5681C0C2D0"},
		{"hmac:X-Signature:sha1", "0b7938d1a2cdcafa94645a5c3508f7236ae457a9"},
		{"hmac:X-Signature:sha512:base64", "hrYQK3VK5VjfDsPnkFyBJQs+G6abBgwbuWQajxmGMDX7AHyCmwZI2jigMlVjATH8L3deARDAqhGzN1ChTPSOyw=="},
		{"hmac:X-Signature:sha512:base64", "hrYQK3VK5VjfDsPnkFyBJQs-G6abBgwbuWQajxmGMDX7AHyCmwZI2jigMlVjATH8L3deARDAqhGzN1ChTPSOyw"}, // URL-safe, unpadded
	} {
		g, err := ParseGeneric(tc.spec)
		if err != nil {
			t.Fatal(err)
		}
		r := &Request{Header: http.Header{}, Body: []byte("hello")}
		r.Header.Set("X-Signature", tc.header)
		expectResult(t, tc.spec+" "+tc.header, g.Verify(r, "k", Options{}), Valid, NoProblem, "")
		// Sign writes the canonical form of the same MAC.
		s := &Request{Body: []byte("hello")}
		if err := g.Sign(s, "k", time.Time{}); err != nil {
			t.Fatal(err)
		}
		expectResult(t, tc.spec+" signed", g.Verify(s, "k", Options{}), Valid, NoProblem, "")
	}
}

func TestGenericProblems(t *testing.T) {
	const secret = "generic-test-secret"
	g := Generic{Header: "X-Hook-Sig", Algorithm: "sha256", Encoding: "base64", Prefix: "v1="}
	body := []byte(`{"event":"thing.happened"}`)
	signed := &Request{Body: body}
	if err := g.Sign(signed, secret, time.Time{}); err != nil {
		t.Fatal(err)
	}
	good := signed.Header.Get("X-Hook-Sig")
	if !strings.HasPrefix(good, "v1=") {
		t.Fatalf("signed header %q", good)
	}
	for _, tc := range []struct {
		name    string
		g       Generic
		header  string
		body    string
		secret  string
		status  Status
		problem Problem
	}{
		{"valid", g, good, string(body), secret, Valid, NoProblem},
		{"unsigned", g, "", string(body), secret, Unsigned, MissingHeader},
		{"no prefix", g, strings.TrimPrefix(good, "v1="), string(body), secret, Invalid, MalformedHeader},
		{"not base64", g, "v1=!!!", string(body), secret, Invalid, MalformedHeader},
		{"wrong length", g, "v1=AAAA", string(body), secret, Invalid, MalformedHeader},
		{"empty secret", g, good, string(body), "", Invalid, BadSecret},
		{"tampered body", g, good, string(body) + " ", secret, Invalid, Mismatch},
		{"wrong secret", g, good, string(body), "other", Invalid, Mismatch},
		{"misconfigured algorithm", Generic{Header: "X-Hook-Sig", Algorithm: "md5"}, good, string(body), secret, Invalid, MalformedHeader},
		{"misconfigured header", Generic{}, good, string(body), secret, Invalid, MalformedHeader},
	} {
		r := &Request{Header: http.Header{}, Body: []byte(tc.body)}
		if tc.header != "" {
			r.Header.Set("X-Hook-Sig", tc.header)
		}
		expectResult(t, tc.name, tc.g.Verify(r, tc.secret, Options{}), tc.status, tc.problem, tc.secret)
	}
}

func TestGenericSchemeBasics(t *testing.T) {
	g := Generic{Header: "X-Signature"}
	if g.Name() != "hmac" {
		t.Errorf("Name = %q", g.Name())
	}
	h := http.Header{}
	if g.Detect(h) || (Generic{}).Detect(h) {
		t.Error("detected without the header")
	}
	h.Set("x-signature", "abc")
	if !g.Detect(h) {
		t.Error("not detected")
	}
	if typ, id := g.Event(h, []byte(`{"type":"a","id":"b"}`)); typ != "" || id != "" {
		t.Errorf("Event = %q %q", typ, id)
	}
	// Generic needs a configuration, so it is neither built in nor looked up by name.
	for _, s := range Schemes() {
		if s.Name() == "hmac" {
			t.Error("Generic is among Schemes()")
		}
	}
	if _, ok := Lookup("hmac"); ok {
		t.Error(`Lookup("hmac") found a scheme`)
	}
	if err := g.Sign(&Request{}, "", time.Time{}); !errors.Is(err, ErrBadSecret) {
		t.Errorf("Sign with an empty secret: %v", err)
	}
	if err := (Generic{Header: "X-Sig", Encoding: "base32"}).Sign(&Request{}, "k", time.Time{}); err == nil || errors.Is(err, ErrBadSecret) {
		t.Errorf("Sign misconfigured: %v", err)
	}
	var _ Scheme = Generic{}
}

// Each of these schemes, signing a request through the Scheme interface, makes a request that
// the package-level Detect attributes to it and that it verifies; Lookup finds it by name.
func TestSchemesShopifyTwilioPaddleLinearZoomSquareDiscord(t *testing.T) {
	at := time.Unix(1_764_000_000, 0)
	for _, s := range []Scheme{Shopify{}, Twilio{}, Paddle{}, Linear{}, Zoom{}, Square{}} {
		r := &Request{Method: "POST", URL: "https://hooks.example.com/in", Header: http.Header{},
			Body: []byte(`{"type":"x","webhookTimestamp":1}`)}
		r.Header.Set("Content-Type", "application/json")
		if err := s.Sign(r, "round-trip-secret", at); err != nil {
			t.Fatalf("%s: %v", s.Name(), err)
		}
		if d, ok := Detect(r.Header); !ok || d.Name() != s.Name() {
			t.Errorf("%s: Detect = %v %v", s.Name(), d, ok)
		}
		expectResult(t, s.Name(), s.Verify(r, "round-trip-secret", Options{Now: at.Add(time.Second)}), Valid, NoProblem, "round-trip-secret")
		if l, ok := Lookup(strings.ToUpper(s.Name())); !ok || l.Name() != s.Name() {
			t.Errorf("Lookup(%q) = %v %v", s.Name(), l, ok)
		}
		// Unsigned requests say so, whatever the secret.
		expectResult(t, s.Name()+" unsigned", s.Verify(&Request{URL: r.URL, Body: r.Body}, "", Options{}), Unsigned, MissingHeader, "")
	}
	priv, pub := discordTestKey()
	r := &Request{Header: http.Header{}, Body: []byte(`{"type":1}`)}
	discordSignWithKey(r, priv, at)
	if d, ok := Detect(r.Header); !ok || d.Name() != "discord" {
		t.Errorf("discord: Detect = %v %v", d, ok)
	}
	expectResult(t, "discord", Discord{}.Verify(r, pub, Options{Now: at}), Valid, NoProblem, pub)
}
