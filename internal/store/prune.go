package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"strconv"
	"time"
)

// Pruning deletes requests in small transactions on the writer goroutine, between group
// commits, so that requests arriving meanwhile wait for one batch at most, never for the
// whole prune. Their attempts, duplicates rows and deliveries go with them (ON DELETE
// CASCADE), and so do their full-text index entries (the requests_fts_delete trigger). The
// space is then given back to the file system: PRAGMA incremental_vacuum, in steps, on a log
// created with auto_vacuum = INCREMENTAL (every log since setup chose it); a log created
// before is converted once with VACUUM. Last, a TRUNCATE checkpoint copies the write-ahead log
// into the file and empties it, so that both files shrink.
const (
	// pruneBatchRows is the most requests one delete transaction removes.
	pruneBatchRows = 1000
	// pruneBatchBytes bounds the bodies one delete transaction removes: freeing a body walks
	// its overflow pages, so a batch of large bodies would hold the write lock for long.
	pruneBatchBytes = 32 << 20
	// vacuumStepPages is how many free pages one incremental_vacuum transaction gives back.
	vacuumStepPages = 4096
	// checkpointBusyTimeout bounds the wait of the TRUNCATE checkpoint for readers, during
	// which the writer (and so ingest) waits too.
	checkpointBusyTimeout = time.Second
	// checkpointTries and checkpointRetry: another checkpoint running at the same time (the
	// store's own PASSIVE one, or another process's) makes a checkpoint give up at once, so
	// it is tried again a few times.
	checkpointTries = 10
	checkpointRetry = 50 * time.Millisecond
	// trimTargetPercent is how full TrimToSize leaves the log, in percent of its limit, so
	// that LimitSize does not trim again at every check.
	trimTargetPercent = 90
	// defaultLimitEvery is how often LimitSize checks when not told.
	defaultLimitEvery = time.Minute
)

// notPendingSQL holds for a request r whose background delivery, if any, is not pending.
const notPendingSQL = `NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.request_id = r.id AND d.state = 'pending')`

const (
	// selectByIDSQL selects the next requests to delete in id order: ids in (?1, ?2), up to
	// ?3 of them, along the primary key.
	selectByIDSQL = `SELECT r.id, r.received_at, coalesce(length(r.body), 0) FROM requests r
		WHERE r.id > ?1 AND r.id < ?2 AND ` + notPendingSQL + `
		ORDER BY r.id LIMIT ?3`
	// selectByAgeSQL selects the next requests to delete in order of age: received before ?1
	// and after (?2, ?3) in (received_at, id) order, up to ?4 of them, along the
	// requests_received_at index. A request without a receive time has no age: it is not
	// selected.
	selectByAgeSQL = `SELECT r.id, r.received_at, coalesce(length(r.body), 0) FROM requests r
		WHERE r.received_at < ?1 AND (r.received_at, r.id) > (?2, ?3) AND ` + notPendingSQL + `
		ORDER BY r.received_at, r.id LIMIT ?4`
	// deleteIDsSQL deletes the requests whose ids are in the JSON array ?1.
	deleteIDsSQL = `DELETE FROM requests WHERE id IN (SELECT value FROM json_each(?1))`
	// matchSQL holds for a request r that Prune's bounds select: received before ?1 (NULL: no
	// age bound) or with an id below ?2 (0: no count bound).
	matchSQL = `(r.received_at < ?1 OR r.id < ?2)`
	// countPruneSQL counts the requests Prune would delete.
	countPruneSQL = `SELECT count(*) FROM requests r WHERE ` + matchSQL + ` AND ` + notPendingSQL
	// countKeptSQL counts the requests Prune's bounds select whose delivery is pending.
	countKeptSQL = `SELECT count(*) FROM deliveries d JOIN requests r ON r.id = d.request_id
		WHERE d.state = 'pending' AND ` + matchSQL
	// keepFromSQL finds the id of the request that has ?1 newer ones.
	keepFromSQL = `SELECT id FROM requests ORDER BY id DESC LIMIT 1 OFFSET ?1`
	// usedSQL measures the pages in use and counts the requests.
	usedSQL = `SELECT (p.page_count - f.freelist_count) * s.page_size, (SELECT count(*) FROM requests)
		FROM pragma_page_count() p, pragma_freelist_count() f, pragma_page_size() s`
)

