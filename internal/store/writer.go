package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/hookctl/hookctl/internal/webhook"
	"modernc.org/sqlite"
)

// Column lists for inserts, and the request insert: its id comes last, from nextIDSQL.
const (
	requestInsertCols = `received_at, method, uri, provider, event_type, signature, body_size, rejected,
		proto, host, remote_addr, ingress, delivery_id, signature_reason, headers, body, ingress_ref, body_hash, id`
	attemptInsertCols = `request_id, kind, target, started_at, duration, status, error,
		response_body_size, response_headers, response_body`

	insertRequestSQL = "INSERT INTO requests (" + requestInsertCols + ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?," + nextIDSQL + ")"

	// nextIDSQL gives a request floor + 1 when the floor of ids never to be given again
	// (0007_request_ids.sql) is not below the highest id in the log, because the newest
	// requests were deleted; otherwise NULL, and SQLite gives it max(id) + 1. Two seeks in
	// cached pages, no write.
	nextIDSQL = `(SELECT floor + 1 FROM request_id_floor
		WHERE id = 1 AND floor >= coalesce((SELECT max(id) FROM requests), 0))`
)

// indexRequestsSQL adds the requests with ids in [?1, ?2] to the full-text index, in one
// statement: FTS5 writes a new segment at every statement of a transaction that changed the
// index (0003_search.sql), so the tail is indexed a chunk at a time (index.go), never per row.
const indexRequestsSQL = `INSERT INTO requests_fts (rowid, uri, headers, body)
	SELECT id, uri, headers, body FROM requests_fts_source WHERE id BETWEEN ?1 AND ?2`

// opKind says which insert an op is.
type opKind uint8

const (
	opRequest opKind = iota // a request, with what else Record asks for (op.rec)
	opAttempt
	opDeliveryAttempt // an attempt of a background delivery, and the delivery's new state
	opRelayChannel    // relay: a new channel
	opRelayRequest    // relay: a buffered request
	opRelayRemove     // relay: delete one buffered request; the result is the rows deleted
	opRelayExpire     // relay: delete old buffered requests; the result is the rows deleted
)

// op is one queued insert. Its arguments are encoded by the caller, off the writer goroutine.
type op struct {
	kind      opKind
	args      []any
	requestID int64       // for an attempt: the request it belongs to, for error messages
	rec       *recordOp   // for a request: duplicate detection and delivery; nil for neither
	outcome   []any       // for a delivery attempt: the updateDeliverySQL arguments after the id
	delivery  deliveryRow // for a delivery attempt: the delivery after it, read by the caller once done
	done      chan opResult
	then      func(opResult) // instead of done: called on the writer goroutine with the outcome
}

// opResult is what the writer hands back to the waiting caller.
type opResult struct {
	id  int64
	dup int64 // for a request: the original it duplicates, or 0
	err error
}

// txOp is work that needs the write connection to itself, in transactions of its own, outside
// group commit: a bulk insert (Seed), a prune.
type txOp struct {
	fn   func(w *writer) error
	done chan error
}

// writer owns the write connection and its prepared statements. Only the writer goroutine
// uses it once it runs.
type writer struct {
	s    *Store
	conn *sql.Conn
	max  int

	begin, commit, rollback      *sql.Stmt
	insertRequest, insertAttempt *sql.Stmt

	// Record's statements (record.go).
	markByDeliveryID, markByBodyHash, original, insertDelivery *sql.Stmt
	undoRequest, undoAttempt, updateDelivery                   *sql.Stmt

	// The relay's statements (relay.go).
	insertRelayChannel, insertRelayRequest  *sql.Stmt
	deleteRelayRequest, expireRelayRequests *sql.Stmt

	// txGone is set by SQLite's rollback hook: the current transaction was rolled back,
	// whether by ROLLBACK or by an error that ended it.
	txGone atomic.Bool

	batch   []*op
	results []opResult

	// unindexed counts the requests committed but not yet in the full-text index (index.go).
	unindexed int64
	// linger times the wait of a write nobody waits for (runBatch), lingerFor long.
	linger    *time.Timer
	lingerFor time.Duration
}

// lingerAsync is how long a write that nobody waits for waits for company before it is
// committed alone.
const lingerAsync = 2 * time.Millisecond

