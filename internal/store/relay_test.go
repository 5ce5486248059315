package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookctl/hookctl/internal/webhook"
)

func relayRequest(i int) *webhook.Request {
	return &webhook.Request{
		ReceivedAt: time.Date(2026, 1, 2, 3, 4, 5, i, time.UTC),
		Method:     "POST",
		URI:        fmt.Sprintf("/n/%d?x=%%2F", i),
		Proto:      "HTTP/1.1",
		Host:       "hooks.example.com",
		RemoteAddr: "192.0.2.1:5555",
		Header: webhook.Headers{
			{Name: "Host", Value: "hooks.example.com"},
			{Name: "x-repeat", Value: "one"},
			{Name: "X-Repeat", Value: "two"},
			{Name: "X-Bytes", Value: "\xff\xfe"},
		},
		Body: []byte{0, 1, 0xff, byte(i)},
	}
}

func TestRelayChannels(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := openStore(t, Config{Path: logPath(t)})
	c := RelayChannel{ID: "abc", SecretHash: []byte{1, 2, 3}, CreatedAt: time.Unix(100, 5).UTC()}
	if err := s.CreateRelayChannel(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateRelayChannel(ctx, c); err == nil {
		t.Error("creating a channel twice: no error")
	}
	got, err := s.RelayChannel(ctx, "abc")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, c) {
		t.Errorf("RelayChannel = %+v, want %+v", got, c)
	}
	if _, err := s.RelayChannel(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown channel: err = %v, want ErrNotFound", err)
	}
	if _, err := s.BufferRelayRequest(ctx, "nope", relayRequest(0)); !errors.Is(err, ErrNotFound) {
		t.Errorf("buffer on unknown channel: err = %v, want ErrNotFound", err)
	}
}

