// Package trigger builds realistic, correctly signed sample webhooks, so that a developer can
// exercise a handler without the provider: `hookctl trigger stripe invoice.paid` sends one to the
// running `hookctl listen`.
//
// Each sample is an embedded template in fixtures/, written for hookctl (with the structure and
// field names of the provider's real payloads, but smaller, and with obviously fake names, emails
// and phone numbers). A template renders a header block, a blank line and the body; ids and
// timestamps come from template functions, so every send gets fresh ones, and the same random
// source and time give the same bytes. The request is then signed with the provider's scheme from
// pkg/signature.
package trigger

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"text/template"
	"time"

	"github.com/hookctl/hookctl/pkg/signature"
)

//go:embed fixtures/*.tmpl
var fixtureFS embed.FS

// Fixture describes one sample event.
type Fixture struct {
	// Provider is the signature scheme's name, as signature.Lookup knows it ("stripe").
	Provider string
	// Event is the provider's own event name ("payment_intent.succeeded", "orders/create").
	Event string
	// Description says in a few words what the sample is.
	Description string
	// ContentType is the Content-Type the sample is sent with.
	ContentType string
}

// Options for Build; zero values get defaults.
type Options struct {
	// Secret is the signing secret; "" means DefaultSecret(provider).
	Secret string
	// Now is the signing time and the time the event's timestamps are based on; zero means
	// time.Now().
	Now time.Time
	// URL is the full URL the request is sent to (Twilio and Square sign it); required.
	URL string
	// Rand is the source for fresh ids; nil means crypto/rand.
	Rand io.Reader
}

// Built is a request ready to send.
type Built struct {
	Method string
	URL    string
	Header http.Header
	Body   []byte
	// Secret is the secret the request was signed with.
	Secret string
}

// Content types.
const (
	ctJSON     = "application/json"
	ctJSONUTF8 = "application/json; charset=utf-8"
	ctForm     = "application/x-www-form-urlencoded"
)

// fixtures is every sample, sorted by provider then event. The template of each is
// fixtures/<provider>.<event with "/" replaced by ".">.tmpl.
var fixtures = []Fixture{
	{"github", "issues.opened", "An issue was opened in a repository", ctJSON},
	{"github", "ping", "The ping GitHub sends when a webhook is created", ctJSON},
	{"github", "pull_request.opened", "A pull request was opened", ctJSON},
	{"github", "push", "Two commits were pushed to the main branch", ctJSON},
	{"github", "release.published", "A release was published", ctJSON},

	{"linear", "Issue.create", "An issue was created in a team", ctJSONUTF8},

	{"paddle", "transaction.completed", "A subscription renewal was paid and fully processed", ctJSON},

	{"shopify", "app/uninstalled", "The app was uninstalled from a shop (the body is the shop)", ctJSON},
	{"shopify", "orders/create", "An order was placed (not yet paid)", ctJSON},
	{"shopify", "orders/paid", "An order was paid", ctJSON},

	{"slack", "event_callback", "Events API: the app was mentioned in a channel (app_mention)", ctJSON},
	{"slack", "slash_command", "A user ran the /deploy slash command", ctForm},
	{"slack", "url_verification", "Events API: the challenge Slack sends when the request URL is set", ctJSON},

	{"standard-webhooks", "user.created", "A user signed up (Standard Webhooks / Svix / Clerk style)", ctJSON},

	{"stripe", "charge.refunded", "A card charge was refunded in full", ctJSONUTF8},
	{"stripe", "checkout.session.completed", "A Checkout Session for a subscription was completed", ctJSONUTF8},
	{"stripe", "customer.subscription.created", "A monthly subscription was created", ctJSONUTF8},
	{"stripe", "customer.subscription.deleted", "A subscription was canceled and ended", ctJSONUTF8},
	{"stripe", "customer.subscription.updated", "A subscription was set to cancel at the end of its period", ctJSONUTF8},
	{"stripe", "invoice.paid", "A subscription invoice was paid", ctJSONUTF8},
	{"stripe", "payment_intent.payment_failed", "A card payment was declined (insufficient funds)", ctJSONUTF8},
	{"stripe", "payment_intent.succeeded", "A card payment succeeded", ctJSONUTF8},

	{"twilio", "sms", "An incoming SMS to a Twilio number", ctForm},
}

