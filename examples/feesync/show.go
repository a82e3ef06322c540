package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/feebridge/feebridge/reconcile"
)

// showCommands are `feesync show student ID` and `feesync show fee ID`;
// a fee's ID is the one the journal and the bursar know it by (the fee id
// of Alma's bursar export: Alma's bursar transaction id).
func showCommands() []command {
	flags := func(m *Main, fs *flag.FlagSet) {
		fs.StringVar(&m.configPath, "config", "", "the config `file` (default $FEEBRIDGE_CONFIG)")
		fs.BoolVar(&m.ops.showIDs, "show-ids", false, "show student ids whole; masked by default")
	}
	return []command{
		{name: "show student", usage: "ID [-config F] [-show-ids]", flags: flags, run: showLookup(false), needsConfig: true, maxArgs: 1},
		{name: "show fee", usage: "ID [-config F] [-show-ids]", flags: flags, run: showLookup(true), needsConfig: true, maxArgs: 1},
	}
}

// showLookup returns the body of `feesync show student|fee ID`: where it
// stands in Alma (asked live when the API key is there), in the journal
// and at the bursar.
func showLookup(fee bool) func(*Main, context.Context) error {
	return func(m *Main, ctx context.Context) error {
		what := "student"
		if fee {
			what = "fee"
		}
		if len(m.args) != 1 {
			return usagef("show %s: which one? give its ID", what)
		}
		jobs, err := m.openJobs(ctx, true)
		almaWhy := ""
		if err != nil {
			// Without the API key (or Alma's settings) the journal still answers.
			almaWhy = err.Error()
			m.Close()
			if jobs, err = m.openJobs(ctx, false); err != nil {
				return err
			}
		}
		var l reconcile.Lookup
		if fee {
			l, err = jobs.LookupFee(ctx, m.args[0])
		} else {
			l, err = jobs.LookupStudent(ctx, m.args[0])
		}
		if err != nil {
			return fmt.Errorf("show %s: %w", what, err)
		}
		if fee && len(l.Records) == 0 {
			return fmt.Errorf("show fee: the journal knows no fee %q", m.args[0])
		}
		m.printLookup(l, almaWhy)
		return nil
	}
}

// printLookup writes l in three sections: Alma, the journal, the bursar.
func (m *Main) printLookup(l reconcile.Lookup, almaWhy string) {
	w := m.Stdout
	show := m.ops.showIDs || m.config.Log.ShowStudentIDs
	loc := m.config.Location()
	if l.FeeID != "" {
		fmt.Fprintf(w, "fee %s of student %s\n", l.FeeID, dash(maskIf(l.Student, !show)))
	} else {
		fmt.Fprintf(w, "student %s\n", maskIf(l.Student, !show))
	}
	fmt.Fprintln(w, "\nIn Alma:")
	switch {
	case !l.AlmaAsked && almaWhy != "":
		fmt.Fprintf(w, "  not asked: Alma cannot be reached from here (%s)\n", almaWhy)
	case !l.AlmaAsked:
		fmt.Fprintln(w, "  not asked")
	case l.AlmaErr != nil:
		fmt.Fprintf(w, "  Alma could not be reached: %v\n", l.AlmaErr)
	case len(l.Alma) == 0:
		fmt.Fprintln(w, "  no fee")
	default:
		tw := table(w, "FEE_ID", "TYPE", "STATUS", "ORIGINAL", "BALANCE", "TRANSFERRED", "TRANSACTION")
		for _, f := range l.Alma {
			row(tw, f.ID, string(f.Type), f.Status.String(), moneyText(f.Original), moneyText(f.Balance),
				moneyText(f.Transferred), f.TransactionID)
		}
		tw.Flush()
	}
	fmt.Fprintln(w, "\nIn the journal:")
	if len(l.Records) == 0 {
		fmt.Fprintln(w, "  no record")
	} else {
		tw := table(w, "KIND", "OUTCOME", "KEY", "FEE_ID", "TYPE", "AMOUNT", "FILE", "LINE", "OUTPUT", "DATE", "UPDATED", "REASON")
		for _, r := range l.Records {
			date := ""
			if !r.Date.IsZero() {
				date = r.Date.Format(time.DateOnly)
			}
			row(tw, r.Kind, r.Outcome, r.Key, r.FeeID, string(r.FeeType), moneyText(r.Amount), r.File, lineOf(r.Line),
				r.Output, date, r.Updated.In(loc).Format("2006-01-02 15:04"), oneLine(r.Reason))
		}
		tw.Flush()
	}
	fmt.Fprintln(w, "\nAt the bursar (what feesync sent, and what is left per the journal):")
	if len(l.Bursar) == 0 {
		fmt.Fprintln(w, "  nothing sent")
		return
	}
	tw := table(w, "FEE_ID", "TYPE", "KEY", "CHARGED", "LEFT")
	for _, b := range l.Bursar {
		c := b.Charge
		row(tw, c.FeeID, string(c.FeeType), c.Key, moneyText(c.Amount), moneyText(b.Left))
	}
	tw.Flush()
}

// table starts an indented table with its header.
func table(w io.Writer, header ...string) *tabwriter.Writer {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row(tw, header...)
	return tw
}

func row(tw *tabwriter.Writer, cells ...string) {
	fmt.Fprint(tw, "  ")
	for i, c := range cells {
		if i > 0 {
			fmt.Fprint(tw, "\t")
		}
		fmt.Fprint(tw, dash(c))
	}
	fmt.Fprintln(tw)
}
