package tunnel

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.ngrok.com/muxado/v2"
	"golang.ngrok.com/ngrok/v2"

	"github.com/hookctl/hookctl/internal/webhook"
)

// bogusToken looks like an ngrok authtoken; tests check that it never shows up in errors.
const bogusToken = "2hKbogusTOKENxY7qL9zR4wVfakeAuthtoken_5mNdp3sT8uEjH"

// checkErr fails unless err is a one-line message that does not contain the authtoken.
func checkErr(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		t.Fatal("expected an error")
	}
	msg := err.Error()
	if strings.Contains(msg, bogusToken) || strings.Contains(fmt.Sprintf("%+v %#v", err, err), bogusToken) {
		t.Fatalf("error leaks the authtoken: %s", msg)
	}
	if strings.ContainsAny(msg, "\r\n") {
		t.Fatalf("error is not one line: %q", msg)
	}
	if !strings.HasPrefix(msg, "ngrok: ") {
		t.Fatalf("error does not say it is about ngrok: %q", msg)
	}
	return msg
}

// checkLogs fails if a log line holds the authtoken.
func checkLogs(t *testing.T, logs *syncBuffer) {
	t.Helper()
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, bogusToken) {
			t.Errorf("the authtoken was logged: %s", strings.ReplaceAll(line, bogusToken, "<TOKEN>"))
		}
	}
}

// recordingLogger returns a logger that keeps every record (debug and up) as a JSON line.
func recordingLogger() (*slog.Logger, *syncBuffer) {
	buf := &syncBuffer{}
	return slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// silentServer accepts TCP connections on 127.0.0.1 and never answers: a dial that hangs.
func silentServer(t *testing.T) (addr string, accepted <-chan struct{}) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	acc := make(chan struct{}, 16)
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			select {
			case acc <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return l.Addr().String(), acc
}

// closedAddr is a 127.0.0.1 address nothing listens on: the dial is refused at once.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestNgrokNoAuthtoken(t *testing.T) {
	for _, token := range []string{"", "  \t"} {
		in, err := Ngrok(context.Background(), NgrokConfig{Authtoken: token})
		if in != nil || !errors.Is(err, ErrNoAuthtoken) {
			t.Fatalf("token %q: ingress %v, err %v", token, in, err)
		}
		msg := checkErr(t, err)
		for _, want := range []string{"NGROK_AUTHTOKEN", "--ngrok-authtoken", "https://dashboard.ngrok.com"} {
			if !strings.Contains(msg, want) {
				t.Errorf("message lacks %q: %s", want, msg)
			}
		}
	}
}

// The real SDK against the real ngrok address, with no network: the first dial failure ends it.
func TestNgrokOfflineFailsFast(t *testing.T) {
	logger, logs := recordingLogger()
	start := time.Now()
	in, err := Ngrok(context.Background(), NgrokConfig{Authtoken: bogusToken, Timeout: 10 * time.Second, Logger: logger})
	t.Logf("returned after %v: %v", time.Since(start).Round(time.Millisecond), err)
	if err == nil {
		in.Close()
		t.Fatal("connected to ngrok with a bogus token")
	}
	if errors.Is(err, ErrNgrokAuthRejected) {
		t.Skip("this machine reaches the ngrok service (the bogus token was rejected); the offline case cannot be checked here")
	}
	msg := checkErr(t, err)
	if !errors.Is(err, ErrNgrokUnreachable) {
		t.Fatalf("want ErrNgrokUnreachable, got %v", err)
	}
	// The first failure ended it, not the 10 s timeout.
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ended by the timeout instead of the first dial failure: %v", err)
	}
	for _, want := range []string{"cannot reach the ngrok service", "connect.ngrok-agent.com", "--ngrok"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q: %s", want, msg)
		}
	}
	checkLogs(t, logs)
}

