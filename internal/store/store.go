// Package store keeps hookctl's request log: every incoming webhook request and every attempt
// to deliver it, in one SQLite file (pure Go, modernc.org/sqlite) in WAL mode.
//
// A Store has one writer goroutine that owns the write connection and group-commits: the
// callers of AddRequest and AddAttempt queue their insert and wait, and the writer commits
// everything queued so far in one transaction, so that many concurrent requests share one
// commit. Reads go through a separate pool of query-only connections and never wait for the
// writer. Checkpoints run in their own goroutine, off the request path. Several processes may
// open the same log at once (a listener writing while another command reads or replays).
//
// The schema comes from numbered migrations embedded in the binary and applied, all pending
// ones in one transaction, when the log is opened.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// busyTimeout is how long a connection waits for another connection's lock before failing.
const busyTimeout = 5 * time.Second

// closeBusyTimeout bounds the wait of the final checkpoint in Close for other processes'
// readers, so that Close stays quick when another hookctl is reading the log.
const closeBusyTimeout = time.Second

// readerConns is the size of the read pool.
const readerConns = 4

// Defaults for Config fields left zero.
const (
	defaultMaxBatch           = 256
	defaultCheckpointInterval = time.Second
)

// Config says which log file to open and how.
type Config struct {
	// Path is the log file. It is required; the file is created with mode 0600, and its
	// directory with mode 0700, when missing.
	Path string
	// Logger receives diagnostics (migrations, checkpoints, failures off the request path).
	// Nil discards them.
	Logger *slog.Logger
	// MaxBatch is the most inserts the writer commits in one transaction; 0 means 256.
	MaxBatch int
	// Synchronous is SQLite's synchronous setting for writes: "normal" (the default; a commit
	// survives a crash of hookctl, and a power loss may lose the last commits) or "full".
	Synchronous string
	// CheckpointInterval is how often a background goroutine copies the write-ahead log into
	// the database file (a PASSIVE checkpoint, only when something was written); 0 means 1s.
	CheckpointInterval time.Duration
	// ReadOnly opens the log for reading only: no writer goroutine and no checkpoints. A
	// missing or outdated log is still created or migrated, and a corrupt file still fails.
	ReadOnly bool
}

// Store is an open request log. Its methods are safe for concurrent use.
type Store struct {
	path     string
	log      *slog.Logger
	readOnly bool

	rd    *sql.DB // query-only pool
	reads readStmts

	rw      *sql.DB   // the writer's and the checkpointer's connections; nil when read-only
	w       *writer   // owned by the writer goroutine once started
	ckConn  *sql.Conn // the checkpointer's connection
	ckEvery time.Duration

	mu     sync.RWMutex // held for reading while queueing, for writing by Close
	closed atomic.Bool
	ops    chan *op
	tx     chan *txOp
	quit   chan struct{}
	done   sync.WaitGroup

	commits     atomic.Uint64 // transactions the writer committed
	batches     atomic.Uint64 // group-commit transactions (for tests)
	checkpoints atomic.Uint64 // checkpoints run (for tests)

	closeOnce sync.Once
	closeErr  error
}

