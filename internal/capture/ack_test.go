package capture_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hookctl/hookctl/internal/capture"
	"github.com/hookctl/hookctl/internal/webhook"
)

// post sends body to url with the given headers and returns the status, the answer's body and
// the request id it names.
func post(t *testing.T, url, body string, header ...string) (int, string, http.Header, int64) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	id, _ := strconv.ParseInt(resp.Header.Get(capture.RequestIDHeader), 10, 64)
	return resp.StatusCode, string(b), resp.Header, id
}

// TestAck answers at once with the configured answer and queues the request for delivery,
// without contacting the target.
func TestAck(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer srv.Close()
	target := mustURL(t, srv.URL+"/hooks") // delivery is not the handler's job: never contacted
	for _, tc := range []struct {
		name     string
		ack      capture.Ack
		status   int
		body     string
		ctype    string
		queued   bool
		noTarget bool
	}{
		{"defaults", capture.Ack{}, 200, `{"received":true}`, "application/json", true, false},
		{"configured", capture.Ack{Status: 202, Body: []byte("ok"), ContentType: "text/plain"}, 202, "ok", "text/plain", true, false},
		{"record only", capture.Ack{}, 200, `{"received":true}`, "application/json", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			woken := 0
			ack := tc.ack
			ack.Queued = func() { woken++ }
			cfg := capture.Config{Target: target, Ack: &ack}
			if tc.noTarget {
				cfg.Target = nil
			}
			r := newRig(t, cfg, capture.ServeConfig{})
			status, body, h, id := post(t, r.url+"/x?y=1", "payload")
			if status != tc.status || body != tc.body || h.Get("Content-Type") != tc.ctype || id == 0 {
				t.Fatalf("answer %d %q %q id %d; want %d %q %q", status, body, h.Get("Content-Type"), id, tc.status, tc.body, tc.ctype)
			}
			ctx := context.Background()
			d, err := r.log.Delivery(ctx, id)
			if !tc.queued {
				if err == nil || woken != 0 {
					t.Fatalf("queued without a target: %+v, woken %d", d, woken)
				}
				return
			}
			if err != nil || d.State != webhook.DeliveryPending || d.Target != target.String() || woken != 1 {
				t.Fatalf("delivery %+v, %v, woken %d", d, err, woken)
			}
			if _, err := r.log.LastAttempt(ctx, id, ""); err == nil {
				t.Error("the handler made an attempt in ack mode")
			}
			ev := <-r.events
			if ev.Kind != webhook.EventRequest || ev.Delivery == nil || ev.Delivery.State != webhook.DeliveryPending {
				t.Errorf("event %+v, want a request event with its pending delivery", ev)
			}
		})
	}
	if hits.Load() != 0 {
		t.Fatal("target contacted")
	}
}

// TestDuplicates sends redeliveries of one event: each is recorded and marked, and with
// Dedupe it is neither forwarded nor queued.
func TestDuplicates(t *testing.T) {
	for _, tc := range []struct {
		name     string
		dedupe   bool
		ack      bool
		forwards int // how many of the three copies reach the target
	}{
		{"marked, still forwarded", false, false, 3},
		{"dedupe", true, false, 1},
		{"dedupe with ack", true, true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := make(chan received, 10)
			srv := echoTarget(t, got)
			cfg := capture.Config{Target: mustURL(t, srv.URL), Dedupe: tc.dedupe}
			if tc.ack {
				cfg.Ack = &capture.Ack{}
			}
			r := newRig(t, cfg, capture.ServeConfig{})
			ctx := context.Background()
			var ids []int64
			// The same GitHub delivery three times, then an unrelated body.
			for range 3 {
				status, body, h, id := post(t, r.url+"/gh", `{"zen":"hi"}`, "X-GitHub-Event", "ping", "X-GitHub-Delivery", "d-42",
					"X-Hub-Signature-256", "sha256=00")
				if status/100 != 2 || id == 0 {
					t.Fatalf("answer %d %q", status, body)
				}
				if len(ids) > 0 && tc.dedupe {
					if h.Get(capture.DuplicateOfHeader) != strconv.FormatInt(ids[0], 10) || !strings.Contains(body, `"duplicate_of":`) {
						t.Errorf("redelivery answer %q, headers %v", body, h)
					}
				}
				ids = append(ids, id)
			}
			for i, id := range ids {
				req, err := r.log.Request(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				want := ids[0]
				if i == 0 {
					want = 0
				}
				if req.DuplicateOf != want || req.Provider != "github" || req.DeliveryID != "d-42" {
					t.Errorf("request %d: duplicate of %d (provider %q, delivery %q), want %d", id, req.DuplicateOf, req.Provider, req.DeliveryID, want)
				}
				_, derr := r.log.Delivery(ctx, id)
				if queued := derr == nil; queued != (tc.ack && (i == 0 || !tc.dedupe)) {
					t.Errorf("request %d queued = %v", id, queued)
				}
			}
			if !tc.ack {
				if n := len(got); n != tc.forwards {
					t.Errorf("target got %d requests, want %d", n, tc.forwards)
				}
			}
		})
	}
}