// defaultSecrets are the well-known test secrets, in each provider's secret format. They are
// public on purpose: `hookctl listen --verify <provider>=<secret>` checks what trigger sends.
var defaultSecrets = map[string]string{
	// Stripe endpoint secrets are "whsec_" and 32 letters and digits.
	"stripe": "whsec_hookctlStripeTestSecret000000000",
	// Any string; GitHub suggests a long random one.
	"github": "hookctl-github-test-secret",
	// Slack signing secrets are 32 hex digits.
	"slack": "0123456789abcdef0123456789abcdef",
	// Shopify app client secrets are "shpss_" and 32 hex digits.
	"shopify": "shpss_0123456789abcdef0123456789abcdef",
	// A Twilio auth token is 32 hex digits.
	"twilio": "fedcba9876543210fedcba9876543210",
	// Standard Webhooks secrets are "whsec_" and the base64 of the key (here 32 bytes:
	// "hookctl-standard-webhooks-test!!").
	"standard-webhooks": "whsec_aG9va2N0bC1zdGFuZGFyZC13ZWJob29rcy10ZXN0ISE=",
	// Paddle endpoint secret keys are "pdl_ntfset_", the notification setting id and a key.
	"paddle": "pdl_ntfset_01hkc7t0000000000000000000_hookctlPaddleTestSecretKey000000",
	// Linear signing secrets are "lin_wh_" and 32 or more letters and digits.
	"linear": "lin_wh_hookctlLinearTestSecret0000000000000000",
	// Zoom secret tokens and Square signature keys are 22 random base64url characters.
	"zoom":   "hookctlZoomTestToken00",
	"square": "hookctlSquareTestKey00",
}

// DefaultSecret is the well-known test secret used when none is given, in the provider's secret
// format (e.g. "whsec_..." for Stripe; a base64 key "whsec_..." for Standard Webhooks; a 32-hex
// Twilio auth token), so that `listen --verify provider=<it>` can check what trigger sends. It
// returns "" for providers hookctl cannot sign for.
func DefaultSecret(provider string) string {
	return defaultSecrets[canonicalProvider(provider)]
}

// List returns every fixture, sorted by provider then event.
func List() []Fixture {
	return slices.Clone(fixtures)
}

// Build renders the fixture with fresh ids and timestamps and signs it. An unknown provider or
// event gives an error that lists the valid ones.
func Build(provider, event string, opt Options) (*Built, error) {
	f, err := find(provider, event)
	if err != nil {
		return nil, err
	}
	if opt.URL == "" {
		return nil, errors.New("trigger: no URL to send to")
	}
	if u, err := url.Parse(opt.URL); err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("trigger: %q is not a full URL", opt.URL)
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	if opt.Rand == nil {
		opt.Rand = rand.Reader
	}
	secret := opt.Secret
	if secret == "" {
		secret = DefaultSecret(f.Provider)
	}
	scheme, ok := signature.Lookup(f.Provider)
	if !ok {
		return nil, fmt.Errorf("trigger: no signature scheme %q", f.Provider)
	}

	header, body, err := render(f, opt.URL, opt.Now, opt.Rand)
	if err != nil {
		return nil, err
	}
	req := &signature.Request{Method: http.MethodPost, URL: opt.URL, Header: header, Body: body}
	if err := scheme.Sign(req, secret, opt.Now); err != nil {
		return nil, fmt.Errorf("trigger: signing %s %s: %w", f.Provider, f.Event, err)
	}
	return &Built{Method: req.Method, URL: req.URL, Header: req.Header, Body: req.Body, Secret: secret}, nil
}

