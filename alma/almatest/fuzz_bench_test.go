package almatest_test

import (
	"bytes"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/alma/almatest"
	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/transport/memdrop"
)

// FuzzImport feeds arbitrary files to the bursar import: it must never
// panic, must account for every file, and must leave every fee's balances
// adding up (R3), whatever it applied.
func FuzzImport(f *testing.F) {
	real, err := os.ReadFile("testdata/mit-bursar-export.xml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(real)
	w := newWorld(f, nil)
	_, lost := w.lose(f, "0123456", "31234000111222")
	if _, err := w.srv.RunExport(f.Context(), memdrop.New(), "", "BURSAR"); err != nil {
		f.Fatal(err)
	}
	var buf bytes.Buffer
	enc := alma.NewImportEncoder(&buf, nil)
	for _, fee := range lost {
		enc.Encode(alma.ImportRecord{Patron: alma.Patron{ID: fee.UserID}, Type: fee.Type, Amount: usd("1.00"), TransactionID: fee.TransactionID, LastTransaction: paidAt})
	}
	if err := enc.Close(); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())

	n := 0
	f.Fuzz(func(t *testing.T, data []byte) {
		n++
		drop := memdrop.New()
		if err := drop.WriteFile(t.Context(), fmt.Sprintf("f%d.xml", n), data); err != nil {
			t.Fatal(err)
		}
		res, err := w.srv.RunImport(t.Context(), drop, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Files) != 1 {
			t.Fatalf("%d files in the result, want 1", len(res.Files))
		}
		for _, fee := range w.srv.AllFees() {
			if err := fee.Check(); err != nil {
				t.Fatalf("fee %s: %v", fee.ID, err)
			}
		}
	})
}

// benchWorld is a fake with n users holding one Active fee each.
func benchWorld(b *testing.B, n int) *world {
	w := newWorld(b, nil)
	for i := range n {
		id := fmt.Sprintf("S%07d", i)
		if err := w.srv.AddUser(almatest.User{ID: id, FirstName: "Student", LastName: id}); err != nil {
			b.Fatal(err)
		}
		if _, err := w.srv.AddFee(id, almatest.FeeSpec{Type: fees.TypeLostItemReplacementFee, Amount: usd("45.67"), Barcode: "31234000111222"}); err != nil {
			b.Fatal(err)
		}
	}
	return w
}

// BenchmarkExport measures an export run of 1,000 fees (the write and the
// transfer of every fee), rebuilding the fake between runs.
func BenchmarkExport(b *testing.B) {
	const n = 1000
	for b.Loop() {
		b.StopTimer()
		w := benchWorld(b, n)
		drop := memdrop.New()
		b.StartTimer()
		res, err := w.srv.RunExport(b.Context(), drop, "", "BURSAR")
		if err != nil || len(res.Records) != n {
			b.Fatalf("%d records, %v", len(res.Records), err)
		}
	}
}

// BenchmarkImport measures the import of a file of 1,000 partial
// payments written by package alma's encoder, rebuilding the fake (with
// the same ids) between runs.
func BenchmarkImport(b *testing.B) {
	const n = 1000
	setup := func() (*world, []byte) {
		w := benchWorld(b, n)
		if _, err := w.srv.RunExport(b.Context(), memdrop.New(), "", "BURSAR"); err != nil {
			b.Fatal(err)
		}
		var buf bytes.Buffer
		enc := alma.NewImportEncoder(&buf, nil)
		for _, f := range w.srv.AllFees() {
			enc.Encode(alma.ImportRecord{Patron: alma.Patron{ID: f.UserID}, Type: f.Type, Amount: usd("0.01"), TransactionID: f.TransactionID, LastTransaction: paidAt})
		}
		if err := enc.Close(); err != nil {
			b.Fatal(err)
		}
		return w, buf.Bytes()
	}
	_, file := setup()
	b.SetBytes(int64(len(file)))
	for b.Loop() {
		b.StopTimer()
		w, file := setup()
		drop := memdrop.New()
		if err := drop.WriteFile(b.Context(), "p.xml", file); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		res, err := w.srv.RunImport(b.Context(), drop, "")
		if err != nil || len(res.Applied()) != n {
			b.Fatalf("%d applied, %v", len(res.Applied()), err)
		}
	}
}

// BenchmarkListFees measures one GET users/{id}/fees through package
// alma's client, over the loopback.
func BenchmarkListFees(b *testing.B) {
	w := benchWorld(b, 10)
	w.srv.SetFaults(almatest.Faults{PerSecond: -1})
	c := w.client(b, 0)
	w.clock.Advance(time.Hour)
	for b.Loop() {
		fs, err := c.ListFees(b.Context(), "S0000003", fees.StatusActive)
		if err != nil || len(fs) != 1 {
			b.Fatalf("%d fees, %v", len(fs), err)
		}
	}
}
