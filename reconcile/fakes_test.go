package reconcile_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/transport"
	"github.com/feebridge/feebridge/transport/memdrop"
)

// The fakes below are small line formats that stand in for Alma's and
// PeopleSoft's files, so that the jobs are tested on their own.
//
// Export lines (one record a line, "|"-separated):
//
//	fee|txid|user|feeid|type|barcode|amount
//	credit|txid|user|feeid|type|amount
//	bad|txid|reason           a record that could not be read
//	end|count                 the trailer; a wrong count fails the file
//
// Anything else fails the file.

type lineExport struct{}

func (lineExport) NewExportReader(r io.Reader) reconcile.ExportReader {
	return &lineExportReader{sc: bufio.NewScanner(r)}
}

type lineExportReader struct {
	sc    *bufio.Scanner
	line  int
	count int
	ended bool
}

func (r *lineExportReader) Next() (reconcile.ExportRecord, error) {
	for r.sc.Scan() {
		r.line++
		f := strings.Split(r.sc.Text(), "|")
		rec := reconcile.ExportRecord{Line: r.line}
		switch {
		case f[0] == "fee" && len(f) == 7:
			amt, err := fees.ParseMoney(f[6], fees.USD)
			if err != nil {
				return rec, fmt.Errorf("line %d: %w", r.line, err)
			}
			fee, err := fees.NewFee(f[3], fees.Type(f[4]), f[2], amt, day(0))
			if err != nil {
				return rec, fmt.Errorf("line %d: %w", r.line, err)
			}
			fee.TransactionID = f[1]
			fee.Item.Barcode = f[5]
			if err := fee.Transfer(day(0)); err != nil {
				return rec, err
			}
			rec.UserID, rec.Fee = f[2], fee
		case f[0] == "credit" && len(f) == 6:
			amt, err := fees.ParseMoney(f[5], fees.USD)
			if err != nil {
				return rec, fmt.Errorf("line %d: %w", r.line, err)
			}
			rec.UserID = f[2]
			rec.Credit = &fees.Credit{Key: f[1], TransactionID: f[1], UserID: f[2], FeeID: f[3], Type: fees.Type(f[4]), Amount: amt, Reason: "WAIVE", Date: day(0)}
		case f[0] == "bad" && len(f) == 3:
			rec.Key, rec.Err = f[1], errors.New(f[2])
		case f[0] == "end" && len(f) == 2:
			if n, _ := strconv.Atoi(f[1]); n != r.count {
				return rec, fmt.Errorf("line %d: trailer says %s records, the file has %d", r.line, f[1], r.count)
			}
			r.ended = true
			continue
		default:
			return rec, fmt.Errorf("line %d: malformed record %q", r.line, r.sc.Text())
		}
		r.count++
		return rec, nil
	}
	if err := r.sc.Err(); err != nil {
		return reconcile.ExportRecord{}, err
	}
	if !r.ended {
		return reconcile.ExportRecord{}, errors.New("no trailer")
	}
	return reconcile.ExportRecord{}, io.EOF
}

// lineCharges maps fees to "C|txid|user|type|amount" lines, credits to
// "R|txid|user|type|-amount", and refuses fee types not in its table.
type lineCharges struct {
	refuse   map[fees.Type]bool
	colleges map[string]string // student → college (and part) the fee is routed to, for the per-college tests
}

func (c *lineCharges) MapCharge(f fees.Fee, asOf time.Time) (reconcile.ChargeLine, error) {
	if c.refuse[f.Type] {
		return reconcile.ChargeLine{}, fmt.Errorf("fee %s: fee type %s has no item type", f.ID, f.Type)
	}
	return reconcile.ChargeLine{Amount: f.Balance, Value: fmt.Sprintf("C|%s|%s|%s|%s", f.TransactionID, f.UserID, f.Type, f.Balance.Amount()),
		College: c.colleges[f.UserID], Part: c.colleges[f.UserID]}, nil
}

func (c *lineCharges) MapCredit(cr fees.Credit, asOf time.Time) (reconcile.ChargeLine, error) {
	if c.refuse[cr.Type] {
		return reconcile.ChargeLine{}, fmt.Errorf("credit %s: fee type %s has no item type", cr.Key, cr.Type)
	}
	return reconcile.ChargeLine{Amount: cr.Amount.Neg(), Value: fmt.Sprintf("R|%s|%s|%s|-%s", cr.TransactionID, cr.UserID, cr.Type, cr.Amount.Amount()),
		College: c.colleges[cr.UserID], Part: c.colleges[cr.UserID]}, nil
}

