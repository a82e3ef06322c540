package reconcile_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile"
	"github.com/google/go-cmp/cmp"
)

func exportA(e *env) {
	e.put(e.library, "exports/alma-1-0301.xml",
		"fee|T1|S001|F1|LOSTITEMREPLACEMENTFEE|B100|120.00",
		"fee|T2|S001|F2|LOSTITEMPROCESSFEE|B100|15.00",
		"fee|T3|S002|F3|OVERDUEFINE|B200|0.82",
		"end|3")
}

func TestChargesPublishesOneFilePerExport(t *testing.T) {
	e := newEnv(t)
	exportA(e)
	res, err := e.jobs(nil).Charges(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if res.Records != 3 || !res.Total.Equal(usd("135.82")) || !res.Clean() || len(res.Outputs) != 1 {
		t.Fatalf("result = %+v", res)
	}
	got := files(t, e.bursar)
	out := got[res.Outputs[0]]
	want := "H|2026-03-02T12:00:00Z\nC|T1|S001|LOSTITEMREPLACEMENTFEE|120.00\nC|T2|S001|LOSTITEMPROCESSFEE|15.00\nC|T3|S002|OVERDUEFINE|0.82\nT|3|135.82\n"
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("charge file (-want +got):\n%s", diff)
	}
	lib := files(t, e.library)
	if _, ok := lib["exports/done/alma-1-0301.xml"]; !ok {
		t.Errorf("export not moved to done/: %v", keys(lib))
	}
	r, ok, err := e.journal.Get(t.Context(), reconcile.KindCharge, "T1/LOSTITEMREPLACEMENTFEE")
	if err != nil || !ok {
		t.Fatalf("journal has no T1: %v", err)
	}
	if r.Outcome != reconcile.OutcomeCharged || r.Output != res.Outputs[0] || r.File != "alma-1-0301.xml" || !r.Amount.Equal(usd("120.00")) {
		t.Errorf("T1 = %+v", r)
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestChargesRunTwiceChangesNothing(t *testing.T) {
	e := newEnv(t)
	exportA(e)
	if _, err := e.jobs(nil).Charges(t.Context()); err != nil {
		t.Fatal(err)
	}
	before := e.state()
	res, err := e.jobs(nil).Charges(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if res.Files != 0 || res.Records != 0 {
		t.Errorf("second run = %+v", res)
	}
	if diff := cmp.Diff(before, e.state()); diff != "" {
		t.Errorf("second run changed the state (-before +after):\n%s", diff)
	}
}

func TestChargesSameFileUnderTwoNamesIsProcessedOnce(t *testing.T) {
	e := newEnv(t)
	exportA(e)
	lines := strings.Split(strings.TrimSpace(files(t, e.library)["exports/alma-1-0301.xml"]), "\n")
	e.put(e.library, "exports/alma-1-0301-again.xml", lines...)
	res, err := e.jobs(nil).Charges(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if res.Files != 2 || res.Duplicates != 1 || res.Records != 3 || len(res.Outputs) != 1 {
		t.Errorf("result = %+v", res)
	}
	lib := files(t, e.library)
	for _, name := range []string{"exports/done/alma-1-0301.xml", "exports/done/alma-1-0301-again.xml"} {
		if _, ok := lib[name]; !ok {
			t.Errorf("%s missing: %v", name, keys(lib))
		}
	}
	fs, _ := e.journal.Files(t.Context(), "charges")
	if len(fs) != 2 || fs[1].Status != reconcile.FileDuplicate || fs[1].DuplicateOf != fs[0].ID {
		t.Errorf("files = %+v", fs)
	}
}

func TestChargesSkipFeesAlreadySent(t *testing.T) {
	e := newEnv(t)
	exportA(e)
	if _, err := e.jobs(nil).Charges(t.Context()); err != nil {
		t.Fatal(err)
	}
	// A later export that repeats T3 next to a new fee.
	e.put(e.library, "exports/alma-2-0302.xml", "fee|T3|S002|F3|OVERDUEFINE|B200|0.82", "fee|T4|S003|F4|OVERDUEFINE|B300|2.00", "end|2")
	res, err := e.jobs(nil).Charges(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if res.Records != 1 || res.Skipped != 1 || !res.Total.Equal(usd("2.00")) {
		t.Errorf("result = %+v", res)
	}
}

func TestChargesBadInput(t *testing.T) {
	e := newEnv(t)
	e.charges.refuse[fees.TypeDamagedItemFine] = true
	e.put(e.library, "exports/a-broken.xml", "fee|T9|S009|F9|OVERDUEFINE|B9|1.00", "garbage", "end|2")
	e.put(e.library, "exports/b-good.xml",
		"fee|T1|S001|F1|OVERDUEFINE|B1|1.00",
		"fee|T2|S001|F2|DAMAGEDITEMFINE|B2|30.00",
		"bad|T3|amount \"1.234\" has too many decimal places",
		"fee||S001|F5|OVERDUEFINE|B5|4.00",
		"end|4")
	res, err := e.jobs(nil).Charges(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Failed) != 1 || res.Failed[0].File != "a-broken.xml" || !strings.Contains(res.Failed[0].Reason, "line 2") {
		t.Errorf("failed = %+v", res.Failed)
	}
	lib := files(t, e.library)
	if reason := lib["exports/failed/a-broken.xml.reason.txt"]; !strings.Contains(reason, "malformed") {
		t.Errorf("reason file = %q (files %v)", reason, keys(lib))
	}
	if res.Records != 1 {
		t.Errorf("records = %d, want 1", res.Records)
	}
	var got []string
	for _, r := range res.Rejected {
		got = append(got, r.Key)
	}
	if len(got) != 3 || got[0] != "T2/DAMAGEDITEMFINE" || !strings.HasSuffix(got[1], ":3") || !strings.HasSuffix(got[2], ":4") {
		t.Errorf("rejected keys = %q, want T2 and two held under their file and line", got)
	}
	if r, _, _ := e.journal.Get(t.Context(), reconcile.KindCharge, got[1]); r.Ref != "T3" || !strings.Contains(r.Reason, "too many decimal") {
		t.Errorf("unreadable record = %+v", r)
	}
	held, err := e.journal.Records(t.Context(), reconcile.KindCharge, reconcile.OutcomeRejected)
	if err != nil || len(held) != 3 {
		t.Fatalf("held = %+v, %v", held, err)
	}
	// Fix the configuration and re-drive: T2 goes out in a new file.
	delete(e.charges.refuse, fees.TypeDamagedItemFine)
	rd, err := e.jobs(nil).Redrive(t.Context(), reconcile.KindCharge)
	if err != nil {
		t.Fatal(err)
	}
	if rd.Records != 1 || !rd.Total.Equal(usd("30.00")) || len(rd.Outputs) != 1 {
		t.Errorf("redrive = %+v", rd)
	}
	if r, _, _ := e.journal.Get(t.Context(), reconcile.KindCharge, "T2/DAMAGEDITEMFINE"); r.Outcome != reconcile.OutcomeCharged || r.Output != rd.Outputs[0] {
		t.Errorf("T2 after redrive = %+v", r)
	}
	again, err := e.jobs(nil).Redrive(t.Context(), reconcile.KindCharge)
	if err != nil || again.Records != 0 {
		t.Errorf("second redrive = %+v, %v", again, err)
	}
}

// TestChargesCrashAtEachStep injects a fault at each step, reruns, and
// expects the state of a run without the fault.
func TestChargesCrashAtEachStep(t *testing.T) {
	crashAtEachStep(t, func(e *env) {
		exportA(e)
		e.put(e.library, "exports/alma-2-0302.xml", "fee|T4|S003|F4|OVERDUEFINE|B300|2.00", "fee|T1|S001|F1|LOSTITEMREPLACEMENTFEE|B100|120.00", "end|2")
	}, map[string][]int{reconcile.StepDecide: {1, 2}, reconcile.StepPublish: {1, 2}, reconcile.StepCommit: {1, 2}, reconcile.StepDone: {1, 2}})
}

// crashAtEachStep runs the charges job on what setup puts, with a fault at
// each step at the times of steps (the nth time the step is reached),
// reruns after reopening the journal, and expects the state of a run
// without the fault.
func crashAtEachStep(t *testing.T, setup func(e *env), steps map[string][]int) {
	clean := newEnv(t)
	setup(clean)
	if _, err := clean.jobs(nil).Charges(t.Context()); err != nil {
		t.Fatal(err)
	}
	want := clean.state()
	for _, step := range []string{reconcile.StepDecide, reconcile.StepPublish, reconcile.StepCommit, reconcile.StepDone} {
		for _, nth := range steps[step] {
			t.Run(fmt.Sprint(step, nth), func(t *testing.T) {
				e := newEnv(t)
				setup(e)
				crash := errors.New("crash")
				seen := 0
				res, err := e.jobs(func(s string) error {
					if s == step {
						seen++
						if seen == nth {
							return crash
						}
					}
					return nil
				}).Charges(t.Context())
				if !errors.Is(err, crash) {
					t.Fatalf("run with a fault at %s #%d: err = %v %+v", step, nth, err, res)
				}
				// The process died: reopen the journal, as a new process would.
				e.journal.Close()
				e.openJournal()
				if _, err := e.jobs(nil).Charges(t.Context()); err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(want, e.state()); diff != "" {
					t.Errorf("after a crash at %s #%d and a rerun (-clean +got):\n%s", step, nth, diff)
				}
			})
		}
	}
}

func TestChargesDryRunWritesNothing(t *testing.T) {
	e := newEnv(t)
	exportA(e)
	before := e.state()
	e.opts.DryRun = true
	res, err := e.jobs(nil).Charges(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if res.Records != 3 || len(res.Outputs) != 1 {
		t.Errorf("dry run = %+v", res)
	}
	if diff := cmp.Diff(before, e.state()); diff != "" {
		t.Errorf("dry run changed the state:\n%s", diff)
	}
}

func TestJobLockKeepsOneRunAtATime(t *testing.T) {
	e := newEnv(t)
	release, err := e.journal.Lock(t.Context(), "job:charges", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.jobs(nil).Charges(t.Context()); !errors.Is(err, reconcile.ErrLocked) {
		t.Errorf("run while locked: err = %v, want ErrLocked", err)
	}
	// A lock left by a killed process expires.
	e.now = e.now.Add(2 * time.Hour)
	if _, err := e.jobs(nil).Charges(t.Context()); err != nil {
		t.Errorf("run after the lease expired: %v", err)
	}
	release()
}

func TestRedriveCrashAtEachStep(t *testing.T) {
	setup := func(t *testing.T, e *env) {
		e.charges.refuse[fees.TypeDamagedItemFine] = true
		e.put(e.library, "exports/x.xml", "fee|T1|S001|F1|DAMAGEDITEMFINE|B1|30.00", "fee|T2|S002|F2|DAMAGEDITEMFINE|B2|5.00", "end|2")
		if _, err := e.jobs(nil).Charges(t.Context()); err != nil {
			t.Fatal(err)
		}
		delete(e.charges.refuse, fees.TypeDamagedItemFine)
	}
	clean := newEnv(t)
	setup(t, clean)
	if _, err := clean.jobs(nil).Redrive(t.Context(), reconcile.KindCharge); err != nil {
		t.Fatal(err)
	}
	want := clean.state()
	for _, step := range []string{reconcile.StepDecide, reconcile.StepPublish, reconcile.StepCommit} {
		t.Run(step, func(t *testing.T) {
			e := newEnv(t)
			setup(t, e)
			crash := errors.New("crash")
			_, err := e.jobs(func(s string) error {
				if s == step {
					return crash
				}
				return nil
			}).Redrive(t.Context(), reconcile.KindCharge)
			if !errors.Is(err, crash) {
				t.Fatalf("fault at %s: err = %v", step, err)
			}
			if _, err := e.jobs(nil).Redrive(t.Context(), reconcile.KindCharge); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, e.state()); diff != "" {
				t.Errorf("after a crash at %s and a rerun (-clean +got):\n%s", step, diff)
			}
		})
	}
}

func TestChargesWriterRefusalHoldsTheRecord(t *testing.T) {
	e := newEnv(t)
	e.put(e.library, "exports/x.xml",
		"fee|T1|S001|F1|OVERDUEFINE|B1|1.00",
		"fee|T2|S0000000000002|F2|OVERDUEFINE|B2|2.00",
		"fee|T3|S003|F3|OVERDUEFINE|B3|3.00",
		"end|3")
	res, err := e.jobs(nil).Charges(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if res.Records != 2 || !res.Total.Equal(usd("4.00")) || len(res.Rejected) != 1 || res.Rejected[0].Key != "T2/OVERDUEFINE" ||
		!strings.Contains(res.Rejected[0].Reason, "longer than 8") {
		t.Fatalf("result = %+v", res)
	}
	want := "H|2026-03-02T12:00:00Z\nC|T1|S001|OVERDUEFINE|1.00\nC|T3|S003|OVERDUEFINE|3.00\nT|2|4.00\n"
	if diff := cmp.Diff(want, files(t, e.bursar)[res.Outputs[0]]); diff != "" {
		t.Errorf("charge file (-want +got):\n%s", diff)
	}
	r, _, _ := e.journal.Get(t.Context(), reconcile.KindCharge, "T2/OVERDUEFINE")
	if r.Outcome != reconcile.OutcomeRejected || r.Payload == "" {
		t.Errorf("T2 = %+v", r)
	}
}
