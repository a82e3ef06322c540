package config

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/peoplesoft"
	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/transport"
	"github.com/feebridge/feebridge/transport/localdrop"
)

// ConvertOptions are the settings of [ConvertExport] and
// [ConvertPayments]; nil means defaults.
type ConvertOptions struct {
	// Now is the clock of the run; time.Now when nil. The charges job
	// dates its file, picks the term and the due date with it.
	Now func() time.Time
	// Logger receives the jobs' logs; nil discards them.
	Logger *slog.Logger
	// TempDir holds the temporary journal and drops of the conversion
	// (os.TempDir() when empty). They are removed when it returns.
	TempDir string
	// Progress, when set, is called with the number of records read so
	// far, every 1024 records of the input, from the goroutine that reads.
	Progress func(recordsRead int)

	// jobOnly makes ConvertExport run the charges job on every export
	// (the tests compare it with the plain path).
	jobOnly bool
}

// The names of the conversion's input and seed files in its drops.
const (
	convertExport   = "export.xml"
	convertPayments = "payments.csv"
	convertSeed     = "charges-paid.xml"
)

// ConvertExport turns the Alma bursar export file in into the PeopleSoft
// charge file out, offline, by running the charges job ([reconcile.Jobs.Charges])
// with the config's adapters over a temporary journal and drops in a
// temporary folder: what it writes is what `run charges` would write for
// the same file, the date aside. When no record passes, out holds an
// empty charge file (the job publishes none). The result lists the records
// held back; a file that cannot be read is an error.
//
// A plain export (only fees that go through, the bulk of Alma's exports)
// is converted without the journal, in two goroutines, with the same
// adapters and the same result (see convertPlain); any other goes through
// the job.
func ConvertExport(ctx context.Context, cfg *Config, in, out string, opts *ConvertOptions) (reconcile.RunResult, error) {
	if opts == nil || !opts.jobOnly {
		if err := cfg.checkValues(); err != nil {
			return reconcile.RunResult{}, err
		}
		var o ConvertOptions
		if opts != nil {
			o = *opts
		}
		now := time.Now
		if o.Now != nil {
			now = o.Now
		}
		res, err := convertPlain(ctx, cfg, in, out, now(), o.Progress)
		if !errors.Is(err, errNotPlain) {
			return res, err
		}
	}
	cv, err := newConversion(ctx, cfg, opts, countExport)
	if err != nil {
		return reconcile.RunResult{}, err
	}
	defer cv.close()
	if err := cv.put(ctx, cv.setup.Library, "exports", convertExport, in); err != nil {
		return reconcile.RunResult{}, err
	}
	res, err := cv.setup.Jobs.Charges(ctx)
	if err != nil {
		return res, err
	}
	return res, cv.publish(ctx, res, cv.setup.Bursar, in, out, func(w io.Writer) error {
		layout, err := cfg.ChargeLayout()
		if err != nil {
			return err
		}
		return peoplesoft.NewChargeEncoder(w, layout, cv.now()).Close()
	})
}

// ConvertPayments turns the PeopleSoft payment file in into the Alma
// bursar import file out, offline, by running the payments job
// ([reconcile.Jobs.Payments]) with the config's adapters over a temporary
// journal and drops: the import records, and the rules that hold a payment
// back (R4), are those of `run payments`.
//
// The temporary journal knows only the charges the payment lines name:
// before the payments job, a first pass over in writes, for each line
// that carries the amount charged (CHARGE_AMT) and an item type the
// mapping reads back to one fee type, an export record of that charge
// (student, reference, fee type, amount), and the charges job enters
// them, the first line of a charge giving its amount. A payment whose line
// does not say what was charged is then held as a payment of a charge that
// was not sent. When no record passes, out holds an empty import file.
func ConvertPayments(ctx context.Context, cfg *Config, in, out string, opts *ConvertOptions) (reconcile.RunResult, error) {
	// The charges are entered for the payments alone: whatever the day,
	// they fall in a term (the charge file written on the way is thrown
	// away), so that the calendar, which a payment does not need, cannot
	// hold one back.
	c := *cfg
	c.Terms = []Term{{Code: "0000", Start: Date{time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)},
		End: Date{time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)}}}
	c.Seasons = nil
	cv, err := newConversion(ctx, &c, opts, countPayments)
	if err != nil {
		return reconcile.RunResult{}, err
	}
	defer cv.close()
	if err := cv.seedCharges(ctx, in); err != nil {
		return reconcile.RunResult{}, err
	}
	if err := cv.put(ctx, cv.setup.Bursar, "outbound", convertPayments, in); err != nil {
		return reconcile.RunResult{}, err
	}
	res, err := cv.setup.Jobs.Payments(ctx)
	if err != nil {
		return res, err
	}
	return res, cv.publish(ctx, res, cv.setup.Library, in, out, func(w io.Writer) error {
		return alma.NewImportEncoder(w, &alma.EncoderOptions{Location: c.Location()}).Close()
	})
}

