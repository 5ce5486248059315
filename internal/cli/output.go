package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/hookctl/hookctl/internal/humanize"
	"github.com/hookctl/hookctl/internal/webhook"
)

// ANSI colours for status classes; used only when colour is enabled.
const (
	ansiReset  = "\x1b[0m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiRed    = "\x1b[31m"
	ansiDim    = "\x1b[2m"
)

// statusText renders the outcome of a request: its status, "-" when it was never sent,
// "rejected" or "failed".
func statusText(s webhook.Summary, color bool) string {
	var text, c string
	switch {
	case s.Rejected != "":
		text, c = "rejected", ansiRed
	case s.Status == 0 && s.Error != "":
		text, c = "failed", ansiRed
	case s.Status == 0:
		text, c = "-", ansiDim
	default:
		text = strconv.Itoa(s.Status)
		switch {
		case s.Status >= 500:
			c = ansiRed
		case s.Status >= 400:
			c = ansiYellow
		case s.Status >= 200 && s.Status < 300:
			c = ansiGreen
		}
	}
	if color && c != "" {
		return c + text + ansiReset
	}
	return text
}

// outcomeText renders what happened to a request, for one-line output:
// "-> 200  3ms", "-> failed  30s  target ... did not answer", "-> rejected  request body ...".
func outcomeText(s webhook.Summary, color bool) string {
	out := "-> " + statusText(s, color)
	for _, part := range []string{humanize.Duration(s.Duration), s.Error, s.Rejected} {
		if part != "" && part != "-" {
			out += "  " + part
		}
	}
	return out
}

// writeTable writes summaries as an aligned table for people (tty) or as tab-separated
// values with RFC 3339 times for scripts.
func writeTable(w io.Writer, rows []webhook.Summary, tty bool, now time.Time) error {
	if !tty {
		for _, s := range rows {
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", s.ID, timeJSON(s.ReceivedAt), s.Method,
				s.URI, statusText(s, false), s.BodySize, humanize.Duration(s.Duration), eventText(s), s.Signature, noteText(s, now))
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tRECEIVED\tMETHOD\tPATH\tSTATUS\tSIZE\tDURATION\tEVENT\tSIGNATURE\tNOTE")
	for _, s := range rows {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, whenText(s.ReceivedAt, now), s.Method,
			truncate(s.URI, 60), statusText(s, false), humanize.Size(s.BodySize), humanize.Duration(s.Duration), eventText(s), s.Signature,
			noteText(s, now))
	}
	return tw.Flush()
}

// noteText says what else is known of a request: its background delivery's state and whether
// it redelivers an earlier request.
func noteText(s webhook.Summary, now time.Time) string {
	note := deliveryText(s.Delivery, now)
	if s.DuplicateOf != 0 {
		if note != "" {
			note += ", "
		}
		note += fmt.Sprintf("duplicate of %d", s.DuplicateOf)
	}
	return note
}

// deliveryText renders a background delivery's state for people: "queued", "retrying in
// 12s", "delivered", "given up"; "" for a request that was not queued.
func deliveryText(d webhook.Delivery, now time.Time) string {
	switch d.Status() {
	case webhook.DeliveryPending:
		return "queued"
	case webhook.DeliveryRetrying:
		if wait := d.NextAt.Sub(now); wait >= time.Second {
			return "retrying in " + humanize.Duration(wait.Round(time.Second))
		} else if wait > 0 {
			return "retrying in " + humanize.Duration(wait.Round(time.Millisecond))
		}
		return "retrying now"
	case webhook.DeliveryGivenUp:
		return "given up"
	}
	return d.Status()
}

func eventText(s webhook.Summary) string {
	switch {
	case s.Provider != "" && s.EventType != "":
		return s.Provider + " " + s.EventType
	case s.Provider != "":
		return s.Provider
	}
	return s.EventType
}

// whenText renders a time as a clock time today and a date otherwise, in local time.
func whenText(t, now time.Time) string {
	t = t.Local()
	if y, m, d := t.Date(); y == now.Year() && m == now.Month() && d == now.Day() {
		return t.Format("15:04:05")
	}
	return t.Format("2006-01-02 15:04")
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// writeDetail writes a request and its attempts for people.
func writeDetail(w io.Writer, r *webhook.Request, attempts []webhook.Attempt, d *webhook.Delivery, now time.Time) {
	fmt.Fprintf(w, "Request %d  %s %s\n", r.ID, r.Method, r.URI)
	fmt.Fprintf(w, "Received   %s via %s from %s\n", r.ReceivedAt.Local().Format("2006-01-02 15:04:05.000 MST"), r.Ingress, r.RemoteAddr)
	if r.Provider != "" || r.EventType != "" {
		fmt.Fprintf(w, "Event      %s %s\n", r.Provider, r.EventType)
	}
	sig := r.Signature
	if r.SignatureReason != "" {
		sig += " (" + r.SignatureReason + ")"
	}
	fmt.Fprintf(w, "Signature  %s\n", sig)
	if r.Rejected != "" {
		fmt.Fprintf(w, "Rejected   %s\n", r.Rejected)
	}
	if r.DuplicateOf != 0 {
		fmt.Fprintf(w, "Duplicate  of request %d (same event delivered again)\n", r.DuplicateOf)
	}
	if d != nil {
		fmt.Fprintf(w, "Delivery   %s to %s (%s)\n", deliveryText(*d, now), d.Target, humanize.Count(d.Attempts, "attempt"))
	}
	fmt.Fprintf(w, "\nHeaders (%s)\n", r.Proto)
	writeHeaders(w, r.Header)
	fmt.Fprintf(w, "\nBody (%s)\n", humanize.Size(r.BodySize))
	writeBody(w, r.Body, r.Header.Get("Content-Type"), r.Rejected != "")
	if len(attempts) == 0 {
		if d == nil {
			fmt.Fprintln(w, "\nNo attempts: the request was not forwarded.")
		} else {
			fmt.Fprintln(w, "\nNo attempts yet.")
		}
		return
	}
	fmt.Fprintf(w, "\nAttempts (%d)\n", len(attempts))
	for i := range attempts {
		a := &attempts[i]
		outcome := strconv.Itoa(a.Status)
		if a.Status == 0 {
			outcome = "failed: " + a.Error
		}
		fmt.Fprintf(w, "\n  %d. %s  %s  %s -> %s  %s\n", i+1, a.Kind,
			a.StartedAt.Local().Format("2006-01-02 15:04:05"), a.Target, outcome, humanize.Duration(a.Duration))
		if a.Status == 0 {
			continue
		}
		writeHeaders(indent(w, "     "), a.Header)
		if a.BodySize > 0 {
			fmt.Fprintln(w)
			writeBody(indent(w, "     "), a.Body, a.Header.Get("Content-Type"), false)
			if a.BodySize > int64(len(a.Body)) {
				fmt.Fprintf(w, "     (%s of %s recorded)\n", humanize.Size(int64(len(a.Body))), humanize.Size(a.BodySize))
			}
		}
	}
}

func writeHeaders(w io.Writer, h webhook.Headers) {
	for _, f := range h {
		fmt.Fprintf(w, "  %s: %s\n", f.Name, f.Value)
	}
}

// writeBody writes a body for people: JSON indented (tokens untouched), text as it is, and a
// note for binary data.
func writeBody(w io.Writer, body []byte, contentType string, rejected bool) {
	switch {
	case rejected && len(body) == 0:
		fmt.Fprintln(w, "  (not recorded: the request was rejected)")
	case len(body) == 0:
		fmt.Fprintln(w, "  (empty)")
	case json.Valid(body):
		var buf bytes.Buffer
		json.Indent(&buf, body, "  ", "  ")
		fmt.Fprintf(w, "  %s\n", buf.Bytes())
	case utf8.Valid(body) && !bytes.ContainsRune(body, 0):
		iw := indent(w, "  ")
		iw.Write(body)
		if body[len(body)-1] != '\n' {
			fmt.Fprintln(w)
		}
	default:
		fmt.Fprintf(w, "  (%s of binary data, %s; print it with --body)\n", humanize.Size(int64(len(body))), contentTypeText(contentType))
	}
}

func contentTypeText(s string) string {
	if s == "" {
		return "no content type"
	}
	return s
}

// indent returns a writer that prefixes every line written through it.
func indent(w io.Writer, prefix string) io.Writer { return &indenter{w: w, prefix: prefix, bol: true} }

type indenter struct {
	w      io.Writer
	prefix string
	bol    bool
}

func (i *indenter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if i.bol {
			if _, err := io.WriteString(i.w, i.prefix); err != nil {
				return 0, err
			}
			i.bol = false
		}
		line := p
		if j := bytes.IndexByte(p, '\n'); j >= 0 {
			line, i.bol = p[:j+1], true
		}
		if _, err := i.w.Write(line); err != nil {
			return 0, err
		}
		p = p[len(line):]
	}
	return n, nil
}