// PruneOptions says which requests Prune deletes. A request is deleted when it was received
// before Before or is not among the newest Keep (both bounds apply when both are set), unless
// its background delivery is still pending.
type PruneOptions struct {
	// Before deletes the requests received before it; zero sets no age bound. A request
	// recorded without a receive time is never older than Before.
	Before time.Time
	// Keep deletes every request but the newest Keep, by id (the order they were recorded
	// in); 0 sets no count bound.
	Keep int
	// DryRun only counts what would be deleted; it works on a read-only Store too.
	DryRun bool
}

// PruneResult says what Prune or TrimToSize did.
type PruneResult struct {
	// Deleted is the number of requests deleted, with their attempts, duplicates rows,
	// deliveries and index entries (for a dry run: that would be deleted).
	Deleted int64
	// KeptPending is the number of requests that would have been deleted but were kept
	// because their background delivery is still pending.
	KeptPending int64
	// SizeBefore and SizeAfter are the bytes of the log file and its write-ahead log before
	// and after (see Size).
	SizeBefore, SizeAfter int64
	// OverLimit is set by TrimToSize when the log is still above its target because nothing
	// is left to delete but requests whose delivery is pending (KeptPending), if any.
	OverLimit bool
}

// Prune deletes the requests that o selects, oldest first, in small transactions that let
// requests being recorded meanwhile through, and then shrinks the log file and its
// write-ahead log (see the comment at the top of prune.go). Requests whose background delivery
// is pending are never deleted: an acknowledged webhook must still be delivered. A log created
// by an older hookctl, without incremental auto-vacuum, is converted once with a VACUUM, which
// rewrites the whole file and holds the write lock while it runs. On an error, the result says
// what was done until then. A read-only Store gives an error wrapping ErrReadOnly, except for
// a dry run.
func (s *Store) Prune(ctx context.Context, o PruneOptions) (PruneResult, error) {
	var res PruneResult
	if o.Keep < 0 {
		return res, fmt.Errorf("prune log: keep %d: must not be negative", o.Keep)
	}
	before, err := timeArg("prune log: before", o.Before)
	if err != nil {
		return res, err
	}
	if before == nil && o.Keep == 0 {
		return res, errors.New("prune log: no bound: set Before or Keep")
	}
	if err := s.checkOpen("prune log"); err != nil {
		return res, err
	}
	if s.readOnly && !o.DryRun {
		return res, fmt.Errorf("prune log: %w", ErrReadOnly)
	}
	if res.SizeBefore, err = s.Size(ctx); err != nil {
		return res, err
	}
	keepFrom, err := s.keepFrom(ctx, o.Keep)
	if err != nil {
		return res, err
	}
	if o.DryRun {
		if err := s.rd.QueryRowContext(ctx, countPruneSQL, before, keepFrom).Scan(&res.Deleted); err != nil {
			return res, wrap("prune log", err)
		}
		if err := s.rd.QueryRowContext(ctx, countKeptSQL, before, keepFrom).Scan(&res.KeptPending); err != nil {
			return res, wrap("prune log", err)
		}
		res.SizeAfter = res.SizeBefore
		return res, nil
	}

	var walks []*pruneCursor
	if at, ok := before.(int64); ok {
		walks = append(walks, &pruneCursor{byAge: true, before: at, at: math.MinInt64})
	}
	if keepFrom > 0 {
		walks = append(walks, &pruneCursor{below: keepFrom})
	}
	for _, c := range walks {
		for !c.done {
			if err := ctx.Err(); err != nil {
				return res, err
			}
			n, err := s.deleteBatch(ctx, c, pruneBatchRows)
			res.Deleted += n
			if err != nil {
				return res, err
			}
		}
	}
	if err := s.rd.QueryRowContext(ctx, countKeptSQL, before, keepFrom).Scan(&res.KeptPending); err != nil {
		return res, wrap("prune log", err)
	}
	if err := s.reclaim(ctx); err != nil {
		return res, err
	}
	res.SizeAfter, err = s.Size(ctx)
	return res, err
}

