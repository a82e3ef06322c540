package reconcile

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/feebridge/feebridge/fees"
)

// Redrive sends again the records of kind (KindCharge, KindCredit,
// KindRefund or KindPayment) that the journal holds as rejected, once the cause was
// fixed (a fee type mapped, a charge now known). Records that pass this
// time go out in one new file, through the same crash-safe sequence as
// the jobs; those that still fail stay held with the new reason. Records
// held for being unreadable (no fee in them) stay held: they need a
// corrected file.
func (j *Jobs) Redrive(ctx context.Context, kind string) (RunResult, error) {
	return j.redrive(ctx, kind, nil)
}

// RedriveKeys is [Jobs.Redrive] for the records of kind held under the
// keys given only (as `feesync held` lists them). A key no record of kind
// is held under is an error wrapping [ErrNotHeld], and nothing is sent.
func (j *Jobs) RedriveKeys(ctx context.Context, kind string, keys []string) (RunResult, error) {
	if len(keys) == 0 {
		return RunResult{}, fmt.Errorf("redrive %s: no key given", kind)
	}
	want := make(map[string]bool, len(keys))
	for _, k := range keys {
		want[k] = true
	}
	held, err := j.deps.Journal.Held(ctx, kind)
	if err != nil {
		return RunResult{}, err
	}
	for _, r := range held {
		delete(want, r.Key)
	}
	for _, k := range keys {
		if want[k] {
			return RunResult{}, fmt.Errorf("redrive: no %s is held under key %q: %w", kind, k, ErrNotHeld)
		}
	}
	for _, k := range keys {
		want[k] = true
	}
	return j.redrive(ctx, kind, want)
}

// redrive re-sends the held records of kind, only those whose key is in
// only when only is not nil.
func (j *Jobs) redrive(ctx context.Context, kind string, only map[string]bool) (_ RunResult, err error) {
	fj, err := j.redriveJob(kind)
	if err != nil {
		return RunResult{}, err
	}
	ctx, release, err := j.run.lock(ctx, fj.job)
	if err != nil {
		return RunResult{}, err
	}
	defer release()
	defer func() { err = leaseErr(ctx, err) }()
	if err := j.run.checkGuard(ctx); err != nil {
		return RunResult{}, err
	}
	if err := j.run.removeUploadTemps(ctx, fj); err != nil {
		return RunResult{}, err
	}
	j.run.removeStaleTemps(ctx)
	// Its outbound folder is never created silently (see FolderError).
	if err := checkOutFolders(ctx, fj); err != nil {
		return RunResult{}, err
	}

	// A re-drive that stopped after its decision was journaled is finished
	// first, from the input it kept.
	files, err := j.deps.Journal.Files(ctx, fj.job)
	if err != nil {
		return RunResult{}, err
	}
	var res RunResult
	for _, f := range files {
		if f.Status != FilePublishing {
			continue
		}
		fj.input = f.Input
		r, err := j.run.process(ctx, fj, f.Name, f.SHA256, strings.NewReader(f.Input), fileHooks{done: noop, fail: func(string) error { return nil }})
		res.add(r)
		if err != nil {
			return res, err
		}
	}
	held, err := j.deps.Journal.Held(ctx, kind)
	if only != nil {
		held = slices.DeleteFunc(held, func(r Record) bool { return !only[r.Key] })
	}
	if err != nil || len(held) == 0 {
		return res, err
	}
	// The input of a re-drive is the list of held records with their
	// reasons; its hash names the output, so a rerun after a crash
	// regenerates the same file.
	var b strings.Builder
	for _, r := range held {
		fmt.Fprintf(&b, "%s\t%s\t%d\t%s\n", r.Key, r.File, r.Line, r.Payload)
	}
	h := sha256.Sum256([]byte(b.String()))
	sha := hex.EncodeToString(h[:])
	fj.input = b.String()
	r, err := j.run.process(ctx, fj, "redrive-"+kind+"-"+sha[:16], sha, strings.NewReader(fj.input), fileHooks{done: noop, fail: func(string) error { return nil }})
	res.add(r)
	return res, err
}

func noop() error { return nil }

