package tui

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/hookctl/hookctl/internal/humanize"
	"github.com/hookctl/hookctl/internal/webhook"
)

// DetailStyles are the styles of the detail pane. The zero value renders plain text without
// syntax highlighting; DefaultDetailStyles also sets up JSON highlighting, which a copy of its
// result keeps when other fields are changed.
type DetailStyles struct {
	// Title styles section titles: Headers, Body, Attempts.
	Title lipgloss.Style
	// Label styles field labels such as "Received" and "Signature".
	Label lipgloss.Style
	// Dim styles secondary text: the protocol, sizes, notes, hex offsets.
	Dim lipgloss.Style
	// Method styles the request method and attempt headings.
	Method lipgloss.Style
	// HeaderName styles header names and form keys.
	HeaderName lipgloss.Style
	// Success styles 2xx statuses and valid signatures.
	Success lipgloss.Style
	// Redirect styles 3xx statuses.
	Redirect lipgloss.Style
	// Warning styles 4xx statuses and stale signatures.
	Warning lipgloss.Style
	// Error styles 5xx statuses, failed attempts, invalid signatures and rejections.
	Error lipgloss.Style

	json *jsonHighlighter // nil: JSON is shown without syntax colours
}

// DefaultDetailStyles returns the detail styles for a dark or light background.
func DefaultDetailStyles(dark bool) DetailStyles {
	ld := lipgloss.LightDark(dark)
	c := lipgloss.Color
	return DetailStyles{
		Title:      lipgloss.NewStyle().Bold(true).Foreground(ld(c("#5A56E0"), c("#8C8CFF"))),
		Label:      lipgloss.NewStyle().Foreground(ld(c("#6C6C6C"), c("#9E9E9E"))),
		Dim:        lipgloss.NewStyle().Foreground(ld(c("#8A8A8A"), c("#767676"))),
		Method:     lipgloss.NewStyle().Bold(true),
		HeaderName: lipgloss.NewStyle().Foreground(ld(c("#0069A8"), c("#5FAFFF"))),
		Success:    lipgloss.NewStyle().Foreground(ld(c("#00875F"), c("#5FD787"))),
		Redirect:   lipgloss.NewStyle().Foreground(ld(c("#008787"), c("#5FD7D7"))),
		Warning:    lipgloss.NewStyle().Foreground(ld(c("#AF5F00"), c("#FFD75F"))),
		Error:      lipgloss.NewStyle().Foreground(ld(c("#D70000"), c("#FF5F5F"))),
		json:       newJSONHighlighter(dark),
	}
}

// Layout constants, in columns.
const (
	detailLabelWidth = 11  // "Signature" and two spaces
	detailMinText    = 10  // indentation is given up before text gets narrower than this
	detailTabWidth   = 4   // tab stops in bodies and header values
	detailHexLimit   = 512 // bytes of a binary body shown in the hex dump
)

// RenderDetail renders a request and its attempts as the scrollable content of the detail pane,
// wrapped to width columns: no line is wider than width, counted in terminal cells. Nothing is
// cut except the hex dump of a binary body, which shows its first 512 bytes. A width below 1
// means no wrapping. Times are shown in local time. The result has no trailing newline. It is
// pure: no I/O; rendering a large body costs time in proportion to its size, so callers should
// keep the result for as long as the request, its attempts and the width stay the same.
//
// d is the request's background delivery (listen --ack), or nil when it was not queued.
func RenderDetail(r *webhook.Request, attempts []webhook.Attempt, d *webhook.Delivery, width int, st DetailStyles) string {
	w := &detailWriter{width: width, st: st}
	if r == nil {
		w.wrapped(0, 0, st.Dim.Render("No request selected."))
		return w.String()
	}
	w.out.Grow(2*len(r.Body) + 4096)
	w.summary(r)
	if d != nil && d.State != "" {
		w.field(0, "Queue", w.queueText(d))
	}

	w.blank()
	w.title("Headers", fmt.Sprintf("(%d)", len(r.Header)))
	w.headers(r.Header, 2)
	if len(r.Header) == 0 {
		w.wrapped(2, 2, st.Dim.Render("(none)"))
	}

	w.blank()
	w.title("Body", detailBodyInfo(r.Header.Get("Content-Type"), r.BodySize))
	switch {
	case r.Body == nil && r.Rejected != "":
		w.wrapped(2, 2, st.Dim.Render("Not recorded, because the request was rejected: "+visibleText(r.Rejected)))
	case r.Body == nil && r.BodySize > 0:
		w.wrapped(2, 2, st.Dim.Render("Not recorded."))
	default:
		w.body(r.Body, r.BodySize, r.Header.Get("Content-Type"), 2)
	}

	w.blank()
	if len(attempts) == 0 {
		w.title("Attempts", "(0)")
		msg := "None: the request was recorded but not forwarded."
		if r.Rejected != "" {
			msg = "None: the request was recorded but not forwarded, because it was rejected."
		}
		w.wrapped(2, 2, st.Dim.Render(msg))
		return w.String()
	}
	w.title("Attempts", fmt.Sprintf("(%d)", len(attempts)))
	sorted := slices.Clone(attempts)
	slices.SortStableFunc(sorted, func(a, b webhook.Attempt) int {
		return cmp.Or(a.StartedAt.Compare(b.StartedAt), cmp.Compare(a.ID, b.ID))
	})
	for i := range sorted {
		if i > 0 {
			w.blank()
		}
		w.attempt(i+1, &sorted[i])
	}
	return w.String()
}

