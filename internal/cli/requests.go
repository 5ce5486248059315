package cli

import "github.com/spf13/cobra"

func newRequestsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "requests",
		Aliases: []string{"request", "req"},
		Short:   "List and show recorded requests",
		Args:    cobra.NoArgs,
	}
	cmd.AddCommand(newRequestsListCmd(g), newRequestsShowCmd(g))
	return cmd
}
