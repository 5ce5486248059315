package cli

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/hookctl/hookctl/internal/forward"
	"github.com/hookctl/hookctl/internal/trigger"
)

type triggerOptions struct {
	to     string
	secret string
	list   bool
}

func newTriggerCmd(g *globals) *cobra.Command {
	o := &triggerOptions{}
	cmd := &cobra.Command{
		Use:   "trigger PROVIDER EVENT",
		Short: "Send a realistic, correctly signed sample webhook",
		Long: `Send a sample webhook as the provider would: realistic payload and headers, fresh ids and
timestamps on every send, signed with --secret (or HOOKCTL_SECRET_<PROVIDER>, or a well-known
test secret, which is printed so that 'listen --verify' can check it). By default it goes to
a running 'hookctl listen' at http://127.0.0.1:8765/webhooks/<provider>.`,
		Example: `  hookctl trigger --list
  hookctl trigger stripe payment_intent.succeeded
  hookctl trigger github pull_request.opened --to localhost:3000/api/github --secret s3cret`,
		Args: func(cmd *cobra.Command, args []string) error {
			if o.list {
				return cobra.NoArgs(cmd, args)
			}
			if len(args) != 2 {
				return errors.New("want PROVIDER EVENT (see 'hookctl trigger --list')")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.list {
				tw := tabwriter.NewWriter(g.env.Out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "PROVIDER\tEVENT\tDESCRIPTION")
				for _, f := range trigger.List() {
					fmt.Fprintf(tw, "%s\t%s\t%s\n", f.Provider, f.Event, f.Description)
				}
				return tw.Flush()
			}
			provider, event := args[0], args[1]
			target := "http://127.0.0.1:8765"
			if o.to != "" {
				u, err := forward.ParseTarget(o.to)
				if err != nil {
					return fmt.Errorf("--to: %w", err)
				}
				target = u.String()
			}
			u, _ := url.Parse(target)
			if u.Path == "" || u.Path == "/" {
				target = strings.TrimSuffix(target, "/") + "/webhooks/" + strings.ToLower(provider)
			}
			secret, given := secretFor(g.env, o.secret, provider)
			b, err := trigger.Build(provider, event, trigger.Options{Secret: secret, Now: g.env.Now(), URL: target})
			if err != nil {
				return err
			}
			sent, err := trigger.Send(cmd.Context(), b)
			if err != nil {
				return err
			}
			line := fmt.Sprintf("sent %s %s to %s -> %d", provider, event, b.URL, sent.Status)
			if sent.RequestID != "" {
				line += fmt.Sprintf(" (recorded as request %s)", sent.RequestID)
			}
			fmt.Fprintln(g.env.Out, line)
			if !given {
				fmt.Fprintf(g.env.ErrOut, "signed with the test secret %s: verify with 'hookctl listen --verify %s=%s'\n", b.Secret, strings.ToLower(provider), b.Secret)
			}
			if sent.Status >= 400 {
				return silentError{fmt.Errorf("the receiver answered %d", sent.Status)}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&o.to, "to", "", "send to this `TARGET` (port, host:port or URL) instead of the local hookctl listen")
	cmd.Flags().StringVar(&o.secret, "secret", "", "sign with this secret (default $HOOKCTL_SECRET_<PROVIDER>, else a test secret)")
	cmd.Flags().BoolVar(&o.list, "list", false, "list the providers and events that can be triggered")
	return cmd
}
