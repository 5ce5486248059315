package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Indexing the tail (see migrations/0005_search_tail.sql). The statements run on whichever
// connection holds the write lock: the writer's, or a short-lived one of a store without a
// writer (indexTailOnce).
const (
	// indexChunk is the most requests indexed in one transaction, which bounds how long a
	// burst's indexing holds up the writes queued behind it.
	indexChunk = 2048

	selectTailSQL = `SELECT s.indexed_to, coalesce((SELECT max(id) FROM requests), 0) FROM search_state s WHERE s.id = 1`
	setIndexedSQL = `UPDATE search_state SET indexed_to = ? WHERE id = 1`
)

// When the writer indexes the tail: after indexIdle without writes, and before every search.
// Webhooks come in bursts: during one, requests are committed without their index entries and
// the burst is indexed once it is over, many requests per statement, which costs much less per
// request than a few at every commit (FTS5 writes a segment per statement, then merges them).
// A burst that goes on past maxUnindexed requests gets indexed a chunk at a time between two
// batches, so that the tail, and what the next search has to index first, stays bounded.
const (
	indexIdle    = 50 * time.Millisecond
	maxUnindexed = 100000
)

// execer runs a statement: a *sql.Conn or a *sql.Tx.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// indexTail adds the requests of the tail to the full-text index, up to indexChunk of them,
// in the caller's transaction. It returns how many requests remain unindexed.
func indexTail(ctx context.Context, c execer) (int64, error) {
	var from, to int64
	if err := c.QueryRowContext(ctx, selectTailSQL).Scan(&from, &to); err != nil {
		return 0, err
	}
	if to <= from {
		return 0, nil
	}
	end := min(to, from+indexChunk)
	if _, err := c.ExecContext(ctx, indexRequestsSQL, from+1, end); err != nil {
		return 0, err
	}
	if _, err := c.ExecContext(ctx, setIndexedSQL, end); err != nil {
		return 0, err
	}
	return to - end, nil
}

// indexAll indexes the whole tail on the writer, a transaction per chunk.
func (w *writer) indexAll() error {
	for {
		left, err := w.indexOnce()
		if err != nil || left == 0 {
			return err
		}
	}
}

// indexOnce indexes one chunk of the tail in its own transaction and returns how many
// requests remain unindexed.
func (w *writer) indexOnce() (int64, error) {
	ctx := context.Background()
	if _, err := w.exec(w.begin); err != nil {
		return 0, wrap("index requests", err)
	}
	left, err := indexTail(ctx, w.conn)
	if err == nil {
		_, err = w.exec(w.commit)
	}
	if err != nil {
		w.rollbackQuietly()
		return 0, wrap("index requests", err)
	}
	w.s.commits.Add(1)
	w.unindexed = left
	return left, nil
}

// catchUp is what the writer does between batches: index a chunk of the tail once
// maxUnindexed requests wait. A failure is logged; the tail is indexed on a later try.
func (w *writer) catchUp() {
	if w.unindexed < maxUnindexed {
		return
	}
	if _, err := w.indexOnce(); err != nil {
		w.s.log.Warn("full-text index", "err", err)
	}
}

// FlushIndex makes every request recorded so far searchable: the writer, or for a store
// opened without one a short transaction of its own, indexes the tail. List calls it before a
// search.
func (s *Store) FlushIndex(ctx context.Context) error {
	if s.w != nil {
		return s.exclusive(ctx, "index requests", func(w *writer) error { return w.indexAll() })
	}
	var from, to int64
	if err := s.rd.QueryRowContext(ctx, selectTailSQL).Scan(&from, &to); err != nil {
		return wrap("index requests", err)
	}
	if to <= from {
		return nil
	}
	return s.indexTailOnce(ctx)
}

// indexTailOnce indexes the tail through a connection of its own, for a store without a
// writer (another process's listen may be writing meanwhile: the write lock orders them).
func (s *Store) indexTailOnce(ctx context.Context) error {
	db, err := sql.Open("sqlite", dsn(s.path, fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()), "foreign_keys(1)")+"&_txlock=immediate")
	if err != nil {
		return fmt.Errorf("index requests: %w", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for {
		tx, err := db.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the tail read is the one indexed
		if err != nil {
			return wrap("index requests", err)
		}
		left, err := indexTail(ctx, tx)
		if err == nil {
			err = tx.Commit()
		} else {
			tx.Rollback()
		}
		if err != nil {
			return wrap("index requests", err)
		}
		if left == 0 {
			return nil
		}
	}
}
