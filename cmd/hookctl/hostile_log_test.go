package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hookctl/hookctl/internal/store"
	"github.com/hookctl/hookctl/internal/webhook"
)

// TestHostileLog runs the binary against logs that are damaged, read-only, on a full disk,
// shared by two listeners, or locked by another process. Each case checks what the user sees
// (exit status, one clear line on stderr, or the answer the sender gets) and that nothing
// already recorded is lost.
func TestHostileLog(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, bin string)
	}{
		{"garbage over the header", corruptLogCase(corruption{
			damage:  func(b []byte) []byte { return overwrite(b, 0, 4096) },
			listErr: []string{"$DB", "corrupt", "not a database"},
		})},
		{"garbage over the whole file", corruptLogCase(corruption{
			damage:  func(b []byte) []byte { return overwrite(b, 0, len(b)) },
			listErr: []string{"$DB", "corrupt", "not a database"},
		})},
		{"truncated to half", corruptLogCase(corruption{
			damage:  func(b []byte) []byte { return b[:len(b)/2] },
			listErr: []string{"$DB", "corrupt", "malformed"},
		})},
		{"truncated inside the header", corruptLogCase(corruption{
			damage:  func(b []byte) []byte { return b[:50] },
			listErr: []string{"$DB", "corrupt", "malformed"},
		})},
		// Page 1 holds the schema; every table and index, the schema version table among
		// them, which opening the log reads, is on the pages after it.
		{"garbage after the first page", corruptLogCase(corruption{
			damage:  func(b []byte) []byte { return overwrite(b, 4096, len(b)) },
			listErr: []string{"$DB", "corrupt", "malformed"},
		})},
		// The pages that hold the recorded rows (the table's leaves): opening the log walks
		// down to the newest rows, where new ones would go, so listen refuses this log at
		// start too instead of answering every request 503.
		{"garbage over the recorded requests", corruptLogCase(corruption{
			damage:  func(b []byte) []byte { return overwritePagesHolding(b, []byte(`{"marker":"seedx`)) },
			listErr: []string{"$DB", "corrupt", "malformed"},
		})},
		{"read-only file and directory", readOnlyLogCase(false)},
		{"read-only file in a writable directory", readOnlyLogCase(true)},
		{"full disk", fullDiskCase},
		{"two listeners on one log", twoListenersCase},
		{"log locked by another process", lockedLogCase},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, bin) })
	}
}

// corruption is a way of damaging a log and what hookctl says about the result.
type corruption struct {
	damage func([]byte) []byte
	// listErr are the texts the one-line error of requests list must hold; $DB stands for
	// the log's path.
	listErr []string
}

// corruptLogCase records requests, damages the log file, and checks that requests list,
// requests show and listen refuse it with one clear line, and that none of them changes the
// file.
func corruptLogCase(c corruption) func(t *testing.T, bin string) {
	return func(t *testing.T, bin string) {
		dir := t.TempDir()
		db := filepath.Join(dir, "h.db")
		seedLog(t, db, 20)
		good, err := os.ReadFile(db)
		if err != nil {
			t.Fatal(err)
		}
		damaged := c.damage(bytes.Clone(good))
		if bytes.Equal(damaged, good) {
			t.Fatal("the damage changed nothing")
		}
		if err := os.WriteFile(db, damaged, 0o600); err != nil {
			t.Fatal(err)
		}
		wantErr := func(texts []string) []string {
			out := slices.Clone(texts)
			for i, s := range out {
				out[i] = strings.ReplaceAll(s, "$DB", db)
			}
			return out
		}

		list := hookctlCommand(t, bin, dir, "--db", db, "requests", "list", "--json")
		stdout, stderr, err := runCommand(list)
		checkFailure(t, "requests list", err, stderr, wantErr(c.listErr)...)
		if len(stdout) > 0 {
			t.Errorf("requests list printed %q on stdout", stdout)
		}

		// show reads one request; it names the file however deep the damage is.
		show := hookctlCommand(t, bin, dir, "--db", db, "requests", "show", "1", "--json")
		_, stderr, err = runCommand(show)
		checkFailure(t, "requests show", err, stderr, db, "corrupt", "move the file aside")

		p, err := startListen(t, hookctlCommand(t, bin, dir, "--db", db, "listen", "--json", "--addr", "127.0.0.1:0"))
		if err != nil {
			t.Fatal(err)
		}
		// listen refuses the log at start, with one line.
		if p.URL != "" {
			t.Errorf("listen started on the damaged log at %s; want it to refuse the log", p.URL)
			p.stop(t)
		} else {
			checkFailure(t, "listen", p.err, p.stderr.String(), db, "corrupt", "move the file aside")
		}

		now, err := os.ReadFile(db)
		if err != nil || !bytes.Equal(now, damaged) {
			t.Errorf("the damaged log file was changed (%v): %d bytes, was %d", err, len(now), len(damaged))
		}
	}
}

