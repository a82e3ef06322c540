package almaport_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/peoplesoft"
	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/reconcile/almaport"
	"github.com/feebridge/feebridge/reconcile/psport"
	"github.com/feebridge/feebridge/transport/memdrop"
)

// FuzzChargesAccountForEveryRecord feeds arbitrary export files to the
// charges job and checks that nothing is dropped silently: either the file
// goes to failed/, or every record the Alma decoder returns (good or bad)
// is sent, held or skipped as a duplicate.
//
// Live fuzzing (go test -fuzz) is slow here: every run opens a SQLite
// journal, and the coverage of the instrumented SQLite is large. The seeds
// run with every go test.
func FuzzChargesAccountForEveryRecord(f *testing.F) {
	seed, err := os.ReadFile("testdata/mit-bursar-export.xml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add(bytes.Replace(seed, []byte("<xb:sum>300</xb:sum>"), []byte("<xb:sum>3.001</xb:sum>"), 1))
	f.Add(bytes.Replace(seed, []byte("OVERDUEFINE"), []byte(""), 1))
	f.Add(seed[:len(seed)/2])
	f.Fuzz(checkCharges)
}

// checkCharges runs the charges job on data and checks that it accounts
// for every record.
func checkCharges(t *testing.T, data []byte) {
	// What the decoder makes of the file, on its own.
	dec := alma.NewExportDecoder(bytes.NewReader(data), nil)
	records, fatal := 0, false
	for {
		_, err := dec.Decode()
		if err == io.EOF {
			break
		}
		var pe *alma.ParseError
		if err != nil && (!asParseError(err, &pe) || isSyntax(err)) {
			fatal = true
			break
		}
		records++
	}

	ctx := context.Background()
	dir := t.TempDir()
	journal, err := reconcile.OpenJournal(ctx, filepath.Join(dir, "j.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer journal.Close()
	library, bursar := memdrop.New(), memdrop.New()
	if err := library.MkdirAll(ctx, "exports"); err != nil {
		t.Fatal(err)
	}
	if err := bursar.MkdirAll(ctx, "inbound"); err != nil {
		t.Fatal(err)
	}
	if err := library.WriteFile(ctx, "exports/x.xml", data); err != nil {
		t.Fatal(err)
	}
	jobs, err := reconcile.New(reconcile.Deps{Journal: journal, Library: library, Bursar: bursar,
		Export: almaport.ExportFormat{}, Charges: psport.ChargeFormat{Mapping: peoplesoft.DefaultMapping()}},
		&reconcile.Options{Now: func() time.Time { return time.Date(2026, 3, 2, 18, 0, 0, 0, time.UTC) }, TempDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	res, err := jobs.Charges(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if fatal {
		if len(res.Failed) != 1 {
			t.Fatalf("an unreadable file was not failed: %+v", res)
		}
		return
	}
	if len(res.Failed) != 0 {
		t.Fatalf("a readable file was failed: %+v", res.Failed)
	}
	if got := res.Records + len(res.Rejected) + res.Skipped; got != records {
		t.Fatalf("%d records decoded, %d sent + %d held + %d skipped", records, res.Records, len(res.Rejected), res.Skipped)
	}
}

func asParseError(err error, pe **alma.ParseError) bool { return errors.As(err, pe) }

func isSyntax(err error) bool { return errors.Is(err, alma.ErrSyntax) }