// keepFrom returns the id of the keep-th newest request: the requests below it are not among
// the newest keep. It returns 0 (no count bound) for keep 0 or a log with fewer requests.
func (s *Store) keepFrom(ctx context.Context, keep int) (int64, error) {
	if keep <= 0 {
		return 0, nil
	}
	var id int64
	err := s.rd.QueryRowContext(ctx, keepFromSQL, keep-1).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, wrap("prune log", err)
	}
	return id, nil
}

// Size returns the bytes the log takes: its pages (page_count * page_size, which includes
// those not yet copied from the write-ahead log) and the write-ahead log file as it is on
// disk.
func (s *Store) Size(ctx context.Context) (int64, error) {
	if err := s.checkOpen("measure log"); err != nil {
		return 0, err
	}
	var n int64
	err := s.rd.QueryRowContext(ctx, "SELECT p.page_count * s.page_size FROM pragma_page_count() p, pragma_page_size() s").Scan(&n)
	if err != nil {
		return 0, wrap("measure log", err)
	}
	wal, err := os.Stat(s.path + "-wal")
	switch {
	case err == nil:
		n += wal.Size()
	case !errors.Is(err, fs.ErrNotExist):
		return 0, fmt.Errorf("measure log: %w", err)
	}
	return n, nil
}

// TrimToSize deletes requests, oldest first, until the pages in use in the log take at most
// about 90% of maxBytes, and then shrinks the files as Prune does. It estimates how many
// requests to delete from their average size, deletes them in batches and measures again.
// Requests whose delivery is pending are never deleted: if only those are left while the log
// is still too big, it stops and sets OverLimit. KeptPending counts the pending requests it
// passed over. A read-only Store gives an error wrapping ErrReadOnly.
func (s *Store) TrimToSize(ctx context.Context, maxBytes int64) (PruneResult, error) {
	var res PruneResult
	if maxBytes <= 0 {
		return res, fmt.Errorf("trim log: size limit %d: must be positive", maxBytes)
	}
	if err := s.checkOpen("trim log"); err != nil {
		return res, err
	}
	if s.readOnly {
		return res, fmt.Errorf("trim log: %w", ErrReadOnly)
	}
	var err error
	if res.SizeBefore, err = s.Size(ctx); err != nil {
		return res, err
	}
	target := maxBytes - maxBytes/100*(100-trimTargetPercent)
	c := &pruneCursor{below: math.MaxInt64}
	for {
		var used, n int64
		if err := s.rd.QueryRowContext(ctx, usedSQL).Scan(&used, &n); err != nil {
			return res, wrap("trim log", err)
		}
		if used <= target {
			break
		}
		if c.done || n == 0 {
			res.OverLimit = true
			break
		}
		// Requests of average size (their share of every page in use) to free used - target.
		want := int64(math.Ceil(float64(used-target) / (float64(used) / float64(n))))
		for want > 0 && !c.done {
			if err := ctx.Err(); err != nil {
				return res, err
			}
			k, err := s.deleteBatch(ctx, c, int(min(want, pruneBatchRows)))
			res.Deleted += k
			want -= k
			if err != nil {
				return res, err
			}
		}
	}
	passed := c.id
	if c.done {
		passed = math.MaxInt64
	}
	err = s.rd.QueryRowContext(ctx, "SELECT count(*) FROM deliveries WHERE state = 'pending' AND request_id <= ?", passed).
		Scan(&res.KeptPending)
	if err != nil {
		return res, wrap("trim log", err)
	}
	if err := s.reclaim(ctx); err != nil {
		return res, err
	}
	res.SizeAfter, err = s.Size(ctx)
	return res, err
}

