package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/hookctl/hookctl/internal/webhook"
)

// defaultListLimit is the number of requests List returns when Filter.Limit is 0.
const defaultListLimit = 50

const (
	requestSelectCols = `id, received_at, method, uri, provider, event_type, signature, body_size, rejected,
		proto, host, remote_addr, ingress, delivery_id, signature_reason, headers, body, body IS NOT NULL,
		(SELECT original_id FROM duplicates WHERE request_id = requests.id)`
	attemptSelectCols = `id, request_id, kind, target, started_at, duration, status, error,
		response_body_size, response_headers, response_body, response_body IS NOT NULL`
)

// listSelect is the start of every List query: the summary columns of a request, its number
// of attempts, and its latest attempt, joined through the attempts(request_id, id) index (the
// max(id) of the request's entries, then one primary-key lookup). The query continues with
// the WHERE clause, whose first terms are always the keyset bounds r.id < ?1 AND r.id > ?2,
// then ORDER BY r.id and LIMIT ?3.
const listSelect = listColumns + `
FROM requests r` + listJoin + `
WHERE r.id < ?1 AND r.id > ?2`

// listColumns are the columns of a List query: the request's summary, its number of attempts,
// its latest attempt's outcome, the original it duplicates and its delivery.
const listColumns = `
SELECT r.id, r.received_at, r.method, r.uri, r.provider, r.event_type, r.signature, r.body_size, r.rejected,
	(SELECT count(*) FROM attempts c WHERE c.request_id = r.id),
	a.status, a.duration, a.error,
	(SELECT original_id FROM duplicates d WHERE d.request_id = r.id),
	` + deliveryCols

// listJoin joins a request (r) to its latest attempt (a) and its delivery (dl), each through a
// primary key or the attempts(request_id, id) index.
const listJoin = `
LEFT JOIN attempts a ON a.id = (SELECT max(l.id) FROM attempts l WHERE l.request_id = r.id)
LEFT JOIN deliveries dl ON dl.request_id = r.id`

// searchSelect is the start of a List query with a full-text search (Filter.Search): instead
// of walking the requests table, it walks the ids that the full-text index matches, newest
// first (or oldest first), from the keyset bound, and looks each request up by its id; the
// CROSS JOIN keeps SQLite from choosing the other order. The MATCH term follows.
const searchSelect = listColumns + `
FROM requests_fts f
CROSS JOIN requests r ON r.id = f.rowid` + listJoin + `
WHERE f.rowid < ?1 AND f.rowid > ?2`

// listQuery is the unfiltered List query. It walks the requests table backwards along its
// primary key, from BeforeID down to AfterID, and stops after LIMIT rows; only for those rows
// does it look up the attempt count and the latest attempt, both through the
// attempts(request_id, id) index. It reads no headers or bodies, which sit at the end of each
// row, so its cost does not depend on the size of the log or of the bodies.
const listQuery = listSelect + `
ORDER BY r.id DESC
LIMIT ?3`

// readStmts are the prepared statements of the read pool.
type readStmts struct {
	request, attempts, lastAttempt, lastAttemptKind, list, count *sql.Stmt

	// filtered holds the filtered List statements prepared so far, by SQL text. A statement's
	// text depends only on which filters are set, so there are a few dozen at most.
	mu       sync.Mutex
	filtered map[string]*sql.Stmt
}

// prepare prepares the read statements on db.
func (r *readStmts) prepare(ctx context.Context, db *sql.DB) error {
	for _, p := range []struct {
		stmt **sql.Stmt
		sql  string
	}{
		{&r.request, "SELECT " + requestSelectCols + " FROM requests WHERE id = ?"},
		{&r.attempts, "SELECT " + attemptSelectCols + " FROM attempts WHERE request_id = ? ORDER BY id"},
		{&r.lastAttempt, "SELECT " + attemptSelectCols + " FROM attempts WHERE request_id = ? ORDER BY id DESC LIMIT 1"},
		{&r.lastAttemptKind, "SELECT " + attemptSelectCols + " FROM attempts WHERE request_id = ? AND kind = ? ORDER BY id DESC LIMIT 1"},
		{&r.list, listQuery},
		{&r.count, "SELECT count(*) FROM requests"},
	} {
		st, err := db.PrepareContext(ctx, p.sql)
		if err != nil {
			return err
		}
		*p.stmt = st
	}
	return nil
}

