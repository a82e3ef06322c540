package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/fees"
)

// writeExport writes an Alma export of n fees to w: 4 fees per student,
// amounts cycling through 0.01 to 99.99, the reference fee types.
func writeExport(w io.Writer, n int) (fees.Money, error) {
	types := []fees.Type{fees.TypeOverdueFine, fees.TypeLostItemReplacementFee, fees.TypeLostItemProcessFee, fees.TypeDamagedItemFine}
	enc := alma.NewExportEncoder(w, "9000000000006761", nil)
	var cents int64
	at := time.Date(2026, 3, 2, 18, 0, 0, 0, time.UTC)
	for i := range n {
		c := int64(i%9999 + 1)
		cents += c
		err := enc.Encode(alma.ExportRecord{
			Patron:        alma.Patron{ID: strconv.Itoa(10000000 + i/4), IDType: "02", Name: "Student, Test"},
			Type:          types[i%len(types)],
			Amount:        fees.FromMinor(c, fees.USD),
			TransactionID: strconv.Itoa(100000000000 + i),
			Item: fees.Item{Barcode: "3908" + strconv.Itoa(1000000+i), Title: "A book of some length, volume " + strconv.Itoa(i),
				CallNumber: "QA76.73 .G6", Library: "Main Library", Location: "Stacks"},
			Owner:           "MAIN",
			LastTransaction: at,
		})
		if err != nil {
			return fees.Money{}, err
		}
	}
	return fees.FromMinor(cents, fees.USD), enc.Close()
}

func writeExportFile(tb testing.TB, n int) (string, fees.Money) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "export.xml")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	total, err := writeExport(bw, n)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		tb.Fatal(err)
	}
	return path, total
}

// BenchmarkConvertAlmaExport converts an export of 10,000 fees per
// iteration, through Main as the command line does.
func BenchmarkConvertAlmaExport(b *testing.B) {
	const n = 10000
	in, _ := writeExportFile(b, n)
	out := filepath.Join(b.TempDir(), "charges.dat")
	st, _ := os.Stat(in)
	b.SetBytes(st.Size())
	b.ResetTimer()
	for b.Loop() {
		m := &Main{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }, Now: time.Now}
		if err := m.ParseFlags(b.Context(), []string{"convert", "alma-export", "-in", in, "-out", out, "-as-of", "2026-03-02"}); err != nil {
			b.Fatal(err)
		}
		if err := m.Run(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "fees/s")
}

// TestConvertMillion converts an export of 1,000,000 fees (about 1 GB)
// and logs the time taken and the heap used. It runs only with
// FEEBRIDGE_LONG=1; the figures are logged, never asserted.
func TestConvertMillion(t *testing.T) {
	if os.Getenv("FEEBRIDGE_LONG") != "1" {
		t.Skip("set FEEBRIDGE_LONG=1 to convert a million fees")
	}
	n := 1_000_000
	if s := os.Getenv("FEEBRIDGE_LONG_FEES"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	in, total := writeExportFile(t, n)
	out := filepath.Join(t.TempDir(), "charges.dat")

	runtime.GC()
	var peak uint64
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-done:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	start := time.Now()
	r := runFeesync(t, nil, "convert", "alma-export", "-in", in, "-out", out, "-as-of", "2026-03-02")
	took := time.Since(start)
	close(done)
	<-sampled
	if r.code != ExitOK {
		t.Fatalf("exit %d:\n%s", r.code, r.stderr)
	}
	want := fmt.Sprintf("records=%d total=%q", n, total.String())
	if !strings.Contains(r.stderr, want) {
		t.Errorf("summary lacks %s:\n%s", want, r.stderr)
	}
	st, _ := os.Stat(in)
	t.Logf("%d fees (%d MB) in %v, peak heap in use %d MB", n, st.Size()>>20, took.Round(time.Millisecond), peak>>20)
}
