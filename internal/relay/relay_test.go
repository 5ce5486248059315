package relay

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/hookctl/hookctl/internal/capture"
	"github.com/hookctl/hookctl/internal/rawhead"
	"github.com/hookctl/hookctl/internal/store"
	"github.com/hookctl/hookctl/internal/webhook"
)

// testCtx returns a context that ends when the test times out.
func testCtx(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// waitFor polls cond until it holds, failing the test when ctx ends first.
func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// openStore opens a store file and closes it when the test ends.
func openStore(t *testing.T, path string) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), store.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// relayRig is a relay server on 127.0.0.1 over its own buffer file.
type relayRig struct {
	srv  *Server
	db   *store.Store
	url  string
	addr string
	stop func() // stops the server and closes its buffer
}

// startRelay serves a relay on addr ("127.0.0.1:0" for a free port) over the buffer at path.
func startRelay(t *testing.T, path, addr string, tweak func(*ServerConfig)) *relayRig {
	t.Helper()
	db, err := store.Open(context.Background(), store.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	var ln net.Listener
	for range 100 { // a restarted relay takes its predecessor's port
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	cfg := ServerConfig{PublicURL: base, Log: db}
	if tweak != nil {
		tweak(&cfg)
	}
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	var once sync.Once
	rig := &relayRig{srv: srv, db: db, url: base, addr: ln.Addr().String()}
	rig.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Serve: %v", err)
			}
			if err := db.Close(); err != nil {
				t.Errorf("close relay buffer: %v", err)
			}
		})
	}
	t.Cleanup(rig.stop)
	return rig
}

// target is the developer's server: it records what it receives.
type target struct {
	*httptest.Server
	mu   sync.Mutex
	got  []received
	hook func(w http.ResponseWriter, r *http.Request, body []byte) // answers; nil echoes
}

type received struct {
	uri     string
	headers webhook.Headers
	body    []byte
}

func newTarget(t *testing.T) *target {
	tg := &target{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, ok := rawhead.Headers(r)
		if !ok {
			h = webhook.FromHTTP(r.Header)
		}
		body, _ := io.ReadAll(r.Body)
		tg.mu.Lock()
		tg.got = append(tg.got, received{uri: r.RequestURI, headers: h, body: body})
		hook := tg.hook
		tg.mu.Unlock()
		if hook != nil {
			hook(w, r, body)
			return
		}
		w.Header().Set("X-Echo-Uri", r.RequestURI)
		w.Write(body)
	}))
	srv.Listener = rawhead.Listen(srv.Listener)
	srv.Config.ConnContext = rawhead.ConnContext
	srv.Start()
	tg.Server = srv
	t.Cleanup(srv.Close)
	return tg
}

func (tg *target) received() []received {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return slices.Clone(tg.got)
}

// clientRig is a relay client serving a real capture handler over a local log.
type clientRig struct {
	log    *store.Store
	cancel context.CancelFunc
	done   chan error
}

