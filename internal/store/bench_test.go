package store

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hookctl/hookctl/internal/webhook"
)

// benchWriters is roughly how many goroutines the parallel benchmarks write from.
const benchWriters = 32

// benchRequest is a typical webhook: a 2 KB JSON body and a dozen headers.
func benchRequest() *webhook.Request {
	var body strings.Builder
	body.WriteString(`{"id":"evt_1NqXy2","object":"event","type":"payment_intent.succeeded","data":{"object":{`)
	for i := 0; body.Len() < 2048-40; i++ {
		fmt.Fprintf(&body, `"field_%03d":"value %d lorem ipsum",`, i, i)
	}
	body.WriteString(`"amount":1099}}}`)
	b := []byte(body.String())[:2048]
	return &webhook.Request{
		ReceivedAt: time.Now(),
		Method:     "POST",
		URI:        "/webhooks/stripe?source=bench",
		Proto:      "HTTP/1.1",
		Host:       "abc123.ngrok.app",
		Header: webhook.Headers{
			{Name: "Host", Value: "abc123.ngrok.app"},
			{Name: "User-Agent", Value: "Stripe/1.0 (+https://stripe.com/docs/webhooks)"},
			{Name: "Content-Length", Value: "2048"},
			{Name: "Accept", Value: "*/*; q=0.5, application/xml"},
			{Name: "Cache-Control", Value: "no-cache"},
			{Name: "Content-Type", Value: "application/json; charset=utf-8"},
			{Name: "Stripe-Signature", Value: "t=1492774577,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd,v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39"},
			{Name: "X-Forwarded-For", Value: "54.187.174.169"},
			{Name: "X-Forwarded-Host", Value: "abc123.ngrok.app"},
			{Name: "X-Forwarded-Proto", Value: "https"},
			{Name: "Accept-Encoding", Value: "gzip"},
			{Name: "Traceparent", Value: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
		},
		Body:       b,
		BodySize:   int64(len(b)),
		RemoteAddr: "54.187.174.169:41234",
		Ingress:    webhook.IngressNgrok,
		Provider:   "stripe",
		EventType:  "payment_intent.succeeded",
		DeliveryID: "evt_1NqXy2",
		Signature:  webhook.SignatureValid,
	}
}

// setParallelism makes b.RunParallel use about benchWriters goroutines.
func setParallelism(b *testing.B) {
	p := (benchWriters + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0)
	b.SetParallelism(p)
}

// BenchmarkAddRequest compares group commit (Store.AddRequest) with the naive way, one
// autocommitted INSERT per request on a plain *sql.DB, on the same schema, pragmas and row
// encoding, serially and from ~32 goroutines, with synchronous=NORMAL and FULL.
func BenchmarkAddRequest(b *testing.B) {
	ctx := context.Background()
	for _, syncMode := range []string{"normal", "full"} {
		b.Run("sync="+syncMode, func(b *testing.B) {
			b.Run("store/serial", func(b *testing.B) {
				s := benchStore(b, syncMode)
				r := benchRequest()
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					r.ID = 0
					if err := s.AddRequest(ctx, r); err != nil {
						b.Fatal(err)
					}
				}
				reportTx(b, s)
			})
			b.Run("store/parallel", func(b *testing.B) {
				s := benchStore(b, syncMode)
				setParallelism(b)
				b.ReportAllocs()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					r := benchRequest()
					for pb.Next() {
						if err := s.AddRequest(ctx, r); err != nil {
							b.Error(err)
							return
						}
					}
				})
				reportTx(b, s)
			})
			for _, conns := range []int{1, 0} {
				name := "naive"
				if conns == 1 {
					name = "naive-1conn"
				}
				b.Run(name+"/serial", func(b *testing.B) {
					db := naiveDB(b, syncMode, conns)
					r := benchRequest()
					b.ReportAllocs()
					b.ResetTimer()
					for b.Loop() {
						if err := naiveInsert(ctx, db, r); err != nil {
							b.Fatal(err)
						}
					}
				})
				b.Run(name+"/parallel", func(b *testing.B) {
					db := naiveDB(b, syncMode, conns)
					setParallelism(b)
					b.ReportAllocs()
					b.ResetTimer()
					b.RunParallel(func(pb *testing.PB) {
						r := benchRequest()
						for pb.Next() {
							if err := naiveInsert(ctx, db, r); err != nil {
								b.Error(err)
								return
							}
						}
					})
				})
			}
		})
	}
}

