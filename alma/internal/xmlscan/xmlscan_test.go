package xmlscan_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/feebridge/feebridge/alma/internal/xmlscan"
)

// collapseSpace trims XML white space and turns each inner run of it into
// one space, as package alma reads text fields.
func collapseSpace(b []byte) string {
	return strings.Join(strings.FieldsFunc(string(b), func(r rune) bool { return r < 0x80 && xmlscan.IsSpace(byte(r)) }), " ")
}

// scanEvents lists what the scanner reads from data: "<local", ">local"
// for an end tag, and "=text" for the white-space-collapsed text between
// two tags (when not empty). ok is false when the scanner refused data.
func scanEvents(data []byte) (events []string, ok bool) {
	s := xmlscan.New(bytes.NewReader(data), nil)
	var text []byte
	flush := func() {
		if t := collapseSpace(text); t != "" {
			events = append(events, "="+t)
		}
		text = text[:0]
	}
	for {
		tok, err := s.Next()
		if err == io.EOF {
			return events, true
		}
		if err != nil {
			return nil, false
		}
		switch tok.Kind {
		case xmlscan.Start:
			flush()
			events = append(events, "<"+tok.Name.Local)
		case xmlscan.End:
			flush()
			events = append(events, ">"+tok.Name.Local)
		case xmlscan.Text:
			text = append(text, tok.Text...)
		}
	}
}

// stdEvents is scanEvents done by encoding/xml.
func stdEvents(data []byte) (events []string, ok bool) {
	// encoding/xml reads a byte order mark as text; the scanner skips it.
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	d := xml.NewDecoder(bytes.NewReader(data))
	var text []byte
	flush := func() {
		if t := collapseSpace(text); t != "" {
			events = append(events, "="+t)
		}
		text = text[:0]
	}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return events, true
		}
		if err != nil {
			return nil, false
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			flush()
			events = append(events, "<"+tok.Name.Local)
		case xml.EndElement:
			flush()
			events = append(events, ">"+tok.Name.Local)
		case xml.CharData:
			text = append(text, tok...)
		}
	}
}

// checkAgainstEncodingXML fails t if the scanner and encoding/xml both
// accept data but read it differently.
func checkAgainstEncodingXML(t *testing.T, data []byte) {
	t.Helper()
	ours, ok1 := scanEvents(data)
	std, ok2 := stdEvents(data)
	if ok1 && ok2 {
		if diff := cmp.Diff(std, ours); diff != "" {
			t.Fatalf("scanner and encoding/xml disagree (-encoding/xml +scanner):\n%s", diff)
		}
	}
}

func fuzzSeeds(tb testing.TB) [][]byte {
	tb.Helper()
	files, err := filepath.Glob("../../testdata/bursar/*.xml")
	if err != nil || len(files) == 0 {
		tb.Fatal("no seed files", err)
	}
	var seeds [][]byte
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			tb.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	for _, s := range []string{
		`<a/>`,
		`<a><b>x &amp; y &#65;&#x42;</b><!-- c --><?p q?><![CDATA[<d>]]></a>`,
		`<x:a xmlns:x="u"><x:userFineFee><x:sum>1</x:sum></x:userFineFee></x:a>`,
		"\ufeff<a>\r\n</a>",
		`<!DOCTYPE a><a/>`,
		`<a b='1' c="2"/>`,
	} {
		seeds = append(seeds, []byte(s))
	}
	return seeds
}

// TestScannerAgreesWithEncodingXML compares the scanner with encoding/xml
// on every fixture and seed.
func TestScannerAgreesWithEncodingXML(t *testing.T) {
	for _, seed := range fuzzSeeds(t) {
		if _, ok := scanEvents(seed); !ok && !bytes.Contains(seed, []byte("DOCTYPE")) {
			t.Errorf("scanner refused a seed:\n%.200s", seed)
		}
		checkAgainstEncodingXML(t, seed)
	}
}