// startClient runs a client for creds whose capture handler records in log and forwards to
// tg.
func startClient(t *testing.T, creds Credentials, log *store.Store, tg *target, tweak func(*ClientConfig)) *clientRig {
	t.Helper()
	u, _ := url.Parse(tg.URL)
	h := capture.New(capture.Config{Log: log, Target: u, Ingress: webhook.IngressRelay})
	cfg := ClientConfig{
		Credentials: creds,
		Handler:     h,
		Seen: func(ctx context.Context, ref string) (bool, error) {
			_, err := log.RequestIDByRef(ctx, ref)
			if errors.Is(err, store.ErrNotFound) {
				return false, nil
			}
			return err == nil, err
		},
		WithRequest: capture.WithReceived,
		MinBackoff:  20 * time.Millisecond,
		MaxBackoff:  200 * time.Millisecond,
	}
	if tweak != nil {
		tweak(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &clientRig{log: log, cancel: cancel, done: make(chan error, 1)}
	go func() { c.done <- RunClient(ctx, cfg) }()
	t.Cleanup(func() { c.stop(t) })
	return c
}

// stop stops the client and waits for it.
func (c *clientRig) stop(t *testing.T) {
	c.cancel()
	select {
	case err := <-c.done:
		if err != nil {
			t.Errorf("RunClient: %v", err)
		}
		c.done <- nil // for a second stop
	case <-time.After(30 * time.Second):
		t.Error("RunClient did not return after its context ended")
	}
}

// send sends a request through a raw connection, so that the request line and the header
// lines are exactly as written, and returns the response and its body.
func send(t *testing.T, ctx context.Context, addr, method, uri string, headers [][2]string, body []byte) (*http.Response, []byte) {
	t.Helper()
	resp, rb, err := sendErr(ctx, addr, method, uri, headers, body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, rb
}

// sendErr is send for goroutines other than the test's.
func sendErr(ctx context.Context, addr, method, uri string, headers [][2]string, body []byte) (*http.Response, []byte, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, uri, addr)
	for _, h := range headers {
		fmt.Fprintf(&b, "%s: %s\r\n", h[0], h[1])
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n", len(body))
	b.Write(body)
	if _, err := c.Write(b.Bytes()); err != nil {
		return nil, nil, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", method, uri, err)
	}
	rb, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", method, uri, err)
	}
	return resp, rb, nil
}

// channelPath returns the path part of a channel URL.
func channelPath(t *testing.T, creds Credentials) string {
	u, err := url.Parse(creds.PublicURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Path
}

func TestEndToEnd(t *testing.T) {
	ctx := testCtx(t, 60*time.Second)
	dir := t.TempDir()
	rl := startRelay(t, filepath.Join(dir, "relay.db"), "127.0.0.1:0", nil)
	creds, err := CreateChannel(ctx, rl.url+"/", "")
	if err != nil {
		t.Fatal(err)
	}
	if creds.RelayURL != rl.url || creds.PublicURL != rl.url+"/c/"+creds.ChannelID || len(creds.ChannelID) < 26 || len(creds.Secret) < 26 {
		t.Fatalf("credentials %+v", creds)
	}
	tg := newTarget(t)
	respBody := []byte{0x00, 0xff, 'o', 'k', 0xc3, 0x28}
	tg.hook = func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header()["X-Target"] = []string{"yes"}
		w.Header()["Set-Cookie"] = []string{"a=1", "b=2"}
		w.WriteHeader(http.StatusCreated)
		w.Write(respBody)
	}
	local := openStore(t, filepath.Join(dir, "local.db"))
	var states []State
	var smu sync.Mutex
	startClient(t, creds, local, tg, func(c *ClientConfig) {
		c.OnState = func(s State, _ error) { smu.Lock(); states = append(states, s); smu.Unlock() }
	})
	waitFor(t, ctx, "client connected", func() bool { return rl.srv.connected(creds.ChannelID) && rl.srv.session(creds.ChannelID).isLive() })

	body := []byte{0xff, 0xfe, 0x00, '\r', '\n', 0x80, 'x'}
	uri := channelPath(t, creds) + "/hooks/a%2Fb//c?x=1&y=%7e&z"
	headers := [][2]string{
		{"x-Repeat", "one"},
		{"Content-Type", "application/octet-stream"},
		{"x-Repeat", "two"},
		{"x-Repeat", "three \xff"},
		{"X-odd-CASE", "kept"},
	}
	resp, got := send(t, ctx, rl.addr, "POST", uri, headers, body)
	if resp.StatusCode != http.StatusCreated || !bytes.Equal(got, respBody) {
		t.Fatalf("sender got %d %q, want 201 %q", resp.StatusCode, got, respBody)
	}
	if resp.Header.Get("X-Target") != "yes" || !reflect.DeepEqual(resp.Header["Set-Cookie"], []string{"a=1", "b=2"}) {
		t.Errorf("sender's response headers %v", resp.Header)
	}
	if resp.Header.Get(capture.RequestIDHeader) == "" || resp.Header.Get(RelayIDHeader) == "" {
		t.Errorf("response lacks %s or %s: %v", capture.RequestIDHeader, RelayIDHeader, resp.Header)
	}

	// At the target: same URI after the channel, same body, repeated headers in order and case.
	rs := tg.received()
	if len(rs) != 1 {
		t.Fatalf("target received %d requests", len(rs))
	}
	if rs[0].uri != "/hooks/a%2Fb//c?x=1&y=%7e&z" || !bytes.Equal(rs[0].body, body) {
		t.Errorf("target got %q %q", rs[0].uri, rs[0].body)
	}
	// (The forwarder writes distinct names in sorted order: HTTP gives that order no meaning.)
	var reps []webhook.Field
	for _, f := range rs[0].headers {
		if strings.EqualFold(f.Name, "x-repeat") || strings.EqualFold(f.Name, "x-odd-case") {
			reps = append(reps, f)
		}
	}
	wantReps := []webhook.Field{{Name: "X-odd-CASE", Value: "kept"}, {Name: "x-Repeat", Value: "one"}, {Name: "x-Repeat", Value: "two"}, {Name: "x-Repeat", Value: "three \xff"}}
	if !reflect.DeepEqual(reps, wantReps) {
		t.Errorf("target's repeated headers %q, want %q", reps, wantReps)
	}
	if v := rs[0].headers.Get("X-Forwarded-For"); !strings.HasPrefix(v, "127.0.0.1") {
		t.Errorf("X-Forwarded-For = %q", v)
	}

	// In the local log, under the relay's id, with the sender's header lines in order.
	ref := resp.Header.Get(RelayIDHeader)
	id, err := local.RequestIDByRef(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if strconv.FormatInt(id, 10) != resp.Header.Get(capture.RequestIDHeader) {
		t.Errorf("log id %d, sender saw %s", id, resp.Header.Get(capture.RequestIDHeader))
	}
	rec, err := local.Request(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if rec.URI != "/hooks/a%2Fb//c?x=1&y=%7e&z" || !bytes.Equal(rec.Body, body) || rec.Method != "POST" || rec.Host != rl.addr || rec.Ingress != webhook.IngressRelay {
		t.Errorf("recorded %+v", rec)
	}
	wantHeaders := webhook.Headers{{Name: "Host", Value: rl.addr}}
	for _, h := range headers {
		wantHeaders = append(wantHeaders, webhook.Field{Name: h[0], Value: h[1]})
	}
	wantHeaders = append(wantHeaders, webhook.Field{Name: "Content-Length", Value: strconv.Itoa(len(body))})
	if !reflect.DeepEqual(rec.Header, wantHeaders) {
		t.Errorf("recorded headers\n got %q\nwant %q", rec.Header, wantHeaders)
	}
	if !strings.HasPrefix(rec.RemoteAddr, "127.0.0.1:") {
		t.Errorf("recorded remote address %q", rec.RemoteAddr)
	}

	// Acknowledged, so gone from the relay's buffer.
	waitFor(t, ctx, "buffer empty", func() bool {
		p, err := rl.db.PendingRelayRequests(ctx, creds.ChannelID, 0, 0)
		return err == nil && len(p) == 0
	})

	// The bare channel URL is "/" for the client.
	resp, _ = send(t, ctx, rl.addr, "GET", channelPath(t, creds)+"?q=1", nil, nil)
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("GET on the channel: %d", resp.StatusCode)
	}
	if rs := tg.received(); rs[len(rs)-1].uri != "/?q=1" {
		t.Errorf("bare channel URL became %q", rs[len(rs)-1].uri)
	}
	smu.Lock()
	if len(states) < 2 || states[0] != StateConnecting || states[1] != StateConnected {
		t.Errorf("states %v", states)
	}
	smu.Unlock()

	resp, _ = send(t, ctx, rl.addr, "GET", "/healthz", nil, nil)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz: %d", resp.StatusCode)
	}
}

func TestRefusals(t *testing.T) {
	ctx := testCtx(t, 60*time.Second)
	dir := t.TempDir()
	rl := startRelay(t, filepath.Join(dir, "relay.db"), "127.0.0.1:0", func(c *ServerConfig) {
		c.Token = "operator-token"
		c.MaxBody = 1000
	})

	// Channel creation needs the operator token.
	if _, err := CreateChannel(ctx, rl.url, ""); err == nil || !strings.Contains(err.Error(), "token") {
		t.Errorf("no token: err = %v", err)
	}
	if _, err := CreateChannel(ctx, rl.url, "wrong"); err == nil || !strings.Contains(err.Error(), "token") {
		t.Errorf("wrong token: err = %v", err)
	}
	creds, err := CreateChannel(ctx, rl.url, "operator-token")
	if err != nil {
		t.Fatal(err)
	}
	tg := newTarget(t)
	local := openStore(t, filepath.Join(dir, "local.db"))

	// A client with a wrong secret, or for an unknown channel, stops at once with an error.
	for _, c := range []struct {
		name  string
		creds Credentials
		want  string
	}{
		{"wrong secret", Credentials{RelayURL: rl.url, ChannelID: creds.ChannelID, Secret: creds.Secret + "x"}, "secret"},
		{"unknown channel", Credentials{RelayURL: rl.url, ChannelID: "nope", Secret: creds.Secret}, "does not know channel"},
	} {
		u, _ := url.Parse(tg.URL)
		err := RunClient(ctx, ClientConfig{Credentials: c.creds, Handler: capture.New(capture.Config{Log: local, Target: u})})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: RunClient = %v, want an error about %q", c.name, err, c.want)
		}
	}

	// The same at the websocket handshake.
	dial := func(h http.Header) int {
		conn, resp, err := websocket.DefaultDialer.DialContext(ctx, "ws"+strings.TrimPrefix(rl.url, "http")+"/v1/connect", h)
		if err == nil {
			conn.Close()
			return http.StatusSwitchingProtocols
		}
		if resp == nil {
			t.Fatal(err)
		}
		return resp.StatusCode
	}
	hdr := func(channel, secret, proto string) http.Header {
		h := http.Header{}
		h.Set(ChannelHeader, channel)
		h.Set(ProtocolHeader, proto)
		if secret != "" {
			h.Set("Authorization", "Bearer "+secret)
		}
		return h
	}
	for _, c := range []struct {
		name string
		h    http.Header
		want int
	}{
		{"missing secret", hdr(creds.ChannelID, "", "1"), http.StatusUnauthorized},
		{"wrong secret", hdr(creds.ChannelID, "x"+creds.Secret, "1"), http.StatusUnauthorized},
		{"unknown channel", hdr("nope", creds.Secret, "1"), http.StatusNotFound},
		{"other protocol", hdr(creds.ChannelID, creds.Secret, "2"), http.StatusBadRequest},
		{"good", hdr(creds.ChannelID, creds.Secret, "1"), http.StatusSwitchingProtocols},
	} {
		if got := dial(c.h); got != c.want {
			t.Errorf("%s: status %d, want %d", c.name, got, c.want)
		}
	}

	// Senders: unknown channel 404, oversize body 413; neither is buffered.
	resp, _ := send(t, ctx, rl.addr, "POST", "/c/nope/x", nil, []byte("{}"))
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown channel: %d", resp.StatusCode)
	}
	resp, _ = send(t, ctx, rl.addr, "POST", channelPath(t, creds)+"/x", nil, bytes.Repeat([]byte("a"), 1001))
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("oversize body: %d", resp.StatusCode)
	}
	if p, err := rl.db.PendingRelayRequests(ctx, creds.ChannelID, 0, 0); err != nil || len(p) != 0 {
		t.Errorf("buffer holds %d requests (%v), want none", len(p), err)
	}
}

