package almaport_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/peoplesoft"
	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/reconcile/almaport"
	"github.com/feebridge/feebridge/reconcile/psport"
	"github.com/feebridge/feebridge/transport/localdrop"
)

// writeAlmaExport writes an Alma bursar export of n fees, numbered from
// first, into dir.
func writeAlmaExport(tb testing.TB, dir, name string, first, n int) {
	tb.Helper()
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<16)
	enc := alma.NewExportEncoder(w, fmt.Sprint(first), nil)
	for i := first; i < first+n; i++ {
		err := enc.Encode(alma.ExportRecord{
			Patron:          alma.Patron{ID: fmt.Sprintf("%09d", i%50000), IDType: "02", Name: "Student, Some"},
			Type:            fees.TypeOverdueFine,
			Amount:          fees.FromMinor(int64(100+i%9000), fees.USD),
			TransactionID:   fmt.Sprintf("%011d0006761", i),
			Item:            fees.Item{Barcode: fmt.Sprintf("B%09d", i), Title: "A book"},
			Owner:           "MAIN",
			LastTransaction: time.Date(2026, 3, 2, 16, 0, 0, 0, time.UTC),
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	if err := enc.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkChargesRealFormats runs the charges job on Alma exports of
// 10,000 fees each, decoded by package alma and written in the reference
// PeopleSoft layout, with the journal and both drops on disk.
func BenchmarkChargesRealFormats(b *testing.B) {
	dir := b.TempDir()
	for _, d := range []string{"lib/exports", "bur/inbound", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			b.Fatal(err)
		}
	}
	lib, err := localdrop.Open(filepath.Join(dir, "lib"), nil)
	if err != nil {
		b.Fatal(err)
	}
	bur, err := localdrop.Open(filepath.Join(dir, "bur"), nil)
	if err != nil {
		b.Fatal(err)
	}
	j, err := reconcile.OpenJournal(b.Context(), filepath.Join(dir, "journal.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	jobs, err := reconcile.New(reconcile.Deps{Journal: j, Library: lib, Bursar: bur, Export: almaport.ExportFormat{},
		Charges: psport.ChargeFormat{Mapping: peoplesoft.DefaultMapping()}},
		&reconcile.Options{TempDir: filepath.Join(dir, "tmp"), Now: func() time.Time { return time.Date(2026, 3, 2, 18, 0, 0, 0, time.UTC) }})
	if err != nil {
		b.Fatal(err)
	}
	const n = 10000
	b.ReportAllocs()
	var cpu time.Duration
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		writeAlmaExport(b, filepath.Join(dir, "lib/exports"), fmt.Sprintf("BURSAR-%d-0.xml", i), i*n, n)
		b.StartTimer()
		c0 := cpuTime()
		res, err := jobs.Charges(b.Context())
		cpu += cpuTime() - c0
		if err != nil || res.Records != n {
			b.Fatalf("res = %+v, %v", res, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/fee")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*n), "cpu-ns/fee")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
