package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

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

// printLookup writes l in three sections: Alma, the journal, the bursar
// (laid out by newLookupView, which the status page's search shares).
func (m *Main) printLookup(l reconcile.Lookup, almaWhy string) {
	w := m.Stdout
	v := newLookupView(l, almaWhy, m.ops.showIDs || m.config.Log.ShowStudentIDs, m.config.Location())
	fmt.Fprintln(w, v.Title)
	for _, s := range v.Sections {
		fmt.Fprintf(w, "\n%s:\n", s.Title)
		if s.Note != "" {
			fmt.Fprintf(w, "  %s\n", s.Note)
			continue
		}
		tw := table(w, s.Header...)
		for _, r := range s.Rows {
			row(tw, r...)
		}
		tw.Flush()
	}
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
