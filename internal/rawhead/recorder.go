package rawhead

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

const (
	// maxBlock bounds a header block: net/http's default header limit plus the 4096 bytes of
	// slop its server allows on top of it.
	maxBlock = http.DefaultMaxHeaderBytes + 4096
	// maxQueue and maxQueued bound the blocks waiting for Headers on one connection, by
	// number and by total size; the oldest blocks are dropped first. Besides blocks nobody
	// asked for, the queue holds the pipelined requests that net/http has read ahead but not
	// yet served: at most its 4096-byte read buffer's worth, some 150 minimal requests.
	maxQueue  = 256
	maxQueued = 2 * maxBlock
	// keepBuf is the largest header buffer kept for the next request.
	keepBuf = 64 << 10
	// maxChunkLine bounds a chunk-size line, CRLF included: net/http reads it with ReadSlice
	// from its 4096-byte bufio.Reader.
	maxChunkLine = 4096
	// maxExcess is net/http's bound on the non-data overhead of a chunked body.
	maxExcess = 16 << 10
	// maxTrailer bounds a trailer section, final CRLF included: net/http insists on finding its
	// end within its 4096-byte read buffer.
	maxTrailer = 4096
)

// state is where a recorder is in the request stream.
type state uint8

const (
	stHeader    state = iota // accumulating a header block
	stBody                   // skipping n bytes of a Content-Length body
	stChunkSize              // reading a chunk-size line
	stChunkData              // skipping n bytes of chunk data
	stChunkCR                // expecting the CR after chunk data
	stChunkLF                // expecting the LF after chunk data
	stTrailer                // skipping the trailer section of a chunked body
	stDone                   // stopped: gave up, or the connection was closed
)

// chunkPhase is where a recorder is within a chunk-size line.
type chunkPhase uint8

const (
	csDigits chunkPhase = iota // hex digits
	csOWS                      // trailing spaces or tabs after the digits
	csExt                      // a chunk extension, after ';'
)

// recorder follows the HTTP/1.x requests read from one connection and queues a copy of each
// header block. feed runs on whichever goroutine reads the connection, match on the handler's:
// mu guards everything.
type recorder struct {
	mu sync.Mutex
	st state

	buf  []byte // header block so far
	line int    // header, trailer, chunk-size line: bytes of the current line so far
	n    uint64 // bytes left in a Content-Length body or a chunk

	// Chunked bodies.
	phase  chunkPhase
	cr     bool   // a CR was just read
	colon  bool   // trailer: the current line has a colon
	digits int    // hex digits in the chunk-size line
	size   uint64 // chunk size so far
	excess int64  // net/http's overhead accounting
	tlen   int    // bytes of trailer section so far

	queue  []block // complete blocks, oldest first
	queued int     // total bytes of the queued blocks
}

// block is one request's header block.
type block struct {
	raw                   string // request line through the empty line, as received
	method, target, proto string // request line fields, substrings of raw
	hdr                   int    // offset in raw of the first header line
	fields                int    // number of header lines
	folded                bool   // some line is an obs-fold continuation
	chunked               bool   // the body is chunked
	length                int64  // Content-Length when not chunked, else -1
}

// feed follows p, the next bytes read from the connection.
func (r *recorder) feed(p []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(p) > 0 {
		switch r.st {
		case stDone:
			return
		case stHeader:
			p = r.header(p)
		case stBody, stChunkData:
			if uint64(len(p)) < r.n {
				r.n -= uint64(len(p))
				return
			}
			p = p[r.n:]
			r.n = 0
			if r.st == stBody {
				r.st = stHeader
			} else {
				r.st = stChunkCR
			}
		case stChunkCR:
			if p[0] != '\r' {
				r.stopLocked()
				return
			}
			p = p[1:]
			r.st = stChunkLF
		case stChunkLF:
			if p[0] != '\n' {
				r.stopLocked()
				return
			}
			p = p[1:]
			r.st = stChunkSize
		case stChunkSize:
			p = r.chunkSize(p)
		case stTrailer:
			p = r.trailer(p)
		}
	}
}