func TestConcurrentRequests(t *testing.T) {
	ctx := testCtx(t, 60*time.Second)
	dir := t.TempDir()
	rl := startRelay(t, filepath.Join(dir, "relay.db"), "127.0.0.1:0", nil)
	creds, err := CreateChannel(ctx, rl.url, "")
	if err != nil {
		t.Fatal(err)
	}
	tg := newTarget(t)
	local := openStore(t, filepath.Join(dir, "local.db"))
	startClient(t, creds, local, tg, nil)
	waitFor(t, ctx, "client live", func() bool { ss := rl.srv.session(creds.ChannelID); return ss != nil && ss.isLive() })

	const n = 50
	path := channelPath(t, creds)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := []byte(fmt.Sprintf("body %d \x00\xff", i))
			resp, got, err := sendErr(ctx, rl.addr, "PUT", fmt.Sprintf("%s/n/%d", path, i), nil, body)
			if err != nil {
				t.Error(err)
				return
			}
			if resp.StatusCode != http.StatusOK || !bytes.Equal(got, body) || resp.Header.Get("X-Echo-Uri") != fmt.Sprintf("/n/%d", i) {
				t.Errorf("request %d: %d %q %q", i, resp.StatusCode, got, resp.Header.Get("X-Echo-Uri"))
			}
		}()
	}
	wg.Wait()
	if got := len(tg.received()); got != n {
		t.Errorf("target received %d, want %d", got, n)
	}
	if c, _ := local.Count(ctx); c != n {
		t.Errorf("local log has %d, want %d", c, n)
	}
}

