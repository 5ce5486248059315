package signature

import (
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// discordTestKey is a fixed key pair for tests (Discord's private keys never leave Discord).
func discordTestKey() (ed25519.PrivateKey, string) {
	priv := ed25519.NewKeyFromSeed([]byte("hookctl-discord-test-seed-32-byt"))
	return priv, hex.EncodeToString(priv.Public().(ed25519.PublicKey))
}

func discordTestRequest(body []byte) *Request {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "Discord-Interactions/1.0 (+https://discord.com)")
	return &Request{Method: "POST", URL: "https://hooks.example.com/interactions", Header: h, Body: body}
}

// RFC 8032 section 7.1, TEST 2 (one-byte message 0x72, "r"): Discord verifies
// Ed25519(timestamp || body), so the test vector's message is split into a timestamp "r" and an
// empty body. This checks the key and signature decoding and the concatenation against the
// standard's own values; Discord publishes no vector of its own (discord-interactions-js tests
// generate a key pair at run time).
func TestDiscordRFC8032Vector(t *testing.T) {
	const pub = "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"
	const sig = "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"
	r := discordTestRequest(nil)
	r.Header.Set("X-Signature-Timestamp", "r")
	r.Header.Set("X-Signature-Ed25519", sig)
	expectResult(t, "rfc8032", Discord{}.Verify(r, pub, Options{}), Valid, NoProblem, "")
	expectResult(t, "rfc8032 upper-case key", Discord{}.Verify(r, strings.ToUpper(pub), Options{}), Valid, NoProblem, "")
	// Asked to check the age, a timestamp that is not unix seconds is malformed.
	expectResult(t, "rfc8032 with tolerance", Discord{}.Verify(r, pub, Options{Tolerance: time.Minute}), Invalid, MalformedHeader, "")
	r.Body = []byte("x")
	expectResult(t, "rfc8032 tampered", Discord{}.Verify(r, pub, Options{}), Invalid, Mismatch, "")
}

func TestDiscordVerifyProblems(t *testing.T) {
	priv, pub := discordTestKey()
	otherPub, _, _ := ed25519.GenerateKey(nil)
	at := time.Unix(1_764_000_000, 0)
	body := []byte(`{"application_id":"123","id":"1180000000000000001","type":2,"data":{"name":"hello"},"token":"t"}`)
	signed := discordTestRequest(body)
	discordSignWithKey(signed, priv, at)
	ts, sig := signed.Header.Get("X-Signature-Timestamp"), signed.Header.Get("X-Signature-Ed25519")
	if ts != "1764000000" || len(sig) != 128 {
		t.Fatalf("signed headers %q %q", ts, sig)
	}
	for _, tc := range []struct {
		name, ts, sig, body, key string
		opt                      Options
		status                   Status
		problem                  Problem
	}{
		{"valid", ts, sig, string(body), pub, Options{Now: at.Add(2 * time.Second)}, Valid, NoProblem},
		{"valid long after, age not checked by default", ts, sig, string(body), pub, Options{Now: at.Add(720 * time.Hour)}, Valid, NoProblem},
		{"unsigned", ts, "", string(body), pub, Options{Now: at}, Unsigned, MissingHeader},
		{"no timestamp", "", sig, string(body), pub, Options{Now: at}, Invalid, MissingHeader},
		{"signature not hex", ts, strings.Repeat("g", 128), string(body), pub, Options{Now: at}, Invalid, MalformedHeader},
		{"signature short", ts, sig[:100], string(body), pub, Options{Now: at}, Invalid, MalformedHeader},
		{"key short", ts, sig, string(body), pub[:40], Options{Now: at}, Invalid, BadSecret},
		{"key not hex", ts, sig, string(body), strings.Repeat("x", 64), Options{Now: at}, Invalid, BadSecret},
		{"key is a bot token", ts, sig, string(body), "MTE4MDAwMDAwMDAwMDAwMDAwMQ.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789AB", Options{Now: at}, Invalid, BadSecret},
		{"empty key", ts, sig, string(body), "", Options{Now: at}, Invalid, BadSecret},
		{"tampered body", ts, sig, strings.Replace(string(body), "hello", "hellp", 1), pub, Options{Now: at}, Invalid, Mismatch},
		{"other timestamp", "1764000001", sig, string(body), pub, Options{Now: at}, Invalid, Mismatch},
		{"another application's key", ts, sig, string(body), hex.EncodeToString(otherPub), Options{Now: at}, Invalid, Mismatch},
		{"stale with a tolerance", ts, sig, string(body), pub, Options{Now: at.Add(10 * time.Minute), Tolerance: 5 * time.Minute}, Stale, OutsideWindow},
		{"in the future with a tolerance", ts, sig, string(body), pub, Options{Now: at.Add(-10 * time.Minute), Tolerance: 5 * time.Minute}, Stale, OutsideWindow},
		{"within a tolerance", ts, sig, string(body), pub, Options{Now: at.Add(4 * time.Minute), Tolerance: 5 * time.Minute}, Valid, NoProblem},
	} {
		r := discordTestRequest([]byte(tc.body))
		if tc.ts != "" {
			r.Header.Set("X-Signature-Timestamp", tc.ts)
		}
		if tc.sig != "" {
			r.Header.Set("X-Signature-Ed25519", tc.sig)
		}
		expectResult(t, tc.name, Discord{}.Verify(r, tc.key, tc.opt), tc.status, tc.problem, tc.key)
	}
	res := Discord{}.Verify(signed, pub, Options{Now: at.Add(90 * time.Second)})
	if res.Skew != 90*time.Second || !strings.Contains(res.Reason, "not checked") {
		t.Errorf("default tolerance: %+v", res)
	}
	// Re-signing at another time (what a test helper can do, not Sign) replaces the headers.
	discordSignWithKey(signed, priv, at.Add(time.Hour))
	if n := len(signed.Header.Values("X-Signature-Ed25519")); n != 1 || signed.Header.Get("X-Signature-Timestamp") != "1764003600" {
		t.Errorf("re-signed headers %v", signed.Header)
	}
	expectResult(t, "re-signed", Discord{}.Verify(signed, pub, Options{Now: at.Add(time.Hour), Tolerance: time.Minute}), Valid, NoProblem, pub)
}

