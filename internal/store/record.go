package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/hookctl/hookctl/internal/webhook"
)

// The writer's statements for Record and FinishDelivery (prepared in newWriter).
const (
	// markByDeliveryIDSQL marks request ?1, just inserted, as a redelivery of the first earlier
	// request of its provider ?2 and delivery id ?3, if there is one: one seek in the partial
	// index requests_delivery_id, whose entries for one key are in id order ("delivery_id <> ''"
	// lets SQLite use it). One statement that usually changes nothing costs less than a query
	// and an insert.
	markByDeliveryIDSQL = `INSERT INTO duplicates (request_id, original_id)
		SELECT ?1, id FROM requests WHERE provider = ?2 AND delivery_id = ?3 AND delivery_id <> '' AND id < ?1
		ORDER BY id LIMIT 1`
	// markByBodyHashSQL does the same for the first earlier request with body hash ?2 received
	// since ?3: one seek in the index requests_body_hash, whose entries for one hash are in
	// received_at order. Not min(id), which would visit every copy in the window: a sender
	// that repeats one body thousands of times must not make each insert slower.
	markByBodyHashSQL = `INSERT INTO duplicates (request_id, original_id)
		SELECT ?1, id FROM requests WHERE body_hash = ?2 AND received_at >= ?3 AND id < ?1
		ORDER BY received_at, id LIMIT 1`
	originalSQL       = `SELECT original_id FROM duplicates WHERE request_id = ?`
	insertDeliverySQL = `INSERT INTO deliveries (request_id, target, first_at, next_at, updated_at) VALUES (?1, ?2, ?3, ?3, ?3)`
	undoRequestSQL    = `DELETE FROM requests WHERE id = ?`
	undoAttemptSQL    = `DELETE FROM attempts WHERE id = ?`
	// updateDeliverySQL records an attempt's outcome: ?1 request id, ?2 now, ?3 delivered,
	// ?4 give up, ?5 next due time. A delivered request stays delivered, and a delivery that
	// was given up is not revived by a failed manual attempt.
	updateDeliverySQL = `UPDATE deliveries SET
		attempts = attempts + 1,
		updated_at = ?2,
		state = CASE WHEN ?3 THEN 'delivered' WHEN state = 'pending' AND ?4 THEN 'given_up' ELSE state END,
		next_at = CASE WHEN state = 'pending' AND NOT ?3 AND NOT ?4 AND ?5 IS NOT NULL THEN ?5 ELSE next_at END
		WHERE request_id = ?1
		RETURNING request_id, target, state, attempts, first_at, next_at, updated_at`
)

// RecordOptions says what else Record does in the transaction that inserts a request.
type RecordOptions struct {
	// Ref is the id the ingress gave the request (for the relay, "<channel>/<seq>"), so that
	// RequestIDByRef finds it later; "" for none.
	Ref string
	// Dedupe looks for an earlier request of the same event and sets the request's
	// DuplicateOf: one with the same provider and delivery id, or, for a request without a
	// delivery id, one with the same method, URI and non-empty body received within
	// DedupeWindow before it.
	Dedupe bool
	// DedupeWindow bounds the body match; 0 means DefaultDedupeWindow.
	DedupeWindow time.Duration
	// Deliver, when not "", queues a background delivery of the request to this base target
	// URL, due at once.
	Deliver string
	// SkipDuplicates leaves a request that Dedupe finds to be a redelivery out of the queue.
	SkipDuplicates bool
}

// DefaultDedupeWindow is how far back RecordOptions.Dedupe looks for an identical body.
const DefaultDedupeWindow = 10 * time.Minute

// recordOp is what a request op does besides inserting the row.
type recordOp struct {
	dedupe   bool
	hash     []byte // the body hash, when the request has no delivery id
	since    any    // received_at bound of the body match
	deliver  string
	skipDups bool
	at       any // received_at, for the delivery's times
}

// queues reports whether the request gets a delivery, given the original it duplicates (0
// for none).
func (rec *recordOp) queues(dup int64) bool {
	return rec.deliver != "" && (dup == 0 || !rec.skipDups)
}

// AddRequest stores r and sets r.ID. It returns once the row is committed, or with ctx.Err()
// when ctx ends first (the row may then still be committed). An empty r.Signature is stored
// as webhook.SignatureUnchecked; r is not otherwise modified.
func (s *Store) AddRequest(ctx context.Context, r *webhook.Request) error {
	_, err := s.Record(ctx, r, RecordOptions{})
	return err
}

// Record stores r like AddRequest, and in the same transaction does what o asks: keeps the
// ingress's ref, marks a redelivery (setting r.DuplicateOf), queues a background delivery. A
// request acknowledged once Record returns is therefore either delivered later or still
// queued, whatever happens to the process. It returns the queued delivery, or nil when the
// request was not queued (no o.Deliver, or a redelivery left out by o.SkipDuplicates).
func (s *Store) Record(ctx context.Context, r *webhook.Request, o RecordOptions) (*webhook.Delivery, error) {
	if r == nil {
		return nil, errors.New("insert request: nil request")
	}
	args, err := requestArgs(r)
	if err != nil {
		return nil, fmt.Errorf("insert request: %w", err)
	}
	args[argRef] = o.Ref
	rec := &recordOp{dedupe: o.Dedupe && r.Rejected == "", deliver: o.Deliver, skipDups: o.SkipDuplicates, at: args[0]}
	if rec.dedupe && r.DeliveryID == "" && len(r.Body) > 0 {
		h := sha256.New()
		fmt.Fprintf(h, "%s\n%s\n", r.Method, r.URI)
		h.Write(r.Body)
		rec.hash = h.Sum(nil)
		args[argBodyHash] = rec.hash
		window := o.DedupeWindow
		if window <= 0 {
			window = DefaultDedupeWindow
		}
		if rec.since, err = timeArg("received_at", r.ReceivedAt.Add(-window)); err != nil {
			return nil, fmt.Errorf("insert request: %w", err)
		}
	}
	res, err := s.submitOp(ctx, &op{kind: opRequest, args: args, rec: rec, done: make(chan opResult, 1)})
	if err != nil {
		if errors.Is(err, ErrClosed) || errors.Is(err, ErrReadOnly) {
			return nil, fmt.Errorf("insert request: %w", err)
		}
		return nil, err
	}
	r.ID, r.DuplicateOf = res.id, res.dup
	if !rec.queues(res.dup) {
		return nil, nil
	}
	at := r.ReceivedAt.UTC()
	return &webhook.Delivery{RequestID: r.ID, Target: o.Deliver, State: webhook.DeliveryPending,
		FirstAt: at, NextAt: at, UpdatedAt: at}, nil
}

