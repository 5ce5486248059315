package trigger

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookctl/hookctl/pkg/signature"
)

// testNow is the signing time of the tests: not a whole second, so that formats that keep
// fractions (Slack's ts, Paddle's occurred_at, Linear's milliseconds) are exercised.
var testNow = time.Date(2026, 3, 14, 15, 9, 26, 535897000, time.UTC)

const testURL = "https://hooks.example.test/webhooks/incoming?tenant=42"

func seeded(seed byte) *mrand.ChaCha8 { return mrand.NewChaCha8([32]byte{seed}) }

func build(t *testing.T, f Fixture, seed byte) *Built {
	t.Helper()
	b, err := Build(f.Provider, f.Event, Options{Now: testNow, URL: testURL, Rand: seeded(seed)})
	if err != nil {
		t.Fatalf("Build(%q, %q): %v", f.Provider, f.Event, err)
	}
	return b
}

// scheme returns the provider's signature scheme, failing the test clearly when pkg/signature
// does not have it.
func scheme(t *testing.T, provider string) signature.Scheme {
	t.Helper()
	s, ok := signature.Lookup(provider)
	if !ok {
		t.Fatalf("pkg/signature has no scheme %q: trigger cannot sign or verify %s samples", provider, provider)
	}
	return s
}

func jsonBody(t *testing.T, b *Built) map[string]any {
	t.Helper()
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(b.Body))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		t.Fatalf("body is not a JSON object: %v", err)
	}
	return m
}

func formBodyOf(t *testing.T, b *Built) url.Values {
	t.Helper()
	v, err := url.ParseQuery(string(b.Body))
	if err != nil {
		t.Fatalf("body is not a form: %v", err)
	}
	return v
}

// field walks a decoded JSON value along keys.
func field(m map[string]any, keys ...string) any {
	var v any = m
	for _, k := range keys {
		o, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = o[k]
	}
	return v
}

func wantNumber(t *testing.T, m map[string]any, want int64, keys ...string) {
	t.Helper()
	n, ok := field(m, keys...).(json.Number)
	if !ok {
		t.Fatalf("%s is %v, not a number", strings.Join(keys, "."), field(m, keys...))
	}
	if got, err := n.Int64(); err != nil || got != want {
		t.Errorf("%s = %s, want %d (from Now)", strings.Join(keys, "."), n, want)
	}
}

func wantString(t *testing.T, m map[string]any, want string, keys ...string) {
	t.Helper()
	if got, _ := field(m, keys...).(string); got != want {
		t.Errorf("%s = %q, want %q", strings.Join(keys, "."), got, want)
	}
}

func wantPrefix(t *testing.T, m map[string]any, prefix string, keys ...string) {
	t.Helper()
	if got, _ := field(m, keys...).(string); !strings.HasPrefix(got, prefix) || len(got) <= len(prefix) {
		t.Errorf("%s = %q, want an id starting with %q", strings.Join(keys, "."), got, prefix)
	}
}

type fixtureCase struct {
	provider, event string
	// wantEvent is what the scheme's Event tells from the request.
	wantEvent string
	// header holds headers the request must carry with exactly these values, and those with
	// value "*" must just be there.
	header map[string]string
	// check looks at what is particular to the fixture: timestamps from Now, fresh ids.
	check func(t *testing.T, b *Built)
}

var stripeHeaders = map[string]string{
	"User-Agent":       "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
	"Stripe-Signature": "*",
}

func stripeCheck(object, idPrefix string) func(t *testing.T, b *Built) {
	return func(t *testing.T, b *Built) {
		m := jsonBody(t, b)
		wantNumber(t, m, testNow.Unix(), "created")
		wantPrefix(t, m, "evt_", "id")
		wantString(t, m, "event", "object")
		wantString(t, m, object, "data", "object", "object")
		wantPrefix(t, m, idPrefix, "data", "object", "id")
		if !bytes.HasPrefix(b.Body, []byte("{\n  \"id\": ")) || !bytes.HasSuffix(b.Body, []byte("\n}")) {
			t.Errorf("Stripe bodies are indented by two spaces, without a final newline; got %.20q...%q", b.Body, b.Body[max(0, len(b.Body)-10):])
		}
	}
}