// header accumulates a header block from p and returns what follows it.
func (r *recorder) header(p []byte) []byte {
	if len(r.buf) == 0 {
		// Skip the empty lines some clients send between requests; net/http rejects them
		// except for a few after a POST, and closes the connection.
		i := 0
		for i < len(p) && (p[i] == '\r' || p[i] == '\n') {
			i++
		}
		p = p[i:]
		if len(p) == 0 {
			return nil
		}
	}
	// Find the empty line, "\n" or "\r\n", that ends the block.
	start := 0 // start in p of the current line
	for {
		j := bytes.IndexByte(p[start:], '\n')
		if j < 0 {
			break
		}
		j += start
		n := j - start // length of the line ending at j, LF excluded
		if start == 0 {
			n += r.line
		}
		if n == 0 || n == 1 && r.prev(p, j) == '\r' {
			end := j + 1
			if len(r.buf)+end > maxBlock {
				r.stopLocked()
				return nil
			}
			var raw string
			if len(r.buf) == 0 {
				raw = string(p[:end])
			} else {
				r.buf = append(r.buf, p[:end]...)
				raw = string(r.buf)
				if cap(r.buf) > keepBuf {
					r.buf = nil
				} else {
					r.buf = r.buf[:0]
				}
			}
			r.line = 0
			r.complete(raw)
			return p[end:]
		}
		start = j + 1
	}
	if len(r.buf)+len(p) > maxBlock {
		r.stopLocked()
		return nil
	}
	r.buf = append(r.buf, p...)
	if start == 0 {
		r.line += len(p)
	} else {
		r.line = len(p) - start
	}
	return nil
}

// prev returns the byte before p[j], which may be the last byte of buf.
func (r *recorder) prev(p []byte, j int) byte {
	if j > 0 {
		return p[j-1]
	}
	return r.buf[len(r.buf)-1]
}

// complete queues the header block raw and moves on to its body.
func (r *recorder) complete(raw string) {
	b, ok := parseBlock(raw)
	if !ok {
		// net/http refuses such a request and closes the connection, or frames it in a way
		// this recorder does not follow.
		r.stopLocked()
		return
	}
	if len(r.queue) >= maxQueue {
		r.drop(maxQueue / 4) // in batches, to keep pushing cheap
	}
	for len(r.queue) > 0 && r.queued+len(raw) > maxQueued {
		r.drop(1)
	}
	r.queue = append(r.queue, b)
	r.queued += len(raw)
	switch {
	case b.chunked:
		r.st = stChunkSize
		r.resetLine()
		r.excess = 0
	case b.length > 0:
		r.st = stBody
		r.n = uint64(b.length)
	default:
		r.st = stHeader
	}
}

// resetLine prepares for a new chunk-size or trailer line.
func (r *recorder) resetLine() {
	r.line, r.cr, r.colon = 0, false, false
	r.phase, r.digits, r.size = csDigits, 0, 0
}

// chunkSize reads a chunk-size line from p, following net/http's rules: hex digits, then
// either trailing spaces and tabs or a ';' and an extension, then CRLF with no other CR.
func (r *recorder) chunkSize(p []byte) []byte {
	for i, c := range p {
		if r.cr {
			if c != '\n' || r.digits == 0 {
				r.stopLocked()
				return nil
			}
			r.excess += int64(r.line) + 2
			r.excess -= 16 + 2*int64(r.size)
			r.excess = max(r.excess, 0)
			if r.excess > maxExcess {
				r.stopLocked()
				return nil
			}
			size := r.size
			r.resetLine()
			if size == 0 {
				r.st = stTrailer
				r.tlen = 0
			} else {
				r.st = stChunkData
				r.n = size
			}
			return p[i+1:]
		}
		if c == '\r' {
			r.cr = true
			continue
		}
		r.line++
		if c == '\n' || r.line+2 > maxChunkLine {
			r.stopLocked()
			return nil
		}
		switch r.phase {
		case csDigits:
			switch {
			case '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F':
				if r.digits == 16 {
					r.stopLocked()
					return nil
				}
				r.digits++
				r.size = r.size<<4 | unhex(c)
			case c == ';':
				r.phase = csExt
			case c == ' ' || c == '\t':
				r.phase = csOWS
			default:
				r.stopLocked()
				return nil
			}
		case csOWS:
			if c != ' ' && c != '\t' {
				r.stopLocked()
				return nil
			}
		case csExt:
		}
	}
	return nil
}

// unhex returns the value of the hex digit c.
func unhex(c byte) uint64 {
	switch {
	case c <= '9':
		return uint64(c - '0')
	case c <= 'F':
		return uint64(c - 'A' + 10)
	default:
		return uint64(c - 'a' + 10)
	}
}

