package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/peoplesoft"
	"github.com/feebridge/feebridge/reconcile"
	feeconfig "github.com/feebridge/feebridge/reconcile/config"
)

// The simulated days: Alma's export at 18:00, the charges job after it,
// the bursar's payments the next day.
var (
	exportAt   = time.Date(2026, 3, 2, 18, 0, 0, 0, time.UTC)
	chargesAt  = time.Date(2026, 3, 2, 18, 10, 0, 0, time.UTC)
	paidAt     = time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)
	paymentsAt = time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC)
)

// feeTypes are the fee types of the generated fees, in turn.
var feeTypes = []fees.Type{fees.TypeOverdueFine, fees.TypeLostItemReplacementFee,
	fees.TypeLostItemProcessFee, fees.TypeDamagedItemFine}

// The generated data: fee i belongs to student 10000000+i/4, has bursar
// transaction id 100000000000+i and costs (i mod 9999)+1 cents. Payment i
// pays fee i: in full by eServices when i is even, at the cashier when i
// is odd, half of it (all of a one-cent fee), by cash or by check.
func feeStudent(i int) string { return strconv.Itoa(10000000 + i/4) }
func feeRef(i int) string     { return strconv.Itoa(100000000000 + i) }
func feeCents(i int) int64    { return int64(i%9999 + 1) }
func paidCents(i int) int64 {
	c := feeCents(i)
	if i%2 == 1 && c > 1 {
		return c / 2
	}
	return c
}

// sumCents is the sum of f(i) for i < n, in a currency's minor units.
func sumCents(n int, f func(int) int64) fees.Money {
	var c int64
	for i := range n {
		c += f(i)
	}
	return fees.FromMinor(c, fees.USD)
}

// The folders of a size's work folder.
const (
	libDir     = "lib" // the library's drop (Alma's FTP server)
	burDir     = "bur" // the bursar's drop (PeopleSoft's folders)
	tmpDir     = "tmp" // files being built
	journalDB  = "journal.db"
	exportName = "BURSAR-1-1772474400000.xml"
	paymentsFn = "payments-20260303.csv"
)

// workDirs makes the folders of a work folder and, in a new one, its
// journal, as `feesync init` does for a new site (the jobs refuse to
// start without one).
//
// journal, when not empty, is the journal to use instead of journal.db:
// opened (and so created and migrated if new) once.
func workDirs(ctx context.Context, dir, journal string) error {
	for _, d := range []string{"lib/exports", "lib/credits", "lib/imports", "bur/inbound", "bur/outbound", tmpDir} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	if journal != "" {
		j, err := reconcile.OpenJournal(ctx, journal, nil)
		if err != nil {
			return err
		}
		return j.Close()
	}
	path := filepath.Join(dir, journalDB)
	if fi, err := os.Stat(path); err == nil && fi.Size() > 0 {
		return nil
	}
	j, err := reconcile.CreateJournal(ctx, path, nil)
	if err != nil {
		return err
	}
	return j.Close()
}