// Open opens the log at cfg.Path, creating it and applying pending migrations as needed, and
// starts the writer and checkpoint goroutines unless cfg.ReadOnly is set.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Path == "" {
		return nil, errors.New("open log: no path given")
	}
	syncMode, err := synchronousMode(cfg.Synchronous)
	if err != nil {
		return nil, err
	}
	path, err := filepath.Abs(cfg.Path)
	if err != nil {
		return nil, fmt.Errorf("open log %s: %w", cfg.Path, err)
	}
	if err := createFile(path, cfg.ReadOnly); err != nil {
		return nil, err
	}
	s := &Store{
		path:     path,
		log:      cfg.Logger,
		readOnly: cfg.ReadOnly,
		ckEvery:  cfg.CheckpointInterval,
		quit:     make(chan struct{}),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.ckEvery <= 0 {
		s.ckEvery = defaultCheckpointInterval
	}
	if cfg.ReadOnly && !canCreateIn(filepath.Dir(path)) {
		if err := s.openImmutable(ctx); err != nil {
			return nil, err
		}
		return s, nil
	}
	maxBatch := cfg.MaxBatch
	if maxBatch <= 0 {
		maxBatch = defaultMaxBatch
	}

	// The write pool: the writer's connection (also used to set the log up) and the
	// checkpointer's.
	rw, err := sql.Open("sqlite", dsn(path,
		"busy_timeout("+fmt.Sprint(busyTimeout.Milliseconds())+")",
		"foreign_keys(1)",
		"synchronous("+syncMode+")",
		"wal_autocheckpoint(0)",
		// A checkpoint that resets the write-ahead log truncates it to this size, so a burst
		// does not leave the -wal file at its high-water mark until the log is closed.
		"journal_size_limit(67108864)",
	))
	if err != nil {
		return nil, fmt.Errorf("open log %s: %w", path, err)
	}
	rw.SetMaxOpenConns(2)
	rw.SetMaxIdleConns(2)
	rw.SetConnMaxLifetime(0)
	rw.SetConnMaxIdleTime(0)
	wconn, err := rw.Conn(ctx)
	if err != nil {
		rw.Close()
		return nil, s.openErr(err)
	}
	if err := s.setup(ctx, wconn); err != nil {
		wconn.Close()
		rw.Close()
		return nil, err
	}

	s.rd, err = sql.Open("sqlite", dsn(path,
		"busy_timeout("+fmt.Sprint(busyTimeout.Milliseconds())+")",
		"query_only(1)",
	))
	if err != nil {
		wconn.Close()
		rw.Close()
		return nil, fmt.Errorf("open log %s: %w", path, err)
	}
	s.rd.SetMaxOpenConns(readerConns)
	s.rd.SetMaxIdleConns(readerConns)
	if err := s.reads.prepare(ctx, s.rd); err != nil {
		s.reads.close()
		s.rd.Close()
		wconn.Close()
		rw.Close()
		return nil, s.openErr(err)
	}

	if cfg.ReadOnly {
		// Set up (and migrated if needed); no writer.
		err := errors.Join(wconn.Close(), rw.Close())
		if err != nil {
			s.reads.close()
			s.rd.Close()
			return nil, s.openErr(err)
		}
		return s, nil
	}

	s.rw = rw
	s.w, err = newWriter(ctx, s, wconn, maxBatch)
	if err == nil {
		s.ckConn, err = rw.Conn(ctx)
	}
	if err != nil {
		if s.w != nil {
			s.w.close()
		}
		wconn.Close()
		rw.Close()
		s.reads.close()
		s.rd.Close()
		return nil, s.openErr(err)
	}
	s.ops = make(chan *op, maxBatch)
	s.tx = make(chan *txOp)
	s.done.Add(2)
	go s.w.run()
	go s.checkpointLoop()
	return s, nil
}

// synchronousMode validates Config.Synchronous.
func synchronousMode(v string) (string, error) {
	switch strings.ToLower(v) {
	case "", "normal":
		return "NORMAL", nil
	case "full":
		return "FULL", nil
	}
	return "", fmt.Errorf("open log: synchronous must be \"normal\" or \"full\", not %q", v)
}

// createFile creates the log's directory (0700) and the file itself (0600) when missing, so
// that SQLite, which creates files with a wider mode, finds them in place; the -wal and -shm
// files SQLite creates next to the log take the log's mode. An existing file is not modified.
func createFile(path string, readOnly bool) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create log directory %s: %w", dir, err)
	}
	flag := os.O_RDWR | os.O_CREATE
	if readOnly {
		flag = os.O_RDONLY | os.O_CREATE
	}
	f, err := os.OpenFile(path, flag, 0o600)
	if err != nil {
		return fmt.Errorf("open log %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("open log %s: %w", path, err)
	}
	return nil
}

// canCreateIn reports whether files can be created in dir, as SQLite must to read a log in WAL
// mode (its -shm file).
func canCreateIn(dir string) bool {
	f, err := os.CreateTemp(dir, ".hookctl-probe-*")
	if err != nil {
		return false
	}
	f.Close()
	os.Remove(f.Name())
	return true
}

// openImmutable opens a log for reading in a directory where SQLite cannot create the -wal and
// -shm files that WAL mode needs, by telling SQLite that nothing changes the file while it is
// open: no process can write it there, since a writer would have to create them too. A -wal
// file left there by a crash would hold commits an immutable read would miss, so that is an
// error. The log is not migrated: a log of an older schema cannot be read this way.
func (s *Store) openImmutable(ctx context.Context) error {
	if fi, err := os.Stat(s.path + "-wal"); err == nil && fi.Size() > 0 {
		return fmt.Errorf("open log %s: its directory is not writable and %s-wal holds commits not yet in the log; "+
			"open it once where it can be written (or copy the files to a writable directory)", s.path, s.path)
	}
	u := dsn(s.path, "query_only(1)") + "&mode=ro&immutable=1"
	var err error
	if s.rd, err = sql.Open("sqlite", u); err != nil {
		return fmt.Errorf("open log %s: %w", s.path, err)
	}
	if err := s.reads.prepare(ctx, s.rd); err != nil {
		s.reads.close()
		s.rd.Close()
		return s.openErr(err)
	}
	return nil
}

// dsn builds the driver's data source name for path with the given pragmas.
func dsn(path string, pragmas ...string) string {
	q := make(url.Values)
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path), RawQuery: q.Encode()}
	if !strings.HasPrefix(u.Path, "/") {
		u.Path = "/" + u.Path // Windows: file:///C:/...
	}
	return u.String()
}

