package district

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile"
)

// Summary runs feesync's reconciliation a last time, audits the week
// record by record, prints the table per flow and the reconciliation to
// Options.Out, and reports whether the week ended with Alma and PeopleSoft
// agreeing to the cent and every record accounted for (the problems
// printed otherwise).
func (d *District) Summary(ctx context.Context, f Feesync) (bool, error) {
	rec, err := f.Reconcile(ctx, d.ledger)
	if err != nil {
		return false, err
	}
	problems := slices.Concat(d.stats.problems, d.ledger.problems)
	for _, dis := range rec.Disagreements {
		problems = append(problems, fmt.Sprintf("student %s, fee %s (%s): %s", dis.UserID, dis.FeeID, dis.TransactionID, dis.Problem))
	}
	counts, more, err := d.audit(ctx, f.Journal())
	if err != nil {
		return false, err
	}
	problems = append(problems, more...)
	more, err = d.auditRefunds(ctx, f.Journal())
	if err != nil {
		return false, err
	}
	problems = append(problems, more...)

	st := d.stats
	w := d.out
	fmt.Fprintf(w, "\nThe week, flow by flow %s\n", strings.Repeat("─", 56))
	row := func(flow, what string, n int, sum string) {
		fmt.Fprintf(w, "  %-3s %-52s %7d %12s\n", flow, what, n, sum)
	}
	fmt.Fprintf(w, "  %-3s %-52s %7s %12s\n", "", "", "records", "amount")
	row("F1", "lost-item fees assessed (16:00 job and staff)", st.lostFees, amount(st.lostSum))
	row("F2", "fees exported at 18:00 and charged in PeopleSoft", st.exported, amount(st.exportedSum))
	row("F3", "eServices payments, in full", st.online, amount(st.onlineSum))
	row("F3", "cashier payments, in full", st.cashFull, amount(st.cashFullSum))
	row("F3", "cashier payments, in part", st.cashPart, amount(st.cashPartSum))
	row("F3", "all bursar payments imported into Alma", counts.imported, amount(counts.importedSum))
	row("", "overdue fines paid at the library desk, never sent", st.deskPaid, amount(st.deskPaidSum))
	row("F4", "transferred fees waived in full by staff", st.waived, amount(st.waivedSum))
	row("R5", "partial waivers refused, then paid at the cashier", st.settled, amount(st.settledPaid))
	row("R5", "… and the rest waived in full once Alma showed it", st.settled, amount(st.settledWaived))
	row("F5", "lost items returned: fees waived by the webhook", st.foundWaived, amount(st.foundSum))
	row("F4", "credits applied in PeopleSoft (every waiver above)", st.psCredits, amount(st.psCreditSum))
	d.refundRows(row)
	if d.refusals != nil {
		row("F2", "charges refused by PeopleSoft (student unknown to it)", st.bursarRefused, amount(st.bursarRefusedSum))
		row("F2", "… re-driven once the registrar added the student", st.redriven, amount(st.redrivenSum))
	}
	row("F6", fmt.Sprintf("daily reports (exceptions listed: %d)", st.exceptions), st.reports, "")
	problems = append(problems, d.printColleges(w, rec.Colleges)...)
	fmt.Fprintf(d.out, "\nJournal: %d charges, %d payments forwarded, %d credits, %d webhook events handled; %d records held, %d files failed.\n",
		counts.charges, counts.payments, counts.credits, counts.events, counts.held, counts.failedFiles)
	fmt.Fprintf(d.out, "Webhooks: %d delivered (%d on a retry), %d failed for good; %d fees waived by hand from the report.\n",
		counts.delivered, counts.retried, counts.undelivered, st.byHand)
	if d.faults != nil {
		fmt.Fprintf(d.out, "Faults at rate %g: %s; %d job runs failed (%d killed at a step) and were restarted with the journal reopened.\n",
			d.opt.Faults, d.faults.summary(d.alma), st.restarts, st.kills)
	}
	if d.stats.creditDelay > 0 {
		fmt.Fprintf(d.out, "Every waiver of a transferred fee reached PeopleSoft as a credit within %s.\n", minutes(d.stats.creditDelay))
	}

	fmt.Fprintf(d.out, "\nReconciliation %s\n", strings.Repeat("─", 64))
	if len(problems) == 0 {
		fmt.Fprintf(d.out, "Alma and PeopleSoft agree to the cent for all %d students (%d fees charged); PeopleSoft holds %s USD\n"+
			"on %d open charges, exactly the balance of Alma's transferred fees. Every fee exported reached PeopleSoft once,\n"+
			"every payment reached Alma once, every waiver of a transferred fee reached PeopleSoft as a credit. Nothing held.\n",
			rec.Students, rec.Fees, amount(counts.owed), counts.openCharges)
		return true, nil
	}
	fmt.Fprintf(d.out, "NOT RECONCILED: %d problems.\n", len(problems))
	for i, p := range problems {
		if i == 30 {
			fmt.Fprintf(d.out, "  … and %d more\n", len(problems)-i)
			break
		}
		fmt.Fprintf(d.out, "  - %s\n", p)
	}
	return false, nil
}

// counts are what the audit counted.
type counts struct {
	charges, payments, credits, events int
	held, failedFiles                  int
	imported                           int
	importedSum                        fees.Money
	delivered, retried, undelivered    int
	owed                               fees.Money
	openCharges                        int
}