// FuzzScanner scans arbitrary input, seeded with Alma's real bursar files
// (alma/testdata/bursar). The scanner must never panic, never hand out a
// document nested deeper than MaxDepth or a token longer than MaxToken,
// fail only with a *SyntaxError (the input is in memory: no read error),
// and, where encoding/xml also accepts the input, read the same elements
// and text.
func FuzzScanner(f *testing.F) {
	for _, seed := range fuzzSeeds(f) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := xmlscan.New(bytes.NewReader(data), func(local string) uint8 { return uint8(len(local)) })
		depth := 0
		for range len(data) + 2 {
			tok, err := s.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				var se *xmlscan.SyntaxError
				if !errors.As(err, &se) {
					t.Fatalf("error of type %T: %v", err, err)
				}
				break
			}
			switch tok.Kind {
			case xmlscan.Start:
				depth++
				if depth > xmlscan.MaxDepth {
					t.Fatalf("nested %d deep", depth)
				}
				if tok.Name.Tag != uint8(len(tok.Name.Local)) {
					t.Fatalf("name %q tagged %d", tok.Name.Local, tok.Name.Tag)
				}
			case xmlscan.End:
				depth--
			case xmlscan.Text:
				if len(tok.Text) > xmlscan.MaxToken {
					t.Fatalf("text of %d bytes", len(tok.Text))
				}
			}
		}
		checkAgainstEncodingXML(t, data)
	})
}

// tokens lists the tokens s reads, as "<qname@line", ">qname" and
// "=text", and the error that ended them.
func tokens(s *xmlscan.Scanner) ([]string, error) {
	var out []string
	for {
		tok, err := s.Next()
		if err != nil {
			return out, err
		}
		switch tok.Kind {
		case xmlscan.Start:
			out = append(out, "<"+tok.Name.QName+"@"+strconv.Itoa(tok.Line))
		case xmlscan.End:
			out = append(out, ">"+tok.Name.QName)
		case xmlscan.Text:
			out = append(out, "="+string(tok.Text))
		}
	}
}

// TestPart reads a document in two parts, cut before a start tag: the
// head with EndInside, the rest with NewPart (and again with ResetPart),
// and requires the tokens of the whole, lines counted from the cut; a
// cut inside a comment is an error of the head.
func TestPart(t *testing.T) {
	doc := "<?xml version=\"1.0\"?>\n<r>\n <a x='1'>t&amp;u</a>\n <!-- <b> -->\n <b/>\n <c>v</c>\n</r>\n"
	whole, err := tokens(xmlscan.New(strings.NewReader(doc), nil))
	if err != io.EOF {
		t.Fatal(err)
	}
	cut := strings.Index(doc, " <b/>") + 1
	head := xmlscan.New(strings.NewReader(doc[:cut]), nil)
	head.EndInside()
	got, err := tokens(head)
	if err != io.EOF {
		t.Fatalf("head: %v", err)
	}
	if diff := cmp.Diff([]string{"r"}, head.Open()); diff != "" {
		t.Errorf("open at the cut: (-want +got)\n%s", diff)
	}
	lines := head.Line() - 1
	for _, rest := range []*xmlscan.Scanner{xmlscan.NewPart(strings.NewReader(doc[cut:]), nil, head.Open()), head} {
		if rest == head {
			head.ResetPart(strings.NewReader(doc[cut:]), []string{"r"})
		}
		tail, err := tokens(rest)
		if err != io.EOF {
			t.Fatalf("rest: %v", err)
		}
		all := append(append([]string(nil), got...), tail...)
		for i, s := range all[len(got):] {
			if at := strings.LastIndexByte(s, '@'); s[0] == '<' && at > 0 {
				n, _ := strconv.Atoi(s[at+1:])
				all[len(got)+i] = s[:at+1] + strconv.Itoa(n+lines)
			}
		}
		if diff := cmp.Diff(whole, all); diff != "" {
			t.Errorf("(-whole +parts)\n%s", diff)
		}
	}

	// Cut inside the comment: the head ends inside markup.
	cut = strings.Index(doc, "<b> -->")
	head = xmlscan.New(strings.NewReader(doc[:cut]), nil)
	head.EndInside()
	var se *xmlscan.SyntaxError
	if _, err := tokens(head); !errors.As(err, &se) {
		t.Errorf("head cut in a comment: %v, want a syntax error", err)
	}
	// Without EndInside, open elements at the end are an error.
	if _, err := tokens(xmlscan.NewPart(strings.NewReader(doc[strings.Index(doc, " <b/>"):strings.Index(doc, "</r>")]), nil, []string{"r"})); !errors.As(err, &se) {
		t.Errorf("part that does not close <r>: %v, want a syntax error", err)
	}
}
