package export

import (
	"bytes"
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hookctl/hookctl/internal/store"
	"github.com/hookctl/hookctl/internal/webhook"
)

// openStore opens a log in a temporary directory and closes it when the test ends.
func openStore(t *testing.T) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), store.Config{Path: filepath.Join(t.TempDir(), "hookctl.db")})
	if err != nil {
		t.Fatalf("open log: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close log: %v", err)
		}
	})
	return s
}

// binaryBody holds every byte value, NUL and the characters shells and printf treat specially.
func binaryBody() []byte {
	b := []byte("\x00%s%%'\"\\$`!\n\r\t@")
	for i := 255; i >= 0; i-- {
		b = append(b, byte(i))
	}
	return b
}

var t0 = time.Date(2026, 3, 14, 15, 9, 26, 535897932, time.UTC)

// fixture is a set of requests covering the bodies and headers an export must keep exactly.
type fixture struct {
	name     string
	req      webhook.Request
	attempts []webhook.Attempt
}

func fixtures() []fixture {
	ok := webhook.Attempt{
		Kind: webhook.KindForward, Target: "http://localhost:3000/webhook", StartedAt: t0.Add(1234567),
		Duration: 12345678 * time.Nanosecond, Status: 200,
		Header: webhook.Headers{
			{Name: "Content-Type", Value: "application/json"},
			{Name: "Set-Cookie", Value: "session=s3cr3t; Path=/; HttpOnly"},
			{Name: "X-Trace", Value: "a"}, {Name: "x-trace", Value: "b"},
		},
		Body: []byte(`{"ok":true}`), BodySize: 11,
	}
	failed := webhook.Attempt{
		Kind: webhook.KindReplay, Target: "http://localhost:3000/webhook", StartedAt: t0.Add(time.Minute + 7),
		Duration: 3*time.Millisecond + 17, Error: "dial tcp 127.0.0.1:3000: connect: connection refused",
	}
	truncated := webhook.Attempt{
		Kind: webhook.KindRedelivery, Target: "http://localhost:3000/webhook?x=1", StartedAt: t0.Add(time.Hour),
		Duration: time.Second + 1, Status: 502, Header: webhook.Headers{{Name: "Content-Type", Value: "application/octet-stream"}},
		Body: []byte{0xff, 0x00, 0xfe, 'a'}, BodySize: 4096,
	}
	return []fixture{
		{
			name: "json",
			req: webhook.Request{
				ReceivedAt: t0, Method: "POST", URI: "/hooks/stripe?source=cli&tag=a%20b&empty=&flag", Proto: "HTTP/1.1",
				Host: "abc.ngrok.app",
				Header: webhook.Headers{
					{Name: "Host", Value: "abc.ngrok.app"},
					{Name: "User-Agent", Value: "Stripe/1.0 (+https://stripe.com/docs/webhooks)"},
					{Name: "Content-Type", Value: "application/json; charset=utf-8"},
					{Name: "Stripe-Signature", Value: "t=1492774577,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd"},
					{Name: "authorization", Value: "Bearer sk_test_123"},
					{Name: "X-Repeat", Value: "one"}, {Name: "x-repeat", Value: "two"}, {Name: "X-Repeat", Value: "three"},
					{Name: "X-Empty", Value: ""},
					{Name: "X-Quote", Value: `it's "quoted" \ $HOME <b>&amp;</b>`},
					{Name: "Content-Length", Value: "60"},
				},
				Body:       []byte(`{"id":"evt_1","type":"payment_intent.succeeded","note":"l'été ☃ <&>"}`),
				RemoteAddr: "203.0.113.9:51234", Ingress: webhook.IngressNgrok, Provider: "stripe",
				EventType: "payment_intent.succeeded", DeliveryID: "evt_1", Signature: webhook.SignatureValid,
				SignatureReason: "signed 3s ago",
			},
			attempts: []webhook.Attempt{failed, ok},
		},
		{
			name: "form",
			req: webhook.Request{
				ReceivedAt: t0.Add(time.Second), Method: "POST", URI: "/slack/commands", Proto: "HTTP/1.1", Host: "127.0.0.1:8765",
				Header: webhook.Headers{
					{Name: "Host", Value: "127.0.0.1:8765"},
					{Name: "Content-Type", Value: "application/x-www-form-urlencoded"},
					{Name: "Cookie", Value: "a=1; b=2"},
					{Name: "X-Slack-Signature", Value: "v0=abc"},
				},
				Body:       []byte("token=x&text=hello+world%21&response_url=https%3A%2F%2Fhooks.slack.com%2Fx"),
				RemoteAddr: "127.0.0.1:40000", Ingress: webhook.IngressLocal, Provider: "slack",
				Signature: webhook.SignatureUnsigned,
			},
			attempts: []webhook.Attempt{ok},
		},
		{
			name: "binary",
			req: webhook.Request{
				ReceivedAt: t0.Add(2 * time.Second), Method: "PUT", URI: "/upload/bin", Proto: "HTTP/1.1", Host: "127.0.0.1:8765",
				Header: webhook.Headers{
					{Name: "Host", Value: "127.0.0.1:8765"},
					{Name: "Content-Type", Value: "application/octet-stream"},
					{Name: "X-Latin1", Value: "caf\xe9"},
				},
				Body: binaryBody(), RemoteAddr: "127.0.0.1:40001", Ingress: webhook.IngressRelay,
				Signature: webhook.SignatureUnchecked,
			},
			attempts: []webhook.Attempt{truncated},
		},
		{
			name: "latin1",
			req: webhook.Request{
				ReceivedAt: t0.Add(3 * time.Second), Method: "POST", URI: "/legacy", Proto: "HTTP/1.0", Host: "127.0.0.1:8765",
				Header: webhook.Headers{{Name: "Host", Value: "127.0.0.1:8765"}, {Name: "Content-Type", Value: "text/plain; charset=iso-8859-1"}},
				Body:   []byte("Gr\xfc\xdfe aus K\xf6ln"), Signature: webhook.SignatureUnchecked, Ingress: webhook.IngressLocal,
			},
		},
		{
			name: "empty",
			req: webhook.Request{
				ReceivedAt: t0.Add(4 * time.Second), Method: "GET", URI: "/health", Proto: "HTTP/1.1", Host: "127.0.0.1:8765",
				Header: webhook.Headers{{Name: "Host", Value: "127.0.0.1:8765"}},
				Body:   []byte{}, Signature: webhook.SignatureUnchecked, Ingress: webhook.IngressLocal,
			},
		},
		{
			name: "rejected",
			req: webhook.Request{
				ReceivedAt: t0.Add(5 * time.Second), Method: "POST", URI: "/big", Proto: "HTTP/1.1", Host: "127.0.0.1:8765",
				Header:   webhook.Headers{{Name: "Host", Value: "127.0.0.1:8765"}, {Name: "Content-Length", Value: "999999999"}},
				BodySize: 999999999, Rejected: "body larger than 10 MiB", Signature: webhook.SignatureUnchecked,
				Ingress: webhook.IngressLocal,
			},
		},
		{
			name: "at-sign",
			req: webhook.Request{
				ReceivedAt: t0.Add(6 * time.Second), Method: "POST", URI: "/at", Proto: "HTTP/1.1", Host: "127.0.0.1:8765",
				Header: webhook.Headers{{Name: "Host", Value: "127.0.0.1:8765"}},
				Body:   []byte("@/etc/passwd"), Signature: webhook.SignatureUnchecked, Ingress: webhook.IngressLocal,
			},
		},
	}
}

