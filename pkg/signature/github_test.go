package signature

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v89/github"
)

const (
	githubTestSecret = "hookctl-github-test-secret"
	githubPayloads   = "../../../shared/payloads/github"
)

func githubTestRequest(body []byte, sig256, sig1 string) *Request {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	if sig256 != "" {
		h.Set("X-Hub-Signature-256", sig256)
	}
	if sig1 != "" {
		h.Set("X-Hub-Signature", sig1)
	}
	return &Request{Method: "POST", URL: "https://example.com/github", Header: h, Body: body}
}

// githubDocMAC computes a signature the way GitHub's docs describe it (go-github has no signer):
// "sha256=" (or "sha1=") and the hex HMAC of the raw body keyed with the secret.
func githubDocMAC(sha256Header bool, secret string, body []byte) string {
	if sha256Header {
		m := hmac.New(sha256.New, []byte(secret))
		m.Write(body)
		return "sha256=" + hex.EncodeToString(m.Sum(nil))
	}
	m := hmac.New(sha1.New, []byte(secret))
	m.Write(body)
	return "sha1=" + hex.EncodeToString(m.Sum(nil))
}

// Published vectors.
func TestGitHubVectors(t *testing.T) {
	tests := []struct {
		source, secret, body, sig256, sig1 string
	}{
		{
			// https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
			// ("Testing the webhook payload validation").
			source: "GitHub docs",
			secret: "It's a Secret to Everybody",
			body:   "Hello, World!",
			sig256: "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
		},
		{
			// github.com/google/go-github/v89/github messages_test.go, TestValidatePayload.
			source: "go-github",
			secret: "0123456789abcdef",
			body:   `{"yo":true}`,
			sig256: "sha256=b1f8020f5b4cd42042f807dd939015c4a418bc1ff7f604dd55b0a19b5d953d9b",
			sig1:   "sha1=126f2c800419c60137ce748d7672e77b65cf16d6",
		},
	}
	for _, tt := range tests {
		t.Run(tt.source, func(t *testing.T) {
			body := []byte(tt.body)
			r := &Request{Body: body}
			if err := (GitHub{}).Sign(r, tt.secret, time.Time{}); err != nil {
				t.Fatal(err)
			}
			if got := r.Header.Get("X-Hub-Signature-256"); got != tt.sig256 {
				t.Fatalf("sha256: %s", got)
			}
			if tt.sig1 != "" && r.Header.Get("X-Hub-Signature") != tt.sig1 {
				t.Fatalf("sha1: %s", r.Header.Get("X-Hub-Signature"))
			}
			if res := (GitHub{}).Verify(githubTestRequest(body, tt.sig256, ""), tt.secret, Options{}); res.Status != Valid {
				t.Fatalf("sha256: %+v", res)
			}
			if tt.sig1 != "" {
				if res := (GitHub{}).Verify(githubTestRequest(body, "", tt.sig1), tt.secret, Options{}); res.Status != Valid || !strings.Contains(res.Reason, "legacy sha1") {
					t.Fatalf("sha1: %+v", res)
				}
			}
		})
	}
}

func TestGitHubVerifyProblems(t *testing.T) {
	body := []byte(`{"zen":"Keep it logically awesome.","hook_id":1}`)
	good256 := githubDocMAC(true, githubTestSecret, body)
	good1 := githubDocMAC(false, githubTestSecret, body)
	wrong256 := githubDocMAC(true, "other", body)
	wrong1 := githubDocMAC(false, "other", body)

	tests := []struct {
		name         string
		sig256, sig1 string
		body         []byte
		secret       string
		status       Status
		problem      Problem
		reason       string
	}{
		{name: "both", sig256: good256, sig1: good1, status: Valid, reason: "sha256 signature matches"},
		{name: "sha256 only", sig256: good256, status: Valid},
		{name: "legacy sha1 only", sig1: good1, status: Valid, reason: "legacy sha1"},
		{name: "sha256 is preferred", sig256: wrong256, sig1: good1, status: Invalid, problem: Mismatch},
		{name: "unsigned", status: Unsigned, problem: MissingHeader, reason: "X-Hub-Signature-256"},
		{name: "no prefix", sig256: strings.TrimPrefix(good256, "sha256="), status: Invalid, problem: MalformedHeader, reason: "does not start with sha256="},
		{name: "sha1 value in the sha256 header", sig256: good1, status: Invalid, problem: MalformedHeader},
		{name: "sha256 value in the sha1 header", sig1: good256, status: Invalid, problem: MalformedHeader},
		{name: "not hex", sig256: "sha256=" + strings.Repeat("zz", 32), status: Invalid, problem: MalformedHeader, reason: "64 hex digits"},
		{name: "short", sig1: "sha1=012345", status: Invalid, problem: MalformedHeader, reason: "40 hex digits"},
		{name: "empty secret", sig256: good256, secret: "-", status: Invalid, problem: BadSecret},
		{name: "wrong secret", sig256: wrong256, status: Invalid, problem: Mismatch, reason: "body differs from what was signed, or the secret is wrong"},
		{name: "wrong secret sha1", sig1: wrong1, status: Invalid, problem: Mismatch, reason: "X-Hub-Signature sha1"},
		{name: "tampered body", sig256: good256, body: append(bytes.Clone(body), '\n'), status: Invalid, problem: Mismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := body
			if tt.body != nil {
				b = tt.body
			}
			secret := githubTestSecret
			if tt.secret == "-" {
				secret = ""
			}
			// Options do not matter: GitHub signs no timestamp.
			res := GitHub{}.Verify(githubTestRequest(b, tt.sig256, tt.sig1), secret, Options{Now: time.Unix(1, 0), Tolerance: time.Nanosecond})
			if res.Status != tt.status || res.Problem != tt.problem || res.Skew != 0 {
				t.Fatalf("got %+v, want %s/%q", res, tt.status, tt.problem)
			}
			if res.Reason == "" || !strings.Contains(res.Reason, tt.reason) {
				t.Fatalf("reason %q does not contain %q", res.Reason, tt.reason)
			}
			if strings.Contains(res.Reason, githubTestSecret) {
				t.Fatalf("reason %q contains the secret", res.Reason)
			}
		})
	}
}