func (c *lineCharges) MapRefund(r fees.Refund, asOf time.Time) (reconcile.ChargeLine, error) {
	return reconcile.ChargeLine{Amount: r.Amount.Neg(), Value: fmt.Sprintf("F|%s|%s|%s|-%s", r.TransactionID, r.UserID, r.Type, r.Amount.Amount())}, nil
}

func (c *lineCharges) NewChargeWriter(w io.Writer, asOf time.Time) reconcile.ChargeWriter {
	return &lineWriter{w: w, head: "H|" + asOf.UTC().Format(time.RFC3339)}
}

type lineWriter struct {
	w     io.Writer
	head  string
	n     int
	total fees.Money
	err   error
}

func (w *lineWriter) Write(l reconcile.ChargeLine) error {
	// Like a fixed-width layout, the writer refuses a student id longer
	// than its field, and writes nothing of that line.
	if f := strings.Split(l.Value.(string), "|"); len(f[2]) > 8 {
		return fmt.Errorf("%w: EMPLID %q is longer than 8", reconcile.ErrReject, f[2])
	}
	if w.n == 0 {
		w.printf("%s\n", w.head)
		w.total = fees.Zero(fees.USD)
	}
	w.n++
	w.total, _ = w.total.Add(l.Amount)
	w.printf("%s\n", l.Value)
	return w.err
}

func (w *lineWriter) printf(format string, args ...any) {
	if w.err == nil {
		_, w.err = fmt.Fprintf(w.w, format, args...)
	}
}

func (w *lineWriter) Close() error {
	if w.n > 0 {
		w.printf("T|%d|%s\n", w.n, w.total.Amount())
	}
	return w.err
}

// Payment lines: "receipt|ref|user|amount|channel|method[|feetype]";
// "end|count".
type linePayments struct{}

func (linePayments) NewPaymentReader(r io.Reader) reconcile.PaymentReader {
	return &linePaymentReader{sc: bufio.NewScanner(r)}
}

type linePaymentReader struct {
	sc    *bufio.Scanner
	line  int
	count int
	ended bool
}

func (r *linePaymentReader) Next() (reconcile.PaymentRecord, error) {
	for r.sc.Scan() {
		r.line++
		f := strings.Split(r.sc.Text(), "|")
		rec := reconcile.PaymentRecord{Line: r.line}
		switch {
		case len(f) == 2 && f[0] == "end":
			if n, _ := strconv.Atoi(f[1]); n != r.count {
				return rec, fmt.Errorf("line %d: trailer says %s records, the file has %d", r.line, f[1], r.count)
			}
			r.ended = true
			continue
		case len(f) >= 6 && len(f) <= 8:
			p := fees.Payment{Receipt: f[0], TransactionID: f[1], UserID: f[2], Date: day(1)}
			p.Key = p.Receipt + "/" + p.TransactionID
			if len(f) == 8 { // the payment's date
				p.Date, _ = time.Parse(time.DateOnly, f[7])
			}
			if len(f) >= 7 && f[6] != "" { // the fee type of the charge paid
				rec.FeeType = fees.Type(f[6])
				p.Key += "/" + f[6]
			}
			var err error
			p.Amount, err = fees.ParseMoney(f[3], fees.USD)
			if err == nil {
				p.Channel, err = fees.ParseChannel(f[4])
			}
			if err == nil {
				p.Method, err = fees.ParseMethod(f[5])
			}
			rec.Payment, rec.Err = p, err
		default:
			return rec, fmt.Errorf("line %d: malformed payment %q", r.line, r.sc.Text())
		}
		r.count++
		return rec, nil
	}
	if !r.ended {
		return reconcile.PaymentRecord{}, errors.New("no trailer")
	}
	return reconcile.PaymentRecord{}, io.EOF
}

// lineImport writes "P|txid|user|feeid|amount|channel" lines.
type lineImport struct{}

func (lineImport) NewImportWriter(w io.Writer, asOf time.Time) reconcile.ImportWriter {
	return &lineImportWriter{w: w}
}

func (lineImport) FileName(sha string) string { return "import-" + sha[:16] + ".txt" }

type lineImportWriter struct {
	w   io.Writer
	err error
}

func (w *lineImportWriter) Write(p fees.Payment, c reconcile.Charge) error {
	if w.err == nil {
		_, w.err = fmt.Fprintf(w.w, "P|%s|%s|%s|%s|%s\n", c.TransactionID, c.UserID, c.FeeID, p.Amount.Amount(), p.Channel)
	}
	return w.err
}

func (w *lineImportWriter) Close() error { return w.err }

// day returns noon of the n-th day of the test week.
func day(n int) time.Time { return time.Date(2026, 3, 2+n, 12, 0, 0, 0, time.UTC) }

