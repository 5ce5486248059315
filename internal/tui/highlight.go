package tui

import (
	"strings"

	"github.com/alecthomas/chroma/v2"
	"github.com/alecthomas/chroma/v2/formatters"
	"github.com/alecthomas/chroma/v2/lexers"
	"github.com/alecthomas/chroma/v2/styles"
	"github.com/charmbracelet/x/ansi"
)

// maxHighlight is how much of a pretty-printed JSON body is syntax-highlighted; the rest is
// shown plain, so that a very large body stays cheap to render. chroma's regexp-based JSON lexer
// colours about 0.8 MB/s on one core (BenchmarkHighlightJSON), so this costs under 100ms; a
// 256KiB cap measured 300ms.
const maxHighlight = 64 << 10

// jsonHighlighter colours pretty-printed JSON for a terminal. It is the only user of chroma in
// the package. Its fields are set once by newJSONHighlighter and never changed; a nil
// *jsonHighlighter highlights nothing.
type jsonHighlighter struct {
	lexer     chroma.Lexer
	style     *chroma.Style
	formatter chroma.Formatter
}

// newJSONHighlighter returns a highlighter whose colours read on a dark or a light background,
// or nil when chroma has no JSON lexer.
func newJSONHighlighter(dark bool) *jsonHighlighter {
	lexer := lexers.Get("json")
	if lexer == nil {
		return nil
	}
	name := "github"
	if dark {
		name = "monokai"
	}
	// terminal256 always emits colour: the program downsamples it to the terminal's profile
	// and drops it for NO_COLOR.
	return &jsonHighlighter{lexer: chroma.Coalesce(lexer), style: styles.Get(name), formatter: formatters.TTY256}
}

// highlightJSON returns pretty with ANSI colours added. Only the first maxHighlight bytes (up
// to a line break) are coloured. Each output line carries its own colours and resets, and
// stripping the colours gives back pretty exactly; on any chroma error, or if that would not
// hold, pretty is returned unchanged.
func (h *jsonHighlighter) highlightJSON(pretty string) string {
	if h == nil || pretty == "" {
		return pretty
	}
	head, tail := pretty, ""
	if len(pretty) > maxHighlight {
		i := strings.LastIndexByte(pretty[:maxHighlight], '\n')
		if i <= 0 {
			return pretty
		}
		head, tail = pretty[:i], pretty[i:]
	}
	it, err := h.lexer.Tokenise(nil, head)
	if err != nil {
		return pretty
	}
	var b strings.Builder
	b.Grow(len(head) * 3)
	if err := h.formatter.Format(&b, h.style, it); err != nil {
		return pretty
	}
	out := b.String()
	if ansi.Strip(out) != head {
		return pretty
	}
	return out + tail
}
