package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/hookctl/hookctl/internal/humanize"
	"slices"
	"strings"
	"unicode"

	"github.com/spf13/cobra"

	"github.com/hookctl/hookctl/internal/store"
	"github.com/hookctl/hookctl/internal/webhook"
	"github.com/hookctl/hookctl/pkg/shape"
)

type shapeOptions struct {
	provider string
	event    string
	ids      []int64
	format   string
	diff     bool
	limit    int
}

func newShapeCmd(g *globals) *cobra.Command {
	o := &shapeOptions{}
	cmd := &cobra.Command{
		Use:   "shape",
		Short: "Infer the types of captured payloads: JSON Schema, Go, TypeScript or a tree",
		Long: `Infer one shape per provider and event type from the payloads in the log: which fields
are always there and which only sometimes, nullable ones, integers and numbers, string formats
(date-time, unix timestamps, email, URI, UUID, id prefixes such as evt_), small enums, with
examples. Render it as a tree, as JSON Schema 2020-12, as Go structs or as TypeScript types.
--diff compares the older and newer half of each event type's samples: fields that appeared,
disappeared or changed type (API version drift).`,
		Example: `  hookctl shape
  hookctl shape --provider stripe --event invoice.paid --format go
  hookctl shape --id 12 --id 13 --format ts
  hookctl shape --provider github --diff`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch o.format {
			case "tree", "jsonschema", "go", "ts":
			default:
				return fmt.Errorf("--format %q: want tree, jsonschema, go or ts", o.format)
			}
			ctx := cmd.Context()
			db, err := g.openLog(ctx, g.logger(), true)
			if err != nil {
				return err
			}
			defer db.Close()
			groups, err := sampleGroups(ctx, db, o)
			if err != nil {
				return err
			}
			if len(groups) == 0 {
				return errors.New("no JSON or form payloads match: capture some with 'hookctl listen', or widen --provider/--event")
			}
			if o.diff {
				return writeDiffs(g, groups)
			}
			return writeShapes(g, groups, o.format)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.provider, "provider", "", "only this provider's payloads")
	f.StringVar(&o.event, "event", "", "only this event type (glob: invoice.*)")
	f.Int64SliceVar(&o.ids, "id", nil, "only these requests (repeatable)")
	f.StringVar(&o.format, "format", "tree", "output: tree, jsonschema, go or ts")
	f.BoolVar(&o.diff, "diff", false, "report fields that appeared, disappeared or changed type between older and newer samples")
	f.IntVar(&o.limit, "limit", 1000, "use at most `N` of the newest samples per event type")
	return cmd
}

// group is the samples of one provider and event type, oldest first.
type group struct {
	provider, event string
	form            bool
	bodies          [][]byte
}

func (gr *group) title() string {
	parts := []string{gr.provider, gr.event}
	if gr.provider == "" && gr.event == "" {
		parts = []string{"unknown sender"}
	}
	return strings.TrimSpace(strings.Join(parts, " "))
}

// sampleGroups reads the payloads the options select, grouped by provider and event type.
func sampleGroups(ctx context.Context, db *store.Store, o *shapeOptions) ([]*group, error) {
	var ids []int64
	if len(o.ids) > 0 {
		ids = o.ids
	} else {
		var err error
		ids, err = selectIDs(ctx, db, store.Filter{Provider: o.provider, EventType: o.event}, 20*o.limit)
		if err != nil {
			return nil, err
		}
	}
	byKey := map[string]*group{}
	var order []string
	for _, id := range ids {
		r, err := db.Request(ctx, id)
		if err != nil {
			return nil, explain(err, id, db)
		}
		form := isForm(r)
		if !form && !json.Valid(r.Body) {
			continue
		}
		key := r.Provider + "\x00" + r.EventType
		gr, ok := byKey[key]
		if !ok {
			gr = &group{provider: r.Provider, event: r.EventType, form: form}
			byKey[key] = gr
			order = append(order, key)
		}
		if len(gr.bodies) < o.limit && gr.form == form {
			gr.bodies = append(gr.bodies, r.Body)
		}
	}
	slices.Sort(order)
	out := make([]*group, 0, len(order))
	for _, k := range order {
		gr := byKey[k]
		slices.Reverse(gr.bodies) // listed newest first; oldest first reads as history
		out = append(out, gr)
	}
	return out, nil
}

