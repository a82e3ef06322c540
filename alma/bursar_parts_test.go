package alma_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/feebridge/feebridge/alma"
)

// decodeTrace is everything a decoder gave: each Decode's record or
// error, the export number seen after it, and the file error that ended
// it, if any.
type decodeTrace struct {
	Recs          []alma.ExportRecord
	Errs          []string // "" for a record
	Lines         []int    // the line of each error
	ExportNumbers []string
	End           string // the file error, or "EOF"
}

func traceDecoder(t *testing.T, d *alma.ExportDecoder) decodeTrace {
	t.Helper()
	var tr decodeTrace
	for range 1_000_000 {
		rec, err := d.Decode()
		if err == io.EOF || alma.IsFileError(err) {
			tr.End = err.Error()
			if again, err2 := d.Decode(); err2 != err {
				t.Errorf("Decode after %v gave %+v, %v; want the same error", err, again, err2)
			}
			return tr
		}
		tr.Recs = append(tr.Recs, rec)
		tr.ExportNumbers = append(tr.ExportNumbers, d.ExportNumber())
		line := 0
		var pe *alma.ParseError
		if errors.As(err, &pe) {
			line = pe.Line
		}
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		tr.Errs = append(tr.Errs, msg)
		tr.Lines = append(tr.Lines, line)
	}
	t.Fatal("decoder did not stop")
	return tr
}

// checkParts decodes src whole, then in parts of several sizes, and
// requires the same trace. It returns how many of the part decoders
// decoded in parts and how many of those went on whole.
func checkParts(t *testing.T, src []byte, opts *alma.DecoderOptions) (inParts, wholeAgain int) {
	t.Helper()
	want := traceDecoder(t, alma.NewExportDecoder(bytes.NewReader(src), opts))
	for _, c := range []struct {
		part            int64
		window, workers int
	}{{29, 1, 2}, {64, 1 << 10, 3}, {100, 1, 3}, {257, 200, 2}, {1000, 1, 2}, {1000, 16 << 10, 3}, {4096, 1, 2}, {4096, 300, 3}} {
		d := alma.NewExportDecoderInParts(bytes.NewReader(src), int64(len(src)), opts, c.part, c.window, c.workers)
		got := traceDecoder(t, d)
		p, w := alma.ReadInParts(d)
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
		if p {
			inParts++
		}
		if w {
			wholeAgain++
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("parts of %d bytes, windows of %d, %d workers (in parts %v, whole again %v): (-whole +parts)\n%s",
				c.part, c.window, c.workers, p, w, diff)
		}
	}
	return inParts, wholeAgain
}

// TestDecoderInPartsIsTheDecoder compares decoding in parts with decoding
// whole on every test export and on made-up files that tempt a wrong cut.
func TestDecoderInPartsIsTheDecoder(t *testing.T) {
	opts := &alma.DecoderOptions{File: "export.xml", AllowDuplicates: true}
	files, _ := filepath.Glob("testdata/bursar/*.xml")
	golden, _ := filepath.Glob("../testdata/golden/convert/*.xml")
	for _, name := range append(files, golden...) {
		t.Run(filepath.Base(name), func(t *testing.T) {
			src, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			checkParts(t, src, opts)
		})
	}

	base := string(generateExport(t, 400))
	const userTag = "\t\t\t<xb:userExportedFineFeesList>\n"
	everyUser := func(k int, with string) string { return everyNth(base, userTag, with+userTag, k) }
	cases := []struct {
		name string
		src  string
		// trusted: every part decoder must finish in parts, without
		// reading the file again whole.
		trusted bool
	}{
		{"generated", base, true},
		{"CRLF line ends", strings.ReplaceAll(base, "\n", "\r\n"), true},
		{"byte order mark", "\ufeff" + base, true},
		{"record errors in every part", everyNth(base, "<xb:currency>USD", "<xb:currency>XYZ", 7), true},
		{"a user tag in a comment", everyUser(5, "<!-- <xb:userExportedFineFeesList> -->\n"), false},
		{"a user tag in a processing instruction", everyUser(9, "<?note <xb:userExportedFineFeesList> ?>\n"), false},
		{"a user tag in CDATA", everyNth(base, "<xb:itemCallNumebr>HV854.C56<",
			"<xb:itemCallNumebr><![CDATA[<xb:userExportedFineFeesList>\n<xb:userExportedFineFeesList ]]><", 6), false},
		{"a user's name in an attribute", everyNth(base, "<xb:user>", `<xb:user note="xb:userExportedFineFeesList &gt; x">`, 3), true},
		{"a user element inside a user", everyNth(base, "<xb:finefeeList>",
			"<xb:userExportedFineFeesList><xb:user><xb:value>IN</xb:value></xb:user></xb:userExportedFineFeesList><xb:finefeeList>", 17), false},
		{"users under another element", strings.Replace(everyNth(base, userTag, "</xb:userExportedList><xb:moreUsers>\n"+userTag, 100),
			"</xb:userExportedList>\n\t</xb:userExportedFineFees>", "</xb:moreUsers>\n\t</xb:userExportedFineFees>", 1), false},
		{"users inside a fee", strings.Replace(everyNth(base, userTag, "<xb:userFineFee>\n"+userTag, 100),
			"</xb:userExportedList>\n\t</xb:userExportedFineFees>", "</xb:userFineFee></xb:userExportedList>\n\t</xb:userExportedFineFees>", 1), false},
		{"users in a second list", everyNth(base, userTag,
			"</xb:userExportedList></xb:userExportedFineFees><xb:userExportedFineFees><xb:userExportedList>\n"+userTag, 100), true},
		{"an exportNumber among the users", everyUser(60, "<xb:exportNumber>42</xb:exportNumber>\n"), false},
		{"a fee outside a user", everyUser(40, "<xb:userFineFee><xb:fineFeeType>OTHER</xb:fineFeeType></xb:userFineFee>\n"), true},
		{"malformed XML in a middle part", everyNth(base, "</xb:itemLibrary>", "</xb:itemLibraryX>", 300), false},
		{"an illegal character late", everyNth(base, "Rotch Library", "Rotch\x01Library", 390), false},
		{"cut short", base[:len(base)*2/3], false},
		{"a second root", base + "<extra/>\n", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			inParts, wholeAgain := checkParts(t, []byte(tc.src), opts)
			if inParts == 0 {
				t.Fatal("never decoded in parts")
			}
			if tc.trusted && wholeAgain > 0 {
				t.Errorf("%d of %d part decoders read the file again whole", wholeAgain, inParts)
			}
		})
	}
}

