package main

import (
	"encoding/json"
	"testing"
	"time"
)

func TestEvent(t *testing.T) {
	ev, err := newEvent(eventSize, time.Unix(1732752000, 0))
	if err != nil {
		t.Fatal(err)
	}
	b := ev.withID(42)
	if len(b) != eventSize {
		t.Errorf("body is %d bytes, want %d", len(b), eventSize)
	}
	var e struct{ ID, Type string }
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	if want := "evt_000000000000000000000042"; e.ID != want || e.Type != "payment_intent.succeeded" {
		t.Errorf("id %q type %q, want %q payment_intent.succeeded", e.ID, e.Type, want)
	}
	if string(ev.body) == string(b) {
		t.Error("withID changed the template")
	}
}

func TestPercentile(t *testing.T) {
	s := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 5}, {0.99, 10}, {1, 10}, {0, 1}} {
		if got := percentile(s, c.q); got != c.want {
			t.Errorf("percentile(%v) = %v, want %v", c.q, got, c.want)
		}
	}
	if got := percentile(nil, 0.5); got != 0 {
		t.Errorf("percentile of nothing = %v, want 0", got)
	}
}

func TestParseFlags(t *testing.T) {
	o, err := parseFlags([]string{"-conc", "1, 8", "-suite", "relay,list,relay"})
	if err != nil {
		t.Fatal(err)
	}
	if len(o.conc) != 2 || o.conc[1] != 8 || len(o.suites) != 2 || !o.has("list") || o.has("ingress") {
		t.Errorf("got conc %v suites %v", o.conc, o.suites)
	}
	for _, args := range [][]string{{"-conc", "0"}, {"-suite", "nope"}, {"-duration", "0s"}, {"extra"}} {
		if _, err := parseFlags(args); err == nil {
			t.Errorf("parseFlags(%q) succeeded", args)
		}
	}
}
