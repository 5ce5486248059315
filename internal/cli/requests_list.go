package cli

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/hookctl/hookctl/internal/store"
)

type listOptions struct {
	limit int
	json  bool
}

func newRequestsListCmd(g *globals) *cobra.Command {
	o := &listOptions{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List recorded requests, newest first",
		Example: `  hookctl requests list
  hookctl requests list --limit 5 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.limit < 1 {
				return fmt.Errorf("--limit must be at least 1, got %d", o.limit)
			}
			db, err := g.openLog(cmd.Context(), g.logger(), true)
			if err != nil {
				return err
			}
			defer db.Close()
			rows, err := db.List(cmd.Context(), store.Filter{Limit: o.limit})
			if err != nil {
				return err
			}
			if o.json {
				out := make([]summaryJSON, 0, len(rows))
				for _, r := range rows {
					out = append(out, summaryOf(r))
				}
				return writeIndentedJSON(g, out)
			}
			if len(rows) == 0 {
				fmt.Fprintf(g.env.ErrOut, "No requests recorded in %s yet. Start with: hookctl listen\n", db.Path())
				return nil
			}
			return writeTable(g.env.Out, rows, g.env.OutIsTTY, g.env.Now())
		},
	}
	cmd.Flags().IntVarP(&o.limit, "limit", "n", 50, "show at most `N` requests")
	cmd.Flags().BoolVar(&o.json, "json", false, "print a JSON array")
	return cmd
}

func writeIndentedJSON(g *globals, v any) error {
	enc := json.NewEncoder(g.env.Out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
