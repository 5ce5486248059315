package shape

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"
)

// stripeLike returns n payloads made by varying a real Stripe event: ids,
// amounts, timestamps, statuses, optional and nullable fields change from one
// payload to the next.
func stripeLike(tb testing.TB, n int) [][]byte {
	tb.Helper()
	raw, err := os.ReadFile(corpusDir + "/stripe/payment_intent.succeeded/sync-engine.payment_intent_succeeded.json")
	if err != nil {
		tb.Skipf("corpus payload not found: %v", err)
	}
	statuses := []string{"succeeded", "requires_payment_method", "processing", "canceled"}
	out := make([][]byte, n)
	for i := range out {
		var ev map[string]any
		if err := json.Unmarshal(raw, &ev); err != nil {
			tb.Fatal(err)
		}
		ev["id"] = fmt.Sprintf("evt_%024d", i)
		ev["created"] = 1619697430 + i
		obj := ev["data"].(map[string]any)["object"].(map[string]any)
		obj["id"] = fmt.Sprintf("pi_%024d", i*7)
		obj["amount"] = 100 + i%5000
		obj["status"] = statuses[i%len(statuses)]
		if i%3 == 0 {
			obj["description"] = nil
		} else {
			obj["description"] = fmt.Sprintf("order #%d", i)
		}
		if i%10 == 0 {
			obj["metadata"] = map[string]any{"order_id": fmt.Sprint(i), "ratio": 0.5}
		}
		if i%7 == 0 {
			delete(obj, "receipt_email")
		}
		b, err := json.Marshal(ev)
		if err != nil {
			tb.Fatal(err)
		}
		out[i] = b
	}
	return out
}

func BenchmarkInfer(b *testing.B) {
	samples := stripeLike(b, 10000)
	size := 0
	for _, s := range samples {
		size += len(s)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Infer(samples); err != nil {
			b.Fatal(err)
		}
	}
}

// TestInferTenThousandPayloads checks what inference makes of the benchmark's
// input (timing is left to BenchmarkInfer).
func TestInferTenThousandPayloads(t *testing.T) {
	samples := stripeLike(t, 10000)
	s, err := Infer(samples)
	if err != nil {
		t.Fatal(err)
	}
	if s.Count != 10000 {
		t.Fatalf("count = %d", s.Count)
	}
	st := at(s, "data.object.status")
	if len(st.Enum) != 4 {
		t.Errorf("status enum = %v", st.Enum)
	}
	if d := at(s, "data.object.description"); d.TypeString() != "string | null" {
		t.Errorf("description = %s", d.TypeString())
	}
	if m := at(s, "data.object.metadata"); m.Count != 10000 || at(s, "data.object.metadata.ratio").Count != 1000 {
		t.Errorf("metadata count = %d", m.Count)
	}
	if id := at(s, "id"); id.Prefix != "evt_" {
		t.Errorf("id prefix = %q", id.Prefix)
	}
}