// readOnlyLogCase runs requests list and listen as a user who may read the log but not write
// it (root ignores file modes, so when the test runs as root the commands run as nobody). The
// log's directory is writable by that user when dirWritable is set, and read-only otherwise.
func readOnlyLogCase(dirWritable bool) func(t *testing.T, bin string) {
	return func(t *testing.T, bin string) {
		dir := t.TempDir()
		logDir := filepath.Join(dir, "log")
		db := filepath.Join(logDir, "h.db")
		seeded := seedLog(t, db, 10)
		before, err := os.ReadFile(db)
		if err != nil {
			t.Fatal(err)
		}
		asOther := os.Geteuid() == 0
		if asOther {
			// Let nobody reach the binary and the log.
			for _, d := range []string{filepath.Dir(bin), filepath.Dir(filepath.Dir(bin)), dir, filepath.Dir(dir)} {
				if err := os.Chmod(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			for _, d := range []string{filepath.Dir(bin), dir} {
				if err := searchableByOthers(d); err != nil {
					t.Skipf("uid 65534 cannot reach the test's files: %v", err)
				}
			}
		}
		dirMode := os.FileMode(0o555)
		if dirWritable {
			dirMode = 0o777
		}
		if err := os.Chmod(db, 0o444); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(logDir, dirMode); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(logDir, 0o700) })
		command := func(args ...string) *exec.Cmd {
			cmd := hookctlCommand(t, bin, dir, append([]string{"--db", db}, args...)...)
			cmd.Env = append(cmd.Env, "HOME="+dir)
			if asOther {
				cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
			}
			return cmd
		}

		stdout, stderr, err := runCommand(command("requests", "list", "--json", "--limit", "1000"))
		if err != nil && !errors.As(err, new(*exec.ExitError)) {
			t.Skipf("cannot run hookctl as uid 65534: %v", err)
		}
		// Readable in both: in a read-only directory, where SQLite cannot create the -shm
		// file WAL mode needs, the log is read as immutable (nothing can write it there).
		if err != nil {
			t.Errorf("requests list on a read-only log: %v; stderr: %s", err, stderr)
		} else if got := jsonIDs(t, []byte(stdout)); !slices.Equal(got, sortedKeys(seeded)) {
			t.Errorf("requests list on a read-only log listed %v, want %v", got, sortedKeys(seeded))
		}

		p, err := startListen(t, command("listen", "--json", "--addr", "127.0.0.1:0"))
		if err != nil {
			t.Fatal(err)
		}
		if p.URL != "" {
			t.Fatalf("listen started on a log it cannot write, at %s", p.URL)
		}
		checkFailure(t, "listen", p.err, p.stderr.String(), db, "permission denied", "check the permissions")

		if now, err := os.ReadFile(db); err != nil || !bytes.Equal(now, before) {
			t.Errorf("the read-only log file was changed (%v)", err)
		}
		checkSeeded(t, db, seeded)
	}
}

