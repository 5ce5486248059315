package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/hookctl/hookctl/internal/build"
)

func newVersionCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of hookctl",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b := build.Current()
			out := "hookctl " + b.Version
			if b.Commit != "" {
				out += " (" + b.Commit
				if b.Date != "" {
					out += ", " + b.Date
				}
				out += ")"
			}
			_, err := fmt.Fprintln(g.env.Out, out)
			return err
		},
	}
}