// canonicalProvider maps a provider name as a user may type it to the fixtures' name.
func canonicalProvider(p string) string {
	p = strings.ToLower(strings.TrimSpace(p))
	switch p {
	case "svix", "clerk", "standardwebhooks", "standard_webhooks":
		return "standard-webhooks"
	}
	return p
}

// find returns the fixture for provider and event: the exact event name, or else one that
// differs only in case or in "/" for "." (Shopify's "orders.create").
func find(provider, event string) (Fixture, error) {
	p := canonicalProvider(provider)
	var events []string
	for _, f := range fixtures {
		if f.Provider == p {
			events = append(events, f.Event)
		}
	}
	if events == nil {
		var names []string
		for _, f := range fixtures {
			if !slices.Contains(names, f.Provider) {
				names = append(names, f.Provider)
			}
		}
		return Fixture{}, fmt.Errorf("trigger: unknown provider %q (valid: %s)", provider, strings.Join(names, ", "))
	}
	norm := func(s string) string { return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "/", ".") }
	var match *Fixture
	for i, f := range fixtures {
		if f.Provider != p {
			continue
		}
		if f.Event == event {
			return f, nil
		}
		if match == nil && norm(f.Event) == norm(event) {
			match = &fixtures[i]
		}
	}
	if match != nil {
		return *match, nil
	}
	return Fixture{}, fmt.Errorf("trigger: unknown %s event %q (valid: %s)", p, event, strings.Join(events, ", "))
}

// fileName is the template of f.
func fileName(f Fixture) string {
	return "fixtures/" + f.Provider + "." + strings.ReplaceAll(f.Event, "/", ".") + ".tmpl"
}

// render executes f's template and returns its headers (with Content-Type) and its body in the
// wire format: JSON compacted, or indented the way Stripe sends it; form lines encoded.
func render(f Fixture, target string, now time.Time, r io.Reader) (http.Header, []byte, error) {
	src, err := fixtureFS.ReadFile(fileName(f))
	if err != nil {
		return nil, nil, fmt.Errorf("trigger: no template for %s %s: %w", f.Provider, f.Event, err)
	}
	g := &gen{r: r, now: now.UTC(), url: target, memo: map[string]string{}}
	// The partials (fixtures/_<provider>.tmpl) define what several fixtures share: a
	// provider's headers, a GitHub repository, a Stripe subscription...
	t, err := template.New(fileName(f)).Option("missingkey=error").Funcs(g.funcs()).ParseFS(fixtureFS, "fixtures/_*.tmpl")
	if err != nil {
		return nil, nil, fmt.Errorf("trigger: templates: %w", err)
	}
	if t, err = t.New(fileName(f)).Parse(string(src)); err != nil {
		return nil, nil, fmt.Errorf("trigger: template %s: %w", fileName(f), err)
	}
	var out bytes.Buffer
	if err := t.Execute(&out, nil); err != nil {
		if g.err != nil {
			return nil, nil, fmt.Errorf("trigger: random source: %w", g.err)
		}
		return nil, nil, fmt.Errorf("trigger: template %s: %w", fileName(f), err)
	}
	head, rawBody, ok := bytes.Cut(bytes.TrimLeft(out.Bytes(), " \t\r\n"), []byte("\n\n"))
	if !ok {
		return nil, nil, fmt.Errorf("trigger: template %s has no blank line between headers and body", fileName(f))
	}
	header := http.Header{}
	sc := bufio.NewScanner(bytes.NewReader(head))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return nil, nil, fmt.Errorf("trigger: template %s: bad header line %q", fileName(f), line)
		}
		header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	header.Set("Content-Type", f.ContentType)

	var body []byte
	switch {
	case strings.HasPrefix(f.ContentType, ctForm):
		body = formBody(rawBody)
	case f.Provider == "stripe":
		// Stripe sends its events indented by two spaces.
		var b bytes.Buffer
		if err := json.Indent(&b, bytes.TrimSpace(rawBody), "", "  "); err != nil {
			return nil, nil, fmt.Errorf("trigger: template %s is not valid JSON: %w", fileName(f), err)
		}
		body = b.Bytes()
	default:
		var b bytes.Buffer
		if err := json.Compact(&b, rawBody); err != nil {
			return nil, nil, fmt.Errorf("trigger: template %s is not valid JSON: %w", fileName(f), err)
		}
		body = b.Bytes()
	}
	return header, body, nil
}