// seed records the fixtures in a new log and returns the log and the items read back from it.
func seed(t *testing.T) (*store.Store, []Item) {
	t.Helper()
	ctx := context.Background()
	st := openStore(t)
	var ids []int64
	for _, f := range fixtures() {
		r := f.req
		r.BodySize = max(r.BodySize, int64(len(r.Body)))
		if err := st.AddRequest(ctx, &r); err != nil {
			t.Fatalf("%s: add request: %v", f.name, err)
		}
		for _, a := range f.attempts {
			a.RequestID = r.ID
			if err := st.AddAttempt(ctx, &a); err != nil {
				t.Fatalf("%s: add attempt: %v", f.name, err)
			}
		}
		ids = append(ids, r.ID)
	}
	items, err := Load(ctx, st, ids)
	if err != nil {
		t.Fatal(err)
	}
	return st, items
}

// timePrecision says how exactly times must survive a round trip.
func sameTime(a, b time.Time, prec time.Duration) bool {
	return a.Truncate(prec).Equal(b.Truncate(prec))
}

// compareItems checks that got (imported, saved, read back) matches want (the original).
func compareItems(t *testing.T, want, got []Item, prec time.Duration) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d items, want %d", len(got), len(want))
	}
	for i := range want {
		w, g := want[i].Request, got[i].Request
		name := w.Method + " " + w.URI
		if g.ID == 0 {
			t.Errorf("%s: no id after save", name)
		}
		if g.Ingress != webhook.IngressImport {
			t.Errorf("%s: ingress %q, want import", name, g.Ingress)
		}
		if g.Method != w.Method || g.URI != w.URI || g.Proto != w.Proto || g.Host != w.Host {
			t.Errorf("%s: got %s %q %s host %q", name, g.Method, g.URI, g.Proto, g.Host)
		}
		if !reflect.DeepEqual(g.Header, w.Header) {
			t.Errorf("%s: headers\n got %q\nwant %q", name, g.Header, w.Header)
		}
		if !bytes.Equal(g.Body, w.Body) || (g.Body == nil) != (w.Body == nil) {
			t.Errorf("%s: body\n got %q (nil %v)\nwant %q (nil %v)", name, g.Body, g.Body == nil, w.Body, w.Body == nil)
		}
		if g.BodySize != w.BodySize {
			t.Errorf("%s: body size %d, want %d", name, g.BodySize, w.BodySize)
		}
		if !sameTime(g.ReceivedAt, w.ReceivedAt, prec) {
			t.Errorf("%s: received at %s, want %s", name, g.ReceivedAt.Format(time.RFC3339Nano), w.ReceivedAt.Format(time.RFC3339Nano))
		}
		if g.Provider != w.Provider || g.EventType != w.EventType || g.DeliveryID != w.DeliveryID ||
			g.Signature != w.Signature || g.SignatureReason != w.SignatureReason || g.RemoteAddr != w.RemoteAddr ||
			g.Rejected != w.Rejected {
			t.Errorf("%s: metadata\n got %+v\nwant %+v", name, *g, *w)
		}
		if len(got[i].Attempts) != len(want[i].Attempts) {
			t.Errorf("%s: %d attempts, want %d", name, len(got[i].Attempts), len(want[i].Attempts))
			continue
		}
		for k := range want[i].Attempts {
			wa, ga := want[i].Attempts[k], got[i].Attempts[k]
			if ga.RequestID != g.ID {
				t.Errorf("%s: attempt %d: request id %d, want %d", name, k, ga.RequestID, g.ID)
			}
			if ga.Kind != wa.Kind || ga.Target != wa.Target || ga.Status != wa.Status || ga.Error != wa.Error ||
				ga.Duration != wa.Duration || ga.BodySize != wa.BodySize || !ga.StartedAt.Equal(wa.StartedAt) {
				t.Errorf("%s: attempt %d\n got %+v\nwant %+v", name, k, ga, wa)
			}
			if !reflect.DeepEqual(ga.Header, wa.Header) {
				t.Errorf("%s: attempt %d headers\n got %q\nwant %q", name, k, ga.Header, wa.Header)
			}
			if !bytes.Equal(ga.Body, wa.Body) || (ga.Body == nil) != (wa.Body == nil) {
				t.Errorf("%s: attempt %d body %q, want %q", name, k, ga.Body, wa.Body)
			}
		}
	}
}

