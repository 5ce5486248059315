package shape

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/parser"
	"go/token"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

func mustInfer(t testing.TB, docs ...string) *Shape {
	t.Helper()
	var samples [][]byte
	for _, d := range docs {
		samples = append(samples, []byte(d))
	}
	s, err := Infer(samples)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// at follows a dotted path; "[]" steps into array items.
func at(s *Shape, path string) *Shape {
	if path == "" {
		return s
	}
	for _, p := range strings.Split(path, ".") {
		if s == nil {
			return nil
		}
		if p == "[]" {
			s = s.Items
			continue
		}
		s = s.Field(p)
	}
	return s
}

func TestInferRules(t *testing.T) {
	tests := []struct {
		name     string
		docs     []string
		path     string
		typ      string // TypeString
		required *bool  // presence in parent, when the path has a parent object
		format   Format
		prefix   string
		enum     []string
	}{
		{name: "required in every sample", docs: []string{`{"a":1}`, `{"a":2}`}, path: "a", typ: "integer", required: ptr(true)},
		{name: "optional when missing once", docs: []string{`{"a":1}`, `{"b":2}`}, path: "a", typ: "integer", required: ptr(false)},
		{name: "required relative to parent", docs: []string{`{"o":{"a":1}}`, `{}`, `{"o":{"a":2}}`}, path: "o.a", typ: "integer", required: ptr(true)},
		{name: "nullable", docs: []string{`{"a":"x"}`, `{"a":null}`}, path: "a", typ: "string | null", required: ptr(true)},
		{name: "only null", docs: []string{`{"a":null}`}, path: "a", typ: "null"},
		{name: "union of kinds", docs: []string{`{"a":"x"}`, `{"a":{"b":1}}`, `{"a":true}`}, path: "a", typ: "object | string | boolean"},
		{name: "integers stay integer", docs: []string{`{"a":1}`, `{"a":-20}`, `{"a":12345678901234}`}, path: "a", typ: "integer"},
		{name: "integer and fraction is number", docs: []string{`{"a":1}`, `{"a":1.5}`}, path: "a", typ: "number"},
		{name: "1.0 is a number", docs: []string{`{"a":1.0}`}, path: "a", typ: "number"},
		{name: "exponent is a number", docs: []string{`{"a":1e3}`}, path: "a", typ: "number"},
		{name: "date-time", docs: []string{`{"t":"2021-11-02T20:43:19Z"}`, `{"t":"2021-12-31T19:00:00.123-05:00"}`}, path: "t", typ: "string", format: FormatDateTime},
		{name: "date only is not date-time", docs: []string{`{"t":"2021-11-02"}`}, path: "t", typ: "string"},
		{name: "invalid date is not date-time", docs: []string{`{"t":"2021-13-02T20:43:19Z"}`}, path: "t", typ: "string"},
		{name: "unix seconds", docs: []string{`{"created":1619697430}`, `{"created":1700000000}`}, path: "created", typ: "integer", format: FormatUnixSecond},
		{name: "unix millis", docs: []string{`{"event_ts":1635885799302}`}, path: "event_ts", typ: "integer", format: FormatUnixMilli},
		{name: "camelCase timestamp", docs: []string{`{"createdAt":1635885799}`}, path: "createdAt", typ: "integer", format: FormatUnixSecond},
		{name: "timestamp name but small value", docs: []string{`{"created":123}`}, path: "created", typ: "integer"},
		{name: "plausible value but other name", docs: []string{`{"amount":1619697430}`}, path: "amount", typ: "integer"},
		{name: "email", docs: []string{`{"e":"jenny@example.com"}`, `{"e":"a.b+c@mail.example.org"}`}, path: "e", typ: "string", format: FormatEmail},
		{name: "not email", docs: []string{`{"e":"jenny@example.com"}`, `{"e":"nope"}`}, path: "e", typ: "string"},
		{name: "uri", docs: []string{`{"u":"https://example.com/x?y=1"}`, `{"u":"http://localhost:3000"}`}, path: "u", typ: "string", format: FormatURI},
		{name: "relative is not uri", docs: []string{`{"u":"/x/y"}`}, path: "u", typ: "string"},
		{name: "uuid", docs: []string{`{"u":"72d3162e-cc78-11e3-81ab-4c9367dc0958"}`}, path: "u", typ: "string", format: FormatUUID},
		{name: "empty string breaks a format", docs: []string{`{"u":"https://example.com"}`, `{"u":""}`}, path: "u", typ: "string"},
		{name: "id prefix", docs: []string{`{"id":"evt_1IlYUUJDPojXS6LN7NEWYSm2"}`, `{"id":"evt_00000000000000"}`}, path: "id", typ: "string", prefix: "evt_"},
		{name: "common prefix of two-part ids", docs: []string{`{"id":"cs_test_a1B2c3D4"}`, `{"id":"cs_live_a1B2c3D4"}`}, path: "id", typ: "string", prefix: "cs_"},
		{name: "mixed prefixes", docs: []string{`{"id":"evt_1IlYUUJDPojX"}`, `{"id":"cus_1IlYUUJDPojX"}`}, path: "id", typ: "string"},
		{name: "snake words are not ids", docs: []string{`{"s":"requires_payment_method"}`}, path: "s", typ: "string"},
		{name: "enum", docs: []string{`{"s":"open"}`, `{"s":"closed"}`, `{"s":"open"}`, `{"s":"closed"}`}, path: "s", typ: "string", enum: []string{"closed", "open"}},
		{name: "no enum under 3 values", docs: []string{`{"s":"open"}`, `{"s":"open"}`}, path: "s", typ: "string"},
		{name: "no enum when a value is seen once", docs: []string{`{"s":"open"}`, `{"s":"open"}`, `{"s":"closed"}`}, path: "s", typ: "string"},
		{name: "no enum over 8 distinct", docs: repeatEach(9, 2), path: "s", typ: "string"},
		{name: "enum of 8 distinct", docs: repeatEach(8, 2), path: "s", typ: "string", enum: []string{"v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7"}},
		{name: "enum with null", docs: []string{`{"s":"a"}`, `{"s":"a"}`, `{"s":"a"}`, `{"s":null}`}, path: "s", typ: "string | null", enum: []string{"a"}},
		{name: "array elements merged", docs: []string{`{"l":[{"a":1,"b":"x"},{"a":2}]}`, `{"l":[{"a":3,"c":null}]}`}, path: "l.[].a", typ: "integer", required: ptr(true)},
		{name: "array element optional field", docs: []string{`{"l":[{"a":1,"b":"x"},{"a":2}]}`}, path: "l.[].b", typ: "string", required: ptr(false)},
		{name: "array of scalars", docs: []string{`{"l":[1,2]}`, `{"l":[]}`}, path: "l.[]", typ: "integer"},
		{name: "empty arrays only", docs: []string{`{"l":[]}`}, path: "l", typ: "array"},
		{name: "nested arrays", docs: []string{`{"l":[[1],[2.5]]}`}, path: "l.[].[]", typ: "number"},
		{name: "escaped key and value", docs: []string{`{"a\"b":"\u00e9vt"}`}, path: `a"b`, typ: "string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustInfer(t, tt.docs...)
			got := at(s, tt.path)
			if got == nil {
				t.Fatalf("no shape at %q:\n%s", tt.path, s.Tree())
			}
			if g := got.TypeString(); g != tt.typ {
				t.Errorf("type = %q, want %q", g, tt.typ)
			}
			if got.Format != tt.format {
				t.Errorf("format = %q, want %q", got.Format, tt.format)
			}
			if got.Prefix != tt.prefix {
				t.Errorf("prefix = %q, want %q", got.Prefix, tt.prefix)
			}
			if !reflect.DeepEqual(got.Enum, tt.enum) {
				t.Errorf("enum = %q, want %q", got.Enum, tt.enum)
			}
			if tt.required != nil {
				i := strings.LastIndex(tt.path, ".")
				parent := s
				if i >= 0 {
					parent = at(s, tt.path[:i])
				}
				req := got.Count >= parent.Object
				if req != *tt.required {
					t.Errorf("required = %v, want %v (count %d of %d)", req, *tt.required, got.Count, parent.Object)
				}
			}
			schemaAccepts(t, s, tt.docs)
		})
	}
}