// A server that accepts the TCP connection and never answers: only the timeout can end it.
func TestNgrokTimeoutWhenServerNeverAnswers(t *testing.T) {
	addr, accepted := silentServer(t)
	start := time.Now()
	_, err := listenNgrok(context.Background(),
		NgrokConfig{Authtoken: bogusToken, Timeout: 500 * time.Millisecond},
		ngrok.WithAgentConnectURL(addr))
	t.Logf("returned after %v: %v", time.Since(start).Round(time.Millisecond), err)
	msg := checkErr(t, err)
	if !errors.Is(err, ErrNgrokUnreachable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want ErrNgrokUnreachable wrapping a deadline, got %v", err)
	}
	if !strings.Contains(msg, "no answer within 500ms") {
		t.Errorf("message does not give the timeout: %s", msg)
	}
	select {
	case <-accepted:
	default:
		t.Fatal("the agent never connected to the silent server")
	}
}

func TestNgrokContextCanceled(t *testing.T) {
	t.Run("while connecting", func(t *testing.T) {
		addr, accepted := silentServer(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			<-accepted // the agent is connected and waiting for an answer
			cancel()
		}()
		_, err := listenNgrok(ctx, NgrokConfig{Authtoken: bogusToken, Timeout: 10 * time.Second},
			ngrok.WithAgentConnectURL(addr))
		msg := checkErr(t, err)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("want context.Canceled, got %v", err)
		}
		// Ended by the cancellation, not by the 10 s timeout.
		if errors.Is(err, ErrNgrokUnreachable) || errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("ended by the timeout, not the cancellation: %v", err)
		}
		if !strings.Contains(msg, "canceled") {
			t.Errorf("message: %s", msg)
		}
	})
	t.Run("before starting", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := Ngrok(ctx, NgrokConfig{Authtoken: bogusToken})
		checkErr(t, err)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("want context.Canceled, got %v", err)
		}
	})
}

// Every failure path, including a service that echoes the token back in its error.
func TestNgrokErrorsNeverContainToken(t *testing.T) {
	logger, logs := recordingLogger()
	cases := map[string]func(t *testing.T) error{
		"offline": func(t *testing.T) error {
			_, err := Ngrok(context.Background(), NgrokConfig{Authtoken: bogusToken, Timeout: 10 * time.Second, Logger: logger})
			return err
		},
		"refused": func(t *testing.T) error {
			_, err := listenNgrok(context.Background(), NgrokConfig{Authtoken: bogusToken, Logger: logger},
				ngrok.WithAgentConnectURL(closedAddr(t)))
			return err
		},
		"timeout": func(t *testing.T) error {
			addr, _ := silentServer(t)
			_, err := listenNgrok(context.Background(), NgrokConfig{Authtoken: bogusToken, Timeout: 300 * time.Millisecond, Logger: logger},
				ngrok.WithAgentConnectURL(addr))
			return err
		},
		"auth rejected, token echoed": func(t *testing.T) error {
			fc := newFakeCloud(t)
			fc.authErr = "The authtoken you specified does not look like a proper ngrok tunnel authtoken.\nYour authtoken: " +
				bogusToken + "\nInstructions to install your authtoken are on your ngrok dashboard:\nhttps://dashboard.ngrok.com/get-started/your-authtoken\n\nERR_NGROK_105\n"
			_, err := fc.listen(context.Background(), NgrokConfig{Authtoken: bogusToken, Logger: logger})
			return err
		},
		"domain rejected, token echoed": func(t *testing.T) error {
			fc := newFakeCloud(t)
			fc.bindErr = "failed to bind the domain for authtoken " + bogusToken + "\n\nERR_NGROK_320\n"
			_, err := fc.listen(context.Background(), NgrokConfig{Authtoken: bogusToken, Domain: "hooks.example.ngrok.app", Logger: logger})
			return err
		},
	}
	for name, run := range cases {
		t.Run(name, func(t *testing.T) {
			err := run(t)
			t.Logf("%v", err)
			checkErr(t, err)
		})
	}
	checkLogs(t, logs)
}

