package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookctl/hookctl/internal/forward"
	"github.com/hookctl/hookctl/internal/humanize"
	"github.com/hookctl/hookctl/pkg/signature"
)

type verifyOptions struct {
	secret   string
	provider string
}

func newVerifyCmd(g *globals) *cobra.Command {
	o := &verifyOptions{}
	cmd := &cobra.Command{
		Use:   "verify ID --secret S",
		Short: "Explain whether a recorded request's signature verifies, and why",
		Long: `Check the signature of a recorded request against a secret, on the raw body as received,
and explain the outcome: which header is missing or malformed, whether the body differs from
what was signed, how old the signed timestamp is. The request is checked as of when it
arrived and as of now: a signature can be authentic yet too old for a replay to pass.

Exits 0 when the signature verified when the request arrived, 1 otherwise. The secret comes
from --secret or HOOKCTL_SECRET_<PROVIDER>; it is never written anywhere.`,
		Example: `  hookctl verify 42 --secret whsec_...
  HOOKCTL_SECRET_GITHUB=... hookctl verify 43`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			db, r, err := g.readRequest(ctx, args[0])
			if err != nil {
				return err
			}
			defer db.Close()
			id := r.ID
			hdr := r.Header.Canonical()
			name := o.provider
			if name == "" {
				name = r.Provider
			}
			var s signature.Scheme
			if name != "" {
				if s, err = schemeNamed(name, nil); err != nil {
					return fmt.Errorf("--provider: %w", err)
				}
			} else if found, ok := signature.Identify(hdr); ok {
				s = found
			} else {
				return fmt.Errorf("request %d carries no signature hookctl knows; name the scheme with --provider", id)
			}
			secret, ok := secretFor(g.env, o.secret, s.Name())
			if !ok {
				return fmt.Errorf("give the %s secret with --secret or HOOKCTL_SECRET_%s", s.Name(), forward.EnvName(s.Name()))
			}
			sr := &signature.Request{Method: r.Method, URL: r.URL(), Header: hdr, Body: r.Body}
			then := s.Verify(sr, secret, signature.Options{Now: r.ReceivedAt})
			now := s.Verify(sr, secret, signature.Options{Now: g.env.Now()})
			w := g.env.Out
			fmt.Fprintf(w, "Request %d  %s %s  (%s", id, r.Method, r.URI, s.Name())
			if r.EventType != "" {
				fmt.Fprintf(w, " %s", r.EventType)
			}
			fmt.Fprintf(w, ", received %s)\n", r.ReceivedAt.Local().Format(time.DateTime))
			fmt.Fprintf(w, "When received:  %s: %s\n", then.Status, then.Reason)
			if now.Status != then.Status {
				fmt.Fprintf(w, "Now:            %s: %s\n", now.Status, now.Reason)
				if then.Status == signature.Valid && now.Status == signature.Stale {
					fmt.Fprintf(w, "A replay would be rejected as stale: use 'hookctl replay %d --resign' (the signature was made %s ago).\n",
						id, humanize.Duration(now.Skew.Round(time.Second)))
				}
			}
			if then.Status != signature.Valid {
				return silentError{fmt.Errorf("request %d does not verify", id)}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&o.secret, "secret", "", "the provider's signing secret (default $HOOKCTL_SECRET_<PROVIDER>)")
	cmd.Flags().StringVar(&o.provider, "provider", "", "the signature scheme, when it is not the detected one")
	return cmd
}
