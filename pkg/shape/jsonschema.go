package shape

import (
	"bytes"
	"encoding/json"
	"regexp"
)

type schemaNode struct {
	Schema      string                 `json:"$schema,omitempty"`
	Title       string                 `json:"title,omitempty"`
	Description string                 `json:"description,omitempty"`
	Type        any                    `json:"type,omitempty"`
	Format      string                 `json:"format,omitempty"`
	Pattern     string                 `json:"pattern,omitempty"`
	Enum        []any                  `json:"enum,omitempty"`
	Properties  map[string]*schemaNode `json:"properties,omitempty"`
	Required    []string               `json:"required,omitempty"`
	Items       *schemaNode            `json:"items,omitempty"`
	Examples    []json.RawMessage      `json:"examples,omitempty"`
}

// JSONSchema renders the shape as an indented JSON Schema (draft 2020-12).
// Every sample the shape was inferred from validates against it; objects stay
// open to fields not seen yet.
func (s *Shape) JSONSchema(title string) ([]byte, error) {
	root := s.schema()
	root.Schema = "https://json-schema.org/draft/2020-12/schema"
	root.Title = title
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(root); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (s *Shape) schema() *schemaNode {
	n := &schemaNode{}
	kinds := s.Kinds()
	if s.Nullable() {
		kinds = append(kinds, KindNull)
	}
	switch len(kinds) {
	case 0:
	case 1:
		n.Type = kinds[0]
	default:
		n.Type = kinds
	}
	if s.String > 0 {
		switch s.Format {
		case FormatDateTime, FormatEmail, FormatURI, FormatUUID:
			n.Format = string(s.Format)
		}
		if s.Prefix != "" {
			n.Pattern = "^" + regexp.QuoteMeta(s.Prefix)
		}
		// enum constrains every value, so only use it when all values are strings (or null)
		if len(s.Enum) > 0 && s.String+s.Null == s.Count {
			for _, e := range s.Enum {
				n.Enum = append(n.Enum, e)
			}
			if s.Nullable() {
				n.Enum = append(n.Enum, nil)
			}
		}
	}
	switch s.Format {
	case FormatUnixSecond:
		n.Description = "unix timestamp (seconds)"
	case FormatUnixMilli:
		n.Description = "unix timestamp (milliseconds)"
	}
	if s.Object > 0 && len(s.Fields) > 0 {
		n.Properties = make(map[string]*schemaNode, len(s.Fields))
		for _, f := range s.Fields {
			n.Properties[f.Name] = f.Shape.schema()
			if s.Required(f) {
				n.Required = append(n.Required, f.Name)
			}
		}
	}
	if s.Array > 0 && s.Items != nil {
		n.Items = s.Items.schema()
	}
	for _, e := range s.Examples {
		if len(e.Value) > 200 {
			continue
		}
		n.Examples = append(n.Examples, e.Value)
	}
	return n
}