// conversion is the temporary journal and drops of one conversion.
type conversion struct {
	cfg   *Config
	dir   string
	now   func() time.Time
	setup *Setup
	// seeding dates the run at seedTime while the charges of a payment
	// file are entered: they stand for charges sent before any payment,
	// so that fees.CheckPaymentDate does not hold a payment as dated
	// before its (made-up) charge was sent.
	seeding bool
}

// seedTime is when the charges entered for a payment conversion count as
// sent.
var seedTime = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)

// clock is the clock of the conversion's jobs.
func (cv *conversion) clock() time.Time {
	if cv.seeding {
		return seedTime
	}
	return cv.now()
}

// The input whose records a conversion counts for its progress.
const (
	countExport = iota
	countPayments
)

func newConversion(ctx context.Context, cfg *Config, opts *ConvertOptions, count int) (*conversion, error) {
	if opts == nil {
		opts = &ConvertOptions{}
	}
	if err := cfg.checkValues(); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(opts.TempDir, "feebridge-convert-")
	if err != nil {
		return nil, err
	}
	cv := &conversion{dir: dir, now: opts.Now}
	if cv.now == nil {
		cv.now = time.Now
	}
	var adapt func(*reconcile.Deps)
	if p := opts.Progress; p != nil {
		adapt = func(d *reconcile.Deps) {
			if count == countExport {
				d.Export = countingExport{d.Export, p}
			} else {
				d.Payments = countingPayments{d.Payments, p}
			}
		}
	}
	if err := cv.open(ctx, cfg, opts.Logger, adapt); err != nil {
		cv.close()
		return nil, err
	}
	return cv, nil
}

// open makes the conversion's folders and opens the jobs over them, with
// the config's formats and the default folder names.
func (cv *conversion) open(ctx context.Context, cfg *Config, logger *slog.Logger, adapt func(*reconcile.Deps)) error {
	c := *cfg
	c.Journal = filepath.Join(cv.dir, "journal.db")
	c.Library = LibraryConfig{}
	c.PeopleSoft = PeopleSoftConfig{MaxPaymentFileMiB: cfg.PeopleSoft.MaxPaymentFileMiB}
	c.Report = ReportConfig{}
	cv.cfg = &c
	drops := make([]*transport.Drop, 2)
	for i, name := range []string{"library", "peoplesoft"} {
		if err := os.MkdirAll(filepath.Join(cv.dir, name), 0o700); err != nil {
			return err
		}
		d, err := localdrop.Open(filepath.Join(cv.dir, name), &localdrop.Options{NoSync: true})
		if err != nil {
			return err
		}
		drops[i] = d
	}
	for _, f := range c.Folders() {
		d := drops[0]
		if f.Drop == "peoplesoft" {
			d = drops[1]
		}
		if err := d.MkdirAll(ctx, f.Folder); err != nil {
			drops[0].Close()
			drops[1].Close()
			return err
		}
	}
	setup, err := Open(ctx, &c, &Options{Now: cv.clock, Logger: logger, TempDir: cv.dir,
		Library: drops[0], Bursar: drops[1], NoAlma: true, CreateJournal: true, adapt: adapt})
	if err != nil {
		drops[0].Close()
		drops[1].Close()
		return err
	}
	setup.onClose(drops[0].Close)
	setup.onClose(drops[1].Close)
	cv.setup = setup
	return nil
}

func (cv *conversion) close() {
	if cv.setup != nil {
		cv.setup.Close()
	}
	os.RemoveAll(cv.dir)
}

// put places the file at src in folder of drop under name: a hard link
// when it can, else a copy. The job moves it to done/, never changes it.
func (cv *conversion) put(ctx context.Context, drop *transport.Drop, folder, name, src string) error {
	if err := drop.MkdirAll(ctx, folder); err != nil {
		return err
	}
	root := filepath.Join(cv.dir, "library")
	if drop == cv.setup.Bursar {
		root = filepath.Join(cv.dir, "peoplesoft")
	}
	if os.Link(src, filepath.Join(root, folder, name)) == nil {
		return nil
	}
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	return drop.Put(ctx, path.Join(folder, name), bufio.NewReaderSize(f, 64<<10))
}