// trailer skips the trailer section of a chunked body in p, through its empty line. It is
// stricter than net/http, which never harms: lines must end in CRLF, start with a field name
// and hold a colon.
func (r *recorder) trailer(p []byte) []byte {
	for i, c := range p {
		r.tlen++
		if r.tlen > maxTrailer {
			r.stopLocked()
			return nil
		}
		if r.cr {
			if c != '\n' {
				r.stopLocked()
				return nil
			}
			if r.line == 0 {
				r.resetLine()
				r.st = stHeader
				return p[i+1:]
			}
			if !r.colon {
				r.stopLocked()
				return nil
			}
			r.resetLine()
			continue
		}
		switch {
		case c == '\r':
			r.cr = true
		case c == '\n', r.line == 0 && (c == ' ' || c == '\t' || c == ':'):
			r.stopLocked()
			return nil
		default:
			if c == ':' {
				r.colon = true
			}
			r.line++
		}
	}
	return nil
}

// stop discards everything and stops recording.
func (r *recorder) stop() {
	r.mu.Lock()
	r.stopLocked()
	r.mu.Unlock()
}

// stopLocked is stop with r.mu held.
func (r *recorder) stopLocked() {
	r.st = stDone
	r.buf = nil
	clear(r.queue)
	r.queue = nil
	r.queued = 0
}

// drop removes the n oldest blocks from the queue.
func (r *recorder) drop(n int) {
	for _, b := range r.queue[:n] {
		r.queued -= len(b.raw)
	}
	k := copy(r.queue, r.queue[n:])
	clear(r.queue[k:])
	r.queue = r.queue[:k]
}

// cutLine splits s after its first LF and returns the line without its "\n" or "\r\n".
func cutLine(s string) (line, rest string) {
	i := strings.IndexByte(s, '\n')
	if i < 0 {
		return s, ""
	}
	line, rest = s[:i], s[i+1:]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	return line, rest
}

// parseBlock parses the request line of a header block and the framing of the body that
// follows it, as net/http does. ok is false when net/http would refuse the request (and close
// the connection) or when the framing is beyond this package, such as a folded Content-Length.
func parseBlock(raw string) (b block, ok bool) {
	b.raw = raw
	line, rest := cutLine(raw)
	var found bool
	b.method, line, found = strings.Cut(line, " ") // as net/http splits it
	if !found {
		return b, false
	}
	b.target, b.proto, found = strings.Cut(line, " ")
	if !found {
		return b, false
	}
	major, minor, ok := http.ParseHTTPVersion(b.proto)
	if !ok || major != 1 {
		return b, false
	}
	b.hdr = len(raw) - len(rest)

	var cl, te string
	var ncl, nte int
	framing := false // the previous line is a Content-Length or Transfer-Encoding line
	for {
		line, rest = cutLine(rest)
		if line == "" {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			// obs-fold: net/http joins the line to the previous one.
			if b.fields == 0 || framing {
				return b, false
			}
			b.folded = true
			continue
		}
		colon := strings.IndexByte(line, ':')
		if colon < 0 {
			return b, false
		}
		name, value := line[:colon], trimOWS(line[colon+1:])
		b.fields++
		framing = false
		switch {
		case asciiEqualFold(name, "Content-Length"):
			framing = true
			if ncl > 0 && value != cl {
				return b, false
			}
			cl = value
			ncl++
		case asciiEqualFold(name, "Transfer-Encoding"):
			framing = true
			te = value
			nte++
		}
	}
	if ncl > 0 {
		// net/http checks Content-Length even when the body is chunked.
		n, err := strconv.ParseUint(cl, 10, 63)
		if err != nil {
			return b, false
		}
		b.length = int64(n)
	}
	// net/http ignores Transfer-Encoding in HTTP/1.0 requests, and otherwise accepts exactly
	// one Transfer-Encoding line, "chunked".
	if nte > 0 && minor >= 1 {
		if nte != 1 || !asciiEqualFold(te, "chunked") {
			return b, false
		}
		b.chunked = true
		b.length = -1
	}
	return b, true
}

// trimOWS removes leading and trailing spaces and tabs from s.
func trimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// asciiEqualFold reports whether s and t are equal under ASCII case folding.
func asciiEqualFold(s, t string) bool {
	if len(s) != len(t) {
		return false
	}
	for i := 0; i < len(s); i++ {
		a, b := s[i], t[i]
		if a == b {
			continue
		}
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}
