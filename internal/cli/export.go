package cli

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/hookctl/hookctl/internal/export"
	"github.com/hookctl/hookctl/internal/store"
)

type exportOptions struct {
	listOptions
	format   string
	output   string
	redact   []string
	noRedact bool
	baseURL  string
}

func newExportCmd(g *globals) *cobra.Command {
	o := &exportOptions{}
	cmd := &cobra.Command{
		Use:   "export [ID...]",
		Short: "Export recorded requests as HAR, JSON lines or curl commands",
		Long: `Export recorded requests with their attempts: HAR 1.2 (request and response, for browser
tools and HAR viewers), JSON lines (one request per line, exact bytes, for scripts and for
'hookctl import'), or curl commands that reproduce each request exactly, binary bodies
included. Without IDs, the requests that the filters select (newest first, --limit).
Authorization, Cookie and Proxy-Authorization values are redacted unless --no-redact.`,
		Example: `  hookctl export 42 43 --format curl
  hookctl export --provider stripe --since 24h --format har -o stripe.har
  hookctl export --format jsonl --limit 0 > all.jsonl`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			write := map[string]func(io.Writer, []export.Item, export.Options) error{
				"har": export.WriteHAR, "jsonl": export.WriteJSONL, "curl": export.WriteCurl,
			}[o.format]
			if write == nil {
				return fmt.Errorf("--format %q: want har, jsonl or curl", o.format)
			}
			db, err := g.openLog(ctx, g.logger(), true)
			if err != nil {
				return err
			}
			defer db.Close()
			var ids []int64
			if len(args) > 0 {
				for _, a := range args {
					id, err := parseID(a)
					if err != nil {
						return err
					}
					ids = append(ids, id)
				}
			} else {
				f, err := o.filter(g.env.Now())
				if err != nil {
					return err
				}
				if ids, err = selectIDs(ctx, db, f, o.limit); err != nil {
					return err
				}
			}
			items := make([]export.Item, 0, len(ids))
			for _, id := range ids {
				r, err := db.Request(ctx, id)
				if err != nil {
					return explain(err, id, db)
				}
				attempts, err := db.Attempts(ctx, id)
				if err != nil {
					return err
				}
				items = append(items, export.Item{Request: r, Attempts: attempts})
			}
			out := g.env.Out
			if o.output != "" && o.output != "-" {
				f, err := os.OpenFile(o.output, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
				if err != nil {
					return fmt.Errorf("export: %w", err)
				}
				defer f.Close()
				out = f
			}
			opt := export.Options{NoRedact: o.noRedact, BaseURL: o.baseURL}
			if len(o.redact) > 0 {
				opt.Redact = append(export.DefaultRedactions(), o.redact...)
			}
			if err := write(out, items, opt); err != nil {
				return fmt.Errorf("export: %w", err)
			}
			if o.output != "" && o.output != "-" {
				fmt.Fprintf(g.env.ErrOut, "exported %d requests to %s\n", len(items), o.output)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.format, "format", "jsonl", "har, jsonl or curl")
	f.StringVarP(&o.output, "output", "o", "", "write to `FILE` (created 0600) instead of stdout")
	f.StringArrayVar(&o.redact, "redact", nil, "also redact this header's values (repeatable)")
	f.BoolVar(&o.noRedact, "no-redact", false, "export every header value as recorded")
	f.StringVar(&o.baseURL, "base-url", "", "where curl commands and HAR URLs point (default http://127.0.0.1:8765)")
	f.IntVarP(&o.limit, "limit", "n", 1000, "export at most `N` requests selected by filters (0: all)")
	f.StringVar(&o.provider, "provider", "", "only requests from this provider")
	f.StringVar(&o.event, "event", "", "only this event type (glob)")
	f.StringVar(&o.status, "status", "", "only this outcome: 2xx..5xx, a code, failed, none or rejected")
	f.StringVar(&o.search, "search", "", "full-text search over bodies, header values and paths")
	f.StringVar(&o.since, "since", "", "only requests received since `TIME` (RFC 3339 or a duration such as 2h)")
	f.StringVar(&o.until, "until", "", "only requests received before `TIME`")
	return cmd
}

// selectIDs pages through the log for the ids that f selects, newest first, up to limit
// (0: all).
func selectIDs(ctx context.Context, db *store.Store, f store.Filter, limit int) ([]int64, error) {
	var ids []int64
	f.Limit = 500
	for {
		rows, err := db.List(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			if limit > 0 && len(ids) >= limit {
				return ids, nil
			}
			ids = append(ids, r.ID)
		}
		if len(rows) < f.Limit {
			return ids, nil
		}
		f.BeforeID = rows[len(rows)-1].ID
	}
}
