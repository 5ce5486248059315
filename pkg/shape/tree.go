package shape

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Tree renders the shape as a readable tree for the terminal: one line per
// field with its types, formats, presence (percentage of the parent objects
// that had it) and an example value. Array elements appear as "[]".
//
//	object (12 samples)
//	├─ id: string, prefix evt_ (100%)  e.g. "evt_1NfX…"
//	├─ data: object (100%)
//	│  └─ amount: integer (92%)  e.g. 2000
//	└─ lines: array (100%)
//	   └─ []: object (37 items)
func (s *Shape) Tree() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%d %s)\n", describe(s), s.Count, plural(s.Count, "sample", "samples"))
	writeChildren(&b, s, "")
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func writeChildren(b *strings.Builder, s *Shape, indent string) {
	type child struct {
		label string
		sh    *Shape
		note  string
	}
	var kids []child
	for _, f := range s.Fields {
		kids = append(kids, child{f.Name, f.Shape, percent(f.Present, s.Object)})
	}
	if s.Items != nil && s.Items.Count > 0 {
		kids = append(kids, child{"[]", s.Items, fmt.Sprintf("%d %s", s.Items.Count, plural(s.Items.Count, "item", "items"))})
	}
	for i, k := range kids {
		last := i == len(kids)-1
		branch, next := "├─ ", "│  "
		if last {
			branch, next = "└─ ", "   "
		}
		label := k.label
		if label == "" {
			label = `""`
		} else if strings.ContainsAny(label, " \t\n:\"") {
			label = strconv.Quote(label)
		}
		fmt.Fprintf(b, "%s%s%s: %s (%s)", indent, branch, label, describe(k.sh), k.note)
		if ex := example(k.sh); ex != "" {
			b.WriteString("  e.g. " + ex)
		}
		b.WriteString("\n")
		writeChildren(b, k.sh, indent+next)
	}
}

func percent(n, total int) string {
	if total <= 0 {
		return "100%"
	}
	p := (n*100 + total/2) / total
	if p >= 100 && n < total {
		p = 99
	}
	if p == 0 && n > 0 {
		p = 1
	}
	if p > 100 {
		p = 100
	}
	return strconv.Itoa(p) + "%"
}

// describe is the type of a position with its formats: `string, prefix evt_`,
// `enum "a" | "b"`, `integer, unix-time | null`.
func describe(s *Shape) string {
	var parts []string
	for _, k := range s.Kinds() {
		p := k
		switch k {
		case KindString:
			if len(s.Enum) > 0 {
				q := make([]string, len(s.Enum))
				for i, e := range s.Enum {
					q[i] = strconv.Quote(e)
				}
				p = "enum " + strings.Join(q, " | ")
			}
			if s.Format != "" {
				p += ", " + string(s.Format)
			}
			if s.Prefix != "" {
				p += ", prefix " + s.Prefix
			}
		case KindInteger:
			if s.Format != "" {
				p += ", " + string(s.Format)
			}
		}
		parts = append(parts, p)
	}
	if s.Nullable() {
		parts = append(parts, "null")
	}
	if len(parts) == 0 {
		return "unknown"
	}
	return strings.Join(parts, " | ")
}

// example is the most frequent scalar value, shortened, or "" for enums and
// positions without scalar examples.
func example(s *Shape) string {
	if len(s.Examples) == 0 || len(s.Enum) > 0 {
		return ""
	}
	v := string(s.Examples[0].Value)
	if utf8.RuneCountInString(v) > 40 {
		r := []rune(v)
		v = string(r[:37]) + "…"
		if v[0] == '"' {
			v += `"`
		}
	}
	return v
}
