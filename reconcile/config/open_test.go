package config_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/reconcile/config"
	"github.com/feebridge/feebridge/transport/memdrop"
)

func TestOpenNeeds(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		edit func(*config.Config, *config.Options)
		want string // the error, or "" for none
	}{
		{"no journal", func(*config.Config, *config.Options) {}, "(built-in defaults): journal: missing: the path of the journal file"},
		{"no drops", func(c *config.Config, _ *config.Options) { c.Journal = filepath.Join(dir, "a.db") },
			`(built-in defaults): library.type: missing: "dir", "ftp" or "sftp"`},
		{"drops given", func(c *config.Config, o *config.Options) {
			c.Journal = filepath.Join(dir, "b.db")
			o.Library, o.Bursar = memdrop.New(), memdrop.New()
		}, ""},
		{"alma needs its key", func(c *config.Config, o *config.Options) {
			c.Journal = filepath.Join(dir, "c.db")
			o.Library, o.Bursar, o.NoAlma = memdrop.New(), memdrop.New(), false
		}, "alma.api_key: secret not set: set FEEBRIDGE_ALMA_API_KEY, or FEEBRIDGE_ALMA_API_KEY_FILE to the path of a file holding it"},
		{"bad value", func(c *config.Config, o *config.Options) {
			c.Journal = filepath.Join(dir, "d.db")
			o.Library, o.Bursar = memdrop.New(), memdrop.New()
			c.Alma.Workers = 99
		}, "(built-in defaults): alma.workers: 99 is outside 1..16"},
		{"journal missing", func(c *config.Config, o *config.Options) {
			c.Journal = filepath.Join(dir, "e.db")
			o.Library, o.Bursar, o.CreateJournal = memdrop.New(), memdrop.New(), false
		}, "journal: " + filepath.Join(dir, "e.db") + " is missing: no journal; nothing was run: for a new site, create the journal with `feesync init`; " +
			"if the journal was lost, restore the last backup in its place (README: Backing up and restoring the journal)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := config.Default()
			o := &config.Options{NoAlma: true, CreateJournal: true, Getenv: func(string) string { return "" }}
			tc.edit(c, o)
			s, err := config.Open(t.Context(), c, o)
			if err == nil {
				defer s.Close()
				if s.Jobs == nil || s.Journal == nil {
					t.Errorf("setup = %+v", s)
				}
			}
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Errorf("error\n got: %s\nwant: %s", got, tc.want)
			}
			if errors.Is(err, config.ErrNoSecret) != strings.Contains(tc.want, "secret not set") {
				t.Errorf("errors.Is(ErrNoSecret) wrong for %v", err)
			}
		})
	}
}