func githubHeaders(event string) map[string]string {
	return map[string]string{
		"X-GitHub-Event":      event,
		"X-GitHub-Delivery":   "*",
		"X-Hub-Signature-256": "*",
		"User-Agent":          "*",
	}
}

func githubCheck(action string) func(t *testing.T, b *Built) {
	return func(t *testing.T, b *Built) {
		if ua := b.Header.Get("User-Agent"); !strings.HasPrefix(ua, "GitHub-Hookshot/") {
			t.Errorf("User-Agent = %q, want GitHub-Hookshot/...", ua)
		}
		m := jsonBody(t, b)
		if action == "" {
			if _, ok := m["action"]; ok {
				t.Errorf("body has an action, want none")
			}
		} else {
			wantString(t, m, action, "action")
		}
		wantString(t, m, "example-org/webhook-sandbox", "repository", "full_name")
		wantString(t, m, "example-dev", "sender", "login")
		if bytes.Contains(b.Body, []byte("\n")) {
			t.Errorf("GitHub bodies are compact JSON")
		}
	}
}

func shopifyHeaders(topic string) map[string]string {
	return map[string]string{
		"X-Shopify-Topic":        topic,
		"X-Shopify-Shop-Domain":  "hookctl-sample.myshopify.com",
		"X-Shopify-Webhook-Id":   "*",
		"X-Shopify-Event-Id":     "*",
		"X-Shopify-API-Version":  "*",
		"X-Shopify-Triggered-At": testNow.Format(time.RFC3339Nano),
		"X-Shopify-Hmac-Sha256":  "*",
	}
}

func shopifyOrderCheck(status string) func(t *testing.T, b *Built) {
	return func(t *testing.T, b *Built) {
		m := jsonBody(t, b)
		wantString(t, m, status, "financial_status")
		id, _ := m["id"].(json.Number)
		wantString(t, m, "gid://shopify/Order/"+id.String(), "admin_graphql_api_id")
		if n, err := id.Int64(); err != nil || n >= 1<<53 {
			t.Errorf("order id %s should be an integer that JavaScript reads exactly", id)
		}
	}
}

var slackHeaders = map[string]string{
	"X-Slack-Request-Timestamp": strconv.FormatInt(testNow.Unix(), 10),
	"X-Slack-Signature":         "*",
	"User-Agent":                "Slackbot 1.0 (+https://api.slack.com/robots)",
}

