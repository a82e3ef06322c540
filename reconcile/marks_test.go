package reconcile_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/feebridge/feebridge/reconcile"
)

// restoreJournal closes e's journal and puts the file backup in its
// place, as an operator restoring a backup does, then opens it again.
func (e *env) restoreJournal(backup string) {
	e.t.Helper()
	e.journal.Close()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(e.dbPath + suffix)
	}
	data, err := os.ReadFile(backup)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(e.dbPath, data, 0o600); err != nil {
		e.t.Fatal(err)
	}
	e.openJournal()
}

// TestRestoredJournalRefusesToPublish: a journal restored from a backup
// taken before a publication finds the drop mark ahead of it; the
// publishing jobs refuse to run, naming the mark and the file published
// after the backup, and publish nothing, until the marks are accepted
// (kept in the journal as an audit row).
func TestRestoredJournalRefusesToPublish(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	e.put(e.library, "exports/alma-1-0301.xml", "fee|T1|S001|F1|OVERDUEFINE|B100|1.00", "end|1")
	if _, err := e.jobs(nil).Charges(ctx); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(e.dir, "backup.db")
	if err := e.journal.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	e.now = day(1)
	e.put(e.library, "exports/alma-2-0302.xml", "fee|T2|S001|F2|OVERDUEFINE|B100|292.00", "end|1")
	res, err := e.jobs(nil).Charges(ctx)
	if err != nil || len(res.Outputs) != 1 {
		t.Fatalf("second run: %+v, %v", res, err)
	}
	second := res.Outputs[0]
	var mark reconcile.Mark
	data, err := e.bursar.ReadFile(ctx, "inbound/"+reconcile.MarkDir+"/mark-charges")
	if err != nil || json.Unmarshal(data, &mark) != nil || mark.Seq != 2 || mark.Output != second || mark.Job != "charges" {
		t.Fatalf("mark after the second publication: %s, %v", data, err)
	}

	// The journal is lost and restored from the backup; the second export
	// is delivered again under another name.
	e.restoreJournal(backup)
	before := files(t, e.bursar)
	e.put(e.library, "exports/alma-2-0302-again.xml", "fee|T2|S001|F2|OVERDUEFINE|B100|292.00", "end|1")
	for name, run := range map[string]func() (reconcile.RunResult, error){
		"charges":        func() (reconcile.RunResult, error) { return e.jobs(nil).Charges(ctx) },
		"credits":        func() (reconcile.RunResult, error) { return e.jobs(nil).Credits(ctx) },
		"payments":       func() (reconcile.RunResult, error) { return e.jobs(nil).Payments(ctx) },
		"redrive charge": func() (reconcile.RunResult, error) { return e.jobs(nil).Redrive(ctx, reconcile.KindCharge) },
	} {
		_, err := run()
		var me *reconcile.MarkError
		if !errors.As(err, &me) {
			t.Fatalf("%s after the restore: %v, want a *MarkError", name, err)
		}
		msg := err.Error()
		for _, want := range []string{"peoplesoft:inbound/.feebridge/mark-charges", "restored from an older backup",
			"publication 2", "up to 1", "peoplesoft:" + second} {
			if !strings.Contains(msg, want) {
				t.Errorf("%s: error %q does not name %q", name, msg, want)
			}
		}
	}
	if diff := files(t, e.bursar); len(diff) != len(before) {
		t.Fatalf("something was published after the restore: %v", diff)
	}
	if _, err := e.library.Stat(ctx, "exports/alma-2-0302-again.xml"); err != nil {
		t.Fatalf("the export was claimed: %v", err)
	}

	// The operator accepts: an audit row, and the jobs run again.
	problems, err := e.jobs(nil).AcceptMarks(ctx, "restored Sunday's backup; T2 already charged, export removed")
	if err != nil || len(problems) != 1 || len(problems[0].Unknown) != 1 || problems[0].Unknown[0] != "peoplesoft:"+second {
		t.Fatalf("AcceptMarks = %+v, %v", problems, err)
	}
	as, err := e.journal.Acceptances(ctx)
	if err != nil || len(as) != 1 || as[0].MarkSeq != 2 || as[0].JournalSeq != 1 || !strings.Contains(as[0].Reason, "Sunday") {
		t.Fatalf("Acceptances = %+v, %v", as, err)
	}
	if err := e.library.Remove(ctx, "exports/alma-2-0302-again.xml"); err != nil {
		t.Fatal(err)
	}
	e.now = day(2)
	e.put(e.library, "exports/alma-3-0303.xml", "fee|T3|S002|F3|OVERDUEFINE|B100|5.00", "end|1")
	res, err = e.jobs(nil).Charges(ctx)
	if err != nil || len(res.Outputs) != 1 {
		t.Fatalf("run after the acceptance: %+v, %v", res, err)
	}
	data, _ = e.bursar.ReadFile(ctx, "inbound/"+reconcile.MarkDir+"/mark-charges")
	if json.Unmarshal(data, &mark) != nil || mark.Seq != 3 {
		t.Fatalf("mark after the acceptance: %s; want sequence 3, after the accepted 2", data)
	}
}

