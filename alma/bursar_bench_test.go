package alma_test

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/fees"
)

// writeExport writes an export of n fees in the layout of Alma's real
// files (the MIT fixture's, with its local xmlns:xsi declarations and
// wrapped titles): users with one to five fees each, every fifteenth a
// credit. It is the input of the benchmarks; about 1.1 kB a fee.
func writeExport(w io.Writer, n int) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	const nilAttr = ` xsi:nil="true"` + "\n\t\t\t\t\t\t\t" + `xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" />`
	types := []string{"OVERDUEFINE", "LOSTITEMREPLACEMENTFEE", "LOSTITEMPROCESSFEE", "DAMAGEDITEMFINE", "RECALLEDOVERDUEFINE", "OTHER"}
	bw.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<xb:xml-fragment xmlns:xb="http://com/exlibris/urm/rep/externalsysfinesfees/xmlbeans">
	<xb:userExportedFineFees>
		<xb:exportNumber>15216075870006761</xb:exportNumber>
	</xb:userExportedFineFees>
	<xb:userExportedFineFees>
		<xb:userExportedList>
`)
	var num []byte
	written := 0
	for u := 0; written < n; u++ {
		bw.WriteString("\t\t\t<xb:userExportedFineFeesList>\n\t\t\t\t<xb:user>\n\t\t\t\t\t<xb:type>02</xb:type>\n\t\t\t\t\t<xb:value>")
		num = strconv.AppendInt(num[:0], int64(10000000+u), 10)
		bw.Write(num)
		bw.WriteString("</xb:value>\n\t\t\t\t\t<xb:owneredEntity>\n\t\t\t\t\t\t<xb:InstitutionId>6761</xb:InstitutionId>\n\t\t\t\t\t</xb:owneredEntity>\n\t\t\t\t</xb:user>\n")
		bw.WriteString("\t\t\t\t<xb:patronName>Student ")
		bw.Write(num)
		bw.WriteString(", Zoë</xb:patronName>\n\t\t\t\t<xb:finefeeList>\n")
		for k := 0; k < 1+u%5 && written < n; k++ {
			i := written
			written++
			bw.WriteString("\t\t\t\t\t<xb:userFineFee>\n\t\t\t\t\t\t<xb:fineFeeComment" + nilAttr + "\n\t\t\t\t\t\t<xb:fineFeeType>")
			sum := strconv.AppendInt(num[:0], int64(1+i%30000), 10)
			if i%15 == 14 {
				bw.WriteString("CREDIT")
				sum = append([]byte{'-'}, sum...)
			} else {
				bw.WriteString(types[i%len(types)])
			}
			if i%3 == 0 {
				sum = append(sum, '.', byte('0'+i%10), byte('0'+i%7))
			}
			bw.WriteString("</xb:fineFeeType>\n\t\t\t\t\t\t<xb:owneredEntity>\n\t\t\t\t\t\t\t<xb:InstitutionId>6761</xb:InstitutionId>\n\t\t\t\t\t\t\t<xb:libraryId>161686070006761</xb:libraryId>\n\t\t\t\t\t\t\t<xb:libraryCode>RTC</xb:libraryCode>\n\t\t\t\t\t\t</xb:owneredEntity>\n")
			bw.WriteString("\t\t\t\t\t\t<xb:lastTransactionDate>09/12/2023 15:22:06</xb:lastTransactionDate>\n")
			bw.WriteString("\t\t\t\t\t\t<xb:itemTitle>Case studies of child play areas &amp; child support facilities\n\t\t\t\t\t\t\t: travel and field research report /</xb:itemTitle>\n")
			bw.WriteString("\t\t\t\t\t\t<xb:itemCallNumebr>HV854.C56</xb:itemCallNumebr>\n\t\t\t\t\t\t<xb:itemLibrary>Rotch Library</xb:itemLibrary>\n\t\t\t\t\t\t<xb:itemLocation>Stacks</xb:itemLocation>\n\t\t\t\t\t\t<xb:itemInternalLocation>Stacks</xb:itemInternalLocation>\n")
			bw.WriteString("\t\t\t\t\t\t<xb:itemDueDate" + nilAttr + "\n\t\t\t\t\t\t<xb:itemBarcode>3908000")
			bw.WriteString(strconv.Itoa(2699707 + i))
			bw.WriteString("</xb:itemBarcode>\n\t\t\t\t\t\t<xb:compositeSum>\n\t\t\t\t\t\t\t<xb:currency>USD</xb:currency>\n\t\t\t\t\t\t\t<xb:sum>")
			bw.Write(sum)
			bw.WriteString("</xb:sum>\n\t\t\t\t\t\t\t<xb:vat" + nilAttr + "\n\t\t\t\t\t\t</xb:compositeSum>\n\t\t\t\t\t\t<xb:bursarTransactionId>")
			bw.WriteString(strconv.Itoa(1521607563_0000000 + i))
			bw.WriteString("</xb:bursarTransactionId>\n\t\t\t\t\t</xb:userFineFee>\n")
		}
		bw.WriteString("\t\t\t\t</xb:finefeeList>\n\t\t\t</xb:userExportedFineFeesList>\n")
	}
	bw.WriteString("\t\t</xb:userExportedList>\n\t</xb:userExportedFineFees>\n</xb:xml-fragment>\n")
	return bw.Flush()
}

func generateExport(tb testing.TB, n int) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := writeExport(&buf, n); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// TestGeneratedExport checks the benchmark input itself: every fee is
// decoded, none is refused.
func TestGeneratedExport(t *testing.T) {
	src := generateExport(t, 1000)
	got := decodeAll(t, bytes.NewReader(src), nil)
	if got.fatal != nil || len(got.errs) != 0 || len(got.recs) != 1000 {
		t.Fatalf("%d records, errors %v %v", len(got.recs), got.fatal, got.errs)
	}
	credits := 0
	for _, r := range got.recs {
		if r.IsCredit() {
			credits++
		}
	}
	if credits != 1000/15 {
		t.Errorf("%d credits", credits)
	}
	// FEEBRIDGE_BURSAR_EXPORT_OUT=file FEEBRIDGE_BURSAR_EXPORT_FEES=n
	// writes a generated export to file, to compare other converters on
	// the same input.
	if out := os.Getenv("FEEBRIDGE_BURSAR_EXPORT_OUT"); out != "" {
		n, err := strconv.Atoi(os.Getenv("FEEBRIDGE_BURSAR_EXPORT_FEES"))
		if err != nil {
			t.Fatal("FEEBRIDGE_BURSAR_EXPORT_FEES: ", err)
		}
		f, err := os.Create(out)
		if err != nil {
			t.Fatal(err)
		}
		if err := writeExport(f, n); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// decodeCount decodes r to the end and returns the number of records.
func decodeCount(tb testing.TB, r io.Reader, opts *alma.DecoderOptions) int {
	d := alma.NewExportDecoder(r, opts)
	n := 0
	for {
		_, err := d.Decode()
		if err == io.EOF {
			return n
		}
		if err != nil {
			tb.Fatal(err)
		}
		n++
	}
}

// BenchmarkExportDecoder decodes a 100,000-fee export held in memory.
func BenchmarkExportDecoder(b *testing.B) {
	const n = 100_000
	src := generateExport(b, n)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if got := decodeCount(b, bytes.NewReader(src), nil); got != n {
			b.Fatalf("%d records", got)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "fees/s")
	b.ReportMetric(float64(len(src))/1e6, "file-MB")
}

// BenchmarkExportDecoderInParts decodes the export of
// BenchmarkExportDecoder, held in memory, in parts on all the cores
// (NewExportDecoderAt) and, alternately, whole, both without the
// duplicate check (decoding in parts needs AllowDuplicates). Run it with
// -cpu 2 and -cpu 1: with one core it decodes whole.
func BenchmarkExportDecoderInParts(b *testing.B) {
	const n = 100_000
	src := generateExport(b, n)
	opts := &alma.DecoderOptions{AllowDuplicates: true}
	for _, bc := range []struct {
		name string
		open func() *alma.ExportDecoder
	}{
		{"parts", func() *alma.ExportDecoder {
			return alma.NewExportDecoderAt(bytes.NewReader(src), int64(len(src)), opts)
		}},
		{"whole", func() *alma.ExportDecoder { return alma.NewExportDecoder(bytes.NewReader(src), opts) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			b.ReportAllocs()
			for b.Loop() {
				d := bc.open()
				got := 0
				for {
					_, err := d.Decode()
					if err == io.EOF {
						break
					}
					if alma.IsFileError(err) {
						b.Fatal(err)
					}
					got++
				}
				d.Close()
				if got != n {
					b.Fatalf("%d records", got)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "fees/s")
		})
	}
}

// BenchmarkExportDecoderStream decodes exports of 10,000 to 1,000,000
// fees that are written through an io.Pipe as they are read, so the file
// is never in memory, and reports the peak memory the Go runtime took from
// the system during the run (peak-MB, sampled every millisecond). The
// duplicate check keeps every transaction id (a few bytes each); the
// dupcheck=off runs show the memory without it.
func BenchmarkExportDecoderStream(b *testing.B) {
	for _, bc := range []struct {
		n     int
		allow bool
	}{{10_000, false}, {100_000, false}, {1_000_000, false}, {10_000, true}, {1_000_000, true}} {
		name := fmt.Sprintf("fees=%d/dupcheck=on", bc.n)
		if bc.allow {
			name = fmt.Sprintf("fees=%d/dupcheck=off", bc.n)
		}
		n := bc.n
		b.Run(name, func(b *testing.B) {
			var size atomic.Int64
			var peak uint64
			b.ReportAllocs()
			for b.Loop() {
				runtime.GC()
				stop := sampleMemory(&peak)
				pr, pw := io.Pipe()
				go func() {
					cw := &countingWriter{w: pw}
					pw.CloseWithError(writeExport(cw, n))
					size.Store(cw.n)
				}()
				if got := decodeCount(b, pr, &alma.DecoderOptions{AllowDuplicates: bc.allow}); got != n {
					b.Fatalf("%d records", got)
				}
				stop()
			}
			b.SetBytes(size.Load())
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "fees/s")
			b.ReportMetric(float64(peak)/(1<<20), "peak-MB")
		})
	}
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// sampleMemory samples the memory the Go runtime holds from the system
// (mapped and not released) until stop is called, keeping the highest.
func sampleMemory(peak *uint64) (stop func()) {
	samples := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(samples)
			if v := samples[0].Value.Uint64() - samples[1].Value.Uint64(); v > *peak {
				*peak = v
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); <-finished }
}

// BenchmarkConvertToCSV is a whole conversion: decode a 100,000-fee
// export and write one CSV line a fee, as a bursar feed would. It is the
// figure to set beside a Python ElementTree converter doing the same.
func BenchmarkConvertToCSV(b *testing.B) {
	const n = 100_000
	src := generateExport(b, n)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		d := alma.NewExportDecoder(bytes.NewReader(src), nil)
		w := csv.NewWriter(io.Discard)
		for {
			r, err := d.Decode()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			w.Write([]string{r.Patron.ID, r.Patron.Name, string(r.Type), r.Item.Barcode, r.Amount.Amount(), r.TransactionID})
		}
		w.Flush()
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "fees/s")
}

// BenchmarkEncodingXMLTokens is the baseline: encoding/xml only reading
// the tokens of the same kind of file (10,000 fees), without building any
// record.
func BenchmarkEncodingXMLTokens(b *testing.B) {
	src := generateExport(b, 10_000)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		d := xml.NewDecoder(bytes.NewReader(src))
		for {
			if _, err := d.RawToken(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkExportEncoder writes 100,000 fees.
func BenchmarkExportEncoder(b *testing.B) {
	const n = 100_000
	rec := sampleRecords()[0]
	var size countingWriter
	b.ReportAllocs()
	for b.Loop() {
		size = countingWriter{w: io.Discard}
		e := alma.NewExportEncoder(&size, "1", nil)
		for i := range n {
			rec.TransactionID = strconv.Itoa(i)
			rec.Patron.ID = strconv.Itoa(i / 3)
			rec.Amount = fees.FromMinor(int64(i+1), fees.USD)
			if err := e.Encode(rec); err != nil {
				b.Fatal(err)
			}
		}
		if err := e.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(size.n)
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "fees/s")
}
