package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/hookctl/hookctl/internal/webhook"
)

// printer writes listen's events to out on its own goroutine, one line per request (or one
// JSON object per request and per attempt). Notify never waits for the terminal: events are
// queued without bound, because some come from the log's writer goroutine, which every request
// waits on, and a stalled stdout must not stall recording.
type printer struct {
	out       *bufio.Writer // flushed after each batch of events: one write for many lines
	json      bool
	color     bool
	forwarded bool // a target is set: a request's line waits for its attempt
	dedupe    bool // redeliveries are answered at once, not forwarded
	status    int  // the status answered when the target does not answer (no target, --ack)
	now       func() time.Time

	line []byte // the JSON event being written, reused

	mu     sync.Mutex
	queue  []webhook.Event
	wake   chan struct{} // signalled when the queue gets events
	closed bool
	done   sync.WaitGroup
}

func newPrinter(out io.Writer, asJSON, color, forwarded, dedupe bool, status int, now func() time.Time) *printer {
	p := &printer{out: bufio.NewWriterSize(out, 32<<10), json: asJSON, color: color, forwarded: forwarded, dedupe: dedupe, status: status, now: now,
		wake: make(chan struct{}, 1)}
	p.done.Go(p.loop)
	return p
}

// loop prints queued events until Close, then what is left.
func (p *printer) loop() {
	var batch []webhook.Event
	for {
		<-p.wake
		p.mu.Lock()
		batch, p.queue = p.queue, batch[:0]
		closed := p.closed
		p.mu.Unlock()
		for _, ev := range batch {
			p.print(ev)
		}
		p.out.Flush()
		clear(batch)
		if closed {
			return
		}
	}
}

// Notify queues ev for printing; it is capture.Config.Notify. Events after Close are dropped.
func (p *printer) Notify(ev webhook.Event) {
	p.mu.Lock()
	if !p.closed {
		p.queue = append(p.queue, ev)
	}
	p.mu.Unlock()
	p.signal()
}

func (p *printer) signal() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Close prints what is queued and stops the printer.
func (p *printer) Close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.signal()
	p.done.Wait()
}

// readyJSON is the first line of `listen --json`.
type readyJSON struct {
	Event     string `json:"event"`
	Ingress   string `json:"ingress"`
	PublicURL string `json:"public_url"`
	Target    string `json:"target"`
	DB        string `json:"db"`
}

type requestEventJSON struct {
	Event string `json:"event"`
	summaryJSON
	Host       string `json:"host"`
	RemoteAddr string `json:"remote_addr"`
}

type ingressEventJSON struct {
	Event   string `json:"event"`
	Ingress string `json:"ingress"`
	State   string `json:"state"`
	Error   string `json:"error"`
}

type attemptEventJSON struct {
	Event  string `json:"event"`
	Method string `json:"method"`
	Path   string `json:"path"`
	attemptJSON
	// Delivery and NextAttemptAt are the background delivery's state after the attempt
	// (listen --ack), as in requests list --json.
	Delivery      string `json:"delivery,omitempty"`
	NextAttemptAt string `json:"next_attempt_at,omitempty"`
}

// writeJSONLine writes v to w as one line of JSON.
func writeJSONLine(w io.Writer, v any) {
	b, _ := json.Marshal(v)
	w.Write(append(b, '\n'))
}

func (p *printer) print(ev webhook.Event) {
	if in := ev.Ingress; in != nil {
		if p.json {
			writeJSONLine(p.out, ingressEventJSON{Event: "ingress", Ingress: in.Name, State: in.State, Error: in.Error})
			return
		}
		line := fmt.Sprintf("%s  %s %s", p.now().Format("15:04:05"), in.Name, in.State)
		if in.Error != "" {
			line += ": " + in.Error
		}
		fmt.Fprintln(p.out, line)
		return
	}
	r := ev.Request
	if p.json {
		switch ev.Kind {
		case webhook.EventRequest:
			j := requestEventJSON{Event: "request", summaryJSON: summaryOf(summary(ev)), Host: r.Host, RemoteAddr: r.RemoteAddr}
			p.line = j.appendJSON(p.line[:0])
		case webhook.EventAttempt:
			a := *ev.Attempt
			a.Body = nil // headers only: bodies can be large
			j := attemptEventJSON{Event: "attempt", Method: r.Method, Path: r.URI, attemptJSON: attemptOf(&a)}
			j.ResponseBody = nil // attemptOf gives an empty body as ""
			if ev.Delivery != nil {
				j.Delivery, j.NextAttemptAt = deliveryJSON(*ev.Delivery)
			}
			p.line = j.appendJSON(p.line[:0])
		default:
			return
		}
		p.out.Write(append(p.line, '\n'))
		return
	}
	s := summary(ev)
	switch {
	case ev.Kind == webhook.EventAttempt:
	case r.Rejected != "":
	case ev.Delivery != nil:
		s.Status = p.status
	case r.DuplicateOf != 0 && p.dedupe:
		s.Status = http.StatusOK
	case !p.forwarded:
		s.Status = p.status
	default:
		return // printed with its attempt
	}
	line := outcomeText(s, p.color)
	if note := noteText(s, p.now()); note != "" {
		line += "  (" + note + ")"
	}
	fmt.Fprintf(p.out, "%s  %-5d %-7s %s %s\n", r.ReceivedAt.Local().Format("15:04:05"), r.ID, r.Method,
		truncate(r.URI, 80), line)
}

// summary is the summary of an event's request, with the event's attempt and delivery.
func summary(ev webhook.Event) webhook.Summary {
	s := webhook.Summarize(ev.Request, ev.Attempt, 0)
	if ev.Delivery != nil {
		s.Delivery = *ev.Delivery
	}
	return s
}