// summary writes the request line and the request's fields.
func (w *detailWriter) summary(r *webhook.Request) {
	st := w.st
	line := st.Method.Render(visibleText(r.Method)) + " " + visibleText(r.URI)
	if r.Proto != "" {
		line += " " + st.Dim.Render(visibleText(r.Proto))
	}
	w.wrapped(0, utf8.RuneCountInString(r.Method)+1, line)

	w.field(0, "ID", strconv.FormatInt(r.ID, 10))
	w.field(0, "Received", detailTime(r.ReceivedAt))
	from := visibleText(r.Ingress)
	if r.RemoteAddr != "" {
		from = strings.TrimSpace(from + " from " + visibleText(r.RemoteAddr))
	}
	w.field(0, "Ingress", from)
	if r.Host != "" && len(r.Header.Values("Host")) == 0 {
		w.field(0, "Host", visibleText(r.Host))
	}
	if r.Provider != "" {
		w.field(0, "Provider", visibleText(r.Provider))
	}
	if r.EventType != "" {
		w.field(0, "Event", visibleText(r.EventType))
	}
	if r.DeliveryID != "" {
		w.field(0, "Event ID", visibleText(r.DeliveryID))
	}
	if r.Signature != "" || r.SignatureReason != "" {
		sig := w.signatureStyle(r.Signature).Render(visibleText(r.Signature))
		if r.SignatureReason != "" {
			sig = strings.TrimSpace(sig + " (" + visibleText(r.SignatureReason) + ")")
		}
		w.field(0, "Signature", sig)
	}
	if r.Rejected != "" {
		w.field(0, "Rejected", st.Error.Render(visibleText(r.Rejected)))
	}
	if r.DuplicateOf != 0 {
		w.field(0, "Duplicate", fmt.Sprintf("of #%d: the same event, delivered again", r.DuplicateOf))
	}
}

// queueText describes a background delivery: its state, attempts, when it is due, where to.
func (w *detailWriter) queueText(d *webhook.Delivery) string {
	st := w.st
	var state string
	switch d.Status() {
	case webhook.DeliveryPending:
		state = st.Dim.Render("queued")
	case webhook.DeliveryRetrying:
		state = st.Error.Render("retrying") + ", next attempt at " + detailTime(d.NextAt)
	case webhook.DeliveryGivenUp:
		state = st.Error.Render("given up")
	default:
		state = visibleText(d.Status())
	}
	n := "1 attempt"
	if d.Attempts != 1 {
		n = strconv.Itoa(d.Attempts) + " attempts"
	}
	return state + " · " + n + " · to " + visibleText(d.Target)
}

