package tui

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/hookctl/hookctl/internal/export"
	"github.com/hookctl/hookctl/internal/humanize"
	"github.com/hookctl/hookctl/internal/store"
	"github.com/hookctl/hookctl/internal/webhook"
	"github.com/hookctl/hookctl/pkg/shape"
)

// The commands below are the UI's only I/O.

// newestFilter is the filter of the newest page.
func (m Model) newestFilter() store.Filter {
	f := m.filter
	f.Limit = m.pageSize()
	return f
}

// loadRows loads a page of the list in direction dir relative to the current window. It
// replaces any load still running: that one's answer will be dropped.
func (m *Model) loadRows(dir pageDir) tea.Cmd {
	f := m.filter
	switch dir {
	case pageNewest:
		f = m.newestFilter()
	case pageOldest:
		f.Limit, f.Oldest = m.pageSize(), true
	case pageOlder:
		if len(m.rows) == 0 {
			return nil
		}
		f.Limit, f.BeforeID = m.pageSize(), m.rows[len(m.rows)-1].ID
	case pageNewer:
		if len(m.rows) == 0 {
			return nil
		}
		f.Limit, f.AfterID, f.Oldest = m.pageSize(), m.rows[0].ID, true
	case pageRefresh:
		if len(m.rows) == 0 || m.following {
			return m.loadRows(pageNewest)
		}
		f.Limit, f.BeforeID = len(m.rows), m.rows[0].ID+1
	}
	m.seq++
	m.loading = true
	return m.fetch(dir, f, m.seq)
}

func (m Model) fetch(dir pageDir, f store.Filter, seq int) tea.Cmd {
	src, ctx := m.cfg.Source, m.ctx
	return func() tea.Msg {
		rows, err := src.List(ctx, f)
		return rowsMsg{dir: dir, seq: seq, rows: rows, err: err}
	}
}

func (m Model) loadCount() tea.Cmd {
	src, ctx := m.cfg.Source, m.ctx
	return func() tea.Msg {
		n, err := src.Count(ctx)
		return countMsg{total: n, err: err}
	}
}

func (m Model) loadDetail(id int64) tea.Cmd {
	src, ctx := m.cfg.Source, m.ctx
	return func() tea.Msg {
		req, err := src.Request(ctx, id)
		if err != nil {
			return detailMsg{id: id, err: err}
		}
		attempts, err := src.Attempts(ctx, id)
		return detailMsg{id: id, req: req, attempts: attempts, err: err}
	}
}

// waitEvent waits for the listener's next event.
func waitEvent(ch <-chan webhook.Event) tea.Cmd {
	if ch == nil {
		return nil
	}
	return func() tea.Msg {
		ev, ok := <-ch
		if !ok {
			return eventsClosedMsg{}
		}
		return eventMsg{ev}
	}
}

func (m Model) tick() tea.Cmd {
	if m.cfg.PollInterval < 0 {
		return nil
	}
	return tea.Tick(m.cfg.PollInterval, func(time.Time) tea.Msg { return tickMsg{} })
}

// pollNewer counts rows newer than the newest known one (written by this or another process).
func (m Model) pollNewer() tea.Cmd {
	f := m.filter
	f.AfterID, f.Oldest, f.Limit = m.newestID, true, 1000
	after, src, ctx := m.newestID, m.cfg.Source, m.ctx
	return func() tea.Msg {
		rows, err := src.List(ctx, f)
		msg := newerMsg{after: after, n: len(rows), err: err}
		if len(rows) > 0 {
			msg.maxID = rows[0].ID
		}
		return msg
	}
}

func (m Model) replay(id int64, to string) tea.Cmd {
	r, ctx, resign := m.cfg.Replayer, m.ctx, m.resign
	return func() tea.Msg {
		a, err := r.Replay(ctx, id, to, resign)
		return replayMsg{id: id, attempt: a, err: err}
	}
}

// prepareEdit writes request id's body to a temporary file for the editor.
func (m Model) prepareEdit(id int64) tea.Cmd {
	src, ctx := m.cfg.Source, m.ctx
	return func() tea.Msg {
		req, err := src.Request(ctx, id)
		if err != nil {
			return editReadyMsg{id: id, err: err}
		}
		f, err := os.CreateTemp("", "hookctl-body-*"+bodyExt(req))
		if err != nil {
			return editReadyMsg{id: id, err: err}
		}
		_, err = f.Write(req.Body)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return editReadyMsg{id: id, path: f.Name(), body: req.Body, err: err}
	}
}

