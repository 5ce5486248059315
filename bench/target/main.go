// Command target is the webhook consumer of the benchmark harness in bench: it reads each
// request's body and answers 200 {"received":true,"bytes":N}, N being the number of body bytes
// it read. With ?sha256=1 in the URL it adds the body's SHA-256, so that a harness can check a
// body passed through byte for byte.
//
// It listens on -addr (a free 127.0.0.1 port by default) and prints its URL as the first line
// of stdout once it accepts connections. SIGINT or SIGTERM stops it.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr); err != nil {
		log.Fatalf("target: %v", err)
	}
}

// run serves on addr until ctx ends.
func run(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(handle), ReadHeaderTimeout: 10 * time.Second}
	fmt.Printf("http://%s\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// answer is the target's response body.
type answer struct {
	Received bool   `json:"received"`
	Bytes    int64  `json:"bytes"`
	SHA256   string `json:"sha256,omitempty"`
}

// handle reads the whole body, then answers with its size (and hash when asked).
func handle(w http.ResponseWriter, r *http.Request) {
	var h hash.Hash
	dst := io.Discard
	if r.URL.Query().Get("sha256") == "1" {
		h = sha256.New()
		dst = h
	}
	n, err := io.Copy(dst, r.Body)
	if err != nil {
		http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
		return
	}
	a := answer{Received: true, Bytes: n}
	if h != nil {
		a.SHA256 = hex.EncodeToString(h.Sum(nil))
	}
	b, err := json.Marshal(a)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(append(b, '\n'))
}