func TestGitHubSignRoundTrip(t *testing.T) {
	body := []byte(`{"action":"opened","number":1}`)
	r := githubTestRequest(body, "sha256=00", "sha1=00")
	if err := (GitHub{}).Sign(r, githubTestSecret, time.Unix(1_764_000_000, 0)); err != nil {
		t.Fatal(err)
	}
	if got := r.Header.Values("X-Hub-Signature-256"); len(got) != 1 || got[0] != githubDocMAC(true, githubTestSecret, body) {
		t.Fatalf("X-Hub-Signature-256 %q", got)
	}
	if got := r.Header.Values("X-Hub-Signature"); len(got) != 1 || got[0] != githubDocMAC(false, githubTestSecret, body) {
		t.Fatalf("X-Hub-Signature %q", got)
	}
	if res := (GitHub{}).Verify(r, githubTestSecret, Options{}); res.Status != Valid {
		t.Fatalf("%+v", res)
	}
	r.Header.Del("X-Hub-Signature-256")
	if res := (GitHub{}).Verify(r, githubTestSecret, Options{}); res.Status != Valid {
		t.Fatalf("sha1 only: %+v", res)
	}
	if err := (GitHub{}).Sign(r, "", time.Time{}); !errors.Is(err, ErrBadSecret) {
		t.Fatal("empty secret:", err)
	}
}