// roundTrip writes items with write, imports the output into a new log and reads it back.
func roundTrip(t *testing.T, items []Item, write func(*bytes.Buffer) error) []Item {
	t.Helper()
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		t.Fatalf("export: %v", err)
	}
	imported, err := Import(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	for _, it := range imported {
		if it.Request.ID != 0 {
			t.Errorf("imported request keeps id %d", it.Request.ID)
		}
	}
	ctx := context.Background()
	dst := openStore(t)
	if err := Save(ctx, dst, imported); err != nil {
		t.Fatalf("save: %v", err)
	}
	ids := make([]int64, len(imported))
	for i, it := range imported {
		ids[i] = it.Request.ID
	}
	back, err := Load(ctx, dst, ids)
	if err != nil {
		t.Fatal(err)
	}
	return back
}

func TestRoundTrip(t *testing.T) {
	_, items := seed(t)
	for _, tc := range []struct {
		name  string
		write func(*bytes.Buffer, []Item, Options) error
		prec  time.Duration
	}{
		{"har", func(b *bytes.Buffer, it []Item, o Options) error { return WriteHAR(b, it, o) }, time.Nanosecond},
		{"jsonl", func(b *bytes.Buffer, it []Item, o Options) error { return WriteJSONL(b, it, o) }, time.Nanosecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			back := roundTrip(t, items, func(b *bytes.Buffer) error { return tc.write(b, items, Options{NoRedact: true}) })
			compareItems(t, items, back, tc.prec)
			// A second export of the imported log is the same but for ids and ingress.
			again := roundTrip(t, back, func(b *bytes.Buffer) error { return tc.write(b, back, Options{NoRedact: true}) })
			compareItems(t, items, again, tc.prec)
		})
	}
}

// TestHARStartedDateTimeOnly checks that a HAR without hookctl's _receivedAt imports the
// millisecond startedDateTime.
func TestHARStartedDateTimeOnly(t *testing.T) {
	_, items := seed(t)
	var buf bytes.Buffer
	if err := WriteHAR(&buf, items[:1], Options{}); err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(buf.String(), `"_receivedAt"`, `"_x"`, 1)
	got, err := Import(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	want := items[0].Request.ReceivedAt.Truncate(time.Millisecond)
	if !got[0].Request.ReceivedAt.Equal(want) {
		t.Errorf("received at %s, want %s", got[0].Request.ReceivedAt.Format(time.RFC3339Nano), want.Format(time.RFC3339Nano))
	}
}
