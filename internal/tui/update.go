package tui

import (
	"bytes"
	"fmt"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/hookctl/hookctl/internal/humanize"
	"github.com/hookctl/hookctl/internal/store"
	"github.com/hookctl/hookctl/internal/webhook"
)

// Init loads the newest page and the log's size, and starts listening for new rows.
func (m Model) Init() tea.Cmd {
	// New set seq and loading for this first load.
	return tea.Batch(m.fetch(pageNewest, m.newestFilter(), m.seq), m.loadCount(), m.tick(),
		tea.RequestBackgroundColor, waitEvent(m.cfg.Events))
}

// Update handles a message and returns the new model and the commands to run.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.help.SetWidth(msg.Width)
		m.resizeDetail()
		m.clampOffset()
		return m, m.prefetch()
	case tea.BackgroundColorMsg:
		m.styles = DefaultStyles(msg.IsDark())
		m.help.Styles = help.DefaultStyles(msg.IsDark())
		m.renderDetail()
		return m, nil
	case tea.KeyPressMsg:
		return m.handleKey(msg)
	case rowsMsg:
		return m.gotRows(msg)
	case countMsg:
		if msg.err == nil {
			m.total = msg.total
		}
		return m, nil
	case detailMsg:
		if m.detail != nil && m.detail.id == msg.id {
			m.detail.req, m.detail.attempts, m.detail.err = msg.req, msg.attempts, msg.err
			m.renderDetail()
		}
		return m, nil
	case eventMsg:
		return m.gotEvent(msg.ev)
	case eventsClosedMsg:
		return m, nil
	case tickMsg:
		return m, tea.Batch(m.pollNewer(), m.loadCount(), m.tick())
	case newerMsg:
		return m.gotNewer(msg)
	case replayMsg:
		return m.gotReplay(msg)
	case editReadyMsg:
		if msg.err != nil {
			return m.fail("edit: %v", msg.err)
		}
		return m, m.edit(msg)
	case editDoneMsg:
		return m.gotEdit(msg)
	case shapeMsg:
		if m.mode == modeShape {
			m.shape = &msg
			m.renderDetail()
		}
		return m, nil
	case copyMsg:
		if msg.err != nil {
			return m.fail("copy: %v", msg.err)
		}
		m.setStatus(fmt.Sprintf("copied %s to the clipboard (%s)", msg.what, humanize.Count(len(msg.text), "byte")))
		return m, tea.SetClipboard(msg.text)
	}
	if m.mode == modeFilter || m.mode == modeReplayTo {
		var cmd tea.Cmd
		m.prompt, cmd = m.prompt.Update(msg)
		return m, cmd
	}
	return m, nil
}

func (m Model) handleKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	if m.mode == modeFilter || m.mode == modeReplayTo {
		return m.handlePromptKey(msg)
	}
	k := &m.keys
	switch {
	case key.Matches(msg, k.Quit):
		return m, tea.Quit
	case key.Matches(msg, k.Help):
		m.help.ShowAll = !m.help.ShowAll
		m.resizeDetail()
		m.clampOffset()
		return m, nil
	case key.Matches(msg, k.Replay):
		return m.startReplay("")
	case key.Matches(msg, k.Resign):
		m.resign = !m.resign
		if m.resign {
			m.setStatus("replays get a fresh signature (with the --verify secrets)")
		} else {
			m.setStatus("replays keep their recorded signature")
		}
		return m, nil
	case key.Matches(msg, k.ReplayTo):
		if m.cfg.Replayer == nil || m.selected() == 0 {
			return m, nil
		}
		return m.openPrompt(modeReplayTo, "replay to ", "http://localhost:3000/path")
	case key.Matches(msg, k.Edit):
		if m.cfg.Replayer == nil || m.selected() == 0 {
			return m, nil
		}
		return m, m.prepareEdit(m.selected())
	case key.Matches(msg, k.CopyCurl):
		if id := m.selected(); id != 0 {
			return m, m.copyRequest(id, "curl command")
		}
		return m, nil
	case key.Matches(msg, k.Shape):
		if id := m.selected(); id != 0 && m.mode != modeShape {
			m.back, m.mode, m.shape = m.mode, modeShape, nil
			m.viewport.SetYOffset(0)
			m.resizeDetail()
			return m, m.loadShape(id)
		}
		return m, nil
	case key.Matches(msg, k.CopyBody):
		if id := m.selected(); id != 0 {
			return m, m.copyRequest(id, "body")
		}
		return m, nil
	}
	if m.mode == modeDetail || m.mode == modeShape {
		return m.handleDetailKey(msg)
	}
	return m.handleListKey(msg)
}