// attempt writes one attempt: its heading, target, outcome, and the response.
func (w *detailWriter) attempt(n int, a *webhook.Attempt) {
	st := w.st
	head := st.Method.Render(fmt.Sprintf("#%d %s", n, visibleText(string(a.Kind))))
	if !a.StartedAt.IsZero() {
		head += "  " + st.Dim.Render(detailTime(a.StartedAt))
	}
	w.wrapped(2, 4, head)
	w.field(4, "Target", visibleText(a.Target))
	switch {
	case a.Status != 0:
		w.field(4, "Status", detailStatusStyle(st, a.Status).Render(httpStatusText(a.Status)))
		if a.Error != "" {
			w.field(4, "Error", st.Error.Render(visibleText(a.Error)))
		}
	case a.Error != "":
		w.field(4, "Status", st.Error.Render("failed: "+visibleText(a.Error)))
	default:
		w.field(4, "Status", st.Error.Render("failed: no response"))
	}
	if a.Duration > 0 {
		w.field(4, "Duration", humanize.Duration(a.Duration))
	}
	if a.Status == 0 {
		return
	}
	w.wrapped(4, 6, st.Title.Render("Response headers")+" "+st.Dim.Render(fmt.Sprintf("(%d)", len(a.Header))))
	w.headers(a.Header, 6)
	if len(a.Header) == 0 {
		w.wrapped(6, 6, st.Dim.Render("(none)"))
	}
	ct := a.Header.Get("Content-Type")
	w.wrapped(4, 6, st.Title.Render("Response body")+" "+st.Dim.Render(detailBodyInfo(ct, a.BodySize)))
	if len(a.Body) == 0 && a.BodySize > 0 {
		w.wrapped(6, 6, st.Dim.Render("Not recorded."))
		return
	}
	w.body(a.Body, a.BodySize, ct, 6)
}

// headers writes header fields as "Name: value" lines in their stored order and case.
func (w *detailWriter) headers(h webhook.Headers, indent int) {
	for _, f := range h {
		w.wrapped(indent, indent+2, w.st.HeaderName.Render(visibleText(f.Name))+": "+visibleText(f.Value))
	}
}

// body writes a request or response body: JSON pretty-printed and highlighted, a form as a
// table, text as it is, anything else as a hex dump. size is the full size of the body, which
// may be more than was recorded.
func (w *detailWriter) body(body []byte, size int64, contentType string, indent int) {
	st := w.st
	media, _, _ := mime.ParseMediaType(contentType)
	switch trimmed := bytes.TrimLeft(body, " \t\r\n"); {
	case len(body) == 0:
		w.wrapped(indent, indent, st.Dim.Render("(empty)"))
	case len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') && json.Valid(body):
		w.json(body, indent)
	case media == "application/x-www-form-urlencoded" && w.form(body, indent):
		// Written as a table; a body that is not a valid form falls through to the cases below.
	case json.Valid(body):
		w.json(body, indent)
	case utf8.Valid(body) && bytes.IndexByte(body, 0) < 0:
		if isJSONMediaType(media) {
			w.wrapped(indent, indent, st.Dim.Render("Not valid JSON; shown as text:"))
		}
		w.text(string(body), indent)
	default:
		w.hexDump(body, media, indent)
	}
	if n := int64(len(body)); n > 0 && n < size {
		w.wrapped(indent, indent, st.Dim.Render(fmt.Sprintf("Only the first %s of %s were recorded.",
			detailSize(n), detailSize(size))))
	}
}

// json writes a JSON document indented without re-encoding its tokens, highlighted.
func (w *detailWriter) json(body []byte, indent int) {
	var buf bytes.Buffer
	buf.Grow(len(body) + len(body)/2)
	if err := json.Indent(&buf, body, "", "  "); err != nil {
		w.text(string(body), indent)
		return
	}
	// json.Indent copies trailing whitespace from the source.
	plain := strings.Split(strings.TrimRight(buf.String(), " \t\r\n"), "\n")
	for i, line := range plain {
		// Strings may hold C1 and bidi controls; no other control characters survive json.Valid.
		plain[i] = visibleText(line)
	}
	var hl []string
	if w.st.json != nil {
		// Join only what highlightJSON will colour: a very large body stays cheap.
		n, size := 0, 0
		for n < len(plain) && size+len(plain[n])+1 <= maxHighlight {
			size += len(plain[n]) + 1
			n++
		}
		if n > 0 {
			hl = strings.Split(w.st.json.highlightJSON(strings.Join(plain[:n], "\n")), "\n")
			if len(hl) != n {
				hl = nil
			}
		}
	}
	for i, line := range plain {
		text := line
		if i < len(hl) {
			text = hl[i]
		}
		w.bodyLine(indent, countLeadingSpaces(line), 2, text)
	}
}

