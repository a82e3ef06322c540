package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/feebridge/feebridge/alma/almatest"
	"github.com/feebridge/feebridge/fees"
)

// TestVersionFlags: --version and -version work like `feesync version`.
func TestVersionFlags(t *testing.T) {
	for _, arg := range []string{"version", "-version", "--version"} {
		r := runFeesync(t, nil, arg)
		if r.code != ExitOK || !strings.HasPrefix(r.stdout, "feesync ") {
			t.Errorf("feesync %s: exit %d\nstdout: %s\nstderr: %s", arg, r.code, r.stdout, r.stderr)
		}
	}
}

// lockerSite is a site whose evening export held two fees of a type the
// config does not map (LOCKERKEY) and charged one mapped fee. It returns
// the keys of the two held charges.
func lockerSite(t *testing.T) (*site, []string) {
	t.Helper()
	s := newSite(t)
	a := s.alma
	s.must(a.AddUser(almatest.User{ID: "10012345", FirstName: "Ada", LastName: "Lovelace"}))
	s.must(a.AddUser(almatest.User{ID: "10067890", FirstName: "Alan", LastName: "Turing"}))
	_, err := a.AddFee("10012345", almatest.FeeSpec{Type: fees.TypeOverdueFine, Amount: usd("5.00")})
	s.must(err)
	for _, u := range []string{"10012345", "10067890"} {
		_, err = a.AddFee(u, almatest.FeeSpec{Type: fees.Type("LOCKERKEY"), Amount: usd("3.00")})
		s.must(err)
	}
	_, err = a.RunExport(t.Context(), s.library, "exports", "BURSAR")
	s.must(err)
	s.clock.Advance(30 * time.Minute)
	return s, nil
}

// appendConfig adds text at the end of the site's config file.
func (s *site) appendConfig(text string) {
	s.t.Helper()
	f, err := os.OpenFile(s.config, os.O_APPEND|os.O_WRONLY, 0)
	s.must(err)
	_, err = f.WriteString("\n" + text + "\n")
	s.must(err)
	s.must(f.Close())
}

// TestJSONLogThroughout: with format = "json", a run that rejects records
// writes JSON lines only on stderr: the rejections, the summary and the
// exit error are all log records.
func TestJSONLogThroughout(t *testing.T) {
	s, _ := lockerSite(t)
	s.appendConfig("[log]\nformat = \"json\"")
	r := s.run("run", "charges")
	if r.code != ExitRejected {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	rejected := 0
	for _, line := range strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("stderr line is not JSON: %v\n%s", err, line)
			continue
		}
		if rec["msg"] == "record rejected" {
			rejected++
			if rec["file"] == "" || rec["line"] == nil || !strings.Contains(rec["reason"].(string), "LOCKERKEY") {
				t.Errorf("rejection = %v", rec)
			}
		}
	}
	if rejected != 2 {
		t.Errorf("%d rejections logged, want 2:\n%s", rejected, r.stderr)
	}
}

// TestRedriveKeys: `feesync redrive KEY` re-sends the one record held
// under KEY, and leaves the others held; a key not held is a usage error
// naming it.
func TestRedriveKeys(t *testing.T) {
	s, _ := lockerSite(t)
	wantRun(t, s.run("run", "charges"), ExitRejected, "records=1", "rejected=2")
	rows := s.heldRows("")
	if len(rows) != 2 {
		t.Fatalf("held lists %q", rows)
	}
	first, second := strings.Split(rows[0], "\t")[2], strings.Split(rows[1], "\t")[2]

	r := s.run("redrive", "no-such-key")
	wantRun(t, r, ExitUsage, `"no-such-key"`, "no record is held under that key")

	// Mapped now: the one chosen goes through, the other stays held.
	s.appendConfig("[item_types]\nLOCKERKEY = \"300000000099\"")
	r = s.run("redrive", first)
	wantRun(t, r, ExitOK, `job="redrive charge"`, "records=1", "rejected=0")
	rows = s.heldRows("")
	if len(rows) != 1 || strings.Split(rows[0], "\t")[2] != second {
		t.Errorf("after redrive %s held lists %q, want only %s", first, rows, second)
	}
}

// TestHeldAge: each held row says how long ago it was held, for people.
func TestHeldAge(t *testing.T) {
	s, _ := lockerSite(t)
	wantRun(t, s.run("run", "charges"), ExitRejected, "rejected=2")
	s.clock.Advance(3*24*time.Hour + 4*time.Hour + 10*time.Minute)
	r := s.run("held")
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	head := strings.Split(lines[0], "\t")
	age := -1
	for i, h := range head {
		if h == "AGE" {
			age = i
		}
	}
	if age < 0 {
		t.Fatalf("held has no AGE column: %q", lines[0])
	}
	for _, l := range lines[1:] {
		if f := strings.Split(l, "\t"); f[age] != "3 d 4 h" {
			t.Errorf("AGE = %q, want \"3 d 4 h\": %q", f[age], l)
		}
	}
}