// audit checks, record by record, that nothing was lost or applied twice:
// each fee Alma exported is charged once in PeopleSoft for its amount, each
// payment PeopleSoft took is in Alma once, each waiver of a transferred fee
// is a credit in PeopleSoft, and Alma's transferred balances equal what
// PeopleSoft says each student owes.
func (d *District) audit(ctx context.Context, jr *reconcile.Journal) (counts, []string, error) {
	var c counts
	var problems []string
	for _, k := range []struct {
		kind string
		n    *int
	}{{reconcile.KindCharge, &c.charges}, {reconcile.KindPayment, &c.payments}, {reconcile.KindCredit, &c.credits}, {reconcile.KindEvent, &c.events}} {
		recs, err := jr.Records(ctx, k.kind, "")
		if err != nil {
			return c, nil, err
		}
		for _, r := range recs {
			switch r.Outcome {
			case reconcile.OutcomeRejected:
				c.held++
				problems = append(problems, fmt.Sprintf("journal holds %s %s: %s", r.Kind, r.Key, r.Reason))
			case reconcile.OutcomeFailed, reconcile.OutcomePending:
			default:
				*k.n++
			}
		}
	}
	files, err := jr.Files(ctx, "")
	if err != nil {
		return c, nil, err
	}
	for _, f := range files {
		if f.Status == reconcile.FileFailed {
			c.failedFiles++
			problems = append(problems, fmt.Sprintf("file %s (%s) failed: %s", f.Name, f.Job, f.Reason))
		}
	}

	// Fees and credits exported by Alma against PeopleSoft's ledger.
	exported := map[string]fees.Money{}
	creditsOut := map[string]fees.Money{}
	for _, ex := range d.alma.Exports() {
		for _, r := range ex.Records {
			if isRefund(r.Type) {
				continue // a refund, not a credit: see auditRefunds
			}
			if r.WaiverID != "" || r.Amount.IsNegative() {
				creditsOut[r.TransactionID] = add(creditsOut[r.TransactionID], r.Amount.Abs())
				continue
			}
			if _, twice := exported[r.TransactionID]; twice {
				problems = append(problems, fmt.Sprintf("Alma exported fee %s twice", r.TransactionID))
			}
			exported[r.TransactionID] = r.Amount
		}
	}
	items := d.ledger.Items()
	charged := map[string]bool{}
	for _, it := range items {
		charged[it.Ref] = true
		amt, ok := exported[it.Ref]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("PeopleSoft holds charge %s that Alma never exported", it.Ref))
		case !it.Original.Equal(amt):
			problems = append(problems, fmt.Sprintf("fee %s: exported for %s, charged %s", it.Ref, amt, it.Original))
		}
		want := creditsOut[it.Ref]
		if !want.Valid() {
			want = fees.Zero(d.cur)
		}
		if !it.Credited.Equal(want) {
			problems = append(problems, fmt.Sprintf("charge %s: Alma exported %s of credits, PeopleSoft applied %s", it.Ref, want, it.Credited))
		}
		// Payments: what PeopleSoft took is what Alma imported.
		f, ok := d.feeOf(it.Ref)
		if !ok {
			continue
		}
		imported := fees.Zero(d.cur)
		for _, t := range d.alma.Transactions(f.ID) {
			if t.Type == "PAYMENT" && t.Method == "BURSAR" {
				imported = add(imported, t.Amount)
				c.imported++
				c.importedSum = add(c.importedSum, t.Amount)
			}
		}
		if !imported.Equal(it.Paid) {
			problems = append(problems, fmt.Sprintf("charge %s: PeopleSoft took %s, Alma imported %s", it.Ref, it.Paid, imported))
		}
		if it.Balance.IsPositive() {
			c.openCharges++
		}
	}
	for ref := range exported {
		if !charged[ref] {
			problems = append(problems, fmt.Sprintf("fee %s exported by Alma never reached PeopleSoft", ref))
		}
	}
	for _, p := range d.ledger.ledger.Payments() {
		r, ok, err := jr.Get(ctx, reconcile.KindPayment, p.Key())
		if err != nil {
			return c, nil, err
		}
		if !ok || r.Outcome != reconcile.OutcomeForwarded {
			problems = append(problems, fmt.Sprintf("%s payment %s never forwarded to Alma", p.Channel, p.Key()))
		}
	}
	if t := d.ledger.ledger.Totals(); t.Paid.Valid() && !t.Paid.Equal(t.PaidWritten) {
		problems = append(problems, fmt.Sprintf("PeopleSoft took %s but wrote %s in payment files", t.Paid, t.PaidWritten))
	}

	// Each student: Alma's transferred balances against PeopleSoft.
	owed, _ := d.ledger.Balances(ctx)
	c.owed = fees.Zero(d.cur)
	for _, u := range d.students {
		alma := fees.Zero(d.cur)
		for _, f := range d.alma.Fees(u.id) {
			if f.Status == fees.StatusTransferred || f.Status == fees.StatusInDispute && f.Transferred.IsPositive() {
				alma = add(alma, f.Balance)
			}
		}
		ps, ok := owed[u.id]
		if !ok {
			ps = fees.Zero(d.cur)
		}
		c.owed = add(c.owed, ps)
		if !alma.Equal(ps) {
			problems = append(problems, fmt.Sprintf("student %s: Alma's transferred fees leave %s, PeopleSoft says %s", u.id, alma, ps))
		}
	}

	// Lost items that came back carry no lost-item fee any more.
	for _, l := range d.loans {
		if l.foundAt.IsZero() {
			continue
		}
		for _, f := range d.lostFees(l.user, l.barcode) {
			if f.Status != fees.StatusClosed {
				problems = append(problems, fmt.Sprintf("item %s came back but fee %s still has %s", l.barcode, f.ID, f.Balance))
			}
		}
	}
	for _, wh := range d.alma.Webhooks() {
		switch wh.State {
		case "delivered":
			c.delivered++
			if len(wh.Attempts) > 1 {
				c.retried++
			}
		case "failed":
			c.undelivered++
		}
	}
	slices.Sort(problems)
	return c, problems, nil
}
