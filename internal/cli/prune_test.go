package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookctl/hookctl/internal/store"
	"github.com/hookctl/hookctl/internal/webhook"
)

// seedPruneLog records a request received ages[i] ago for each i, in order, with the word
// "wordI" in its body, queues a background delivery for the indexes in pending (which stays
// pending: nothing delivers it), and returns their ids.
func seedPruneLog(t *testing.T, db string, ages []time.Duration, pending ...int) []int64 {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, store.Config{Path: db})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now()
	ids := make([]int64, len(ages))
	for i, age := range ages {
		body := fmt.Sprintf(`{"n":%d,"text":"word%d"}`, i, i)
		r := &webhook.Request{ReceivedAt: now.Add(-age), Method: "POST", URI: "/hooks", Body: []byte(body), BodySize: int64(len(body))}
		var o store.RecordOptions
		if slices.Contains(pending, i) {
			o.Deliver = "http://127.0.0.1:1"
		}
		if _, err := s.Record(ctx, r, o); err != nil {
			t.Fatal(err)
		}
		ids[i] = r.ID
	}
	return ids
}

// logIndexes returns the indexes in ids of the requests left in the log, and of those the
// full-text index finds by their word.
func logIndexes(t *testing.T, db string, ids []int64) (left, found []int) {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, store.Config{Path: db, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rows, err := s.List(ctx, store.Filter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		left = append(left, slices.Index(ids, r.ID))
	}
	slices.Sort(left)
	for i := range ids {
		rows, err := s.List(ctx, store.Filter{Search: fmt.Sprintf("word%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) > 0 {
			found = append(found, i)
		}
	}
	return left, found
}

func TestPrune(t *testing.T) {
	const day = 24 * time.Hour
	ages := []time.Duration{30 * day, 10 * day, 5 * day, 3 * day, time.Hour, 0} // 1: delivery pending
	tests := []struct {
		name string
		args []string
		left []int
		line string // the start of the output
	}{
		{"default: a week", nil, []int{1, 2, 3, 4, 5}, "pruned 1 request older than 168h; kept 1 with a pending delivery; log "},
		{"older than a day", []string{"--older-than", "24h"}, []int{1, 4, 5}, "pruned 3 requests older than 24h; kept 1 with a pending delivery; log "},
		{"keep 2", []string{"--keep", "2"}, []int{1, 4, 5}, "pruned 3 requests beyond the newest 2; kept 1 with a pending delivery; log "},
		{"both bounds", []string{"--keep", "5", "--older-than", "96h"}, []int{1, 3, 4, 5}, "pruned 2 requests older than 96h or beyond the newest 5; kept 1 with a pending delivery; log "},
		{"count only", []string{"--older-than", "0", "--keep", "1"}, []int{1, 5}, "pruned 4 requests beyond the newest 1; kept 1 with a pending delivery; log "},
		{"nothing that old", []string{"--older-than", "1000h"}, []int{0, 1, 2, 3, 4, 5}, "pruned 0 requests older than 1000h; log "},
		{"dry run", []string{"--older-than", "24h", "--dry-run"}, []int{0, 1, 2, 3, 4, 5}, "would prune 3 requests older than 24h; would keep 1 with a pending delivery; log "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "hookctl.db")
			ids := seedPruneLog(t, db, ages, 1)
			code, stdout, stderr := run(t, db, append([]string{"prune"}, tt.args...)...)
			if code != 0 || stderr != "" {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			if !strings.HasPrefix(stdout, tt.line) || strings.Count(stdout, "\n") != 1 {
				t.Errorf("output %q, want one line starting %q", stdout, tt.line)
			}
			if slices.Contains(tt.args, "--dry-run") == strings.Contains(stdout, "→") {
				t.Errorf("output %q: sizes before and after only when not a dry run", stdout)
			}
			left, found := logIndexes(t, db, ids)
			if !slices.Equal(left, tt.left) || !slices.Equal(found, tt.left) {
				t.Errorf("left %v, found by search %v; want %v", left, found, tt.left)
			}
		})
	}
}

func TestPruneJSON(t *testing.T) {
	const day = 24 * time.Hour
	for _, tt := range []struct {
		dryRun bool
		left   []int
	}{{false, []int{1, 3}}, {true, []int{0, 1, 2, 3}}} {
		t.Run(fmt.Sprint("dry run ", tt.dryRun), func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "hookctl.db")
			ids := seedPruneLog(t, db, []time.Duration{9 * day, 8 * day, 8 * day, day}, 1)
			args := []string{"prune", "--json"}
			if tt.dryRun {
				args = append(args, "--dry-run")
			}
			code, stdout, stderr := run(t, db, args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var got map[string]any
			if err := json.Unmarshal([]byte(stdout), &got); err != nil || strings.Count(stdout, "\n") != 1 {
				t.Fatalf("output %q: %v", stdout, err)
			}
			want := []string{"deleted", "dry_run", "kept_pending", "size_after", "size_before"}
			if k := keys(got); !slices.Equal(k, want) {
				t.Errorf("fields %v, want %v", k, want)
			}
			if got["deleted"] != 2.0 || got["kept_pending"] != 1.0 || got["dry_run"] != tt.dryRun || got["size_before"].(float64) <= 0 {
				t.Errorf("output %s", stdout)
			}
			if left, _ := logIndexes(t, db, ids); !slices.Equal(left, tt.left) {
				t.Errorf("left %v, want %v", left, tt.left)
			}
		})
	}
}

// TestPruneShrinks prunes most of a 20 MB log and checks that the log file shrinks.
func TestPruneShrinks(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "hookctl.db")
	s, err := store.Open(ctx, store.Config{Path: db})
	if err != nil {
		t.Fatal(err)
	}
	const n, old = 200, 180
	now := time.Now()
	rnd := rand.New(rand.NewPCG(3, 4))
	ids := make([]int64, n)
	reqs := make([]*webhook.Request, n)
	err = store.Seed(ctx, s, n, func(i int) *webhook.Request {
		body := make([]byte, 100<<10) // binary (it starts with a NUL byte), so not indexed
		for k := 1; k < len(body); k++ {
			body[k] = byte(rnd.Uint32())
		}
		at := now.Add(-time.Hour)
		if i < old {
			at = now.Add(-30 * 24 * time.Hour)
		}
		reqs[i] = &webhook.Request{ReceivedAt: at, Method: "POST", URI: fmt.Sprintf("/hooks/word%d", i), Body: body, BodySize: int64(len(body))}
		return reqs[i]
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range reqs {
		ids[i] = r.ID
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	before := diskSize(t, db)

	code, stdout, stderr := run(t, db, "prune", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res pruneJSON
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("output %q: %v", stdout, err)
	}
	if res.Deleted != old || res.SizeBefore < 20_000_000 || res.SizeAfter >= res.SizeBefore/2 {
		t.Errorf("result %+v: want %d deleted and the size more than halved", res, old)
	}
	if after := diskSize(t, db); after >= before/2 {
		t.Errorf("log file %d -> %d bytes, want less than half", before, after)
	}
	left, found := logIndexes(t, db, ids)
	if want := []int{180, 181, 182, 183, 184, 185, 186, 187, 188, 189, 190, 191, 192, 193, 194, 195, 196, 197, 198, 199}; !slices.Equal(left, want) || !slices.Equal(found, want) {
		t.Errorf("left %v, found by search %v; want %v", left, found, want)
	}
}

// diskSize returns the bytes of the log file and its write-ahead log.
func diskSize(t *testing.T, db string) int64 {
	t.Helper()
	var n int64
	for _, p := range []string{db, db + "-wal"} {
		fi, err := os.Stat(p)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		n += fi.Size()
	}
	return n
}

func TestPruneFlagErrors(t *testing.T) {
	db := filepath.Join(t.TempDir(), "hookctl.db")
	ids := seedPruneLog(t, db, []time.Duration{30 * 24 * time.Hour, 0})
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--older-than", "-1h"}, "--older-than must not be negative"},
		{[]string{"--keep", "-3"}, "--keep must not be negative"},
		{[]string{"--older-than", "0"}, "nothing to prune"},
		{[]string{"--older-than", "0", "--keep", "0"}, "nothing to prune"},
		{[]string{"--keep", "0"}, "nothing to prune"},
		{[]string{"--older-than", "soon"}, `invalid argument "soon" for "--older-than"`},
		{[]string{"--older-than", "7"}, "--older-than"},
		{[]string{"--keep", "many"}, `invalid argument "many" for "--keep"`},
		{[]string{"42"}, `unknown command "42"`},
	} {
		code, stdout, stderr := run(t, db, append([]string{"prune"}, tt.args...)...)
		if code != 1 || stdout != "" || !strings.HasPrefix(stderr, "hookctl: ") || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want one line with %q", tt.args, code, stdout, stderr, tt.want)
		}
	}
	if left, _ := logIndexes(t, db, ids); !slices.Equal(left, []int{0, 1}) {
		t.Errorf("a rejected prune deleted requests: left %v", left)
	}
}

func TestPruneSummary(t *testing.T) {
	tests := []struct {
		res    store.PruneResult
		age    time.Duration
		keep   int
		dryRun bool
		want   string
	}{
		{store.PruneResult{Deleted: 1234, KeptPending: 3, SizeBefore: 48 << 20, SizeAfter: 12 << 20}, 168 * time.Hour, 0, false,
			"pruned 1,234 requests older than 168h; kept 3 with pending deliveries; log 48MiB → 12MiB"},
		{store.PruneResult{Deleted: 1, SizeBefore: 1536, SizeAfter: 1024}, 90 * time.Minute, 1_000_000, false,
			"pruned 1 request older than 1h30m or beyond the newest 1,000,000; log 1.5KiB → 1KiB"},
		{store.PruneResult{Deleted: 999, KeptPending: 1, SizeBefore: 100, SizeAfter: 100}, 0, 10, true,
			"would prune 999 requests beyond the newest 10; would keep 1 with a pending delivery; log 100B"},
		{store.PruneResult{}, 45 * time.Second, 0, false, "pruned 0 requests older than 45s; log 0B → 0B"},
	}
	for _, tt := range tests {
		if got := pruneSummary(tt.res, tt.age, tt.keep, tt.dryRun); got != tt.want {
			t.Errorf("pruneSummary(%+v) = %q, want %q", tt.res, got, tt.want)
		}
	}
}