// formBody encodes the "name=value" lines of a form template, in their order, the way browsers
// and the providers do (spaces as "+").
func formBody(raw []byte) []byte {
	var parts []string
	for line := range strings.SplitSeq(string(raw), "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		name, value, _ := strings.Cut(line, "=")
		parts = append(parts, url.QueryEscape(name)+"="+url.QueryEscape(value))
	}
	return []byte(strings.Join(parts, "&"))
}

// gen provides the template functions: fresh ids drawn from a random source, memoized by their
// arguments so that a template can name the same object twice (`{{id "pi_" 24}}` is the same
// PaymentIntent id everywhere in one rendering; `{{id "pi_" 24 "other"}}` is another one), and
// times relative to now.
type gen struct {
	r    io.Reader
	now  time.Time
	url  string
	memo map[string]string
	err  error
}

const (
	base62    = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	hexDigits = "0123456789abcdef"
	upperNum  = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	decimal   = "0123456789"
	crockford = "0123456789abcdefghjkmnpqrstvwxyz"
)

func (g *gen) funcs() template.FuncMap {
	return template.FuncMap{
		// id "evt_" 24 ["key"]: prefix and n letters and digits (Stripe, Svix, Slack tokens).
		"id": func(prefix string, n int, key ...string) (string, error) {
			return g.memoized("id", prefix, n, key, func() (string, error) { return g.chars(prefix, base62, n) })
		},
		// hex "SM" 32 ["key"]: prefix and n lowercase hex digits (Twilio SIDs, git SHAs).
		"hex": func(prefix string, n int, key ...string) (string, error) {
			return g.memoized("hex", prefix, n, key, func() (string, error) { return g.chars(prefix, hexDigits, n) })
		},
		// upper "U" 10 ["key"]: prefix and n uppercase letters and digits (Slack ids).
		"upper": func(prefix string, n int, key ...string) (string, error) {
			return g.memoized("upper", prefix, n, key, func() (string, error) { return g.chars(prefix, upperNum, n) })
		},
		// num 9 ["key"]: an n-digit number without a leading zero (GitHub, Shopify ids).
		"num": func(n int, key ...string) (string, error) {
			return g.memoized("num", "", n, key, func() (string, error) {
				first, err := g.chars("", "123456789", 1)
				if err != nil {
					return "", err
				}
				return g.chars(first, decimal, n-1)
			})
		},
		// uuid ["key"]: a random (version 4) UUID.
		"uuid": func(key ...string) (string, error) {
			return g.memoized("uuid", "", 0, key, g.uuid)
		},
		// ulid "txn_" ["key"]: prefix and a lowercase ULID of now (Paddle ids).
		"ulid": func(prefix string, key ...string) (string, error) {
			return g.memoized("ulid", prefix, 0, key, func() (string, error) { return g.ulid(prefix) })
		},
		// pick "a" "b" "c": one of its arguments, at random.
		"pick": func(choices ...string) (string, error) {
			if len(choices) == 0 {
				return "", nil
			}
			i, err := g.chars("", decimal[:min(len(choices), 10)], 1)
			if err != nil {
				g.err = err
				return "", err
			}
			return choices[i[0]-'0'], nil
		},
		// dict "k" v ...: a map, to pass parameters to a partial.
		"dict": func(kv ...any) (map[string]any, error) {
			if len(kv)%2 != 0 {
				return nil, errors.New("dict: odd number of arguments")
			}
			m := map[string]any{}
			for i := 0; i < len(kv); i += 2 {
				k, ok := kv[i].(string)
				if !ok {
					return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
				}
				m[k] = kv[i+1]
			}
			return m, nil
		},
		// json v: v as JSON (a quoted, escaped string for a string).
		"json": func(v any) (string, error) {
			b, err := json.Marshal(v)
			return string(b), err
		},
		// target: the URL the request is sent to.
		"target": func() string { return g.url },
		// now: the time of the event; at "-90s", at "30d", at "1mo": now plus a duration.
		"now": func() time.Time { return g.now },
		"at":  g.at,
		// Time formats.
		"unix": func(t time.Time) int64 { return t.Unix() },
		"ms":   func(t time.Time) int64 { return t.UnixMilli() },
		"iso":  func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") },
		"isoMilli": func(t time.Time) string {
			return t.UTC().Format("2006-01-02T15:04:05.000Z")
		},
		"isoMicro": func(t time.Time) string {
			return t.UTC().Format("2006-01-02T15:04:05.000000Z")
		},
		"isoNano": func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) },
		// local: a time in a US Eastern offset, as Shopify and git write them.
		"local": func(t time.Time) string {
			return t.In(time.FixedZone("EST", -5*3600)).Format("2006-01-02T15:04:05-07:00")
		},
		// slackTS: "<seconds>.<microseconds>", Slack's message timestamps.
		"slackTS": func(t time.Time) string { return fmt.Sprintf("%d.%06d", t.Unix(), t.Nanosecond()/1000) },
	}
}

