package peoplesoft_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/feebridge/feebridge/peoplesoft"
)

const hostileHeader = "EMPLID,REF1_DESCR,ITEM_TYPE,CHARGE_AMT,PAID_AMT,PAID_DATE,CHANNEL,METHOD,RECEIPT_NBR\n"

// payStream is a payment file made up as it is read, never held whole
// nor written anywhere: a header, then rows until size bytes. Receipts
// are unique unless keys is positive, then they cycle through keys
// receipts. Every 16 MiB it samples the live heap into peak.
type payStream struct {
	size, read int64
	keys       int64
	row        int64
	pending    []byte
	nextSample int64
	peak       uint64
	body       func(row int64) string // the row's text without its line end; nil means a payment
}

func (s *payStream) Read(p []byte) (int, error) {
	if s.read >= s.size {
		return 0, io.EOF
	}
	if s.read == 0 && s.pending == nil {
		s.pending = []byte(hostileHeader)
	}
	n := 0
	for n < len(p) && s.read < s.size {
		if len(s.pending) == 0 {
			s.row++
			if s.body != nil {
				s.pending = append(s.pending[:0], s.body(s.row)...)
			} else {
				r := s.row
				if s.keys > 0 {
					r = s.row % s.keys
				}
				s.pending = fmt.Appendf(s.pending[:0], "10012345,%017d,300000000001,5.00,5.00,2026-03-03,CASHIER,CASH,C%09d", 40000000000006761+r%1000, r)
			}
			s.pending = append(s.pending, '\n')
		}
		c := copy(p[n:], s.pending)
		if rest := s.size - s.read; int64(c) > rest {
			c = int(rest)
		}
		s.pending = s.pending[c:]
		n += c
		s.read += int64(c)
	}
	if s.read >= s.nextSample {
		s.nextSample = s.read + 16<<20
		if h := liveHeap(); h > s.peak {
			s.peak = h
		}
	}
	return n, nil
}

// liveHeap collects garbage and returns the heap in use.
func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

func memSys() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.Sys
}

// hostileSize is the size of the streamed payment files: 200 MB, or 2 GB
// with FEEBRIDGE_LONG=1.
func hostileSize() int64 {
	if os.Getenv("FEEBRIDGE_LONG") == "1" {
		return 2 << 30
	}
	return 200 << 20
}

// decodeStream decodes s to its end or to its first file-level error and
// returns the good payments, the record errors and the file error.
func decodeStream(s *payStream, opts *peoplesoft.DecodeOptions) (good, bad int, fatal error) {
	dec := peoplesoft.NewPaymentDecoder(s, peoplesoft.ReferencePaymentLayout(), opts)
	for {
		_, err := dec.Decode()
		switch {
		case err == nil:
			good++
		case errors.Is(err, io.EOF):
			return good, bad, nil
		case peoplesoft.IsFileError(err):
			return good, bad, err
		default:
			bad++
		}
	}
}

func mib(b uint64) string { return strconv.FormatFloat(float64(b)/(1<<20), 'f', 1, 64) + " MiB" }

