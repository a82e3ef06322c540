package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/feebridge/feebridge/alma/almatest"
	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile/journal"
)

// journalPath is the site's journal file.
func (s *site) journalPath() string { return filepath.Join(filepath.Dir(s.config), "journal.db") }

// loseJournal removes the site's journal (its WAL too), or with empty
// leaves it as a file of 0 bytes.
func (s *site) loseJournal(empty bool) {
	s.t.Helper()
	for _, suffix := range []string{"-wal", "-shm", ""} {
		if err := os.Remove(s.journalPath() + suffix); err != nil && !os.IsNotExist(err) {
			s.t.Fatal(err)
		}
	}
	if empty {
		s.must(os.WriteFile(s.journalPath(), nil, 0o600))
	}
}

// chargeAndExport adds a fee of amount to a new student and runs Alma's
// export: the export's path in the library drop.
func (s *site) chargeAndExport(ctx context.Context, user, amount string) string {
	s.t.Helper()
	s.must(s.alma.AddUser(almatest.User{ID: user, FirstName: "Ada", LastName: "Lovelace"}))
	_, err := s.alma.AddFee(user, almatest.FeeSpec{Type: fees.TypeLostItemReplacementFee, Amount: usd(amount)})
	s.must(err)
	exp, err := s.alma.RunExport(ctx, s.library, "exports", "BURSAR")
	s.must(err)
	return exp.File
}

// redeliver puts the content of a processed export (now in done/) in
// exports/ again under the name name, as Alma does when asked to send
// an export again.
func (s *site) redeliver(export, name string) {
	s.t.Helper()
	data, err := os.ReadFile(filepath.Join(s.libDir, "exports", "done", filepath.Base(export)))
	s.must(err)
	s.must(os.WriteFile(filepath.Join(s.libDir, "exports", name), data, 0o644))
}

// peopleSoftLoads moves the charge files of inbound/ to inbound/loaded/,
// as PeopleSoft's file load does, and returns their names.
func (s *site) peopleSoftLoads() []string {
	s.t.Helper()
	inbound := filepath.Join(s.psDir, "inbound")
	s.must(os.MkdirAll(filepath.Join(inbound, "loaded"), 0o755))
	names := s.files(inbound)
	for _, n := range names {
		s.must(os.Rename(filepath.Join(inbound, n), filepath.Join(inbound, "loaded", n)))
	}
	return names
}

// TestRefuseWithoutJournal: with the journal missing or empty (0 bytes),
// every command that writes it refuses to start, naming the path and
// saying what to do, and no journal is created.
func TestRefuseWithoutJournal(t *testing.T) {
	for _, empty := range []bool{false, true} {
		s := newSite(t)
		s.loseJournal(empty)
		want := " is missing: "
		if empty {
			want = " is empty (0 bytes): "
		}
		for _, args := range [][]string{{"run", "charges"}, {"run", "payments"}, {"run", "credits"}, {"run", "report"},
			{"reconcile"}, {"redrive"}, {"serve"}, {"restore-check"}, {"backup", "-out", filepath.Join(t.TempDir(), "b.db")}} {
			r := s.run(args...)
			wantRun(t, r, ExitFailure, s.journalPath()+want)
			if args[0] != "backup" {
				wantRun(t, r, ExitFailure, "feesync init", "restore the last backup")
			}
			fi, err := os.Stat(s.journalPath())
			if empty && (err != nil || fi.Size() != 0) || !empty && !os.IsNotExist(err) {
				t.Fatalf("%v: the journal was created: %v", args, err)
			}
		}
		// init makes it; a second init refuses to replace it.
		r := s.run("init")
		wantRun(t, r, ExitOK)
		r = s.run("init")
		wantRun(t, r, ExitFailure, "a journal already exists", "never replaced")
		wantRun(t, s.run("run", "charges"), ExitOK)
	}
}

