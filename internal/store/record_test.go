package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookctl/hookctl/internal/webhook"
)

// TestRecordDuplicates records a sequence of requests with duplicate detection on and checks
// which are marked as redeliveries of which.
func TestRecordDuplicates(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, Config{Path: logPath(t)})
	t0 := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	req := func(min int, provider, delivery, uri, body string) *webhook.Request {
		return &webhook.Request{ReceivedAt: t0.Add(time.Duration(min) * time.Minute), Method: "POST", URI: uri,
			Provider: provider, DeliveryID: delivery, Body: []byte(body), BodySize: int64(len(body))}
	}
	var tcs []*webhook.Request // recorded so far
	for _, tc := range []struct {
		name string
		r    *webhook.Request
		want int // index of the original, -1 for none
	}{
		{"stripe event", req(0, "stripe", "evt_1", "/s", `{"id":"evt_1"}`), -1},
		{"stripe redelivery a day later", req(24*60, "stripe", "evt_1", "/s", `{"id":"evt_1","x":1}`), 0},
		{"same id, other provider", req(1, "github", "evt_1", "/s", "x"), -1},
		{"other stripe event", req(2, "stripe", "evt_2", "/s", `{"id":"evt_2"}`), -1},
		{"unidentified body", req(3, "", "", "/hook", "hello"), -1},
		{"same body within the window", req(12, "", "", "/hook", "hello"), 4},
		{"same body, other path", req(12, "", "", "/other", "hello"), -1},
		{"same body after the window", req(30, "", "", "/hook", "hello"), -1},
		{"empty bodies never match", req(31, "", "", "/ping", ""), -1},
		{"empty body again", req(31, "", "", "/ping", ""), -1},
		{"third stripe delivery points at the first", req(25*60, "stripe", "evt_1", "/s", `{}`), 0},
	} {
		if _, err := s.Record(ctx, tc.r, RecordOptions{Dedupe: true}); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		tcs = append(tcs, tc.r)
		want := int64(0)
		if tc.want >= 0 {
			want = tcs[tc.want].ID
		}
		if tc.r.DuplicateOf != want {
			t.Errorf("%s: DuplicateOf = %d, want %d", tc.name, tc.r.DuplicateOf, want)
		}
		got, err := s.Request(ctx, tc.r.ID)
		if err != nil || got.DuplicateOf != want {
			t.Errorf("%s: stored DuplicateOf = %v, %v; want %d", tc.name, got, err, want)
		}
	}
	dups, err := s.List(ctx, Filter{Duplicates: true})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, d := range dups {
		ids = append(ids, d.ID)
		if d.DuplicateOf == 0 {
			t.Errorf("List(Duplicates) row %d has no DuplicateOf", d.ID)
		}
	}
	if want := []int64{tcs[10].ID, tcs[5].ID, tcs[1].ID}; !slices.Equal(ids, want) {
		t.Errorf("List(Duplicates) = %v, want %v", ids, want)
	}

	// Without Dedupe nothing is marked, and a rejected request is never a duplicate.
	again := req(0, "stripe", "evt_1", "/s", "")
	if _, err := s.Record(ctx, again, RecordOptions{}); err != nil || again.DuplicateOf != 0 {
		t.Errorf("Record without Dedupe: DuplicateOf %d, %v", again.DuplicateOf, err)
	}
	rejected := req(0, "stripe", "evt_1", "/s", "")
	rejected.Rejected = "too big"
	if _, err := s.Record(ctx, rejected, RecordOptions{Dedupe: true}); err != nil || rejected.DuplicateOf != 0 {
		t.Errorf("rejected: DuplicateOf %d, %v", rejected.DuplicateOf, err)
	}
}

