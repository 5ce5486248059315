package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/hookctl/hookctl/internal/webhook"
)

// The writer's statements for the relay (prepared in newWriter).
const (
	insertRelayChannelSQL = "INSERT INTO relay_channels (id, secret_hash, created_at) VALUES (?,?,?)"

	insertRelayRequestSQL = `INSERT INTO relay_requests
		(channel_id, received_at, method, uri, proto, host, remote_addr, headers, body)
		VALUES (?,?,?,?,?,?,?,?,?)`

	deleteRelayRequestSQL  = "DELETE FROM relay_requests WHERE channel_id = ? AND seq = ?"
	expireRelayRequestsSQL = "DELETE FROM relay_requests WHERE received_at < ?"
)

// relayOpName names the operation of a relay op for error messages, or returns "" for the
// other kinds.
func relayOpName(k opKind) string {
	switch k {
	case opRelayChannel:
		return "create relay channel"
	case opRelayRequest:
		return "buffer relay request"
	case opRelayRemove:
		return "remove relay request"
	case opRelayExpire:
		return "expire relay requests"
	}
	return ""
}

// RequestIDByRef returns the id of the request stored with the given ingress ref (the oldest,
// should there be several). A ref that is not in the log, or "", gives an error wrapping
// ErrNotFound.
func (s *Store) RequestIDByRef(ctx context.Context, ref string) (int64, error) {
	if err := s.checkOpen("find request"); err != nil {
		return 0, err
	}
	var id int64
	// "ingress_ref <> ''" lets SQLite use the partial index.
	err := s.rd.QueryRowContext(ctx,
		"SELECT id FROM requests WHERE ingress_ref = ? AND ingress_ref <> '' ORDER BY id LIMIT 1", ref).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("request with ingress ref %q: %w", ref, ErrNotFound)
	}
	if err != nil {
		return 0, wrap("find request", err)
	}
	return id, nil
}