// memoized returns the value made for the same function and arguments earlier in the
// rendering, or makes one.
func (g *gen) memoized(fn, prefix string, n int, key []string, mk func() (string, error)) (string, error) {
	k := fmt.Sprintf("%s\x00%s\x00%d\x00%s", fn, prefix, n, strings.Join(key, "\x00"))
	if v, ok := g.memo[k]; ok {
		return v, nil
	}
	v, err := mk()
	if err != nil {
		g.err = err
		return "", err
	}
	g.memo[k] = v
	return v, nil
}

// chars returns prefix and n characters drawn from alphabet.
func (g *gen) chars(prefix, alphabet string, n int) (string, error) {
	if n <= 0 {
		return prefix, nil
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(g.r, buf); err != nil {
		return "", err
	}
	for i, b := range buf {
		buf[i] = alphabet[int(b)%len(alphabet)]
	}
	return prefix + string(buf), nil
}

func (g *gen) uuid() (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(g.r, b[:]); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}

// ulid returns prefix and a ULID: 10 characters of now's milliseconds and 16 random ones, in
// lowercase Crockford base32.
func (g *gen) ulid(prefix string) (string, error) {
	var ts [10]byte
	ms := uint64(g.now.UnixMilli())
	for i := len(ts) - 1; i >= 0; i-- {
		ts[i] = crockford[ms&31]
		ms >>= 5
	}
	return g.chars(prefix+string(ts[:]), crockford, 16)
}

func (g *gen) at(d string) (time.Time, error) {
	if months, ok := strings.CutSuffix(d, "mo"); ok {
		var n int
		if _, err := fmt.Sscan(months, &n); err != nil {
			return time.Time{}, fmt.Errorf("bad duration %q", d)
		}
		return g.now.AddDate(0, n, 0), nil
	}
	if days, ok := strings.CutSuffix(d, "d"); ok {
		var n int
		if _, err := fmt.Sscan(days, &n); err != nil {
			return time.Time{}, fmt.Errorf("bad duration %q", d)
		}
		return g.now.AddDate(0, 0, n), nil
	}
	dur, err := time.ParseDuration(d)
	if err != nil {
		return time.Time{}, err
	}
	return g.now.Add(dur), nil
}
