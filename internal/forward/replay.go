package forward

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"

	"github.com/hookctl/hookctl/internal/webhook"
)

// ErrNeverForwarded is returned by Replay for a request that has no forward attempt to take
// the target from, when no other target was given.
var ErrNeverForwarded = errors.New("was never forwarded")

// Log is the part of the request log that Replay needs.
type Log interface {
	Request(ctx context.Context, id int64) (*webhook.Request, error)
	LastAttempt(ctx context.Context, requestID int64, kind webhook.AttemptKind) (*webhook.Attempt, error)
	AddAttempt(ctx context.Context, a *webhook.Attempt) error
}

// Replay sends the stored request id again and records the attempt, of kind replay. The
// request goes to to (its path appended to to's path) when to is not nil, and otherwise to the
// URL of its latest forward. It returns the request and the recorded attempt; an attempt that
// got no response is returned without error, with its Error set.
func (f *Forwarder) Replay(ctx context.Context, log Log, id int64, to *url.URL) (*webhook.Request, *webhook.Attempt, error) {
	req, err := log.Request(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	var target string
	if to != nil {
		target = JoinURI(to, req.URI)
	} else {
		last, err := log.LastAttempt(ctx, id, webhook.KindForward)
		if err != nil || last.Target == "" {
			return req, nil, fmt.Errorf("request %d %w: give a target with --to", id, ErrNeverForwarded)
		}
		target = last.Target
	}
	res := f.Send(ctx, req, target, webhook.KindReplay)
	res.Finish(io.Discard)
	if err := log.AddAttempt(ctx, &res.Attempt); err != nil {
		return req, &res.Attempt, fmt.Errorf("record replay of request %d: %w", id, err)
	}
	return req, &res.Attempt, nil
}
