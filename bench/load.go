package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// eventSize is the size of the JSON event body every load request carries.
const eventSize = 2048

// idDigits is how many digits of the event id vary per request ("evt_" + idDigits digits).
const idDigits = 24

// event is the body of every load request and the headers that go with it: a Stripe
// payment_intent.succeeded event whose id changes per request, so that every request is a
// distinct event and never a redelivery.
type event struct {
	body   []byte
	idAt   int // offset of the id's digits in body
	header http.Header
}

// newEvent builds a Stripe-like event of exactly size bytes, padding its description.
func newEvent(size int, now time.Time) (*event, error) {
	const (
		head = `{"id":"evt_`
		mid  = `","object":"event","api_version":"2024-06-20","created":%d,"data":{"object":{` +
			`"id":"pi_3QPz7hLkdIwHu7ix1aB2cD3e","object":"payment_intent","amount":2000,` +
			`"amount_capturable":0,"amount_details":{"tip":{}},"amount_received":2000,"application":null,` +
			`"application_fee_amount":null,"automatic_payment_methods":{"allow_redirects":"always","enabled":true},` +
			`"canceled_at":null,"cancellation_reason":null,"capture_method":"automatic_async",` +
			`"client_secret":"pi_3QPz7hLkdIwHu7ix1aB2cD3e_secret_Vq8bQ2mRkTz0nLwYxE4cJ9pHs",` +
			`"confirmation_method":"automatic","created":%d,"currency":"usd","customer":"cus_RIa8bX9cY0dZ1e",` +
			`"description":"%s","invoice":null,"last_payment_error":null,"latest_charge":"ch_3QPz7hLkdIwHu7ix1fG4hJ5k",` +
			`"livemode":false,"metadata":{"order_id":"6735","cart_id":"cart_8f3a2c"},"next_action":null,` +
			`"on_behalf_of":null,"payment_method":"pm_1QPz7gLkdIwHu7ixR2sT3uV4","payment_method_configuration_details":` +
			`{"id":"pmc_1PgT4bLkdIwHu7ixW5xY6zA7","parent":null},"payment_method_options":{"card":{"installments":null,` +
			`"mandate_options":null,"network":null,"request_three_d_secure":"automatic"}},"payment_method_types":["card"],` +
			`"processing":null,"receipt_email":"jenny.rosen@example.com","review":null,"setup_future_usage":null,` +
			`"shipping":{"address":{"city":"South San Francisco","country":"US","line1":"354 Oyster Point Blvd",` +
			`"line2":null,"postal_code":"94080","state":"CA"},"carrier":null,"name":"Jenny Rosen","phone":null,` +
			`"tracking_number":null},"source":null,"statement_descriptor":null,"statement_descriptor_suffix":null,` +
			`"status":"succeeded","transfer_data":null,"transfer_group":null}},"livemode":false,"pending_webhooks":1,` +
			`"request":{"id":"req_Xo9Rw8qLmN2bVc","idempotency_key":"a4f7c2e1-58b9-4d3a-9e6f-0c1b2d3e4f5a"},` +
			`"type":"payment_intent.succeeded"}`
		words = "Order 6735: 2 x Everyday Widget (blue), 1 x Gadget Pro, gift wrap; "
	)
	created := now.Unix()
	bare := len(head) + idDigits + len(fmt.Sprintf(mid, created, created, ""))
	pad := size - bare
	if pad < 0 {
		return nil, fmt.Errorf("build event: %d bytes is less than the %d an event needs", size, bare)
	}
	desc := strings.Repeat(words, pad/len(words)+1)[:pad]
	body := []byte(head + strings.Repeat("0", idDigits) + fmt.Sprintf(mid, created, created, desc))
	mac := hmac.New(sha256.New, []byte("whsec_hookctl_bench"))
	fmt.Fprintf(mac, "%d.%s", created, body)
	return &event{
		body: body,
		idAt: len(head),
		header: http.Header{
			"Content-Type":     {"application/json; charset=utf-8"},
			"User-Agent":       {"Stripe/1.0 (+https://stripe.com/docs/webhooks)"},
			"Accept":           {"*/*; q=0.5, application/xml"},
			"Cache-Control":    {"no-cache"},
			"Stripe-Signature": {fmt.Sprintf("t=%d,v1=%s", created, hex.EncodeToString(mac.Sum(nil)))},
		},
	}, nil
}