// fixtureCases is the expectation for every fixture; TestFixtureCasesCoverList checks that it
// and List agree.
var fixtureCases = []fixtureCase{
	{"github", "issues.opened", "issues.opened", githubHeaders("issues"), githubCheck("opened")},
	{"github", "ping", "ping", githubHeaders("ping"), func(t *testing.T, b *Built) {
		githubCheck("")(t, b)
		m := jsonBody(t, b)
		wantString(t, m, testURL, "hook", "config", "url")
		if field(m, "zen") == "" {
			t.Error("ping has no zen")
		}
	}},
	{"github", "pull_request.opened", "pull_request.opened", githubHeaders("pull_request"), func(t *testing.T, b *Built) {
		githubCheck("opened")(t, b)
		m := jsonBody(t, b)
		if field(m, "number").(json.Number) != field(m, "pull_request", "number").(json.Number) {
			t.Error("number and pull_request.number differ")
		}
		wantString(t, m, testNow.Format("2006-01-02T15:04:05Z"), "pull_request", "created_at")
	}},
	{"github", "push", "push", githubHeaders("push"), func(t *testing.T, b *Built) {
		githubCheck("")(t, b)
		m := jsonBody(t, b)
		after, _ := m["after"].(string)
		if len(after) != 40 || field(m, "head_commit", "id") != after {
			t.Errorf("after %q should be the head commit's 40-hex id", after)
		}
		wantNumber(t, m, testNow.Unix(), "repository", "pushed_at")
	}},
	{"github", "release.published", "release.published", githubHeaders("release"), githubCheck("published")},

	{"linear", "Issue.create", "Issue.create", map[string]string{
		"Linear-Event":     "Issue",
		"Linear-Delivery":  "*",
		"Linear-Signature": "*",
		"User-Agent":       "Linear-Webhook",
	}, func(t *testing.T, b *Built) {
		m := jsonBody(t, b)
		wantNumber(t, m, testNow.UnixMilli(), "webhookTimestamp")
		wantString(t, m, "Issue", "type")
		wantString(t, m, "create", "action")
		id, _ := field(m, "data", "id").(string)
		if len(id) != 36 {
			t.Errorf("data.id = %q, want a UUID", id)
		}
	}},

	{"paddle", "transaction.completed", "transaction.completed", map[string]string{
		"Paddle-Signature": "*",
	}, func(t *testing.T, b *Built) {
		m := jsonBody(t, b)
		wantString(t, m, testNow.Format("2006-01-02T15:04:05.000000Z"), "occurred_at")
		wantPrefix(t, m, "evt_01", "event_id")
		wantPrefix(t, m, "ntf_01", "notification_id")
		wantPrefix(t, m, "txn_01", "data", "id")
		wantString(t, m, "completed", "data", "status")
		if sig := b.Header.Get("Paddle-Signature"); !strings.HasPrefix(sig, "ts="+strconv.FormatInt(testNow.Unix(), 10)+";h1=") {
			t.Errorf("Paddle-Signature = %q, want ts=<Now>;h1=...", sig)
		}
	}},

	{"shopify", "app/uninstalled", "app/uninstalled", shopifyHeaders("app/uninstalled"), func(t *testing.T, b *Built) {
		m := jsonBody(t, b)
		wantString(t, m, "hookctl-sample.myshopify.com", "myshopify_domain")
		wantString(t, m, "${{amount}}", "money_format")
	}},
	{"shopify", "orders/create", "orders/create", shopifyHeaders("orders/create"), shopifyOrderCheck("pending")},
	{"shopify", "orders/paid", "orders/paid", shopifyHeaders("orders/paid"), shopifyOrderCheck("paid")},

	{"slack", "event_callback", "event_callback.app_mention", slackHeaders, func(t *testing.T, b *Built) {
		m := jsonBody(t, b)
		wantNumber(t, m, testNow.Unix(), "event_time")
		wantString(t, m, "1773500966.535897", "event", "ts")
		wantPrefix(t, m, "Ev", "event_id")
	}},
	{"slack", "slash_command", "slash_command./deploy", slackHeaders, func(t *testing.T, b *Built) {
		v := formBodyOf(t, b)
		for _, k := range []string{"token", "team_id", "team_domain", "channel_id", "channel_name", "user_id",
			"user_name", "command", "text", "api_app_id", "response_url", "trigger_id"} {
			if !v.Has(k) {
				t.Errorf("slash command has no %s", k)
			}
		}
		if v.Get("text") != "api staging --dry-run" {
			t.Errorf("text = %q", v.Get("text"))
		}
		if !strings.Contains(string(b.Body), "text=api+staging+--dry-run") {
			t.Errorf("spaces should be encoded as +: %s", b.Body)
		}
	}},
	{"slack", "url_verification", "url_verification", slackHeaders, func(t *testing.T, b *Built) {
		m := jsonBody(t, b)
		if c, _ := m["challenge"].(string); len(c) < 32 {
			t.Errorf("challenge = %q, want a long random string", c)
		}
	}},

	{"standard-webhooks", "user.created", "user.created", map[string]string{
		"Webhook-Id":        "*",
		"Webhook-Timestamp": strconv.FormatInt(testNow.Unix(), 10),
		"Webhook-Signature": "*",
	}, func(t *testing.T, b *Built) {
		if id := b.Header.Get("Webhook-Id"); !strings.HasPrefix(id, "msg_") || len(id) != 31 {
			t.Errorf("webhook-id = %q, want msg_ and 27 characters", id)
		}
		m := jsonBody(t, b)
		wantString(t, m, "user.created", "type")
		wantString(t, m, testNow.Format("2006-01-02T15:04:05.000000Z"), "timestamp")
		wantPrefix(t, m, "user_", "data", "id")
	}},

	{"stripe", "charge.refunded", "charge.refunded", stripeHeaders, stripeCheck("charge", "ch_")},
	{"stripe", "checkout.session.completed", "checkout.session.completed", stripeHeaders, stripeCheck("checkout.session", "cs_test_")},
	{"stripe", "customer.subscription.created", "customer.subscription.created", stripeHeaders, stripeCheck("subscription", "sub_")},
	{"stripe", "customer.subscription.deleted", "customer.subscription.deleted", stripeHeaders, func(t *testing.T, b *Built) {
		stripeCheck("subscription", "sub_")(t, b)
		m := jsonBody(t, b)
		wantString(t, m, "canceled", "data", "object", "status")
		wantNumber(t, m, testNow.Unix(), "data", "object", "ended_at")
	}},
	{"stripe", "customer.subscription.updated", "customer.subscription.updated", stripeHeaders, func(t *testing.T, b *Built) {
		stripeCheck("subscription", "sub_")(t, b)
		if field(jsonBody(t, b), "data", "previous_attributes") == nil {
			t.Error("an updated event has previous_attributes")
		}
	}},
	{"stripe", "invoice.paid", "invoice.paid", stripeHeaders, func(t *testing.T, b *Built) {
		stripeCheck("invoice", "in_")(t, b)
		m := jsonBody(t, b)
		wantNumber(t, m, testNow.Unix(), "data", "object", "status_transitions", "paid_at")
		id, _ := field(m, "data", "object", "id").(string)
		wantString(t, m, "/v1/invoices/"+id+"/lines", "data", "object", "lines", "url")
	}},
	{"stripe", "payment_intent.payment_failed", "payment_intent.payment_failed", stripeHeaders, func(t *testing.T, b *Built) {
		stripeCheck("payment_intent", "pi_")(t, b)
		m := jsonBody(t, b)
		wantString(t, m, "requires_payment_method", "data", "object", "status")
		wantString(t, m, "card_declined", "data", "object", "last_payment_error", "code")
	}},
	{"stripe", "payment_intent.succeeded", "payment_intent.succeeded", stripeHeaders, func(t *testing.T, b *Built) {
		stripeCheck("payment_intent", "pi_")(t, b)
		m := jsonBody(t, b)
		wantString(t, m, "succeeded", "data", "object", "status")
		id, _ := field(m, "data", "object", "id").(string)
		if cs, _ := field(m, "data", "object", "client_secret").(string); !strings.HasPrefix(cs, id+"_secret_") {
			t.Errorf("client_secret %q should start with the PaymentIntent id %q", cs, id)
		}
	}},

	{"twilio", "sms", "sms", map[string]string{
		"X-Twilio-Signature":         "*",
		"I-Twilio-Idempotency-Token": "*",
		"User-Agent":                 "TwilioProxy/1.1",
	}, func(t *testing.T, b *Built) {
		v := formBodyOf(t, b)
		sid := v.Get("MessageSid")
		if len(sid) != 34 || !strings.HasPrefix(sid, "SM") || v.Get("SmsSid") != sid {
			t.Errorf("MessageSid = %q, SmsSid = %q: want the same SM and 32 hex digits", sid, v.Get("SmsSid"))
		}
		if v.Get("From") == "" || v.Get("To") == "" || v.Get("Body") == "" {
			t.Errorf("an SMS has From, To and Body: %v", v)
		}
		if !strings.HasPrefix(v.Get("AccountSid"), "AC") {
			t.Errorf("AccountSid = %q", v.Get("AccountSid"))
		}
		// Twilio signs the URL: the same request at another URL does not verify.
		other := &signature.Request{Method: b.Method, URL: "https://elsewhere.example.test/sms", Header: b.Header, Body: b.Body}
		if res := scheme(t, "twilio").Verify(other, b.Secret, signature.Options{Now: testNow}); res.Status == signature.Valid {
			t.Errorf("the signature verifies at another URL: %+v", res)
		}
	}},
}

