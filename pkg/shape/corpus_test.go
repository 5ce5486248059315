package shape

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// corpusDir is the shared corpus of real published payloads (see its SOURCES.md).
const corpusDir = "../../../shared/payloads"

// eventType is every sample of one provider/event folder in one encoding.
type eventType struct {
	name  string   // "github/check_run", "slack/slash_command (form)"
	ident string   // type name for Go and TypeScript
	files []string // sample files
	docs  [][]byte // JSON documents (form bodies converted with FormJSON)
	shape *Shape
}

func loadCorpus(t testing.TB) []*eventType {
	t.Helper()
	if _, err := os.Stat(corpusDir); err != nil {
		t.Skipf("payload corpus not found at %s: %v", corpusDir, err)
	}
	groups := map[string]*eventType{}
	err := filepath.WalkDir(corpusDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ext := filepath.Ext(path)
		if ext != ".json" && ext != ".txt" {
			return nil
		}
		rel, _ := filepath.Rel(corpusDir, filepath.Dir(path))
		if rel == "." {
			return nil
		}
		name := filepath.ToSlash(rel)
		if ext == ".txt" {
			name += " (form)"
		}
		g := groups[name]
		if g == nil {
			g = &eventType{name: name}
			groups[name] = g
		}
		g.files = append(g.files, path)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var out []*eventType
	for _, g := range groups {
		sort.Strings(g.files)
		var raw [][]byte
		for _, f := range g.files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			raw = append(raw, b)
		}
		form := strings.HasSuffix(g.name, " (form)")
		if form {
			g.shape, err = InferForm(raw)
			for _, b := range raw {
				d, err := FormJSON(b)
				if err != nil {
					t.Fatalf("%s: %v", g.name, err)
				}
				g.docs = append(g.docs, d)
			}
		} else {
			g.shape, err = Infer(raw)
			g.docs = raw
		}
		if err != nil {
			t.Fatalf("%s: %v", g.name, err)
		}
		g.ident = goIdent(g.name)
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	if len(out) == 0 {
		t.Skip("payload corpus is empty")
	}
	// synthetic edge cases go through the same checks as the corpus
	for _, syn := range synthetic {
		g := &eventType{name: syn.name, ident: goIdent(syn.name)}
		for i, d := range syn.docs {
			g.files = append(g.files, fmt.Sprintf("%s#%d", syn.name, i))
			g.docs = append(g.docs, []byte(d))
		}
		g.shape, err = Infer(g.docs)
		if err != nil {
			t.Fatalf("%s: %v", g.name, err)
		}
		out = append(out, g)
	}
	return out
}

var synthetic = []struct {
	name string
	docs []string
}{
	{"synthetic/edge-keys", []string{
		`{"3d_secure":true,"x-y":1,"x_y":2,"-":"dash","id":"a","ID":"b","type":{"type":"x"},"odd":{"":1},"empty":{},"n":null,"big":18446744073709551616}`,
		`{"3d_secure":false,"x-y":1.5,"x_y":2,"id":"a","ID":"b","type":{"type":"y"},"odd":{"a,b":1},"empty":{},"n":null,"big":1}`,
		`{"3d_secure":false,"x-y":1,"x_y":2,"id":"a","ID":"b","type":null,"odd":{},"empty":{},"n":null,"big":-1,"\u00e9t\u00e9":"\u2028"}`,
	}},
	{"synthetic/unions", []string{
		`{"u":"s","l":[1,"a",null,{"k":1},[2]],"e":"open","nested":[[{"a":1}],[{"b":2}],[]],"ts":1619697430}`,
		`{"u":{"k":[]},"l":[],"e":"open","nested":[],"ts":1619697431}`,
		`{"u":null,"e":"closed","ts":1619697432}`,
		`{"u":3,"e":"closed","ts":1619697433}`,
	}},
	{"synthetic/root-array", []string{`[{"a":1},{"a":2,"b":"x"}]`, `[]`}},
}

func TestCorpusJSONSchemaValidatesEverySample(t *testing.T) {
	samples := 0
	types := loadCorpus(t)
	for _, et := range types {
		t.Run(et.name, func(t *testing.T) {
			schema, err := et.shape.JSONSchema(et.name)
			if err != nil {
				t.Fatal(err)
			}
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
			if err != nil {
				t.Fatalf("schema is not JSON: %v", err)
			}
			c := jsonschema.NewCompiler()
			c.DefaultDraft(jsonschema.Draft2020)
			c.AssertFormat()
			if err := c.AddResource("schema.json", doc); err != nil {
				t.Fatal(err)
			}
			sch, err := c.Compile("schema.json")
			if err != nil {
				t.Fatalf("compile: %v\n%s", err, schema)
			}
			for i, d := range et.docs {
				inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(d))
				if err != nil {
					t.Fatalf("%s: %v", et.files[i], err)
				}
				if err := sch.Validate(inst); err != nil {
					t.Errorf("%s does not validate: %v", et.files[i], err)
				}
				samples++
			}
		})
	}
	t.Logf("%d event types, %d samples validated", len(types), samples)
}