// TestRecordDuplicatesConcurrent sends many copies of one event at once, from many goroutines
// (so within shared transactions): exactly one is the original, every other points at it.
func TestRecordDuplicatesConcurrent(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, Config{Path: logPath(t)})
	const n = 64
	rs := make([]*webhook.Request, n)
	var wg sync.WaitGroup
	for i := range rs {
		rs[i] = &webhook.Request{ReceivedAt: time.Now(), Method: "POST", URI: "/", Provider: "github", DeliveryID: "d-1"}
		wg.Go(func() {
			if _, err := s.Record(ctx, rs[i], RecordOptions{Dedupe: true}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	first := slices.MinFunc(rs, func(a, b *webhook.Request) int { return int(a.ID - b.ID) })
	for _, r := range rs {
		want := first.ID
		if r == first {
			want = 0
		}
		if r.DuplicateOf != want {
			t.Errorf("request %d: DuplicateOf %d, want %d", r.ID, r.DuplicateOf, want)
		}
	}
}

// TestDeliveryQueue queues deliveries with Record and walks them through FinishDelivery.
func TestDeliveryQueue(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, Config{Path: logPath(t)})
	t0 := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	const target = "http://127.0.0.1:3000"
	var rs []*webhook.Request
	for i := range 4 {
		r := &webhook.Request{ReceivedAt: t0.Add(time.Duration(i) * time.Second), Method: "POST", URI: fmt.Sprint("/", i),
			Body: []byte(fmt.Sprint("body ", i))}
		d, err := s.Record(ctx, r, RecordOptions{Deliver: target, Dedupe: true})
		if err != nil {
			t.Fatal(err)
		}
		// What Record returns is what the log holds.
		if stored, err := s.Delivery(ctx, r.ID); err != nil || d == nil || *stored != *d {
			t.Errorf("Record returned delivery %+v, the log holds %+v (%v)", d, stored, err)
		}
		rs = append(rs, r)
	}
	// One for another target, and a duplicate left out of the queue.
	other := &webhook.Request{ReceivedAt: t0, Method: "POST", URI: "/o"}
	if _, err := s.Record(ctx, other, RecordOptions{Deliver: "http://127.0.0.1:4000"}); err != nil {
		t.Fatal(err)
	}
	dup := &webhook.Request{ReceivedAt: t0.Add(5 * time.Second), Method: "POST", URI: "/0", Body: []byte("body 0")}
	if d, err := s.Record(ctx, dup, RecordOptions{Deliver: target, Dedupe: true, SkipDuplicates: true}); err != nil || d != nil {
		t.Fatalf("Record of a skipped duplicate: %+v, %v; want no delivery", d, err)
	}
	if dup.DuplicateOf != rs[0].ID {
		t.Fatalf("dup.DuplicateOf = %d, want %d", dup.DuplicateOf, rs[0].ID)
	}
	if _, err := s.Delivery(ctx, dup.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("skipped duplicate: Delivery err = %v, want ErrNotFound", err)
	}

	pending, err := s.PendingDeliveries(ctx, target, 10, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := deliveryIDs(pending); !slices.Equal(got, []int64{rs[0].ID, rs[1].ID, rs[2].ID, rs[3].ID}) {
		t.Fatalf("pending = %v", got)
	}
	if d := pending[1]; d.State != webhook.DeliveryPending || d.Attempts != 0 || !d.FirstAt.Equal(rs[1].ReceivedAt) ||
		!d.NextAt.Equal(rs[1].ReceivedAt) || d.Target != target || d.Status() != webhook.DeliveryPending {
		t.Errorf("pending[1] = %+v", d)
	}

	attempt := func(r *webhook.Request, status int, out webhook.DeliveryOutcome) {
		t.Helper()
		a := &webhook.Attempt{RequestID: r.ID, Kind: webhook.KindRedelivery, Target: target + r.URI,
			StartedAt: t0.Add(time.Minute), Duration: time.Millisecond, Status: status}
		d, err := s.FinishDelivery(ctx, a, out)
		if err != nil || a.ID == 0 {
			t.Fatalf("FinishDelivery: %v (id %d)", err, a.ID)
		}
		// What it returns is what the log now holds.
		if stored, err := s.Delivery(ctx, r.ID); err != nil || *stored != *d {
			t.Errorf("FinishDelivery returned %+v, the log holds %+v (%v)", d, stored, err)
		}
	}
	next := t0.Add(2 * time.Minute)
	attempt(rs[0], 500, webhook.DeliveryOutcome{NextAt: next}) // retrying
	attempt(rs[1], 200, webhook.DeliveryOutcome{Delivered: true})
	attempt(rs[2], 400, webhook.DeliveryOutcome{GiveUp: true})
	attempt(rs[3], 500, webhook.DeliveryOutcome{NextAt: next})
	attempt(rs[3], 200, webhook.DeliveryOutcome{Delivered: true})
	// A manual attempt that fails leaves a given-up delivery given up; one that succeeds
	// delivers it; a late failure does not undo a delivery.
	attempt(rs[2], 500, webhook.DeliveryOutcome{})
	d, _ := s.Delivery(ctx, rs[2].ID)
	if d.State != webhook.DeliveryGivenUp || d.Attempts != 2 {
		t.Errorf("given up, then failed again: %+v", d)
	}
	attempt(rs[3], 500, webhook.DeliveryOutcome{NextAt: next})

	for _, tc := range []struct {
		r        *webhook.Request
		status   string
		attempts int
		nextAt   time.Time
	}{
		{rs[0], webhook.DeliveryRetrying, 1, next},
		{rs[1], webhook.DeliveryDelivered, 1, rs[1].ReceivedAt},
		{rs[2], webhook.DeliveryGivenUp, 2, rs[2].ReceivedAt},
		{rs[3], webhook.DeliveryDelivered, 3, next},
	} {
		d, err := s.Delivery(ctx, tc.r.ID)
		if err != nil || d.Status() != tc.status || d.Attempts != tc.attempts || !d.NextAt.Equal(tc.nextAt) {
			t.Errorf("request %d: delivery %+v, %v; want %s after %d attempts, next %s", tc.r.ID, d, err, tc.status, tc.attempts, tc.nextAt)
		}
	}
	if pending, _ = s.PendingDeliveries(ctx, target, 10, false); !slices.Equal(deliveryIDs(pending), []int64{rs[0].ID}) {
		t.Errorf("pending after attempts = %v", deliveryIDs(pending))
	}
	failed, err := s.FailedDeliveries(ctx)
	if err != nil || !slices.Equal(deliveryIDs(failed), []int64{rs[0].ID, rs[2].ID}) {
		t.Errorf("FailedDeliveries = %v, %v", deliveryIDs(failed), err)
	}
	counts, err := s.DeliveryTargets(ctx)
	if err != nil || counts[target] != 1 || counts["http://127.0.0.1:4000"] != 1 {
		t.Errorf("DeliveryTargets = %v, %v", counts, err)
	}

	// List shows each request's delivery, and filters by it.
	for _, tc := range []struct {
		filter string
		want   []int64
	}{
		{"retrying", []int64{rs[0].ID}},
		{"delivered", []int64{rs[3].ID, rs[1].ID}},
		{"given_up", []int64{rs[2].ID}},
		{"pending", []int64{other.ID}},
		{"queued", []int64{other.ID, rs[3].ID, rs[2].ID, rs[1].ID, rs[0].ID}},
	} {
		got, err := s.List(ctx, Filter{Delivery: tc.filter})
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, sum := range got {
			ids = append(ids, sum.ID)
			if sum.Delivery.RequestID != sum.ID || sum.Delivery.Status() == "" {
				t.Errorf("List(%s): row %d delivery %+v", tc.filter, sum.ID, sum.Delivery)
			}
		}
		if !slices.Equal(ids, tc.want) {
			t.Errorf("List(Delivery: %s) = %v, want %v", tc.filter, ids, tc.want)
		}
	}
	if _, err := s.List(ctx, Filter{Delivery: "soon"}); !errors.Is(err, ErrBadFilter) {
		t.Errorf("bad delivery filter: %v", err)
	}
	all, _ := s.List(ctx, Filter{})
	for _, sum := range all {
		if sum.ID == dup.ID && (sum.Delivery.State != "" || sum.DuplicateOf != rs[0].ID) {
			t.Errorf("duplicate row: %+v", sum)
		}
	}

	// Deleting a request takes its delivery with it.
	db, err := sql.Open("sqlite", dsn(s.Path(), "busy_timeout(5000)", "foreign_keys(1)"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("DELETE FROM requests WHERE id = ?", rs[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Delivery(ctx, rs[0].ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("delivery of a deleted request: %v", err)
	}
	// An attempt for an unknown request, or for one that was not queued, is refused and
	// stores nothing.
	for _, id := range []int64{9999, dup.ID} {
		bad := &webhook.Attempt{RequestID: id, Kind: webhook.KindForward}
		if _, err := s.FinishDelivery(ctx, bad, webhook.DeliveryOutcome{Delivered: true}); !errors.Is(err, ErrNotFound) {
			t.Errorf("FinishDelivery for request %d: %v, want ErrNotFound", id, err)
		}
	}
	if as, _ := s.Attempts(ctx, dup.ID); len(as) != 0 {
		t.Errorf("attempts of a request that was not queued: %v", as)
	}
}

// TestDeliveryQueuedWithRequest checks that a request and its delivery commit together: a
// delivery that cannot be queued takes the request with it.
func TestDeliveryQueuedWithRequest(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, Config{Path: logPath(t)})
	// Make queueing fail: a trigger refuses the delivery row.
	if _, err := rawDB(t, s.Path()).Exec(`CREATE TRIGGER refuse BEFORE INSERT ON deliveries BEGIN SELECT RAISE(ABORT, 'refused'); END`); err != nil {
		t.Fatal(err)
	}
	r := &webhook.Request{ReceivedAt: time.Now(), Method: "POST", URI: "/x"}
	if _, err := s.Record(ctx, r, RecordOptions{Deliver: "http://127.0.0.1:1"}); err == nil {
		t.Fatal("Record succeeded although the delivery could not be queued")
	}
	if n, _ := s.Count(ctx); n != 0 {
		t.Errorf("%d requests in the log, want 0: a request without its delivery was committed", n)
	}
	// Requests in the same batch that need no delivery still commit.
	plain := &webhook.Request{ReceivedAt: time.Now(), Method: "POST", URI: "/y"}
	if _, err := s.Record(ctx, plain, RecordOptions{}); err != nil {
		t.Fatal(err)
	}
}

func deliveryIDs(ds []webhook.Delivery) []int64 {
	var out []int64
	for _, d := range ds {
		out = append(out, d.RequestID)
	}
	return out
}

// TestMarkDuplicatePlans guards what keeps marking redeliveries cheap on a big log: each
// lookup is one seek in its index, without a sort.
func TestMarkDuplicatePlans(t *testing.T) {
	path := logPath(t)
	openStore(t, Config{Path: path})
	db := rawDB(t, path)
	for _, tc := range []struct {
		name, query, index string
		args               []any
	}{
		{"delivery id", markByDeliveryIDSQL, "requests_delivery_id", []any{5, "stripe", "evt_1"}},
		{"body hash", markByBodyHashSQL, "requests_body_hash", []any{5, []byte("h"), 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The plan of the INSERT's SELECT, where the lookup is.
			text := queryPlan(t, db, tc.query[strings.Index(tc.query, "SELECT"):], tc.args...)
			if !strings.Contains(text, "SEARCH requests USING COVERING INDEX "+tc.index) || strings.Contains(text, "TEMP B-TREE") {
				t.Errorf("plan is not one seek in %s:\n%s", tc.index, text)
			}
		})
	}
}

// TestAttemptsWaitForARequest checks the group commit of writes nobody waits for
// (AddAttemptLater): they wait for a write somebody waits for and commit with it, other such
// writes arriving meanwhile do not end the wait, and alone they commit once the wait is over.
func TestAttemptsWaitForARequest(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, Config{Path: logPath(t)})
	r := &webhook.Request{ReceivedAt: time.Now(), Method: "POST", URI: "/"}
	if err := s.AddRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	attempts := func(n int) *sync.WaitGroup {
		var wg sync.WaitGroup
		for range n {
			wg.Add(1)
			s.AddAttemptLater(&webhook.Attempt{RequestID: r.ID, Kind: webhook.KindForward, StartedAt: time.Now()}, func(err error) {
				if err != nil {
					t.Error(err)
				}
				wg.Done()
			})
		}
		return &wg
	}

	s.w.lingerFor = time.Hour // set before the writer can read it: the ops below are sent after
	before := s.batches.Load()
	wg := attempts(3)
	if err := s.AddRequest(ctx, &webhook.Request{ReceivedAt: time.Now(), Method: "POST", URI: "/"}); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if n := s.batches.Load() - before; n != 1 {
		t.Errorf("3 attempts and a request took %d commits, want 1", n)
	}

	s.w.lingerFor = 250 * time.Millisecond // the writer is idle: the last op was answered
	before = s.batches.Load()
	attempts(2).Wait()
	if n := s.batches.Load() - before; n != 1 {
		t.Errorf("2 attempts alone took %d commits, want 1", n)
	}
	if got, err := s.Attempts(ctx, r.ID); err != nil || len(got) != 5 {
		t.Errorf("Attempts: %d, %v; want 5", len(got), err)
	}
}