// everyNth replaces every k-th occurrence of old in s (the k-th, 2k-th, …)
// with new.
func everyNth(s, old, new string, k int) string {
	var b strings.Builder
	n := 0
	for {
		i := strings.Index(s, old)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		n++
		b.WriteString(s[:i])
		if n%k == 0 {
			b.WriteString(new)
		} else {
			b.WriteString(old)
		}
		s = s[i+len(old):]
	}
}

// TestDecoderInPartsOnlyWhereItPays checks when NewExportDecoderAt keeps
// to one goroutine: a small file, one worker, duplicate checks, a file
// whose first user is not where the probe looks.
func TestDecoderInPartsOnlyWhereItPays(t *testing.T) {
	src := generateExport(t, 400)
	dups := &alma.DecoderOptions{}
	for _, tc := range []struct {
		name    string
		src     []byte
		opts    *alma.DecoderOptions
		part    int64
		workers int
		want    bool
	}{
		{"in parts", src, &alma.DecoderOptions{AllowDuplicates: true}, 1000, 2, true},
		{"small file", src, &alma.DecoderOptions{AllowDuplicates: true}, int64(len(src)), 2, false},
		{"one worker", src, &alma.DecoderOptions{AllowDuplicates: true}, 1000, 1, false},
		{"duplicate checks", src, dups, 1000, 2, false},
		{"no options", src, nil, 1000, 2, false},
		{"no user", []byte(`<a>` + strings.Repeat("<b>x</b>", 2000) + `</a>`), &alma.DecoderOptions{AllowDuplicates: true}, 1000, 2, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := alma.NewExportDecoderInParts(bytes.NewReader(tc.src), int64(len(tc.src)), tc.opts, tc.part, 1, tc.workers)
			defer d.Close()
			if got, _ := alma.ReadInParts(d); got != tc.want {
				t.Errorf("in parts: %v, want %v", got, tc.want)
			}
			want := traceDecoder(t, alma.NewExportDecoder(bytes.NewReader(tc.src), tc.opts))
			if diff := cmp.Diff(want, traceDecoder(t, d)); diff != "" {
				t.Errorf("(-whole +parts)\n%s", diff)
			}
		})
	}
}

// TestDecoderInPartsClose stops a decoder in parts after a few records.
func TestDecoderInPartsClose(t *testing.T) {
	src := generateExport(t, 2000)
	d := alma.NewExportDecoderInParts(bytes.NewReader(src), int64(len(src)), &alma.DecoderOptions{AllowDuplicates: true}, 1000, 1, 2)
	for range 10 {
		if _, err := d.Decode(); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(fmt.Errorf("a second Close: %w", err))
	}
}

// FuzzExportDecoderInParts decodes arbitrary input whole and in parts of
// a size the fuzzer picks, and requires the same records, errors and
// lines. It is seeded with the test exports and a generated one with
// user tags in a comment and a CDATA section.
func FuzzExportDecoderInParts(f *testing.F) {
	files, _ := filepath.Glob("testdata/bursar/*.xml")
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src, uint16(100), uint16(1))
	}
	gen := string(generateExport(f, 30))
	f.Add([]byte(gen), uint16(500), uint16(64))
	f.Add([]byte(strings.Replace(gen, "<xb:patronName>", "<!-- <xb:userExportedFineFeesList> --><xb:patronName>", 3)), uint16(300), uint16(1))
	f.Add([]byte(strings.Replace(gen, "HV854.C56<", "<![CDATA[<xb:userExportedFineFeesList>]]><", 5)), uint16(200), uint16(1))
	opts := &alma.DecoderOptions{AllowDuplicates: true}
	f.Fuzz(func(t *testing.T, src []byte, part, window uint16) {
		want := traceDecoder(t, alma.NewExportDecoder(bytes.NewReader(src), opts))
		d := alma.NewExportDecoderInParts(bytes.NewReader(src), int64(len(src)), opts, int64(part%4096)+64, int(window), 2)
		defer d.Close()
		if diff := cmp.Diff(want, traceDecoder(t, d)); diff != "" {
			t.Fatalf("(-whole +parts)\n%s", diff)
		}
	})
}