func ptr[T any](v T) *T { return &v }

// repeatEach returns n distinct values of s, each repeated times.
func repeatEach(n, times int) []string {
	var out []string
	for r := 0; r < times; r++ {
		for i := 0; i < n; i++ {
			out = append(out, fmt.Sprintf(`{"s":"v%d"}`, i))
		}
	}
	return out
}

// schemaAccepts checks the samples validate against the shape's JSON Schema.
func schemaAccepts(t *testing.T, s *Shape, docs []string) {
	t.Helper()
	sch := compileSchema(t, s)
	for _, d := range docs {
		inst, err := jsonschema.UnmarshalJSON(strings.NewReader(d))
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(inst); err != nil {
			t.Errorf("%s does not validate: %v", d, err)
		}
	}
}

func compileSchema(t *testing.T, s *Shape) *jsonschema.Schema {
	t.Helper()
	b, err := s.JSONSchema("test")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("s.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("s.json")
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	return sch
}

func TestInferCounts(t *testing.T) {
	s := mustInfer(t, `{"a":1,"l":[1,2,3]}`, `{"a":null}`, `{"a":1}`)
	if s.Count != 3 || s.Object != 3 {
		t.Fatalf("root count %d objects %d", s.Count, s.Object)
	}
	a := s.Field("a")
	if a.Count != 3 || a.Integer != 2 || a.Null != 1 {
		t.Errorf("a = %+v", a)
	}
	if len(a.Examples) != 1 || string(a.Examples[0].Value) != "1" || a.Examples[0].Count != 2 {
		t.Errorf("examples = %+v", a.Examples)
	}
	l := s.Field("l")
	if l.Count != 1 || l.Items.Count != 3 {
		t.Errorf("l count %d items %d", l.Count, l.Items.Count)
	}
}

func TestInferBigIntegerKeepsDigits(t *testing.T) {
	s := mustInfer(t, `{"id":820982911946154508123}`, `{"id":9007199254740993}`)
	id := s.Field("id")
	if !id.BigInteger || id.TypeString() != "integer" {
		t.Fatalf("id = %+v", id)
	}
	if got := string(id.Examples[0].Value); got != "820982911946154508123" {
		t.Errorf("example = %s, want the exact digits", got)
	}
	if got := string(id.Examples[1].Value); got != "9007199254740993" {
		t.Errorf("example = %s, want the exact digits", got)
	}
	src, err := s.Go("p", "T")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(src, []byte("ID json.Number `json:\"id\"`")) {
		t.Errorf("big integers should be json.Number:\n%s", src)
	}
}

func TestInferInvalidJSONNamesSample(t *testing.T) {
	_, err := Infer([][]byte{[]byte(`{}`), []byte(`[1,2]`), []byte(`{"a":}`)})
	if err == nil || !strings.Contains(err.Error(), "sample 2") {
		t.Fatalf("err = %v, want one naming sample 2", err)
	}
	_, err = Infer([][]byte{[]byte(`{} {}`)})
	if err == nil || !strings.Contains(err.Error(), "sample 0") {
		t.Fatalf("err = %v, want one naming sample 0", err)
	}
}

func TestDeterministicOutput(t *testing.T) {
	a := []string{
		`{"z":1,"a":{"y":"2021-11-02T20:43:19Z","b":[{"k":1},{"j":"x"}]},"m":"open"}`,
		`{"m":"closed","a":{"b":[],"y":"2021-11-02T20:43:19Z"},"z":2}`,
		`{"a":{"y":null},"m":"open","z":3}`,
		`{"m":"closed","z":null}`,
	}
	render := func(s *Shape) string {
		js, _ := s.JSONSchema("t")
		g, err := s.Go("p", "T")
		if err != nil {
			t.Fatal(err)
		}
		ts, _ := s.TypeScript("T")
		return string(js) + string(g) + string(ts) + s.Tree()
	}
	first := render(mustInfer(t, a...))
	for i := 0; i < 20; i++ {
		if got := render(mustInfer(t, a...)); got != first {
			t.Fatalf("run %d differs:\n%s\n----\n%s", i, got, first)
		}
	}
	// same key order regardless of the order keys appear in the documents
	s := mustInfer(t, a...)
	var names []string
	for _, f := range s.Fields {
		names = append(names, f.Name)
	}
	if strings.Join(names, ",") != "a,m,z" {
		t.Errorf("fields = %v, want sorted", names)
	}
}

func TestJSONSchemaRendering(t *testing.T) {
	s := mustInfer(t,
		`{"id":"evt_1IlYUUJDPojX","n":1,"f":1.5,"s":"open","u":null,"m":"2021-11-02T20:43:19Z","o":{"x":1}}`,
		`{"id":"evt_2IlYUUJDPojX","n":2,"f":2,"s":"open","u":"x","o":"str"}`,
		`{"id":"evt_3IlYUUJDPojX","n":3,"f":3,"s":"shut","m":"2021-11-02T20:43:19Z","o":null}`,
		`{"id":"evt_4IlYUUJDPojX","n":4,"f":4,"s":"shut","o":{"x":2,"y":true}}`,
	)
	b, err := s.JSONSchema("Event")
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got["$schema"] != "https://json-schema.org/draft/2020-12/schema" || got["title"] != "Event" || got["type"] != "object" {
		t.Errorf("header: %v %v %v", got["$schema"], got["title"], got["type"])
	}
	if req := fmt.Sprint(got["required"]); req != "[f id n o s]" {
		t.Errorf("required = %s", req)
	}
	props := got["properties"].(map[string]any)
	want := map[string]string{
		"id": `{"examples":["evt_1IlYUUJDPojX","evt_2IlYUUJDPojX","evt_3IlYUUJDPojX"],"pattern":"^evt_","type":"string"}`,
		"n":  `{"examples":[1,2,3],"type":"integer"}`,
		"f":  `{"examples":[1.5,2,3],"type":"number"}`,
		"s":  `{"enum":["open","shut"],"examples":["open","shut"],"type":"string"}`,
		"u":  `{"examples":["x"],"type":["string","null"]}`,
		"m":  `{"examples":["2021-11-02T20:43:19Z"],"format":"date-time","type":"string"}`,
	}
	for k, w := range want {
		g, _ := json.Marshal(props[k])
		if string(g) != w {
			t.Errorf("%s = %s\nwant %s", k, g, w)
		}
	}
	o := props["o"].(map[string]any)
	if fmt.Sprint(o["type"]) != "[object string null]" || fmt.Sprint(o["required"]) != "[x]" {
		t.Errorf("o = %v", o)
	}
	// and the schema is an actual constraint
	sch := compileSchema(t, s)
	for _, bad := range []string{`{"id":"cus_1","n":1,"f":1,"s":"open","o":null}`, `{"id":"evt_1","n":1.5,"f":1,"s":"open","o":null}`, `{"id":"evt_1","n":1,"f":1,"s":"other","o":null}`, `{"n":1}`} {
		inst, _ := jsonschema.UnmarshalJSON(strings.NewReader(bad))
		if sch.Validate(inst) == nil {
			t.Errorf("schema accepts %s", bad)
		}
	}
}

func TestGoIdentifiers(t *testing.T) {
	tests := map[string]string{
		"id":             "ID",
		"html_url":       "HTMLURL",
		"3d_secure":      "X3dSecure",
		"x-y":            "XY",
		"":               "Field",
		"createdAt":      "CreatedAt",
		"api_version":    "APIVersion",
		"AccountSid":     "AccountSid",
		"__typename":     "Typename",
		"payment_intent": "PaymentIntent",
		"日本":             "Field",
		"github/ping":    "GithubPing",
	}
	for in, want := range tests {
		if got := goIdent(in); got != want {
			t.Errorf("goIdent(%q) = %q, want %q", in, got, want)
		}
		if got := goIdent(in); !token.IsExported(got) || !token.IsIdentifier(got) {
			t.Errorf("goIdent(%q) = %q is not an exported identifier", in, got)
		}
	}
}

func TestGoEdgeKeys(t *testing.T) {
	s := mustInfer(t,
		`{"3d_secure":true,"x-y":1,"x_y":2,"-":"dash","id":"a","ID":"b","type":{"type":"x"},"odd":{"":1},"empty":{},"n":null}`,
		`{"3d_secure":false,"x-y":1,"x_y":2,"id":"a","ID":"b","type":{"type":"y"},"odd":{"a,b":1},"empty":{},"n":null}`,
	)
	src, err := s.Go("edge", "Edge")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parser.ParseFile(token.NewFileSet(), "x.go", src, 0); err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	for _, want := range []string{
		"X3dSecure bool `json:\"3d_secure\"`",
		"XY int64 `json:\"x-y\"`",
		"XY2 int64 `json:\"x_y\"`",
		"Field string `json:\"-,omitempty\"`",
		"ID string `json:\"ID\"`",
		"ID2 string `json:\"id\"`",
		"Type EdgeType `json:\"type\"`",
		"type EdgeType struct",
		"Odd map[string]any `json:\"odd\"`",
		"Empty map[string]any `json:\"empty\"`",
		"N any `json:\"n\"`",
	} {
		if !bytes.Contains(collapseSpaces(src), []byte(want)) {
			t.Errorf("missing %q in\n%s", want, src)
		}
	}
	if _, err := s.Go("not a package", "T"); err == nil {
		t.Error("invalid package name accepted")
	}
}

func collapseSpaces(b []byte) []byte {
	return []byte(strings.Join(strings.FieldsFunc(string(b), func(r rune) bool { return r == ' ' || r == '\t' }), " "))
}

func TestGoTypes(t *testing.T) {
	s := mustInfer(t,
		`{"data":{"object":{"amount":100,"fee":1.5,"paid":true,"meta":{"k":"v"},"items":[{"p":1}],"card":null,"when":"2021-11-02T20:43:19Z"}}}`,
		`{"data":{"object":{"amount":200,"fee":2,"paid":false,"items":[{"p":2},null],"card":{"last4":"4242"},"when":null,"req":"x"}}}`,
		`{"data":{"object":{"amount":300,"fee":2,"paid":false,"items":[],"card":null,"when":"2021-11-02T20:43:19Z","req":{"id":"x"}}}}`,
	)
	src, err := s.Go("stripe", "PaymentIntent")
	if err != nil {
		t.Fatal(err)
	}
	c := collapseSpaces(src)
	for _, want := range []string{
		"import \"encoding/json\"",
		"Data PaymentIntentData `json:\"data\"`",
		"Object PaymentIntentDataObject `json:\"object\"`",
		"Amount int64 `json:\"amount\"`",
		"Fee float64 `json:\"fee\"`",
		"Paid bool `json:\"paid\"`",
		"Meta *PaymentIntentDataObjectMeta `json:\"meta,omitempty\"`",
		"Items []*PaymentIntentDataObjectItemsItem `json:\"items\"`",
		"Card *PaymentIntentDataObjectCard `json:\"card\"`",
		"When *string `json:\"when\"` // date-time",
		"Req json.RawMessage `json:\"req,omitempty\"`",
	} {
		if !bytes.Contains(c, []byte(want)) {
			t.Errorf("missing %q in\n%s", want, src)
		}
	}
}

func TestTypeScriptRendering(t *testing.T) {
	s := mustInfer(t,
		`{"type":"a","n":1,"f":null,"o":{"x-y":1},"l":[1.5],"u":"s","e":[]}`,
		`{"type":"b","n":2,"f":1,"o":{"x-y":2},"l":[],"u":{"k":true},"e":[]}`,
		`{"type":"a","n":3,"l":[2],"u":"t","e":[]}`,
		`{"type":"b","n":4,"l":[2],"u":"t","e":[]}`,
	)
	b, err := s.TypeScript("Event")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"export interface Event {",
		`type: "a" | "b";`,
		"n: number;",
		"f?: number | null;",
		"o?: EventO;",
		`"x-y": number;`,
		"l: Array<number>;",
		"u: EventU | string;",
		"e: unknown[];",
		"export interface EventU {",
	} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("missing %q in\n%s", want, b)
		}
	}
}