func isForm(r *webhook.Request) bool {
	return strings.HasPrefix(strings.ToLower(r.Header.Get("Content-Type")), "application/x-www-form-urlencoded")
}

func (gr *group) infer(bodies [][]byte) (*shape.Shape, error) {
	if gr.form {
		return shape.InferForm(bodies)
	}
	return shape.Infer(bodies)
}

func writeShapes(g *globals, groups []*group, format string) error {
	w := g.env.Out
	schemas := map[string]json.RawMessage{}
	for i, gr := range groups {
		s, err := gr.infer(gr.bodies)
		if err != nil {
			return fmt.Errorf("shape %s: %w", gr.title(), err)
		}
		name := typeName(gr)
		switch format {
		case "tree":
			if i > 0 {
				fmt.Fprintln(w)
			}
			fmt.Fprintf(w, "%s (%s)\n%s\n", gr.title(), humanize.Count(len(gr.bodies), "sample"), s.Tree())
		case "jsonschema":
			b, err := s.JSONSchema(gr.title())
			if err != nil {
				return err
			}
			schemas[gr.title()] = b
		case "go":
			b, err := s.Go("webhooks", name)
			if err != nil {
				return err
			}
			if i > 0 {
				// One file per group would repeat the package clause: print each after a marker.
				fmt.Fprintln(w)
			}
			fmt.Fprintf(w, "// %s (%s)\n%s", gr.title(), humanize.Count(len(gr.bodies), "sample"), b)
		case "ts":
			b, err := s.TypeScript(name)
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "// %s (%s)\n%s\n", gr.title(), humanize.Count(len(gr.bodies), "sample"), b)
		}
	}
	if format == "jsonschema" {
		var out any = schemas
		if len(groups) == 1 {
			out = schemas[groups[0].title()]
		}
		return writeIndentedJSON(g, out)
	}
	return nil
}

func writeDiffs(g *globals, groups []*group) error {
	w := g.env.Out
	drift := false
	for _, gr := range groups {
		if len(gr.bodies) < 2 {
			continue
		}
		half := len(gr.bodies) / 2
		older, err := gr.infer(gr.bodies[:half])
		if err != nil {
			return err
		}
		newer, err := gr.infer(gr.bodies[half:])
		if err != nil {
			return err
		}
		changes := shape.Diff(older, newer)
		if len(changes) == 0 {
			continue
		}
		drift = true
		fmt.Fprintf(w, "%s: %d older and %d newer samples\n", gr.title(), half, len(gr.bodies)-half)
		for _, c := range changes {
			switch c.Kind {
			case "type":
				fmt.Fprintf(w, "  ~ %s: %s -> %s\n", c.Path, c.Old, c.New)
			case "added":
				fmt.Fprintf(w, "  + %s: %s\n", c.Path, c.New)
			default:
				fmt.Fprintf(w, "  - %s: %s\n", c.Path, c.Old)
			}
		}
	}
	if !drift {
		fmt.Fprintln(w, "No drift: older and newer samples of each event type have the same shape.")
	}
	return nil
}

// typeName is an exported identifier for a group's type, e.g. StripeInvoicePaid.
func typeName(gr *group) string {
	var b strings.Builder
	up := true
	for _, r := range gr.provider + " " + gr.event {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			up = true
			continue
		}
		if up {
			r = unicode.ToUpper(r)
			up = false
		}
		b.WriteRune(r)
	}
	name := b.String()
	if name == "" || !unicode.IsLetter([]rune(name)[0]) {
		name = "Payload" + name
	}
	return name
}