func TestDiscordSignCannot(t *testing.T) {
	_, pub := discordTestKey()
	r := discordTestRequest([]byte(`{"type":1}`))
	err := Discord{}.Sign(r, pub, time.Now())
	if !errors.Is(err, ErrCannotSign) {
		t.Fatalf("Sign = %v, want ErrCannotSign", err)
	}
	if strings.Contains(err.Error(), pub) {
		t.Error("error contains the key")
	}
	if errors.Is(err, ErrBadSecret) {
		t.Errorf("Sign with a well-formed key: %v", err)
	}
	if len(r.Header.Values("X-Signature-Ed25519")) != 0 {
		t.Error("Sign set a signature")
	}
	// A malformed key is reported as such as well.
	if err := (Discord{}).Sign(r, "not-a-key", time.Now()); !errors.Is(err, ErrCannotSign) || !errors.Is(err, ErrBadSecret) {
		t.Errorf("Sign with a malformed key = %v", err)
	}
}

func TestDiscordEvent(t *testing.T) {
	for _, tc := range []struct{ body, event, id string }{
		{`{"id":"1","type":1,"application_id":"9"}`, "ping", "1"},
		{`{"id":"2","type":2,"data":{"name":"blep"}}`, "application_command", "2"},
		{`{"id":"3","type":3,"data":{"custom_id":"click_one"}}`, "message_component", "3"},
		{`{"id":"4","type":4}`, "application_command_autocomplete", "4"},
		{`{"id":"5","type":5}`, "modal_submit", "5"},
		{`{"id":"9","type":9}`, "9", "9"},
		{`{"version":1,"application_id":"9","type":0}`, "ping", ""},
		{`{"version":1,"application_id":"9","type":1,"event":{"type":"APPLICATION_AUTHORIZED","timestamp":"2024-10-18T14:42:53.064834","data":{}}}`, "APPLICATION_AUTHORIZED", ""},
		{`{"type":"x"}`, "", ""},
		{`not json`, "", ""},
	} {
		if typ, id := (Discord{}).Event(http.Header{}, []byte(tc.body)); typ != tc.event || id != tc.id {
			t.Errorf("Event(%s) = %q %q, want %q %q", tc.body, typ, id, tc.event, tc.id)
		}
	}
	h := http.Header{}
	h.Set("X-Signature-Timestamp", "1")
	if (Discord{}).Detect(h) {
		t.Error("detected without a signature")
	}
	h.Set("x-signature-ed25519", "00")
	if s, ok := Detect(h); !ok || s.Name() != "discord" {
		t.Errorf("Detect = %v %v", s, ok)
	}
}