// withID returns a copy of the body whose event id ends in the decimal digits of n.
func (e *event) withID(n uint64) []byte {
	b := slices.Clone(e.body)
	digits := b[e.idAt : e.idAt+idDigits]
	for i := len(digits) - 1; i >= 0; i-- {
		digits[i] = byte('0' + n%10)
		n /= 10
	}
	return b
}

// loadConfig describes one load run.
type loadConfig struct {
	url         string
	concurrency int
	warmup      time.Duration
	duration    time.Duration
	event       *event
	ids         *atomic.Uint64 // the event id counter, shared by every run of the harness
}

// loadStats is what a load run measured: only responses that arrived inside the measurement
// window count.
type loadStats struct {
	ok        int             // 2xx responses
	errors    int             // requests that got no response
	non2xx    int             // responses with another status
	firstErr  string          // the first error or unexpected status, for the report
	latencies []time.Duration // of every response, sorted
}

// worker is what one load goroutine measured.
type worker struct {
	latencies []time.Duration
	ok        int
	errors    int
	non2xx    int
	firstErr  string
}

// runLoad runs cfg.concurrency goroutines, each sending one request after another on its
// keep-alive connection, for the warm-up and then the measurement window.
func runLoad(ctx context.Context, cfg loadConfig) loadStats {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		DisableCompression:  true,
		MaxIdleConns:        cfg.concurrency,
		MaxIdleConnsPerHost: cfg.concurrency,
		IdleConnTimeout:     90 * time.Second,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	from := time.Now().Add(cfg.warmup)
	until := from.Add(cfg.duration)
	// A guess at the samples a goroutine takes, so that appending rarely grows the slice.
	perWorker := int(cfg.duration/time.Millisecond)*4/cfg.concurrency + 64
	workers := make([]worker, cfg.concurrency)
	var wg sync.WaitGroup
	for i := range workers {
		w := &workers[i]
		w.latencies = make([]time.Duration, 0, perWorker)
		wg.Go(func() { w.run(ctx, client, cfg, from, until) })
	}
	wg.Wait()
	var st loadStats
	for _, w := range workers {
		st.ok += w.ok
		st.errors += w.errors
		st.non2xx += w.non2xx
		if st.firstErr == "" {
			st.firstErr = w.firstErr
		}
		st.latencies = append(st.latencies, w.latencies...)
	}
	slices.Sort(st.latencies)
	return st
}

// run sends requests until the window ends, keeping what ends inside [from, until].
func (w *worker) run(ctx context.Context, client *http.Client, cfg loadConfig, from, until time.Time) {
	header := cfg.event.header.Clone()
	for ctx.Err() == nil {
		start := time.Now()
		if !start.Before(until) {
			return
		}
		status, err := post(ctx, client, cfg.url, cfg.event.withID(cfg.ids.Add(1)), header)
		end := time.Now()
		if end.Before(from) || end.After(until) {
			continue
		}
		switch {
		case err != nil:
			w.errors++
			if w.firstErr == "" {
				w.firstErr = err.Error()
			}
			continue
		case status/100 == 2:
			w.ok++
		default:
			w.non2xx++
			if w.firstErr == "" {
				w.firstErr = fmt.Sprintf("status %d", status)
			}
		}
		w.latencies = append(w.latencies, end.Sub(start))
	}
}

// post sends body to url and reads the whole response.
func post(ctx context.Context, client *http.Client, url string, body []byte, header http.Header) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header = header
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return 0, fmt.Errorf("read response: %w", err)
	}
	return resp.StatusCode, nil
}

// percentile is the nearest-rank q-quantile of sorted samples, 0 when there are none.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
