package tui

import (
	"fmt"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/help"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/hookctl/hookctl/internal/humanize"
	"github.com/hookctl/hookctl/internal/webhook"
)

const headerLines = 3 // two lines of header and a rule

// View renders the UI.
func (m Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	return v
}

// render renders the screen as a string, the part of View that tests compare.
func (m Model) render() string {
	if m.width == 0 || m.height == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(m.viewHeader())
	if m.mode == modeDetail || m.mode == modeShape || (m.back == modeDetail && m.mode == modeReplayTo) {
		b.WriteString(m.viewDetail())
	} else {
		b.WriteString(m.viewList())
	}
	b.WriteString(m.viewStatus())
	b.WriteString("\n")
	b.WriteString(m.viewHelp())
	return b.String()
}

func (m Model) viewHeader() string {
	st := m.styles
	info := m.cfg.Info
	var line1 string
	switch {
	case info.Ingress != "":
		url := info.Ingress
		if info.PublicURL != "" {
			url = info.PublicURL + st.Dim.Render(" ("+info.Ingress+")")
		}
		target := st.Dim.Render("recording only")
		if info.Target != "" {
			target = info.Target
		}
		line1 = st.Title.Render("hookctl") + "  " + url + st.Dim.Render(" → ") + target
	default:
		line1 = st.Title.Render("hookctl") + "  " + st.Dim.Render("log ") + info.DB
	}
	var parts []string
	if m.cfg.Events != nil {
		parts = append(parts, st.Good.Render("●")+" listening")
	}
	if in := m.ingress; in != nil {
		dot, text := st.Good.Render("●"), in.Name+" "+in.State
		if in.State != "connected" {
			dot = st.Warn.Render("○")
		}
		if in.Error != "" {
			text += ": " + in.Error
		}
		parts = append(parts, dot+" "+text)
	}
	if m.cfg.Events != nil {
		failed := fmt.Sprintf("failed %d", m.failed)
		if m.failed > 0 {
			failed = st.Bad.Render(failed)
		}
		parts = append(parts, fmt.Sprintf("received %d", m.received), st.Good.Render(fmt.Sprintf("ok %d", m.forwardedOK)), failed)
	}
	parts = append(parts, st.Dim.Render(fmt.Sprintf("%s in log", thousands(m.total))))
	line2 := strings.Join(parts, st.Dim.Render("  ·  "))
	return fit(line1, m.width) + "\n" + fit(line2, m.width) + "\n" + st.Rule.Render(strings.Repeat("─", m.width)) + "\n"
}

// helpLines is the height of the help footer.
func (m Model) helpLines() int { return lipgloss.Height(m.viewHelp()) }

// listHeight is how many request rows fit on the screen.
func (m Model) listHeight() int {
	return max(1, m.height-headerLines-1 /* column header */ -1 /* status */ -m.helpLines())
}

// columns are the list's column widths for the current width.
type columns struct{ id, time, method, path, event, sig, status, dur int }

func (m Model) columns() columns {
	c := columns{id: 7, time: 8, method: 7, sig: 1, status: 6, dur: 6}
	if m.width < 60 { // narrow: drop the times, keep what identifies a request and its outcome
		c.time, c.dur = 0, 0
	}
	fixed := 2 + c.id + 1 + c.method + 1 + 1 + c.sig + 1 + c.status
	if c.time > 0 {
		fixed += c.time + 1 + 1 + c.dur
	}
	rest := max(4, m.width-fixed)
	if m.width >= 70 {
		c.event = min(32, rest*2/5)
		rest -= c.event + 1
	}
	c.path = rest
	return c
}