func TestRelayBuffer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	path := logPath(t)
	s, err := Open(ctx, Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b"} {
		if err := s.CreateRelayChannel(ctx, RelayChannel{ID: id, SecretHash: []byte{1}, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	// Concurrent buffering: sequence numbers are distinct, and each channel sees its own
	// requests in seq order.
	const n = 40
	seqs := make([]int64, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ch := "a"
			if i%2 == 1 {
				ch = "b"
			}
			seq, err := s.BufferRelayRequest(ctx, ch, relayRequest(i))
			if err != nil {
				errs <- err
			}
			seqs[i] = seq
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[int64]bool{}
	for _, q := range seqs {
		if q <= 0 || seen[q] {
			t.Fatalf("sequence numbers %v are not distinct and positive", seqs)
		}
		seen[q] = true
	}

	got, err := s.PendingRelayRequests(ctx, "a", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n/2 {
		t.Fatalf("pending on a: %d, want %d", len(got), n/2)
	}
	for k, r := range got {
		if k > 0 && r.ID <= got[k-1].ID {
			t.Fatalf("pending not in seq order: %d after %d", r.ID, got[k-1].ID)
		}
		var i int
		if _, err := fmt.Sscanf(r.URI, "/n/%d", &i); err != nil {
			t.Fatalf("uri %q: %v", r.URI, err)
		}
		if seqs[i] != r.ID {
			t.Errorf("request %d: seq %d, want %d", i, r.ID, seqs[i])
		}
		want := relayRequest(i)
		want.ID, want.BodySize, want.Ingress, want.Signature = r.ID, int64(len(want.Body)), webhook.IngressRelay, webhook.SignatureUnchecked
		if !reflect.DeepEqual(r, want) {
			t.Errorf("pending request:\n got %+v\nwant %+v", r, want)
		}
	}

	// Paging with afterSeq and limit.
	page, err := s.PendingRelayRequests(ctx, "a", got[4].ID, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 3 || page[0].ID != got[5].ID || page[2].ID != got[7].ID {
		t.Errorf("page after %d: %v", got[4].ID, ids(page))
	}

	// Removal is per channel and idempotent.
	if err := s.RemoveRelayRequest(ctx, "b", got[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveRelayRequest(ctx, "a", got[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveRelayRequest(ctx, "a", got[0].ID); err != nil {
		t.Errorf("second removal: %v", err)
	}
	after, _ := s.PendingRelayRequests(ctx, "a", 0, 0)
	if len(after) != n/2-1 || after[0].ID != got[1].ID {
		t.Errorf("after removal: %v", ids(after))
	}

	// Sequence numbers are not reused after the newest row is removed and the buffer reopened.
	maxSeq := int64(0)
	for _, q := range seqs {
		maxSeq = max(maxSeq, q)
	}
	ch := "a"
	if bs, _ := s.PendingRelayRequests(ctx, "b", 0, 0); bs[len(bs)-1].ID == maxSeq {
		ch = "b"
	}
	if err := s.RemoveRelayRequest(ctx, ch, maxSeq); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, Config{Path: path})
	seq, err := s.BufferRelayRequest(ctx, "a", relayRequest(99))
	if err != nil {
		t.Fatal(err)
	}
	if seq <= maxSeq {
		t.Errorf("new seq %d reuses one up to %d", seq, maxSeq)
	}

	// Expiry removes what was received before the cut-off, on every channel.
	cut := time.Date(2026, 1, 2, 3, 4, 5, 10, time.UTC) // requests 0..9 are older
	old := 0
	for _, r := range append(mustPending(t, s, "a"), mustPending(t, s, "b")...) {
		if r.ReceivedAt.Before(cut) {
			old++
		}
	}
	expired, err := s.ExpireRelayRequests(ctx, cut)
	if err != nil {
		t.Fatal(err)
	}
	if expired != old {
		t.Errorf("expired %d, want %d", expired, old)
	}
	for _, ch := range []string{"a", "b"} {
		for _, r := range mustPending(t, s, ch) {
			if r.ReceivedAt.Before(cut) {
				t.Errorf("request received %s survived expiry", r.ReceivedAt)
			}
		}
	}
}

func mustPending(t *testing.T, s *Store, ch string) []*webhook.Request {
	t.Helper()
	rs, err := s.PendingRelayRequests(context.Background(), ch, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func ids(rs []*webhook.Request) []int64 {
	out := make([]int64, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

func TestRequestRef(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	path := logPath(t)
	s := openStore(t, Config{Path: path})
	plain := relayRequest(1)
	if err := s.AddRequest(ctx, plain); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	reqs := make([]*webhook.Request, 10)
	for i := range reqs {
		reqs[i] = relayRequest(i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.Record(ctx, reqs[i], RecordOptions{Ref: fmt.Sprintf("chan/%d", i)}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for i, r := range reqs {
		id, err := s.RequestIDByRef(ctx, fmt.Sprintf("chan/%d", i))
		if err != nil || id != r.ID || id == 0 {
			t.Errorf("RequestIDByRef(chan/%d) = %d, %v; want %d", i, id, err, r.ID)
		}
		got, err := s.Request(ctx, r.ID)
		if err != nil || !bytes.Equal(got.Body, r.Body) {
			t.Errorf("Request(%d) = %v, %v", r.ID, got, err)
		}
	}
	for _, ref := range []string{"", "chan/99"} {
		if _, err := s.RequestIDByRef(ctx, ref); !errors.Is(err, ErrNotFound) {
			t.Errorf("RequestIDByRef(%q): err = %v, want ErrNotFound", ref, err)
		}
	}
	// The lookup uses the partial index.
	db := rawDB(t, path)
	plan := queryPlan(t, db, "SELECT id FROM requests WHERE ingress_ref = ? AND ingress_ref <> '' ORDER BY id LIMIT 1", "x")
	if !strings.Contains(plan, "requests_ingress_ref") {
		t.Errorf("lookup does not use the index:\n%s", plan)
	}
}
