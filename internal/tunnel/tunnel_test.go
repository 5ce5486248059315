package tunnel

import (
	"errors"
	"net"
	"strings"
	"testing"
)

func TestLocal(t *testing.T) {
	in, err := Local("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if !strings.HasPrefix(in.URL(), "http://127.0.0.1:") || in.Name() != "local" {
		t.Fatalf("URL %q, name %q", in.URL(), in.Name())
	}
	c, err := net.Dial("tcp", in.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.Close()

	_, err = Local(in.Addr().String())
	if !errors.Is(err, ErrAddrInUse) || !strings.Contains(err.Error(), "--addr") {
		t.Fatalf("second Local on a busy port: %v", err)
	}
}

func TestLocalUnspecifiedHostGetsLoopbackURL(t *testing.T) {
	in, err := Local(":0")
	if err != nil {
		t.Skip("cannot listen on all interfaces here:", err)
	}
	defer in.Close()
	if !strings.HasPrefix(in.URL(), "http://127.0.0.1:") {
		t.Fatalf("URL %q", in.URL())
	}
}

func TestLocalBadAddress(t *testing.T) {
	if _, err := Local("127.0.0.1:notaport"); err == nil || !strings.Contains(err.Error(), "listen on 127.0.0.1:notaport") {
		t.Fatalf("err = %v", err)
	}
}

// TestExposed tells loopback listeners from ones other machines can reach.
func TestExposed(t *testing.T) {
	for _, tc := range []struct {
		addr    string
		exposed bool
	}{
		{"127.0.0.1:0", false},
		{"[::1]:0", false},
		{"0.0.0.0:0", true},
		{":0", true},
	} {
		ln, err := net.Listen("tcp", tc.addr)
		if err != nil {
			t.Logf("%s: %v (skipped: not available here)", tc.addr, err)
			continue
		}
		if got := Exposed(ln); got != tc.exposed {
			t.Errorf("Exposed(%s) = %v, want %v", ln.Addr(), got, tc.exposed)
		}
		ln.Close()
	}
}
