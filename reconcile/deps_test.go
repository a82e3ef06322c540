package reconcile_test

import (
	"strings"
	"testing"

	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/transport/memdrop"
)

// TestMissingDepsAreNamedWhenBuilt shows that the jobs built without some
// of their parts say so at once, naming every part missing, and that a job
// run anyway fails with the same error; a job with its parts works.
func TestMissingDepsAreNamedWhenBuilt(t *testing.T) {
	e := newEnv(t)
	jobs, err := reconcile.New(reconcile.Deps{Journal: e.journal, Library: memdrop.New()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		job  string
		want []string // the parts named, "" for none
	}{
		{reconcile.JobCharges, []string{"Bursar", "Export", "Charges"}},
		{reconcile.JobPayments, []string{"Bursar", "Payments", "Import"}},
		{reconcile.JobRedrivePayment, []string{"Payments", "Import"}},
		{reconcile.JobLostReturns, []string{"Alma"}},
		{reconcile.JobReport, nil},
	} {
		err := jobs.Check(tc.job)
		if (err == nil) != (tc.want == nil) {
			t.Errorf("Check(%s) = %v, want parts %v named", tc.job, err, tc.want)
			continue
		}
		for _, part := range tc.want {
			if !strings.Contains(err.Error(), part) {
				t.Errorf("Check(%s) = %v, does not name %s", tc.job, err, part)
			}
		}
	}
	if err := jobs.Check("nonsense"); err == nil {
		t.Error("Check of an unknown job passed")
	}
	if _, err := jobs.Charges(t.Context()); err == nil || err.Error() != jobs.Check(reconcile.JobCharges).Error() {
		t.Errorf("Charges = %v, want the error of Check", err)
	}
	if err := e.jobs(nil).Check(reconcile.JobCharges, reconcile.JobCredits, reconcile.JobPayments); err != nil {
		t.Errorf("the jobs with every part: %v", err)
	}
}