// openErr wraps an error met while opening the log, with advice for a corrupt file.
func (s *Store) openErr(err error) error {
	if errors.Is(err, ErrCorrupt) || errors.Is(err, ErrNewerSchema) || errors.Is(err, ErrLocked) {
		return err // already explained
	}
	if isCorrupt(err) {
		return fmt.Errorf("open log %s: %w (%v); move the file aside or choose another log with --db", s.path, ErrCorrupt, err)
	}
	return wrap("open log "+s.path, err)
}

// setup checks that the file is a readable database, makes a new one use incremental
// auto-vacuum, switches it to WAL mode and migrates it.
func (s *Store) setup(ctx context.Context, c *sql.Conn) error {
	// Reading the schema is the first thing that looks at the file's header: a file that is
	// not a database fails here, before anything could write to it.
	var n int
	if err := c.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master").Scan(&n); err != nil {
		return s.openErr(err)
	}
	if n == 0 {
		// A new log gives the pages of pruned requests back to the file system with PRAGMA
		// incremental_vacuum (prune.go). auto_vacuum takes effect only if chosen before the
		// first page is written, so before WAL mode and the migrations; on a log that already
		// has pages it changes nothing (Prune converts such a log with a VACUUM).
		if _, err := c.ExecContext(ctx, "PRAGMA auto_vacuum = INCREMENTAL"); err != nil {
			return s.openErr(err)
		}
	}
	var mode string
	if err := c.QueryRowContext(ctx, "PRAGMA journal_mode=WAL").Scan(&mode); err != nil {
		return s.openErr(err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("open log %s: cannot switch to WAL mode (journal mode is %q)", s.path, mode)
	}
	if err := s.migrate(ctx, c); err != nil {
		return err
	}
	// Walk down to the newest rows of the tables every request writes to, where new rows go: a
	// log damaged there fails now, naming the file, rather than at every request.
	for _, q := range []string{"SELECT max(id) FROM requests", "SELECT max(id) FROM attempts", "SELECT max(received_at) FROM requests"} {
		var v sql.NullInt64
		if err := c.QueryRowContext(ctx, q).Scan(&v); err != nil {
			return s.openErr(err)
		}
	}
	return nil
}

// Path returns the absolute path of the log file.
func (s *Store) Path() string { return s.path }

// Close waits for queued writes to commit, stops the writer and checkpoint goroutines, runs a
// final TRUNCATE checkpoint and closes the log. Calling it again returns the first result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed.Store(true)
		s.mu.Unlock()
		close(s.quit)
		s.done.Wait()

		var errs []error
		if s.w != nil {
			errs = append(errs, s.finalCheckpoint())
			errs = append(errs, s.w.close())
			errs = append(errs, s.ckConn.Close())
			errs = append(errs, s.rw.Close())
		}
		errs = append(errs, s.reads.close(), s.rd.Close())
		if err := errors.Join(errs...); err != nil {
			s.closeErr = fmt.Errorf("close log %s: %w", s.path, err)
		}
	})
	return s.closeErr
}

// finalCheckpoint copies the whole WAL into the database file and truncates it, so that the
// log is a single self-contained file once hookctl exits. Readers in other processes may keep
// it from completing; that is not an error.
func (s *Store) finalCheckpoint() error {
	ctx := context.Background()
	c := s.w.conn
	if _, err := c.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout=%d", closeBusyTimeout.Milliseconds())); err != nil {
		return wrap("checkpoint", err)
	}
	var busy, logFrames, done int
	err := c.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logFrames, &done)
	if err != nil {
		if isBusy(err) {
			s.log.Debug("final checkpoint skipped: log in use", "path", s.path)
			return nil
		}
		return wrap("checkpoint", err)
	}
	s.log.Debug("final checkpoint", "path", s.path, "busy", busy, "wal_frames", logFrames, "checkpointed", done)
	return nil
}

// checkpointLoop runs a PASSIVE checkpoint every CheckpointInterval when the writer has
// committed since the last one. PASSIVE never waits for locks, so it neither blocks the writer
// nor readers; WAL auto-checkpointing is off on the writer connection so that no insert ever
// pays for one.
func (s *Store) checkpointLoop() {
	defer s.done.Done()
	t := time.NewTicker(s.ckEvery)
	defer t.Stop()
	var seen uint64
	for {
		select {
		case <-s.quit:
			return
		case <-t.C:
		}
		n := s.commits.Load()
		if n == seen {
			continue
		}
		seen = n
		var busy, logFrames, done int
		err := s.ckConn.QueryRowContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logFrames, &done)
		switch {
		case err == nil:
			s.checkpoints.Add(1)
			s.log.Debug("checkpoint", "wal_frames", logFrames, "checkpointed", done)
		case isBusy(err):
			// Another connection is checkpointing; try again next time.
			seen = 0
		default:
			s.log.Warn("checkpoint failed", "path", s.path, "err", err)
		}
	}
}