// TestLostJournalChargesNothingTwice is issue 15 case 4: the journal is
// deleted or emptied and the same Alma export is delivered again under
// another name. Nothing is charged a second time: the run fails naming
// the journal; and a new journal made by init in its place finds the
// drop mark of the lost one and publishes nothing either.
func TestLostJournalChargesNothingTwice(t *testing.T) {
	ctx := t.Context()
	for _, empty := range []bool{false, true} {
		s := newSite(t)
		export := s.chargeAndExport(ctx, "10012345", "292.00")
		wantRun(t, s.run("run", "charges"), ExitOK, `total="292.00 USD"`)
		inbound := filepath.Join(s.psDir, "inbound")
		first := s.peopleSoftLoads()
		if len(first) != 1 {
			t.Fatalf("inbound held %v", first)
		}

		s.loseJournal(empty)
		s.redeliver(export, "again-"+filepath.Base(export))
		s.clock.Advance(time.Hour)
		wantRun(t, s.run("run", "charges"), ExitFailure, s.journalPath(), "feesync init")
		if got := s.files(inbound); len(got) != 0 {
			t.Fatalf("after the journal was lost, inbound holds %v: charged twice", got)
		}

		// The operator makes a new journal rather than restore one.
		wantRun(t, s.run("init"), ExitOK)
		r := s.run("run", "charges")
		wantRun(t, r, ExitFailure, "inbound/.feebridge/mark-charges", "replaced by a new one", "inbound/"+first[0])
		if got := s.files(inbound); len(got) != 0 {
			t.Fatalf("over a new journal, inbound holds %v: charged twice", got)
		}
		if _, err := os.Stat(filepath.Join(s.libDir, "exports", "again-"+filepath.Base(export))); err != nil {
			t.Fatalf("the re-delivered export was claimed: %v", err)
		}
	}
}

// TestRestoredBackup: a backup taken, a publication after it, the journal
// restored from the backup. The publishing jobs refuse to run, naming
// the mark and the file published after the backup; restore-check lists
// them; restore-accept, with a reason, is kept in the journal, and the
// jobs run again.
func TestRestoredBackup(t *testing.T) {
	ctx := t.Context()
	s := newSite(t)
	s.chargeAndExport(ctx, "10012345", "5.00")
	wantRun(t, s.run("run", "charges"), ExitOK)
	backup := filepath.Join(t.TempDir(), "journal-monday.db")
	r := s.run("backup", "-out", backup)
	wantRun(t, r, ExitOK)
	if !strings.Contains(r.stdout, "up to publication 1") {
		t.Errorf("backup said %q", r.stdout)
	}
	wantRun(t, s.run("backup", "-out", backup), ExitFailure, "already exists")

	s.clock.Advance(24 * time.Hour)
	export := s.chargeAndExport(ctx, "10067890", "292.00")
	before := s.files(filepath.Join(s.psDir, "inbound"))
	wantRun(t, s.run("run", "charges"), ExitOK, `total="292.00 USD"`)
	var second string
	for _, f := range s.files(filepath.Join(s.psDir, "inbound")) {
		if !strings.Contains(strings.Join(before, " "), f) {
			second = "inbound/" + f
		}
	}

	// Restore Monday's backup; the second export comes again.
	s.loseJournal(false)
	data, err := os.ReadFile(backup)
	s.must(err)
	s.must(os.WriteFile(s.journalPath(), data, 0o600))
	s.redeliver(export, "again.xml")
	for _, job := range []string{"charges", "credits", "payments"} {
		wantRun(t, s.run("run", job), ExitFailure, "mark-charges", "restored from an older backup", second)
	}
	wantRun(t, s.run("redrive"), ExitFailure, "restored from an older backup")
	if got := s.files(filepath.Join(s.psDir, "inbound")); len(got) != 2 {
		t.Fatalf("inbound holds %v after the restore", got)
	}
	r = s.run("restore-check")
	wantRun(t, r, ExitFailure, "1 drop marks ahead of the journal")
	if !strings.Contains(r.stdout, "published, not in the journal: peoplesoft:"+second) {
		t.Errorf("restore-check did not list %s:\n%s", second, r.stdout)
	}
	wantRun(t, s.run("restore-accept"), ExitUsage, "-reason TEXT is required")

	// The operator accepts; the export processed after the backup is
	// re-journaled from done/.
	r = s.run("restore-accept", "-reason", "restored Monday's backup; 292.00 already charged")
	wantRun(t, r, ExitOK)
	if !strings.Contains(r.stdout, "re-journaled, not sent again: "+second) {
		t.Errorf("restore-accept did not re-journal %s:\n%s", second, r.stdout)
	}
	j, err := journal.Open(ctx, s.journalPath(), &journal.Options{MustExist: true})
	s.must(err)
	as, err := j.Acceptances(ctx)
	j.Close()
	if err != nil || len(as) != 1 || as[0].Reason != "restored Monday's backup; 292.00 already charged" ||
		as[0].MarkOutput != second || len(as[0].Unknown) != 0 { // re-journaled: known when accepted
		t.Fatalf("acceptances: %+v, %v", as, err)
	}
	wantRun(t, s.run("restore-check"), ExitOK)
	// The export delivered again is a duplicate: nothing charged twice.
	wantRun(t, s.run("run", "charges"), ExitOK, "files=1", "records=0")
	if got := s.files(filepath.Join(s.psDir, "inbound")); len(got) != 2 {
		t.Fatalf("inbound holds %v: charged twice", got)
	}
}