// record inserts a request op's row and does what its recordOp asks.
func (w *writer) record(o *op) (id, dup int64, err error) {
	r, err := w.exec(w.insertRequest, o.args...)
	if err != nil {
		return 0, 0, err
	}
	if id, err = r.LastInsertId(); err != nil {
		return 0, 0, err
	}
	rec := o.rec
	if rec == nil {
		return id, 0, nil
	}
	if dup, err = w.markDuplicate(o, id); err == nil && rec.queues(dup) {
		_, err = w.exec(w.insertDelivery, id, rec.deliver, rec.at)
	}
	if err != nil {
		// The request must not commit without what was asked for it. If the failure ended the
		// transaction, the request is gone already; if undoing it fails, the transaction goes.
		w.undo(w.undoRequest, id)
		return 0, 0, err
	}
	return id, dup, nil
}

// markDuplicate marks request id, just inserted by o, as a redelivery when o asks for it and
// an earlier request is the same event, and returns that request's id (0 for none).
func (w *writer) markDuplicate(o *op, id int64) (int64, error) {
	var (
		r   sql.Result
		err error
	)
	switch rec := o.rec; {
	case !rec.dedupe:
		return 0, nil
	case rec.hash != nil:
		r, err = w.exec(w.markByBodyHash, id, rec.hash, rec.since)
	case o.args[argDeliveryID] != "":
		r, err = w.exec(w.markByDeliveryID, id, o.args[argProvider], o.args[argDeliveryID])
	default:
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if n, err := r.RowsAffected(); err != nil || n == 0 {
		return 0, err
	}
	var orig int64
	err = w.original.QueryRow(id).Scan(&orig)
	return orig, err
}

// FinishDelivery stores a, an attempt of the background delivery of a.RequestID, and applies
// its outcome to the delivery in the same transaction: delivered, given up, or due again at
// out.NextAt. It sets a.ID and returns the delivery as it now is. A delivery already delivered
// stays delivered, and a failed attempt does not bring back a delivery that was given up. A
// request without a queued delivery gives an error wrapping ErrNotFound, and nothing is stored.
func (s *Store) FinishDelivery(ctx context.Context, a *webhook.Attempt, out webhook.DeliveryOutcome) (*webhook.Delivery, error) {
	if a == nil || a.Kind == "" {
		return nil, errors.New("insert attempt: no attempt or empty kind")
	}
	if a.RequestID <= 0 {
		return nil, fmt.Errorf("insert attempt: request %d: %w", a.RequestID, ErrNotFound)
	}
	args, err := attemptArgs(a)
	if err != nil {
		return nil, fmt.Errorf("insert attempt: %w", err)
	}
	now, err := timeArg("updated_at", a.StartedAt.Add(a.Duration))
	if err != nil {
		return nil, fmt.Errorf("insert attempt: %w", err)
	}
	next, err := timeArg("next_at", out.NextAt)
	if err != nil {
		return nil, fmt.Errorf("insert attempt: %w", err)
	}
	o := &op{kind: opDeliveryAttempt, args: args, requestID: a.RequestID, outcome: []any{now, out.Delivered, out.GiveUp, next}}
	id, err := s.write(ctx, "insert attempt", o)
	if err != nil {
		return nil, err
	}
	a.ID = id
	d := o.delivery.delivery()
	return &d, nil
}

// deliveryAttempt inserts a delivery attempt and updates its delivery. A request without a
// delivery gets neither.
func (w *writer) deliveryAttempt(o *op) (int64, error) {
	r, err := w.exec(w.insertAttempt, o.args...)
	if err != nil {
		return 0, err
	}
	id, err := r.LastInsertId()
	if err != nil {
		return 0, err
	}
	o.delivery = deliveryRow{}
	err = w.updateDelivery.QueryRow(append([]any{o.requestID}, o.outcome...)...).Scan(o.delivery.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		err = errNoDelivery
	}
	if err != nil {
		w.undo(w.undoAttempt, id)
		return 0, err
	}
	return id, nil
}

// undo deletes the row id that an op inserted before a later statement of the same op failed,
// so that the op commits nothing. When the delete fails too, the whole transaction is rolled
// back: commitBatch then retries the other ops of the batch without this one.
func (w *writer) undo(st *sql.Stmt, id int64) {
	if w.txGone.Load() {
		return
	}
	if _, err := w.exec(st, id); err != nil {
		w.rollbackQuietly()
	}
}

// errNoDelivery is FinishDelivery's error for a request that has no queued delivery.
var errNoDelivery = fmt.Errorf("no queued delivery: %w", ErrNotFound)
