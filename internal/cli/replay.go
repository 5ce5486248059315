package cli

import (
	"fmt"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/hookctl/hookctl/internal/forward"
	"github.com/hookctl/hookctl/internal/webhook"
)

type replayOptions struct {
	to string
}

func newReplayCmd(g *globals) *cobra.Command {
	o := &replayOptions{}
	cmd := &cobra.Command{
		Use:   "replay ID...",
		Short: "Send recorded requests again",
		Long: `Send recorded requests again, byte for byte, to the target they were forwarded to, or
to --to (a port, host:port or URL; the request path is appended to its path). Each replay is
recorded as a new attempt of kind "replay".`,
		Example: `  hookctl replay 42
  hookctl replay 42 43 44 --to localhost:4000`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ids := make([]int64, len(args))
			for i, a := range args {
				id, err := parseID(a)
				if err != nil {
					return err
				}
				ids[i] = id
			}
			var to *url.URL
			if o.to != "" {
				t, err := forward.ParseTarget(o.to)
				if err != nil {
					return fmt.Errorf("--to: %w", err)
				}
				to = t
			}
			ctx := cmd.Context()
			db, err := g.openLog(ctx, g.logger(), false)
			if err != nil {
				return err
			}
			defer db.Close()
			fwd := forward.New(forward.Config{})
			defer fwd.Close()
			failed := 0
			for _, id := range ids {
				r, a, err := fwd.Replay(ctx, db, id, to)
				if err != nil {
					return explain(err, id, db)
				}
				if a.Status == 0 {
					failed++
				}
				fmt.Fprintf(g.env.Out, "%d  %s %s %s\n", id, r.Method, a.Target, outcomeText(webhook.Summarize(r, a, 1), g.color()))
			}
			if failed > 0 {
				return fmt.Errorf("%d of %d replays got no response", failed, len(ids))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&o.to, "to", "", "send to this `TARGET` instead of the original one")
	return cmd
}
