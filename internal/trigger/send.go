package trigger

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Sent is the receiver's answer to a triggered request.
type Sent struct {
	// Status is the HTTP status the receiver answered.
	Status int
	// RequestID is the X-Hookctl-Request-Id the receiver answered with when it is a hookctl
	// listen: the request's id in that log.
	RequestID string
	// Body is the start of the answer's body.
	Body []byte
}

// Send sends b and returns the answer. It gives up after 30 s or when ctx ends.
func Send(ctx context.Context, b *Built) (*Sent, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, b.Method, b.URL, bytes.NewReader(b.Body))
	if err != nil {
		return nil, fmt.Errorf("send to %s: %w", b.URL, err)
	}
	req.Header = b.Header.Clone()
	resp, err := (&http.Client{Transport: &http.Transport{Proxy: nil, DisableCompression: true}}).Do(req)
	if err != nil {
		return nil, fmt.Errorf("send to %s: %w (is 'hookctl listen' running? use --to for another receiver)", b.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return &Sent{Status: resp.StatusCode, RequestID: resp.Header.Get("X-Hookctl-Request-Id"), Body: body}, nil
}
