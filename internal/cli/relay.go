package cli

import "github.com/spf13/cobra"

func newRelayCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "relay",
		Short: "Run the self-hosted relay that gives listen a stable public URL",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newRelayServeCmd(g))
	return cmd
}
