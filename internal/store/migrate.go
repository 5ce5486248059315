package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// migrationFS holds the schema migrations, numbered NNNN_name.sql and applied in order.
//
//go:embed migrations/*.sql
var migrationFS embed.FS

// testMigrateUpTo, when not 0, makes Open migrate only up to this version and take it for the
// latest: tests set it to make a log as an older hookctl left it. Tests only, never in parallel.
var testMigrateUpTo int

// migration is one embedded schema step.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in version order. Versions must start at 1 and
// have no gaps.
func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive number and '_'", name)
		}
		text, err := fs.ReadFile(migrationFS, path.Join("migrations", name))
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: strings.TrimSuffix(name, ".sql"), sql: string(text)})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: expected version %d", m.name, i+1)
		}
	}
	return ms, nil
}

// schemaVersion returns the log's schema version (0 for a fresh file) and whether the version
// table exists.
func schemaVersion(ctx context.Context, c *sql.Conn) (int, bool, error) {
	var n int
	err := c.QueryRowContext(ctx,
		"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").Scan(&n)
	if err != nil || n == 0 {
		return 0, false, err
	}
	var v sql.NullInt64
	if err := c.QueryRowContext(ctx, "SELECT max(version) FROM schema_migrations").Scan(&v); err != nil {
		return 0, true, err
	}
	return int(v.Int64), true, nil
}

// migrate brings the log's schema up to date: every pending migration in one BEGIN IMMEDIATE
// transaction, so that two processes opening a fresh log at once do not both apply them (the
// second waits for the lock, then finds nothing to do).
func (s *Store) migrate(ctx context.Context, c *sql.Conn) (err error) {
	ms, err := migrations()
	if err != nil {
		return fmt.Errorf("migrate log %s: %w", s.path, err)
	}
	if testMigrateUpTo > 0 {
		ms = ms[:min(testMigrateUpTo, len(ms))]
	}
	latest := len(ms)

	v, _, err := schemaVersion(ctx, c)
	if err != nil {
		return s.openErr(err)
	}
	if v > latest {
		return s.newerErr(v, latest)
	}
	if v == latest {
		return nil
	}

	if _, err := c.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return wrap("migrate log "+s.path, err)
	}
	committed := false
	defer func() {
		if !committed {
			// The transaction may already be gone after some errors; that is fine.
			_, _ = c.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()

	// Another process may have migrated while this one waited for the lock.
	v, exists, err := schemaVersion(ctx, c)
	if err != nil {
		return s.openErr(err)
	}
	if v > latest {
		return s.newerErr(v, latest)
	}
	if !exists {
		var n int
		if err := c.QueryRowContext(ctx,
			"SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'").Scan(&n); err != nil {
			return s.openErr(err)
		}
		if n > 0 {
			return fmt.Errorf("open log %s: %w: it is a SQLite database of another program; move it aside or choose another log with --db", s.path, ErrCorrupt)
		}
		if _, err := c.ExecContext(ctx, `CREATE TABLE schema_migrations (
			version    INTEGER PRIMARY KEY,
			name       TEXT    NOT NULL,
			applied_at INTEGER NOT NULL
		)`); err != nil {
			return wrap("migrate log "+s.path, err)
		}
	}
	now := time.Now().UnixNano()
	for _, m := range ms[v:] {
		if _, err := c.ExecContext(ctx, m.sql); err != nil {
			return wrap("migrate log "+s.path+": "+m.name, err)
		}
		if _, err := c.ExecContext(ctx,
			"INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)", m.version, m.name, now); err != nil {
			return wrap("migrate log "+s.path+": "+m.name, err)
		}
	}
	if _, err := c.ExecContext(ctx, "COMMIT"); err != nil {
		return wrap("migrate log "+s.path, err)
	}
	committed = true
	s.log.Info("migrated log", "path", s.path, "from", v, "to", latest)
	return nil
}

// newerErr reports a log written by a newer hookctl.
func (s *Store) newerErr(have, know int) error {
	return fmt.Errorf("open log %s: %w (schema version %d, this hookctl knows up to %d); upgrade hookctl or choose another log with --db",
		s.path, ErrNewerSchema, have, know)
}
