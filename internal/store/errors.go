package store

import (
	"errors"
	"fmt"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// ErrNotFound is returned, wrapped, for a request or attempt that is not in the log.
var ErrNotFound = errors.New("not found")

// ErrCorrupt is returned, wrapped, when the log file exists but is not a SQLite database, its
// schema cannot be read, or it is another program's database.
var ErrCorrupt = errors.New("log file is corrupt or not a hookctl log")

// ErrNewerSchema is returned, wrapped, when the log was written by a newer hookctl whose schema
// version this build does not know.
var ErrNewerSchema = errors.New("log was written by a newer hookctl")

// ErrLocked is returned, wrapped, when another process held the log's write lock for longer
// than the busy timeout.
var ErrLocked = errors.New("log is locked by another process")

// ErrClosed is returned, wrapped, by operations on a Store that has been closed.
var ErrClosed = errors.New("log is closed")

// ErrReadOnly is returned, wrapped, by writes to a Store opened with Config.ReadOnly.
var ErrReadOnly = errors.New("log is open read-only")

// ErrBadFilter is returned, wrapped, by ParseQuery and List for a filter that cannot be
// applied, such as an unknown status or query key; the message says what is valid.
var ErrBadFilter = errors.New("invalid filter")

// sqliteCode returns the extended SQLite result code carried by err, or 0.
func sqliteCode(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()
	}
	return 0
}

// isBusy reports whether err is SQLITE_BUSY or SQLITE_LOCKED (any extended code).
func isBusy(err error) bool {
	switch sqliteCode(err) & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return true
	}
	return false
}

// isCorrupt reports whether err says the file is not a database or is malformed.
func isCorrupt(err error) bool {
	switch sqliteCode(err) & 0xff {
	case sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT:
		return true
	}
	return false
}

// isForeignKey reports whether err is a foreign key constraint failure.
func isForeignKey(err error) bool {
	return sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

// wrap adds the operation name to err and maps SQLite's busy and corruption errors onto the
// package's sentinels, so that callers can test them with errors.Is.
func wrap(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case isBusy(err):
		return fmt.Errorf("%s: %w (gave up after %s; is another hookctl writing to it?)", op, ErrLocked, busyTimeout)
	case isCorrupt(err):
		return fmt.Errorf("%s: %w: %v", op, ErrCorrupt, err)
	default:
		return fmt.Errorf("%s: %w", op, err)
	}
}