// The SDK's log lines go to the configured logger.
func TestNgrokLogsGoToLogger(t *testing.T) {
	logger, logs := recordingLogger()
	_, err := listenNgrok(context.Background(), NgrokConfig{Authtoken: bogusToken, Logger: logger},
		ngrok.WithAgentConnectURL(closedAddr(t)))
	checkErr(t, err)
	if !errors.Is(err, ErrNgrokUnreachable) || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("err = %v", err)
	}
	out := logs.String()
	if !strings.Contains(out, "failed to reconnect session") {
		t.Fatalf("the logger did not receive the SDK's records; got:\n%s", out)
	}
}

// The SDK writes nothing to stderr, with a logger or without one (nil → discard). Checked in a
// child process, whose stderr can be captured; it is also the first connect of that process,
// so the SDK's once-per-process startup warning is covered too.
func TestNgrokNothingOnStderr(t *testing.T) {
	if os.Getenv("HOOKCTL_NGROK_STDERR_CHILD") == "1" {
		for _, withLogger := range []bool{false, true} {
			cfg := NgrokConfig{Authtoken: bogusToken, Timeout: 5 * time.Second}
			var logs *syncBuffer
			if withLogger {
				cfg.Logger, logs = recordingLogger()
			}
			_, err := listenNgrok(context.Background(), cfg, ngrok.WithAgentConnectURL(closedAddr(t)))
			records := 0
			if logs != nil {
				records = strings.Count(logs.String(), "\n")
			}
			fmt.Printf("child: logger=%v records=%d unreachable=%v\n", withLogger, records, errors.Is(err, ErrNgrokUnreachable))
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestNgrokNothingOnStderr$", "-test.count=1", "-test.timeout=30s")
	cmd.Env = append(os.Environ(), "HOOKCTL_NGROK_STDERR_CHILD=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("child: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	t.Logf("child stdout:\n%s", stdout.String())
	if stderr.Len() != 0 {
		t.Fatalf("something was written to stderr:\n%s", stderr.String())
	}
	out := stdout.String()
	if !strings.Contains(out, "child: logger=false records=0 unreachable=true") ||
		!strings.Contains(out, "child: logger=true records=") || strings.Contains(out, "logger=true records=0 ") ||
		strings.Contains(out, "unreachable=false") {
		t.Fatalf("unexpected child output:\n%s", out)
	}
}

func TestNgrokAuthRejected(t *testing.T) {
	fc := newFakeCloud(t)
	fc.authErr = "The authtoken you specified is invalid.\n\nERR_NGROK_107\n"
	_, err := fc.listen(context.Background(), NgrokConfig{Authtoken: bogusToken, Timeout: 10 * time.Second})
	msg := checkErr(t, err)
	t.Log(msg)
	if !errors.Is(err, ErrNgrokAuthRejected) || errors.Is(err, ErrNgrokUnreachable) || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want ErrNgrokAuthRejected from the first answer, got %v", err)
	}
	for _, want := range []string{"authtoken was rejected", "The authtoken you specified is invalid.", "ERR_NGROK_107", "NGROK_AUTHTOKEN"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q: %s", want, msg)
		}
	}
	if got := fc.authCount(); got != 1 {
		t.Errorf("auth attempts = %d, want 1 (no retry after a rejection)", got)
	}
}

func TestNgrokDomainNotReserved(t *testing.T) {
	fc := newFakeCloud(t)
	fc.bindErr = "The endpoint 'https://hooks.example.ngrok.app' is not reserved in your account.\n\nERR_NGROK_320\n"
	_, err := fc.listen(context.Background(), NgrokConfig{Authtoken: bogusToken, Domain: "hooks.example.ngrok.app"})
	msg := checkErr(t, err)
	t.Log(msg)
	if errors.Is(err, ErrNgrokUnreachable) || errors.Is(err, ErrNgrokAuthRejected) {
		t.Fatalf("wrong kind: %v", err)
	}
	for _, want := range []string{"https://hooks.example.ngrok.app", "not reserved", "ERR_NGROK_320", "--ngrok-domain"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q: %s", want, msg)
		}
	}
}