// newWriter prepares the writer's statements on c.
func newWriter(ctx context.Context, s *Store, c *sql.Conn, maxBatch int) (*writer, error) {
	w := &writer{s: s, conn: c, max: maxBatch, lingerFor: lingerAsync}
	err := c.Raw(func(dc any) error {
		h, ok := dc.(sqlite.HookRegisterer)
		if !ok {
			return fmt.Errorf("sqlite driver connection %T cannot register hooks", dc)
		}
		h.RegisterRollbackHook(func() { w.txGone.Store(true) })
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, p := range []struct {
		stmt **sql.Stmt
		sql  string
	}{
		{&w.begin, "BEGIN IMMEDIATE"},
		{&w.commit, "COMMIT"},
		{&w.rollback, "ROLLBACK"},
		{&w.insertRequest, insertRequestSQL},
		{&w.insertAttempt, "INSERT INTO attempts (" + attemptInsertCols + ") VALUES (?,?,?,?,?,?,?,?,?,?)"},
		{&w.markByDeliveryID, markByDeliveryIDSQL},
		{&w.markByBodyHash, markByBodyHashSQL},
		{&w.original, originalSQL},
		{&w.insertDelivery, insertDeliverySQL},
		{&w.undoRequest, undoRequestSQL},
		{&w.undoAttempt, undoAttemptSQL},
		{&w.updateDelivery, updateDeliverySQL},
		{&w.insertRelayChannel, insertRelayChannelSQL},
		{&w.insertRelayRequest, insertRelayRequestSQL},
		{&w.deleteRelayRequest, deleteRelayRequestSQL},
		{&w.expireRelayRequests, expireRelayRequestsSQL},
	} {
		st, err := c.PrepareContext(ctx, p.sql)
		if err != nil {
			w.close()
			return nil, fmt.Errorf("prepare %q: %w", p.sql, err)
		}
		*p.stmt = st
	}
	return w, nil
}

// close closes the prepared statements.
func (w *writer) close() error {
	var errs []error
	for _, st := range []*sql.Stmt{w.begin, w.commit, w.rollback, w.insertRequest, w.insertAttempt,
		w.markByDeliveryID, w.markByBodyHash, w.original, w.insertDelivery, w.undoRequest, w.undoAttempt, w.updateDelivery,
		w.insertRelayChannel, w.insertRelayRequest, w.deleteRelayRequest, w.expireRelayRequests} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(append(errs, w.conn.Close())...)
}

// exec runs a prepared statement that returns no rows.
func (w *writer) exec(st *sql.Stmt, args ...any) (sql.Result, error) {
	return st.ExecContext(context.Background(), args...)
}

// run is the writer goroutine: it takes whatever is queued, up to max ops, commits it in one
// transaction and hands each waiter its result. On Close it drains the queue first.
func (w *writer) run() {
	defer w.s.done.Done()
	// A tail left unindexed by a process that stopped (or was killed) is indexed first.
	if err := w.indexAll(); err != nil {
		w.s.log.Warn("full-text index", "err", err)
	}
	idle := time.NewTimer(indexIdle)
	defer idle.Stop()
	for {
		select {
		case o := <-w.s.ops:
			w.runBatch(o)
			idle.Reset(indexIdle)
		case t := <-w.s.tx:
			t.done <- t.fn(w)
		case <-idle.C:
			// Nothing to write for a while: catch the index up.
			if err := w.indexAll(); err != nil {
				w.s.log.Warn("full-text index", "err", err)
			}
		case <-w.s.quit:
			// Close set s.closed under s.mu before closing quit, so nothing can be queued
			// any more: what is queued now is all there will ever be. Commit it, then stop.
			for {
				select {
				case o := <-w.s.ops:
					w.runBatch(o)
				case t := <-w.s.tx:
					t.done <- t.fn(w)
				default:
					if err := w.indexAll(); err != nil {
						w.s.log.Warn("full-text index", "err", err)
					}
					return
				}
			}
		}
	}
}

// runBatch gathers queued ops after first and commits them together.
func (w *writer) runBatch(first *op) {
	w.batch = append(w.batch[:0], first)
	if first.then != nil {
		// Nobody waits for this write (AddAttemptLater): linger a moment so that it shares a
		// commit with the next write somebody does wait for, such as the next request.
		if w.linger == nil {
			w.linger = time.NewTimer(w.lingerFor)
		} else {
			w.linger.Reset(w.lingerFor)
		}
		// Other writes nobody waits for join it meanwhile; they do not end the wait, or under
		// load a quarter of the commits would hold attempts only.
	linger:
		for len(w.batch) < w.max {
			select {
			case o := <-w.s.ops:
				w.batch = append(w.batch, o)
				if o.then == nil {
					break linger
				}
			case <-w.linger.C:
				break linger
			case <-w.s.quit:
				break linger
			}
		}
		w.linger.Stop()
	}
gather:
	for len(w.batch) < w.max {
		select {
		case o := <-w.s.ops:
			w.batch = append(w.batch, o)
		default:
			break gather
		}
	}
	if cap(w.results) < len(w.batch) {
		w.results = make([]opResult, len(w.batch))
	}
	res := w.results[:len(w.batch)]
	clear(res)
	w.commitBatch(w.batch, res)
	for i, o := range w.batch {
		if o.then != nil {
			o.then(res[i])
		} else {
			o.done <- res[i]
		}
		w.batch[i] = nil
	}
	// The callers just woken are queued on this goroutine's P; let them run (and queue their
	// next insert) before the next batch is gathered, or batches stay small.
	runtime.Gosched()
	w.catchUp()
}

// errPending marks an op of a batch whose transaction broke before the op's fate was known.
var errPending = errors.New("pending")

// commitBatch applies ops in one transaction and stores each op's outcome in res.
//
// Each op is a single INSERT, and SQLite undoes a statement that fails on a constraint (an
// attempt for an unknown request) without ending the transaction, so a failing op is undone
// alone and its batch-mates still commit, with no per-op savepoint to pay for. Some failures
// (I/O errors, a full disk, RAISE(ROLLBACK) in a trigger) take the whole transaction with
// them; the rollback hook tells the writer so, and then the failing op keeps its error while
// the others are retried as a new batch. If the transaction fails for no op's fault (commit
// failure), each remaining op is retried on its own.
func (w *writer) commitBatch(ops []*op, res []opResult) {
	w.txGone.Store(false)
	if _, err := w.exec(w.begin); err != nil {
		err = wrap("begin", err)
		for i, o := range ops {
			res[i] = opResult{err: o.wrapErr(err)}
		}
		return
	}
	ok := 0
	culprit := false   // an op's failure rolled the transaction back
	var requests int64 // the requests inserted, for the full-text index
	for i, o := range ops {
		id, dup, err := w.apply(o)
		if err == nil {
			res[i] = opResult{id: id, dup: dup}
			ok++
			if o.kind == opRequest {
				requests++
			}
			continue
		}
		res[i] = opResult{err: o.wrapErr(err)}
		if w.txGone.Load() {
			culprit = true
			markPending(res[i+1:])
			break
		}
	}

	switch {
	case culprit:
		w.rollbackQuietly() // "no transaction is active" is fine
	case ok == 0:
		// Every op failed on its own: nothing to commit.
		w.rollbackQuietly()
		return
	default:
		_, err := w.exec(w.commit)
		if err == nil {
			w.s.commits.Add(1)
			w.s.batches.Add(1)
			w.unindexed += requests
			return
		}
		err = wrap("commit", err)
		w.rollbackQuietly()
		if len(ops) == 1 {
			res[0] = opResult{err: ops[0].wrapErr(err)}
			return
		}
		for i := range res {
			if res[i].err == nil {
				res[i] = opResult{err: errPending}
			}
		}
	}

	// Retry the ops that did not fail on their own: they were rolled back or never ran.
	var retry []*op
	var at []int
	for i := range ops {
		if res[i].err == nil || errors.Is(res[i].err, errPending) {
			retry = append(retry, ops[i])
			at = append(at, i)
		}
	}
	if culprit && len(retry) > 0 {
		// At least one op fewer than before, so this ends.
		sub := make([]opResult, len(retry))
		w.commitBatch(retry, sub)
		for j, i := range at {
			res[i] = sub[j]
		}
		return
	}
	for _, i := range at {
		w.commitBatch(ops[i:i+1], res[i:i+1])
	}
}

// markPending marks res as not yet known.
func markPending(res []opResult) {
	for i := range res {
		res[i] = opResult{err: errPending}
	}
}

// rollbackQuietly ends the current transaction, if any.
func (w *writer) rollbackQuietly() {
	_, _ = w.exec(w.rollback) // "no transaction is active" is fine
}

// apply runs one op's statements and returns the new row's id (and for a request, the
// original it duplicates), or for a delete the number of rows deleted.
func (w *writer) apply(o *op) (id, dup int64, err error) {
	var st *sql.Stmt
	switch o.kind {
	case opRequest:
		return w.record(o)
	case opDeliveryAttempt:
		id, err = w.deliveryAttempt(o)
		return id, 0, err
	case opAttempt:
		st = w.insertAttempt
	case opRelayChannel:
		st = w.insertRelayChannel
	case opRelayRequest:
		st = w.insertRelayRequest
	case opRelayRemove:
		st = w.deleteRelayRequest
	case opRelayExpire:
		st = w.expireRelayRequests
	default:
		return 0, 0, fmt.Errorf("unknown op kind %d", o.kind)
	}
	r, err := w.exec(st, o.args...)
	if err != nil {
		return 0, 0, err
	}
	if o.kind == opRelayRemove || o.kind == opRelayExpire {
		id, err = r.RowsAffected()
	} else {
		id, err = r.LastInsertId()
	}
	return id, 0, err
}

// wrapErr describes an insert failure for the op's caller.
func (o *op) wrapErr(err error) error {
	if name := relayOpName(o.kind); name != "" {
		return wrap(name, err)
	}
	if o.kind == opAttempt || o.kind == opDeliveryAttempt {
		if isForeignKey(err) {
			return fmt.Errorf("insert attempt: request %d: %w", o.requestID, ErrNotFound)
		}
		if errors.Is(err, errNoDelivery) {
			return fmt.Errorf("insert attempt: request %d: %w", o.requestID, err)
		}
		return wrap("insert attempt", err)
	}
	return wrap("insert request", err)
}

// AddAttemptLater queues a for the writer like AddAttempt, but returns without waiting for the
// commit: then is called with the outcome once a is committed (a.ID set) or failed, on the
// writer goroutine, so it must be quick, must not block (every write waits for it) and must not
// use the Store. An attempt that cannot be queued (invalid, or the store read-only or closed)
// gets then called at once, on the caller's goroutine. Close and Flush commit what was queued
// before them. The queue may make it wait for room, not for a commit.
func (s *Store) AddAttemptLater(a *webhook.Attempt, then func(error)) {
	fail := func(err error) { then(fmt.Errorf("insert attempt: %w", err)) }
	if a == nil || a.Kind == "" || a.RequestID <= 0 {
		fail(errors.New("no attempt, empty kind or no request"))
		return
	}
	args, err := attemptArgs(a)
	if err != nil {
		fail(err)
		return
	}
	if s.readOnly {
		fail(ErrReadOnly)
		return
	}
	o := &op{kind: opAttempt, args: args, requestID: a.RequestID, then: func(r opResult) {
		if r.err == nil {
			a.ID = r.id
		}
		then(r.err)
	}}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed.Load() {
		fail(ErrClosed)
		return
	}
	s.ops <- o
}

// Flush returns once every write queued before it is committed, its AddAttemptLater
// callbacks included.
func (s *Store) Flush(ctx context.Context) error {
	return s.exclusive(ctx, "flush", func(w *writer) error {
		for {
			select {
			case o := <-w.s.ops:
				w.runBatch(o)
			default:
				return nil
			}
		}
	})
}

// insertAll inserts requests, encoded by requestArgs, in one transaction and stores their ids
// in ids.
func (w *writer) insertAll(args [][]any, ids []int64) error {
	if _, err := w.exec(w.begin); err != nil {
		return wrap("begin", err)
	}
	for i, a := range args {
		id, _, err := w.apply(&op{kind: opRequest, args: a})
		if err != nil {
			w.rollbackQuietly()
			return wrap("insert request", err)
		}
		ids[i] = id
	}
	if _, err := w.exec(w.commit); err != nil {
		w.rollbackQuietly()
		return wrap("commit", err)
	}
	w.s.commits.Add(1)
	w.unindexed += int64(len(args))
	// The rows are in: an index failure is logged, and the tail indexed on a later try.
	if err := w.indexAll(); err != nil {
		w.s.log.Warn("full-text index", "err", err)
	}
	return nil
}

// Positions in requestArgs.
const (
	argProvider   = 3
	argDeliveryID = 12
	argRef        = 16
	argBodyHash   = 17
)

// requestArgs encodes r's columns in requestInsertCols order but the id, with no ingress ref or
// body hash.
func requestArgs(r *webhook.Request) ([]any, error) {
	at, err := timeArg("received_at", r.ReceivedAt)
	if err != nil {
		return nil, err
	}
	sig := r.Signature
	if sig == "" {
		sig = webhook.SignatureUnchecked
	}
	return []any{
		at, r.Method, r.URI, r.Provider, r.EventType, sig, r.BodySize, r.Rejected,
		r.Proto, r.Host, r.RemoteAddr, r.Ingress, r.DeliveryID, r.SignatureReason,
		encodeHeaders(r.Header), r.Body, "", nil,
	}, nil
}

// attemptArgs encodes a's columns in attemptInsertCols order.
func attemptArgs(a *webhook.Attempt) ([]any, error) {
	at, err := timeArg("started_at", a.StartedAt)
	if err != nil {
		return nil, err
	}
	return []any{
		a.RequestID, string(a.Kind), a.Target, at, int64(a.Duration), int64(a.Status), a.Error,
		a.BodySize, encodeHeaders(a.Header), a.Body,
	}, nil
}

// submit queues o for the writer and waits for its result or for ctx to end.
func (s *Store) submit(ctx context.Context, o *op) (int64, error) {
	r, err := s.submitOp(ctx, o)
	return r.id, err
}

// submitOp is submit returning the whole result.
func (s *Store) submitOp(ctx context.Context, o *op) (opResult, error) {
	if s.readOnly {
		return opResult{}, ErrReadOnly
	}
	if err := ctx.Err(); err != nil {
		return opResult{}, err
	}
	s.mu.RLock()
	if s.closed.Load() {
		s.mu.RUnlock()
		return opResult{}, ErrClosed
	}
	select {
	case s.ops <- o:
		s.mu.RUnlock()
	case <-ctx.Done():
		s.mu.RUnlock()
		return opResult{}, ctx.Err()
	}
	select {
	case r := <-o.done:
		return r, r.err
	case <-ctx.Done():
		return opResult{}, ctx.Err() // the insert may still commit
	}
}

// AddAttempt stores a and sets a.ID. It returns once the row is committed, or with ctx.Err()
// when ctx ends first (the row may then still be committed). a.Kind must be set. An
// a.RequestID that is not in the log gives an error wrapping ErrNotFound.
func (s *Store) AddAttempt(ctx context.Context, a *webhook.Attempt) error {
	if a == nil {
		return errors.New("insert attempt: nil attempt")
	}
	if a.Kind == "" {
		return errors.New("insert attempt: empty kind")
	}
	if a.RequestID <= 0 {
		return fmt.Errorf("insert attempt: request %d: %w", a.RequestID, ErrNotFound)
	}
	args, err := attemptArgs(a)
	if err != nil {
		return fmt.Errorf("insert attempt: %w", err)
	}
	id, err := s.submit(ctx, &op{kind: opAttempt, args: args, requestID: a.RequestID, done: make(chan opResult, 1)})
	if err != nil {
		if errors.Is(err, ErrClosed) || errors.Is(err, ErrReadOnly) {
			return fmt.Errorf("insert attempt: %w", err)
		}
		return err
	}
	a.ID = id
	return nil
}

// insertBulk inserts rs in one transaction on the writer, bypassing group commit, and sets
// their IDs.
func (s *Store) insertBulk(ctx context.Context, rs []*webhook.Request) error {
	args, ids := make([][]any, len(rs)), make([]int64, len(rs))
	for i, r := range rs {
		if r == nil {
			return errors.New("insert request: nil request")
		}
		a, err := requestArgs(r)
		if err != nil {
			return fmt.Errorf("insert request: %w", err)
		}
		args[i] = a
	}
	if err := s.exclusive(ctx, "insert request", func(w *writer) error { return w.insertAll(args, ids) }); err != nil {
		return err
	}
	for i, r := range rs {
		r.ID = ids[i]
	}
	return nil
}

// exclusive runs fn on the writer goroutine, between group commits, with the write connection
// to itself; fn runs its own transactions. It waits for fn to finish even if ctx ends once fn
// has been handed over. name names the operation in errors.
func (s *Store) exclusive(ctx context.Context, name string, fn func(w *writer) error) error {
	if s.readOnly {
		return fmt.Errorf("%s: %w", name, ErrReadOnly)
	}
	t := &txOp{fn: fn, done: make(chan error, 1)}
	s.mu.RLock()
	if s.closed.Load() {
		s.mu.RUnlock()
		return fmt.Errorf("%s: %w", name, ErrClosed)
	}
	select {
	case s.tx <- t:
		s.mu.RUnlock()
	case <-ctx.Done():
		s.mu.RUnlock()
		return ctx.Err()
	}
	return <-t.done
}