func TestCorpusGoCompilesAndUnmarshalsEverySample(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go module")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	types := loadCorpus(t)
	dir := t.TempDir()
	write := func(name string, data []byte) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", []byte("module shapecheck\n\ngo 1.26\n"))
	var imports, checks strings.Builder
	n := 0
	for i, et := range types {
		pkg := fmt.Sprintf("t%03d", i)
		src, err := et.shape.Go(pkg, et.ident)
		if err != nil {
			t.Fatalf("%s: %v", et.name, err)
		}
		write(filepath.Join(pkg, "types.go"), src)
		fmt.Fprintf(&imports, "\t%q\n", "shapecheck/"+pkg)
		for j, d := range et.docs {
			f := fmt.Sprintf("samples/%03d_%02d.json", i, j)
			write(f, d)
			fmt.Fprintf(&checks, "\tcheck[%s.%s](%q, %q)\n", pkg, et.ident, f, et.files[j])
			n++
		}
	}
	main := `package main

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"os"

` + imports.String() + `)

//go:embed samples
var samples embed.FS

var failed int

func check[T any](file, origin string) {
	b, err := samples.ReadFile(file)
	if err == nil {
		d := json.NewDecoder(bytes.NewReader(b))
		d.DisallowUnknownFields()
		var v T
		if err = d.Decode(&v); err == nil {
			if _, e := d.Token(); e != io.EOF {
				err = fmt.Errorf("trailing data")
			}
		}
	}
	if err != nil {
		failed++
		fmt.Printf("%s: %T: %v\n", origin, *new(T), err)
	}
}

func main() {
` + checks.String() + `	if failed > 0 {
		os.Exit(1)
	}
	fmt.Println("ok")
}
`
	write("main.go", []byte(main))
	cmd := exec.Command(goBin, "run", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local", "GOPROXY=off", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("generated Go failed: %v\n%s", err, out)
	}
	t.Logf("%d event types compiled, %d samples unmarshalled with DisallowUnknownFields", len(types), n)
}

// findTSC locates a TypeScript compiler: $HOOKCTL_TSC, then the repository's
// node_modules/.bin/tsc (installed by .ci/run).
func findTSC() string {
	if p := os.Getenv("HOOKCTL_TSC"); p != "" {
		return p
	}
	if p, err := filepath.Abs("../../node_modules/.bin/tsc"); err == nil {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

func TestCorpusTypeScriptTypeChecks(t *testing.T) {
	if testing.Short() {
		t.Skip("runs tsc")
	}
	tsc := findTSC()
	if tsc == "" {
		t.Skip("tsc not found: set HOOKCTL_TSC or `npm install typescript` in the repository root (node_modules/.bin/tsc)")
	}
	types := loadCorpus(t)
	dir := t.TempDir()
	args := []string{"--noEmit", "--strict", "--target", "es2022", "--module", "es2022", "--skipLibCheck"}
	n := 0
	for i, et := range types {
		src, err := et.shape.TypeScript(et.ident)
		if err != nil {
			t.Fatalf("%s: %v", et.name, err)
		}
		var b bytes.Buffer
		b.Write(src)
		for j, d := range et.docs {
			fmt.Fprintf(&b, "\n// %s\nexport const sample%d: %s = %s;\n", et.files[j], j, et.ident, d)
			n++
		}
		f := filepath.Join(dir, fmt.Sprintf("t%03d.ts", i))
		if err := os.WriteFile(f, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, f)
	}
	cmd := exec.Command(tsc, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("tsc failed: %v\n%s", err, out)
	}
	t.Logf("%d event types type-checked with %d samples", len(types), n)
}
