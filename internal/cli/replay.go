package cli

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookctl/hookctl/internal/forward"
	"github.com/hookctl/hookctl/internal/store"
	"github.com/hookctl/hookctl/internal/webhook"
	"github.com/hookctl/hookctl/pkg/signature"
)

type replayOptions struct {
	to     string
	resign bool
	secret string
	edit   bool
}

// timestampTolerance is the window most providers' SDKs allow a signed timestamp by default.
const timestampTolerance = 5 * time.Minute

func newReplayCmd(g *globals) *cobra.Command {
	o := &replayOptions{}
	cmd := &cobra.Command{
		Use:   "replay ID...",
		Short: "Send recorded requests again",
		Long: `Send recorded requests again, byte for byte, to the target they were forwarded to, or
to --to (a port, host:port or URL; the request path is appended to its path). Each replay is
recorded as a new attempt of kind "replay".

Providers that sign a timestamp (Stripe, Slack, Standard Webhooks, Paddle, Zoom, Linear) make
old requests fail verification as stale. --resign writes a fresh timestamp and signature with
the provider's secret (--secret, or HOOKCTL_SECRET_<PROVIDER>) into the copy that is sent; the
log keeps the request as it was received. --edit opens the body in $EDITOR first and replays
an edited copy, recorded as a new request and re-signed over the new body when the secret is
known.`,
		Example: `  hookctl replay 42
  hookctl replay 42 43 44 --to localhost:4000
  hookctl replay 42 --resign --secret whsec_...
  hookctl replay 42 --edit`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ids, to, err := parseIDsTo(args, o.to)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			db, err := g.openLog(ctx, g.logger(), false)
			if err != nil {
				return err
			}
			defer db.Close()
			fwd := forward.New(forward.Config{})
			defer fwd.Close()
			resign := forward.Resigner(func(provider string) (string, bool) { return secretFor(g.env, o.secret, provider) }, g.env.Now)
			failed := 0
			for _, id := range ids {
				r, a, err := replayOne(ctx, g, o, fwd, db, id, to, resign)
				if err != nil {
					return explain(err, id, db)
				}
				if a.Status == 0 {
					failed++
				}
				fmt.Fprintf(g.env.Out, "%d  %s %s %s\n", a.RequestID, r.Method, a.Target, outcomeText(webhook.Summarize(r, a, 1), g.color()))
			}
			if failed > 0 {
				return fmt.Errorf("%d of %d replays got no response", failed, len(ids))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&o.to, "to", "", "send to this `TARGET` instead of the original one")
	cmd.Flags().BoolVar(&o.resign, "resign", false, "give the copy that is sent a fresh signature (needs the provider's secret)")
	cmd.Flags().StringVar(&o.secret, "secret", "", "the provider's signing secret for --resign and --edit (default $HOOKCTL_SECRET_<PROVIDER>)")
	cmd.Flags().BoolVar(&o.edit, "edit", false, "edit the body in $EDITOR and replay the edited copy")
	return cmd
}

// parseIDsTo parses request ids as users type them and a --to target ("" for none).
func parseIDsTo(args []string, toFlag string) ([]int64, *url.URL, error) {
	ids := make([]int64, len(args))
	for i, a := range args {
		id, err := parseID(a)
		if err != nil {
			return nil, nil, err
		}
		ids[i] = id
	}
	if toFlag == "" {
		return ids, nil, nil
	}
	to, err := forward.ParseTarget(toFlag)
	if err != nil {
		return nil, nil, fmt.Errorf("--to: %w", err)
	}
	return ids, to, nil
}

// replayOne replays one request as the options say, warning when a recorded timestamped
// signature will be stale.
func replayOne(ctx context.Context, g *globals, o *replayOptions, fwd *forward.Forwarder, db *store.Store, id int64, to *url.URL, resign forward.Prepare) (*webhook.Request, *webhook.Attempt, error) {
	if o.edit {
		r, err := db.Request(ctx, id)
		if err != nil {
			return nil, nil, err
		}
		body, err := editBody(g, r)
		if err != nil {
			return nil, nil, err
		}
		cp, a, err := fwd.ReplayEdited(ctx, db, id, body, to, forward.BestEffort(resign))
		if err == nil {
			fmt.Fprintf(g.env.ErrOut, "recorded the edited copy as request %d\n", cp.ID)
		}
		return cp, a, err
	}
	var prepare forward.Prepare
	if o.resign {
		prepare = resign
	} else if r, err := db.Request(ctx, id); err == nil {
		warnIfStale(g, r)
	}
	return fwd.Replay(ctx, db, id, to, prepare)
}

// warnIfStale warns that a replay with the recorded signature will fail a timestamp check.
func warnIfStale(g *globals, r *webhook.Request) {
	s, ok := signature.Identify(r.Header.Canonical())
	if !ok || !signature.Timestamped(s) {
		return
	}
	if age := g.env.Now().Sub(r.ReceivedAt); age > timestampTolerance {
		fmt.Fprintf(g.env.ErrOut, "warning: request %d carries a %s signature made %s ago; a handler that checks its timestamp will reject it as stale (use --resign with the secret)\n",
			r.ID, s.Name(), age.Round(time.Second))
	}
}

// editBody opens r's body in the user's editor on the terminal and returns what they saved.
func editBody(g *globals, r *webhook.Request) ([]byte, error) {
	f, err := os.CreateTemp("", "hookctl-body-*")
	if err != nil {
		return nil, fmt.Errorf("edit body: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(r.Body); err != nil {
		f.Close()
		return nil, fmt.Errorf("edit body: %w", err)
	}
	f.Close()
	c := exec.Command("sh", "-c", editor(g.env)+` "$1"`, "editor", f.Name())
	c.Stdin, c.Stdout, c.Stderr = g.env.In, g.env.Out, g.env.ErrOut
	if err := c.Run(); err != nil {
		return nil, fmt.Errorf("editor: %w", err)
	}
	return os.ReadFile(f.Name())
}
