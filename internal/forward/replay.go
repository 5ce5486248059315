package forward

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"

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

// Prepare changes the copy of a request that a replay sends, such as a fresh signature; the
// request in the log stays as it was received.
type Prepare func(r *webhook.Request) error

// Replay sends the stored request id again and records the attempt, of kind replay. The
// request goes to to (its path appended to to's path) when to is not nil, and otherwise to the
// URL of its latest forward; prepare, when not nil, changes the copy that is sent. It returns
// the request and the recorded attempt; an attempt that got no response is returned without
// error, with its Error set.
func (f *Forwarder) Replay(ctx context.Context, log Log, id int64, to *url.URL, prepare Prepare) (*webhook.Request, *webhook.Attempt, error) {
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
	sent := req
	if prepare != nil {
		cp := *req
		cp.Header = slices.Clone(req.Header)
		if err := prepare(&cp); err != nil {
			return req, nil, fmt.Errorf("replay request %d: %w", id, err)
		}
		sent = &cp
	}
	res := f.Send(ctx, sent, target, webhook.KindReplay)
	res.Finish(io.Discard)
	if err := log.AddAttempt(ctx, &res.Attempt); err != nil {
		return req, &res.Attempt, fmt.Errorf("record replay of request %d: %w", id, err)
	}
	return req, &res.Attempt, nil
}

// EditLog is the part of the request log that ReplayEdited needs.
type EditLog interface {
	Log
	AddRequest(ctx context.Context, r *webhook.Request) error
}

// ReplayEdited records a copy of request id with body in place of its own (ingress "edit",
// Content-Length adjusted, the original untouched) and replays the copy like Replay: to to,
// or to the URL of the original's latest forward, changed by prepare when it is not nil (a
// signature over the edited body). It returns the copy and its attempt.
func (f *Forwarder) ReplayEdited(ctx context.Context, log EditLog, id int64, body []byte, to *url.URL, prepare Prepare) (*webhook.Request, *webhook.Attempt, error) {
	orig, err := log.Request(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	target := ""
	if to != nil {
		target = JoinURI(to, orig.URI)
	} else if last, err := log.LastAttempt(ctx, id, webhook.KindForward); err == nil && last.Target != "" {
		target = last.Target
	} else {
		return orig, nil, fmt.Errorf("request %d %w: give a target", id, ErrNeverForwarded)
	}
	cp := *orig
	cp.ID = 0
	cp.ReceivedAt = f.now().UTC()
	cp.Ingress = webhook.IngressEdit
	cp.Body, cp.BodySize = body, int64(len(body))
	cp.Rejected = ""
	cp.Signature, cp.SignatureReason = webhook.SignatureUnchecked, ""
	cp.Header = make(webhook.Headers, len(orig.Header))
	for i, h := range orig.Header {
		if strings.EqualFold(h.Name, "Content-Length") {
			h.Value = strconv.Itoa(len(body))
		}
		cp.Header[i] = h
	}
	if prepare != nil {
		if err := prepare(&cp); err != nil {
			return orig, nil, fmt.Errorf("replay edited copy of request %d: %w", id, err)
		}
	}
	if err := log.AddRequest(ctx, &cp); err != nil {
		return nil, nil, fmt.Errorf("record edited copy of request %d: %w", id, err)
	}
	res := f.Send(ctx, &cp, target, webhook.KindReplay)
	res.Finish(io.Discard)
	if err := log.AddAttempt(ctx, &res.Attempt); err != nil {
		return &cp, &res.Attempt, fmt.Errorf("record replay of request %d: %w", cp.ID, err)
	}
	return &cp, &res.Attempt, nil
}

// LogReplayer replays the requests of one log, taking targets as users type them. It is
// what the terminal UI replays through.
type LogReplayer struct {
	Forwarder *Forwarder
	Log       EditLog
	// Resign gives a replay a fresh signature when asked to (see Resigner); nil means
	// replays go as recorded.
	Resign Prepare
}

// Replay replays request id to the target to (a port, host:port or URL), or to its original
// target when to is "", re-signed when resign is true.
func (r LogReplayer) Replay(ctx context.Context, id int64, to string, resign bool) (*webhook.Attempt, error) {
	u, err := parseOptionalTarget(to)
	if err != nil {
		return nil, err
	}
	var prepare Prepare
	if resign {
		if r.Resign == nil {
			return nil, fmt.Errorf("re-sign request %d: %w", id, ErrNoSecret)
		}
		prepare = r.Resign
	}
	_, a, err := r.Forwarder.Replay(ctx, r.Log, id, u, prepare)
	return a, err
}

// ReplayEdited records and replays an edited copy of request id; see Forwarder.ReplayEdited.
// The copy is re-signed over its new body whenever Resign has the provider's secret: the
// recorded signature cannot match an edited body.
func (r LogReplayer) ReplayEdited(ctx context.Context, id int64, body []byte, to string) (int64, *webhook.Attempt, error) {
	u, err := parseOptionalTarget(to)
	if err != nil {
		return 0, nil, err
	}
	cp, a, err := r.Forwarder.ReplayEdited(ctx, r.Log, id, body, u, BestEffort(r.Resign))
	if cp == nil || err != nil && a == nil {
		return 0, nil, err
	}
	return cp.ID, a, err
}

func parseOptionalTarget(to string) (*url.URL, error) {
	if to == "" {
		return nil, nil
	}
	return ParseTarget(to)
}