// TestOpenChecksTheJobs shows that Open fails at once, naming every part
// missing, when a job the program will run cannot: with NoAlma the jobs
// that need Alma are not expected unless named.
func TestOpenChecksTheJobs(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts config.Options
		want string // the error, or "" for none
	}{
		{"every job", config.Options{AlmaClient: &alma.Client{}}, ""},
		{"no Alma, none named", config.Options{NoAlma: true}, ""},
		{"no Alma, jobs without it", config.Options{NoAlma: true, Jobs: []string{reconcile.JobCharges, reconcile.JobReport}}, ""},
		{"no Alma, jobs that need it", config.Options{NoAlma: true, Jobs: []string{reconcile.JobCharges, reconcile.JobLostReturns, reconcile.JobReconcile}},
			"reconcile: lost-returns: missing Alma\nreconcile: reconcile: missing Alma"},
		{"no such job", config.Options{NoAlma: true, Jobs: []string{"nightly"}}, `reconcile: no job "nightly"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.opts
			o.Library, o.Bursar, o.CreateJournal = memdrop.New(), memdrop.New(), true
			c := config.Default()
			c.Journal = filepath.Join(t.TempDir(), "journal.db")
			s, err := config.Open(t.Context(), c, &o)
			got := ""
			if err != nil {
				got = err.Error()
			} else {
				s.Close()
			}
			if got != tc.want {
				t.Errorf("error\n got: %s\nwant: %s", got, tc.want)
			}
		})
	}
}

// dirConfig is a config whose drops are two folders of dir.
func dirConfig(t *testing.T, dir string) *config.Config {
	t.Helper()
	c := config.Default()
	c.Journal = filepath.Join(dir, "journal.db")
	c.Library.Type, c.Library.Path = "dir", filepath.Join(dir, "library")
	c.PeopleSoft.Type, c.PeopleSoft.Path = "dir", filepath.Join(dir, "peoplesoft")
	// The tests write each file whole before a run: claimed at once.
	c.Library.Settle, c.PeopleSoft.Settle = 0, 0
	for _, d := range []string{"library/exports", "peoplesoft/inbound"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	j, err := reconcile.CreateJournal(t.Context(), c.Journal, nil)
	if err != nil {
		t.Fatal(err)
	}
	j.Close()
	return c
}

// TestConvertExportIsTheChargesJob: for the same export and the same
// clock, ConvertExport writes the very file the charges job publishes.
func TestConvertExportIsTheChargesJob(t *testing.T) {
	const export = "../../examples/feesync/testdata/mit-bursar-export.xml"
	day := time.Date(2026, 9, 14, 0, 0, 0, 0, time.UTC)
	now := func() time.Time { return day }

	out := filepath.Join(t.TempDir(), "charges.dat")
	conv, err := config.ConvertExport(t.Context(), config.Default(), export, out, &config.ConvertOptions{Now: now, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(export); err != nil {
		t.Fatalf("the input is gone: %v", err)
	}

	dir := t.TempDir()
	c := dirConfig(t, dir)
	data, err := os.ReadFile(export)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "library/exports/mit.xml"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := config.Open(t.Context(), c, &config.Options{Now: now, NoAlma: true, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	run, err := s.Jobs.Charges(t.Context())
	if err != nil || len(run.Outputs) != 1 {
		t.Fatalf("run: %+v, %v", run, err)
	}
	want, err := os.ReadFile(filepath.Join(dir, "peoplesoft", run.Outputs[0]))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("convert wrote\n%s\nthe charges job\n%s", got, want)
	}
	if conv.Records != run.Records || !conv.Total.Equal(run.Total) || len(conv.Rejected) != len(run.Rejected) {
		t.Errorf("convert %+v, run %+v", conv, run)
	}
}

// TestConvertPayments: the import records are the payments job's, for
// the charges the payment lines name.
func TestConvertPayments(t *testing.T) {
	const in = "../../peoplesoft/testdata/payments/eservices-and-cashier.csv"
	out := filepath.Join(t.TempDir(), "import.xml")
	// A calendar without today: payments do not need one.
	c := config.Default()
	c.Terms = []config.Term{{Code: "2000", Start: config.Date{Time: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)},
		End: config.Date{Time: time.Date(2000, 5, 31, 0, 0, 0, 0, time.UTC)}}}
	// The test file's payments are dated up to 2026-12-09: convert on that
	// day, not on the wall clock's (a later payment is held, EDATE).
	now := func() time.Time { return time.Date(2026, 12, 9, 12, 0, 0, 0, time.UTC) }
	res, err := config.ConvertPayments(t.Context(), c, in, out, &config.ConvertOptions{TempDir: t.TempDir(), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if res.Records != 4 || res.Total.String() != "224.27 USD" || !res.Clean() {
		t.Errorf("result %+v", res)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"<xb:fineFeeComment>Paid at ESERVICES, receipt E000104233</xb:fineFeeComment>",
		"<xb:fineFeeType>LOSTITEMREPLACEMENTFEE</xb:fineFeeType>",
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("import file lacks %s:\n%s", want, b)
		}
	}
}

// TestConvertProgress: a conversion tells how many records it read, every
// 1024.
func TestConvertProgress(t *testing.T) {
	in := filepath.Join(t.TempDir(), "export.xml")
	f, err := os.Create(in)
	if err != nil {
		t.Fatal(err)
	}
	enc := alma.NewExportEncoder(f, "1", nil)
	for i := range 2100 {
		if err := enc.Encode(alma.ExportRecord{Patron: alma.Patron{ID: "12345678"}, Type: fees.TypeOverdueFine,
			Amount: fees.FromMinor(100, fees.USD), TransactionID: strconv.Itoa(1000 + i),
			LastTransaction: time.Date(2026, 3, 2, 18, 0, 0, 0, time.UTC)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	var got []int
	res, err := config.ConvertExport(t.Context(), config.Default(), in, filepath.Join(t.TempDir(), "out.dat"),
		&config.ConvertOptions{TempDir: t.TempDir(), Progress: func(n int) { got = append(got, n) }})
	if err != nil || res.Records != 2100 {
		t.Fatalf("%+v, %v", res, err)
	}
	if want := []int{1024, 2048}; !slices.Equal(got, want) {
		t.Errorf("progress %v, want %v", got, want)
	}
}