// TestNewJournalRefusesToPublish: a new journal in the place of one lost
// finds the drop marks of the old one and publishes nothing.
func TestNewJournalRefusesToPublish(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	e.put(e.library, "exports/alma-1-0301.xml", "fee|T1|S001|F1|OVERDUEFINE|B100|292.00", "end|1")
	res, err := e.jobs(nil).Charges(ctx)
	if err != nil || len(res.Outputs) != 1 {
		t.Fatalf("first run: %+v, %v", res, err)
	}
	e.journal.Close()
	os.Remove(e.dbPath)
	os.Remove(e.dbPath + "-wal")
	os.Remove(e.dbPath + "-shm")
	e.openJournal()
	e.put(e.library, "exports/alma-1-0301-again.xml", "fee|T1|S001|F1|OVERDUEFINE|B100|292.00", "end|1")
	_, err = e.jobs(nil).Charges(ctx)
	var me *reconcile.MarkError
	if !errors.As(err, &me) || !strings.Contains(err.Error(), "replaced by a new one") || !strings.Contains(err.Error(), res.Outputs[0]) {
		t.Fatalf("charges over a new journal: %v, want a *MarkError naming %s", err, res.Outputs[0])
	}
	if n := len(files(t, e.bursar)); n != 1 {
		t.Fatalf("%d files in the bursar drop, want the first one alone", n)
	}
}

// TestRejournalAfterRestore: after a restore, Rejournal journals the
// export processed after the backup (found in done/) without publishing;
// once the marks are accepted, the same export delivered again is a
// duplicate and nothing is charged twice.
func TestRejournalAfterRestore(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	e.put(e.library, "exports/alma-1-0301.xml", "fee|T1|S001|F1|OVERDUEFINE|B100|1.00", "end|1")
	if _, err := e.jobs(nil).Charges(ctx); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(e.dir, "backup.db")
	if err := e.journal.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	e.now = day(1)
	e.put(e.library, "exports/alma-2-0302.xml", "fee|T2|S001|F2|OVERDUEFINE|B100|292.00", "end|1")
	res, err := e.jobs(nil).Charges(ctx)
	if err != nil || len(res.Outputs) != 1 {
		t.Fatalf("second run: %+v, %v", res, err)
	}
	second := res.Outputs[0]
	// PeopleSoft loads the file: it leaves the inbound folder.
	if err := e.bursar.Remove(ctx, second); err != nil {
		t.Fatal(err)
	}
	e.restoreJournal(backup)
	e.put(e.library, "exports/alma-2-0302-again.xml", "fee|T2|S001|F2|OVERDUEFINE|B100|292.00", "end|1")

	jobs := e.jobs(nil)
	rj, err := jobs.Rejournal(ctx)
	if err != nil || rj.Records != 1 || len(rj.Outputs) != 1 || rj.Outputs[0] != second {
		t.Fatalf("Rejournal = %+v, %v; want the second export's charge, output %s", rj, err, second)
	}
	if r, ok, _ := e.journal.Get(ctx, reconcile.KindCharge, "T2/OVERDUEFINE"); !ok || r.Outcome != reconcile.OutcomeCharged || r.Output != second {
		t.Fatalf("T2 after Rejournal: %+v, %v", r, ok)
	}
	if _, err := jobs.AcceptMarks(ctx, "restored the backup; re-journaled"); err != nil {
		t.Fatal(err)
	}
	res, err = jobs.Charges(ctx)
	if err != nil || len(res.Outputs) != 0 || res.Duplicates != 1 {
		t.Fatalf("the export delivered again: %+v, %v; want a duplicate, nothing published", res, err)
	}
	if _, err := e.bursar.Stat(ctx, second); err == nil {
		t.Fatal("the second charge file was published again")
	}
}