func (m Model) handleListKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	k := &m.keys
	page := max(1, m.listHeight()-1)
	switch {
	case key.Matches(msg, k.Down):
		return m.moveTo(m.cursor + 1)
	case key.Matches(msg, k.Up):
		return m.moveTo(m.cursor - 1)
	case key.Matches(msg, k.PageDown):
		return m.moveTo(m.cursor + page)
	case key.Matches(msg, k.PageUp):
		return m.moveTo(m.cursor - page)
	case key.Matches(msg, k.Top):
		m.following, m.newCount = true, 0
		m.cursor, m.offset = 0, 0
		return m, m.loadRows(pageNewest)
	case key.Matches(msg, k.Bottom):
		m.following = false
		if m.atBottom && len(m.rows) > 0 {
			return m.moveTo(len(m.rows) - 1)
		}
		return m, m.loadRows(pageOldest)
	case key.Matches(msg, k.Open):
		if id := m.selected(); id != 0 {
			m.mode = modeDetail
			m.detail = &detail{id: id}
			m.viewport.SetYOffset(0)
			m.resizeDetail()
			m.renderDetail()
			return m, m.loadDetail(id)
		}
	case key.Matches(msg, k.Filter):
		m.prompt.SetValue(m.query)
		return m.openPrompt(modeFilter, "/", "method:POST status:5xx event:invoice.* text")
	case key.Matches(msg, k.Back):
		if m.query != "" { // esc on the list clears the filter
			return m.applyFilter("")
		}
	}
	return m, nil
}

func (m Model) handleDetailKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	k := &m.keys
	switch {
	case key.Matches(msg, k.Back):
		if m.mode == modeShape {
			m.mode, m.shape = m.back, nil
			m.renderDetail()
			return m, nil
		}
		m.mode, m.detail = modeList, nil
		return m, nil
	case key.Matches(msg, k.Down):
		m.viewport.ScrollDown(1)
	case key.Matches(msg, k.Up):
		m.viewport.ScrollUp(1)
	case key.Matches(msg, k.PageDown):
		m.viewport.PageDown()
	case key.Matches(msg, k.PageUp):
		m.viewport.PageUp()
	case key.Matches(msg, k.Top):
		m.viewport.GotoTop()
	case key.Matches(msg, k.Bottom):
		m.viewport.GotoBottom()
	}
	return m, nil
}

func (m Model) openPrompt(md mode, prompt, placeholder string) (tea.Model, tea.Cmd) {
	m.back, m.mode = m.mode, md
	m.prompt.Prompt = prompt
	m.prompt.Placeholder = placeholder
	m.prompt.SetWidth(max(10, m.width-len(prompt)-2))
	if md == modeReplayTo {
		m.prompt.SetValue("")
	}
	m.prompt.CursorEnd()
	return m, m.prompt.Focus()
}

func (m Model) handlePromptKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	switch {
	case key.Matches(msg, m.keys.Cancel):
		m.mode = m.back
		m.prompt.Blur()
		return m, nil
	case key.Matches(msg, m.keys.Accept):
		value := m.prompt.Value()
		md := m.mode
		m.mode = m.back
		m.prompt.Blur()
		if md == modeFilter {
			return m.applyFilter(value)
		}
		if value == "" {
			return m, nil
		}
		return m.startReplay(value)
	}
	var cmd tea.Cmd
	m.prompt, cmd = m.prompt.Update(msg)
	return m, cmd
}

