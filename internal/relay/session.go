package relay

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/hookctl/hookctl/internal/webhook"
)

var (
	// errTimeout: the client did not answer within ResponseTimeout.
	errTimeout = errors.New("no response in time")
	// errGone: the connection ended before the response arrived.
	errGone = errors.New("client connection closed")
	// errClaimed: the request was already sent on this connection (by the drain, or live).
	errClaimed = errors.New("request already sent on this connection")
)

// session is one connected client of a channel, on the server.
//
// Delivery order: when a client connects, its drain goroutine sends the channel's buffered
// requests one at a time in seq order. Until the drain finds the buffer empty the session is
// not live: new requests are buffered and answered like offline ones (they mark the session
// dirty, so the drain looks again before it declares itself done). Once live, new requests go
// straight to the client, many at a time; any that cannot (a race with the in-flight bound)
// kick the drain, which picks up whatever is buffered above its cursor and was not sent on
// this connection yet. A request is sent at most once per connection (claimed).
type session struct {
	srv     *Server
	channel string
	conn    *websocket.Conn
	log     *slog.Logger
	slots   chan struct{} // one token per request in flight live

	wmu sync.Mutex // serialises data frame writes

	mu      sync.Mutex
	closed  bool
	live    bool
	dirty   bool
	waiters map[int64]chan responseFrame // seq → the goroutine waiting for its response
	claimed map[int64]bool               // seqs sent on this connection and not yet removed from the buffer

	kickc     chan struct{} // wakes the drain; capacity 1
	done      chan struct{} // closed when the session ends
	closeOnce sync.Once
}

func newSession(s *Server, channel string, conn *websocket.Conn, remote string) *session {
	return &session{
		srv: s, channel: channel, conn: conn,
		log:     s.cfg.Logger.With("channel", channel, "remote_addr", remote),
		slots:   make(chan struct{}, s.cfg.MaxInFlight),
		waiters: make(map[int64]chan responseFrame),
		claimed: make(map[int64]bool),
		kickc:   make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
}

// acquire takes an in-flight slot if one is free.
func (ss *session) acquire() bool {
	select {
	case ss.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

// release returns an in-flight slot.
func (ss *session) release() { <-ss.slots }

// isLive reports whether the session delivers new requests directly.
func (ss *session) isLive() bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.live && !ss.closed
}

// liveOrKick reports whether the session is live; when it is not, it marks it dirty and wakes
// the drain, so that a request buffered just now is not missed.
func (ss *session) liveOrKick() bool {
	ss.mu.Lock()
	live := ss.live && !ss.closed
	if !live {
		ss.dirty = true
	}
	ss.mu.Unlock()
	if !live {
		ss.wake()
	}
	return live
}

// kick marks the session dirty and wakes the drain.
func (ss *session) kick() {
	ss.mu.Lock()
	ss.dirty = true
	ss.mu.Unlock()
	ss.wake()
}

func (ss *session) wake() {
	select {
	case ss.kickc <- struct{}{}:
	default:
	}
}

// writeTimeout bounds the write of one data frame.
func (ss *session) writeTimeout() time.Duration {
	return max(minWriteTimeout, ss.srv.cfg.PongTimeout)
}

// roundTrip sends rec to the client and waits for its response, ctx's end, ResponseTimeout
// (errTimeout) or the end of the session (errGone). A request already sent on this connection
// is not sent again (errClaimed).
func (ss *session) roundTrip(ctx context.Context, rec *webhook.Request, buffered bool) (responseFrame, error) {
	b, err := json.Marshal(newRequestFrame(ss.channel, rec, buffered))
	if err != nil {
		return responseFrame{}, err
	}
	ch := make(chan responseFrame, 1)
	ss.mu.Lock()
	if ss.closed {
		ss.mu.Unlock()
		return responseFrame{}, errGone
	}
	if ss.claimed[rec.ID] {
		ss.mu.Unlock()
		return responseFrame{}, errClaimed
	}
	ss.claimed[rec.ID] = true
	ss.waiters[rec.ID] = ch
	ss.mu.Unlock()
	defer func() {
		ss.mu.Lock()
		if ss.waiters[rec.ID] == ch {
			delete(ss.waiters, rec.ID)
		}
		ss.mu.Unlock()
	}()

	ss.wmu.Lock()
	ss.conn.SetWriteDeadline(time.Now().Add(ss.writeTimeout()))
	err = ss.conn.WriteMessage(websocket.TextMessage, b)
	ss.wmu.Unlock()
	if err != nil {
		ss.log.Info("write to client failed", "err", err)
		ss.close(websocket.CloseAbnormalClosure, "")
		return responseFrame{}, errGone
	}

	t := time.NewTimer(ss.srv.cfg.ResponseTimeout)
	defer t.Stop()
	select {
	case f := <-ch:
		return f, nil
	case <-t.C:
		ss.log.Warn("client did not answer in time", "seq", rec.ID, "timeout", ss.srv.cfg.ResponseTimeout)
		return responseFrame{}, errTimeout
	case <-ss.done:
		return responseFrame{}, errGone
	case <-ctx.Done():
		return responseFrame{}, ctx.Err()
	}
}

// close ends the session: it sends a close frame with code and reason (none for
// CloseAbnormalClosure), closes the connection, wakes every waiter and unregisters the
// session. It is safe to call more than once.
func (ss *session) close(code int, reason string) {
	ss.closeOnce.Do(func() {
		ss.mu.Lock()
		ss.closed = true
		ss.mu.Unlock()
		close(ss.done)
		if code != websocket.CloseAbnormalClosure {
			ss.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason),
				time.Now().Add(controlTimeout))
		}
		ss.conn.Close()
		ss.srv.mu.Lock()
		if ss.srv.sessions[ss.channel] == ss {
			delete(ss.srv.sessions, ss.channel)
		}
		ss.srv.mu.Unlock()
		ss.log.Info("client disconnected", "reason", reason)
	})
}

