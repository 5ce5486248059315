package forward_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/hookctl/hookctl/internal/forward"
	"github.com/hookctl/hookctl/internal/store"
	"github.com/hookctl/hookctl/internal/webhook"
)

func TestReplayEdited(t *testing.T) {
	got := make(chan string, 4)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- r.RequestURI + " " + r.Header.Get("Content-Length") + " " + string(b)
	}))
	defer target.Close()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{Path: filepath.Join(t.TempDir(), "log.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	orig := &webhook.Request{Method: "POST", URI: "/hook?x=1", Body: []byte(`{"a":1}`), BodySize: 7,
		Header: webhook.Headers{{Name: "Content-Type", Value: "application/json"}, {Name: "Content-Length", Value: "7"}}}
	if err := db.AddRequest(ctx, orig); err != nil {
		t.Fatal(err)
	}
	r := forward.LogReplayer{Forwarder: forward.New(forward.Config{}), Log: db}

	// Never forwarded: a target is needed.
	if _, _, err := r.ReplayEdited(ctx, orig.ID, []byte(`{}`), ""); !errors.Is(err, forward.ErrNeverForwarded) {
		t.Fatalf("err = %v", err)
	}
	newID, a, err := r.ReplayEdited(ctx, orig.ID, []byte(`{"a":2,"b":3}`), target.URL)
	if err != nil || a.Status != 200 || a.Kind != webhook.KindReplay {
		t.Fatalf("ReplayEdited: %v %+v", err, a)
	}
	if s := <-got; s != `/hook?x=1 13 {"a":2,"b":3}` {
		t.Fatalf("target got %q", s)
	}
	cp, err := db.Request(ctx, newID)
	if err != nil || string(cp.Body) != `{"a":2,"b":3}` || cp.Ingress != webhook.IngressEdit || cp.Header.Get("Content-Length") != "13" {
		t.Fatalf("copy: %+v %v", cp, err)
	}
	again, _ := db.Request(ctx, orig.ID)
	if string(again.Body) != `{"a":1}` {
		t.Fatalf("the original changed: %s", again.Body)
	}
	if a, err := db.Attempts(ctx, orig.ID); err != nil || len(a) != 0 {
		t.Fatalf("the original got attempts: %v %v", a, err)
	}
	// Replay with a target string that is not one.
	if _, err := r.Replay(ctx, orig.ID, "ftp://x", false); !errors.Is(err, forward.ErrBadTarget) {
		t.Fatalf("Replay to a bad target: %v", err)
	}
}