// LimitSize keeps the log under maxBytes until ctx ends: it measures the log (Size) at once
// and then every every (0: a minute), and when it is over maxBytes trims it with TrimToSize
// and calls report, if not nil, with the outcome. A failure to measure is reported too. It
// returns early, after reporting why, when maxBytes is not positive or the Store is read-only
// or closed. It is meant to run in a goroutine of its own beside the listener.
func (s *Store) LimitSize(ctx context.Context, maxBytes int64, every time.Duration, report func(PruneResult, error)) {
	if report == nil {
		report = func(PruneResult, error) {}
	}
	switch {
	case maxBytes <= 0:
		report(PruneResult{}, fmt.Errorf("limit log size: size limit %d: must be positive", maxBytes))
		return
	case s.readOnly:
		report(PruneResult{}, fmt.Errorf("limit log size: %w", ErrReadOnly))
		return
	}
	if every <= 0 {
		every = defaultLimitEvery
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		size, err := s.Size(ctx)
		if err == nil && size > maxBytes {
			var res PruneResult
			res, err = s.TrimToSize(ctx, maxBytes)
			if err == nil || ctx.Err() == nil { // not cut short by the end of ctx
				report(res, err)
			}
		} else if err != nil && ctx.Err() == nil {
			report(PruneResult{}, err)
		}
		if errors.Is(err, ErrClosed) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// pruneCursor is how far a walk over the requests to delete has got: by age (received_at,
// id) among those received before a bound, or by id below a bound.
type pruneCursor struct {
	byAge  bool
	before int64 // by age: the received_at bound (exclusive)
	below  int64 // by id: the id bound (exclusive)
	at     int64 // by age: received_at of the last request deleted
	id     int64 // id of the last request deleted
	done   bool  // nothing is left to delete
}

// next selects the next requests to delete, up to limit and about pruneBatchBytes of bodies
// (at least one), and returns their ids as a JSON array and how many there are.
func (c *pruneCursor) next(ctx context.Context, conn *sql.Conn, limit int) ([]byte, int, error) {
	var rows *sql.Rows
	var err error
	if c.byAge {
		rows, err = conn.QueryContext(ctx, selectByAgeSQL, c.before, c.at, c.id, limit)
	} else {
		rows, err = conn.QueryContext(ctx, selectByIDSQL, c.id, c.below, limit)
	}
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	ids := []byte{'['}
	n, bytes := 0, int64(0)
	full := false // the batch is full before the walk's end
	for rows.Next() {
		if bytes >= pruneBatchBytes {
			full = true // the rest is for the next batch
			break
		}
		var id, size int64
		var at sql.NullInt64
		if err := rows.Scan(&id, &at, &size); err != nil {
			return nil, 0, err
		}
		if n > 0 {
			ids = append(ids, ',')
		}
		ids = strconv.AppendInt(ids, id, 10)
		n++
		bytes += size
		c.id, c.at = id, at.Int64
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	if !full && n < limit {
		c.done = true // the walk reached its end
	}
	return append(ids, ']'), n, nil
}

// deleteBatch deletes the next requests of c's walk, up to limit, in one transaction on the
// writer, and returns how many it deleted.
func (s *Store) deleteBatch(ctx context.Context, c *pruneCursor, limit int) (int64, error) {
	var n int64
	err := s.exclusive(ctx, "prune log", func(w *writer) error {
		bg := context.Background() // a statement interrupted halfway would leave the transaction open
		if _, err := w.exec(w.begin); err != nil {
			return wrap("prune log: begin", err)
		}
		saved := *c
		ids, k, err := c.next(bg, w.conn, limit)
		if err == nil && k > 0 {
			var r sql.Result
			if r, err = w.conn.ExecContext(bg, deleteIDsSQL, string(ids)); err == nil {
				n, err = r.RowsAffected()
			}
		}
		if err == nil {
			_, err = w.exec(w.commit)
		}
		if err != nil {
			w.rollbackQuietly()
			*c, n = saved, 0
			return wrap("prune log", err)
		}
		w.s.commits.Add(1)
		return nil
	})
	return n, err
}

// reclaim gives the free pages of the log back to the file system and empties the
// write-ahead log: incremental_vacuum in steps of vacuumStepPages, each in a transaction of its
// own on the writer; a log without auto_vacuum is converted first, once, with a VACUUM.
func (s *Store) reclaim(ctx context.Context) error {
	var mode, free int64
	err := s.exclusive(ctx, "reclaim space", func(w *writer) error {
		bg := context.Background()
		if err := w.conn.QueryRowContext(bg, "PRAGMA auto_vacuum").Scan(&mode); err != nil {
			return wrap("reclaim space", err)
		}
		if err := w.conn.QueryRowContext(bg, "PRAGMA freelist_count").Scan(&free); err != nil {
			return wrap("reclaim space", err)
		}
		if mode != 0 || free == 0 {
			return nil
		}
		// auto_vacuum NONE: a VACUUM rebuilds the file with the new setting and no free pages.
		s.log.Info("converting log to incremental auto-vacuum", "path", s.path, "free_pages", free)
		if _, err := w.conn.ExecContext(bg, "PRAGMA auto_vacuum = INCREMENTAL"); err != nil {
			return wrap("reclaim space", err)
		}
		if _, err := w.conn.ExecContext(bg, "VACUUM"); err != nil {
			return wrap("reclaim space: vacuum", err)
		}
		w.s.commits.Add(1)
		free = 0
		return nil
	})
	if err != nil {
		return err
	}
	for prev := int64(math.MaxInt64); mode == 2 && free > 0 && free < prev; { // INCREMENTAL; FULL (1) frees pages at every commit
		if err := ctx.Err(); err != nil {
			return err
		}
		prev = free
		err := s.exclusive(ctx, "reclaim space", func(w *writer) error {
			bg := context.Background()
			if _, err := w.conn.ExecContext(bg, fmt.Sprintf("PRAGMA incremental_vacuum(%d)", vacuumStepPages)); err != nil {
				return wrap("reclaim space", err)
			}
			w.s.commits.Add(1)
			if err := w.conn.QueryRowContext(bg, "PRAGMA freelist_count").Scan(&free); err != nil {
				return wrap("reclaim space", err)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return s.truncateWAL(ctx)
}

// truncateWAL runs a TRUNCATE checkpoint on the writer's connection: it copies the whole
// write-ahead log into the log file, which shrinks to its page count, and empties it. Like the
// final checkpoint of Close, it waits at most checkpointBusyTimeout for readers, and a
// checkpoint that cannot complete because the log is in use is not an error: the store's
// PASSIVE checkpoints, or the next trim, finish the work.
func (s *Store) truncateWAL(ctx context.Context) error {
	for try := 1; ; try++ {
		var busy, frames, done int
		err := s.exclusive(ctx, "checkpoint", func(w *writer) error {
			bg := context.Background()
			if _, err := w.conn.ExecContext(bg, fmt.Sprintf("PRAGMA busy_timeout=%d", checkpointBusyTimeout.Milliseconds())); err != nil {
				return wrap("checkpoint", err)
			}
			err := w.conn.QueryRowContext(bg, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &frames, &done)
			if _, rerr := w.conn.ExecContext(bg, fmt.Sprintf("PRAGMA busy_timeout=%d", busyTimeout.Milliseconds())); rerr != nil && err == nil {
				err = rerr
			}
			if err != nil && isBusy(err) {
				busy, err = 1, nil
			}
			return wrap("checkpoint", err)
		})
		if err != nil {
			return err
		}
		if busy == 0 {
			s.checkpoints.Add(1)
			s.log.Debug("truncate checkpoint", "wal_frames", frames, "checkpointed", done)
			return nil
		}
		if try == checkpointTries {
			s.log.Debug("truncate checkpoint incomplete: log in use", "path", s.path)
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(checkpointRetry):
		}
	}
}