// sendNumbered posts /n/from ... /n/to-1 to the channel and checks each answer's status; a
// status of 0 accepts either answer, 202 (buffered) or 200 (delivered live), for requests sent
// while the client may or may not have reconnected yet.
func sendNumbered(t *testing.T, ctx context.Context, rl *relayRig, creds Credentials, from, to, status int) {
	t.Helper()
	for i := from; i < to; i++ {
		resp, body := send(t, ctx, rl.addr, "POST", fmt.Sprintf("%s/n/%d", channelPath(t, creds), i), nil, []byte(strconv.Itoa(i)))
		if status == 0 && (resp.StatusCode == http.StatusAccepted || resp.StatusCode == http.StatusOK) {
			continue
		}
		if resp.StatusCode != status {
			t.Fatalf("request %d: status %d %q, want %d", i, resp.StatusCode, body, status)
		}
		if status == http.StatusAccepted && !bytes.Contains(body, []byte(`"buffered":true`)) {
			t.Fatalf("request %d: body %q", i, body)
		}
	}
}

// checkDelivered checks that the target received /n/0 ... /n/n-1 in order, each once.
func checkDelivered(t *testing.T, tg *target, n int) {
	t.Helper()
	rs := tg.received()
	uris := make([]string, len(rs))
	for i, r := range rs {
		uris[i] = r.uri
	}
	want := make([]string, n)
	for i := range want {
		want[i] = fmt.Sprintf("/n/%d", i)
	}
	if !slices.Equal(uris, want) {
		t.Errorf("target received %d requests:\n%v\nwant /n/0 ... /n/%d in order", len(uris), uris, n-1)
	}
}