// countingReaderAt counts the bytes read through it.
type countingReaderAt struct {
	r io.ReaderAt
	n atomic.Int64
}

func (c *countingReaderAt) ReadAt(b []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(b, off)
	c.n.Add(int64(n))
	return n, err
}

// TestDecoderInPartsLongUser decodes a file whose middle user has
// thousands of fees, so that hundreds of parts hold no cut: the decoder
// in parts gives what the whole one gives and reads the file a few times
// at most, not once a part.
func TestDecoderInPartsLongUser(t *testing.T) {
	user := func(id string, fees, first int) string {
		var b strings.Builder
		b.WriteString("<x:userExportedFineFeesList><x:user><x:value>" + id + "</x:value></x:user>\n")
		for i := range fees {
			fmt.Fprintf(&b, "<x:userFineFee><x:fineFeeType>OTHER</x:fineFeeType><x:compositeSum><x:currency>USD</x:currency>"+
				"<x:sum>1.00</x:sum></x:compositeSum><x:bursarTransactionId>%d</x:bursarTransactionId></x:userFineFee>\n", first+i)
		}
		b.WriteString("</x:userExportedFineFeesList>\n")
		return b.String()
	}
	src := []byte(`<?xml version="1.0"?>` + "\n<x:root xmlns:x=\"u\"><x:list>\n" +
		user("A", 3, 1) + user("B", 5000, 10) + user("C", 3, 9000) + "</x:list></x:root>\n")
	opts := &alma.DecoderOptions{AllowDuplicates: true}
	want := traceDecoder(t, alma.NewExportDecoder(bytes.NewReader(src), opts))
	r := &countingReaderAt{r: bytes.NewReader(src)}
	d := alma.NewExportDecoderInParts(r, int64(len(src)), opts, 4096, 1<<10, 2)
	defer d.Close()
	if diff := cmp.Diff(want, traceDecoder(t, d)); diff != "" {
		t.Fatalf("(-whole +parts)\n%s", diff)
	}
	if p, w := alma.ReadInParts(d); !p || w {
		t.Errorf("in parts %v, whole again %v; want in parts only", p, w)
	}
	read := r.n.Load()
	t.Logf("read %d bytes of a file of %d", read, len(src))
	if read > 4*int64(len(src)) {
		t.Errorf("read %d bytes of a file of %d", read, len(src))
	}
}

// failingReaderAt fails every read that reaches past from.
type failingReaderAt struct {
	r    io.ReaderAt
	from int64
}

var errDisk = errors.New("disk error")

func (f failingReaderAt) ReadAt(b []byte, off int64) (int, error) {
	if off+int64(len(b)) > f.from {
		return 0, errDisk
	}
	return f.r.ReadAt(b, off)
}

// TestDecoderInPartsReadErrors: a file shorter than the size given gives
// what the whole decoder gives over the same reader; a read error in a
// late part ends the records with the whole decoder's error, after the
// records the whole decoder gives, or more: the parts read the file in
// other pieces than the whole decoder's buffer, so they may read further
// before a read fails.
func TestDecoderInPartsReadErrors(t *testing.T) {
	src := generateExport(t, 400)
	size := int64(len(src))
	opts := &alma.DecoderOptions{File: "export.xml", AllowDuplicates: true}
	for _, tc := range []struct {
		name  string
		r     io.ReaderAt
		size  int64
		exact bool
	}{
		{"read error", failingReaderAt{bytes.NewReader(src), size * 3 / 4}, size, false},
		{"shorter than its size", bytes.NewReader(src[:size*3/4]), size, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := traceDecoder(t, alma.NewExportDecoder(io.NewSectionReader(tc.r, 0, tc.size), opts))
			d := alma.NewExportDecoderInParts(tc.r, tc.size, opts, 1000, 1<<10, 2)
			defer d.Close()
			got := traceDecoder(t, d)
			if !tc.exact && len(got.Recs) >= len(want.Recs) {
				// Compare the records the whole decoder read.
				n := len(want.Recs)
				got.Recs, got.Errs, got.Lines, got.ExportNumbers = got.Recs[:n], got.Errs[:n], got.Lines[:n], got.ExportNumbers[:n]
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("(-whole +parts)\n%s", diff)
			}
			if len(got.Recs) == 0 || got.End == "EOF" {
				t.Errorf("%d records, then %s: want records, then an error", len(got.Recs), got.End)
			}
		})
	}
}
