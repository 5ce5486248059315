package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/spf13/cobra"

	"github.com/hookctl/hookctl/internal/export"
)

func newImportCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "import FILE",
		Short: "Import requests from a HAR or JSON lines file into the log",
		Long: `Import requests, with their attempts, from a HAR file or from 'hookctl export --format jsonl'
(the format is detected). They get new ids and the ingress "import", and can be inspected and
replayed like any recorded request. "-" reads standard input.`,
		Example: `  hookctl import stripe.har
  hookctl export --format jsonl | hookctl --db other.db import -`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var in io.Reader = g.env.In
			if args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return fmt.Errorf("import: %w", err)
				}
				defer f.Close()
				in = f
			}
			items, err := export.Import(in)
			if err != nil {
				return fmt.Errorf("import %s: %w", args[0], err)
			}
			if len(items) == 0 {
				return errors.New("import: the file holds no requests")
			}
			// Exports list newest first; the log's ids should follow arrival order.
			slices.SortStableFunc(items, func(a, b export.Item) int { return a.Request.ReceivedAt.Compare(b.Request.ReceivedAt) })
			ctx := cmd.Context()
			db, err := g.openLog(ctx, g.logger(), false)
			if err != nil {
				return err
			}
			defer db.Close()
			var first, last int64
			for _, it := range items {
				if err := db.AddRequest(ctx, it.Request); err != nil {
					return fmt.Errorf("import: %w", err)
				}
				for i := range it.Attempts {
					a := &it.Attempts[i]
					a.RequestID = it.Request.ID
					if err := db.AddAttempt(ctx, a); err != nil {
						return fmt.Errorf("import: %w", err)
					}
				}
				if first == 0 {
					first = it.Request.ID
				}
				last = it.Request.ID
			}
			fmt.Fprintf(g.env.Out, "imported %d requests as %d–%d\n", len(items), first, last)
			return nil
		},
	}
}
