package almatest_test

import (
	"testing"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/alma/almatest"
	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/transport/memdrop"
)

// jobEnds returns the JOB_END deliveries queued so far, parsed by package
// alma after checking their signature.
func jobEnds(t *testing.T, srv *almatest.Server, secret []byte) []*alma.JobEnd {
	t.Helper()
	var out []*alma.JobEnd
	for _, h := range srv.Webhooks() {
		if h.Event != almatest.EventJobEnd {
			continue
		}
		if h.Signature != alma.Sign(secret, h.Body) {
			t.Errorf("JOB_END %s: bad signature", h.ID)
		}
		ev, err := alma.ParseEvent(h.Body)
		if err != nil {
			t.Fatalf("JOB_END %s: %v\n%s", h.ID, err, h.Body)
		}
		out = append(out, ev.JobEnd)
	}
	return out
}

// TestJobEndAfterExports (issue 18): the export jobs send a signed JOB_END
// with the counts of the file they wrote; the instance id is the one in
// the file's name; a run with nothing to export says so; told to, the
// next run announces a wrong count, or fails and writes nothing.
func TestJobEndAfterExports(t *testing.T) {
	secret := []byte("s3cret")
	w := newWorld(t, &almatest.Options{WebhookEvents: []string{almatest.EventJobEnd}, WebhookSecret: secret})
	ctx := t.Context()
	drop := memdrop.New()
	w.lose(t, "0123456", "31234000111222")
	if _, err := w.srv.AddFee("0987654", almatest.FeeSpec{Type: fees.TypeDamagedItemFine, Amount: usd("12.50"), Barcode: "31234000555666"}); err != nil {
		t.Fatal(err)
	}
	res, err := w.srv.RunExport(ctx, drop, "exports", "BURSAR")
	if err != nil {
		t.Fatal(err)
	}
	ends := jobEnds(t, w.srv, secret)
	if len(ends) != 1 {
		t.Fatalf("%d JOB_END, want 1", len(ends))
	}
	e := ends[0]
	_, id, _, _ := alma.ParseFileName(res.File[len("exports/"):])
	if e.InstanceID != id || e.Name != almatest.ExportJobName("BURSAR") || !e.Succeeded() {
		t.Errorf("job end %+v; file %s", e, res.File)
	}
	if n, _ := e.Count(alma.CounterBursarFinesFees); n != int64(len(res.Records)) || n < 2 {
		t.Errorf("fines and fees %d, file holds %d", n, len(res.Records))
	}
	if n, _ := e.Count(alma.CounterBursarUsers); n != 2 {
		t.Errorf("users %d, want 2", n)
	}

	// Nothing left to export: no file, and Alma says so.
	if res, err := w.srv.RunExport(ctx, drop, "exports", "BURSAR"); err != nil || res.File != "" {
		t.Fatalf("second run: %+v, %v", res, err)
	}
	if e := jobEnds(t, w.srv, secret)[1]; e.Status != almatest.JobCompletedNoBulks || e.Failed() {
		t.Errorf("nothing to export: %+v", e)
	}

	// A wrong count, once.
	if _, err := w.srv.AddFee("0987654", almatest.FeeSpec{Type: fees.TypeDamagedItemFine, Amount: usd("3.00"), Barcode: "31234000333444"}); err != nil {
		t.Fatal(err)
	}
	w.srv.FailNextExport(almatest.JobEndFault{Records: -1})
	if res, err = w.srv.RunExport(ctx, drop, "exports", "BURSAR"); err != nil || len(res.Records) != 1 {
		t.Fatalf("third run: %+v, %v", res, err)
	}
	if n, _ := jobEnds(t, w.srv, secret)[2].Count(alma.CounterBursarFinesFees); n != 0 {
		t.Errorf("told to miscount by -1: announced %d for 1 record", n)
	}

	// A job that ends with errors writes nothing and transfers nothing.
	if _, err := w.srv.AddFee("0987654", almatest.FeeSpec{Type: fees.TypeDamagedItemFine, Amount: usd("4.00"), Barcode: "31234000333444"}); err != nil {
		t.Fatal(err)
	}
	w.srv.FailNextExport(almatest.JobEndFault{Status: almatest.JobCompletedFailed})
	if res, err = w.srv.RunExport(ctx, drop, "exports", "BURSAR"); err != nil || res.File != "" {
		t.Fatalf("failed run: %+v, %v", res, err)
	}
	if e := jobEnds(t, w.srv, secret)[3]; !e.Failed() || len(e.Counters) != 0 {
		t.Errorf("failed job: %+v", e)
	}
	if res, err = w.srv.RunExport(ctx, drop, "exports", "BURSAR"); err != nil || len(res.Records) != 1 {
		t.Errorf("the run after the failed one exports what it left: %+v, %v", res, err)
	}
}

// TestNoJobEndUnlessSubscribed: without JOB_END in the profile's events
// the export sends nothing.
func TestNoJobEndUnlessSubscribed(t *testing.T) {
	w := newWorld(t, nil)
	w.lose(t, "0123456", "31234000111222")
	if _, err := w.srv.RunExport(t.Context(), memdrop.New(), "exports", "BURSAR"); err != nil {
		t.Fatal(err)
	}
	if h := w.srv.Webhooks(); len(h) != 0 {
		t.Errorf("%d webhooks queued", len(h))
	}
}