func (m Model) viewList() string {
	st := m.styles
	c := m.columns()
	var b strings.Builder
	head := join(cell("ID", c.id), cell("TIME", c.time), cell("METHOD", c.method), cell("PATH", c.path),
		cell("EVENT", c.event), cell("", c.sig), cellRight("STATUS", c.status), cellRight("DUR", c.dur))
	b.WriteString(st.ColHeader.Render(fit("  "+head, m.width)) + "\n")
	h := m.listHeight()
	for i := m.offset; i < m.offset+h; i++ {
		if i >= len(m.rows) {
			if i == 0 {
				b.WriteString(st.Dim.Render(fit(m.emptyText(), m.width)))
			}
			b.WriteString("\n")
			continue
		}
		b.WriteString(m.viewRow(m.rows[i], c, i == m.cursor))
		b.WriteString("\n")
	}
	return b.String()
}

func (m Model) emptyText() string {
	switch {
	case m.loading:
		return "  loading…"
	case m.query != "":
		return "  no requests match " + m.query + " (esc clears the filter)"
	case m.cfg.Info.Ingress != "":
		return "  waiting for requests: send one to " + m.cfg.Info.Ingress
	}
	return "  no requests recorded yet"
}

func (m Model) viewRow(s webhook.Summary, c columns, selected bool) string {
	st := m.styles
	status, statusStyle := statusCell(s, st)
	sig, sigStyle := signatureCell(s.Signature, st)
	event := s.EventType
	if s.Provider != "" {
		event = s.Provider + " " + event
	}
	if s.DuplicateOf != 0 {
		event = "dup of " + strconv.FormatInt(s.DuplicateOf, 10) + " " + event
	}
	id, when, method, path := cell(strconv.FormatInt(s.ID, 10), c.id), cell(s.ReceivedAt.Local().Format("15:04:05"), c.time),
		cell(s.Method, c.method), cell(s.URI, c.path)
	ev, sg, stat, dur := cell(event, c.event), cell(sig, c.sig), cellRight(status, c.status), cellRight(humanize.Duration(s.Duration), c.dur)
	if selected {
		return st.Selected.Render(fit("▸ "+join(id, when, method, path, ev, sg, stat, dur), m.width))
	}
	return fit("  "+join(id, when, method, path, ev, sigStyle.Render(sg), statusStyle.Render(stat), st.Dim.Render(dur)), m.width)
}

// join joins the cells of a row with single spaces, leaving out hidden (zero-width) columns.
func join(cells ...string) string {
	var b strings.Builder
	for _, c := range cells {
		if ansi.Strip(c) == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(c)
	}
	return b.String()
}

func statusCell(s webhook.Summary, st Styles) (string, lipgloss.Style) {
	switch s.Delivery.Status() {
	case webhook.DeliveryPending:
		return "queued", st.Dim
	case webhook.DeliveryRetrying:
		return "retry", st.Warn
	case webhook.DeliveryGivenUp:
		if s.Status == 0 {
			return "failed", st.Bad
		}
		return strconv.Itoa(s.Status), st.Bad
	}
	switch {
	case s.Rejected != "":
		return "413", st.Bad
	case s.Status == 0 && s.Error != "":
		return "failed", st.Bad
	case s.Status == 0:
		return "-", st.Dim
	case s.Status >= 500:
		return strconv.Itoa(s.Status), st.Bad
	case s.Status >= 400:
		return strconv.Itoa(s.Status), st.Warn
	case s.Status >= 300:
		return strconv.Itoa(s.Status), st.Info
	}
	return strconv.Itoa(s.Status), st.Good
}

func signatureCell(sig string, st Styles) (string, lipgloss.Style) {
	switch sig {
	case webhook.SignatureValid:
		return "✓", st.Good
	case webhook.SignatureInvalid:
		return "✗", st.Bad
	case webhook.SignatureStale:
		return "~", st.Warn
	case webhook.SignatureUnsigned:
		return "-", st.Dim
	}
	return " ", st.Dim
}