func usd(s string) fees.Money { return fees.MustParseMoney(s, fees.USD) }

// env is a set of jobs over memory drops and a journal on disk.
type env struct {
	t        *testing.T
	dir      string
	journal  *reconcile.Journal
	library  *transport.Drop
	bursar   *transport.Drop
	charges  *lineCharges
	alma     reconcile.AlmaAPI
	now      time.Time
	opts     reconcile.Options
	dbPath   string
	closeJnl func()
}

func newEnv(t *testing.T) *env { t.Helper(); return newEnvOn(t, "") }

// newEnvOn is newEnv with the journal at dbPath (a postgres:// DSN of an
// empty database, say); empty is journal.db in the test's folder.
func newEnvOn(t *testing.T, dbPath string) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir(), library: memdrop.New(), bursar: memdrop.New(),
		charges: &lineCharges{refuse: map[fees.Type]bool{}}, now: day(0)}
	e.dbPath = dbPath
	if e.dbPath == "" {
		e.dbPath = filepath.Join(e.dir, "journal.db")
	}
	e.openJournal()
	for _, d := range []string{"exports", "credits", "imports"} {
		if err := e.library.MkdirAll(t.Context(), d); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"inbound", "outbound", "results"} {
		if err := e.bursar.MkdirAll(t.Context(), d); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func (e *env) openJournal() {
	e.t.Helper()
	j, err := reconcile.OpenJournal(e.t.Context(), e.dbPath, &reconcile.JournalOptions{Now: e.clock})
	if err != nil {
		e.t.Fatal(err)
	}
	e.journal = j
	e.t.Cleanup(func() { j.Close() })
}

func (e *env) clock() time.Time { return e.now }

// jobs returns the jobs with e's options plus fault, if any.
func (e *env) jobs(fault func(string) error) *reconcile.Jobs {
	e.t.Helper()
	opts := e.opts
	opts.Now = e.clock
	opts.TempDir = e.dir
	if fault != nil {
		opts = reconcile.WithFaultHook(opts, fault)
	}
	j, err := reconcile.New(reconcile.Deps{
		Journal: e.journal, Library: e.library, Bursar: e.bursar,
		Export: lineExport{}, Charges: e.charges, Payments: linePayments{}, Import: lineImport{},
		Results: lineResults{}, Alma: e.alma,
	}, &opts)
	if err != nil {
		e.t.Fatal(err)
	}
	return j
}

func (e *env) put(drop *transport.Drop, name string, lines ...string) {
	e.t.Helper()
	if err := drop.WriteFile(e.t.Context(), name, []byte(strings.Join(lines, "\n")+"\n")); err != nil {
		e.t.Fatal(err)
	}
}

// files returns every file of drop with its content, by path, but the
// drop marks (reconcile.MarkDir), which carry the journal's random id:
// marks_test.go checks them.
func files(t *testing.T, drop *transport.Drop) map[string]string {
	t.Helper()
	out := map[string]string{}
	var walk func(dir string)
	walk = func(dir string) {
		list, err := drop.List(t.Context(), dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, fi := range list {
			p := path.Join(dir, fi.Name)
			if fi.IsDir && fi.Name == reconcile.MarkDir {
				continue
			}
			if fi.IsDir {
				walk(p)
				continue
			}
			b, err := drop.ReadFile(t.Context(), p)
			if err != nil {
				t.Fatal(err)
			}
			out[p] = string(b)
		}
	}
	walk("")
	return out
}

// state is everything a run leaves behind: both drops and the journal's
// records (without times) and files (without ids and times).
type state struct {
	Library, Bursar map[string]string
	Records         []string
	Files           []string
}

func (e *env) state() state {
	e.t.Helper()
	ctx := context.Background()
	s := state{Library: files(e.t, e.library), Bursar: files(e.t, e.bursar)}
	recs, err := e.journal.Records(ctx, "", "")
	if err != nil {
		e.t.Fatal(err)
	}
	for _, r := range recs {
		s.Records = append(s.Records, fmt.Sprintf("%s %s %s file=%s out=%s user=%s fee=%s amount=%s ref=%s reason=%q",
			r.Kind, r.Key, r.Outcome, r.File, r.Output, r.UserID, r.FeeID, r.Amount, r.Ref, r.Reason))
	}
	fs, err := e.journal.Files(ctx, "")
	if err != nil {
		e.t.Fatal(err)
	}
	for _, f := range fs {
		s.Files = append(s.Files, fmt.Sprintf("%s %s %s out=%s n=%d rej=%d total=%s reason=%q",
			f.Job, f.Name, f.Status, f.Output, f.Records, f.Rejected, f.Total, f.Reason))
	}
	slices.Sort(s.Files)
	return s
}