// fullDiskCase runs listen with a file size limit a little above the size of a fresh log and
// posts until a request is refused: that one gets 503 with Retry-After and a one-line reason,
// the ones answered before it are all in the log, and the log opens cleanly afterwards.
func fullDiskCase(t *testing.T, bin string) {
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		t.Skipf("prlimit (util-linux) is needed to limit the file size: %v", err)
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "h.db")
	seedLog(t, db, 0)
	fi, err := os.Stat(db)
	if err != nil {
		t.Fatal(err)
	}
	limit := fi.Size() + 64<<10
	p := mustStartListen(t, hookctlCommand(t, prlimit, dir, fmt.Sprintf("--fsize=%d", limit), "--",
		bin, "--db", db, "listen", "--json", "--addr", "127.0.0.1:0"))

	var acks []ackedRequest
	refused := false
	for n := range 500 {
		marker := fmt.Sprintf("fullx%03d", n)
		resp, err := http.Post(p.URL+"/load/"+marker, "application/json", bytes.NewReader(loadBody(marker)))
		if err != nil {
			t.Fatalf("request %d: %v; stderr: %s", n, err, p.stderr.String())
		}
		body := readAll(t, resp)
		if resp.StatusCode == http.StatusOK {
			id, _ := strconv.ParseInt(resp.Header.Get("X-Hookctl-Request-Id"), 10, 64)
			acks = append(acks, ackedRequest{id, marker})
			continue
		}
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("request %d on a full disk: %d, Retry-After %q; want 503 with Retry-After",
				n, resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		if id := resp.Header.Get("X-Hookctl-Request-Id"); id != "" {
			t.Errorf("the refused request carries a request id, %s", id)
		}
		checkOneLine(t, "the 503 answer", body, "could not record the request", "could not write to the log file", "disk")
		t.Logf("with files limited to %d bytes, request %d was refused: %s", limit, n, strings.TrimSpace(body))
		refused = true
		break
	}
	if !refused {
		t.Fatalf("500 requests of 2 KiB fit in a log limited to %d bytes", limit)
	}
	if len(acks) == 0 {
		t.Fatal("the first request was refused: the limit leaves no room")
	}
	p.stop(t)

	rows := readLog(t, db)
	for _, a := range acks {
		if r, ok := rows[a.id]; !ok || !bytes.Equal(r.Body, loadBody(a.marker)) {
			t.Errorf("request %d (%s) was answered 200 but is not in the log as sent", a.id, a.marker)
		}
	}
	checkReopens(t, bin, dir, db, rows)
}

