package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hookctl/hookctl/internal/webhook"
)

// pruneNow is the time the prune tests' requests are aged from.
func pruneNow() time.Time { return time.Date(2026, 5, 6, 12, 0, 0, 0, time.UTC) }

const pruneDay = 24 * time.Hour

// pruneRequest is request i of a prune test, received at at (zero: no receive time), with a
// word of its own ("wordI") in its body for the full-text index.
func pruneRequest(i int, at time.Time, body []byte) *webhook.Request {
	if body == nil {
		body = fmt.Appendf(nil, `{"n":%d,"text":"word%d"}`, i, i)
	}
	return &webhook.Request{
		ReceivedAt: at,
		Method:     "POST",
		URI:        fmt.Sprintf("/hooks/%d", i),
		Header:     webhook.Headers{{Name: "Content-Type", Value: "application/json"}},
		Body:       body,
		BodySize:   int64(len(body)),
		Provider:   "stripe",
		DeliveryID: fmt.Sprintf("evt_%d", i),
	}
}

// noiseBody returns n random bytes that the full-text index takes for binary (they start with
// a NUL byte), so that the log's size is mostly its bodies.
func noiseBody(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := 1; i < n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8 && i+j < n; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

// jsonBody returns a webhook-like JSON body of about n bytes, its words distinct per i.
func jsonBody(i, n int) []byte {
	b := fmt.Appendf(nil, `{"id":"evt_%d","type":"payment_intent.succeeded","data":{`, i)
	for k := 0; len(b) < n-30; k++ {
		b = fmt.Appendf(b, `"field_%d":"value %d of request %d",`, k, k, i)
	}
	return append(b, `"amount":1099}}`...)
}

// pruneLogAges is the log of TestPrune: the ages of its requests, in id order; -1 for a
// request without a receive time.
func pruneLogAges() []time.Duration {
	return []time.Duration{
		30 * pruneDay, // 0: has attempts
		20 * pruneDay, // 1: delivery pending
		10 * pruneDay, // 2: a redelivery of 0
		8 * pruneDay,  // 3: delivery given up
		6 * pruneDay,  // 4
		3 * pruneDay,  // 5
		1 * pruneDay,  // 6: delivery delivered
		time.Hour,
		time.Minute, // 8: delivery pending
		0,
		40 * pruneDay, // 10: imported late: old but a high id
		-1,            // 11: no receive time
	}
}

// seedPruneLog records the requests of pruneLogAges(), with attempts, deliveries and a
// duplicate, and returns their ids.
func seedPruneLog(t *testing.T, s *Store) []int64 {
	t.Helper()
	ctx := context.Background()
	ages := pruneLogAges()
	ids := make([]int64, len(ages))
	for i, age := range ages {
		var at time.Time
		if age >= 0 {
			at = pruneNow().Add(-age)
		}
		r := pruneRequest(i, at, nil)
		var o RecordOptions
		switch i {
		case 1, 3, 6, 8:
			o.Deliver = "http://127.0.0.1:1"
		case 2:
			r.DeliveryID = "evt_0"
			o.Dedupe = true
		}
		if _, err := s.Record(ctx, r, o); err != nil {
			t.Fatal(err)
		}
		ids[i] = r.ID
	}
	if d, err := s.Request(ctx, ids[2]); err != nil || d.DuplicateOf != ids[0] {
		t.Fatalf("request 2 is not a duplicate: %+v, %v", d, err)
	}
	for k := range 3 {
		a := &webhook.Attempt{RequestID: ids[0], Kind: webhook.KindForward, StartedAt: pruneNow(), Status: 500 + k}
		if err := s.AddAttempt(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	finish := func(i int, out webhook.DeliveryOutcome) {
		a := &webhook.Attempt{RequestID: ids[i], Kind: webhook.KindForward, StartedAt: pruneNow()}
		if _, err := s.FinishDelivery(ctx, a, out); err != nil {
			t.Fatal(err)
		}
	}
	finish(3, webhook.DeliveryOutcome{GiveUp: true})
	finish(6, webhook.DeliveryOutcome{Delivered: true})
	return ids
}

// remaining returns the indexes in ids of the requests still in the log.
func remaining(t *testing.T, s *Store, ids []int64) []int {
	t.Helper()
	var out []int
	for i, id := range ids {
		_, err := s.Request(context.Background(), id)
		switch {
		case err == nil:
			out = append(out, i)
		case !errors.Is(err, ErrNotFound):
			t.Fatal(err)
		}
	}
	return out
}

// checkNoOrphans checks that no attempt, duplicates row or delivery outlives its request.
func checkNoOrphans(t *testing.T, path string) {
	t.Helper()
	db := rawDB(t, path)
	for _, table := range []string{"attempts", "duplicates", "deliveries"} {
		var n int
		q := "SELECT count(*) FROM " + table + " WHERE request_id NOT IN (SELECT id FROM requests)"
		if err := db.QueryRow(q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%d rows of %s outlive their request", n, table)
		}
	}
	checkFTS(t, path)
}

func TestPrune(t *testing.T) {
	week := pruneNow().Add(-7 * pruneDay)
	tests := []struct {
		name        string
		opt         PruneOptions
		keep        []int // indexes of the requests left
		deleted     int64
		keptPending int64
	}{
		{"older than a week", PruneOptions{Before: week}, []int{1, 4, 5, 6, 7, 8, 9, 11}, 4, 1},
		{"keep 3", PruneOptions{Keep: 3}, []int{1, 8, 9, 10, 11}, 7, 2},
		{"both bounds", PruneOptions{Before: week, Keep: 5}, []int{1, 7, 8, 9, 11}, 7, 1},
		{"keep more than the log holds", PruneOptions{Keep: 100}, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 0, 0},
		{"keep 1 and nothing old", PruneOptions{Before: pruneNow().Add(-100 * pruneDay), Keep: 1}, []int{1, 8, 11}, 9, 2},
		{"everything received so far", PruneOptions{Before: pruneNow().Add(time.Second)}, []int{1, 8, 11}, 9, 2},
		{"dry run", PruneOptions{Before: week, DryRun: true}, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 4, 1},
		{"dry run keep 3", PruneOptions{Keep: 3, DryRun: true}, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 7, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s := openStore(t, Config{Path: logPath(t)})
			ids := seedPruneLog(t, s)
			res, err := s.Prune(ctx, tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			if res.Deleted != tt.deleted || res.KeptPending != tt.keptPending {
				t.Errorf("Deleted %d, KeptPending %d; want %d, %d", res.Deleted, res.KeptPending, tt.deleted, tt.keptPending)
			}
			if got := remaining(t, s, ids); !slices.Equal(got, tt.keep) {
				t.Errorf("left %v, want %v", got, tt.keep)
			}
			if res.SizeBefore <= 0 || res.SizeAfter <= 0 || (tt.opt.DryRun && res.SizeAfter != res.SizeBefore) {
				t.Errorf("sizes %d -> %d", res.SizeBefore, res.SizeAfter)
			}
			checkNoOrphans(t, s.Path())
			// The full-text index finds the requests left, and only those.
			for i, id := range ids {
				got := searchIDs(t, s, Filter{Search: fmt.Sprintf("word%d", i)})
				want := []int64{}
				if slices.Contains(tt.keep, i) {
					want = []int64{id}
				}
				if !slices.Equal(got, want) {
					t.Errorf("search word%d = %v, want %v", i, got, want)
				}
			}
			// Pending deliveries are still pending, and the log takes new requests.
			for _, i := range []int{1, 8} {
				if d, err := s.Delivery(ctx, ids[i]); err != nil || d.State != "pending" {
					t.Errorf("delivery of %d: %+v, %v", i, d, err)
				}
			}
			r := pruneRequest(99, pruneNow(), nil)
			if err := s.AddRequest(ctx, r); err != nil || r.ID <= ids[len(ids)-1] {
				t.Errorf("AddRequest after the prune: id %d, %v", r.ID, err)
			}
		})
	}
}

func TestPruneErrors(t *testing.T) {
	ctx := context.Background()
	path := logPath(t)
	s := openStore(t, Config{Path: path})
	ids := seedPruneLog(t, s)
	ro := openStore(t, Config{Path: path, ReadOnly: true})
	closed, err := Open(ctx, Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	closed.Close()
	week := pruneNow().Add(-7 * pruneDay)
	tests := []struct {
		name string
		s    *Store
		opt  PruneOptions
		is   error // nil: any error
	}{
		{"no bound", s, PruneOptions{}, nil},
		{"negative keep", s, PruneOptions{Keep: -1}, nil},
		{"time out of range", s, PruneOptions{Before: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)}, nil},
		{"read-only", ro, PruneOptions{Before: week}, ErrReadOnly},
		{"closed", closed, PruneOptions{Before: week}, ErrClosed},
		{"closed dry run", closed, PruneOptions{Before: week, DryRun: true}, ErrClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.s.Prune(ctx, tt.opt)
			if err == nil || (tt.is != nil && !errors.Is(err, tt.is)) {
				t.Errorf("Prune = %v, want an error wrapping %v", err, tt.is)
			}
		})
	}
	// A read-only log counts.
	res, err := ro.Prune(ctx, PruneOptions{Before: week, DryRun: true})
	if err != nil || res.Deleted != 4 || res.KeptPending != 1 {
		t.Errorf("read-only dry run = %+v, %v", res, err)
	}
	if _, err := ro.TrimToSize(ctx, 1); !errors.Is(err, ErrReadOnly) {
		t.Errorf("read-only TrimToSize = %v, want ErrReadOnly", err)
	}
	if _, err := s.TrimToSize(ctx, 0); err == nil {
		t.Error("TrimToSize(0) succeeded")
	}
	if _, err := closed.Size(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("closed Size = %v, want ErrClosed", err)
	}
	if got := remaining(t, s, ids); len(got) != len(ids) {
		t.Errorf("failed prunes deleted requests: left %v", got)
	}
}

// fileSize returns the bytes of the log file and its write-ahead log on disk.
func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	var n int64
	for _, p := range []string{path, path + "-wal"} {
		fi, err := os.Stat(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		n += fi.Size()
	}
	return n
}

// autoVacuum returns the log's auto_vacuum setting: 0 none, 1 full, 2 incremental.
func autoVacuum(t *testing.T, path string) int {
	t.Helper()
	var mode int
	if err := rawDB(t, path).QueryRow("PRAGMA auto_vacuum").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	return mode
}

// seedBig adds n requests with bodies of size random bytes, received a day apart, oldest
// first, and returns their ids.
func seedBig(t testing.TB, s *Store, n, size int) []int64 {
	rnd := rand.New(rand.NewPCG(1, 2))
	return seedBodies(t, s, n, func(int) []byte { return noiseBody(rnd, size) })
}

// seedBodies adds n requests with the bodies body(i), received a day apart, oldest first, and
// returns their ids.
func seedBodies(t testing.TB, s *Store, n int, body func(i int) []byte) []int64 {
	t.Helper()
	ids := make([]int64, n)
	reqs := make([]*webhook.Request, n)
	err := Seed(context.Background(), s, n, func(i int) *webhook.Request {
		reqs[i] = pruneRequest(i, pruneNow().Add(-time.Duration(n-i)*pruneDay), body(i))
		return reqs[i]
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range reqs {
		ids[i] = r.ID
	}
	return ids
}

// TestPruneShrinks prunes most of a 10 MB log and checks that the files shrink, for a log
// created with incremental auto-vacuum and for one created without (by an older hookctl),
// which the prune converts.
func TestPruneShrinks(t *testing.T) {
	for _, tt := range []struct {
		name string
		old  bool // the log was created without auto-vacuum
	}{{"new log", false}, {"old log", true}} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			path := logPath(t)
			s, err := Open(ctx, Config{Path: path})
			if err != nil {
				t.Fatal(err)
			}
			ids := seedBig(t, s, 100, 100<<10)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			want := 2
			if tt.old {
				if _, err := rawDB(t, path).Exec("PRAGMA auto_vacuum = NONE; VACUUM"); err != nil {
					t.Fatal(err)
				}
				want = 0
			}
			if got := autoVacuum(t, path); got != want {
				t.Fatalf("auto_vacuum = %d, want %d", got, want)
			}
			before := fileSize(t, path)
			if before < 10_000_000 {
				t.Fatalf("log is %d bytes, want 10 MB", before)
			}

			s = openStore(t, Config{Path: path})
			res, err := s.Prune(ctx, PruneOptions{Keep: 10})
			if err != nil {
				t.Fatal(err)
			}
			if res.Deleted != 90 {
				t.Errorf("Deleted = %d, want 90", res.Deleted)
			}
			if res.SizeBefore < 10_000_000 || res.SizeAfter >= res.SizeBefore/2 {
				t.Errorf("size %d -> %d, want less than half", res.SizeBefore, res.SizeAfter)
			}
			if after := fileSize(t, path); after >= before/2 {
				t.Errorf("files on disk: %d -> %d bytes, want less than half", before, after)
			}
			if got := autoVacuum(t, path); got != 2 {
				t.Errorf("auto_vacuum after the prune = %d, want 2", got)
			}
			if got := remaining(t, s, ids); !slices.Equal(got, seq(90, 100)) {
				t.Errorf("left %v", got)
			}
			checkNoOrphans(t, path)
			if got := searchIDs(t, s, Filter{Search: "99"}); !slices.Equal(got, ids[99:]) {
				t.Errorf("search after the prune: %v", got)
			}
			// The writer and the readers work on after the conversion.
			r := pruneRequest(500, pruneNow(), nil)
			if err := s.AddRequest(ctx, r); err != nil {
				t.Fatal(err)
			}
			if got := searchIDs(t, s, Filter{Search: "word500"}); !slices.Equal(got, []int64{r.ID}) {
				t.Errorf("search for a request added after the prune: %v", got)
			}
		})
	}
}

// seq returns the integers in [from, to).
func seq(from, to int) []int {
	var out []int
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// TestNewLogIncrementalVacuum checks that a new log, whichever way it is opened first, uses
// incremental auto-vacuum.
func TestNewLogIncrementalVacuum(t *testing.T) {
	for _, ro := range []bool{false, true} {
		path := logPath(t)
		s := openStore(t, Config{Path: path, ReadOnly: ro})
		if got := autoVacuum(t, s.Path()); got != 2 {
			t.Errorf("read-only %v: auto_vacuum = %d, want 2 (incremental)", ro, got)
		}
	}
}

func TestTrimToSize(t *testing.T) {
	tests := []struct {
		name      string
		max       int64
		pending   []int // indexes queued for delivery
		overLimit bool
		keptAll   bool // nothing may be deleted
	}{
		{"over the limit", 2 << 20, nil, false, false},
		{"pending kept", 2 << 20, []int{0, 3, 30}, false, false},
		{"under the limit", 64 << 20, nil, false, true},
		{"only pending left", 64 << 10, []int{0, 1, 2}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s := openStore(t, Config{Path: logPath(t)})
			ids := seedBig(t, s, 60, 100<<10)
			for _, i := range tt.pending {
				if _, err := rawDB(t, s.Path()).Exec("INSERT INTO deliveries (request_id, target) VALUES (?, 'http://127.0.0.1:1')", ids[i]); err != nil {
					t.Fatal(err)
				}
			}
			res, err := s.TrimToSize(ctx, tt.max)
			if err != nil {
				t.Fatal(err)
			}
			left := remaining(t, s, ids)
			if res.Deleted != int64(len(ids)-len(left)) {
				t.Errorf("Deleted = %d, but %d are gone", res.Deleted, len(ids)-len(left))
			}
			if res.OverLimit != tt.overLimit {
				t.Errorf("OverLimit = %v, want %v (%+v)", res.OverLimit, tt.overLimit, res)
			}
			if tt.keptAll {
				if len(left) != len(ids) || res.SizeAfter > res.SizeBefore {
					t.Errorf("under the limit: left %d, sizes %d -> %d", len(left), res.SizeBefore, res.SizeAfter)
				}
				return
			}
			// The oldest requests went first: what is left is the pending ones and the newest.
			for i, j := range left {
				if !slices.Contains(tt.pending, j) && !slices.Equal(left[i:], seq(j, len(ids))) {
					t.Fatalf("left %v: not the newest", left)
				}
			}
			for _, i := range tt.pending {
				if !slices.Contains(left, i) {
					t.Errorf("pending request %d deleted", i)
				}
			}
			if res.KeptPending != int64(len(tt.pending)) {
				t.Errorf("KeptPending = %d, want %d", res.KeptPending, len(tt.pending))
			}
			size, err := s.Size(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.overLimit && (size > tt.max || res.SizeAfter > tt.max) {
				t.Errorf("size after the trim %d (result %d), want at most %d", size, res.SizeAfter, tt.max)
			}
			if tt.overLimit && len(left) != len(tt.pending) {
				t.Errorf("left %v, want only the pending %v", left, tt.pending)
			}
			checkNoOrphans(t, s.Path())
		})
	}
}

// TestLimitSize runs LimitSize on a log over its limit while requests keep arriving, and
// checks that the log ends under the limit with every new request and every pending delivery
// in it.
func TestLimitSize(t *testing.T) {
	const limit = 8 << 20
	ctx := context.Background()
	path := logPath(t)
	s, err := Open(ctx, Config{Path: path, CheckpointInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var pending []int64 // the oldest requests
	for i := range 3 {
		r := pruneRequest(1000+i, pruneNow().Add(-1000*pruneDay), nil)
		if _, err := s.Record(ctx, r, RecordOptions{Deliver: "http://127.0.0.1:1"}); err != nil {
			t.Fatal(err)
		}
		pending = append(pending, r.ID)
	}
	ids := seedBig(t, s, 200, 100<<10) // 20 MB
	if size, err := s.Size(ctx); err != nil || size < 2*limit {
		t.Fatalf("Size = %d, %v", size, err)
	}

	lctx, stop := context.WithCancel(ctx)
	reports := make(chan PruneResult, 100)
	var limiting sync.WaitGroup
	limiting.Go(func() {
		s.LimitSize(lctx, limit, time.Millisecond, func(r PruneResult, err error) {
			if err != nil {
				t.Errorf("LimitSize reported %v", err)
			}
			select {
			case reports <- r:
			default: // the test reads the first report only
			}
		})
	})
	// Requests arrive while the log is trimmed, until the first trim is over and a few more.
	var added []int64
	var mu sync.Mutex
	var writers sync.WaitGroup
	trimmed := make(chan struct{})
	for w := range 4 {
		writers.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-trimmed:
					if i >= 5 {
						return
					}
				default:
					if i >= 50 {
						return
					}
				}
				r := pruneRequest(2000+100*w+i, time.Time{}, nil)
				if err := s.AddRequest(ctx, r); err != nil {
					t.Error(err)
					return
				}
				if _, err := s.List(ctx, Filter{Limit: 5}); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				added = append(added, r.ID)
				mu.Unlock()
			}
		})
	}
	first := <-reports
	close(trimmed)
	writers.Wait()
	stop()
	limiting.Wait()

	if first.Deleted == 0 || first.SizeBefore <= limit || first.OverLimit {
		t.Errorf("first trim: %+v", first)
	}
	if first.KeptPending != int64(len(pending)) {
		t.Errorf("KeptPending = %d, want %d", first.KeptPending, len(pending))
	}
	for _, id := range append(pending, added...) {
		if _, err := s.Request(ctx, id); err != nil {
			t.Errorf("request %d: %v", id, err)
		}
	}
	for _, id := range pending {
		if d, err := s.Delivery(ctx, id); err != nil || d.State != "pending" {
			t.Errorf("delivery of %d: %+v, %v", id, d, err)
		}
	}
	if _, err := s.Request(ctx, ids[0]); !errors.Is(err, ErrNotFound) {
		t.Errorf("oldest request: %v, want it deleted", err)
	}
	checkNoOrphans(t, path)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if size := fileSize(t, path); size > limit {
		t.Errorf("log is %d bytes, over its limit %d", size, limit)
	}
}

