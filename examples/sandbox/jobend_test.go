package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/feebridge/feebridge/alma/almatest"
	"github.com/feebridge/feebridge/reconcile"
)

// openOut opens the journal a sandbox left in its -out folder.
func openOut(t *testing.T, dir string) *reconcile.Journal {
	t.Helper()
	j, err := reconcile.OpenJournal(t.Context(), filepath.Join(dir, "journal.db"), &reconcile.JournalOptions{MustExist: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

// TestWeekChargesOnJobEnd (issue 18): with -job-end, the charges job
// starts on the JOB_END of Alma's 18:00 export, not at 18:30: the run
// history shows each evening's run that charged starting at 18:00 (the
// simulated clock), and the scheduled 18:30 run, coming second, finding
// nothing new. Every job end's counts agreed with its file.
func TestWeekChargesOnJobEnd(t *testing.T) {
	s := small(1, 0)
	s.JobEnd = true
	s.OutDir = t.TempDir()
	out := runSandbox(t, s)
	if strings.Contains(out, "18:30  feesync    charges job") || !strings.Contains(out, "18:00  feesync    charges job") {
		t.Errorf("the timeline does not show the charges job at 18:00:\n%s", out)
	}
	j := openOut(t, s.OutDir)
	runs, err := j.Runs(t.Context(), reconcile.JobCharges, 100)
	if err != nil {
		t.Fatal(err)
	}
	charged := 0
	for _, r := range runs {
		hm := r.Started.Format("15:04")
		switch {
		case r.Records > 0 && hm != "18:00":
			t.Errorf("a charges run started at %s charged %d records; want every charging run at 18:00", hm, r.Records)
		case r.Records > 0:
			charged++
		case hm == "18:30" && r.Files != 0:
			t.Errorf("the scheduled 18:30 run found %d files after the JOB_END's run", r.Files)
		}
	}
	if charged != s.Days {
		t.Errorf("%d charges runs at 18:00 charged something, want one per day (%d)", charged, s.Days)
	}
	ends, err := j.AllJobEnds(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	agreed := 0
	for _, e := range ends {
		if e.Job == reconcile.JobCharges && e.Result == reconcile.JobEndAgreed && e.FileRecords == e.Records {
			agreed++
		}
		if e.Result == reconcile.JobEndDisagreed {
			t.Errorf("job end %s disagreed with %s", e.InstanceID, e.File)
		}
	}
	if agreed != s.Days {
		t.Errorf("%d export job ends agreed with their file, want %d", agreed, s.Days)
	}
}

// TestWeekJobEndCountDisagrees (issue 18): Alma's first export announces
// one fine more than its file holds. The file goes to failed/ with both
// numbers, nothing of it is charged, and the week cannot end reconciled
// (Alma transferred those fees); the next day's export is charged.
func TestWeekJobEndCountDisagrees(t *testing.T) {
	s := small(1, 0)
	s.JobEnd, s.Days = true, 2
	s.OutDir = t.TempDir()
	var out bytes.Buffer
	s.Stdout = &out
	told := false
	s.tamper = func(ctx context.Context, d *district, task string) error {
		if task == "alma-export" && !told {
			d.sim.Alma().FailNextExport(almatest.JobEndFault{Records: 1})
			told = true
		}
		return nil
	}
	err := s.Run(t.Context())
	s.Close()
	if !errors.Is(err, ErrNotReconciled) {
		t.Fatalf("Run = %v, want ErrNotReconciled\n%s", err, out.String())
	}
	failed := filepath.Join(s.OutDir, "library", "exports", "failed")
	entries, err := os.ReadDir(failed)
	if err != nil {
		t.Fatal(err)
	}
	var export, reason string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".xml") {
			export = e.Name()
		} else {
			b, err := os.ReadFile(filepath.Join(failed, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			reason = string(b)
		}
	}
	if export == "" || !strings.Contains(reason, "said it exported") || !strings.Contains(reason, "but the file holds") {
		t.Fatalf("failed/ holds %v; reason %q", entries, reason)
	}
	j := openOut(t, s.OutDir)
	charges, err := j.Records(t.Context(), reconcile.KindCharge, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(charges) == 0 {
		t.Fatal("nothing charged at all: the second day's export should be")
	}
	for _, r := range charges {
		if r.File == export {
			t.Errorf("charge %s of the refused export %s was journaled", r.Key, export)
		}
	}
	if !strings.Contains(out.String(), "charges failed file "+export) && !strings.Contains(out.String(), export) {
		t.Errorf("the output does not name the refused export %s:\n%s", export, out.String())
	}
}
