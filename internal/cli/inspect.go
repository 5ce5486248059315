package cli

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/hookctl/hookctl/internal/forward"
	"github.com/hookctl/hookctl/internal/tui"
)

func newInspectCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "inspect",
		Short: "Browse, inspect and replay the recorded requests in the terminal UI",
		Long: `Open the terminal UI over the log without listening: browse every recorded request,
inspect headers, bodies and attempts, filter, and replay. Requests recorded meanwhile by a
running 'hookctl listen' appear as they arrive.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !g.env.OutIsTTY {
				return errors.New("inspect needs a terminal; use 'hookctl requests list' and 'requests show' in scripts")
			}
			ctx := cmd.Context()
			log, closeLog, err := g.sessionLogger(true)
			if err != nil {
				return err
			}
			defer closeLog()
			db, err := g.openLog(ctx, log, false)
			if err != nil {
				return err
			}
			defer db.Close()
			fwd := forward.New(forward.Config{})
			defer fwd.Close()
			return tui.Run(ctx, tui.Config{
				Source:   db,
				Replayer: forward.LogReplayer{Forwarder: fwd, Log: db},
				Info:     tui.Info{DB: db.Path()},
				Editor:   editor(g.env),
				Logger:   log,
			}, tui.Terminal{In: g.env.In, Out: g.env.Out, NoColor: !g.color()})
		},
	}
}