func benchStore(b *testing.B, syncMode string) *Store {
	b.Helper()
	s, err := Open(context.Background(), Config{Path: filepath.Join(b.TempDir(), "bench.db"), Synchronous: syncMode})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// reportTx reports how many requests shared a transaction on average.
func reportTx(b *testing.B, s *Store) {
	if n := s.batches.Load(); n > 0 {
		b.ReportMetric(float64(b.N)/float64(n), "req/tx")
	}
}

// naiveDB opens a migrated log as a plain *sql.DB with the Store's pragmas (WAL, busy timeout,
// synchronous) but default auto-checkpointing; maxConns 0 leaves the pool unlimited.
func naiveDB(b *testing.B, syncMode string, maxConns int) *sql.DB {
	b.Helper()
	path := filepath.Join(b.TempDir(), "naive.db")
	s, err := Open(context.Background(), Config{Path: path})
	if err != nil {
		b.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", dsn(path, "busy_timeout(5000)", "foreign_keys(1)", "synchronous("+syncMode+")"))
	if err != nil {
		b.Fatal(err)
	}
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(max(maxConns, benchWriters))
	b.Cleanup(func() { db.Close() })
	return db
}

func naiveInsert(ctx context.Context, db *sql.DB, r *webhook.Request) error {
	args, err := requestArgs(r)
	if err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, insertRequestSQL, args...)
	return err
}

// benchListRows is the size of the log BenchmarkList reads.
const benchListRows = 100_000

// benchFewEvery is the period of the requests whose body holds the word "chargeback": a few
// (ten) requests spread over the log, for the search benchmarks.
const benchFewEvery = 10_000

// benchRare is the index of the one request of BenchmarkList's log that the rare filters
// find: a quarter of the way in, so that they read three quarters of the log.
const benchRare = benchListRows / 4

// BenchmarkList reads a page of summaries from a log of 100,000 requests (2 KB bodies, a dozen
// headers, one attempt each and a replay for every third), at the newest end, deep in the
// middle, since a recent id, at the oldest end and towards newer rows from the middle; then
// with filters, which walk the log until a page matches: ones that match every request (their
// overhead), one in 15 (status 5xx), and only one request (a quarter of the way in, so they
// read three quarters of the log) or none (all of it); full-text searches, which walk only
// the requests that hold the words (every one, ten, one or none); and counts the log.
func BenchmarkList(b *testing.B) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "list.db")
	s, err := Open(ctx, Config{Path: path})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	start := time.Now()
	tmpl := benchRequest()
	var rare *webhook.Request
	err = Seed(ctx, s, benchListRows, func(i int) *webhook.Request {
		r := *tmpl
		r.ReceivedAt = tmpl.ReceivedAt.Add(time.Duration(i) * time.Millisecond)
		r.DeliveryID = fmt.Sprintf("evt_%d", i)
		if i == benchRare {
			r.Method, r.URI, r.Provider, r.EventType = "GET", "/webhooks/github?source=bench", "github", "ping"
			r.Body = bytes.Replace(r.Body, []byte("lorem ipsum"), []byte("Card Declined"), 1)
			r.BodySize = int64(len(r.Body))
			rare = &r
		}
		if i%benchFewEvery == benchFewEvery/2 {
			r.Body = bytes.Replace(r.Body, []byte("lorem ipsum"), []byte("chargeback ipsum"), 1)
		}
		return &r
	})
	if err != nil {
		b.Fatal(err)
	}
	// Attempts in bulk, straight into the file: the forward attempt fails with 503 for one
	// request in ten, and with 404 for the rare one; every third request has a later replay
	// that got no response.
	raw, err := sql.Open("sqlite", dsn(path, "busy_timeout(5000)"))
	if err != nil {
		b.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO attempts (request_id, kind, target, started_at, duration, status, response_headers, response_body_size, response_body)
		 SELECT id, 'forward', 'http://localhost:3000/webhooks/stripe', received_at, 12000000,
		 	CASE WHEN id = ?1 THEN 404 WHEN id % 10 = 7 THEN 503 ELSE 200 END,
		 	'[["Content-Type","text/plain"]]', 2, 'ok' FROM requests`,
		`INSERT INTO attempts (request_id, kind, target, started_at, duration, status, error)
		 SELECT id, 'replay', 'http://localhost:3000/webhooks/stripe', received_at, 3000000, 0, 'connection refused' FROM requests WHERE id % 3 = 0 AND id <> ?1`,
	} {
		if _, err := raw.Exec(q, rare.ID); err != nil {
			b.Fatal(err)
		}
	}
	raw.Close()
	b.Logf("seeded %d requests in %v", benchListRows, time.Since(start).Round(time.Millisecond))

	newest, err := s.List(ctx, Filter{Limit: 1})
	if err != nil || len(newest) != 1 {
		b.Fatal(err)
	}
	top := newest[0].ID
	for _, tc := range []struct {
		name string
		f    Filter
		want int // how many requests the page holds
	}{
		{"newest50", Filter{}, 50},
		{"deep50", Filter{BeforeID: top / 2}, 50},
		{"since", Filter{AfterID: top - 20}, 20},
		{"newest500", Filter{Limit: 500}, 500},
		{"oldest50", Filter{Oldest: true}, 50},
		{"newer50", Filter{Oldest: true, AfterID: top / 2}, 50},
		{"method=POST/all", Filter{Method: "post"}, 50},
		{"event=payment_intent.*/all", Filter{EventType: "payment_intent.*"}, 50},
		{"path=stripe/all", Filter{Path: "stripe"}, 50},
		{"text=lorem/all", Filter{Text: "LOREM"}, 50},
		{"status=5xx", Filter{Status: "5xx"}, 50},
		{"status=5xx/deep", Filter{Status: "5xx", BeforeID: top / 2}, 50},
		{"status=5xx+text=lorem", Filter{Status: "5xx", Text: "lorem"}, 50},
		{"method=GET/one", Filter{Method: "GET"}, 1},
		{"path=github/one", Filter{Path: "github"}, 1},
		{"status=404/one", Filter{Status: "404"}, 1},
		{"text=card-declined/one", Filter{Text: "card declined"}, 1},
		{"text=missing/none", Filter{Text: "no such text"}, 0},
		{"status=5xx+text=card-declined/none", Filter{Status: "5xx", Text: "card declined"}, 0},
		{"status=rejected/none", Filter{Status: "rejected"}, 0},
		{"search=lorem/all", Filter{Search: "lorem"}, 50},
		{"search=lorem/deep", Filter{Search: "lorem", BeforeID: top / 2}, 50},
		{"search=lorem/oldest", Filter{Search: "lorem", Oldest: true}, 50},
		{"search=chargeback/few", Filter{Search: "chargeback"}, benchListRows / benchFewEvery},
		{"search=declined/one", Filter{Search: "declined"}, 1},
		{"search=card-declined-phrase/one", Filter{Search: `"card declined"`}, 1},
		{"search=decl*/one", Filter{Search: "decl*"}, 1},
		{"search=lorem+status=404/one", Filter{Search: "lorem", Status: "404"}, 1},
		{"search=missing/none", Filter{Search: "nosuchword"}, 0},
		{"search=lorem+missing/none", Filter{Search: "lorem nosuchword"}, 0},
		{"provider=github/one", Filter{Provider: "GitHub"}, 1},
		{"since=newest/20", Filter{Since: tmpl.ReceivedAt.Add((benchListRows - 20) * time.Millisecond)}, 20},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				l, err := s.List(ctx, tc.f)
				if err != nil || len(l) != tc.want {
					b.Fatal(len(l), err)
				}
			}
		})
	}
	b.Run("count", func(b *testing.B) {
		for b.Loop() {
			if n, err := s.Count(ctx); err != nil || n != benchListRows {
				b.Fatal(n, err)
			}
		}
	})
	b.Run("request", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Request(ctx, top/2); err != nil {
				b.Fatal(err)
			}
		}
	})
}