func TestFixtureCasesCoverList(t *testing.T) {
	var listed, cased []string
	for _, f := range List() {
		listed = append(listed, f.Provider+" "+f.Event)
	}
	for _, c := range fixtureCases {
		cased = append(cased, c.provider+" "+c.event)
	}
	if !slices.Equal(listed, cased) {
		t.Errorf("List() and the test's cases differ:\nList: %q\ncases: %q", listed, cased)
	}
}

func TestListRequiredFixtures(t *testing.T) {
	required := []string{
		"stripe payment_intent.succeeded", "stripe payment_intent.payment_failed",
		"stripe checkout.session.completed", "stripe customer.subscription.created",
		"stripe customer.subscription.updated", "stripe customer.subscription.deleted",
		"stripe invoice.paid", "stripe charge.refunded",
		"github ping", "github push", "github pull_request.opened", "github issues.opened",
		"github release.published",
		"slack slash_command", "slack event_callback", "slack url_verification",
		"shopify orders/create", "shopify orders/paid", "shopify app/uninstalled",
		"twilio sms", "standard-webhooks user.created", "paddle transaction.completed",
		"linear Issue.create",
	}
	list := List()
	var have []string
	for _, f := range list {
		have = append(have, f.Provider+" "+f.Event)
		if f.Description == "" || f.ContentType == "" {
			t.Errorf("%s %s: no description or content type", f.Provider, f.Event)
		}
		if _, ok := signature.Lookup(f.Provider); !ok {
			t.Errorf("%s %s: signature.Lookup does not know the provider %q", f.Provider, f.Event, f.Provider)
		}
	}
	for _, r := range required {
		if !slices.Contains(have, r) {
			t.Errorf("no fixture %q", r)
		}
	}
	sorted := slices.IsSortedFunc(list, func(a, b Fixture) int {
		if c := strings.Compare(a.Provider, b.Provider); c != 0 {
			return c
		}
		return strings.Compare(a.Event, b.Event)
	})
	if !sorted {
		t.Errorf("List is not sorted by provider then event: %q", have)
	}
	// List returns a copy.
	list[0].Event = "changed"
	if List()[0].Event == "changed" {
		t.Error("List returns the package's own slice")
	}
}