// readLoop reads the client's frames until the connection fails or stays silent for longer
// than PongTimeout, and routes each response to its waiter.
func (ss *session) readLoop() {
	defer ss.srv.bg.Done()
	timeout := ss.srv.cfg.PongTimeout
	ss.conn.SetReadLimit(maxFrame)
	ss.conn.SetReadDeadline(time.Now().Add(timeout))
	ss.conn.SetPongHandler(func(string) error {
		return ss.conn.SetReadDeadline(time.Now().Add(timeout))
	})
	for {
		typ, b, err := ss.conn.ReadMessage()
		if err != nil {
			reason := "connection lost"
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				reason = "client closed the connection"
			}
			ss.log.Debug("read from client", "err", err)
			ss.close(websocket.CloseAbnormalClosure, reason)
			return
		}
		ss.conn.SetReadDeadline(time.Now().Add(timeout))
		if typ != websocket.TextMessage {
			continue
		}
		if err := decodeEnvelope(b, typeResponse); err != nil {
			if errors.Is(err, errUnknownFrame) {
				ss.log.Debug("ignoring frame of unknown type or version")
				continue
			}
			ss.log.Warn("malformed frame from client", "err", err)
			ss.close(websocket.CloseProtocolError, "malformed frame")
			return
		}
		var f responseFrame
		if err := json.Unmarshal(b, &f); err != nil || f.ID != ref(ss.channel, f.Seq) {
			ss.log.Warn("malformed response frame from client", "err", err, "id", f.ID, "seq", f.Seq)
			ss.close(websocket.CloseProtocolError, "malformed response frame")
			return
		}
		ss.mu.Lock()
		ch := ss.waiters[f.Seq]
		delete(ss.waiters, f.Seq)
		ss.mu.Unlock()
		if ch != nil {
			ch <- f
		}
		if f.Recorded {
			ss.srv.bg.Add(1)
			go ss.remove(f.Seq)
		}
	}
}

// remove deletes an acknowledged request from the buffer.
func (ss *session) remove(seq int64) {
	defer ss.srv.bg.Done()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := ss.srv.cfg.Log.RemoveRelayRequest(ctx, ss.channel, seq); err != nil {
		// It stays buffered; the client recognises it when it comes again.
		ss.log.Error("remove acknowledged request", "seq", seq, "err", err)
		return
	}
	ss.mu.Lock()
	delete(ss.claimed, seq)
	ss.mu.Unlock()
}

// pingLoop pings the client every PingInterval until the session ends.
func (ss *session) pingLoop() {
	defer ss.srv.bg.Done()
	t := time.NewTicker(ss.srv.cfg.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-ss.done:
			return
		case <-t.C:
		}
		if err := ss.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(controlTimeout)); err != nil {
			ss.log.Debug("ping failed", "err", err)
			ss.close(websocket.CloseAbnormalClosure, "ping failed")
			return
		}
	}
}

// drain sends the channel's buffered requests to the client in seq order, one at a time, each
// after the previous one was answered (or timed out), then declares the session live and
// waits to be kicked for stragglers, until the session ends.
func (ss *session) drain() {
	defer ss.srv.bg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-ss.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	var cursor int64
	for {
		batch, err := ss.srv.cfg.Log.PendingRelayRequests(ctx, ss.channel, cursor, drainBatch)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			ss.log.Error("read buffered requests", "err", err)
			select {
			case <-ss.done:
				return
			case <-time.After(time.Second):
			}
			continue
		}
		if len(batch) == 0 {
			ss.mu.Lock()
			if ss.dirty {
				ss.dirty = false
				ss.mu.Unlock()
				continue
			}
			if !ss.live {
				ss.log.Debug("buffer drained; live")
			}
			ss.live = true
			ss.mu.Unlock()
			select {
			case <-ss.kickc:
				continue
			case <-ss.done:
				return
			}
		}
		for _, rec := range batch {
			cursor = rec.ID
			_, err := ss.roundTrip(ctx, rec, true)
			switch {
			case err == nil, errors.Is(err, errTimeout), errors.Is(err, errClaimed):
				// Acknowledged or not, the next one goes; an unacknowledged request is sent
				// again on the next connection.
			default:
				return
			}
		}
	}
}