// twoListenersCase runs two listeners on one log, starting together on a log that does not
// exist yet, and posts to both at once: every request is answered 200 and recorded, with its
// attempt, under an id of its own.
func twoListenersCase(t *testing.T, bin string) {
	const clients, perClient = 8, 40 // per listener
	dir := t.TempDir()
	db := filepath.Join(dir, "h.db")
	target := newEchoTarget(t)

	var procs [2]*listenProc
	var wg sync.WaitGroup
	for i := range procs {
		cmd := hookctlCommand(t, bin, dir, "--db", db, "listen", "--json", "--addr", "127.0.0.1:0", "--forward-to", target)
		wg.Go(func() {
			p, err := startListen(t, cmd)
			if err != nil {
				t.Error(err)
				return
			}
			procs[i] = p
		})
	}
	wg.Wait()
	for i, p := range procs {
		if p == nil {
			t.FailNow()
		}
		if p.URL == "" {
			t.Fatalf("listener %d did not start on the shared log: %v; stderr: %s", i, p.err, p.stderr.String())
		}
	}

	var mu sync.Mutex
	var acks []ackedRequest
	for i, p := range procs {
		for c := range clients {
			wg.Go(func() {
				for n := range perClient {
					marker := fmt.Sprintf("l%dc%dx%03d", i, c, n)
					status, id, body, err := postTo(http.DefaultClient, p.URL+"/load/"+marker, loadBody(marker))
					if err != nil || status != http.StatusOK || id <= 0 {
						t.Errorf("%s: %d, id %d, %v: %s", marker, status, id, err, body)
						return
					}
					mu.Lock()
					acks = append(acks, ackedRequest{id, marker})
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	for i, p := range procs {
		p.stop(t)
		if s := p.stderr.String(); s != "" {
			t.Errorf("listener %d wrote on stderr: %s", i, s)
		}
	}

	rows := readLog(t, db)
	seen := make(map[int64]string)
	for _, a := range acks {
		if other, dup := seen[a.id]; dup {
			t.Errorf("requests %s and %s both got id %d", other, a.marker, a.id)
		}
		seen[a.id] = a.marker
		r, ok := rows[a.id]
		if !ok || r.URI != "/load/"+a.marker || !bytes.Equal(r.Body, loadBody(a.marker)) {
			t.Errorf("request %d (%s) was answered 200 but is not in the log as sent", a.id, a.marker)
		} else if r.Attempts != 1 || r.Status != http.StatusOK {
			t.Errorf("request %d: %d attempts, last status %d; want one forward answered 200", a.id, r.Attempts, r.Status)
		}
	}
	if len(rows) != len(acks) {
		t.Errorf("the log holds %d requests; %d were sent", len(rows), len(acks))
	}
}

// lockedLogCase takes the log's write lock from the test process while a listener runs, as
// another process's write transaction holds it: readers still read, the listener answers 503
// once its busy timeout runs out, and records again once the lock is released.
func lockedLogCase(t *testing.T, bin string) {
	dir := t.TempDir()
	db := filepath.Join(dir, "h.db")
	seeded := seedLog(t, db, 10)
	p := mustStartListen(t, hookctlCommand(t, bin, dir, "--db", db, "listen", "--json", "--addr", "127.0.0.1:0"))

	// In SQLite's WAL mode, a writer holds an exclusive POSIX lock on byte 120 of the -shm
	// file (WAL_WRITE_LOCK, https://sqlite.org/walformat.html#locks) for the whole of its
	// transaction. The listener has created the -shm file. Closing any descriptor of the
	// file in this process would drop the lock, so the log is not opened here meanwhile.
	shm, err := os.OpenFile(db+"-shm", os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer shm.Close()
	lock := &syscall.Flock_t{Type: syscall.F_WRLCK, Whence: 0, Start: 120, Len: 1}
	if err := syscall.FcntlFlock(shm.Fd(), syscall.F_SETLKW, lock); err != nil {
		t.Fatalf("take the write lock: %v", err)
	}

	out := hookctlOutput(t, bin, dir, "--db", db, "requests", "list", "--json")
	if got := jsonIDs(t, out); !slices.Equal(got, sortedKeys(seeded)) {
		t.Errorf("requests list while the log is locked: %v, want %v", got, sortedKeys(seeded))
	}
	status, id, body, err := postTo(http.DefaultClient, p.URL+"/locked", []byte(`{"locked":true}`))
	if err != nil || status != http.StatusServiceUnavailable || id != 0 {
		t.Fatalf("request while the log is locked: %d, id %d, %v; want 503 and no id", status, id, err)
	}
	checkOneLine(t, "the 503 answer", body, "could not record the request", "locked by another process")

	lock.Type = syscall.F_UNLCK
	if err := syscall.FcntlFlock(shm.Fd(), syscall.F_SETLK, lock); err != nil {
		t.Fatalf("release the write lock: %v", err)
	}
	status, id, _, err = postTo(http.DefaultClient, p.URL+"/unlocked", []byte(`{"locked":false}`))
	if err != nil || status != http.StatusOK || id <= slices.Max(sortedKeys(seeded)) {
		t.Fatalf("request after the lock was released: %d, id %d, %v; want 200 and a new id", status, id, err)
	}
	p.stop(t)
	shm.Close()

	checkSeeded(t, db, seeded)
	if rows := readLog(t, db); len(rows) != len(seeded)+1 || string(rows[id].Body) != `{"locked":false}` {
		t.Errorf("the log holds %d requests (want %d), request %d: %+v", len(rows), len(seeded)+1, id, rows[id])
	}
}

// seedLog creates the log at path with n requests, through the store, and returns their
// bodies by id. The log is closed, so that it is one self-contained file.
func seedLog(t *testing.T, path string, n int) map[int64][]byte {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, store.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	seeded := make(map[int64][]byte, n)
	for i := range n {
		marker := fmt.Sprintf("seedx%03d", i)
		r := &webhook.Request{
			ReceivedAt: time.Now(), Method: http.MethodPost, URI: "/load/" + marker, Proto: "HTTP/1.1", Host: "127.0.0.1",
			Header: webhook.Headers{{Name: "Content-Type", Value: "application/json"}},
			Body:   loadBody(marker), BodySize: int64(len(loadBody(marker))), Ingress: webhook.IngressLocal,
			RemoteAddr: "127.0.0.1:1",
		}
		if err := s.AddRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
		seeded[r.ID] = r.Body
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		if _, err := os.Stat(path + suffix); err == nil {
			t.Fatalf("the closed log left %s behind", path+suffix)
		}
	}
	return seeded
}

// checkSeeded checks that every seeded request is in the log with its body.
func checkSeeded(t *testing.T, db string, seeded map[int64][]byte) {
	t.Helper()
	rows := readLog(t, db)
	for id, body := range seeded {
		if r, ok := rows[id]; !ok || !bytes.Equal(r.Body, body) {
			t.Errorf("request %d, recorded before, is lost or changed", id)
		}
	}
}

// checkReopens checks that a new listener starts on the log, which held rows, and records the
// next request under a larger id.
func checkReopens(t *testing.T, bin, dir, db string, rows map[int64]loggedRequest) {
	t.Helper()
	p := mustStartListen(t, hookctlCommand(t, bin, dir, "--db", db, "listen", "--json", "--addr", "127.0.0.1:0"))
	status, id, _, err := postTo(http.DefaultClient, p.URL+"/reopened", []byte(`{"reopened":true}`))
	p.stop(t)
	if err != nil || status != http.StatusOK {
		t.Fatalf("request to a new listener on the log: %d %v; stderr: %s", status, err, p.stderr.String())
	}
	for old := range rows {
		if old >= id {
			t.Fatalf("the new listener recorded id %d, not above the earlier %d", id, old)
		}
	}
	if got := listIDs(t, bin, dir, db); len(got) != len(rows)+1 || got[0] != id {
		t.Errorf("requests list after the restart: %v", got)
	}
}

// checkFailure checks that a command failed with a non-zero exit and one line on stderr that
// names what is wrong (each of want).
func checkFailure(t *testing.T, what string, err error, stderr string, want ...string) {
	t.Helper()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() <= 0 {
		t.Errorf("%s: exit %v, want a non-zero exit status; stderr: %s", what, err, stderr)
	}
	checkOneLine(t, what+" on stderr", stderr, want...)
	if !strings.HasPrefix(stderr, "hookctl: ") {
		t.Errorf("%s: stderr %q does not start with \"hookctl: \"", what, stderr)
	}
}

// checkOneLine checks that msg is one line holding each of want.
func checkOneLine(t *testing.T, what, msg string, want ...string) {
	t.Helper()
	line := strings.TrimSuffix(msg, "\n")
	if line == "" || strings.Contains(line, "\n") {
		t.Errorf("%s: want one line, got %q", what, msg)
	}
	for _, w := range want {
		if !strings.Contains(line, w) {
			t.Errorf("%s: %q does not say %q", what, line, w)
		}
	}
}

// runCommand runs cmd and returns its stdout and stderr.
func runCommand(cmd *exec.Cmd) (stdout, stderr string, err error) {
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

// jsonIDs returns the ids of `requests list --json` output, in the order listed.
func jsonIDs(t *testing.T, out []byte) []int64 {
	t.Helper()
	var rows []struct{ ID int64 }
	if err := json.Unmarshal(out, &rows); err != nil {
		t.Fatalf("requests list --json: %v: %.300s", err, out)
	}
	ids := make([]int64, 0, len(rows))
	for _, r := range rows {
		ids = append(ids, r.ID)
	}
	return ids
}

// sortedKeys returns the ids of m, largest first, as requests list orders them.
func sortedKeys(m map[int64][]byte) []int64 {
	ids := make([]int64, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	slices.Reverse(ids)
	return ids
}

// overwrite fills b[from:to] with text that is not SQLite data.
func overwrite(b []byte, from, to int) []byte {
	pattern := []byte("not a hookctl log. ")
	for i := from; i < to && i < len(b); i++ {
		b[i] = pattern[(i-from)%len(pattern)]
	}
	return b
}

// overwritePagesHolding fills with overwrite every database page of b, a SQLite file, that
// holds text.
func overwritePagesHolding(b, text []byte) []byte {
	pageSize := int(b[16])<<8 | int(b[17]) // big-endian at offset 16; 1 means 65536
	if pageSize == 1 {
		pageSize = 1 << 16
	}
	for at := 0; at < len(b); at += pageSize {
		if end := min(at+pageSize, len(b)); bytes.Contains(b[at:end], text) {
			overwrite(b, at, end)
		}
	}
	return b
}

// searchableByOthers returns an error naming the first directory from dir up to the root
// that users other than its owner cannot enter.
func searchableByOthers(dir string) error {
	for d := dir; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("%s has mode %v", d, fi.Mode().Perm())
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

// newEchoTarget starts a target that answers 200 "ok PATH" and returns its URL.
func newEchoTarget(t *testing.T) string {
	t.Helper()
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, "ok "+r.URL.Path)
	}))
	t.Cleanup(target.Close)
	return target.URL
}

// readAll reads and closes resp's body.
func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
