package capture_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/hookctl/hookctl/internal/capture"
	"github.com/hookctl/hookctl/internal/store"
)

// stripeLikeBody is a 2 KB JSON event, the workload of the performance targets.
func stripeLikeBody() []byte {
	var b strings.Builder
	b.WriteString(`{"id":"evt_3Q1xYZ2eZvKYlo2C0abcdEFG","object":"event","api_version":"2024-06-20","created":1732791234,"type":"payment_intent.succeeded","data":{"object":{"id":"pi_3Q1xYZ2eZvKYlo2C0abcdEFG","object":"payment_intent","amount":4200,"currency":"usd","metadata":{`)
	for i := 0; b.Len() < 2000; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"key_%02d":"value %02d lorem ipsum dolor"`, i, i)
	}
	b.WriteString(`}}}}`)
	return []byte(b.String())
}

// BenchmarkIngress sends the same 2 KB POST through a bare httputil.ReverseProxy and through
// hookctl's capture handler (recording every request before forwarding it), to the same
// target, with 1 and 32 concurrent clients. Read the figures as a ratio within one run.
func BenchmarkIngress(b *testing.B) {
	body := stripeLikeBody()
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"received":true}`)
	}))
	defer target.Close()

	proxy := httputil.NewSingleHostReverseProxy(mustURL(b, target.URL))
	proxy.Transport = &http.Transport{MaxIdleConnsPerHost: 256} // the same pool size as hookctl's
	bare := httptest.NewServer(proxy)
	defer bare.Close()

	db, err := store.Open(context.Background(), store.Config{Path: filepath.Join(b.TempDir(), "bench.db")})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() {
		defer close(served)
		capture.Serve(ctx, ln, capture.New(capture.Config{Log: db, Target: mustURL(b, target.URL)}), capture.ServeConfig{})
	}()
	defer func() { cancel(); <-served }()

	for _, ingress := range []struct{ name, url string }{
		{"bare-proxy", bare.URL},
		{"hookctl", "http://" + ln.Addr().String()},
	} {
		for _, conc := range []int{1, 32} {
			b.Run(fmt.Sprintf("%s/conc=%d", ingress.name, conc), func(b *testing.B) {
				client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
				defer client.CloseIdleConnections()
				b.SetBytes(int64(len(body)))
				b.ReportAllocs()
				b.SetParallelism(max(1, conc/runtime.GOMAXPROCS(0)))
				if conc == 1 {
					for b.Loop() {
						send(b, client, ingress.url, body)
					}
					return
				}
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						send(b, client, ingress.url, body)
					}
				})
			})
		}
	}
}

func send(b *testing.B, c *http.Client, url string, body []byte) {
	resp, err := c.Post(url+"/webhooks/stripe", "application/json", bytes.NewReader(body))
	if err != nil {
		b.Error(err)
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Errorf("status %d", resp.StatusCode)
	}
}
