package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookctl/hookctl/internal/humanize"
	"github.com/hookctl/hookctl/internal/store"
)

// defaultPruneAge is prune's --older-than when neither bound is given.
const defaultPruneAge = 7 * 24 * time.Hour

type pruneOptions struct {
	olderThan time.Duration
	keep      int
	dryRun    bool
	json      bool
}

// pruneJSON is the output of `prune --json`.
type pruneJSON struct {
	Deleted     int64 `json:"deleted"`
	KeptPending int64 `json:"kept_pending"`
	SizeBefore  int64 `json:"size_before"`
	SizeAfter   int64 `json:"size_after"`
	DryRun      bool  `json:"dry_run"`
}

func newPruneCmd(g *globals) *cobra.Command {
	o := &pruneOptions{}
	cmd := &cobra.Command{
		Use:   "prune",
		Short: "Delete old requests from the log and shrink the file",
		Long: `Delete the requests received more than --older-than ago (default 168h, a week), or all but
the newest --keep N, or both, with their attempts, and give the space back to the file system.
Requests acknowledged with 'listen --ack' whose delivery is still pending are never deleted.
--older-than 0 with --keep N prunes by count only. Request ids are never reused.`,
		Example: `  hookctl prune
  hookctl prune --older-than 24h --dry-run
  hookctl prune --keep 1000 --older-than 0`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			age, err := o.age(cmd)
			if err != nil {
				return err
			}
			db, err := g.openLog(cmd.Context(), g.logger(), o.dryRun)
			if err != nil {
				return err
			}
			defer db.Close()
			opt := store.PruneOptions{Keep: o.keep, DryRun: o.dryRun}
			if age > 0 {
				opt.Before = g.env.Now().Add(-age)
			}
			res, err := db.Prune(cmd.Context(), opt)
			if err != nil {
				return err
			}
			if o.json {
				return json.NewEncoder(g.env.Out).Encode(pruneJSON{
					Deleted: res.Deleted, KeptPending: res.KeptPending,
					SizeBefore: res.SizeBefore, SizeAfter: res.SizeAfter, DryRun: o.dryRun,
				})
			}
			_, err = fmt.Fprintln(g.env.Out, pruneSummary(res, age, o.keep, o.dryRun))
			return err
		},
	}
	f := cmd.Flags()
	f.DurationVar(&o.olderThan, "older-than", defaultPruneAge, "delete requests received more than `AGE` ago (0: no age bound)")
	f.IntVar(&o.keep, "keep", 0, "delete all requests but the newest `N` (0: no count bound)")
	f.BoolVar(&o.dryRun, "dry-run", false, "only count what would be deleted")
	f.BoolVar(&o.json, "json", false, "print the outcome as a JSON object")
	return cmd
}

// age validates the bounds and returns the age bound: --older-than when given, else the
// default unless --keep is given.
func (o *pruneOptions) age(cmd *cobra.Command) (time.Duration, error) {
	if o.olderThan < 0 {
		return 0, fmt.Errorf("--older-than must not be negative, got %s", o.olderThan)
	}
	if o.keep < 0 {
		return 0, fmt.Errorf("--keep must not be negative, got %d", o.keep)
	}
	age := o.olderThan
	if !cmd.Flags().Changed("older-than") && cmd.Flags().Changed("keep") {
		age = 0
	}
	if age == 0 && o.keep == 0 {
		return 0, errors.New("nothing to prune: give --older-than a positive age or --keep N (at least 1)")
	}
	return age, nil
}

// pruneSummary is prune's one line of output: "pruned 1,234 requests older than 168h; kept 3
// with pending deliveries; log 48.0MiB → 12.0MiB".
func pruneSummary(res store.PruneResult, age time.Duration, keep int, dryRun bool) string {
	var bounds []string
	if age > 0 {
		bounds = append(bounds, "older than "+shortDuration(age))
	}
	if keep > 0 {
		bounds = append(bounds, "beyond the newest "+humanize.Thousands(int64(keep)))
	}
	verb, kept := "pruned", "kept"
	if dryRun {
		verb, kept = "would prune", "would keep"
	}
	word := "requests"
	if res.Deleted == 1 {
		word = "request"
	}
	out := fmt.Sprintf("%s %s %s %s", verb, humanize.Thousands(res.Deleted), word, strings.Join(bounds, " or "))
	switch {
	case res.KeptPending == 1:
		out += "; " + kept + " 1 with a pending delivery"
	case res.KeptPending > 1:
		out += fmt.Sprintf("; %s %s with pending deliveries", kept, humanize.Thousands(res.KeptPending))
	}
	if dryRun {
		return out + "; log " + humanize.Size(res.SizeBefore)
	}
	return out + "; log " + humanize.Size(res.SizeBefore) + " → " + humanize.Size(res.SizeAfter)
}

// shortDuration renders d without zero minutes and seconds: "168h", "1h30m", "45s".
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