// write queues o for the writer, waits for its commit and returns the op's result.
func (s *Store) write(ctx context.Context, name string, o *op) (int64, error) {
	o.done = make(chan opResult, 1)
	n, err := s.submit(ctx, o)
	if err != nil && (errors.Is(err, ErrClosed) || errors.Is(err, ErrReadOnly)) {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	return n, err
}

// RelayChannel is a channel of the relay server: the id in its public URL and a hash of the
// secret its client connects with.
type RelayChannel struct {
	// ID is the channel's id, as in <public-url>/c/<id>.
	ID string
	// SecretHash is a hash of the channel's secret; the secret itself is never stored.
	SecretHash []byte
	// CreatedAt is when the channel was created.
	CreatedAt time.Time
}

// CreateRelayChannel stores a new channel. An id that exists already is an error.
func (s *Store) CreateRelayChannel(ctx context.Context, c RelayChannel) error {
	if c.ID == "" {
		return errors.New("create relay channel: empty id")
	}
	if len(c.SecretHash) == 0 {
		return errors.New("create relay channel: empty secret hash")
	}
	at, err := timeArg("created_at", c.CreatedAt)
	if err != nil {
		return fmt.Errorf("create relay channel: %w", err)
	}
	_, err = s.write(ctx, "create relay channel", &op{kind: opRelayChannel, args: []any{c.ID, c.SecretHash, at}})
	return err
}

// RelayChannel returns the channel with the given id, or an error wrapping ErrNotFound.
func (s *Store) RelayChannel(ctx context.Context, id string) (RelayChannel, error) {
	if err := s.checkOpen("read relay channel"); err != nil {
		return RelayChannel{}, err
	}
	c := RelayChannel{ID: id}
	var at sql.NullInt64
	err := s.rd.QueryRowContext(ctx, "SELECT secret_hash, created_at FROM relay_channels WHERE id = ?", id).
		Scan(&c.SecretHash, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return RelayChannel{}, fmt.Errorf("relay channel %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return RelayChannel{}, wrap("read relay channel", err)
	}
	c.CreatedAt = timeOf(at)
	return c, nil
}

// BufferRelayRequest stores r in the relay's buffer for the channel and returns its sequence
// number, once committed (group-committed with other writes). Sequence numbers increase over
// the whole buffer and are never reused, even after removals or a restart. r's ID and
// ingress-side fields (provider, signature, ...) are not stored. The channel must exist.
func (s *Store) BufferRelayRequest(ctx context.Context, channelID string, r *webhook.Request) (int64, error) {
	if r == nil {
		return 0, errors.New("buffer relay request: nil request")
	}
	at, err := timeArg("received_at", r.ReceivedAt)
	if err != nil {
		return 0, fmt.Errorf("buffer relay request: %w", err)
	}
	body := r.Body
	if body == nil {
		body = []byte{}
	}
	args := []any{channelID, at, r.Method, r.URI, r.Proto, r.Host, r.RemoteAddr, encodeHeaders(r.Header), body}
	seq, err := s.write(ctx, "buffer relay request", &op{kind: opRelayRequest, args: args})
	if err != nil {
		if isForeignKey(err) {
			return 0, fmt.Errorf("buffer relay request: channel %q: %w", channelID, ErrNotFound)
		}
		return 0, err
	}
	return seq, nil
}

// PendingRelayRequests returns up to limit buffered requests of the channel with a sequence
// number above afterSeq, in ascending order. Each request's ID is its sequence number and its
// Ingress is webhook.IngressRelay. limit 0 (or less) means 100.
func (s *Store) PendingRelayRequests(ctx context.Context, channelID string, afterSeq int64, limit int) ([]*webhook.Request, error) {
	if err := s.checkOpen("read relay requests"); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.rd.QueryContext(ctx, `SELECT seq, received_at, method, uri, proto, host, remote_addr, headers, body
		FROM relay_requests WHERE channel_id = ? AND seq > ? ORDER BY seq LIMIT ?`, channelID, afterSeq, limit)
	if err != nil {
		return nil, wrap("read relay requests", err)
	}
	defer rows.Close()
	var out []*webhook.Request
	for rows.Next() {
		var (
			r       webhook.Request
			at      sql.NullInt64
			headers []byte
		)
		if err := rows.Scan(&r.ID, &at, &r.Method, &r.URI, &r.Proto, &r.Host, &r.RemoteAddr, &headers, &r.Body); err != nil {
			return nil, wrap("read relay requests", err)
		}
		if r.Body == nil {
			r.Body = []byte{}
		}
		r.BodySize = int64(len(r.Body))
		r.ReceivedAt = timeOf(at)
		r.Ingress = webhook.IngressRelay
		r.Signature = webhook.SignatureUnchecked
		if r.Header, err = decodeHeaders(headers); err != nil {
			return nil, fmt.Errorf("read relay requests: seq %d: %w", r.ID, err)
		}
		out = append(out, &r)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("read relay requests", err)
	}
	return out, nil
}

// RemoveRelayRequest deletes a buffered request once its client has recorded it. Removing a
// request that is not (or no longer) buffered is not an error, so that a repeated
// acknowledgement is harmless.
func (s *Store) RemoveRelayRequest(ctx context.Context, channelID string, seq int64) error {
	_, err := s.write(ctx, "remove relay request", &op{kind: opRelayRemove, args: []any{channelID, seq}})
	return err
}

// ExpireRelayRequests deletes the buffered requests received before the given time, of every
// channel, and returns how many it deleted.
func (s *Store) ExpireRelayRequests(ctx context.Context, before time.Time) (int, error) {
	at, err := timeArg("before", before)
	if err != nil {
		return 0, fmt.Errorf("expire relay requests: %w", err)
	}
	n, err := s.write(ctx, "expire relay requests", &op{kind: opRelayExpire, args: []any{at}})
	return int(n), err
}
