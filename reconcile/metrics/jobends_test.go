package metrics_test

import (
	"strings"
	"testing"
	"time"

	"github.com/feebridge/feebridge/reconcile/journal"
	"github.com/feebridge/feebridge/reconcile/metrics"
)

// TestJobEndMetrics (issue 18): the JOB_END deliveries are counted by the
// Alma job's name and status, and the exports the count check refused.
func TestJobEndMetrics(t *testing.T) {
	ctx := t.Context()
	j, err := journal.OpenMemory(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	at := time.Date(2026, 9, 15, 18, 0, 0, 0, time.UTC)
	for i, st := range []string{"COMPLETED_SUCCESS", "COMPLETED_SUCCESS", "COMPLETED_FAILED"} {
		e := journal.JobEnd{InstanceID: string(rune('A' + i)), Name: "Export to Bursar", Status: st, Records: 1, Users: 1,
			FileRecords: -1, FileUsers: -1, Received: at.Add(time.Duration(i) * time.Hour)}
		if _, err := j.AddJobEnd(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.SetJobEndResult(ctx, "B", "f.xml", 1, 2, journal.JobEndDisagreed); err != nil {
		t.Fatal(err)
	}
	got := exposition(t, metrics.NewRegistry(j, nil, nil))
	for _, want := range []string{
		`feebridge_alma_job_end_total{job="Export to Bursar",status="COMPLETED_SUCCESS"} 2`,
		`feebridge_alma_job_end_total{job="Export to Bursar",status="COMPLETED_FAILED"} 1`,
		"feebridge_alma_export_count_mismatch_total 1",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("metrics lack %s:\n%s", want, got)
		}
	}
}