func TestClientRestart(t *testing.T) {
	ctx := testCtx(t, 90*time.Second)
	dir := t.TempDir()
	rl := startRelay(t, filepath.Join(dir, "relay.db"), "127.0.0.1:0", nil)
	creds, err := CreateChannel(ctx, rl.url, "")
	if err != nil {
		t.Fatal(err)
	}
	tg := newTarget(t)
	local := openStore(t, filepath.Join(dir, "local.db"))

	c := startClient(t, creds, local, tg, nil)
	waitFor(t, ctx, "client live", func() bool { ss := rl.srv.session(creds.ChannelID); return ss != nil && ss.isLive() })
	c.stop(t)
	waitFor(t, ctx, "client gone", func() bool { return !rl.srv.connected(creds.ChannelID) })

	const n = 100
	sendNumbered(t, ctx, rl, creds, 0, n, http.StatusAccepted)
	if len(tg.received()) != 0 {
		t.Fatal("target received requests while the client was stopped")
	}

	startClient(t, creds, local, tg, nil)
	waitFor(t, ctx, "all delivered and acknowledged", func() bool {
		p, err := rl.db.PendingRelayRequests(ctx, creds.ChannelID, 0, 0)
		return err == nil && len(p) == 0 && len(tg.received()) >= n
	})
	checkDelivered(t, tg, n)
	if c, _ := local.Count(ctx); c != n {
		t.Errorf("local log has %d requests, want %d", c, n)
	}
	// Live again once the drain has handed over (until then a request is buffered, 202, to
	// keep arrival order): the next request gets the target's answer.
	waitFor(t, ctx, "client live again", func() bool { ss := rl.srv.session(creds.ChannelID); return ss != nil && ss.isLive() })
	sendNumbered(t, ctx, rl, creds, n, n+1, http.StatusOK)
}

