package shape

import "sort"

// Change kinds reported by Diff.
const (
	ChangeAdded   = "added"
	ChangeRemoved = "removed"
	ChangeType    = "type"
)

// Change is one difference between two shapes of the same event type.
// Path is dotted from the root ("data.object.amount"); array elements are
// "[]" ("items[].price"). Old and New are type descriptions such as
// "integer" or "string | null" (Old is empty for added fields, New for
// removed ones).
type Change struct {
	Path string `json:"path"`
	Kind string `json:"kind"` // "added", "removed" or "type"
	Old  string `json:"old,omitempty"`
	New  string `json:"new,omitempty"`
}

// Diff reports the fields that appeared, disappeared or changed type between
// an older and a newer shape. Only the topmost field of an added or removed
// subtree is reported. Changes are sorted by path.
func Diff(older, newer *Shape) []Change {
	var out []Change
	if older == nil || newer == nil {
		return nil
	}
	diffShape(&out, "", older, newer)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

func diffShape(out *[]Change, path string, a, b *Shape) {
	if ta, tb := a.TypeString(), b.TypeString(); ta != tb && path != "" {
		*out = append(*out, Change{Path: path, Kind: ChangeType, Old: ta, New: tb})
	}
	if a.Object > 0 && b.Object > 0 {
		i, j := 0, 0
		for i < len(a.Fields) || j < len(b.Fields) {
			switch {
			case j >= len(b.Fields) || i < len(a.Fields) && a.Fields[i].Name < b.Fields[j].Name:
				f := a.Fields[i]
				*out = append(*out, Change{Path: join(path, f.Name), Kind: ChangeRemoved, Old: f.Shape.TypeString()})
				i++
			case i >= len(a.Fields) || b.Fields[j].Name < a.Fields[i].Name:
				f := b.Fields[j]
				*out = append(*out, Change{Path: join(path, f.Name), Kind: ChangeAdded, New: f.Shape.TypeString()})
				j++
			default:
				diffShape(out, join(path, a.Fields[i].Name), a.Fields[i].Shape, b.Fields[j].Shape)
				i++
				j++
			}
		}
	}
	if a.Items != nil && b.Items != nil {
		diffShape(out, path+"[]", a.Items, b.Items)
	}
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
