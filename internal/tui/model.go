// Package tui is hookctl's terminal UI: a live list of recorded requests over a log of any
// size, a detail pane with headers, highlighted bodies and every attempt, and keys to replay,
// edit and replay, filter and copy. It reads the log and replays through small interfaces, and
// does all I/O in tea.Cmds.
package tui

import (
	"context"
	"log/slog"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/textinput"
	"charm.land/bubbles/v2/viewport"

	"github.com/hookctl/hookctl/internal/store"
	"github.com/hookctl/hookctl/internal/webhook"
)

// Source is the request log the UI reads.
type Source interface {
	List(ctx context.Context, f store.Filter) ([]webhook.Summary, error)
	Request(ctx context.Context, id int64) (*webhook.Request, error)
	Attempts(ctx context.Context, requestID int64) ([]webhook.Attempt, error)
	Count(ctx context.Context) (int64, error)
}

var _ Source = (*store.Store)(nil)

// Replayer sends recorded requests again and records the attempts.
type Replayer interface {
	// Replay sends request id to to ("" for the target of its latest forward), with a fresh
	// signature when resign is true.
	Replay(ctx context.Context, id int64, to string, resign bool) (*webhook.Attempt, error)
	// ReplayEdited records a copy of request id with body in place of its own, sends the copy
	// to to ("" for the original's target), and returns the copy's id. The original is kept.
	ReplayEdited(ctx context.Context, id int64, body []byte, to string) (int64, *webhook.Attempt, error)
}

// Info describes the listener the UI runs in front of; all empty for `hookctl inspect`.
type Info struct {
	// Ingress is the local URL senders use.
	Ingress string
	// PublicURL is the public URL, when there is one.
	PublicURL string
	// Target is where requests are forwarded; "" records only.
	Target string
	// DB is the log's path.
	DB string
}

// Config configures the UI. Zero values get defaults.
type Config struct {
	// Source is the log. Required.
	Source Source
	// Replayer replays requests; nil disables replay keys.
	Replayer Replayer
	// Events delivers the listener's events; nil for a UI over the log alone, which polls.
	Events <-chan webhook.Event
	// Info is shown in the header.
	Info Info
	// Editor is the command that edits a body; "" means vi.
	Editor string
	// PollInterval is how often the log is checked for rows written by other processes.
	// 0 means 1s; a negative value turns polling off.
	PollInterval time.Duration
	// Logger receives diagnostics (never the terminal). nil means discard.
	Logger *slog.Logger
	// Dark selects colours for a dark background.
	Dark bool
}

// mode is what the UI shows.
type mode int

const (
	modeList mode = iota
	modeDetail
	modeFilter   // the filter prompt over the list
	modeReplayTo // the replay-target prompt
	modeShape    // the inferred shape of the selected request's event type
)

// Model is the Bubble Tea model of the UI.
type Model struct {
	cfg    Config
	ctx    context.Context
	keys   keyMap
	styles Styles
	help   help.Model

	width, height int
	mode, back    mode // back: the mode a prompt returns to

	// The list is a window of rows, newest first, over a log that may hold millions: only
	// pages near the cursor are loaded.
	rows      []webhook.Summary
	cursor    int  // index in rows of the selection
	offset    int  // index in rows of the first visible row
	atTop     bool // rows[0] is the newest row that matches
	atBottom  bool // the last row is the oldest that matches
	following bool // the selection stays on the newest row until the user moves
	loading   bool
	seq       int   // sequence number of the latest window load
	pending   bool  // a refresh was asked for while a load ran
	newestID  int64 // highest id known
	newCount  int   // rows that arrived since the user moved away from the top
	total     int64 // rows in the log (unfiltered)
	filter    store.Filter
	query     string // the filter as typed

	// Session counters, from the listener's events.
	received, forwardedOK, failed int
	// ingress is the public ingress's connection state, when there is one to report.
	ingress *webhook.IngressState

	detail   *detail
	shape    *shapeMsg // the shape pane's content once loaded
	viewport viewport.Model
	prompt   textinput.Model

	status  string // a transient message for the status line
	isError bool
	resign  bool // replays get a fresh signature (s toggles it)
}

// detail is the request shown in the detail pane.
type detail struct {
	id       int64
	req      *webhook.Request
	attempts []webhook.Attempt
	err      error
}

// New returns the UI's model. ctx bounds the commands it runs.
func New(ctx context.Context, cfg Config) Model {
	if cfg.Editor == "" {
		cfg.Editor = "vi"
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	m := Model{
		cfg:       cfg,
		ctx:       ctx,
		keys:      defaultKeys(),
		styles:    DefaultStyles(cfg.Dark),
		help:      help.New(),
		following: true,
		atTop:     true,
		seq:       1, // Init's load
		loading:   true,
		viewport:  viewport.New(),
		prompt:    textinput.New(),
	}
	m.help.Styles = help.DefaultStyles(cfg.Dark)
	// A steady cursor: no blink timer running while a prompt is open.
	ps := m.prompt.Styles()
	ps.Cursor.Blink = false
	m.prompt.SetStyles(ps)
	return m
}

// pageSize is how many rows one load fetches: a few screens.
func (m Model) pageSize() int { return max(100, 3*m.listHeight()) }

// maxWindow is how many rows the list keeps loaded.
func (m Model) maxWindow() int { return 4 * m.pageSize() }

// selected returns the selected row's id, or 0.
func (m Model) selected() int64 {
	if m.mode == modeDetail || m.back == modeDetail {
		if m.detail != nil {
			return m.detail.id
		}
	}
	if m.cursor >= 0 && m.cursor < len(m.rows) {
		return m.rows[m.cursor].ID
	}
	return 0
}
