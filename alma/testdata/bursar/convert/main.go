// Command convert is a test-only tool: it decodes an Alma bursar export
// with alma.ExportDecoder and writes one CSV line a fee, so that a whole
// conversion can be timed and its memory measured (for example with
// /usr/bin/time -v) against other converters on the same file:
//
//	go build -o /tmp/convert ./alma/testdata/bursar/convert
//	/usr/bin/time -v /tmp/convert [-allow-duplicates] export.xml out.csv
//
// It lives under testdata so that `go test ./...` and `go build ./...`
// leave it alone.
package main

import (
	"bufio"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/feebridge/feebridge/alma"
)

func main() {
	allow := flag.Bool("allow-duplicates", false, "do not check that transaction ids are unique")
	flag.Parse()
	if flag.NArg() != 2 {
		fmt.Fprintln(os.Stderr, "usage: convert [-allow-duplicates] export.xml out.csv")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), flag.Arg(1), *allow); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(in, out string, allow bool) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	o, err := os.Create(out)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(o)
	w := csv.NewWriter(bw)
	d := alma.NewExportDecoder(f, &alma.DecoderOptions{File: in, AllowDuplicates: allow})
	var fees, refused int
	for {
		r, err := d.Decode()
		if err == io.EOF {
			break
		}
		var pe *alma.ParseError
		if errors.As(err, &pe) && !errors.Is(err, alma.ErrSyntax) {
			refused++
			continue
		}
		if err != nil {
			return err
		}
		fees++
		w.Write([]string{r.Patron.ID, r.Patron.Name, string(r.Type), r.Item.Barcode, r.Amount.Amount(), r.TransactionID})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := o.Close(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%d fees, %d refused, export %s\n", fees, refused, d.ExportNumber())
	return nil
}