func TestRedeliveryDeduplicated(t *testing.T) {
	// A request recorded by the client whose acknowledgement never reached the relay is sent
	// again on the next connection; the client acknowledges it without delivering it again.
	ctx := testCtx(t, 60*time.Second)
	dir := t.TempDir()
	rl := startRelay(t, filepath.Join(dir, "relay.db"), "127.0.0.1:0", nil)
	creds, err := CreateChannel(ctx, rl.url, "")
	if err != nil {
		t.Fatal(err)
	}
	tg := newTarget(t)
	local := openStore(t, filepath.Join(dir, "local.db"))
	sendNumbered(t, ctx, rl, creds, 0, 3, http.StatusAccepted)

	// Record /n/1 locally under its relay id, as if a previous client had.
	pending, err := rl.db.PendingRelayRequests(ctx, creds.ChannelID, 0, 0)
	if err != nil || len(pending) != 3 {
		t.Fatalf("pending %d, %v", len(pending), err)
	}
	if _, err := local.Record(ctx, &webhook.Request{Method: "POST", URI: "/n/1"}, store.RecordOptions{Ref: ref(creds.ChannelID, pending[1].ID)}); err != nil {
		t.Fatal(err)
	}
	startClient(t, creds, local, tg, nil)
	waitFor(t, ctx, "buffer empty", func() bool {
		p, err := rl.db.PendingRelayRequests(ctx, creds.ChannelID, 0, 0)
		return err == nil && len(p) == 0
	})
	var uris []string
	for _, r := range tg.received() {
		uris = append(uris, r.uri)
	}
	if !slices.Equal(uris, []string{"/n/0", "/n/2"}) {
		t.Errorf("target received %v, want /n/0 and /n/2", uris)
	}
}

func TestRelayRestart(t *testing.T) {
	ctx := testCtx(t, 90*time.Second)
	dir := t.TempDir()
	path := filepath.Join(dir, "relay.db")
	rl := startRelay(t, path, "127.0.0.1:0", nil)
	addr := rl.addr
	creds, err := CreateChannel(ctx, rl.url, "")
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	sendNumbered(t, ctx, rl, creds, 0, n, http.StatusAccepted)
	rl.stop()

	// A new relay on the same buffer file and address.
	rl = startRelay(t, path, addr, nil)
	tg := newTarget(t)
	local := openStore(t, filepath.Join(dir, "local.db"))
	startClient(t, creds, local, tg, nil)
	waitFor(t, ctx, "buffered requests delivered", func() bool {
		p, err := rl.db.PendingRelayRequests(ctx, creds.ChannelID, 0, 0)
		return err == nil && len(p) == 0 && len(tg.received()) >= n
	})
	checkDelivered(t, tg, n)

	// Restart again with the client connected: it reconnects by itself, and what was sent
	// in between is delivered too.
	rl.stop()
	rl = startRelay(t, path, addr, nil)
	sendNumbered(t, ctx, rl, creds, n, n+5, 0) // the client may be back already
	waitFor(t, ctx, "client back and live", func() bool {
		ss := rl.srv.session(creds.ChannelID)
		return ss != nil && ss.isLive()
	})
	sendNumbered(t, ctx, rl, creds, n+5, n+10, http.StatusOK)
	checkDelivered(t, tg, n+10)
	if c, _ := local.Count(ctx); c != n+10 {
		t.Errorf("local log has %d, want %d", c, n+10)
	}
}