// redriveJob is the file job that re-drives the held records of kind.
func (j *Jobs) redriveJob(kind string) (fileJob, error) {
	fj := fileJob{job: "redrive-" + kind}
	switch kind {
	case KindCharge, KindCredit, KindRefund:
		// A refund (R8) goes out as the credits job sends it, with what
		// that job needs.
		need := fj.job
		if kind == KindRefund {
			need = JobRedriveCredits
		}
		if err := j.missing[need]; err != nil {
			return fj, err
		}
		fj.out, fj.outDir, fj.takenDir = j.deps.Bursar, j.opts.Folders.Charges, j.opts.Folders.ChargesTaken
		prefix := j.opts.ChargePrefix
		if kind != KindCharge {
			prefix = j.opts.CreditPrefix
		}
		fj.outName = func(sha string) string { return prefix + "redrive-" + sha[:16] + j.opts.ChargeExt }
		fj.decide = j.decideHeldExports
	case KindPayment:
		if err := j.missing[fj.job]; err != nil {
			return fj, err
		}
		fj.out, fj.outDir, fj.takenDir = j.deps.Library, j.opts.Folders.Imports, j.opts.Folders.ImportsTaken
		fj.outName = j.deps.Import.FileName
		fj.decide = j.decideHeldPayments
	default:
		return fj, fmt.Errorf("reconcile: cannot re-drive records of kind %q", kind)
	}
	return fj, nil
}

// heldLines reads what Redrive wrote: key, file, line and payload per line.
func heldLines(src io.Reader) ([][4]string, error) {
	data, err := io.ReadAll(src)
	if err != nil {
		return nil, err
	}
	var out [][4]string
	for line := range strings.SplitSeq(strings.TrimSuffix(string(data), "\n"), "\n") {
		f := strings.SplitN(line, "\t", 4)
		if len(f) == 4 {
			out = append(out, [4]string{f[0], f[1], f[2], f[3]})
		}
	}
	return out, nil
}

func (j *Jobs) decideHeldExports(ctx context.Context, d *decision) error {
	held, err := heldLines(d.src)
	if err != nil {
		return err
	}
	w := j.chargeWriter(d)
	for _, h := range held {
		var p struct {
			UserID     string       `json:"user_id"`
			PatronName string       `json:"patron_name"`
			Barcode    string       `json:"barcode"`
			Fee        *fees.Fee    `json:"fee"`
			Credit     *fees.Credit `json:"credit"`
		}
		if err := json.Unmarshal([]byte(h[3]), &p); err != nil {
			return fmt.Errorf("reconcile: held record %s: %w", h[0], err)
		}
		rec := ExportRecord{UserID: p.UserID, PatronName: p.PatronName, Barcode: p.Barcode, Fee: p.Fee, Credit: p.Credit}
		fmt.Sscan(h[2], &rec.Line)
		switch {
		case rec.Fee != nil:
			err = j.decideCharge(ctx, d, rec, nil, w)
		case rec.Credit != nil:
			err = j.decideCredit(ctx, d, rec, w)
		}
		if err != nil {
			return err
		}
	}
	if err := d.flush(ctx); err != nil {
		return err
	}
	return w.Close()
}

func (j *Jobs) decideHeldPayments(ctx context.Context, d *decision) error {
	held, err := heldLines(d.src)
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, h := range held {
		b.WriteString(h[3])
		b.WriteByte('\n')
	}
	d.src = strings.NewReader(b.String())
	return j.decidePaymentsFrom(ctx, d, &jsonPayments{dec: json.NewDecoder(d.src)})
}

// jsonPayments reads back the payments the journal keeps as JSON.
type jsonPayments struct {
	dec  *json.Decoder
	line int
}

func (r *jsonPayments) Next() (PaymentRecord, error) {
	var p heldPayment
	if err := r.dec.Decode(&p); err != nil {
		return PaymentRecord{}, err
	}
	r.line++
	return PaymentRecord{Line: r.line, Payment: p.Payment, FeeType: p.FeeType}, nil
}

// heldPayment is the JSON a held payment is kept as: the payment and the
// fee type of the charge it pays, when the bursar's file told it.
type heldPayment struct {
	fees.Payment
	FeeType fees.Type `json:"fee_type,omitempty"`
}