// bodyExt picks a file extension so that the editor highlights the body.
func bodyExt(r *webhook.Request) string {
	switch ct := r.Header.Get("Content-Type"); {
	case strings.Contains(ct, "json"):
		return ".json"
	case strings.Contains(ct, "xml"):
		return ".xml"
	}
	return ".txt"
}

// edit runs the editor on the prepared file; the program gives it the terminal meanwhile.
func (m Model) edit(msg editReadyMsg) tea.Cmd {
	c := exec.Command("sh", "-c", m.cfg.Editor+` "$1"`, "editor", msg.path)
	return tea.ExecProcess(c, func(err error) tea.Msg {
		body, rerr := os.ReadFile(msg.path)
		os.Remove(msg.path)
		if err == nil {
			err = rerr
		}
		return editDoneMsg{id: msg.id, path: msg.path, body: body, err: err}
	})
}

func (m Model) replayEdited(id int64, body []byte) tea.Cmd {
	r, ctx := m.cfg.Replayer, m.ctx
	return func() tea.Msg {
		newID, a, err := r.ReplayEdited(ctx, id, body, "")
		return replayMsg{id: id, newID: newID, attempt: a, err: err}
	}
}

// copyRequest builds the text that c or y copies.
func (m Model) copyRequest(id int64, what string) tea.Cmd {
	src, ctx, ingress := m.cfg.Source, m.ctx, m.cfg.Info.Ingress
	return func() tea.Msg {
		req, err := src.Request(ctx, id)
		if err != nil {
			return copyMsg{what: what, err: err}
		}
		if what == "body" {
			return copyMsg{what: what, text: string(req.Body)}
		}
		base := ingress
		if a, err := src.Attempts(ctx, id); err == nil {
			for i := len(a) - 1; i >= 0; i-- {
				if a[i].Kind == webhook.KindForward {
					return copyMsg{what: what, text: export.CurlCommand(req, a[i].Target)}
				}
			}
		}
		if base == "" {
			base = "http://127.0.0.1:8765"
		}
		return copyMsg{what: what, text: export.CurlCommand(req, base+req.URI)}
	}
}

// shapeSamples is how many of the newest payloads of an event type the shape pane reads.
const shapeSamples = 200

// loadShape infers the shape of the event type of request id from its newest samples.
func (m Model) loadShape(id int64) tea.Cmd {
	src, ctx := m.cfg.Source, m.ctx
	return func() tea.Msg {
		req, err := src.Request(ctx, id)
		if err != nil {
			return shapeMsg{err: err}
		}
		title := strings.TrimSpace(req.Provider + " " + req.EventType)
		if title == "" {
			title = "requests from unknown senders"
		}
		rows, err := src.List(ctx, store.Filter{Provider: req.Provider, EventType: globLiteral(req.EventType), Limit: shapeSamples})
		if err != nil {
			return shapeMsg{title: title, err: err}
		}
		form := strings.HasPrefix(strings.ToLower(req.Header.Get("Content-Type")), "application/x-www-form-urlencoded")
		var bodies [][]byte
		for _, row := range rows {
			if row.Provider != req.Provider || row.EventType != req.EventType || row.BodySize == 0 {
				continue
			}
			r, err := src.Request(ctx, row.ID)
			if err != nil {
				return shapeMsg{title: title, err: err}
			}
			if form || json.Valid(r.Body) {
				bodies = append(bodies, r.Body)
			}
		}
		if len(bodies) == 0 {
			return shapeMsg{title: title, err: errors.New("no JSON or form payloads of this event type")}
		}
		infer := shape.Infer
		if form {
			infer = shape.InferForm
		}
		s, err := infer(bodies)
		if err != nil {
			return shapeMsg{title: title, err: err}
		}
		return shapeMsg{title: fmt.Sprintf("shape of %s (%s)", title, humanize.Count(len(bodies), "sample")), tree: s.Tree()}
	}
}

// globLiteral escapes the glob characters of s so that a glob filter matches it exactly.
func globLiteral(s string) string {
	return strings.NewReplacer("*", "[*]", "?", "[?]", "[", "[[]").Replace(s)
}