// form writes a form-encoded body as a key/value table, keys in order of appearance and
// values decoded. It reports false, writing nothing, when body is not a valid form.
func (w *detailWriter) form(body []byte, indent int) bool {
	type pair struct{ key, value string }
	var pairs []pair
	for part := range strings.SplitSeq(string(body), "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		key, err1 := url.QueryUnescape(k)
		value, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			return false
		}
		pairs = append(pairs, pair{visibleText(key), value})
	}
	if len(pairs) == 0 {
		return false
	}
	st := w.st
	ind := w.indent(indent)
	keyCol := 0
	for _, p := range pairs {
		keyCol = max(keyCol, ansi.StringWidth(p.key))
	}
	stacked := false
	if w.width > 0 {
		keyCol = min(keyCol, max(8, (w.width-ind)/3))
		stacked = w.width-ind-keyCol-2 < detailMinText
	}
	valueCol := ind + keyCol + 2
	for _, p := range pairs {
		key := st.HeaderName.Render(p.key)
		kw := ansi.StringWidth(p.key)
		trimmed := strings.TrimSpace(p.value)
		isJSON := trimmed != "" && (trimmed[0] == '{' || trimmed[0] == '[') && json.Valid([]byte(trimmed))
		var values []string
		if !isJSON && p.value != "" {
			values = strings.Split(p.value, "\n")
			for i, v := range values {
				values[i] = visibleText(v)
			}
		}
		switch {
		case isJSON:
			w.wrapped(ind, ind+2, key+"  "+st.Dim.Render("(JSON)"))
			w.json([]byte(trimmed), ind+2)
			continue
		case len(values) == 0:
			w.wrapped(ind, ind+2, key)
			continue
		case stacked:
			w.wrapped(ind, ind+2, key)
			for _, v := range values {
				w.wrapped(ind+2, ind+2, v)
			}
			continue
		case kw > keyCol:
			w.wrapped(ind, ind+2, key)
		default:
			first := blanks(ind) + key + blanks(keyCol-kw+2)
			w.hanging(first, valueCol, values[0])
			values = values[1:]
		}
		for _, v := range values {
			w.wrapped(valueCol, valueCol, v)
		}
	}
	return true
}

// text writes a text body line by line, tabs expanded and control characters made visible.
func (w *detailWriter) text(s string, indent int) {
	s = strings.TrimSuffix(s, "\n")
	for line := range strings.SplitSeq(s, "\n") {
		line = visibleText(line)
		w.bodyLine(indent, countLeadingSpaces(line), 0, line)
	}
}

// hexDump writes the first detailHexLimit bytes of body as offset, hex and ASCII columns, with as
// many bytes a row as fit the width.
func (w *detailWriter) hexDump(body []byte, mediaType string, indent int) {
	st := w.st
	what := "Binary data:"
	if isTextMediaType(mediaType) && !utf8.Valid(body) {
		what = "Not valid UTF-8 text:"
	}
	w.wrapped(indent, indent, st.Dim.Render(what))
	ind := w.indent(indent)
	// As many bytes a row as fit, in the roomy layout if it fits and a compact one otherwise.
	perRow, sep, bar := 16, "  ", "|"
	for avail := w.width - ind; w.width > 0 && perRow > 1; perRow /= 2 {
		if hexRowWidth(perRow, false) <= avail {
			break
		}
		if hexRowWidth(perRow, true) <= avail {
			sep, bar = " ", ""
			break
		}
	}
	shown := body[:min(len(body), detailHexLimit)]
	var hexb, asc strings.Builder
	for off := 0; off < len(shown); off += perRow {
		row := shown[off:min(off+perRow, len(shown))]
		hexb.Reset()
		asc.Reset()
		for i := range perRow {
			if i > 0 {
				hexb.WriteByte(' ')
			}
			if i == 8 {
				hexb.WriteByte(' ')
			}
			if i >= len(row) {
				hexb.WriteString("  ")
				continue
			}
			fmt.Fprintf(&hexb, "%02x", row[i])
			if c := row[i]; c >= 0x20 && c < 0x7f {
				asc.WriteByte(c)
			} else {
				asc.WriteByte('.')
			}
		}
		line := st.Dim.Render(fmt.Sprintf("%04x", off)) + sep + hexb.String() + sep +
			st.Dim.Render(bar+asc.String()+bar)
		w.wrapped(ind, ind, line)
	}
	if rest := len(body) - len(shown); rest > 0 {
		w.wrapped(ind, ind, st.Dim.Render(fmt.Sprintf("… %d more bytes", rest)))
	}
}

