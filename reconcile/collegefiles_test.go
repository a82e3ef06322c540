package reconcile_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/feebridge/feebridge/reconcile"
)

// threeColleges puts an export of fees of three colleges' students (S001
// ARC, S002 CRC, S003 FLC) and asks for a charge file per college.
func threeColleges(e *env) {
	e.opts.SeparateCollegeFiles = true
	e.charges.colleges = map[string]string{"S001": "ARC", "S002": "CRC", "S003": "FLC"}
	e.put(e.library, "exports/alma-1-0301.xml",
		"fee|T1|S001|F1|LOSTITEMREPLACEMENTFEE|B100|120.00",
		"fee|T3|S002|F3|OVERDUEFINE|B200|0.82",
		"fee|T2|S001|F2|LOSTITEMPROCESSFEE|B100|15.00",
		"fee|T4|S003|F4|OVERDUEFINE|B300|2.00",
		"end|4")
}

// TestSeparateCollegeFiles: one export with fees of three colleges gives
// three charge files, each named with its college, holding its lines
// with its own header and trailer (count and total); each charge is
// journaled with its own file.
func TestSeparateCollegeFiles(t *testing.T) {
	e := newEnv(t)
	threeColleges(e)
	res, err := e.jobs(nil).Charges(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if res.Records != 4 || !res.Total.Equal(usd("137.82")) || len(res.Outputs) != 3 {
		t.Fatalf("result = %+v", res)
	}
	got := files(t, e.bursar)
	head := "H|2026-03-02T12:00:00Z\n"
	want := map[string]string{
		"ARC": head + "C|T1|S001|LOSTITEMREPLACEMENTFEE|120.00\nC|T2|S001|LOSTITEMPROCESSFEE|15.00\nT|2|135.00\n",
		"CRC": head + "C|T3|S002|OVERDUEFINE|0.82\nT|1|0.82\n",
		"FLC": head + "C|T4|S003|OVERDUEFINE|2.00\nT|1|2.00\n",
	}
	for i, college := range []string{"ARC", "CRC", "FLC"} {
		name := res.Outputs[i]
		if !strings.HasPrefix(name, "inbound/feebridge-charges-") || !strings.HasSuffix(name, "-"+college+".dat") {
			t.Errorf("output %d = %s, want a name ending -%s.dat", i, name, college)
		}
		if diff := cmp.Diff(want[college], got[name]); diff != "" {
			t.Errorf("%s's charge file (-want +got):\n%s", college, diff)
		}
	}
	for key, output := range map[string]string{"T2/LOSTITEMPROCESSFEE": res.Outputs[0], "T4/OVERDUEFINE": res.Outputs[2]} {
		if r, ok, err := e.journal.Get(t.Context(), reconcile.KindCharge, key); err != nil || !ok || r.Output != output {
			t.Errorf("%s went to %q (%v, %v), want %s", key, r.Output, ok, err, output)
		}
	}
	fs, err := e.journal.Files(t.Context(), reconcile.JobCharges)
	if err != nil || len(fs) != 1 || fs[0].Status != reconcile.FilePublished {
		t.Fatalf("files = %+v, %v", fs, err)
	}
	for _, name := range res.Outputs {
		if ok, err := e.journal.KnowsOutput(t.Context(), name); err != nil || !ok {
			t.Errorf("the journal does not know %s: %v", name, err)
		}
	}
}

// TestSeparateCollegeFilesCrashAtEachStep: a crash at each step of the
// sequence, before each of the three files is put too, then a rerun,
// ends with each college's file written once and nothing charged twice.
func TestSeparateCollegeFilesCrashAtEachStep(t *testing.T) {
	crashAtEachStep(t, threeColleges, map[string][]int{reconcile.StepDecide: {1}, reconcile.StepPublish: {1, 2, 3},
		reconcile.StepCommit: {1}, reconcile.StepDone: {1}})
}

// TestSeparateCollegeFilesAppliedOnce: a crash before the third file is
// put, while PeopleSoft takes the two put to its taken folder, then a
// rerun: each college's lines are applied once.
func TestSeparateCollegeFilesAppliedOnce(t *testing.T) {
	e := newEnv(t)
	threeColleges(e)
	c := &consumer{drop: e.bursar, dir: "inbound", prefix: "C|", applied: map[string]int{}, taken: "inbound/taken"}
	if err := e.bursar.MkdirAll(t.Context(), c.taken); err != nil {
		t.Fatal(err)
	}
	e.opts.Folders.ChargesTaken = c.taken
	crash, puts := errors.New("crash"), 0
	_, err := e.jobs(func(step string) error {
		if step == reconcile.StepPublish {
			if puts++; puts == 3 {
				return crash
			}
		}
		return nil
	}).Charges(t.Context())
	if !errors.Is(err, crash) {
		t.Fatalf("run with a crash before the third put: err = %v", err)
	}
	e.journal.Close()
	e.openJournal()
	c.run(t)
	if len(c.applied) != 3 {
		t.Fatalf("the consumer applied %v after two files, want ARC's and CRC's 3 lines", c.applied)
	}
	if _, err := e.jobs(nil).Charges(t.Context()); err != nil {
		t.Fatal(err)
	}
	c.run(t)
	if len(c.applied) != 4 {
		t.Errorf("applied %v, want the 4 lines", c.applied)
	}
	for rec, n := range c.applied {
		if n != 1 {
			t.Errorf("%s applied %d times, want once", rec, n)
		}
	}
}