// TestTemplatesMatchFixtures: every fixture has a template, and every template a fixture.
func TestTemplatesMatchFixtures(t *testing.T) {
	files, err := fs.Glob(fixtureFS, "fixtures/*.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, f := range List() {
		want[fileName(f)] = true
	}
	for _, f := range files {
		if strings.HasPrefix(f, "fixtures/_") {
			continue // partials
		}
		if !want[f] {
			t.Errorf("template %s belongs to no fixture", f)
		}
		delete(want, f)
	}
	for f := range want {
		t.Errorf("no template %s", f)
	}
}

func TestBuild(t *testing.T) {
	for _, c := range fixtureCases {
		t.Run(c.provider+"/"+c.event, func(t *testing.T) {
			f, err := find(c.provider, c.event)
			if err != nil {
				t.Fatal(err)
			}
			s := scheme(t, c.provider)
			b := build(t, f, 1)

			if b.Method != http.MethodPost {
				t.Errorf("Method = %q", b.Method)
			}
			if c.provider != "twilio" && b.URL != testURL {
				t.Errorf("URL = %q, want %q", b.URL, testURL)
			}
			if b.Secret != DefaultSecret(c.provider) || b.Secret == "" {
				t.Errorf("Secret = %q, want the default %q", b.Secret, DefaultSecret(c.provider))
			}
			if ct := b.Header.Get("Content-Type"); ct != f.ContentType {
				t.Errorf("Content-Type = %q, want %q", ct, f.ContentType)
			}

			// The body parses.
			if strings.HasPrefix(f.ContentType, "application/x-www-form-urlencoded") {
				if v := formBodyOf(t, b); len(v) == 0 {
					t.Error("empty form")
				}
			} else if !json.Valid(b.Body) {
				t.Fatalf("body is not valid JSON:\n%s", b.Body)
			}

			for name, want := range c.header {
				got := b.Header.Get(name)
				switch {
				case got == "":
					t.Errorf("no %s header", name)
				case want != "*" && got != want:
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}

			// The scheme recognises the request and its event.
			if d, ok := signature.Detect(b.Header); !ok || d.Name() != s.Name() {
				t.Errorf("signature.Detect does not find the %s signature", s.Name())
			}
			eventType, deliveryID := s.Event(b.Header, b.Body)
			if eventType != c.wantEvent {
				t.Errorf("the %s scheme reads event %q, want %q", s.Name(), eventType, c.wantEvent)
			}
			if deliveryID == "" && c.event != "url_verification" {
				t.Errorf("the %s scheme reads no delivery id", s.Name())
			}

			// It verifies with the same secret at Now, and not once tampered with.
			req := &signature.Request{Method: b.Method, URL: b.URL, Header: b.Header, Body: b.Body}
			if res := s.Verify(req, b.Secret, signature.Options{Now: testNow}); res.Status != signature.Valid {
				t.Errorf("does not verify with the %s scheme: %s (%s)", s.Name(), res.Status, res.Reason)
			}
			tampered := bytes.Clone(b.Body)
			tampered[len(tampered)/2] ^= 1
			req.Body = tampered
			if res := s.Verify(req, b.Secret, signature.Options{Now: testNow}); res.Status == signature.Valid {
				t.Errorf("a tampered body verifies: %s", res.Reason)
			}

			if c.check != nil {
				c.check(t, b)
			}
		})
	}
}

// noIDInBody are the fixtures whose bodies, like the real ones, carry nothing per delivery:
// GitHub's ping (its delivery id is the X-GitHub-Delivery header) and Shopify's app/uninstalled
// (the body is the shop; X-Shopify-Webhook-Id is per delivery).
var noIDInBody = map[string]bool{"github ping": true, "shopify app/uninstalled": true}

// TestFreshIDs: two sends of the same event at the same time differ in their ids.
func TestFreshIDs(t *testing.T) {
	for _, f := range List() {
		t.Run(f.Provider+"/"+f.Event, func(t *testing.T) {
			s := scheme(t, f.Provider)
			a, err := Build(f.Provider, f.Event, Options{Now: testNow, URL: testURL})
			if err != nil {
				t.Fatal(err)
			}
			b, err := Build(f.Provider, f.Event, Options{Now: testNow, URL: testURL})
			if err != nil {
				t.Fatal(err)
			}
			_, idA := s.Event(a.Header, a.Body)
			_, idB := s.Event(b.Header, b.Body)
			if idA != "" && idA == idB {
				t.Errorf("both sends have the delivery id %q", idA)
			}
			if !noIDInBody[f.Provider+" "+f.Event] && bytes.Equal(a.Body, b.Body) {
				t.Errorf("both sends have the same body")
			}
		})
	}
}

// TestDeterministic: the same random source and time give the same bytes.
func TestDeterministic(t *testing.T) {
	for _, f := range List() {
		t.Run(f.Provider+"/"+f.Event, func(t *testing.T) {
			a, b := build(t, f, 7), build(t, f, 7)
			if !bytes.Equal(a.Body, b.Body) {
				t.Errorf("same Rand and Now, different bodies:\n%s\n%s", a.Body, b.Body)
			}
			for k := range a.Header {
				if !slices.Equal(a.Header[k], b.Header[k]) {
					t.Errorf("same Rand and Now, different %s: %q and %q", k, a.Header[k], b.Header[k])
				}
			}
			if len(a.Header) != len(b.Header) || a.URL != b.URL {
				t.Errorf("same Rand and Now, different headers or URL")
			}
			if c := build(t, f, 8); bytes.Equal(a.Body, c.Body) && !noIDInBody[f.Provider+" "+f.Event] {
				t.Errorf("another seed gives the same body")
			}
		})
	}
}

func TestUnknown(t *testing.T) {
	_, err := Build("mailgun", "delivered", Options{URL: testURL})
	if err == nil {
		t.Fatal("unknown provider: no error")
	}
	msg := err.Error()
	for _, p := range []string{"github", "linear", "paddle", "shopify", "slack", "standard-webhooks", "stripe", "twilio"} {
		if !strings.Contains(msg, p) {
			t.Errorf("the error does not list %s: %s", p, msg)
		}
	}
	if strings.Contains(msg, "\n") || !strings.Contains(msg, `"mailgun"`) {
		t.Errorf("want one line naming the provider: %q", msg)
	}

	_, err = Build("stripe", "payment_intent.created", Options{URL: testURL})
	if err == nil {
		t.Fatal("unknown event: no error")
	}
	msg = err.Error()
	for _, f := range List() {
		if f.Provider == "stripe" && !strings.Contains(msg, f.Event) {
			t.Errorf("the error does not list %s: %s", f.Event, msg)
		}
	}
	if strings.Contains(msg, "\n") || strings.Contains(msg, "orders/create") || !strings.Contains(msg, `"payment_intent.created"`) {
		t.Errorf("want one line with stripe's events only: %q", msg)
	}
}

func TestNames(t *testing.T) {
	for _, c := range []struct{ provider, event, want string }{
		{"svix", "user.created", "standard-webhooks user.created"},
		{"Clerk", "user.created", "standard-webhooks user.created"},
		{"STRIPE", "invoice.paid", "stripe invoice.paid"},
		{"shopify", "orders.create", "shopify orders/create"},
		{"linear", "issue.create", "linear Issue.create"},
	} {
		f, err := find(c.provider, c.event)
		if err != nil {
			t.Errorf("%s %s: %v", c.provider, c.event, err)
			continue
		}
		if got := f.Provider + " " + f.Event; got != c.want {
			t.Errorf("%s %s is %q, want %q", c.provider, c.event, got, c.want)
		}
	}
}

func TestOptions(t *testing.T) {
	if _, err := Build("stripe", "invoice.paid", Options{}); err == nil {
		t.Error("no URL: no error")
	}
	if _, err := Build("stripe", "invoice.paid", Options{URL: "/webhooks"}); err == nil {
		t.Error("a relative URL: no error")
	}

	// Another secret: the request verifies with it, not with the default.
	stripe := scheme(t, "stripe")
	b, err := Build("stripe", "invoice.paid", Options{URL: testURL, Now: testNow, Secret: "whsec_another"})
	if err != nil {
		t.Fatal(err)
	}
	if b.Secret != "whsec_another" {
		t.Errorf("Secret = %q", b.Secret)
	}
	req := &signature.Request{Method: b.Method, URL: b.URL, Header: b.Header, Body: b.Body}
	if res := stripe.Verify(req, "whsec_another", signature.Options{Now: testNow}); res.Status != signature.Valid {
		t.Errorf("does not verify with the given secret: %s", res.Reason)
	}
	if res := stripe.Verify(req, DefaultSecret("stripe"), signature.Options{Now: testNow}); res.Status == signature.Valid {
		t.Error("verifies with the default secret")
	}

	// A secret in the wrong format: the scheme's error.
	if _, err := Build("stripe", "invoice.paid", Options{URL: testURL, Secret: "sk_test_123"}); !errors.Is(err, signature.ErrBadSecret) {
		t.Errorf("an API key as secret: %v, want ErrBadSecret", err)
	}

	// No Now: the current time, so that the request verifies now; it is stale later.
	b, err = Build("slack", "event_callback", Options{URL: testURL})
	if err != nil {
		t.Fatal(err)
	}
	slack := scheme(t, "slack")
	req = &signature.Request{Method: b.Method, URL: b.URL, Header: b.Header, Body: b.Body}
	if res := slack.Verify(req, b.Secret, signature.Options{}); res.Status != signature.Valid {
		t.Errorf("signed now, does not verify now: %s", res.Reason)
	}
	if res := slack.Verify(req, b.Secret, signature.Options{Now: time.Now().Add(time.Hour)}); res.Status != signature.Stale {
		t.Errorf("signed now, verified an hour later: %s, want stale", res.Status)
	}

	// A random source that fails.
	if _, err := Build("stripe", "invoice.paid", Options{URL: testURL, Rand: bytes.NewReader(make([]byte, 10))}); err == nil {
		t.Error("a random source that runs out: no error")
	}
}

func TestDefaultSecret(t *testing.T) {
	for _, f := range List() {
		if DefaultSecret(f.Provider) == "" {
			t.Errorf("no default secret for %s", f.Provider)
		}
	}
	if s := DefaultSecret("stripe"); !strings.HasPrefix(s, "whsec_") {
		t.Errorf("stripe: %q", s)
	}
	if s, ok := strings.CutPrefix(DefaultSecret("standard-webhooks"), "whsec_"); !ok {
		t.Errorf("standard-webhooks: %q has no whsec_", s)
	} else if k, err := base64.StdEncoding.DecodeString(s); err != nil || len(k) < 24 {
		t.Errorf("standard-webhooks: %q is not a base64 key of 24 bytes or more", s)
	}
	for _, p := range []string{"twilio", "slack"} {
		if s := DefaultSecret(p); len(s) != 32 || !isHex(s) {
			t.Errorf("%s: %q is not 32 hex digits", p, s)
		}
	}
	if DefaultSecret("svix") != DefaultSecret("standard-webhooks") {
		t.Error("svix is standard-webhooks")
	}
	if DefaultSecret("nope") != "" {
		t.Error("unknown provider has a secret")
	}
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil
}

// TestConcurrent builds every fixture from several goroutines (run with -race).
func TestConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for i := range 4 {
		for _, f := range List() {
			wg.Go(func() {
				if _, err := Build(f.Provider, f.Event, Options{Now: testNow, URL: testURL, Rand: seeded(byte(i))}); err != nil {
					t.Error(err)
				}
			})
		}
	}
	wg.Wait()
}
