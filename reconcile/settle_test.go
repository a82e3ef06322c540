package reconcile_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/transport"
	"github.com/feebridge/feebridge/transport/memdrop"
)

// The payments of the settle tests: two good lines and the fake's trailer.
const (
	payPart1 = "R1|T1|S001|50.00|CASHIER|CASH\n"
	payWhole = payPart1 + "R4|T3|S002|0.82|ESERVICES|CREDIT_CARD\nend|2\n"
)

func (e *env) write(name, content string) {
	e.t.Helper()
	if err := e.bursar.WriteFile(e.t.Context(), name, []byte(content)); err != nil {
		e.t.Fatal(err)
	}
}

// imports returns the import files published on the library drop.
func imports(t *testing.T, e *env) []string {
	t.Helper()
	var out []string
	for p, body := range files(t, e.library) {
		if strings.HasPrefix(p, "imports/") {
			out = append(out, body)
		}
	}
	return out
}

// TestSettleAcrossRuns: a payment file still being written when a run
// lists it is left where it is (the run waits once, sees it change), and
// the next run, finding it unchanged since, claims it at once and whole.
func TestSettleAcrossRuns(t *testing.T) {
	e := newEnv(t)
	charged(t, e)
	e.opts.BursarClaim = reconcile.ClaimRule{Settle: time.Minute}
	e.write("outbound/pay.csv", payPart1)
	slept := 0
	e.opts.Sleep = func(ctx context.Context, d time.Duration) error {
		slept++
		e.now = e.now.Add(d)
		e.write("outbound/pay.csv", payWhole) // the sender goes on writing
		return nil
	}
	res, err := e.jobs(nil).Payments(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if res.Records != 0 || res.Files != 0 || len(res.Outputs) != 0 || len(res.Failed) != 0 || slept != 1 {
		t.Fatalf("first run = %+v after %d waits; want nothing claimed, one wait", res, slept)
	}
	if len(res.Waiting) != 1 || res.Waiting[0].File != "pay.csv" || !strings.Contains(res.Waiting[0].Reason, "waiting for it to settle") {
		t.Errorf("waiting = %+v", res.Waiting)
	}
	if got := imports(t, e); len(got) != 0 {
		t.Fatalf("forwarded %v from a file still being written", got)
	}
	if got := files(t, e.bursar)["outbound/pay.csv"]; got != payWhole {
		t.Fatalf("outbound/pay.csv = %q, want it left in place", got)
	}

	// An hour later the file has not changed since the first run saw it:
	// claimed without waiting.
	e.now = e.now.Add(time.Hour)
	e.opts.Sleep = func(context.Context, time.Duration) error { t.Error("the second run waited"); return nil }
	res, err = e.jobs(nil).Payments(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if res.Records != 2 || len(res.Waiting) != 0 {
		t.Fatalf("second run = %+v, want both payments", res)
	}
	if got := files(t, e.bursar)["outbound/done/pay.csv"]; got != payWhole {
		t.Errorf("done/pay.csv = %q", got)
	}
	if s, err := e.journal.Sightings(t.Context(), reconcile.JobPayments); err != nil || len(s) != 0 {
		t.Errorf("sightings left: %+v, %v", s, err)
	}
}

// TestSettleWithinTheRun: a file the run sees first is claimed in the
// same run once it stayed unchanged for the wait, even on a clock that
// stands still.
func TestSettleWithinTheRun(t *testing.T) {
	e := newEnv(t)
	charged(t, e)
	e.opts.BursarClaim = reconcile.ClaimRule{Settle: time.Minute}
	e.write("outbound/pay.csv", payWhole)
	var waited time.Duration
	e.opts.Sleep = func(ctx context.Context, d time.Duration) error { waited += d; return nil }
	res, err := e.jobs(nil).Payments(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if res.Records != 2 || len(res.Waiting) != 0 || waited != time.Minute {
		t.Fatalf("run = %+v after waiting %s; want both payments after 1m", res, waited)
	}
}

// TestDoneMarker: with a marker configured, a file is claimed only once
// its marker is there; markers are never read as data and go once their
// file is claimed.
func TestDoneMarker(t *testing.T) {
	e := newEnv(t)
	charged(t, e)
	e.opts.BursarClaim = reconcile.ClaimRule{DoneMarker: ".done"}
	e.write("outbound/pay.csv", payWhole)
	e.write("outbound/other.csv.done", "") // a marker without its file
	res, err := e.jobs(nil).Payments(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if res.Records != 0 || res.Files != 0 || len(res.Failed) != 0 || len(res.Waiting) != 1 ||
		!strings.Contains(res.Waiting[0].Reason, "waiting for its marker pay.csv.done") {
		t.Fatalf("without its marker: %+v", res)
	}
	e.write("outbound/pay.csv.done", "")
	res, err = e.jobs(nil).Payments(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if res.Records != 2 || res.Files != 1 || len(res.Failed) != 0 || len(res.Waiting) != 0 {
		t.Fatalf("with its marker: %+v", res)
	}
	got := files(t, e.bursar)
	if _, ok := got["outbound/pay.csv.done"]; ok {
		t.Error("the marker of the claimed file is still there")
	}
	if _, ok := got["outbound/other.csv.done"]; !ok {
		t.Error("a marker without its file was removed")
	}
	for p := range got {
		if strings.Contains(p, "failed/") || strings.HasPrefix(p, "outbound/done/") && strings.HasSuffix(p, ".done") {
			t.Errorf("a marker was taken as data: %s", p)
		}
	}
}

// TestGrowthWhileReadIsPutBack: a writer appends to the claimed file
// between the read and the journal commit. Nothing of it is applied, it
// goes back to the inbound folder, and the next run forwards it whole.
func TestGrowthWhileReadIsPutBack(t *testing.T) {
	e := newEnv(t)
	charged(t, e)
	e.write("outbound/pay.csv", payPart1+"end|1\n")
	grew := false
	fault := func(step string) error {
		if step == reconcile.StepDecide && !grew {
			grew = true
			e.now = e.now.Add(time.Second)
			e.write("outbound/processing/pay.csv", payWhole)
		}
		return nil
	}
	res, err := e.jobs(fault).Payments(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if res.Records != 0 || len(res.Outputs) != 0 || len(res.Waiting) != 1 || !strings.Contains(res.Waiting[0].Reason, "changed while it was read") {
		t.Fatalf("run = %+v, want nothing applied and the file waiting", res)
	}
	if got := imports(t, e); len(got) != 0 {
		t.Fatalf("forwarded %v from a file that grew", got)
	}
	if recs, err := e.journal.Records(t.Context(), reconcile.KindPayment, ""); err != nil || len(recs) != 0 {
		t.Fatalf("journaled %+v, %v", recs, err)
	}
	if fs, err := e.journal.Files(t.Context(), reconcile.JobPayments); err != nil || len(fs) != 0 {
		t.Fatalf("journaled files %+v, %v", fs, err)
	}
	if got := files(t, e.bursar)["outbound/pay.csv"]; got != payWhole {
		t.Fatalf("outbound/pay.csv = %q, want the whole file back", got)
	}
	for p, body := range files(t, e.bursar) {
		if strings.HasPrefix(p, "outbound/") && (p != "outbound/pay.csv" || body != payWhole) {
			t.Fatalf("%s = %q, want only the whole file back in outbound/", p, body)
		}
	}

	res, err = e.jobs(nil).Payments(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if res.Records != 2 || len(res.Waiting) != 0 {
		t.Fatalf("next run = %+v, want both payments", res)
	}
	if got := imports(t, e); len(got) != 1 || !strings.Contains(got[0], "0.82") || !strings.Contains(got[0], "50.00") {
		t.Errorf("imports = %v", got)
	}
}

// TestGrowthInADryRun: a dry run reports the file as not trusted and
// moves nothing.
func TestGrowthInADryRun(t *testing.T) {
	e := newEnv(t)
	charged(t, e)
	e.write("outbound/pay.csv", payPart1+"end|1\n")
	e.opts.DryRun = true
	fault := func(step string) error {
		if step == reconcile.StepDecide {
			e.write("outbound/pay.csv", payWhole)
		}
		return nil
	}
	res, err := e.jobs(fault).Payments(t.Context())
	if err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	if len(res.Waiting) != 1 || len(res.Outputs) != 0 {
		t.Fatalf("dry run = %+v", res)
	}
	if got := files(t, e.bursar)["outbound/pay.csv"]; got != payWhole {
		t.Errorf("outbound/pay.csv = %q", got)
	}
}

// TestSettleLibraryJobs: the charges and credits jobs wait the same way
// for the files of the library drop (LibraryClaim), and the payments
// rule does not reach them.
func TestSettleLibraryJobs(t *testing.T) {
	e := newEnv(t)
	e.opts.LibraryClaim = reconcile.ClaimRule{Settle: time.Minute, DoneMarker: ".done"}
	e.opts.BursarClaim = reconcile.ClaimRule{}
	exportA(e)
	e.put(e.library, "credits/c.xml", "credit|T3|S002|F3|OVERDUEFINE|0.82", "end|1")
	waits := 0
	e.opts.Sleep = func(ctx context.Context, d time.Duration) error { waits++; e.now = e.now.Add(d); return nil }
	ctx := t.Context()
	for _, run := range []func(context.Context) (reconcile.RunResult, error){e.jobs(nil).Charges, e.jobs(nil).Credits} {
		res, err := run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if res.Records != 0 || len(res.Waiting) != 1 || !strings.Contains(res.Waiting[0].Reason, "waiting for its marker") {
			t.Errorf("without markers: %+v", res)
		}
	}
	e.put(e.library, "exports/alma-1-0301.xml.done")
	e.put(e.library, "credits/c.xml.done")
	e.now = e.now.Add(time.Hour) // unchanged since the runs above: settled
	for _, run := range []func(context.Context) (reconcile.RunResult, error){e.jobs(nil).Charges, e.jobs(nil).Credits} {
		res, err := run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if res.Records == 0 || len(res.Waiting) != 0 {
			t.Errorf("with markers, settled: %+v", res)
		}
	}
	if waits != 2 {
		t.Errorf("waited %d times, want once in each first run", waits)
	}
}

// TestSettleLongerThanARunWaits: a run waits within itself only for
// files that would settle within 5 minutes; a file with longer to go is
// left for a later run, which waits out the rest when it is short.
func TestSettleLongerThanARunWaits(t *testing.T) {
	e := newEnv(t)
	charged(t, e)
	e.opts.BursarClaim = reconcile.ClaimRule{Settle: time.Hour}
	var waits []time.Duration
	e.opts.Sleep = func(ctx context.Context, d time.Duration) error {
		waits = append(waits, d)
		e.now = e.now.Add(d)
		return nil
	}
	e.write("outbound/pay.csv", payWhole)
	res, err := e.jobs(nil).Payments(t.Context())
	if err != nil || res.Records != 0 || len(res.Waiting) != 1 || len(waits) != 0 {
		t.Fatalf("first run = %+v, %v, waits %v", res, err, waits)
	}
	e.now = e.now.Add(30 * time.Minute)
	if res, err = e.jobs(nil).Payments(t.Context()); err != nil || res.Records != 0 || len(res.Waiting) != 1 || len(waits) != 0 {
		t.Fatalf("30 minutes later = %+v, %v, waits %v", res, err, waits)
	}
	e.now = e.now.Add(28 * time.Minute)
	if res, err = e.jobs(nil).Payments(t.Context()); err != nil || res.Records != 2 || len(res.Waiting) != 0 {
		t.Fatalf("58 minutes later = %+v, %v", res, err)
	}
	if len(waits) != 1 || waits[0] != 2*time.Minute {
		t.Errorf("waits %v, want the 2 minutes left", waits)
	}
}

// growingDriver is a memory drop whose sender appends to a file once,
// just after a job has read it: after is called when the first reader
// of a processing/ file is closed.
type growingDriver struct {
	*memdrop.Driver
	after func()
}

func (d *growingDriver) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	rc, err := d.Driver.Open(ctx, name)
	if err != nil || !strings.Contains(name, "processing/") || d.after == nil {
		return rc, err
	}
	after := d.after
	d.after = nil
	return &closeHook{rc, after}, nil
}

type closeHook struct {
	io.ReadCloser
	after func()
}

func (c *closeHook) Close() error {
	err := c.ReadCloser.Close()
	c.after()
	return err
}

// TestCutFileThatGrowsIsPutBackNotFailed: a file read while its sender
// was still writing fails to read (no trailer yet); since it changed
// after the read, it is not failed but put back, and read whole later.
func TestCutFileThatGrowsIsPutBackNotFailed(t *testing.T) {
	e := newEnv(t)
	charged(t, e)
	drv := &growingDriver{Driver: memdrop.NewDriver(nil)}
	e.bursar = transport.NewDrop(drv, nil)
	for _, d := range []string{"inbound", "outbound"} {
		if err := e.bursar.MkdirAll(t.Context(), d); err != nil {
			t.Fatal(err)
		}
	}
	e.write("outbound/pay.csv", payPart1)
	drv.after = func() { e.write("outbound/processing/pay.csv", payWhole) }
	res, err := e.jobs(nil).Payments(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Failed) != 0 || res.Records != 0 || len(res.Waiting) != 1 || !strings.Contains(res.Waiting[0].Reason, "not trusted") {
		t.Fatalf("run = %+v, want the file put back, not failed", res)
	}
	if got := files(t, e.bursar)["outbound/pay.csv"]; got != payWhole {
		t.Fatalf("outbound/pay.csv = %q", got)
	}
	if res, err = e.jobs(nil).Payments(t.Context()); err != nil || res.Records != 2 {
		t.Fatalf("next run = %+v, %v", res, err)
	}
}
