package tui

import "charm.land/bubbles/v2/key"

// keyMap holds every key binding of the UI. The help footer is generated from the same
// bindings, so what it shows is what the keys do.
type keyMap struct {
	Up, Down, Top, Bottom, PageUp, PageDown key.Binding
	Open, Back                              key.Binding
	Replay, ReplayTo, Edit, Resign          key.Binding
	Filter, CopyCurl, CopyBody, Shape       key.Binding
	Help, Quit                              key.Binding
	// Prompts (filter, replay target) use these.
	Accept, Cancel key.Binding
}

func defaultKeys() keyMap {
	return keyMap{
		Up:       key.NewBinding(key.WithKeys("k", "up"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("j", "down"), key.WithHelp("↓/j", "down")),
		Top:      key.NewBinding(key.WithKeys("g", "home"), key.WithHelp("g", "newest")),
		Bottom:   key.NewBinding(key.WithKeys("G", "end"), key.WithHelp("G", "oldest")),
		PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+b"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+f", "space"), key.WithHelp("pgdn", "page down")),
		Open:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "detail")),
		Back:     key.NewBinding(key.WithKeys("esc", "backspace"), key.WithHelp("esc", "back")),
		Replay:   key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "replay")),
		ReplayTo: key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "replay to…")),
		Edit:     key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "edit & replay")),
		Resign:   key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "re-sign replays")),
		Filter:   key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		CopyCurl: key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "copy curl")),
		CopyBody: key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "copy body")),
		Shape:    key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "shape of event type")),
		Help:     key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:     key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		Accept:   key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "apply")),
		Cancel:   key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
	}
}

// listHelp is the help.KeyMap of the request list.
type listHelp struct{ k *keyMap }

func (h listHelp) ShortHelp() []key.Binding {
	return []key.Binding{h.k.Down, h.k.Up, h.k.Open, h.k.Replay, h.k.Filter, h.k.Help, h.k.Quit}
}

func (h listHelp) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{h.k.Down, h.k.Up, h.k.PageDown, h.k.PageUp, h.k.Top, h.k.Bottom},
		{h.k.Open, h.k.Filter, h.k.Replay, h.k.ReplayTo, h.k.Edit, h.k.Resign},
		{h.k.CopyCurl, h.k.CopyBody, h.k.Shape, h.k.Help, h.k.Quit},
	}
}

// detailHelp is the help.KeyMap of the detail pane.
type detailHelp struct{ k *keyMap }

func (h detailHelp) ShortHelp() []key.Binding {
	return []key.Binding{h.k.Down, h.k.Up, h.k.Back, h.k.Replay, h.k.CopyCurl, h.k.Help, h.k.Quit}
}

func (h detailHelp) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{h.k.Down, h.k.Up, h.k.PageDown, h.k.PageUp, h.k.Top, h.k.Bottom},
		{h.k.Back, h.k.Replay, h.k.ReplayTo, h.k.Edit, h.k.Resign},
		{h.k.CopyCurl, h.k.CopyBody, h.k.Shape, h.k.Help, h.k.Quit},
	}
}

// promptHelp is the help.KeyMap while a prompt is open.
type promptHelp struct{ k *keyMap }

func (h promptHelp) ShortHelp() []key.Binding  { return []key.Binding{h.k.Accept, h.k.Cancel} }
func (h promptHelp) FullHelp() [][]key.Binding { return [][]key.Binding{h.ShortHelp()} }
