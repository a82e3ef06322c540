package peoplesoft_test

import (
	"io"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/peoplesoft"
)

// benchLines is the size of the files of the 1M benchmarks.
const benchLines = 1_000_000

func benchCharges() []peoplesoft.Charge {
	out := make([]peoplesoft.Charge, 1000)
	for i := range out {
		out[i] = peoplesoft.Charge{
			EmplID:      strconv.Itoa(10000000 + i*7),
			ItemType:    "300000000001",
			Amount:      fees.FromMinor(int64(100+i*37%50000), fees.USD),
			Term:        "2268",
			DueDate:     day(2026, 12, 28),
			Ref:         strconv.Itoa(15216075630006761 + i),
			Description: "Overdue fine: Ecology of the saguaro /",
		}
		if i%10 == 9 {
			out[i].Amount = out[i].Amount.Neg() // a credit: same item type as its charge
		}
	}
	return out
}

// BenchmarkChargeEncoder writes 1,000,000 charge lines in the reference
// layout per iteration.
func BenchmarkChargeEncoder(b *testing.B) {
	charges := benchCharges()
	l := peoplesoft.ReferenceChargeLayout()
	b.ReportAllocs()
	var peak uint64
	cpu0 := cpuTime()
	for b.Loop() {
		enc := peoplesoft.NewChargeEncoder(io.Discard, l, created)
		for i := range benchLines {
			if err := enc.Encode(charges[i%len(charges)]); err != nil {
				b.Fatal(err)
			}
			if i%250_000 == 0 {
				peak = max(peak, heapInUse())
			}
		}
		if err := enc.Close(); err != nil {
			b.Fatal(err)
		}
	}
	reportLines(b, cpu0)
	b.ReportMetric(float64(peak)/(1<<20), "MiB-heap")
}

// paymentFile generates a payment file of n lines as it is read, so the
// benchmark measures the decoder, not a 90 MB buffer.
//
// Amounts come from about a hundred values, as library fines do, unless
// distinct is set: then every line has its own amount.
type paymentFile struct {
	n, i     int
	distinct bool
	buf      []byte
}

func (f *paymentFile) Read(p []byte) (int, error) {
	for len(f.buf) < len(p) && f.i <= f.n {
		if f.i == 0 {
			f.buf = append(f.buf, "EMPLID,REF1_DESCR,ITEM_TYPE,CHARGE_AMT,PAID_AMT,PAID_DATE,CHANNEL,METHOD,RECEIPT_NBR\n"...)
		} else {
			k := f.i
			f.buf = strconv.AppendInt(f.buf, int64(10000000+k%50000), 10)
			f.buf = append(f.buf, ',')
			f.buf = strconv.AppendInt(f.buf, int64(15216075630006761+k), 10)
			f.buf = append(f.buf, ",300000000001,"...)
			charge := int64(10 + k%90)
			if f.distinct {
				charge = int64(10 + k)
			}
			f.buf = strconv.AppendInt(f.buf, charge, 10)
			f.buf = append(f.buf, ".50,"...)
			if k%3 == 0 {
				f.buf = strconv.AppendInt(f.buf, int64(1+k%9), 10)
				f.buf = append(f.buf, ".25,2026-12-02,CASHIER,CASH,C"...)
			} else {
				f.buf = strconv.AppendInt(f.buf, charge, 10)
				f.buf = append(f.buf, ".50,2026-12-01,ESERVICES,CREDIT_CARD,E"...)
			}
			f.buf = strconv.AppendInt(f.buf, int64(k), 10)
			f.buf = append(f.buf, '\n')
		}
		f.i++
	}
	if len(f.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(p, f.buf)
	f.buf = f.buf[:copy(f.buf, f.buf[n:])]
	return n, nil
}

// BenchmarkPaymentDecoder reads 1,000,000 payment lines in the reference
// layout per iteration.
func BenchmarkPaymentDecoder(b *testing.B) {
	b.Run("fines", func(b *testing.B) { benchPaymentDecoder(b, false, nil) })
	b.Run("distinct-amounts", func(b *testing.B) { benchPaymentDecoder(b, true, nil) })
	// As the payments job reads: it finds repeated keys itself.
	b.Run("allow-duplicates", func(b *testing.B) {
		benchPaymentDecoder(b, false, &peoplesoft.DecodeOptions{AllowDuplicates: true})
	})
}

func benchPaymentDecoder(b *testing.B, distinct bool, opts *peoplesoft.DecodeOptions) {
	// Build the file once (about 90 MB) and read it from memory, so the
	// figures are the decoder's alone.
	file, err := io.ReadAll(&paymentFile{n: benchLines, distinct: distinct})
	if err != nil {
		b.Fatal(err)
	}
	l := peoplesoft.ReferencePaymentLayout()
	b.SetBytes(int64(len(file)))
	b.ReportAllocs()
	base := heapInUse()
	var peak uint64
	cpu0 := cpuTime()
	for b.Loop() {
		dec := peoplesoft.NewPaymentDecoder(&byteReader{b: file}, l, opts)
		n := 0
		for {
			_, err := dec.Decode()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			if n++; n%250_000 == 0 {
				peak = max(peak, heapInUse()-min(base, heapInUse()))
			}
		}
		if n != benchLines {
			b.Fatalf("decoded %d payments", n)
		}
	}
	reportLines(b, cpu0)
	b.ReportMetric(float64(peak)/(1<<20), "MiB-heap")
}

// BenchmarkChargeDecoder reads back 1,000,000 reference charge lines.
func BenchmarkChargeDecoder(b *testing.B) {
	charges := benchCharges()
	l := peoplesoft.ReferenceChargeLayout()
	// Build one file of 1M lines once (about 113 MB) and read it per iteration.
	var file []byte
	{
		w := &sliceWriter{}
		enc := peoplesoft.NewChargeEncoder(w, l, created)
		for i := range benchLines {
			if err := enc.Encode(charges[i%len(charges)]); err != nil {
				b.Fatal(err)
			}
		}
		if err := enc.Close(); err != nil {
			b.Fatal(err)
		}
		file = w.b
	}
	b.SetBytes(int64(len(file)))
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		dec := peoplesoft.NewChargeDecoder(&byteReader{b: file}, l, nil)
		n := 0
		for {
			_, err := dec.Decode()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != benchLines {
			b.Fatalf("decoded %d charges", n)
		}
	}
	reportLines(b, cpu0)
}

// reportLines reports lines per second of wall time, and lines per second
// of the process's CPU time, which stays meaningful on a busy machine
// (run with GOMAXPROCS=1 for a one-core figure that counts the collector).
func reportLines(b *testing.B, cpu0 time.Duration) {
	lines := float64(benchLines) * float64(b.N)
	b.ReportMetric(lines/b.Elapsed().Seconds(), "lines/s")
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(lines/cpu.Seconds(), "lines/cpu-s")
	}
}

type sliceWriter struct{ b []byte }

func (w *sliceWriter) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }

type byteReader struct {
	b []byte
	i int
}

func (r *byteReader) Read(p []byte) (int, error) {
	if r.i >= len(r.b) {
		return 0, io.EOF
	}
	n := copy(p, r.b[r.i:])
	r.i += n
	return n, nil
}

// heapInUse returns the live heap after a collection: what the encoder or
// decoder holds, not the garbage it leaves.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