func TestTree(t *testing.T) {
	s := mustInfer(t,
		`{"id":"evt_1NfXYZabc123","type":"payment_intent.succeeded","data":{"object":{"amount":100}}}`,
		`{"id":"evt_2NfXYZabc123","type":"charge.refunded","data":{"object":{}}}`,
		`{"id":"evt_3NfXYZabc123","type":"payment_intent.succeeded","data":{"object":{"amount":300}},"lines":[{"a":1},{"a":2}]}`,
		`{"id":"evt_4NfXYZabc123","type":"charge.refunded","data":{"object":{"amount":400}}}`,
	)
	want := `object (4 samples)
├─ data: object (100%)
│  └─ object: object (100%)
│     └─ amount: integer (75%)  e.g. 100
├─ id: string, prefix evt_ (100%)  e.g. "evt_1NfXYZabc123"
├─ lines: array (25%)
│  └─ []: object (2 items)
│     └─ a: integer (100%)  e.g. 1
└─ type: enum "charge.refunded" | "payment_intent.succeeded" (100%)
`
	if got := s.Tree(); got != want {
		t.Errorf("tree:\n%s\nwant:\n%s", got, want)
	}
}

func TestDiff(t *testing.T) {
	older := mustInfer(t, `{"id":"evt_1","amount":100,"gone":true,"obj":{"a":1,"b":"x"},"list":[{"k":1}],"req":{"id":"r"}}`)
	newer := mustInfer(t, `{"id":"evt_1","amount":1.5,"new":{"deep":1},"obj":{"a":"1","b":"x","c":null},"list":[{"k":1,"v":2}],"req":null}`)
	got := Diff(older, newer)
	want := []Change{
		{Path: "amount", Kind: ChangeType, Old: "integer", New: "number"},
		{Path: "gone", Kind: ChangeRemoved, Old: "boolean"},
		{Path: "list[].v", Kind: ChangeAdded, New: "integer"},
		{Path: "new", Kind: ChangeAdded, New: "object"},
		{Path: "obj.a", Kind: ChangeType, Old: "integer", New: "string"},
		{Path: "obj.c", Kind: ChangeAdded, New: "null"},
		{Path: "req", Kind: ChangeType, Old: "object", New: "null"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Diff =\n%v\nwant\n%v", got, want)
	}
	if d := Diff(older, older); len(d) != 0 {
		t.Errorf("Diff with itself = %v", d)
	}
}

func TestInferFormSlackSlashCommand(t *testing.T) {
	bodies := [][]byte{
		[]byte("token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"),
		[]byte("token=fixed-value&team_id=T111&team_domain=domain-value&channel_id=C111&channel_name=random&user_id=W111&user_name=primary-owner&command=%2Fhello-bolt-js&text=&api_app_id=A111&is_enterprise_install=false&enterprise_id=E111&enterprise_name=Sandbox+Org&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT111%2F111%2Fxxx&trigger_id=111.222.xxx"),
	}
	s, err := InferForm(bodies)
	if err != nil {
		t.Fatal(err)
	}
	if got := at(s, "command"); got == nil || got.TypeString() != "string" || got.Count != 2 {
		t.Fatalf("command = %+v", got)
	}
	if got := at(s, "response_url"); got.Format != FormatURI {
		t.Errorf("response_url format = %q", got.Format)
	}
	if got := at(s, "api_app_id"); got.Count != 1 || s.Required(&Field{Name: "api_app_id", Shape: got}) {
		t.Errorf("api_app_id should be optional: %+v", got)
	}
	if got := at(s, "is_enterprise_install"); got.TypeString() != "string" {
		t.Errorf("form values are strings, got %s", got.TypeString())
	}
	// a payload= field holding JSON (interactive components) is shaped as JSON
	payload := "payload=%7B%22type%22%3A%22shortcut%22%2C%22team%22%3A%7B%22id%22%3A%22T111%22%7D%2C%22is_enterprise_install%22%3Afalse%7D"
	s, err = InferForm([][]byte{[]byte(payload)})
	if err != nil {
		t.Fatal(err)
	}
	if got := at(s, "payload.team.id"); got == nil || got.TypeString() != "string" {
		t.Fatalf("payload.team.id missing:\n%s", s.Tree())
	}
	if got := at(s, "payload.is_enterprise_install"); got.TypeString() != "boolean" {
		t.Errorf("JSON inside the form keeps its kinds, got %s", got.TypeString())
	}
}

func TestInferFormTwilioSMS(t *testing.T) {
	body := []byte("AccountSid=ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb&AddOns=%7B+%22status%22%3A+%22successful%22%2C+%22message%22%3A+null%2C+%22code%22%3A+null%2C+%22results%22%3A+%7B+%7D+%7D&ApiVersion=2010-04-01&From=%2B15017122661&FromCity=SAN+FRANCISCO&To=%2B15558675310&Body=Ahoy&MessageSid=SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa&NumMedia=0&NumSegments=1&SmsStatus=received")
	s, err := InferForm([][]byte{body, body})
	if err != nil {
		t.Fatal(err)
	}
	for path, typ := range map[string]string{
		"Body": "string", "From": "string", "NumMedia": "string", "FromCity": "string",
		"AddOns": "object", "AddOns.status": "string", "AddOns.message": "null", "AddOns.results": "object",
	} {
		got := at(s, path)
		if got == nil || got.TypeString() != typ {
			t.Errorf("%s: got %v, want %s", path, got, typ)
		}
	}
	if got := at(s, "Body").Examples[0].Value; string(got) != `"Ahoy"` {
		t.Errorf("Body example = %s", got)
	}
	doc, err := FormJSON([]byte("a=1&a=2&b=x"))
	if err != nil || string(doc) != `{"a":["1","2"],"b":"x"}` {
		t.Errorf("repeated keys: %s %v", doc, err)
	}
	if _, err := InferForm([][]byte{[]byte("a=%zz")}); err == nil || !strings.Contains(err.Error(), "sample 0") {
		t.Errorf("bad form: %v", err)
	}
}

// TestRepeatedAndInvalidKeys checks keys the way a consumer's JSON parser sees them: a key
// repeated within one object is one field present once, whose type admits every value given
// (encoding/json keeps the last); a key that is not valid UTF-8 is the key with U+FFFD, the
// same field as that key written with an escape.
func TestRepeatedAndInvalidKeys(t *testing.T) {
	tests := []struct {
		name     string
		docs     []string
		fields   int
		field    string
		kinds    []string // sorted
		present  int
		required bool
	}{
		{"repeated key in one of two objects", []string{`{"a":0,"a":{}}`, `{"b":1}`}, 2, "a", []string{"integer", "object"}, 1, false},
		{"repeated key in every object", []string{`{"a":0,"a":"x"}`, `{"a":1}`}, 1, "a", []string{"integer", "string"}, 2, true},
		{"invalid UTF-8 and its escape", []string{"{\"\xd7\":1}", `{"\ufffd":2}`}, 1, "\ufffd", []string{"integer"}, 2, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := mustInfer(t, tc.docs...)
			if len(s.Fields) != tc.fields {
				t.Fatalf("%d fields, want %d", len(s.Fields), tc.fields)
			}
			var f *Field
			for _, g := range s.Fields {
				if g.Name == tc.field {
					f = g
				}
			}
			if f == nil {
				t.Fatalf("no field %q in %v", tc.field, s.Fields)
			}
			if got := slices.Sorted(slices.Values(f.Shape.Kinds())); !slices.Equal(got, tc.kinds) {
				t.Errorf("kinds %q, want %q", got, tc.kinds)
			}
			if f.Present != tc.present || s.Required(f) != tc.required {
				t.Errorf("present %d required %v, want %d %v", f.Present, s.Required(f), tc.present, tc.required)
			}
			sch := compileSchema(t, s)
			for _, d := range tc.docs {
				inst, err := jsonschema.UnmarshalJSON(strings.NewReader(d))
				if err != nil {
					t.Fatal(err)
				}
				if err := sch.Validate(inst); err != nil {
					t.Errorf("%q does not validate against its schema: %v", d, err)
				}
			}
		})
	}
}
