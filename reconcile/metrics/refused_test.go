package metrics_test

import (
	"strings"
	"testing"
	"time"

	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/reconcile/journal"
	"github.com/feebridge/feebridge/reconcile/metrics"
)

// TestBursarRefusedLines: the lines held from the bursar's load results
// are counted over every results file, and only those.
func TestBursarRefusedLines(t *testing.T) {
	ctx := t.Context()
	j, err := journal.OpenMemory(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	at := time.Date(2026, 9, 15, 18, 0, 0, 0, time.UTC)
	for i, f := range []journal.FileRecord{
		{Job: reconcile.JobResults, Name: "r1.csv", Rejected: 2},
		{Job: reconcile.JobResults, Name: "r2.csv", Rejected: 1},
		{Job: reconcile.JobPayments, Name: "p1.csv", Rejected: 5},
	} {
		f.SHA256, f.Status, f.Decided, f.Updated = strings.Repeat(string(rune('a'+i)), 64), journal.FileDone, at, at
		if _, err := j.AddFile(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	got := exposition(t, metrics.NewRegistry(j, nil, nil))
	if want := "feebridge_bursar_refused_lines_total 3"; !strings.Contains(got, want) {
		t.Errorf("metrics lack %s:\n%s", want, got)
	}
}
