package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookctl/hookctl/pkg/signature"
)

const testStripeSecret = "whsec_cli_test_secret"

// stripeRequest is a Stripe event signed at t (tamper changes the body after signing).
func stripeRequest(t *testing.T, url string, at time.Time, tamper bool) *http.Request {
	t.Helper()
	body := []byte(`{"id":"evt_1","object":"event","type":"invoice.paid","data":{"object":{}}}`)
	sr := &signature.Request{Method: "POST", URL: url, Header: http.Header{}, Body: body}
	s, _ := signature.Lookup("stripe")
	if err := s.Sign(sr, testStripeSecret, at); err != nil {
		t.Fatal(err)
	}
	if tamper {
		body = bytes.Replace(body, []byte("invoice.paid"), []byte("invoice.void"), 1)
	}
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	req.Header = sr.Header
	req.Header.Set("Content-Type", "application/json")
	return req
}

// TestVerifyResignFlow: listen --verify marks each request valid, stale or invalid; verify
// explains them; replay --resign sends a copy that a handler with a 5-minute tolerance
// accepts, where the plain replay is stale.
func TestVerifyResignFlow(t *testing.T) {
	stripe, _ := signature.Lookup("stripe")
	verdicts := make(chan signature.Status, 8)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		res := stripe.Verify(&signature.Request{Method: r.Method, URL: "http://x" + r.RequestURI, Header: r.Header, Body: body}, testStripeSecret, signature.Options{})
		verdicts <- res.Status
	}))
	defer target.Close()

	db := filepath.Join(t.TempDir(), "h.db")
	ingress, out, stop := listening(t, db, "--forward-to", target.URL, "--verify", "stripe="+testStripeSecret)
	now := time.Now()
	for _, c := range []struct {
		at     time.Time
		tamper bool
	}{{now, false}, {now.Add(-10 * time.Minute), false}, {now, true}} {
		resp, err := http.DefaultClient.Do(stripeRequest(t, ingress+"/stripe", c.at, c.tamper))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		<-verdicts
	}
	out.waitFor(t, 7)
	stop()

	_, stdout, _ := run(t, db, "requests", "list", "--json")
	var rows []struct {
		ID                  int64
		Signature, Provider string
		EventType           string `json:"event_type"`
	}
	json.Unmarshal([]byte(stdout), &rows)
	got := map[int64]string{}
	for _, r := range rows {
		got[r.ID] = r.Signature
		if r.Provider != "stripe" || r.EventType == "" {
			t.Errorf("row %d: provider %q event %q", r.ID, r.Provider, r.EventType)
		}
	}
	if got[1] != "valid" || got[2] != "stale" || got[3] != "invalid" {
		t.Fatalf("signature statuses %v, want valid, stale, invalid", got)
	}
	if strings.Contains(stdout, testStripeSecret) {
		t.Fatal("the secret is in the log's output")
	}

	tests := []struct {
		id   string
		code int
		want string
	}{
		{"1", 0, "When received:  valid"},
		{"2", 1, "old"},
		{"3", 1, "body differs from what was signed"},
	}
	for _, tt := range tests {
		code, stdout, stderr := run(t, db, "verify", tt.id, "--secret", testStripeSecret)
		if code != tt.code || !strings.Contains(stdout+stderr, tt.want) {
			t.Errorf("verify %s: exit %d\n%s%s", tt.id, code, stdout, stderr)
		}
	}

	// Request 2 was signed ten minutes ago: replayed as recorded it is stale; re-signed, valid.
	if code, _, stderr := run(t, db, "replay", "2"); code != 0 {
		t.Fatalf("replay: %s", stderr)
	}
	if v := <-verdicts; v != signature.Stale {
		t.Fatalf("plain replay verified %s at the target, want stale", v)
	}
	if code, _, stderr := run(t, db, "replay", "2", "--resign", "--secret", testStripeSecret); code != 0 {
		t.Fatalf("replay --resign: %s", stderr)
	}
	if v := <-verdicts; v != signature.Valid {
		t.Fatalf("re-signed replay verified %s at the target, want valid", v)
	}
	if code, _, stderr := run(t, db, "replay", "2", "--resign"); code != 1 || !strings.Contains(stderr, "HOOKCTL_SECRET_STRIPE") {
		t.Fatalf("--resign without a secret: %d %s", code, stderr)
	}
	// The log still has the request as it was received.
	_, stdout, _ = run(t, db, "verify", "2", "--secret", testStripeSecret)
	if !strings.Contains(stdout, "stale") {
		t.Fatalf("the stored request changed:\n%s", stdout)
	}
}

func TestVerifyFlagErrors(t *testing.T) {
	db := filepath.Join(t.TempDir(), "h.db")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"listen", "--verify", "stripe"}, "PROVIDER=SECRET"},
		{[]string{"listen", "--verify", "nosuch=x"}, "unknown provider"},
		{[]string{"listen", "--verify", "stripe=not_a_whsec"}, "secret"},
		{[]string{"listen", "--verify", "hmac=x"}, "--verify-hmac"},
	} {
		code, _, stderr := run(t, db, tt.args...)
		if code != 1 || !strings.Contains(stderr, tt.want) || strings.Contains(stderr, "not_a_whsec") {
			t.Errorf("%v: exit %d, %q", tt.args, code, stderr)
		}
	}
}