// listStmt returns the prepared statement for a filtered List query, preparing it on db the
// first time. Preparing may wait for a connection, so it happens outside the lock.
func (r *readStmts) listStmt(ctx context.Context, db *sql.DB, query string) (*sql.Stmt, error) {
	r.mu.Lock()
	st := r.filtered[query]
	r.mu.Unlock()
	if st != nil {
		return st, nil
	}
	st, err := db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if prev := r.filtered[query]; prev != nil {
		st.Close() // another List prepared it meanwhile
		return prev, nil
	}
	if r.filtered == nil {
		r.filtered = make(map[string]*sql.Stmt)
	}
	r.filtered[query] = st
	return st, nil
}

// close closes the prepared statements that exist.
func (r *readStmts) close() error {
	var errs []error
	for _, st := range []*sql.Stmt{r.request, r.attempts, r.lastAttempt, r.lastAttemptKind, r.list, r.count} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, st := range r.filtered {
		errs = append(errs, st.Close())
	}
	r.filtered = nil
	return errors.Join(errs...)
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// scanRequest reads one row of requestSelectCols.
func scanRequest(sc scanner) (*webhook.Request, error) {
	var (
		r       webhook.Request
		at      sql.NullInt64
		headers []byte
		hasBody bool
	)
	var dup sql.NullInt64
	err := sc.Scan(&r.ID, &at, &r.Method, &r.URI, &r.Provider, &r.EventType, &r.Signature, &r.BodySize,
		&r.Rejected, &r.Proto, &r.Host, &r.RemoteAddr, &r.Ingress, &r.DeliveryID, &r.SignatureReason,
		&headers, &r.Body, &hasBody, &dup)
	if err != nil {
		return nil, err
	}
	r.DuplicateOf = dup.Int64
	if hasBody && r.Body == nil {
		r.Body = []byte{} // an empty body, as opposed to one never read
	}
	r.ReceivedAt = timeOf(at)
	if r.Header, err = decodeHeaders(headers); err != nil {
		return nil, fmt.Errorf("request %d: %w", r.ID, err)
	}
	return &r, nil
}

// scanAttempt reads one row of attemptSelectCols.
func scanAttempt(sc scanner) (webhook.Attempt, error) {
	var (
		a        webhook.Attempt
		kind     string
		at       sql.NullInt64
		duration int64
		headers  []byte
		hasBody  bool
	)
	err := sc.Scan(&a.ID, &a.RequestID, &kind, &a.Target, &at, &duration, &a.Status, &a.Error,
		&a.BodySize, &headers, &a.Body, &hasBody)
	if err != nil {
		return a, err
	}
	if hasBody && a.Body == nil {
		a.Body = []byte{}
	}
	a.Kind = webhook.AttemptKind(kind)
	a.StartedAt = timeOf(at)
	a.Duration = time.Duration(duration)
	if a.Header, err = decodeHeaders(headers); err != nil {
		return a, fmt.Errorf("attempt %d: %w", a.ID, err)
	}
	return a, nil
}

// checkOpen returns ErrClosed, wrapped for op, once the store is closed.
func (s *Store) checkOpen(op string) error {
	if s.closed.Load() {
		return fmt.Errorf("%s: %w", op, ErrClosed)
	}
	return nil
}

// Request returns the request with the given id, headers and body included. An unknown id
// gives an error wrapping ErrNotFound.
func (s *Store) Request(ctx context.Context, id int64) (*webhook.Request, error) {
	if err := s.checkOpen("read request"); err != nil {
		return nil, err
	}
	r, err := scanRequest(s.reads.request.QueryRowContext(ctx, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("request %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, wrap("read request", err)
	}
	return r, nil
}

// Attempts returns every attempt made for the request, oldest first, with response headers
// and bodies. A request without attempts, or an unknown one, gives an empty list.
func (s *Store) Attempts(ctx context.Context, requestID int64) ([]webhook.Attempt, error) {
	if err := s.checkOpen("read attempts"); err != nil {
		return nil, err
	}
	rows, err := s.reads.attempts.QueryContext(ctx, requestID)
	if err != nil {
		return nil, wrap("read attempts", err)
	}
	defer rows.Close()
	var out []webhook.Attempt
	for rows.Next() {
		a, err := scanAttempt(rows)
		if err != nil {
			return nil, wrap("read attempts", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("read attempts", err)
	}
	return out, nil
}

// LastAttempt returns the request's newest attempt of the given kind, or of any kind when kind
// is "". It returns an error wrapping ErrNotFound when there is none.
func (s *Store) LastAttempt(ctx context.Context, requestID int64, kind webhook.AttemptKind) (*webhook.Attempt, error) {
	if err := s.checkOpen("read attempt"); err != nil {
		return nil, err
	}
	var row *sql.Row
	if kind == "" {
		row = s.reads.lastAttempt.QueryRowContext(ctx, requestID)
	} else {
		row = s.reads.lastAttemptKind.QueryRowContext(ctx, requestID, string(kind))
	}
	a, err := scanAttempt(row)
	if errors.Is(err, sql.ErrNoRows) {
		if kind == "" {
			return nil, fmt.Errorf("request %d: no attempt: %w", requestID, ErrNotFound)
		}
		return nil, fmt.Errorf("request %d: no %s attempt: %w", requestID, kind, ErrNotFound)
	}
	if err != nil {
		return nil, wrap("read attempt", err)
	}
	return &a, nil
}

// Filter selects the requests List returns. The zero Filter selects the newest 50 requests.
// ParseQuery builds one from what a user types.
type Filter struct {
	// Limit is the most requests to return; 0 (or less) means 50.
	Limit int
	// BeforeID, when not 0, keeps only requests with a smaller id (the next page of a list).
	BeforeID int64
	// AfterID keeps only requests with a larger id (what arrived since a request was seen).
	AfterID int64
	// Oldest, with AfterID, returns the Limit requests just above AfterID (the oldest first
	// when scanning), still returned newest first — for paging towards newer rows, and for
	// jumping to the oldest page (AfterID 0).
	Oldest bool
	// Method keeps requests with this method (case-insensitive); "" keeps all.
	Method string
	// Path keeps requests whose URI path (without the query) matches this glob (* and ?; a
	// pattern without a leading "/" matches anywhere, e.g. "stripe*" ~ "*stripe*"); "" keeps all.
	// The match is case-sensitive, like paths; every other character stands for itself.
	Path string
	// Status keeps requests by the outcome of their latest attempt: "2xx", "3xx", "4xx", "5xx",
	// an exact code such as "404", "failed" (attempted, no response), "none" (never attempted,
	// not rejected), or "rejected"; "" keeps all. Invalid values are an error wrapping ErrBadFilter.
	Status string
	// EventType keeps requests whose event type matches this glob; "" keeps all. The glob
	// (* and ?) must match the whole event type, case-sensitively: "payment_intent.*".
	EventType string
	// Text keeps requests whose body or URI contains this text (case-insensitive for ASCII); "" keeps all.
	// Bodies are searched as raw bytes, so binary and non-UTF-8 bodies match too. Unlike
	// Search, it reads every body it looks at, so it is slow on a big log.
	Text string
	// Provider keeps requests from this provider ("stripe", "github"), compared exactly but
	// case-insensitively; "" keeps all.
	Provider string
	// Signature keeps requests whose signature status is this: "valid", "invalid", "stale",
	// "unsigned" or "unchecked" (any case); "" keeps all. Other values are an error wrapping
	// ErrBadFilter.
	Signature string
	// Since keeps requests received at or after it, Until those received before it; a zero
	// time leaves that end of the range open. A request without a receive time matches
	// neither bound.
	Since, Until time.Time
	// Search keeps requests whose URI, header names and values or body hold every word of it
	// (full-text search; "" keeps all). Words are made of letters and digits, compared without
	// regard to case or diacritics ("Cafe" finds "café"); other characters separate words, so
	// that "payment_intent.succeeded" finds those three words next to each other. Double
	// quotes make a phrase of several words, whose words must appear in that order, next to
	// each other: "card declined". A word or phrase ending in * (outside quotes) also finds
	// longer words: "decl*". No character has any other meaning, so no input is an error; a
	// term with no letter or digit is ignored. Binary bodies (with a NUL byte) and the part
	// of a body beyond its first MiB are not searched; non-UTF-8 text is read lossily (see
	// migrations/0003_search.sql). Search reads the full-text index, not the bodies: its cost
	// depends on how many requests hold the words, not on the size of the log.
	Search string
	// Delivery keeps requests by the state of their background delivery (listen --ack):
	// "pending", "retrying", "delivered", "given_up", or "queued" for any; "" keeps all.
	// Other values are an error wrapping ErrBadFilter.
	Delivery string
	// Duplicates keeps only redeliveries of an earlier request (DuplicateOf set).
	Duplicates bool
}

// List returns summaries of the newest requests that match f, newest first, each with its
// number of attempts and the outcome of its latest one. With AfterID, these are the newest
// Limit requests above AfterID; with Oldest, the oldest Limit requests above AfterID.
//
// All filtering happens in SQLite: List never reads headers, and reads bodies only inside
// SQLite when f.Text is set. Without filters its cost does not depend on the size of the log;
// with filters it walks the log from the keyset bound until Limit requests match, so a filter
// that matches few requests reads much of the log. With f.Search it walks only the requests
// that the full-text index matches, applying the other filters to those. An invalid f.Status
// or f.Signature gives an error wrapping ErrBadFilter.
func (s *Store) List(ctx context.Context, f Filter) ([]webhook.Summary, error) {
	if err := s.checkOpen("list requests"); err != nil {
		return nil, err
	}
	limit := f.Limit
	if limit <= 0 {
		limit = defaultListLimit
	}
	before := f.BeforeID
	if before == 0 {
		before = math.MaxInt64
	}
	args := []any{before, f.AfterID, limit}
	if ftsQuery(f.Search) != "" {
		// Make what was recorded up to now searchable. A log this process may not write (a
		// read-only file, or another process holding the write lock too long) is searched as
		// it is, without its newest requests.
		if err := s.FlushIndex(ctx); err != nil {
			if ctx.Err() != nil || errors.Is(err, ErrCorrupt) || errors.Is(err, ErrClosed) {
				return nil, fmt.Errorf("list requests: %w", err)
			}
			s.log.Debug("search without indexing the newest requests", "err", err)
		}
	}
	st := s.reads.list
	if f.filtered() {
		query, more, err := listStatement(f, len(args))
		if err != nil {
			return nil, fmt.Errorf("list requests: %w", err)
		}
		args = append(args, more...)
		if st, err = s.reads.listStmt(ctx, s.rd, query); err != nil {
			return nil, wrap("list requests", err)
		}
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return nil, wrap("list requests", err)
	}
	defer rows.Close()
	out := make([]webhook.Summary, 0, min(limit, 1024))
	for rows.Next() {
		var (
			sum      webhook.Summary
			at       sql.NullInt64
			status   sql.NullInt64
			duration sql.NullInt64
			errText  sql.NullString
			dup      sql.NullInt64
			d        deliveryRow
		)
		err := rows.Scan(append([]any{&sum.ID, &at, &sum.Method, &sum.URI, &sum.Provider, &sum.EventType, &sum.Signature,
			&sum.BodySize, &sum.Rejected, &sum.Attempts, &status, &duration, &errText, &dup}, d.dest()...)...)
		if err != nil {
			return nil, wrap("list requests", err)
		}
		sum.DuplicateOf = dup.Int64
		sum.Delivery = d.delivery()
		sum.ReceivedAt = timeOf(at)
		sum.Status = int(status.Int64)
		sum.Duration = time.Duration(duration.Int64)
		sum.Error = errText.String
		out = append(out, sum)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("list requests", err)
	}
	if f.Oldest {
		slices.Reverse(out)
	}
	return out, nil
}

// Count returns the number of requests in the log.
func (s *Store) Count(ctx context.Context) (int64, error) {
	if err := s.checkOpen("count requests"); err != nil {
		return 0, err
	}
	var n int64
	if err := s.reads.count.QueryRowContext(ctx).Scan(&n); err != nil {
		return 0, wrap("count requests", err)
	}
	return n, nil
}