// hexRowWidth is the width of a hex dump row of n bytes: "0000  89 50 4e 47  |.PNG|", or
// "0000 89 50 4e 47 .PNG" when compact.
func hexRowWidth(n int, compact bool) int {
	w := 4 + 2 + 3*n - 1 + 2 + n + 2
	if compact {
		w = 4 + 1 + 3*n - 1 + 1 + n
	}
	if n > 8 {
		w++
	}
	return w
}

// detailWriter accumulates the lines of the detail pane.
type detailWriter struct {
	out       strings.Builder
	lines     int
	lastEmpty bool
	width     int // < 1: no wrapping
	st        DetailStyles
	wrap      cellWrapper
}

func (w *detailWriter) String() string { return w.out.String() }

// add adds a line: prefix and text, or an empty line when text is "".
func (w *detailWriter) add(prefix, text string) {
	if w.lines > 0 {
		w.out.WriteByte('\n')
	}
	if text != "" {
		w.out.WriteString(prefix)
		w.out.WriteString(text)
	}
	w.lines++
	w.lastEmpty = text == ""
}

// blank adds an empty line, unless the last line is already empty.
func (w *detailWriter) blank() {
	if w.lines > 0 && !w.lastEmpty {
		w.add("", "")
	}
}

// title adds a section title followed by dim details.
func (w *detailWriter) title(name, info string) {
	s := w.st.Title.Render(name)
	if info != "" {
		s += " " + w.st.Dim.Render(info)
	}
	w.wrapped(0, 2, s)
}

// field adds a "Label      value" line; continuation lines of the value line up with its
// start. When the pane is too narrow for that, the value goes under the label.
func (w *detailWriter) field(indent int, label, value string) {
	ind := w.indent(indent)
	if w.width < 1 || w.width-ind-detailLabelWidth >= detailMinText+2 {
		if value == "" {
			w.add(blanks(ind), w.st.Label.Render(label))
			return
		}
		w.hanging(blanks(ind)+w.st.Label.Render(label)+blanks(detailLabelWidth-len(label)), ind+detailLabelWidth, value)
		return
	}
	w.wrapped(ind, ind, w.st.Label.Render(label))
	if value != "" {
		w.wrapped(ind+2, ind+2, value)
	}
}

// hanging adds text wrapped to start after first (a prefix exactly col columns wide) and to
// continue at column col.
func (w *detailWriter) hanging(first string, col int, text string) {
	avail := w.width - col
	if w.width < 1 {
		avail = 0
	}
	prefix, rest := first, blanks(col)
	for line := range strings.SplitSeq(w.wrap.wrap(text, avail, avail), "\n") {
		w.add(prefix, line)
		prefix = rest
	}
}

// bodyLine adds one line of a body at indent, keeping its own leading spaces (lead, reduced
// when the pane is narrow) and indenting its continuation lines by hang more.
func (w *detailWriter) bodyLine(indent, lead, hang int, text string) {
	ind := w.indent(indent)
	if w.width < 1 {
		w.add(blanks(ind+lead), strings.TrimLeft(text, " "))
		return
	}
	avail := w.width - ind
	lead = min(lead, avail/2)
	hang = max(0, min(hang, avail-lead-detailMinText))
	w.wrapAt(ind+lead, ind+lead+hang, text)
}

// wrapped adds text wrapped to the width, its first line indented by first columns and the
// others by rest; both are reduced when the pane is narrow.
func (w *detailWriter) wrapped(first, rest int, text string) {
	w.wrapAt(w.indent(first), w.indent(rest), text)
}

func (w *detailWriter) wrapAt(first, rest int, text string) {
	if w.width < 1 {
		w.add(blanks(first), strings.Trim(text, " "))
		return
	}
	prefix := blanks(first)
	for line := range strings.SplitSeq(w.wrap.wrap(text, w.width-first, w.width-rest), "\n") {
		w.add(prefix, line)
		prefix = blanks(rest)
	}
}

// indent returns n, reduced so that at least detailMinText columns are left for text.
func (w *detailWriter) indent(n int) int {
	if w.width < 1 {
		return n
	}
	return max(0, min(n, w.width-detailMinText))
}

func (w *detailWriter) signatureStyle(sig string) lipgloss.Style {
	switch sig {
	case webhook.SignatureValid:
		return w.st.Success
	case webhook.SignatureInvalid:
		return w.st.Error
	case webhook.SignatureStale:
		return w.st.Warning
	}
	return w.st.Dim
}

