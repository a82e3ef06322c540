package config

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/fees"
)

// writeTestExport writes an export of n fees (four types, amounts of
// 0.01 to 99.99, one student per four fees) and returns its path, after
// edit has changed its text.
func writeTestExport(t *testing.T, n int, edit func(string) string) string {
	t.Helper()
	var b bytes.Buffer
	types := []fees.Type{fees.TypeOverdueFine, fees.TypeLostItemReplacementFee, fees.TypeLostItemProcessFee, fees.TypeDamagedItemFine}
	enc := alma.NewExportEncoder(&b, "7", nil)
	for i := range n {
		if err := enc.Encode(alma.ExportRecord{Patron: alma.Patron{ID: strconv.Itoa(10000000 + i/4), Name: "Student, Test"},
			Type: types[i%len(types)], Amount: fees.FromMinor(int64(i%9999+1), fees.USD), TransactionID: strconv.Itoa(1000 + i),
			Item:            fees.Item{Barcode: "3908" + strconv.Itoa(1000000+i), Title: "A book, volume " + strconv.Itoa(i)},
			LastTransaction: time.Date(2026, 3, 2, 18, 0, 0, 0, time.UTC)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	text := b.String()
	if edit != nil {
		text = edit(text)
	}
	path := filepath.Join(t.TempDir(), "export.xml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// nth replaces the n-th (1-based) occurrence of old in s by new.
func nth(s, old, new string, n int) string {
	at := 0
	for range n {
		i := strings.Index(s[at:], old)
		if i < 0 {
			return s
		}
		at += i + len(old)
	}
	return s[:at-len(old)] + new + s[at:]
}

// tmpName matches what is random in an error naming a temporary file.
var tmpName = regexp.MustCompile(`\.tmp-[0-9]+|/[0-9]{3,}/`)

// TestConvertPlainIsTheJob converts exports both ways, through the plain
// path when it takes the file and through the charges job alone: the
// output bytes, the records, the total, the records held and the errors
// are the same. The exports are the test files (one of them with bad
// records) and generated ones, plain or with one thing the plain path
// leaves to the job: a credit, a repeated id, a bad amount, a fee type
// the config does not map, a file cut short, no fee at all, no file, and
// a plain one whose output folder is missing; a title too wide for its
// column is plain (the layout truncates it).
func TestConvertPlainIsTheJob(t *testing.T) {
	inputs := map[string]string{
		"mit":                    "../../examples/feesync/testdata/mit-bursar-export.xml",
		"mit-alma":               "../../alma/testdata/bursar/mit-bursar-export.xml",
		"quirks":                 "../../alma/testdata/bursar/quirks.xml",
		"bad-records":            "../../alma/testdata/bursar/bad-records.xml",
		"plain":                  writeTestExport(t, 3000, nil),
		"plain-no-output-folder": writeTestExport(t, 30, nil),
		"credit": writeTestExport(t, 3000, func(s string) string {
			return nth(s, "<xb:fineFeeType>OVERDUEFINE<", "<xb:fineFeeType>CREDIT<", 600)
		}),
		"negative": writeTestExport(t, 3000, func(s string) string { return nth(s, "<xb:sum>", "<xb:sum>-", 2999) }),
		"repeated": writeTestExport(t, 3000, func(s string) string {
			return nth(s, "<xb:bursarTransactionId>2999<", "<xb:bursarTransactionId>1003<", 1)
		}),
		"bad-amount": writeTestExport(t, 3000, func(s string) string { return nth(s, "<xb:sum>", "<xb:sum>1.005", 1500) }),
		"unmapped": writeTestExport(t, 3000, func(s string) string {
			return nth(s, "<xb:fineFeeType>OVERDUEFINE<", "<xb:fineFeeType>CARDRENEWAL<", 10)
		}),
		"slash": writeTestExport(t, 40, func(s string) string {
			return nth(s, "<xb:bursarTransactionId>1010<", "<xb:bursarTransactionId>10/10<", 1)
		}),
		"wide-title": writeTestExport(t, 40, func(s string) string {
			return strings.ReplaceAll(s, "A book, volume 3", "A book whose title is far wider than thirty columns, volume 3")
		}),
		// Over 4 MiB: decoded in parts (alma.NewExportDecoderAt), with
		// what the plain path leaves to the job in a late part.
		"in-parts": writeTestExport(t, 9000, nil),
		"in-parts-repeated": writeTestExport(t, 9000, func(s string) string {
			return nth(s, "<xb:bursarTransactionId>9900<", "<xb:bursarTransactionId>1004<", 1)
		}),
		"in-parts-bad-amount": writeTestExport(t, 9000, func(s string) string { return nth(s, "<xb:sum>", "<xb:sum>1.005", 8500) }),
		"in-parts-malformed": writeTestExport(t, 9000, func(s string) string {
			return nth(s, "</xb:itemTitle>", "</xb:itemTitle2>", 7000)
		}),
		"cut":     writeTestExport(t, 3000, func(s string) string { return s[:len(s)*2/3] }),
		"missing": filepath.Join(t.TempDir(), "no-such-export.xml"),
		"empty":   writeTestExport(t, 0, nil),
	}
	day := time.Date(2026, 9, 14, 0, 0, 0, 0, time.UTC)
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			var got [2]string
			for i, jobOnly := range []bool{false, true} {
				out := filepath.Join(t.TempDir(), "charges.dat")
				if name == "plain-no-output-folder" {
					out = filepath.Join(t.TempDir(), "gone", "charges.dat")
				}
				res, err := ConvertExport(t.Context(), Default(), in, out,
					&ConvertOptions{Now: func() time.Time { return day }, TempDir: t.TempDir(), jobOnly: jobOnly})
				data, rerr := os.ReadFile(out)
				msg := tmpName.ReplaceAllString(fmt.Sprint(err), "TMP")
				got[i] = fmt.Sprintf("records=%d total=%s rejected=%+v failed=%+v err=%v\n%s (read: %v)",
					res.Records, res.Total, res.Rejected, res.Failed, msg, data, rerr != nil)
			}
			if got[0] != got[1] {
				t.Errorf("the plain path:\n%s\nthe charges job:\n%s", got[0], got[1])
			}
		})
	}
}

// TestConvertPlainExportNeedsNoJournal: a plain export is converted
// without the temporary journal and drops that the charges job needs:
// while it is read, the conversion's temporary folder stays empty.
func TestConvertPlainExportNeedsNoJournal(t *testing.T) {
	in := writeTestExport(t, 3000, nil)
	tmp := t.TempDir()
	var seen []string
	progress := func(int) {
		entries, err := os.ReadDir(tmp)
		if err != nil {
			t.Error(err)
		}
		for _, e := range entries {
			seen = append(seen, e.Name())
		}
	}
	res, err := ConvertExport(t.Context(), Default(), in, filepath.Join(t.TempDir(), "charges.dat"),
		&ConvertOptions{TempDir: tmp, Progress: progress})
	if err != nil || res.Records != 3000 {
		t.Fatalf("%+v, %v", res, err)
	}
	if len(seen) > 0 {
		t.Errorf("while reading, the temporary folder held %v", seen)
	}
}

// TestConvertPlainStopsOnCancel: a cancelled conversion of a plain export
// stops, leaves no output and does not fall back to the job.
func TestConvertPlainStopsOnCancel(t *testing.T) {
	in := writeTestExport(t, 3000, nil)
	out := filepath.Join(t.TempDir(), "charges.dat")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := convertPlain(ctx, Default(), in, out, time.Date(2026, 9, 14, 0, 0, 0, 0, time.UTC), nil)
	if !errors.Is(err, ctx.Err()) {
		t.Errorf("err %v, want %v", err, ctx.Err())
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("output left: %v", err)
	}
}