// TestHostilePaymentFileHuge streams a payment file of 200 MB (2 GB with
// FEEBRIDGE_LONG=1) through the decoder. Read whole with no limit and
// receipts that repeat (64 MB of it by default, the whole 2 GB when long),
// the live heap stays flat; with unique receipts and
// a limit of half the file, decoding stops with ErrTooLarge naming the
// file, having read no more than the limit and a buffer, and the heap grew
// only by the set of receipts seen; with unique receipts, no limit and
// AllowDuplicates (as the payments job reads), the whole file is read and
// the heap stays flat.
func TestHostilePaymentFileHuge(t *testing.T) {
	size := hostileSize()
	t.Run("no limit, repeated receipts", func(t *testing.T) {
		size := size
		if size < 1<<30 {
			size = 64 << 20 // each repeat is a refused record: slower to decode
		}
		s := &payStream{size: size, keys: 1000}
		base, sys0 := liveHeap(), memSys()
		good, bad, err := decodeStream(s, &peoplesoft.DecodeOptions{File: "huge.csv"})
		after, sys1 := liveHeap(), memSys()
		if err != nil {
			t.Fatalf("after %d bytes: %v", s.read, err)
		}
		if s.read != size || good != 1000 || bad < 1000 {
			t.Errorf("read %d of %d bytes, %d payments, %d refused; want all bytes, 1000 payments and the rest refused as duplicates", s.read, size, good, bad)
		}
		grew := int64(s.peak) - int64(base)
		t.Logf("%d MB streamed, %d rows: live heap %s before, peak %s, %s after; Sys %s → %s",
			size>>20, s.row, mib(base), mib(s.peak), mib(after), mib(sys0), mib(sys1))
		if grew > 16<<20 {
			t.Errorf("the live heap grew by %s reading a file whose keys repeat; want it flat (under 16 MiB)", mib(uint64(grew)))
		}
	})
	t.Run("over the limit", func(t *testing.T) {
		limit := size / 2
		s := &payStream{size: size}
		base := liveHeap()
		good, _, err := decodeStream(s, &peoplesoft.DecodeOptions{File: "huge.csv", MaxBytes: limit})
		if !errors.Is(err, peoplesoft.ErrTooLarge) || !strings.Contains(err.Error(), "huge.csv") {
			t.Fatalf("got %v, want ErrTooLarge naming huge.csv", err)
		}
		if s.read > limit+256<<10 {
			t.Errorf("read %d bytes with a limit of %d", s.read, limit)
		}
		grew := int64(s.peak) - int64(base)
		perRow := float64(grew) / float64(max(good, 1))
		t.Logf("limit %d MB: %v after %d bytes and %d payments; live heap grew by %s at most (%.0f bytes a payment, the receipts seen)",
			limit>>20, err, s.read, good, mib(uint64(max(grew, 0))), perRow)
		if grew > int64(good)*64+16<<20 {
			t.Errorf("the live heap grew by %s for %d payments: more than the set of receipts", mib(uint64(grew)), good)
		}
	})
	t.Run("no limit, unique receipts, AllowDuplicates", func(t *testing.T) {
		// As the payments job reads: it finds repeats through its journal,
		// so nothing grows with the file.
		s := &payStream{size: size}
		base := liveHeap()
		good, bad, err := decodeStream(s, &peoplesoft.DecodeOptions{File: "huge.csv", AllowDuplicates: true})
		// The stream ends at size bytes, in the middle of its last row.
		if err != nil || s.read != size || bad > 1 || int64(good) < s.row-1 {
			t.Fatalf("read %d of %d bytes, %d payments of %d rows, %d refused, %v", s.read, size, good, s.row, bad, err)
		}
		grew := int64(s.peak) - int64(base)
		t.Logf("%d MB streamed, %d payments: live heap %s before, peak %s", size>>20, good, mib(base), mib(s.peak))
		if grew > 16<<20 {
			t.Errorf("the live heap grew by %s reading %d payments; want it flat (under 16 MiB)", mib(uint64(grew)), good)
		}
	})
}

// TestHostilePaymentUnterminatedQuote: a quoted field that never closes
// runs on over every later line. The decoder must not gather the rest of
// the file into one record: memory must stay bounded by a record limit,
// not by the file's size, even with no MaxBytes.
func TestHostilePaymentUnterminatedQuote(t *testing.T) {
	const size = 96 << 20
	s := &payStream{size: size, body: func(row int64) string {
		if row == 1 {
			return `10012345,"` + strings.Repeat("a", 80)
		}
		return strings.Repeat("a", 100)
	}}
	base := liveHeap()
	good, bad, err := decodeStream(s, &peoplesoft.DecodeOptions{File: "quote.csv"})
	grew := int64(s.peak) - int64(base)
	t.Logf("unterminated quote, no MaxBytes: %d good, %d bad, err %v after %d bytes; live heap grew by %s at most", good, bad, err, s.read, mib(uint64(max(grew, 0))))
	if !errors.Is(err, peoplesoft.ErrLongLine) || !strings.Contains(err.Error(), "quote.csv") {
		t.Errorf("got %v, want ErrLongLine naming quote.csv", err)
	}
	if s.read > 4<<20 {
		t.Errorf("read %d bytes before refusing the record", s.read)
	}
	if grew > 16<<20 {
		t.Errorf("the live heap grew by %s while one quoted field ran on", mib(uint64(grew)))
	}
}

// repeatByte is an endless reader of one byte.
type repeatByte byte

func (b repeatByte) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

// sampler samples the live heap into peak every 16 MiB read.
type sampler struct {
	r          io.Reader
	read, next int64
	peak       uint64
}

func (s *sampler) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.read += int64(n)
	if s.read >= s.next {
		s.next = s.read + 16<<20
		s.peak = max(s.peak, liveHeap())
	}
	return n, err
}

// TestHostilePaymentLongLine: a line without an end is refused with
// ErrLongLine and memory stays flat.
func TestHostilePaymentLongLine(t *testing.T) {
	const size = 64 << 20
	s := &sampler{r: io.MultiReader(strings.NewReader(hostileHeader), io.LimitReader(repeatByte('9'), size))}
	base := liveHeap()
	dec := peoplesoft.NewPaymentDecoder(s, peoplesoft.ReferencePaymentLayout(), &peoplesoft.DecodeOptions{File: "long.csv"})
	_, err := dec.Decode()
	grew := int64(s.peak) - int64(base)
	if !errors.Is(err, peoplesoft.ErrLongLine) || !strings.Contains(err.Error(), "long.csv:2") {
		t.Errorf("got %v, want ErrLongLine at long.csv:2", err)
	}
	if grew > 16<<20 {
		t.Errorf("the live heap grew by %s on one long line", mib(uint64(grew)))
	}
}
