package almatest_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/alma/almatest"
	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/transport"
	"github.com/feebridge/feebridge/transport/memdrop"
)

// decodeAll reads a bursar file with package alma's decoder.
func decodeAll(t *testing.T, data []byte, name string) ([]alma.ExportRecord, string) {
	t.Helper()
	d := alma.NewExportDecoder(bytes.NewReader(data), &alma.DecoderOptions{File: name})
	var recs []alma.ExportRecord
	for {
		r, err := d.Decode()
		if err == io.EOF {
			return recs, d.ExportNumber()
		}
		if err != nil {
			t.Fatalf("alma decoder: %v", err)
		}
		recs = append(recs, r)
	}
}

func readDrop(t *testing.T, drop *transport.Drop, name string) []byte {
	t.Helper()
	b, err := drop.ReadFile(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestExportDecodesWithAlmaDecoder runs the export job and reads its file
// with package alma's decoder: every Active fee is there once, with its
// patron, amount, bursarTransactionId and item, and is then Transferred.
func TestExportDecodesWithAlmaDecoder(t *testing.T) {
	w := newWorld(t, nil)
	ctx := t.Context()
	_, lostA := w.lose(t, "0123456", "31234000111222")
	_, lostB := w.lose(t, "0987654", "31234000333444")
	other, err := w.srv.AddFee("0123456", almatest.FeeSpec{Type: fees.TypeDamagedItemFine, Amount: usd("12.50"), Barcode: "31234000555666", Comment: "Water damage"})
	if err != nil {
		t.Fatal(err)
	}
	w.clock.Set(time.Date(2026, 10, 20, 18, 0, 0, 0, time.UTC))
	drop := memdrop.New()
	res, err := w.srv.RunExport(ctx, drop, "alma/export", "LIBRARY_BURSAR")
	if err != nil {
		t.Fatal(err)
	}

	profile, jobID, when, err := alma.ParseFileName(strings.TrimPrefix(res.File, "alma/export/"))
	if err != nil || profile != "LIBRARY_BURSAR" || jobID != res.JobID || !when.Equal(w.clock.Now()) {
		t.Errorf("file %s: profile %q job %q time %v (%v)", res.File, profile, jobID, when, err)
	}
	recs, number := decodeAll(t, readDrop(t, drop, res.File), res.File)
	if number != res.ExportNumber {
		t.Errorf("exportNumber %q, want %q", number, res.ExportNumber)
	}
	wantFees := append(append(lostA, lostB...), other)
	if len(recs) != len(wantFees) || len(res.Records) != len(wantFees) {
		t.Fatalf("%d records in the file, %d in the result, want %d", len(recs), len(res.Records), len(wantFees))
	}
	byTxn := map[string]alma.ExportRecord{}
	for _, r := range recs {
		byTxn[r.TransactionID] = r
	}
	names := map[string]string{"0123456": "Reyes, Ana", "0987654": "Okafor, Ben"}
	for _, f := range wantFees {
		got, ok := byTxn[f.TransactionID]
		if !ok {
			t.Errorf("fee %s (%s) not in the file", f.ID, f.TransactionID)
			continue
		}
		want := alma.ExportRecord{
			Patron:        alma.Patron{ID: f.UserID, IDType: "02", Name: names[f.UserID]},
			Type:          f.Type,
			Amount:        f.Original,
			TransactionID: f.TransactionID,
			Item:          f.Item,
			Owner:         "MAIN",
			Comment:       f.Comment,
			Line:          got.Line,
		}
		want.LastTransaction = f.Updated
		if d := cmp.Diff(want, got, cmp.Comparer(func(a, b fees.Money) bool { return a.Equal(b) })); d != "" {
			t.Errorf("record of fee %s (-fake +decoded):\n%s", f.ID, d)
		}
		after, _ := w.srv.Fee(f.ID)
		if after.Status != fees.StatusTransferred || !after.Transferred.Equal(f.Balance) {
			t.Errorf("fee %s after export: %s, transferred %s", f.ID, after.Status, after.Transferred)
		}
	}
	if !res.Total.Equal(usd("218.00")) { // 100 + 10 + 85.50 + 10 + 12.50
		t.Errorf("total %s, want 218.00 USD", res.Total)
	}

	again, err := w.srv.RunExport(ctx, drop, "alma/export", "LIBRARY_BURSAR")
	if err != nil || again.File != "" || len(again.Records) != 0 {
		t.Errorf("second export: %+v, %v; want no file", again, err)
	}
}

// elementPaths returns the distinct element paths (local names) of an XML
// document.
func elementPaths(t *testing.T, data []byte) map[string]bool {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(data))
	var stack []string
	out := map[string]bool{}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			stack = append(stack, e.Name.Local)
			out[strings.Join(stack, "/")] = true
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
}

// TestExportHasAlmasStructure compares the element tree of the fake's
// export with the real export of testdata/mit-bursar-export.xml.
func TestExportHasAlmasStructure(t *testing.T) {
	real, err := os.ReadFile("testdata/mit-bursar-export.xml")
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld(t, nil)
	w.lose(t, "0123456", "31234000111222")
	drop := memdrop.New()
	res, err := w.srv.RunExport(t.Context(), drop, "", "BURSAR")
	if err != nil {
		t.Fatal(err)
	}
	got := slices.Sorted(maps.Keys(elementPaths(t, readDrop(t, drop, res.File))))
	want := slices.Sorted(maps.Keys(elementPaths(t, real)))
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("element paths (-real Alma +fake):\n%s", d)
	}
}

