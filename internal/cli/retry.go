package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/hookctl/hookctl/internal/forward"
	"github.com/hookctl/hookctl/internal/store"
	"github.com/hookctl/hookctl/internal/webhook"
)

type retryOptions struct {
	failed bool
	to     string
	json   bool
}

func newRetryCmd(g *globals) *cobra.Command {
	o := &retryOptions{}
	cmd := &cobra.Command{
		Use:   "retry ID... | --failed",
		Short: "Deliver queued requests now (listen --ack)",
		Long: `Make one delivery attempt now for requests received with listen --ack whose background
delivery has not succeeded: retrying ones and ones given up. The attempt is recorded, of kind
"redelivery"; a 2xx answer marks the delivery delivered, and a running listen then skips it.
Any other outcome leaves the delivery as it was: a retrying one keeps its schedule.

--failed retries every delivery whose attempts so far have all failed. The request goes to
the target it was queued for, or to --to. To send a request again whatever its state, use
'hookctl replay'.`,
		Example: `  hookctl retry 42
  hookctl retry --failed
  hookctl retry --failed --to localhost:4000`,
		Args: func(cmd *cobra.Command, args []string) error {
			if o.failed == (len(args) > 0) {
				return errors.New("give request ids or --failed, not both")
			}
			return nil
		},
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
			if o.failed {
				failed, err := db.FailedDeliveries(ctx)
				if err != nil {
					return err
				}
				for _, d := range failed {
					ids = append(ids, d.RequestID)
				}
				if len(ids) == 0 {
					fmt.Fprintln(g.env.ErrOut, "no failed deliveries")
					if o.json {
						return writeIndentedJSON(g, []retryJSON{})
					}
					return nil
				}
			}
			return retryAll(ctx, g, o, db, ids, to)
		},
	}
	cmd.Flags().BoolVar(&o.failed, "failed", false, "retry every delivery that is retrying or was given up")
	cmd.Flags().StringVar(&o.to, "to", "", "deliver to this `TARGET` instead of the one the request was queued for")
	cmd.Flags().BoolVar(&o.json, "json", false, "print a JSON array: one attempt per request with its delivery state")
	return cmd
}

// retryJSON is one element of `retry --json`: the attempt, and the delivery state after it.
type retryJSON struct {
	attemptJSON
	Delivery      string `json:"delivery"`
	NextAttemptAt string `json:"next_attempt_at,omitempty"`
}

// retryAll makes one attempt for each id and reports them; the error says how many are still
// not delivered.
func retryAll(ctx context.Context, g *globals, o *retryOptions, db *store.Store, ids []int64, to *url.URL) error {
	fwd := forward.New(forward.Config{})
	defer fwd.Close()
	log := forward.RedeliverLog{Log: db, NotFound: store.ErrNotFound}
	out := make([]retryJSON, 0, len(ids))
	undelivered := 0
	for _, id := range ids {
		r, a, d, err := fwd.Redeliver(ctx, log, id, to)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			err = retryError(err, id, db)
			if len(ids) == 1 {
				return err
			}
			fmt.Fprintln(g.env.ErrOut, "hookctl: "+err.Error())
			undelivered++
			continue
		}
		if d.State != webhook.DeliveryDelivered {
			undelivered++
		}
		if o.json {
			j := retryJSON{attemptJSON: attemptOf(a)}
			j.ResponseBody, j.ResponseBodyBase64 = nil, nil
			j.Delivery, j.NextAttemptAt = deliveryJSON(*d)
			out = append(out, j)
			continue
		}
		s := webhook.Summarize(r, a, 1)
		s.Delivery = *d
		fmt.Fprintf(g.env.Out, "%d  %s %s %s  (%s)\n", id, r.Method, a.Target, outcomeText(s, g.color()), deliveryText(*d, g.env.Now()))
	}
	if o.json {
		if err := writeIndentedJSON(g, out); err != nil {
			return err
		}
	}
	switch {
	case undelivered == 0:
		return nil
	case len(ids) == 1:
		return silentError{fmt.Errorf("request %d is still not delivered", ids[0])}
	}
	return fmt.Errorf("%d of %d requests are still not delivered", undelivered, len(ids))
}

// retryError explains why a request could not be retried.
func retryError(err error, id int64, db *store.Store) error {
	switch {
	case errors.Is(err, forward.ErrNotQueued):
		return fmt.Errorf("request %d was not queued for delivery (it was not received with listen --ack); send it again with: hookctl replay %d", id, id)
	case errors.Is(err, forward.ErrAlreadyDelivered):
		return fmt.Errorf("request %d was delivered already; send it again with: hookctl replay %d", id, id)
	}
	return explain(err, id, db)
}
