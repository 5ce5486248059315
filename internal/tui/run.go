package tui

import (
	"context"
	"errors"
	"io"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
)

// Terminal is where the UI runs.
type Terminal struct {
	In  io.Reader
	Out io.Writer
	// NoColor drops colours whatever the terminal supports (--no-color).
	NoColor bool
}

// Run runs the UI on term until the user quits or ctx ends.
func Run(ctx context.Context, cfg Config, term Terminal) error {
	opts := []tea.ProgramOption{tea.WithContext(ctx), tea.WithInput(term.In), tea.WithOutput(term.Out)}
	if term.NoColor {
		opts = append(opts, tea.WithColorProfile(colorprofile.Ascii))
	}
	cfg.Dark = true // until the terminal says otherwise
	_, err := tea.NewProgram(New(ctx, cfg), opts...).Run()
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return nil // stopped by a signal: not an error
	}
	return err
}