func (m Model) applyFilter(q string) (tea.Model, tea.Cmd) {
	f, err := store.ParseQuery(q)
	if err != nil {
		return m.fail("%v", err)
	}
	m.filter, m.query = f, q
	m.rows, m.cursor, m.offset = nil, 0, 0
	m.following, m.newCount, m.atTop, m.atBottom = true, 0, true, false
	if q == "" {
		m.setStatus("filter cleared")
	} else {
		m.setStatus("filter: " + q)
	}
	return m, m.loadRows(pageNewest)
}

func (m Model) startReplay(to string) (tea.Model, tea.Cmd) {
	id := m.selected()
	if m.cfg.Replayer == nil || id == 0 {
		return m, nil
	}
	m.setStatus(fmt.Sprintf("replaying #%d…", id))
	return m, m.replay(id, to)
}

// moveTo moves the selection to index i of the window, loading more rows when it nears an
// edge of what is loaded.
func (m Model) moveTo(i int) (tea.Model, tea.Cmd) {
	if len(m.rows) == 0 {
		return m, nil
	}
	i = min(max(i, 0), len(m.rows)-1)
	if i == 0 && m.cursor == 0 && (!m.atTop || m.newCount > 0) && !m.loading {
		// At the top of the window but not of the log: fetch what is above.
		return m, m.loadRows(pageNewer)
	}
	m.cursor = i
	m.following = m.cursor == 0 && m.atTop && m.newCount == 0
	m.clampOffset()
	return m, m.prefetch()
}

// prefetch loads the next page when the selection is within a screen of the loaded edge.
func (m *Model) prefetch() tea.Cmd {
	if m.loading || len(m.rows) == 0 {
		return nil
	}
	h := m.listHeight()
	if !m.atBottom && m.cursor >= len(m.rows)-h-1 {
		return m.loadRows(pageOlder)
	}
	if !m.atTop && !m.following && m.cursor <= h {
		return m.loadRows(pageNewer)
	}
	return nil
}

// clampOffset scrolls the list so that the selection is visible.
func (m *Model) clampOffset() {
	h := m.listHeight()
	if m.cursor < m.offset {
		m.offset = m.cursor
	}
	if m.cursor >= m.offset+h {
		m.offset = m.cursor - h + 1
	}
	m.offset = max(0, min(m.offset, len(m.rows)-h))
}

func (m Model) gotRows(msg rowsMsg) (tea.Model, tea.Cmd) {
	if msg.seq != m.seq {
		return m, nil // a newer load replaced this one
	}
	m.loading = false
	if msg.err != nil {
		return m.fail("load: %v", msg.err)
	}
	selected := m.selected()
	n := len(msg.rows)
	full := n >= m.pageSize()
	switch msg.dir {
	case pageNewest:
		m.rows, m.atTop, m.atBottom = msg.rows, true, !full
		m.cursor, m.offset = 0, 0
		if !m.following {
			m.cursor = max(0, indexOf(m.rows, selected))
		}
		m.newCount = 0
	case pageOldest:
		m.rows, m.atBottom, m.atTop = msg.rows, true, !full
		m.cursor = max(0, len(m.rows)-1)
		m.offset = len(m.rows)
	case pageOlder:
		m.rows = append(m.rows, msg.rows...)
		m.atBottom = !full
		if drop := len(m.rows) - m.maxWindow(); drop > 0 && m.cursor-drop > m.listHeight() {
			m.rows = m.rows[drop:]
			m.cursor -= drop
			m.offset -= drop
			m.atTop = false
		}
	case pageNewer:
		m.rows = append(msg.rows, m.rows...)
		m.cursor += n
		m.offset += n
		m.atTop = !full
		if drop := len(m.rows) - m.maxWindow(); drop > 0 && len(m.rows)-drop > m.cursor+m.listHeight() {
			m.rows = m.rows[:len(m.rows)-drop]
			m.atBottom = false
		}
		if m.atTop {
			m.newCount = 0
		}
	case pageRefresh:
		if i := indexOf(msg.rows, selected); i >= 0 {
			m.rows, m.cursor = msg.rows, i
		} else if len(msg.rows) > 0 {
			m.rows = msg.rows
			m.cursor = min(m.cursor, len(m.rows)-1)
		}
	}
	if len(m.rows) > 0 && m.rows[0].ID > m.newestID && m.atTop {
		m.newestID = m.rows[0].ID
	}
	m.clampOffset()
	var cmd tea.Cmd
	if m.pending {
		m.pending = false
		cmd = m.loadRows(pageRefresh)
	} else {
		cmd = m.prefetch()
	}
	return m, cmd
}