func (m Model) viewDetail() string {
	st := m.styles
	title := "loading…"
	if m.mode == modeShape {
		if sh := m.shape; sh != nil && sh.err != nil {
			title = st.Error.Render(sh.title + ": " + sh.err.Error())
		} else if sh != nil {
			title = sh.title
		}
	} else if d := m.detail; d != nil && d.req != nil {
		title = fmt.Sprintf("#%d  %s %s  ·  %s", d.id, d.req.Method, d.req.URI, humanize.Count(len(d.attempts), "attempt"))
	} else if d != nil && d.err != nil {
		title = st.Error.Render(d.err.Error())
	}
	pos := ""
	if m.viewport.TotalLineCount() > m.viewport.Height() {
		pos = st.Dim.Render(fmt.Sprintf(" %3.0f%%", m.viewport.ScrollPercent()*100))
	}
	return st.ColHeader.Render(fit(title, m.width-lipgloss.Width(pos))) + pos + "\n" + m.viewport.View() + "\n"
}

// detailHeight is the height of the detail viewport.
func (m Model) detailHeight() int {
	return max(1, m.height-headerLines-1 /* title */ -1 /* status */ -m.helpLines())
}

func (m *Model) resizeDetail() {
	m.viewport.SetWidth(m.width)
	m.viewport.SetHeight(m.detailHeight())
	m.renderDetail()
}

// renderDetail puts the detail pane's content, or the shape pane's, into the viewport.
func (m *Model) renderDetail() {
	if m.mode == modeShape {
		if m.shape != nil {
			m.viewport.SetContent(m.shape.tree)
		} else {
			m.viewport.SetContent("")
		}
		return
	}
	d := m.detail
	if d == nil || d.req == nil || m.width == 0 {
		m.viewport.SetContent("")
		return
	}
	var queued *webhook.Delivery
	for i := range m.rows {
		if m.rows[i].ID == d.id && m.rows[i].Delivery.State != "" {
			queued = &m.rows[i].Delivery
		}
	}
	m.viewport.SetContent(RenderDetail(d.req, d.attempts, queued, m.width, m.styles.Detail))
}

func (m Model) viewStatus() string {
	st := m.styles
	if m.mode == modeFilter || m.mode == modeReplayTo {
		return fit(m.prompt.View(), m.width)
	}
	var left string
	switch {
	case m.status != "" && m.isError:
		left = st.Error.Render(m.status)
	case m.status != "":
		left = st.Status.Render(m.status)
	}
	if m.newCount > 0 && m.mode == modeList {
		marker := st.Marker.Render(fmt.Sprintf("↑ %d new (g)", m.newCount))
		if left != "" {
			left = marker + "  " + left
		} else {
			left = marker
		}
	}
	var rights []string
	if m.resign {
		rights = append(rights, st.Warn.Render("re-sign on"))
	}
	if m.query != "" {
		rights = append(rights, st.Info.Render("filter: "+m.query))
	}
	right := strings.Join(rights, "  ")
	gap := m.width - lipgloss.Width(left) - lipgloss.Width(right)
	if gap < 1 {
		return fit(left, m.width)
	}
	return left + strings.Repeat(" ", gap) + right
}

func (m Model) viewHelp() string {
	var km help.KeyMap = listHelp{&m.keys}
	switch {
	case m.mode == modeFilter || m.mode == modeReplayTo:
		km = promptHelp{&m.keys}
	case m.mode == modeDetail || m.mode == modeShape:
		km = detailHelp{&m.keys}
	}
	// help truncates its short view only while an ellipsis still fits: cut every line here.
	lines := strings.Split(m.help.View(km), "\n")
	for i, l := range lines {
		lines[i] = fit(l, m.width)
	}
	return strings.Join(lines, "\n")
}

// cell pads or truncates s to exactly w display columns.
func cell(s string, w int) string {
	if w <= 0 {
		return ""
	}
	s = ansi.Truncate(strings.ReplaceAll(s, "\n", " "), w, "…")
	return s + strings.Repeat(" ", max(0, w-ansi.StringWidth(s)))
}

// cellRight is cell aligned right.
func cellRight(s string, w int) string {
	s = ansi.Truncate(s, w, "…")
	return strings.Repeat(" ", max(0, w-ansi.StringWidth(s))) + s
}

// fit truncates a line to w display columns.
func fit(s string, w int) string { return ansi.Truncate(s, max(0, w), "…") }

// thousands formats n with thousands separators.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
