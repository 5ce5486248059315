package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestTriggerShapeExportImport: signed samples sent by trigger land in the log, shape infers
// their types, and an export imports into another log unchanged.
func TestTriggerShapeExportImport(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "h.db")
	ingress, out, stop := listening(t, db)
	events := []string{"invoice.paid", "invoice.paid", "payment_intent.succeeded"}
	for _, e := range events {
		if code, _, stderr := run(t, db, "trigger", "stripe", e, "--to", ingress); code != 0 {
			t.Fatalf("trigger %s: %s", e, stderr)
		}
	}
	out.waitFor(t, 1+len(events))
	stop()

	code, stdout, stderr := run(t, db, "shape", "--provider", "stripe", "--event", "invoice.paid")
	if code != 0 || !strings.Contains(stdout, "stripe invoice.paid (2 samples)") || !strings.Contains(stdout, "prefix evt_") {
		t.Fatalf("shape tree: %d %s%s", code, stdout, stderr)
	}
	code, stdout, _ = run(t, db, "shape", "--provider", "stripe", "--format", "go")
	if code != 0 || !strings.Contains(stdout, "type StripeInvoicePaid struct") || !strings.Contains(stdout, "type StripePaymentIntentSucceeded struct") {
		t.Fatalf("shape go: %s", stdout)
	}
	if code, _, stderr := run(t, db, "shape", "--format", "yaml"); code != 1 || !strings.Contains(stderr, "--format") {
		t.Fatalf("bad format: %s", stderr)
	}

	har := filepath.Join(dir, "out.har")
	if code, _, stderr := run(t, db, "export", "--format", "har", "-o", har); code != 0 {
		t.Fatalf("export: %s", stderr)
	}
	other := filepath.Join(dir, "other.db")
	if code, stdout, stderr := run(t, other, "import", har); code != 0 || !strings.Contains(stdout, "imported 3 requests") {
		t.Fatalf("import: %s%s", stdout, stderr)
	}
	_, a, _ := run(t, db, "requests", "show", "1", "--body")
	_, b, _ := run(t, other, "requests", "show", "1", "--body")
	if a == "" || a != b {
		t.Fatal("the imported body differs from the original")
	}
	code, stdout, _ = run(t, db, "export", "1", "--format", "curl")
	if code != 0 || !strings.HasPrefix(stdout, "# request 1") || !strings.Contains(stdout, "curl ") {
		t.Fatalf("export curl: %s", stdout)
	}
	if code, _, stderr := run(t, db, "requests", "list", "--provider", "stripe", "--event", "invoice.*", "--json"); code != 0 {
		t.Fatalf("list with filters: %s", stderr)
	}
}