// publish copies the job's output from drop to out, or writes out with
// empty when the job published none. A file the job could not read (in)
// is an error.
func (cv *conversion) publish(ctx context.Context, res reconcile.RunResult, drop *transport.Drop, in, out string, empty func(io.Writer) error) error {
	if len(res.Failed) > 0 {
		// The job names the file by its name in the drop; name it by in.
		f := res.Failed[0]
		return fmt.Errorf("%s: %s", in, strings.TrimPrefix(f.Reason, f.File+": "))
	}
	if len(res.Outputs) == 0 {
		return writeAtomic(out, empty)
	}
	if len(res.Outputs) > 1 {
		return fmt.Errorf("the job published %d files, want one: %s", len(res.Outputs), strings.Join(res.Outputs, ", "))
	}
	rc, err := drop.Open(ctx, res.Outputs[0])
	if err != nil {
		return err
	}
	defer rc.Close()
	return writeAtomic(out, func(w io.Writer) error {
		_, err := io.Copy(w, rc)
		return err
	})
}

// seedCharges enters in the journal the charges that the payment lines of
// in name (see [ConvertPayments]), through an export file and the charges
// job. Lines that cannot be read are left to the payments job, which holds
// them with their reason.
func (cv *conversion) seedCharges(ctx context.Context, in string) error {
	layout, err := cv.cfg.PaymentLayout()
	if err != nil {
		return err
	}
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	dec := peoplesoft.NewPaymentDecoder(bufio.NewReaderSize(f, 64<<10), layout, &peoplesoft.DecodeOptions{
		File: in, Currency: cv.cfg.cur, MaxBytes: cv.cfg.MaxPaymentFileBytes(), AllowDuplicates: true})
	mapping := cv.cfg.Mapping()
	if err := cv.setup.Library.MkdirAll(ctx, "exports"); err != nil {
		return err
	}
	seed := filepath.Join(cv.dir, "library", "exports", convertSeed)
	err = writeAtomic(seed, func(w io.Writer) error {
		enc := alma.NewExportEncoder(w, "1", &alma.EncoderOptions{Location: cv.cfg.Location()})
		for {
			p, err := dec.Decode()
			if err == io.EOF {
				break
			}
			var pe *peoplesoft.ParseError
			if errors.As(err, &pe) && !peoplesoft.IsFileError(err) {
				continue
			}
			if err != nil {
				break // the payments job fails the file with the reason
			}
			typ, ok := mapping.FeeTypeOf(p.ItemType)
			if !ok || !p.ChargeAmt.IsPositive() {
				continue
			}
			if err := enc.Encode(alma.ExportRecord{Patron: alma.Patron{ID: p.EmplID}, Type: typ, Amount: p.ChargeAmt,
				TransactionID: p.Ref, LastTransaction: p.PaidDate}); err != nil && !errors.Is(err, alma.ErrRecord) {
				return err
			}
		}
		return enc.Close()
	})
	if err != nil {
		return fmt.Errorf("charges of %s: %w", in, err)
	}
	cv.seeding = true
	defer func() { cv.seeding = false }()
	_, err = cv.setup.Jobs.Charges(ctx)
	return err
}

// counter calls progress with the records read, every 1024.
type counter struct {
	n        int
	progress func(int)
}

func (c *counter) tick() {
	if c.n++; c.n%1024 == 0 {
		c.progress(c.n)
	}
}

// countingExport is an export format whose readers count their records.
type countingExport struct {
	reconcile.ExportFormat
	progress func(int)
}

func (f countingExport) NewExportReader(r io.Reader) reconcile.ExportReader {
	return &countingExportReader{f.ExportFormat.NewExportReader(r), counter{progress: f.progress}}
}

type countingExportReader struct {
	reconcile.ExportReader
	c counter
}

func (r *countingExportReader) Next() (reconcile.ExportRecord, error) {
	r.c.tick()
	return r.ExportReader.Next()
}

// countingPayments is a payment format whose readers count their records.
type countingPayments struct {
	reconcile.PaymentFormat
	progress func(int)
}

func (f countingPayments) NewPaymentReader(r io.Reader) reconcile.PaymentReader {
	return &countingPaymentReader{f.PaymentFormat.NewPaymentReader(r), counter{progress: f.progress}}
}

type countingPaymentReader struct {
	reconcile.PaymentReader
	c counter
}

func (r *countingPaymentReader) Next() (reconcile.PaymentRecord, error) {
	r.c.tick()
	return r.PaymentReader.Next()
}

// writeAtomic writes a file at path through write: the content goes to a
// temporary file in the same folder, which is synced and renamed into place
// only when write succeeds, so path holds either its old content or the
// whole new one, never a part.
func writeAtomic(path string, write func(io.Writer) error) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	bw := bufio.NewWriterSize(f, 64<<10)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