// rawConnect opens a websocket to the channel without a client behind it.
func rawConnect(t *testing.T, ctx context.Context, rl *relayRig, creds Credentials) *websocket.Conn {
	t.Helper()
	h := http.Header{}
	h.Set(ChannelHeader, creds.ChannelID)
	h.Set(ProtocolHeader, "1")
	h.Set("Authorization", "Bearer "+creds.Secret)
	conn, _, err := websocket.DefaultDialer.DialContext(ctx, "ws"+strings.TrimPrefix(rl.url, "http")+"/v1/connect", h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func TestDeadConnectionReplaced(t *testing.T) {
	ctx := testCtx(t, 60*time.Second)
	dir := t.TempDir()
	rl := startRelay(t, filepath.Join(dir, "relay.db"), "127.0.0.1:0", func(c *ServerConfig) {
		c.PingInterval, c.PongTimeout = 100*time.Millisecond, 300*time.Millisecond
	})
	creds, err := CreateChannel(ctx, rl.url, "")
	if err != nil {
		t.Fatal(err)
	}

	// A connection that never reads never answers a ping: the server drops it and closes it.
	dead := rawConnect(t, ctx, rl, creds)
	waitFor(t, ctx, "dead connection registered", func() bool { return rl.srv.connected(creds.ChannelID) })
	waitFor(t, ctx, "dead connection dropped", func() bool { return !rl.srv.connected(creds.ChannelID) })
	nc := dead.NetConn()
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err = io.Copy(io.Discard, nc)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Errorf("the server did not close the dead connection: %v", err)
	}

	// A live connection is replaced by a newer one, and told so.
	first := rawConnect(t, ctx, rl, creds)
	closed := make(chan error, 1)
	go func() {
		for {
			if _, _, err := first.ReadMessage(); err != nil {
				closed <- err
				return
			}
		}
	}()
	waitFor(t, ctx, "first connection registered", func() bool { return rl.srv.connected(creds.ChannelID) })
	tg := newTarget(t)
	local := openStore(t, filepath.Join(dir, "local.db"))
	startClient(t, creds, local, tg, func(c *ClientConfig) {
		c.PingInterval, c.PongTimeout = 100*time.Millisecond, 300*time.Millisecond
	})
	select {
	case err := <-closed:
		if !websocket.IsCloseError(err, closeReplaced) {
			t.Errorf("replaced connection ended with %v, want close %d", err, closeReplaced)
		}
	case <-ctx.Done():
		t.Fatal("replaced connection was not closed")
	}
	waitFor(t, ctx, "client live", func() bool { ss := rl.srv.session(creds.ChannelID); return ss != nil && ss.isLive() })
	// The client answers pings, so it stays connected well past the pong timeout while it
	// serves requests.
	deadline := time.Now().Add(time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		resp, _ := send(t, ctx, rl.addr, "POST", fmt.Sprintf("%s/n/%d", channelPath(t, creds), i), nil, []byte("x"))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d through the new client: %d", i, resp.StatusCode)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestResponseTimeout(t *testing.T) {
	ctx := testCtx(t, 60*time.Second)
	dir := t.TempDir()
	rl := startRelay(t, filepath.Join(dir, "relay.db"), "127.0.0.1:0", func(c *ServerConfig) {
		c.ResponseTimeout = 200 * time.Millisecond
	})
	creds, err := CreateChannel(ctx, rl.url, "")
	if err != nil {
		t.Fatal(err)
	}
	tg := newTarget(t)
	release := make(chan struct{})
	tg.hook = func(w http.ResponseWriter, r *http.Request, body []byte) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
		w.WriteHeader(http.StatusTeapot)
	}
	local := openStore(t, filepath.Join(dir, "local.db"))
	startClient(t, creds, local, tg, nil)
	waitFor(t, ctx, "client live", func() bool { ss := rl.srv.session(creds.ChannelID); return ss != nil && ss.isLive() })

	resp, body := send(t, ctx, rl.addr, "POST", channelPath(t, creds)+"/slow", nil, []byte("x"))
	if resp.StatusCode != http.StatusGatewayTimeout {
		t.Fatalf("hanging target: %d %q, want 504", resp.StatusCode, body)
	}
	// The request is still acknowledged once the target answers.
	close(release)
	waitFor(t, ctx, "late acknowledgement", func() bool {
		p, err := rl.db.PendingRelayRequests(ctx, creds.ChannelID, 0, 0)
		return err == nil && len(p) == 0
	})
	if c, _ := local.Count(ctx); c != 1 {
		t.Errorf("local log has %d, want 1", c)
	}
}

func TestPairsRoundTrip(t *testing.T) {
	in := pairs{{Name: "A", Value: "1"}, {Name: "b\xff", Value: "x"}, {Name: "C", Value: "\xfe\x00"}, {Name: "a", Value: "2"}}
	f := newRequestFrame("ch", &webhook.Request{ID: 7, URI: "/\xff?x", Header: webhook.Headers(in)}, true)
	b, err := jsonMarshal(f)
	if err != nil {
		t.Fatal(err)
	}
	var out requestFrame
	if err := jsonUnmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out.Headers, in) || out.uri() != "/\xff?x" || out.ID != "ch/7" || !out.Buffered {
		t.Errorf("round trip: %+v", out)
	}
	if err := decodeEnvelope([]byte(`{"v":1,"type":"hello","x":1}`), typeRequest); !errors.Is(err, errUnknownFrame) {
		t.Errorf("unknown type: %v", err)
	}
	if err := decodeEnvelope([]byte(`{"v":2,"type":"request"}`), typeRequest); !errors.Is(err, errUnknownFrame) {
		t.Errorf("newer version: %v", err)
	}
}