func TestLimitSizeStops(t *testing.T) {
	ctx := context.Background()
	ro := openStore(t, Config{Path: logPath(t), ReadOnly: true})
	rw := openStore(t, Config{Path: logPath(t)})
	for _, tt := range []struct {
		name string
		s    *Store
		max  int64
		is   error
	}{
		{"read-only", ro, 1 << 20, ErrReadOnly},
		{"no limit", rw, 0, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got []error
			tt.s.LimitSize(ctx, tt.max, time.Millisecond, func(_ PruneResult, err error) { got = append(got, err) })
			if len(got) != 1 || got[0] == nil || (tt.is != nil && !errors.Is(got[0], tt.is)) {
				t.Errorf("reports %v, want one error wrapping %v", got, tt.is)
			}
		})
	}
	// A log under its limit is left alone until ctx ends.
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		rw.LimitSize(cctx, 1<<30, time.Millisecond, func(r PruneResult, err error) { t.Errorf("report %+v, %v", r, err) })
	}()
	cancel()
	<-done
}

// BenchmarkPrune measures Prune of 10,000 requests with 2 KB JSON bodies, among 11,000: the
// deletes (with their full-text index entries), the incremental vacuum and the checkpoint. It
// reports the size of the log before (checkpointed, without a write-ahead log) and after.
func BenchmarkPrune(b *testing.B) {
	const n = 10_000
	ctx := context.Background()
	var before, after int64
	for range b.N {
		b.StopTimer()
		path := filepath.Join(b.TempDir(), "bench.db")
		s, err := Open(ctx, Config{Path: path})
		if err != nil {
			b.Fatal(err)
		}
		seedBodies(b, s, n+1000, func(i int) []byte { return jsonBody(i, 2048) })
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		if s, err = Open(ctx, Config{Path: path}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		res, err := s.Prune(ctx, PruneOptions{Keep: 1000})
		if err != nil || res.Deleted != n {
			b.Fatalf("Prune = %+v, %v", res, err)
		}
		b.StopTimer()
		before += res.SizeBefore
		after += res.SizeAfter
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "requests/s")
	b.ReportMetric(float64(before)/float64(b.N)/(1<<20), "MiB-before")
	b.ReportMetric(float64(after)/float64(b.N)/(1<<20), "MiB-after")
}
