package webhook

import (
	"net/http"
	"reflect"
	"testing"
	"time"
)

func TestHeaders(t *testing.T) {
	h := Headers{
		{"content-type", "application/json"},
		{"X-Multi", "1"},
		{"x-multi", "2"},
		{"Stripe-Signature", "t=1,v1=x"},
	}
	tests := []struct {
		name   string
		get    string
		values []string
	}{
		{"Content-Type", "application/json", []string{"application/json"}},
		{"X-MULTI", "1", []string{"1", "2"}},
		{"missing", "", nil},
	}
	for _, tt := range tests {
		if got := h.Get(tt.name); got != tt.get {
			t.Errorf("Get(%q) = %q", tt.name, got)
		}
		if got := h.Values(tt.name); !reflect.DeepEqual(got, tt.values) {
			t.Errorf("Values(%q) = %q", tt.name, got)
		}
	}
	want := http.Header{"content-type": {"application/json"}, "X-Multi": {"1"}, "x-multi": {"2"}, "Stripe-Signature": {"t=1,v1=x"}}
	if got := h.HTTP(); !reflect.DeepEqual(got, want) {
		t.Errorf("HTTP() = %v", got)
	}
}

func TestFromHTTP(t *testing.T) {
	got := FromHTTP(http.Header{"B": {"2", "3"}, "A": {"1"}})
	want := Headers{{"A", "1"}, {"B", "2"}, {"B", "3"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("FromHTTP = %v", got)
	}
}

func TestSummarize(t *testing.T) {
	r := &Request{ID: 3, ReceivedAt: time.Unix(1, 0), Method: "POST", URI: "/x", BodySize: 9, Signature: SignatureUnchecked}
	s := Summarize(r, &Attempt{Status: 201, Duration: time.Millisecond, Error: ""}, 2)
	if s.ID != 3 || s.Status != 201 || s.Attempts != 2 || s.Duration != time.Millisecond || s.URI != "/x" {
		t.Errorf("Summarize = %+v", s)
	}
	if s := Summarize(r, nil, 0); s.Status != 0 || s.Attempts != 0 {
		t.Errorf("Summarize without attempts = %+v", s)
	}
}