func indexOf(rows []webhook.Summary, id int64) int {
	for i, r := range rows {
		if r.ID == id {
			return i
		}
	}
	return -1
}

func (m Model) gotEvent(ev webhook.Event) (tea.Model, tea.Cmd) {
	cmds := []tea.Cmd{waitEvent(m.cfg.Events)}
	switch ev.Kind {
	case webhook.EventIngress:
		m.ingress = ev.Ingress
		return m, cmds[0]
	case webhook.EventRequest:
		m.received++
		m.total++
		if ev.Request.ID > m.newestID {
			if !m.following {
				m.newCount++
			}
			m.newestID = ev.Request.ID
		}
	case webhook.EventAttempt:
		if ev.Attempt.Status != 0 && ev.Attempt.Status < 400 {
			m.forwardedOK++
		} else {
			m.failed++
		}
		if m.detail != nil && m.detail.id == ev.Attempt.RequestID {
			cmds = append(cmds, m.loadDetail(m.detail.id))
		}
	}
	cmds = append(cmds, m.refresh())
	return m, tea.Batch(cmds...)
}

// refresh reloads the window (or the newest page while following), or asks for it once the
// running load is done.
func (m *Model) refresh() tea.Cmd {
	if m.loading {
		m.pending = true
		return nil
	}
	if m.following {
		return m.loadRows(pageNewest)
	}
	return m.loadRows(pageRefresh)
}

// gotNewer handles rows that appeared beyond the newest known one without an event: written
// by another process, or by this one when the UI runs over the log alone.
func (m Model) gotNewer(msg newerMsg) (tea.Model, tea.Cmd) {
	if msg.err != nil || msg.n == 0 || msg.after != m.newestID {
		return m, nil
	}
	m.newestID = msg.maxID
	if !m.following {
		m.newCount += msg.n
	}
	return m, m.refresh()
}

func (m Model) gotReplay(msg replayMsg) (tea.Model, tea.Cmd) {
	if msg.err != nil {
		return m.fail("replay #%d: %v", msg.id, msg.err)
	}
	a := msg.attempt
	what := fmt.Sprintf("replayed #%d", msg.id)
	if msg.newID != 0 {
		what = fmt.Sprintf("replayed edited copy #%d of #%d", msg.newID, msg.id)
	}
	if a.Status == 0 {
		m.setStatus(what + ": " + a.Error)
		m.isError = true
	} else {
		m.setStatus(fmt.Sprintf("%s → %d in %s", what, a.Status, humanize.Duration(a.Duration)))
	}
	cmds := []tea.Cmd{m.refresh()}
	if m.detail != nil && m.detail.id == msg.id {
		cmds = append(cmds, m.loadDetail(msg.id))
	}
	return m, tea.Batch(cmds...)
}

func (m Model) gotEdit(msg editDoneMsg) (tea.Model, tea.Cmd) {
	if msg.err != nil {
		return m.fail("editor: %v", msg.err)
	}
	if m.detail != nil && m.detail.req != nil && m.detail.id == msg.id && bytes.Equal(msg.body, m.detail.req.Body) {
		m.setStatus("body unchanged: nothing replayed")
		return m, nil
	}
	m.setStatus(fmt.Sprintf("replaying an edited copy of #%d…", msg.id))
	return m, m.replayEdited(msg.id, msg.body)
}

func (m *Model) setStatus(s string) { m.status, m.isError = s, false }

func (m Model) fail(format string, args ...any) (tea.Model, tea.Cmd) {
	m.status, m.isError = fmt.Sprintf(format, args...), true
	return m, nil
}
