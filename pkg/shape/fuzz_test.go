package shape

import (
	"bytes"
	"encoding/json"
	"go/parser"
	"go/token"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// FuzzInfer infers shapes from arbitrary bytes. Inference never panics and fails exactly on
// invalid JSON; for valid JSON every renderer works, the JSON Schema is valid JSON that every
// sample validates against, and the Go source parses. Form bodies and Diff get the same bytes.
func FuzzInfer(f *testing.F) {
	for _, s := range []struct{ a, b string }{
		{`{"id":"evt_1","object":"event","type":"payment_intent.succeeded","created":1764000000,"data":{"object":{"amount":1.50,"tags":["a","b"]}}}`, `{"id":"evt_2","type":"charge.failed","created":1764000001,"data":{"object":null}}`},
		{`[1, 2.5, "x", null, true, {"a": []}]`, `[]`},
		{`{"3d_secure":true,"x-y":1,"x_y":2,"-":"dash","id":"a","ID":"b","odd":{"":1},"empty":{}}`, `{"a,b":1}`},
		{`{"at":"2024-02-29T12:00:00Z","email":"a@example.com","url":"https://x.test/p","uuid":"123e4567-e89b-12d3-a456-426614174000"}`, `{"at":"not a date"}`},
		{`{"n":123456789012345678901234567890,"ts":1700000000000,"created_at":1700000000}`, `{"n":-0.0e-0}`},
		{`"\u0000\ud800 \"quoted\""`, `null`},
		{`token=x&command=%2Fhook&payload=%7B%22type%22%3A%22block_actions%22%7D&text=a&text=b`, `a=%zz`},
		{`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`, `{"a":{"a":{"a":{"a":{}}}}}`},
		{"", "\xff"},
		{"{\"\xd7\":{}}", `{"":0,"":{}}`},
	} {
		f.Add([]byte(s.a), []byte(s.b))
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		if _, err := InferForm([][]byte{a}); err == nil {
			doc, err := FormJSON(a)
			if err != nil || !json.Valid(doc) {
				t.Fatalf("FormJSON(%q) = %q, %v: not valid JSON", a, doc, err)
			}
		}
		sa, err := Infer([][]byte{a})
		if json.Valid(a) != (err == nil) {
			t.Fatalf("Infer(%q): error %v, but json.Valid says %v", a, err, json.Valid(a))
		}
		if err != nil {
			return
		}
		render(t, sa, a)
		if !json.Valid(b) {
			return
		}
		sab, err := Infer([][]byte{a, b})
		if err != nil {
			t.Fatalf("Infer of two valid documents: %v", err)
		}
		if sab.Count != 2 {
			t.Errorf("two samples counted as %d", sab.Count)
		}
		render(t, sab, a, b)
		Diff(sa, sab)
		Diff(sab, sa)
	})
}

// render runs every renderer on s and checks the JSON Schema against the samples.
func render(t *testing.T, s *Shape, samples ...[]byte) {
	t.Helper()
	s.Tree()
	s.TypeString()
	if _, err := s.TypeScript("Payload"); err != nil {
		t.Fatalf("TypeScript: %v", err)
	}
	src, err := s.Go("payload", "Payload")
	if err != nil {
		t.Fatalf("Go: %v", err)
	}
	if _, err := parser.ParseFile(token.NewFileSet(), "payload.go", src, 0); err != nil {
		t.Fatalf("Go source does not parse: %v\n%s", err, src)
	}
	sch := compileSchema(t, s) // valid JSON that compiles
	for _, sample := range samples {
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(sample))
		if err != nil {
			t.Fatalf("jsonschema cannot read %q: %v", sample, err)
		}
		if err := sch.Validate(inst); err != nil {
			t.Errorf("sample %q does not validate against its own schema: %v", sample, err)
		}
	}
}
