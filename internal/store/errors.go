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

// isReadOnlyFile reports whether err is SQLITE_READONLY (any extended code): SQLite could not
// write the log, its -wal or -shm file, or create them in the log's directory.
func isReadOnlyFile(err error) bool {
	return sqliteCode(err)&0xff == sqlite3.SQLITE_READONLY
}

// isWriteFailure reports whether err is a failed write to the disk: SQLITE_FULL, or
// SQLITE_IOERR_WRITE, which is what a write refused for a file size limit (EFBIG) gives.
func isWriteFailure(err error) bool {
	c := sqliteCode(err)
	return c&0xff == sqlite3.SQLITE_FULL || c == sqlite3.SQLITE_IOERR_WRITE
}

// isForeignKey reports whether err is a foreign key constraint failure.
func isForeignKey(err error) bool {
	return sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

// wrap adds the operation name to err and maps SQLite's busy and corruption errors onto the
// package's sentinels, so that callers can test them with errors.Is. Errors whose SQLite text
// would mislead (a read that fails with "attempt to write a readonly database") or say too
// little ("disk I/O error") get an explanation.
func wrap(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case isBusy(err):
		return fmt.Errorf("%s: %w (gave up after %s; is another hookctl writing to it?)", op, ErrLocked, busyTimeout)
	case isCorrupt(err):
		return fmt.Errorf("%s: %w: %v", op, ErrCorrupt, err)
	// The SQLite error is formatted, not wrapped, as for corruption, so that wrapping the
	// result again does not explain it twice.
	case sqliteCode(err) == sqlite3.SQLITE_READONLY_DIRECTORY:
		return fmt.Errorf("%s: the log's directory is not writable, and SQLite must create the log's -wal and -shm files there (%v); "+
			"use a log in a writable directory", op, err)
	case isReadOnlyFile(err):
		return fmt.Errorf("%s: the log file or its -wal or -shm file is not writable by this user (%v)", op, err)
	case isWriteFailure(err):
		return fmt.Errorf("%s: could not write to the log file (%v); is the disk full?", op, err)
	default:
		return fmt.Errorf("%s: %w", op, err)
	}
}