// cellWrapper wraps lines of text to a width in terminal cells. It keeps its buffer between
// calls; the zero value is ready to use.
type cellWrapper struct {
	text          string
	w1, w2        int
	buf           []byte // the lines so far, separated by '\n'
	lineStart     int    // where the current line starts in buf
	curW          int    // width of the current line
	first         bool   // the current line is the first
	ws, we, wordW int    // the word not yet placed: text[ws:we], wordW wide
	gs, ge, gapW  int    // the spaces and escapes before it: text[gs:ge], gapW wide
}

// wrap breaks one line of text into lines at most w1 columns wide for the first and w2 for the
// others, measured in terminal cells, and returns them joined by newlines. text holds no
// newlines or control characters other than the escape sequences of styles, which are closed
// at the end of each line and reopened on the next. It breaks at spaces, which it drops, and
// inside words longer than a line. Leading and trailing spaces are dropped; a line holding
// nothing visible is empty. w1 or w2 below 1 means no limit.
func (c *cellWrapper) wrap(text string, w1, w2 int) string {
	hasEsc := strings.IndexByte(text, ansi.ESC) >= 0
	if !hasEsc {
		text = strings.Trim(text, " ")
		if isPrintableASCII(text) && len(text) <= w1 {
			return text
		}
	}
	if w1 < 1 || w2 < 1 {
		return strings.Trim(text, " ")
	}
	*c = cellWrapper{text: text, w1: w1, w2: w2, buf: c.buf[:0], first: true}
	var state byte
	for i := 0; i < len(text); {
		b := text[i]
		switch {
		case b == ' ':
			c.flushWord()
			if c.ge == c.gs {
				c.gs = i
			}
			c.ge, c.gapW = i+1, c.gapW+1
			i++
			continue
		case b > ' ' && b < 0x7f:
			c.addWord(i, i+1, 1)
			i++
			continue
		}
		seq, width, n, newState := ansi.DecodeSequence(text[i:], state, nil)
		if n <= 0 {
			n = 1
		}
		state = newState
		if width == 0 && seq != "" && seq[0] == ansi.ESC && c.we == c.ws {
			// An escape sequence between words belongs to the gap.
			if c.ge == c.gs {
				c.gs = i
			}
			c.ge = i + n
		} else {
			c.addWord(i, i+n, width)
		}
		i += n
	}
	c.flushWord()
	c.dropGap()
	c.endLine()
	out := string(c.buf[:len(c.buf)-1])
	if hasEsc && strings.IndexByte(out, '\n') >= 0 {
		// Close styles at each line end and reopen them on the next line, so that every line
		// renders correctly on its own.
		var b strings.Builder
		ww := lipgloss.NewWrapWriter(&b)
		_, _ = io.WriteString(ww, out)
		_ = ww.Close()
		out = b.String()
	}
	return out
}

func (c *cellWrapper) addWord(start, end, width int) {
	if c.we == c.ws {
		c.ws = start
	}
	c.we, c.wordW = end, c.wordW+width
}

func (c *cellWrapper) capacity() int {
	if c.first {
		return c.w1
	}
	return c.w2
}

// flushWord places the pending gap and word on the current line, or on new lines.
func (c *cellWrapper) flushWord() {
	if c.we == c.ws {
		return
	}
	switch {
	case c.curW == 0:
		// Spaces at the start of a line are dropped.
		c.dropGap()
	case c.curW+c.gapW+c.wordW <= c.capacity():
		c.writeGap()
	case c.wordW > c.w2 && c.curW+c.gapW < c.capacity():
		// The word needs breaking anyway: start it here rather than on a new line.
		c.writeGap()
	default:
		c.endLine()
		c.dropGap()
	}
	word := c.text[c.ws:c.we]
	if c.curW+c.wordW <= c.capacity() {
		c.buf = append(c.buf, word...)
		c.curW += c.wordW
	} else {
		c.breakWord(word)
	}
	c.ws, c.we, c.wordW = 0, 0, 0
}

// breakWord places a word that does not fit on one line, grapheme by grapheme.
func (c *cellWrapper) breakWord(word string) {
	var state byte
	for len(word) > 0 {
		seq, width, n, newState := ansi.DecodeSequence(word, state, nil)
		if n <= 0 {
			n, seq = 1, word[:1]
		}
		state, word = newState, word[n:]
		if width == 0 {
			c.buf = append(c.buf, seq...)
			continue
		}
		capa := c.capacity()
		if c.curW > 0 && c.curW+width > capa {
			c.endLine()
			capa = c.capacity()
		}
		if width > capa {
			// A wide character in a pane narrower than it.
			seq, width = strings.Repeat("…", capa), capa
		}
		c.buf = append(c.buf, seq...)
		c.curW += width
	}
}

