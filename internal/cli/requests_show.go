package cli

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/hookctl/hookctl/internal/store"
)

type showOptions struct {
	json bool
	body bool
}

func newRequestsShowCmd(g *globals) *cobra.Command {
	o := &showOptions{}
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show a recorded request: headers, body and every attempt",
		Example: `  hookctl requests show 42
  hookctl requests show 42 --body > payload.json
  hookctl requests show 42 --json | jq .attempts`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.json && o.body {
				return fmt.Errorf("--json and --body cannot be used together")
			}
			ctx := cmd.Context()
			db, r, err := g.readRequest(ctx, args[0])
			if err != nil {
				return err
			}
			defer db.Close()
			id := r.ID
			if o.body {
				_, err := g.env.Out.Write(r.Body)
				return err
			}
			attempts, err := db.Attempts(ctx, id)
			if err != nil {
				return err
			}
			delivery, err := db.Delivery(ctx, id)
			if errors.Is(err, store.ErrNotFound) {
				delivery, err = nil, nil
			}
			if err != nil {
				return err
			}
			if o.json {
				return writeIndentedJSON(g, detailOf(r, attempts, delivery))
			}
			writeDetail(g.env.Out, r, attempts, delivery, g.env.Now())
			return nil
		},
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print the request as JSON")
	cmd.Flags().BoolVar(&o.body, "body", false, "print only the raw body bytes")
	return cmd
}

// parseID parses a request id as users type it ("42" or "#42").
func parseID(s string) (int64, error) {
	if len(s) > 1 && s[0] == '#' {
		s = s[1:]
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < 1 {
		return 0, fmt.Errorf("invalid request id %q: ids are positive integers, as shown by 'hookctl requests list'", s)
	}
	return id, nil
}
