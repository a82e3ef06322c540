package reconcile

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile/journal"
)

// Unrouted is the name the per-college figures give the charges the
// journal knows no college of (decided before it kept one).
const Unrouted = "unrouted"

// sectionColleges is the CSV's section of the per-college figures.
const sectionColleges = "by college"

// CollegeLine is one line of the per-college figures of the daily report:
// the charges sent for a college, what the bursar still holds of them and
// the disagreements of the newest reconciliation about them. The last
// line of [Report].Colleges is the district's total, named "the district".
type CollegeLine = journal.CollegeFigures

// districtTotal names the total line of the per-college figures.
const districtTotal = "the district"

// collegeLines returns the per-college figures and the district's total,
// or nil when no charge of the journal names a college (a single college,
// whose report stays as it was). The colleges come by name; the charges
// without a college follow, named [Unrouted].
func (j *Jobs) collegeLines(ctx context.Context) ([]CollegeLine, error) {
	figures, err := j.deps.Journal.Colleges(ctx)
	if err != nil {
		return nil, fmt.Errorf("reconcile: figures per college: %w", err)
	}
	return byCollege(figures), nil
}

// reconciliationColleges is collegeLines with the disagreements ds of a
// reconciliation in place of the journal's (which a dry run leaves as
// they were): each counts in the college of the charge it names, one
// naming no charge sent in [Unrouted].
func (j *Jobs) reconciliationColleges(ctx context.Context, ds []Disagreement) ([]CollegeLine, error) {
	figures, err := j.deps.Journal.Colleges(ctx)
	if err != nil {
		return nil, fmt.Errorf("reconcile: figures per college: %w", err)
	}
	count := map[string]int{}
	for _, d := range ds {
		college := ""
		if d.TransactionID != "" && d.FeeType != "" {
			c, ok, err := j.deps.Journal.Get(ctx, KindCharge, fees.ChargeKey(d.TransactionID, d.FeeType))
			if err != nil {
				return nil, err
			}
			if ok {
				college = c.College
			}
		}
		count[college]++
	}
	for i := range figures {
		figures[i].Disagreements, count[figures[i].College] = count[figures[i].College], 0
	}
	for college, n := range count {
		if n > 0 {
			figures = append(figures, CollegeLine{College: college, Disagreements: n})
		}
	}
	slices.SortStableFunc(figures, func(a, b CollegeLine) int { return strings.Compare(a.College, b.College) })
	return byCollege(figures), nil
}

// logColleges logs the figures of each college, one line each.
func (j *Jobs) logColleges(ctx context.Context, lines []CollegeLine) {
	for _, c := range lines {
		j.log.LogAttrs(ctx, slog.LevelInfo, "reconcile: college", slog.String("college", c.College),
			slog.Int("charges", c.Charges), slog.String("charged", amount(c.Charged)),
			slog.String("bursar_holds", amount(c.Held)), slog.Int("disagreements", c.Disagreements))
	}
}

// byCollege is figures (by college name, "" first) as the lines of the
// report and the reconciliation: nil when no college is named, else the
// colleges, the unrouted charges and the district's total.
func byCollege(figures []CollegeLine) []CollegeLine {
	routed := false
	for _, f := range figures {
		routed = routed || f.College != ""
	}
	if !routed {
		return nil
	}
	out := make([]CollegeLine, 0, len(figures)+1)
	var unrouted []CollegeLine
	for _, f := range figures {
		if f.College == "" {
			f.College = Unrouted
			unrouted = append(unrouted, f)
			continue
		}
		out = append(out, f)
	}
	out = append(out, unrouted...)
	return append(out, districtTotals(figures)...)
}

// districtTotals sums the figures, one total per currency (one, but for
// a district that charges in two); disagreements about no charge count
// in the first.
func districtTotals(figures []CollegeLine) []CollegeLine {
	var totals []CollegeLine
	stray := 0
	for _, f := range figures {
		if !f.Charged.Valid() {
			stray += f.Disagreements
			continue
		}
		i := slices.IndexFunc(totals, func(t CollegeLine) bool { return t.Charged.Currency() == f.Charged.Currency() })
		if i < 0 {
			totals = append(totals, CollegeLine{College: districtTotal, Charged: fees.Zero(f.Charged.Currency()),
				Held: fees.Zero(f.Charged.Currency())})
			i = len(totals) - 1
		}
		t := &totals[i]
		t.Charges += f.Charges
		t.Disagreements += f.Disagreements
		t.Charged, _ = t.Charged.Add(f.Charged) // same currency: Add cannot fail
		t.Held, _ = t.Held.Add(f.Held)
	}
	if len(totals) == 0 {
		totals = append(totals, CollegeLine{College: districtTotal})
	}
	totals[0].Disagreements += stray
	return totals
}

// collegeRows are the rows of the per-college figures, one per college
// and figure (charged, held by the bursar, disagreements).
func (r Report) collegeRows() []reportRow {
	var out []reportRow
	for _, c := range r.Colleges {
		out = append(out,
			reportRow{Section: sectionColleges, Item: c.College, Type: "charged", Count: strconv.Itoa(c.Charges),
				Amount: amount(c.Charged), What: fmt.Sprintf("charges sent: %d, %s", c.Charges, amount(c.Charged))},
			reportRow{Section: sectionColleges, Item: c.College, Type: "held by the bursar", Amount: amount(c.Held),
				What: "the bursar holds " + amount(c.Held)},
			reportRow{Section: sectionColleges, Item: c.College, Type: "disagreements", Count: strconv.Itoa(c.Disagreements),
				What: fmt.Sprintf("disagreements at the last reconciliation: %d", c.Disagreements)})
	}
	return out
}

// collegeText is the per-college figures in the text report: a table.
func (r Report) collegeText(b *strings.Builder) {
	if len(r.Colleges) == 0 {
		return
	}
	b.WriteString("\nBy college (charges sent, charged, held by the bursar, disagreements):\n")
	for _, c := range r.Colleges {
		fmt.Fprintf(b, "- %-14s %6d %12s %12s %4d\n", c.College, c.Charges, amount(c.Charged), amount(c.Held), c.Disagreements)
	}
}
