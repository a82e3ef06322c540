package config

import (
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestExampleConfigDocumentsEveryKey checks that the example shows every
// key of the config model, so that it stays the complete reference.
func TestExampleConfigDocumentsEveryKey(t *testing.T) {
	data, err := os.ReadFile("../../examples/feesync/feesync.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	lines := keyLines(data)
	for _, key := range []string{
		"timezone", "currency", "journal",
		"alma.region", "alma.base_url", "alma.api_key_env", "alma.api_key_file", "alma.rate_per_second", "alma.workers", "alma.timeout",
		"alma.daily_reserve", "alma.time_zone",
		"library.type", "library.address", "library.user", "library.tls", "library.password_env", "library.password_file",
		"library.timeout", "library.root", "library.export_folder", "library.credit_folder", "library.import_folder",
		"library.import_taken_folder",
		"peoplesoft.type", "peoplesoft.path", "peoplesoft.inbound_folder", "peoplesoft.outbound_folder",
		"peoplesoft.inbound_taken_folder", "expect_files_within.charges", "expect_files_within.credits", "expect_files_within.payments",
		"seasons[0].name", "seasons[0].start", "seasons[0].end", "seasons[0].suffix", "due_days",
		"layout.charges", "layout.payments", "item_types",
		"terms[0].code", "terms[0].start", "terms[0].end",
		"schedules.charges", "schedules.payments", "schedules.credits", "schedules.reconcile", "schedules.report",
		"waive.reason", "waive.comment", "waive.types",
		"refunds.LOSTITEMREPLACEMENTFEE.policy", "refunds.LOSTITEMREPLACEMENTFEE.ratio", "refund_item_types",
		"report.folder",
		"webhook.listen", "webhook.path", "webhook.secret_env", "webhook.secret_file",
		"webhook.status_token_env", "webhook.status_token_file",
		"log.level", "log.format", "log.show_student_ids",
	} {
		if _, ok := lines[key]; !ok {
			t.Errorf("feesync.example.toml does not show %s", key)
		}
	}
}

func TestKeyLines(t *testing.T) {
	text := "a = 1\n# c = 2\n[t]\nb = \"\"\"\nx = 3\n\"\"\"\n\"q\" . r = 4\n[[arr]]\nk = 1\n[[arr]]\nk = 2\n"
	got := keyLines([]byte(text))
	want := map[string]int{"a": 1, "t": 3, "t.b": 4, "t.q.r": 7, "arr": 8, "arr[0]": 8, "arr[0].k": 9, "arr[1]": 10, "arr[1].k": 11, "arr.k": 9}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("keyLines (-want +got):\n%s", d)
	}
}