func TestRequestPath(t *testing.T) {
	for in, want := range map[string]string{
		"/c/x/y?z":            "/c/x/y?z",
		"http://h/c/x/y?z":    "/c/x/y?z",
		"http://h?q":          "/?q",
		"https://h":           "/",
		"http://h:1/c/x%2F/y": "/c/x%2F/y",
	} {
		if got := requestPath(in); got != want {
			t.Errorf("requestPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func jsonMarshal(v any) ([]byte, error)   { return json.Marshal(v) }
func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func TestInFlightLimit(t *testing.T) {
	ctx := testCtx(t, 60*time.Second)
	dir := t.TempDir()
	rl := startRelay(t, filepath.Join(dir, "relay.db"), "127.0.0.1:0", func(c *ServerConfig) { c.MaxInFlight = 1 })
	creds, err := CreateChannel(ctx, rl.url, "")
	if err != nil {
		t.Fatal(err)
	}
	tg := newTarget(t)
	release := make(chan struct{})
	tg.hook = func(w http.ResponseWriter, r *http.Request, body []byte) {
		<-release
		w.WriteHeader(http.StatusNoContent)
	}
	local := openStore(t, filepath.Join(dir, "local.db"))
	startClient(t, creds, local, tg, nil)
	waitFor(t, ctx, "client live", func() bool { ss := rl.srv.session(creds.ChannelID); return ss != nil && ss.isLive() })

	first := make(chan int, 1)
	path := channelPath(t, creds)
	go func() {
		resp, _, err := sendErr(ctx, rl.addr, "POST", path+"/first", nil, nil)
		if err != nil {
			t.Error(err)
			first <- 0
			return
		}
		first <- resp.StatusCode
	}()
	waitFor(t, ctx, "first request at the target", func() bool { return len(tg.received()) == 1 })
	resp, _ := send(t, ctx, rl.addr, "POST", channelPath(t, creds)+"/second", nil, nil)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("over the in-flight limit: %d (Retry-After %q), want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	close(release)
	if code := <-first; code != http.StatusNoContent {
		t.Errorf("first request: %d", code)
	}
	waitFor(t, ctx, "buffer empty", func() bool {
		p, err := rl.db.PendingRelayRequests(ctx, creds.ChannelID, 0, 0)
		return err == nil && len(p) == 0
	})
	if got := len(tg.received()); got != 1 {
		t.Errorf("target received %d requests, want 1 (the refused one is not kept)", got)
	}
}

func TestRetention(t *testing.T) {
	ctx := testCtx(t, 60*time.Second)
	path := filepath.Join(t.TempDir(), "relay.db")
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	rl := startRelay(t, path, "127.0.0.1:0", func(c *ServerConfig) { c.Now = func() time.Time { return now } })
	creds, err := CreateChannel(ctx, rl.url, "")
	if err != nil {
		t.Fatal(err)
	}
	sendNumbered(t, ctx, rl, creds, 0, 3, http.StatusAccepted)
	rl.stop()

	// Six days later the requests are still there; eight days later they are gone.
	for _, c := range []struct {
		after time.Duration
		want  int
	}{{6 * 24 * time.Hour, 3}, {8 * 24 * time.Hour, 0}} {
		rl = startRelay(t, path, "127.0.0.1:0", func(cfg *ServerConfig) {
			cfg.Now = func() time.Time { return now.Add(c.after) }
		})
		if c.want == 0 {
			waitFor(t, ctx, "expiry", func() bool {
				p, err := rl.db.PendingRelayRequests(ctx, creds.ChannelID, 0, 0)
				return err == nil && len(p) == 0
			})
		}
		rl.stop()
		db := openStore(t, path)
		if p, _ := db.PendingRelayRequests(ctx, creds.ChannelID, 0, 0); len(p) != c.want {
			t.Errorf("after %s: %d buffered, want %d", c.after, len(p), c.want)
		}
		db.Close()
	}
}