// TestCreditExport waives fees and runs the credit export: only waivers of
// transferred fees go out, each once, as negative sums on the original
// fee's bursarTransactionId.
func TestCreditExport(t *testing.T) {
	w := newWorld(t, &almatest.Options{PartialWaiveBeforeTransfer: true})
	ctx := t.Context()
	drop := memdrop.New()
	_, lost := w.lose(t, "0123456", "31234000111222")
	if _, err := w.srv.RunExport(ctx, drop, "out", "BURSAR"); err != nil {
		t.Fatal(err)
	}
	repl := feeOfType(t, lost, fees.TypeLostItemReplacementFee)
	notSent, err := w.srv.AddFee("0987654", almatest.FeeSpec{Type: fees.TypeOverdueFine, Amount: usd("4.00")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.srv.Waive("0987654", notSent.ID, usd("1.00"), "LIBRARY_ERROR", ""); err != nil {
		t.Fatalf("partial waiver before transfer: %v", err)
	}
	w.clock.Advance(time.Hour)
	if _, err := w.srv.Waive("0123456", repl.ID, fees.Money{}, "LOST_ITEM_FOUND", "Lost item was found"); err != nil {
		t.Fatal(err)
	}

	res, err := w.srv.RunCreditExport(ctx, drop, "credits", "BURSAR_CREDITS")
	if err != nil {
		t.Fatal(err)
	}
	recs, _ := decodeAll(t, readDrop(t, drop, res.File), res.File)
	if len(recs) != 1 {
		t.Fatalf("%d credit records, want 1: %+v", len(recs), recs)
	}
	r := recs[0]
	if !r.IsCredit() || r.TransactionID != repl.TransactionID || r.Type != fees.TypeLostItemReplacementFee ||
		!r.Amount.Equal(usd("-100.00")) || r.Item.Barcode != "31234000111222" || r.Patron.ID != "0123456" {
		t.Errorf("credit record %+v", r)
	}
	cr, err := r.Credit()
	if err != nil || !cr.Amount.Equal(usd("100.00")) {
		t.Errorf("Credit() = %+v, %v", cr, err)
	}
	if res.Records[0].WaiverID == "" || res.Records[0].FeeID != repl.ID {
		t.Errorf("result record %+v", res.Records[0])
	}
	again, err := w.srv.RunCreditExport(ctx, drop, "credits", "BURSAR_CREDITS")
	if err != nil || again.File != "" {
		t.Errorf("second credit export: %+v, %v; want no file", again, err)
	}
}

// TestImportOfAlmaEncodedFile writes payments with package alma's import
// encoder and imports them: partial and full payments apply, the rest is
// reported, and the file is imported once.
func TestImportOfAlmaEncodedFile(t *testing.T) {
	w := newWorld(t, nil)
	ctx := t.Context()
	drop := memdrop.New()
	const ana, ben = "0123456", "0987654"
	_, lostA := w.lose(t, ana, "31234000111222")
	_, lostB := w.lose(t, ben, "31234000333444")
	if _, err := w.srv.RunExport(ctx, drop, "out", "BURSAR"); err != nil {
		t.Fatal(err)
	}
	late, err := w.srv.AddFee(ben, almatest.FeeSpec{Type: fees.TypeOverdueFine, Amount: usd("2.00")})
	if err != nil {
		t.Fatal(err)
	}
	replA := feeOfType(t, lostA, fees.TypeLostItemReplacementFee) // 100.00
	procA := feeOfType(t, lostA, fees.TypeLostItemProcessFee)     // 10.00
	replB := feeOfType(t, lostB, fees.TypeLostItemReplacementFee) // 85.50
	procB := feeOfType(t, lostB, fees.TypeLostItemProcessFee)     // 10.00
	if _, err := w.srv.Waive(ben, procB.ID, fees.Money{}, "LIBRARY_ERROR", ""); err != nil {
		t.Fatal(err)
	}

	type pay struct {
		user, txn string
		amount    string
	}
	pays := []pay{
		{ana, replA.TransactionID, "30.00"}, // 1 partial
		{ana, procA.TransactionID, "10.00"}, // 2 full
		{ana, replA.TransactionID, "70.00"}, // 3 the rest: closes it
		{ben, replB.TransactionID, "85.51"}, // 4 above the balance
		{ben, "55555555", "5.00"},           // 5 unknown id
		{ben, procB.TransactionID, "1.00"},  // 6 closed (waived)
		{ben, late.TransactionID, "2.00"},   // 7 never transferred
		{ben, replA.TransactionID, "1.00"},  // 8 another user's fee
	}
	var buf bytes.Buffer
	enc := alma.NewImportEncoder(&buf, nil)
	for _, p := range pays {
		err := enc.Encode(alma.ImportRecord{
			Patron: alma.Patron{ID: p.user, IDType: "02", Name: "Student"}, Type: fees.TypeLostItemReplacementFee,
			Amount: usd(p.amount), TransactionID: p.txn, LastTransaction: w.clock.Now(),
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	if err := drop.MkdirAll(ctx, "in"); err != nil {
		t.Fatal(err)
	}
	if err := drop.WriteFile(ctx, "in/PAYMENTS-1-1760000000000.xml", buf.Bytes()); err != nil {
		t.Fatal(err)
	}

	res, err := w.srv.RunImport(ctx, drop, "in")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files) != 1 || res.Files[0].Err != nil {
		t.Fatalf("files: %+v", res.Files)
	}
	var applied []int
	for _, a := range res.Applied() {
		applied = append(applied, a.Record)
	}
	if want := []int{1, 2, 3}; !slices.Equal(applied, want) {
		t.Errorf("applied records %v, want %v", applied, want)
	}
	wantCodes := map[int]string{4: fees.EOVERPAY, 5: "", 6: fees.ECLOSED, 7: fees.ENOTTRANSFERRED, 8: ""}
	gotCodes := map[int]string{}
	for _, r := range res.Rejected() {
		gotCodes[r.Record] = fees.ErrorCode(r.Err)
		if r.Reason == "" || r.TransactionID == "" {
			t.Errorf("rejection without reason or id: %+v", r)
		}
	}
	if d := cmp.Diff(wantCodes, gotCodes); d != "" {
		t.Errorf("rejected records and their codes (-want +got):\n%s", d)
	}

	for _, tc := range []struct {
		fee     fees.Fee
		balance string
		status  fees.Status
	}{
		{replA, "0.00", fees.StatusClosed},
		{procA, "0.00", fees.StatusClosed},
		{replB, "85.50", fees.StatusTransferred},
		{late, "2.00", fees.StatusActive},
	} {
		got, _ := w.srv.Fee(tc.fee.ID)
		if !got.Balance.Equal(usd(tc.balance)) || got.Status != tc.status {
			t.Errorf("fee %s: balance %s, %s; want %s, %s", tc.fee.ID, got.Balance, got.Status, tc.balance, tc.status)
		}
	}
	if p := res.Applied()[0]; !p.Balance.Equal(usd("70.00")) || p.Status != fees.StatusTransferred {
		t.Errorf("after the partial payment: balance %s, %s; want 70.00, Transferred", p.Balance, p.Status)
	}
	if got, _ := w.srv.Fee(replA.ID); !got.Paid.Equal(usd("100.00")) {
		t.Errorf("paid %s, want 100.00", got.Paid)
	}

	// Once by name, and once by content under another name.
	if err := drop.WriteFile(ctx, "in/PAYMENTS-2-1760000360000.xml", buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	again, err := w.srv.RunImport(ctx, drop, "in")
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Files) != 2 || len(again.Applied()) != 0 || len(again.Rejected()) != 0 {
		t.Fatalf("second run: %+v", again)
	}
	for _, f := range again.Files {
		if f.Skipped == "" {
			t.Errorf("file %s imported twice", f.Name)
		}
	}
}

// TestImportReportsRealFileUnmatched imports Alma's real export file: its
// transaction ids are unknown to the fake, so every record is reported and
// nothing is applied.
func TestImportReportsRealFileUnmatched(t *testing.T) {
	real, err := os.ReadFile("testdata/mit-bursar-export.xml")
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld(t, nil)
	w.lose(t, "0123456", "31234000111222")
	if _, err := w.srv.RunExport(t.Context(), memdrop.New(), "", "BURSAR"); err != nil {
		t.Fatal(err)
	}
	drop := memdrop.New()
	if err := drop.WriteFile(t.Context(), "mit.xml", real); err != nil {
		t.Fatal(err)
	}
	res, err := w.srv.RunImport(t.Context(), drop, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Applied()) != 0 || len(res.Rejected()) != 10 {
		t.Errorf("applied %d, rejected %d; want 0 and 10", len(res.Applied()), len(res.Rejected()))
	}
	if r := res.Rejected()[0]; r.TransactionID != "15216075630006761" || r.UserID != "12345678" || r.Sum != "123.45" {
		t.Errorf("first rejection %+v", r)
	}
}

// TestImportOfBadFile reports a file that is not a bursar file and tries
// it again on the next run.
func TestImportOfBadFile(t *testing.T) {
	w := newWorld(t, nil)
	drop := memdrop.New()
	for name, body := range map[string]string{
		"broken.xml":  `<xb:xml-fragment xmlns:xb="http://com/exlibris/urm/rep/externalsysfinesfees/xmlbeans"><xb:userFineFee>`,
		"foreign.xml": `<payments><payment/></payments>`,
		"notes.txt":   "not read",
	} {
		if err := drop.WriteFile(t.Context(), name, []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	for run := 1; run <= 2; run++ {
		res, err := w.srv.RunImport(t.Context(), drop, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Files) != 2 {
			t.Fatalf("run %d: %d files, want the 2 .xml files", run, len(res.Files))
		}
		for _, f := range res.Files {
			if f.Err == nil || f.Skipped != "" {
				t.Errorf("run %d, %s: err %v, skipped %q", run, f.Name, f.Err, f.Skipped)
			}
		}
	}
	if _, err := w.srv.RunImport(t.Context(), drop, "missing"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("import from a missing folder: %v, want not found", err)
	}
}

// TestExportDatesWithZone writes dates in the institution's zone with a
// suffix, which package alma's decoder reads back to the same instant.
func TestExportDatesWithZone(t *testing.T) {
	pst := time.FixedZone("PST", -8*3600)
	w := newWorld(t, &almatest.Options{BursarLocation: pst})
	_, lost := w.lose(t, "0123456", "31234000111222")
	drop := memdrop.New()
	res, err := w.srv.RunExport(t.Context(), drop, "", "BURSAR")
	if err != nil {
		t.Fatal(err)
	}
	data := readDrop(t, drop, res.File)
	if !bytes.Contains(data, []byte(" PST</xb:lastTransactionDate>")) {
		t.Errorf("no PST suffix in\n%s", data)
	}
	recs, _ := decodeAll(t, data, res.File)
	for _, r := range recs {
		if !r.LastTransaction.Equal(lost[0].Updated) || !r.Item.DueDate.Equal(lost[0].Item.DueDate) {
			t.Errorf("dates read back as %v and %v, want %v and %v", r.LastTransaction, r.Item.DueDate, lost[0].Updated, lost[0].Item.DueDate)
		}
	}
}

// TestImportSharedTransactionID gives one bursar transaction id to three
// fees of one student and item, of different types, as Alma does (MIT's
// real export has such an id), and follows them through the export and
// back through the import: each payment lands on the fee of its type,
// and a payment on the shared id without a type, or with a type none of
// them has, is reported, never guessed.
func TestImportSharedTransactionID(t *testing.T) {
	w := newWorld(t, nil)
	ctx := t.Context()
	drop := memdrop.New()
	const ana, ben = "0123456", "0987654"
	const shared = "15216075690006761"
	specs := []almatest.FeeSpec{
		{Type: fees.TypeOverdueFine, Amount: usd("14.00")},
		{Type: fees.TypeDamagedItemFine, Amount: usd("10.00")},
		{Type: fees.TypeLostItemProcessFee, Amount: usd("10.00")},
	}
	var made []fees.Fee
	for _, sp := range specs {
		sp.Barcode, sp.TransactionID = "31234000111222", shared
		f, err := w.srv.AddFee(ana, sp)
		if err != nil {
			t.Fatal(err)
		}
		if f.TransactionID != shared {
			t.Fatalf("fee %s has transaction id %s, want %s", f.ID, f.TransactionID, shared)
		}
		made = append(made, f)
	}
	// The same pair twice, or the id on another student's fee, is refused.
	if _, err := w.srv.AddFee(ana, almatest.FeeSpec{Type: fees.TypeOverdueFine, Amount: usd("1.00"), TransactionID: shared}); err == nil {
		t.Error("AddFee took a second OVERDUEFINE on the shared id")
	}
	if _, err := w.srv.AddFee(ben, almatest.FeeSpec{Type: fees.TypeOther, Amount: usd("1.00"), TransactionID: shared}); err == nil {
		t.Error("AddFee took the shared id for another student")
	}

	res, err := w.srv.RunExport(ctx, drop, "out", "BURSAR")
	if err != nil {
		t.Fatal(err)
	}
	recs, _ := decodeAll(t, readDrop(t, drop, res.File), res.File)
	var keys []string
	for _, r := range recs {
		keys = append(keys, fees.ChargeKey(r.TransactionID, r.Type))
	}
	wantKeys := []string{shared + "/OVERDUEFINE", shared + "/DAMAGEDITEMFINE", shared + "/LOSTITEMPROCESSFEE"}
	if d := cmp.Diff(wantKeys, keys); d != "" {
		t.Fatalf("exported charge keys (-want +got):\n%s", d)
	}

	// The bursar pays part of each, in an order of its own, then two
	// records that name no fee of the shared id.
	pays := []struct {
		typ    fees.Type
		amount string
	}{
		{fees.TypeLostItemProcessFee, "10.00"}, // 1 closes the process fee
		{fees.TypeOverdueFine, "4.00"},         // 2 partial
		{fees.TypeDamagedItemFine, "3.00"},     // 3 partial
		{"", "1.00"},                           // 4 no type: which fee?
		{fees.TypeOther, "1.00"},               // 5 a type none of them has
	}
	var buf bytes.Buffer
	enc := alma.NewImportEncoder(&buf, nil)
	for _, p := range pays {
		rec := alma.ImportRecord{
			Patron: alma.Patron{ID: ana, IDType: "02", Name: "Reyes, Ana"}, Type: p.typ,
			Amount: usd(p.amount), TransactionID: shared, LastTransaction: w.clock.Now(),
		}
		if p.typ == "" {
			// The encoder insists on a type; write one and take it out.
			rec.Type = "NOTYPE"
		}
		if err := enc.Encode(rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	data := bytes.Replace(buf.Bytes(), []byte("<xb:fineFeeType>NOTYPE</xb:fineFeeType>"), nil, 1)
	if err := drop.MkdirAll(ctx, "in"); err != nil {
		t.Fatal(err)
	}
	if err := drop.WriteFile(ctx, "in/PAYMENTS-1-1760000000000.xml", data); err != nil {
		t.Fatal(err)
	}
	imp, err := w.srv.RunImport(ctx, drop, "in")
	if err != nil {
		t.Fatal(err)
	}
	type applied struct {
		Record int
		FeeID  string
		Type   fees.Type
		Status fees.Status
	}
	var got []applied
	for _, a := range imp.Applied() {
		got = append(got, applied{a.Record, a.FeeID, a.Type, a.Status})
	}
	want := []applied{
		{1, made[2].ID, fees.TypeLostItemProcessFee, fees.StatusClosed},
		{2, made[0].ID, fees.TypeOverdueFine, fees.StatusTransferred},
		{3, made[1].ID, fees.TypeDamagedItemFine, fees.StatusTransferred},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("applied (-want +got):\n%s", d)
	}
	var rejected []int
	for _, r := range imp.Rejected() {
		rejected = append(rejected, r.Record)
		if r.Err != nil || !strings.Contains(r.Reason, shared) {
			t.Errorf("record %d: %q (%v), want an unmatched record naming the id", r.Record, r.Reason, r.Err)
		}
	}
	if d := cmp.Diff([]int{4, 5}, rejected); d != "" {
		t.Errorf("rejected records (-want +got):\n%s", d)
	}
	for i, wantBal := range []string{"10.00", "7.00", "0.00"} {
		f, ok := w.srv.FeeByChargeKey(shared, made[i].Type)
		if !ok || f.ID != made[i].ID || !f.Balance.Equal(usd(wantBal)) {
			t.Errorf("fee %s (%s): balance %s, want %s", made[i].ID, made[i].Type, f.Balance, wantBal)
		}
	}
}