// Cross-checks with go-github v89 (github.com/google/go-github/v89/github), both ways. go-github
// has no signer, so the SDK side signs as GitHub's docs say (githubDocMAC).
func TestGitHubCrossCheckSDK(t *testing.T) {
	body := []byte(`{"zen":"Design for failure.","hook_id":7}`)
	sdkRequest := func(body []byte, h http.Header) *http.Request {
		req := httptest.NewRequest("POST", "/github", bytes.NewReader(body))
		for k, v := range h {
			req.Header[k] = v
		}
		return req
	}

	// hookctl signs, go-github accepts (both headers, and each alone).
	r := githubTestRequest(body, "", "")
	if err := (GitHub{}).Sign(r, githubTestSecret, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if got, err := github.ValidatePayload(sdkRequest(body, r.Header), []byte(githubTestSecret)); err != nil || !bytes.Equal(got, body) {
		t.Fatal("go-github rejects hookctl's signature:", err)
	}
	if err := github.ValidateSignature(r.Header.Get(github.SHA256SignatureHeader), body, []byte(githubTestSecret)); err != nil {
		t.Fatal(err)
	}
	if err := github.ValidateSignature(r.Header.Get(github.SHA1SignatureHeader), body, []byte(githubTestSecret)); err != nil {
		t.Fatal(err)
	}

	// The docs' way of signing, hookctl accepts; go-github agrees on the same header.
	docs := githubDocMAC(true, githubTestSecret, body)
	if docs != r.Header.Get("X-Hub-Signature-256") {
		t.Fatal("hookctl and the docs differ")
	}
	if res := (GitHub{}).Verify(githubTestRequest(body, docs, ""), githubTestSecret, Options{}); res.Status != Valid {
		t.Fatalf("%+v", res)
	}

	// Tampered or wrong secret: both reject.
	tampered := bytes.Replace(body, []byte("7"), []byte("8"), 1)
	if _, err := github.ValidatePayload(sdkRequest(tampered, r.Header), []byte(githubTestSecret)); err == nil {
		t.Error("go-github accepts a tampered body")
	}
	if res := (GitHub{}).Verify(githubTestRequest(tampered, r.Header.Get("X-Hub-Signature-256"), ""), githubTestSecret, Options{}); res.Problem != Mismatch {
		t.Errorf("hookctl: %+v", res)
	}
	if err := github.ValidateSignature(docs, body, []byte("nope")); err == nil {
		t.Error("go-github accepts the wrong secret")
	}
	if res := (GitHub{}).Verify(githubTestRequest(body, docs, ""), "nope", Options{}); res.Problem != Mismatch {
		t.Errorf("hookctl: %+v", res)
	}
	// GitHub signs no timestamp, so nothing is ever stale: a signature made long ago still
	// verifies, with any tolerance.
	if res := (GitHub{}).Verify(githubTestRequest(body, docs, ""), githubTestSecret, Options{Now: time.Now().Add(24 * 365 * time.Hour)}); res.Status != Valid {
		t.Errorf("%+v", res)
	}

	// A form-encoded delivery is signed over the whole form body; go-github agrees.
	form := []byte(url.Values{"payload": {string(body)}}.Encode())
	fr := githubTestRequest(form, "", "")
	fr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	fr.Header.Set("X-GitHub-Event", "ping")
	if err := (GitHub{}).Sign(fr, githubTestSecret, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if got, err := github.ValidatePayload(sdkRequest(form, fr.Header), []byte(githubTestSecret)); err != nil || !bytes.Equal(got, body) {
		t.Fatal("go-github on a form delivery:", err, string(got))
	}
	if res := (GitHub{}).Verify(fr, githubTestSecret, Options{}); res.Status != Valid {
		t.Fatalf("%+v", res)
	}
}

// Every GitHub payload in the corpus: sign, verify with hookctl and go-github, and Event gives
// the directory's event (X-GitHub-Event) plus the payload's action.
func TestGitHubPayloads(t *testing.T) {
	dirs, err := os.ReadDir(githubPayloads)
	if err != nil {
		t.Skip("payload corpus not available:", err)
	}
	n := 0
	for _, d := range dirs {
		files, _ := filepath.Glob(filepath.Join(githubPayloads, d.Name(), "*.json"))
		for _, f := range files {
			body, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			n++
			r := githubTestRequest(body, "", "")
			r.Header.Set("X-GitHub-Event", d.Name())
			r.Header.Set("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
			if err := (GitHub{}).Sign(r, githubTestSecret, time.Time{}); err != nil {
				t.Fatal(err)
			}
			if res := (GitHub{}).Verify(r, githubTestSecret, Options{}); res.Status != Valid {
				t.Errorf("%s: %+v", f, res)
			}
			if err := github.ValidateSignature(r.Header.Get(github.SHA256SignatureHeader), body, []byte(githubTestSecret)); err != nil {
				t.Errorf("%s: go-github: %v", f, err)
			}
			typ, id := GitHub{}.Event(r.Header, body)
			if id != "72d3162e-cc78-11e3-81ab-4c9367dc0958" || (typ != d.Name() && !strings.HasPrefix(typ, d.Name()+".")) {
				t.Errorf("%s: Event = %q %q", f, typ, id)
			}
		}
	}
	if n < 50 {
		t.Fatalf("only %d GitHub payloads", n)
	}
	for _, tc := range []struct{ file, event, want string }{
		{"pull_request/opened.payload.json", "pull_request", "pull_request.opened"},
		{"issues/opened.payload.json", "issues", "issues.opened"},
		{"release/published.json", "release", "release.published"},
		{"ping/payload.json", "ping", "ping"},
		{"push/api-payload.json", "push", "push"},
	} {
		body, err := os.ReadFile(filepath.Join(githubPayloads, tc.file))
		if err != nil {
			t.Fatal(err)
		}
		h := http.Header{"X-Github-Event": {tc.event}}
		if typ, _ := (GitHub{}).Event(h, body); typ != tc.want {
			t.Errorf("%s: %q, want %q", tc.file, typ, tc.want)
		}
	}
}

func TestGitHubDetectAndEvent(t *testing.T) {
	h := http.Header{}
	h.Set("X-GitHub-Event", "push")
	if (GitHub{}).Detect(h) {
		t.Fatal("detected without a signature header")
	}
	h.Set("X-Hub-Signature", "sha1=00")
	if !(GitHub{}).Detect(h) {
		t.Fatal("legacy header not detected")
	}
	h.Del("X-Hub-Signature")
	h.Set("X-Hub-Signature-256", "sha256=00")
	if !(GitHub{}).Detect(h) {
		t.Fatal("not detected")
	}
	form := "payload=" + url.QueryEscape(`{"action":"created","comment":{}}`)
	for _, tc := range []struct {
		event, delivery, body, typ string
	}{
		{"pull_request", "d1", `{"action":"opened","number":2}`, "pull_request.opened"},
		{"issue_comment", "d2", form, "issue_comment.created"},
		{"push", "d3", `{"ref":"refs/heads/main"}`, "push"},
		{"push", "d4", `not json`, "push"},
		{"", "d5", `{"action":"opened"}`, ""},
	} {
		h := http.Header{}
		if tc.event != "" {
			h.Set("X-GitHub-Event", tc.event)
		}
		h.Set("X-GitHub-Delivery", tc.delivery)
		if typ, id := (GitHub{}).Event(h, []byte(tc.body)); typ != tc.typ || id != tc.delivery {
			t.Errorf("%s %s: %q %q", tc.event, tc.body, typ, id)
		}
	}
}
