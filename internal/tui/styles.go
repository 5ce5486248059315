package tui

import (
	"charm.land/lipgloss/v2"
)

// Styles are the UI's styles. The program downsamples colours to what the terminal supports
// and drops them under NO_COLOR.
type Styles struct {
	Title     lipgloss.Style
	Header    lipgloss.Style
	Dim       lipgloss.Style
	Good      lipgloss.Style
	Warn      lipgloss.Style
	Bad       lipgloss.Style
	Info      lipgloss.Style
	ColHeader lipgloss.Style
	Selected  lipgloss.Style
	Marker    lipgloss.Style
	Rule      lipgloss.Style
	Status    lipgloss.Style
	Error     lipgloss.Style
	Detail    DetailStyles
}

// DefaultStyles returns the styles for a dark or light background.
func DefaultStyles(dark bool) Styles {
	ld := lipgloss.LightDark(dark)
	return Styles{
		Title:     lipgloss.NewStyle().Bold(true).Foreground(ld(lipgloss.Color("#5A3FC0"), lipgloss.Color("#B9A6FF"))),
		Header:    lipgloss.NewStyle().Foreground(ld(lipgloss.Color("#333333"), lipgloss.Color("#DDDDDD"))),
		Dim:       lipgloss.NewStyle().Foreground(ld(lipgloss.Color("#888888"), lipgloss.Color("#777777"))),
		Good:      lipgloss.NewStyle().Foreground(ld(lipgloss.Color("#1A7F37"), lipgloss.Color("#3FB950"))),
		Warn:      lipgloss.NewStyle().Foreground(ld(lipgloss.Color("#9A6700"), lipgloss.Color("#D29922"))),
		Bad:       lipgloss.NewStyle().Foreground(ld(lipgloss.Color("#CF222E"), lipgloss.Color("#F85149"))),
		Info:      lipgloss.NewStyle().Foreground(ld(lipgloss.Color("#0969DA"), lipgloss.Color("#58A6FF"))),
		ColHeader: lipgloss.NewStyle().Bold(true).Foreground(ld(lipgloss.Color("#555555"), lipgloss.Color("#AAAAAA"))),
		Selected:  lipgloss.NewStyle().Bold(true).Reverse(true),
		Marker:    lipgloss.NewStyle().Bold(true).Foreground(ld(lipgloss.Color("#9A6700"), lipgloss.Color("#E3B341"))),
		Rule:      lipgloss.NewStyle().Foreground(ld(lipgloss.Color("#D0D7DE"), lipgloss.Color("#30363D"))),
		Status:    lipgloss.NewStyle().Foreground(ld(lipgloss.Color("#333333"), lipgloss.Color("#C9D1D9"))),
		Error:     lipgloss.NewStyle().Bold(true).Foreground(ld(lipgloss.Color("#CF222E"), lipgloss.Color("#F85149"))),
		Detail:    DefaultDetailStyles(dark),
	}
}
