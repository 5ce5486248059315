package tui

import "github.com/hookctl/hookctl/internal/webhook"

// Messages carry the results of the UI's commands back into Update.

// pageDir says which page of the list a rowsMsg holds.
type pageDir int

const (
	pageNewest  pageDir = iota // the newest rows: replaces the window
	pageOldest                 // the oldest rows: replaces the window
	pageOlder                  // rows below the window
	pageNewer                  // rows above the window
	pageRefresh                // the window's own rows again, with fresh outcomes
)

type rowsMsg struct {
	dir  pageDir
	seq  int // the load it answers; stale answers are dropped
	rows []webhook.Summary
	err  error
}

type countMsg struct {
	total int64
	err   error
}

type detailMsg struct {
	id       int64
	req      *webhook.Request
	attempts []webhook.Attempt
	err      error
}

type eventMsg struct{ ev webhook.Event }

type eventsClosedMsg struct{}

type tickMsg struct{}

type newerMsg struct {
	after int64 // the newest id known when the poll started
	n     int   // rows found beyond it (at most one page)
	maxID int64 // the highest id found
	err   error
}

type replayMsg struct {
	id      int64 // the request that was replayed
	newID   int64 // for an edited copy: the new request's id
	attempt *webhook.Attempt
	err     error
}

type editReadyMsg struct {
	id   int64
	path string
	body []byte
	err  error
}

type editDoneMsg struct {
	id   int64
	path string
	body []byte
	err  error
}

type copyMsg struct {
	what string
	text string
	err  error
}

type shapeMsg struct {
	title string
	tree  string
	err   error
}
