package cli

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookctl/hookctl/internal/store"
)

type listOptions struct {
	limit     int
	json      bool
	provider  string
	event     string
	status    string
	search    string
	method    string
	path      string
	signature string
	since     string
	until     string
	query     string
	delivery  string
	dups      bool
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
			f, err := o.filter(g.env.Now())
			if err != nil {
				return err
			}
			rows, err := db.List(cmd.Context(), f)
			if err != nil {
				return explain(err, 0, db)
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
	fl := cmd.Flags()
	fl.IntVarP(&o.limit, "limit", "n", 50, "show at most `N` requests")
	fl.BoolVar(&o.json, "json", false, "print a JSON array")
	fl.StringVar(&o.provider, "provider", "", "only requests from this provider (stripe, github, ...)")
	fl.StringVar(&o.event, "event", "", "only this event type (glob: invoice.*)")
	fl.StringVar(&o.status, "status", "", "only this outcome: 2xx, 3xx, 4xx, 5xx, a code, failed, none or rejected")
	fl.StringVar(&o.search, "search", "", "full-text search over bodies, header values and paths")
	fl.StringVar(&o.method, "method", "", "only this HTTP method")
	fl.StringVar(&o.path, "path", "", "only paths matching this glob (/stripe*)")
	fl.StringVar(&o.signature, "signature", "", "only this signature status: valid, invalid, stale, unsigned or unchecked")
	fl.StringVar(&o.since, "since", "", "only requests received since `TIME` (RFC 3339, or a duration such as 2h)")
	fl.StringVar(&o.until, "until", "", "only requests received before `TIME` (RFC 3339, or a duration such as 30m)")
	fl.StringVar(&o.query, "query", "", "a filter as typed in the UI's / box (method:POST status:5xx ...)")
	fl.StringVar(&o.delivery, "delivery", "", "only this background delivery state (listen --ack): pending, retrying, delivered, given_up or queued")
	fl.BoolVar(&o.dups, "duplicates", false, "only redeliveries of an earlier request")
	return cmd
}

// filter builds the store filter from the flags.
func (o *listOptions) filter(now time.Time) (store.Filter, error) {
	f, err := store.ParseQueryAt(o.query, now)
	if err != nil {
		return f, fmt.Errorf("--query: %w", err)
	}
	f.Limit = o.limit
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&f.Provider, o.provider)
	set(&f.EventType, o.event)
	set(&f.Status, o.status)
	set(&f.Search, o.search)
	set(&f.Method, o.method)
	set(&f.Path, o.path)
	set(&f.Signature, o.signature)
	set(&f.Delivery, o.delivery)
	f.Duplicates = f.Duplicates || o.dups
	for _, t := range []struct {
		flag, v string
		dst     *time.Time
	}{{"--since", o.since, &f.Since}, {"--until", o.until, &f.Until}} {
		if t.v == "" {
			continue
		}
		at, err := parseWhen(t.v, now)
		if err != nil {
			return f, fmt.Errorf("%s: %w", t.flag, err)
		}
		*t.dst = at
	}
	return f, nil
}

// parseWhen reads a time as RFC 3339, or as a duration before now ("2h").
func parseWhen(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time nor a duration such as 2h", s)
	}
	return t, nil
}

func writeIndentedJSON(g *globals, v any) error {
	enc := json.NewEncoder(g.env.Out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