func (c *cellWrapper) writeGap() {
	c.buf = append(c.buf, c.text[c.gs:c.ge]...)
	c.curW += c.gapW
	c.gs, c.ge, c.gapW = 0, 0, 0
}

// dropGap drops the pending spaces but keeps their escape sequences.
func (c *cellWrapper) dropGap() {
	gap := c.text[c.gs:c.ge]
	c.gs, c.ge, c.gapW = 0, 0, 0
	for {
		i := strings.IndexByte(gap, ansi.ESC)
		if i < 0 {
			return
		}
		seq, _, n, _ := ansi.DecodeSequence(gap[i:], 0, nil)
		c.buf = append(c.buf, seq...)
		gap = gap[i+max(n, 1):]
	}
}

// endLine ends the current line; one with nothing visible is left empty.
func (c *cellWrapper) endLine() {
	if c.curW == 0 {
		c.buf = c.buf[:c.lineStart]
	}
	c.buf = append(c.buf, '\n')
	c.lineStart, c.curW, c.first = len(c.buf), 0, false
}

// isPrintableASCII reports whether s holds only printable ASCII, so that its width is its length.
func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// visibleText makes s safe and visible on one terminal line: control characters become their
// Unicode control pictures (␍, ␀, ␛), C1 and bidirectional controls and invalid UTF-8 bytes
// become escapes (\u202e, \xff), and tabs are expanded to stops every detailTabWidth columns.
func visibleText(s string) string {
	if isPrintableASCII(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	col, seg := 0, 0 // column reached at the last tab, and where the text after it starts in b
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\t':
			col += ansi.StringWidth(b.String()[seg:])
			n := detailTabWidth - col%detailTabWidth
			b.WriteString(blanks(n))
			col += n
			seg = b.Len()
		case r < 0x20:
			b.WriteRune(0x2400 + r)
		case r == 0x7f:
			b.WriteRune('\u2421')
		case r < 0xa0 && r >= 0x80, isInvisibleControl(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// isInvisibleControl reports whether r changes text direction or breaks lines without showing.
func isInvisibleControl(r rune) bool {
	switch {
	case r == 0x061c, r == 0x200e, r == 0x200f, r == 0xfeff:
		return true
	case r >= 0x2028 && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

func countLeadingSpaces(s string) int { return len(s) - len(strings.TrimLeft(s, " ")) }

func blanks(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat(" ", n)
}

func isJSONMediaType(media string) bool {
	return media == "application/json" || strings.HasSuffix(media, "+json")
}

// isTextMediaType reports whether a body of this media type should be text.
func isTextMediaType(media string) bool {
	switch {
	case strings.HasPrefix(media, "text/"), isJSONMediaType(media), strings.HasSuffix(media, "+xml"):
		return true
	}
	switch media {
	case "application/xml", "application/x-www-form-urlencoded", "application/javascript":
		return true
	}
	return false
}

// detailBodyInfo describes a body in a title: "(application/json, 312 bytes)".
func detailBodyInfo(contentType string, size int64) string {
	if contentType == "" {
		return "(" + detailSize(size) + ")"
	}
	return "(" + visibleText(contentType) + ", " + detailSize(size) + ")"
}

func detailStatusStyle(st DetailStyles, code int) lipgloss.Style {
	switch {
	case code >= 500:
		return st.Error
	case code >= 400:
		return st.Warning
	case code >= 300:
		return st.Redirect
	case code >= 200:
		return st.Success
	}
	return st.Dim
}

// httpStatusText renders a status code with its reason phrase: "200 OK".
func httpStatusText(code int) string {
	if t := http.StatusText(code); t != "" {
		return strconv.Itoa(code) + " " + t
	}
	return strconv.Itoa(code)
}

// detailTime renders t in local time to the millisecond.
func detailTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05.000 MST")
}

// detailSize renders a byte count: "1 byte", "312 bytes", "1.5KiB", "25MiB".
func detailSize(n int64) string {
	switch {
	case n == 1:
		return "1 byte"
	case n < 1<<10:
		return strconv.FormatInt(n, 10) + " bytes"
	}
	return humanize.Size(n)
}