// createStreamed writes a file through a buffer by calling write, under a
// temporary name renamed into place once whole, so that a job never reads
// half of it.
func createStreamed(path string, write func(w io.Writer) error) error {
	tmp := path + ".part"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

// genExport writes an Alma bursar export of n fees into the library
// drop's exports folder, one fee at a time.
func genExport(dir string, n int) (result, error) {
	res := result{Records: n}
	err := createStreamed(filepath.Join(dir, libDir, "exports", exportName), func(w io.Writer) error {
		enc := alma.NewExportEncoder(w, "1", nil)
		for i := range n {
			err := enc.Encode(alma.ExportRecord{
				Patron:        alma.Patron{ID: feeStudent(i), IDType: "02", Name: "Student, Test"},
				Type:          feeTypes[i%len(feeTypes)],
				Amount:        fees.FromMinor(feeCents(i), fees.USD),
				TransactionID: feeRef(i),
				Item: fees.Item{Barcode: "3908" + strconv.Itoa(1000000+i), Title: "A book of some length, volume " + strconv.Itoa(i),
					CallNumber: "QA76.73 .G6", Library: "MAIN", Location: "STACKS"},
				Owner:           "MAIN",
				LastTransaction: exportAt,
			})
			if err != nil {
				return err
			}
		}
		return enc.Close()
	})
	res.Total = sumCents(n, feeCents).String()
	return res, err
}

// genPayments writes a PeopleSoft payment file of n payments, one for
// each generated fee, into the bursar drop's outbound folder.
func genPayments(dir string, n int) (result, error) {
	res := result{Records: n}
	m := peoplesoft.DefaultMapping()
	err := createStreamed(filepath.Join(dir, burDir, "outbound", paymentsFn), func(w io.Writer) error {
		enc := peoplesoft.NewPaymentEncoder(w, peoplesoft.ReferencePaymentLayout(), paymentsAt)
		for i := range n {
			p := peoplesoft.Payment{
				EmplID:    feeStudent(i),
				Ref:       feeRef(i),
				ItemType:  m.ItemTypes[feeTypes[i%len(feeTypes)]],
				ChargeAmt: fees.FromMinor(feeCents(i), fees.USD),
				PaidAmt:   fees.FromMinor(paidCents(i), fees.USD),
				PaidDate:  paidAt,
			}
			switch i % 4 {
			case 0, 2:
				p.Channel, p.Method, p.Receipt = fees.ChannelEServices, fees.MethodCreditCard, fmt.Sprintf("E%09d", i/4)
			case 1:
				p.Channel, p.Method, p.Receipt = fees.ChannelCashier, fees.MethodCash, fmt.Sprintf("C%09d", i)
			case 3:
				p.Channel, p.Method, p.Receipt = fees.ChannelCashier, fees.MethodCheck, fmt.Sprintf("C%09d", i)
			}
			if err := enc.Encode(p); err != nil {
				return err
			}
		}
		return enc.Close()
	})
	res.Total = sumCents(n, paidCents).String()
	return res, err
}

// openJobs opens the journal and the drops of a work folder and returns
// the jobs over them, as feesync does (through reconcile/config), from a
// config built here: both drops are folders of the work folder. almaClient
// is the fake Alma's client for the jobs that call Alma; nil leaves Alma
// out, and with it the jobs that need it.
func openJobs(ctx context.Context, dir, journal string, now func() time.Time, almaClient *alma.Client, workers int) (*reconcile.Jobs, func(), error) {
	cfg := feeconfig.Default()
	cfg.Journal = journal
	if journal == "" {
		cfg.Journal = filepath.Join(dir, journalDB)
	}
	cfg.Library.Type, cfg.Library.Path = "dir", filepath.Join(dir, libDir)
	cfg.PeopleSoft.Type, cfg.PeopleSoft.Path = "dir", filepath.Join(dir, burDir)
	// The measured files are written whole before the run: claimed at
	// once, so that the figures measure the jobs, not a wait.
	cfg.Library.Settle, cfg.PeopleSoft.Settle = 0, 0
	setup, err := feeconfig.Open(ctx, cfg, &feeconfig.Options{
		Now:          now,
		TempDir:      filepath.Join(dir, tmpDir),
		NoAlma:       almaClient == nil,
		AlmaClient:   almaClient,
		EventWorkers: workers,
	})
	if err != nil {
		return nil, nil, err
	}
	return setup.Jobs, func() { setup.Close() }, nil
}

// runFileJob runs the charges or the payments job of a work folder over
// the n records generated, measures it, and checks its result.
func runFileJob(ctx context.Context, cfg config, n int) (result, error) {
	now, want, outDir := chargesAt, sumCents(n, feeCents), burDir
	if cfg.phase == phasePayments {
		now, want, outDir = paymentsAt, sumCents(n, paidCents), libDir
	}
	jobs, closeJobs, err := openJobs(ctx, cfg.dir, cfg.journal, func() time.Time { return now }, nil, 0)
	if err != nil {
		return result{}, err
	}
	defer closeJobs()
	m, err := startMeter(cfg.cpuProfile)
	if err != nil {
		return result{}, err
	}
	var run reconcile.RunResult
	if cfg.phase == phasePayments {
		run, err = jobs.Payments(ctx)
	} else {
		run, err = jobs.Charges(ctx)
	}
	res := result{Records: run.Records, Total: run.Total.String()}
	if merr := m.done(&res, cfg.memProfile); err == nil {
		err = merr
	}
	if err != nil {
		return res, err
	}
	for _, o := range run.Outputs {
		lines, err := countLines(filepath.Join(cfg.dir, outDir, o))
		if err != nil {
			return res, err
		}
		res.Lines += lines
	}
	if run.Records != n {
		res.Problems = append(res.Problems, fmt.Sprintf("%d records written, want %d", run.Records, n))
	}
	if !run.Total.Equal(want) {
		res.Problems = append(res.Problems, fmt.Sprintf("total %s, want %s", run.Total, want))
	}
	if !run.Clean() {
		res.Problems = append(res.Problems, fmt.Sprintf("%d records held, %d files failed", len(run.Rejected), len(run.Failed)))
	}
	if len(run.Outputs) != 1 {
		res.Problems = append(res.Problems, fmt.Sprintf("%d output files, want 1", len(run.Outputs)))
	}
	return res, nil
}

// countLines counts the lines of a file.
func countLines(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, 1<<16)
	lines := 0
	for {
		k, err := f.Read(buf)
		lines += bytes.Count(buf[:k], []byte{'\n'})
		if err == io.EOF {
			return lines, nil
		}
		if err != nil {
			return lines, err
		}
	}
}

// runPhase runs one phase of size n in this process.
func runPhase(ctx context.Context, cfg config, n int) (result, error) {
	var (
		res result
		err error
	)
	switch cfg.phase {
	case phaseGenExport, phaseGenPayments:
		if err := workDirs(ctx, cfg.dir, cfg.journal); err != nil {
			return res, err
		}
		m, merr := startMeter("")
		if merr != nil {
			return res, merr
		}
		if cfg.phase == phaseGenExport {
			res, err = genExport(cfg.dir, n)
		} else {
			res, err = genPayments(cfg.dir, n)
		}
		if merr := m.done(&res, ""); err == nil {
			err = merr
		}
	case phaseCharges, phasePayments:
		res, err = runFileJob(ctx, cfg, n)
	case phaseLostReturns:
		res, err = runLostReturns(ctx, cfg, n)
	case phaseReconcileReport, phaseReconcileEach:
		res, err = runReconcile(ctx, cfg, n)
	default:
		err = fmt.Errorf("unknown phase %q", cfg.phase)
	}
	res.Phase, res.N = cfg.phase, n
	return res, err
}
