package config

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/transport/memdrop"
)

// TestOpenNamesEveryMissingPart shows that a setup missing parts fails
// when opened, with an error that names each part missing for each job.
func TestOpenNamesEveryMissingPart(t *testing.T) {
	c := Default()
	c.Journal = filepath.Join(t.TempDir(), "journal.db")
	o := &Options{Library: memdrop.New(), Bursar: memdrop.New(), AlmaClient: &alma.Client{}, CreateJournal: true,
		adapt: func(d *reconcile.Deps) { d.Export, d.Import = nil, nil }}
	s, err := Open(t.Context(), c, o)
	if err == nil {
		s.Close()
		t.Fatal("Open succeeded without the export and import formats")
	}
	want := []string{
		"reconcile: charges: missing Export",
		"reconcile: credits: missing Export",
		"reconcile: payments: missing Import",
		"reconcile: redrive-charge: missing Export",
		"reconcile: redrive-credit: missing Export",
		"reconcile: redrive-payment: missing Import",
	}
	if got := strings.Split(err.Error(), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("error\n got: %q\nwant: %q", got, want)
	}
}

// TestWithoutAlma checks the list of the jobs that run without Alma
// against what reconcile says each job needs.
func TestWithoutAlma(t *testing.T) {
	all := []string{reconcile.JobCharges, reconcile.JobCredits, reconcile.JobPayments, reconcile.JobLostReturns,
		reconcile.JobReport, reconcile.JobReconcile, reconcile.JobRedriveCharges, reconcile.JobRedriveCredits,
		reconcile.JobRedrivePayment}
	c := Default()
	c.Journal = filepath.Join(t.TempDir(), "journal.db")
	s, err := Open(t.Context(), c, &Options{Library: memdrop.New(), Bursar: memdrop.New(), NoAlma: true, CreateJournal: true, Jobs: []string{reconcile.JobReport}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, job := range all {
		runs := s.Jobs.Check(job) == nil
		listed := false
		for _, w := range withoutAlma {
			listed = listed || w == job
		}
		if runs != listed {
			t.Errorf("%s: runs without Alma %v, listed in withoutAlma %v", job, runs, listed)
		}
	}
}
