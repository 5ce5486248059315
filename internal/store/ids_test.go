package store

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/hookctl/hookctl/internal/webhook"
)

// TestRequestIDsNeverReused deletes the newest requests in each way a log can lose them and
// checks that the next request gets an id above every id given before.
func TestRequestIDsNeverReused(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		// remove deletes requests after ids 1..5 were given; it may close and reopen s.
		remove func(t *testing.T, s *Store, path string) *Store
		// bulk inserts the next request with Seed rather than AddRequest.
		bulk bool
	}{
		{"newest deleted by another process", func(t *testing.T, s *Store, path string) *Store {
			mustExec(t, rawDB(t, path), "DELETE FROM requests WHERE id >= 4")
			return s
		}, false},
		{"all deleted by another process", func(t *testing.T, s *Store, path string) *Store {
			mustExec(t, rawDB(t, path), "DELETE FROM requests")
			return s
		}, false},
		{"all pruned", func(t *testing.T, s *Store, path string) *Store {
			if _, err := s.Prune(ctx, PruneOptions{Before: time.Now().Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			return s
		}, false},
		{"newest deleted, log reopened", func(t *testing.T, s *Store, path string) *Store {
			mustExec(t, rawDB(t, path), "DELETE FROM requests WHERE id = 5")
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			return openStore(t, Config{Path: path})
		}, false},
		{"newest deleted, then a bulk insert", func(t *testing.T, s *Store, path string) *Store {
			mustExec(t, rawDB(t, path), "DELETE FROM requests WHERE id = 5")
			return s
		}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := logPath(t)
			s, err := Open(ctx, Config{Path: path})
			if err != nil {
				t.Fatal(err)
			}
			defer func() { s.Close() }()
			for i := range 5 {
				r := sampleRequest(i, []byte(`{}`))
				if err := s.AddRequest(ctx, r); err != nil {
					t.Fatal(err)
				}
				if r.ID != int64(i+1) {
					t.Fatalf("request %d got id %d", i+1, r.ID)
				}
			}
			s = tc.remove(t, s, path)
			r := sampleRequest(5, []byte(`{}`))
			if tc.bulk {
				err = Seed(ctx, s, 1, func(int) *webhook.Request { return r })
			} else {
				err = s.AddRequest(ctx, r)
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.ID != 6 {
				t.Errorf("next request got id %d, want 6", r.ID)
			}
			// Once above the floor, ids follow on as usual.
			r2 := sampleRequest(6, []byte(`{}`))
			if err := s.AddRequest(ctx, r2); err != nil {
				t.Fatal(err)
			}
			if r2.ID != 7 {
				t.Errorf("the request after got id %d, want 7", r2.ID)
			}
		})
	}
}

// TestRequestIDFloorFromOlderLog checks that a log made before 0007, whose requests table had
// AUTOINCREMENT, keeps its sequence as the floor when it is migrated.
func TestRequestIDFloorFromOlderLog(t *testing.T) {
	ctx := context.Background()
	path := logPath(t)
	testMigrateUpTo = 6
	old, err := Open(ctx, Config{Path: path})
	testMigrateUpTo = 0
	if err == nil { // preparing today's statements fails on the old schema; the file is migrated anyway
		old.Close()
	}
	db := rawDB(t, path)
	// What AUTOINCREMENT left behind: ids up to 40 given, the newest deleted since.
	mustExec(t, db, "INSERT INTO requests (id, method) VALUES (10, 'POST')")
	mustExec(t, db, "INSERT INTO sqlite_sequence (name, seq) VALUES ('requests', 40)")
	s := openStore(t, Config{Path: path})
	r := sampleRequest(0, nil)
	if err := s.AddRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	if r.ID != 41 {
		t.Errorf("first request after the migration got id %d, want 41", r.ID)
	}
}

func mustExec(t *testing.T, db *sql.DB, query string, args ...any) {
	t.Helper()
	if _, err := db.Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}