// TestReconcileFormats: reconcile writes its rows under a header with the
// fee type and which side, as a table, CSV or JSON; student ids are masked
// unless -show-ids.
func TestReconcileFormats(t *testing.T) {
	s, _ := lockerSite(t)
	wantRun(t, s.run("run", "charges"), ExitRejected, "rejected=2")

	r := s.run("reconcile", "-format", "csv")
	// Only 10012345 has a charge at the bursar: one disagreement, the
	// LOCKERKEY fee Alma shows as transferred.
	wantRun(t, r, ExitRejected, "disagreements=1")
	recs, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if err != nil {
		t.Fatalf("reconcile -format csv: %v\n%s", err, r.stdout)
	}
	if len(recs) != 2 || strings.Join(recs[0], ",") != strings.Join(disagreementHeader, ",") {
		t.Fatalf("csv = %q", recs)
	}
	for _, rec := range recs[1:] {
		if rec[2] != "LOCKERKEY" || rec[4] != "fee" || rec[0] != fees.MaskID("10012345") {
			t.Errorf("row = %q; want the fee type, the side and a masked id", rec)
		}
	}

	r = s.run("reconcile", "-format", "json", "-show-ids")
	var rows []disagreementRow
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil {
		t.Fatalf("reconcile -format json: %v\n%s", err, r.stdout)
	}
	if len(rows) != 1 || rows[0].Student != "10012345" || rows[0].FeeType != "LOCKERKEY" || rows[0].Side != "fee" {
		t.Errorf("json rows = %+v; want the student whole", rows)
	}

	r = s.run("reconcile")
	if !strings.HasPrefix(r.stdout, "STUDENT ") || !strings.Contains(r.stdout, "LOCKERKEY") {
		t.Errorf("reconcile table:\n%s", r.stdout)
	}
	wantRun(t, s.run("reconcile", "-format", "xml"), ExitUsage, `-format "xml"`)
}

// TestShow: `feesync show student ID` and `show fee ID` say where it
// stands in Alma (asked live), in the journal (charged and held records
// with their files and lines) and at the bursar (sent, and left); without
// the API key the journal still answers and Alma is said not asked.
func TestShow(t *testing.T) {
	s := newSite(t)
	a := s.alma
	s.must(a.AddUser(almatest.User{ID: "10012345", FirstName: "Ada", LastName: "Lovelace"}))
	fine, err := a.AddFee("10012345", almatest.FeeSpec{Type: fees.TypeOverdueFine, Amount: usd("5.00")})
	s.must(err)
	locker, err := a.AddFee("10012345", almatest.FeeSpec{Type: fees.Type("LOCKERKEY"), Amount: usd("3.00")})
	s.must(err)
	_, err = a.RunExport(t.Context(), s.library, "exports", "BURSAR")
	s.must(err)
	s.clock.Advance(30 * time.Minute)
	wantRun(t, s.run("run", "charges"), ExitRejected, "records=1", "rejected=1")

	r := s.run("show", "student", "10012345", "-show-ids")
	wantRun(t, r, ExitOK)
	alma, journal, bursar := sections(t, r.stdout)
	for _, want := range []string{fine.ID, locker.ID, "OVERDUEFINE", "LOCKERKEY", "Transferred"} {
		if !strings.Contains(alma, want) {
			t.Errorf("Alma section lacks %q:\n%s", want, alma)
		}
	}
	for _, want := range []string{"charged", "rejected", "LOCKERKEY", "5.00 USD", "3.00 USD"} {
		if !strings.Contains(journal, want) {
			t.Errorf("journal section lacks %q:\n%s", want, journal)
		}
	}
	if !strings.Contains(bursar, fine.TransactionID) || !strings.Contains(bursar, "5.00 USD") || strings.Contains(bursar, locker.TransactionID) {
		t.Errorf("bursar section:\n%s", bursar)
	}
	if !strings.HasPrefix(r.stdout, "student 10012345") {
		t.Errorf("show -show-ids does not name the student whole:\n%s", r.stdout)
	}

	// A fee by the id the journal and the bursar know it by.
	r = s.run("show", "fee", fine.TransactionID)
	wantRun(t, r, ExitOK)
	alma, _, bursar = sections(t, r.stdout)
	if strings.Contains(alma, locker.ID) || !strings.Contains(alma, fine.ID) || !strings.Contains(bursar, "5.00 USD") ||
		strings.Contains(r.stdout, "10012345") {
		t.Errorf("show fee:\n%s", r.stdout)
	}
	wantRun(t, s.run("show", "fee", "no-such-fee"), ExitFailure, `the journal knows no fee "no-such-fee"`)

	delete(s.env, "FEEBRIDGE_ALMA_API_KEY")
	r = s.run("show", "student", "10012345")
	wantRun(t, r, ExitOK)
	if alma, journal, _ = sections(t, r.stdout); !strings.Contains(alma, "not asked") || !strings.Contains(journal, "charged") {
		t.Errorf("show without the API key:\n%s", r.stdout)
	}
}

// sections splits show's output into its Alma, journal and bursar parts.
func sections(t *testing.T, out string) (alma, journal, bursar string) {
	t.Helper()
	i, j, k := strings.Index(out, "In Alma:"), strings.Index(out, "In the journal:"), strings.Index(out, "At the bursar")
	if i < 0 || j < i || k < j {
		t.Fatalf("show prints no three sections:\n%s", out)
	}
	return out[i:j], out[j:k], out[k:]
}