// The whole lifecycle against a local stand-in for the ngrok service, with the real SDK: the
// endpoint comes up, a proxied connection arrives through Accept, the service drops the session
// and the SDK reconnects by itself (nothing was cancelled), and Close tears everything down.
func TestNgrokLifecycleWithLocalService(t *testing.T) {
	fc := newFakeCloud(t)
	logger, logs := recordingLogger()
	in, err := fc.listen(context.Background(), NgrokConfig{Authtoken: bogusToken, Domain: "https://Hooks.Example.ngrok.app/", Timeout: 5 * time.Second, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()

	if in.URL() != fc.url || in.Name() != webhook.IngressNgrok || in.Addr() == nil {
		t.Fatalf("URL %q, Name %q, Addr %v", in.URL(), in.Name(), in.Addr())
	}
	auth, bind := fc.firstAuth(), fc.firstBind()
	if auth.Extra.Authtoken != bogusToken {
		t.Errorf("the service got authtoken %q", auth.Extra.Authtoken)
	}
	if bind.Proto != "https" || bind.Opts.URL != "https://hooks.example.ngrok.app" || bind.Extra.Description != "hookctl" {
		t.Errorf("bind request: %+v", bind)
	}

	first := <-fc.sessions
	roundTrip(t, in, first)

	// The service drops the session after Ngrok returned: the SDK must reconnect and rebind,
	// and the ingress must keep working.
	first.drop()
	var second *fakeSession
	select {
	case second = <-fc.sessions:
	case <-time.After(5 * time.Second):
		t.Fatalf("the agent did not reconnect; logs:\n%s", logs.String())
	}
	select {
	case <-second.bound:
	case <-time.After(5 * time.Second):
		t.Fatal("the agent did not rebind its endpoint after reconnecting")
	}
	roundTrip(t, in, second)

	if err := in.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := in.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if c, err := in.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept after Close: %v, %v", c, err)
	}
	select {
	case <-second.gone:
	case <-time.After(5 * time.Second):
		t.Error("Close did not disconnect the agent")
	}
	if fc.unbindCount() != 1 {
		t.Errorf("unbind requests = %d, want 1", fc.unbindCount())
	}
	checkLogs(t, logs)
}

// roundTrip sends a connection through the fake service and reads it from the ingress.
func roundTrip(t *testing.T, in Ingress, s *fakeSession) {
	t.Helper()
	st, err := s.proxy([]byte("POST /hook HTTP/1.1\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	type accepted struct {
		c   net.Conn
		err error
	}
	ch := make(chan accepted, 1)
	go func() {
		c, err := in.Accept()
		ch <- accepted{c, err}
	}()
	var a accepted
	select {
	case a = <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal("Accept got no connection")
	}
	if a.err != nil {
		t.Fatal(a.err)
	}
	defer a.c.Close()
	if a.c.RemoteAddr().String() != "203.0.113.7:5555" {
		t.Errorf("RemoteAddr = %v", a.c.RemoteAddr())
	}
	buf := make([]byte, len("POST /hook HTTP/1.1\r\n"))
	a.c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(a.c, buf); err != nil || string(buf) != "POST /hook HTTP/1.1\r\n" {
		t.Fatalf("read %q, %v", buf, err)
	}
	if _, err := a.c.Write([]byte("HTTP/1.1 200 OK\r\n")); err != nil {
		t.Fatal(err)
	}
	resp := make([]byte, len("HTTP/1.1 200 OK\r\n"))
	st.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(st, resp); err != nil || string(resp) != "HTTP/1.1 200 OK\r\n" {
		t.Fatalf("service read %q, %v", resp, err)
	}
}

func TestNgrokEndpointURL(t *testing.T) {
	good := map[string]string{
		"":                                 "",
		"hooks.example.ngrok.app":          "https://hooks.example.ngrok.app",
		" https://Hooks.example.ngrok.app": "https://hooks.example.ngrok.app",
		"https://hooks.example.ngrok.app/": "https://hooks.example.ngrok.app",
		"hooks.example.ngrok.app:443":      "https://hooks.example.ngrok.app",
	}
	for in, want := range good {
		if got, err := ngrokEndpointURL(in); err != nil || got != want {
			t.Errorf("%q → %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"http://hooks.example.ngrok.app", "tcp://1.tcp.ngrok.io:12345", "hooks.example.ngrok.app/path",
		"hooks.example.ngrok.app:8443", "https://", "https://user@hooks.example.ngrok.app", "hooks example"} {
		_, err := ngrokEndpointURL(in)
		if err == nil || !strings.Contains(err.Error(), "invalid domain") {
			t.Errorf("%q: err = %v", in, err)
		}
	}
	if _, err := Ngrok(context.Background(), NgrokConfig{Authtoken: bogusToken, Domain: "http://x.ngrok.app"}); err == nil || !strings.Contains(err.Error(), "invalid domain") {
		t.Errorf("Ngrok with an http domain: %v", err)
	}
}

// fakeCloud is a local stand-in for the ngrok service: TLS, muxado, and the JSON RPCs the
// SDK's session uses (auth, bind, unbind, proxy streams). Only the service is fake; the SDK
// under test is the real one, pointed at this server with ngrok.WithAgentConnectURL.
type fakeCloud struct {
	t       *testing.T
	ln      net.Listener
	pool    *x509.CertPool
	url     string
	authErr string // if set, every auth is answered with this error
	bindErr string // if set, every bind is answered with this error

	sessions chan *fakeSession

	mu      sync.Mutex
	auths   []fakeAuth
	binds   []fakeBind
	unbinds int
	conns   []net.Conn
}

type fakeAuth struct {
	ClientID string `json:"ClientId"`
	Extra    struct{ Authtoken string }
}

type fakeBind struct {
	ID    string `json:"Id"`
	Proto string
	Opts  struct{ URL string }
	Extra struct{ Description string }
}

type fakeSession struct {
	mux    *muxado.Heartbeat
	conn   net.Conn
	bindID string
	bound  chan struct{} // closed when a bind was answered on this session
	gone   chan struct{} // closed when the session ends
	once   sync.Once
}

func newFakeCloud(t *testing.T) *fakeCloud {
	t.Helper()
	cert, pool := selfSignedCert(t)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	fc := &fakeCloud{t: t, ln: ln, pool: pool, url: "https://hooks.example.ngrok.app", sessions: make(chan *fakeSession, 8)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			fc.mu.Lock()
			fc.conns = append(fc.conns, c)
			fc.mu.Unlock()
			go fc.serve(c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		fc.mu.Lock()
		defer fc.mu.Unlock()
		for _, c := range fc.conns {
			c.Close()
		}
	})
	return fc
}

func (fc *fakeCloud) listen(ctx context.Context, cfg NgrokConfig) (Ingress, error) {
	return listenNgrok(ctx, cfg, ngrok.WithAgentConnectURL(fc.ln.Addr().String()), ngrok.WithAgentConnectCAs(fc.pool))
}

func (fc *fakeCloud) serve(c net.Conn) {
	s := &fakeSession{
		mux:   muxado.NewHeartbeat(muxado.NewTypedStreamSession(muxado.Server(c, nil)), nil, nil),
		conn:  c,
		bound: make(chan struct{}),
		gone:  make(chan struct{}),
	}
	defer close(s.gone)
	defer s.mux.Close()
	for {
		st, err := s.mux.AcceptTypedStream()
		if err != nil {
			return
		}
		go fc.handle(s, st)
	}
}

func (fc *fakeCloud) handle(s *fakeSession, st muxado.TypedStream) {
	defer st.Close()
	dec, enc := json.NewDecoder(st), json.NewEncoder(st)
	switch st.StreamType() {
	case 0: // auth
		var req fakeAuth
		if dec.Decode(&req) != nil {
			return
		}
		fc.mu.Lock()
		fc.auths = append(fc.auths, req)
		fc.mu.Unlock()
		if fc.authErr != "" {
			enc.Encode(map[string]any{"Version": "3", "Error": fc.authErr})
			return
		}
		enc.Encode(map[string]any{"Version": "3", "ClientId": "cl_test", "Extra": map[string]any{"Region": "test", "AgentSessionID": "as_test"}})
		fc.sessions <- s
	case 1: // bind
		var req fakeBind
		if dec.Decode(&req) != nil {
			return
		}
		fc.mu.Lock()
		fc.binds = append(fc.binds, req)
		fc.mu.Unlock()
		if fc.bindErr != "" {
			enc.Encode(map[string]any{"Error": fc.bindErr})
			return
		}
		id := req.ID
		if id == "" {
			id = "bind_test"
		}
		s.bindID = id
		enc.Encode(map[string]any{"Id": id, "URL": fc.url, "Proto": "https", "Opts": map[string]any{}, "Extra": map[string]any{"TunnelID": "tn_test"}})
		s.once.Do(func() { close(s.bound) })
	case 2: // unbind
		var req map[string]any
		if dec.Decode(&req) != nil {
			return
		}
		fc.mu.Lock()
		fc.unbinds++
		fc.mu.Unlock()
		enc.Encode(map[string]any{})
	}
}

// proxy opens a connection to the agent as the ngrok edge does for a sender's request.
func (s *fakeSession) proxy(payload []byte) (net.Conn, error) {
	st, err := s.mux.OpenTypedStream(3)
	if err != nil {
		return nil, err
	}
	hdr, _ := json.Marshal(map[string]any{"Id": s.bindID, "ClientAddr": "203.0.113.7:5555", "Proto": "https"})
	if err := binary.Write(st, binary.LittleEndian, int64(len(hdr))); err != nil {
		return nil, err
	}
	if _, err := st.Write(append(hdr, payload...)); err != nil {
		return nil, err
	}
	return st, nil
}

// drop ends the session from the service's side, as a network failure would.
func (s *fakeSession) drop() { s.conn.Close() }

func (fc *fakeCloud) authCount() int {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return len(fc.auths)
}

func (fc *fakeCloud) unbindCount() int {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return fc.unbinds
}

func (fc *fakeCloud) firstAuth() fakeAuth {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if len(fc.auths) == 0 {
		fc.t.Fatal("no auth request")
	}
	return fc.auths[0]
}

func (fc *fakeCloud) firstBind() fakeBind {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if len(fc.binds) == 0 {
		fc.t.Fatal("no bind request")
	}
	return fc.binds[0]
}

// selfSignedCert returns a certificate for 127.0.0.1 and a pool that trusts it.
func selfSignedCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "fake ngrok service"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// TestNgrokConnectFailureLogsOnlyAtDebug checks that a failed connect is reported once, by
// the returned error: the SDK's own complaints while connecting reach the logger at debug
// level only, so a logger at the default level stays quiet.
func TestNgrokConnectFailureLogsOnlyAtDebug(t *testing.T) {
	buf := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	_, err := Ngrok(context.Background(), NgrokConfig{Authtoken: bogusToken, Timeout: 10 * time.Second, Logger: logger})
	if err == nil {
		t.Skip("this machine reaches ngrok")
	}
	if out := buf.String(); out != "" {
		t.Fatalf("records above debug while connecting: %s", out)
	}
}
