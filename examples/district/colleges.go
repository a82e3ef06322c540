package district

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/peoplesoft"
	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/reconcile/config"
)

// The district's colleges, as Los Rios has them: four colleges and one
// PeopleSoft. Each owns one library in Alma, whose code is the
// owneredEntity/libraryCode of its fees; its loans are spread over the
// four in turn. CRC has its own item type for overdue fines, FLC its own
// term calendar (quarters, not semesters).
var colleges = []struct {
	name, longName, library, businessUnit string
	itemTypes                             map[string]string
	seasons                               []config.Season
}{
	{name: "ARC", longName: "American River College", library: "ARC", businessUnit: "ARC01"},
	{name: "CRC", longName: "Cosumnes River College", library: "CRC", businessUnit: "CRC01",
		itemTypes: map[string]string{string(fees.TypeOverdueFine): "410000000001"}},
	{name: "FLC", longName: "Folsom Lake College", library: "FLC", businessUnit: "FLC01",
		seasons: []config.Season{
			{Name: "Winter", Start: "01-01", End: "03-31", Suffix: "1"},
			{Name: "Spring", Start: "04-01", End: "06-30", Suffix: "3"},
			{Name: "Summer", Start: "07-01", End: "08-20", Suffix: "5"},
			{Name: "Fall", Start: "08-21", End: "12-31", Suffix: "7"},
		}},
	{name: "SCC", longName: "Sacramento City College", library: "SCC", businessUnit: "SCC01"},
}

// Colleges is the routing feesync is configured with in the district
// (the [[colleges]] of its config): each college's library, business
// unit, and what it does differently from the district.
func Colleges() []config.College {
	out := make([]config.College, len(colleges))
	for i, c := range colleges {
		out[i] = config.College{Name: c.name, BusinessUnit: c.businessUnit, Libraries: []string{c.library},
			ItemTypes: c.itemTypes, Seasons: c.seasons}
	}
	return out
}

// Mapping is the charge mapping of a feesync configured with
// [Colleges]: the reference item types and calendar, routed per college.
// A test that builds the jobs without a config uses it.
func Mapping() peoplesoft.Mapping {
	cfg := config.Default()
	cfg.Colleges = Colleges()
	return cfg.Mapping()
}

// Routes reports whether the district's bursar takes the colleges'
// business units: PeopleSoft, whose reference charge layout carries
// BUSINESS_UNIT. The built-in Banner and Colleague layouts have no such
// field, so a district on them runs as one college (feesync's check-config
// refuses [[colleges]] with a charge layout that cannot name the college).
func (o Options) Routes() bool {
	return o.Bursar == "" || o.Bursar == peoplesoft.BursarPeopleSoft
}

// libraryOf is the library that owns the n-th item the district lends:
// the four colleges' libraries in turn (no draw from the seed).
func libraryOf(n int) string { return colleges[n%len(colleges)].library }

// collegeFigures are one college's figures at the end of the week.
type collegeFigures struct {
	charges        int        // PeopleSoft items of the college's business unit
	charged, holds fees.Money // their original amounts, and what is left of them
	alma           fees.Money // Alma's transferred balance of the college's library
}

// printColleges prints the week per college: what PeopleSoft charged to
// each college's business unit and holds for it, against the balance of
// Alma's transferred fees of the college's library, and returns a problem
// for each college where they differ, where feesync's own figures of the
// college (mine, from its reconciliation) differ from PeopleSoft's, or
// where a fee reached another college's business unit.
func (d *District) printColleges(w io.Writer, mine []reconcile.CollegeLine) []string {
	if !d.opt.Routes() {
		return nil
	}
	figs := make(map[string]*collegeFigures, len(colleges))
	unitOf := make(map[string]string, len(colleges)) // library → business unit
	for _, c := range colleges {
		figs[c.businessUnit] = &collegeFigures{charged: fees.Zero(d.cur), holds: fees.Zero(d.cur), alma: fees.Zero(d.cur)}
		unitOf[c.library] = c.businessUnit
	}
	var problems []string
	for _, it := range d.ledger.Items() {
		f, ok := d.feeOf(it.Ref)
		fg := figs[it.BusinessUnit]
		switch {
		case fg == nil:
			problems = append(problems, fmt.Sprintf("charge %s was posted to business unit %q, which is no college's", it.Ref, it.BusinessUnit))
			continue
		case ok && unitOf[f.Owner] != it.BusinessUnit:
			problems = append(problems, fmt.Sprintf("charge %s of library %s was posted to %s, not %s", it.Ref, f.Owner, it.BusinessUnit, unitOf[f.Owner]))
		}
		fg.charges++
		fg.charged = add(fg.charged, it.Original)
		fg.holds = add(fg.holds, it.Balance)
	}
	for _, u := range d.students {
		for _, f := range d.alma.Fees(u.id) {
			if f.Status == fees.StatusTransferred || f.Status == fees.StatusInDispute && f.Transferred.IsPositive() {
				if fg := figs[unitOf[f.Owner]]; fg != nil {
					fg.alma = add(fg.alma, f.Balance)
				}
			}
		}
	}
	fmt.Fprintf(w, "\nThe week, college by college %s\n", strings.Repeat("─", 50))
	fmt.Fprintf(w, "  %-28s %-7s %-6s %7s %12s %12s %12s\n", "", "library", "unit", "charges", "charged", "PeopleSoft", "Alma")
	total := collegeFigures{charged: fees.Zero(d.cur), holds: fees.Zero(d.cur), alma: fees.Zero(d.cur)}
	for _, c := range colleges {
		fg := figs[c.businessUnit]
		fmt.Fprintf(w, "  %-28s %-7s %-6s %7d %12s %12s %12s\n", c.name+" "+c.longName, c.library, c.businessUnit,
			fg.charges, amount(fg.charged), amount(fg.holds), amount(fg.alma))
		if !fg.holds.Equal(fg.alma) {
			problems = append(problems, fmt.Sprintf("college %s: PeopleSoft holds %s on business unit %s, Alma's transferred fees of library %s leave %s",
				c.name, fg.holds, c.businessUnit, c.library, fg.alma))
		}
		problems = append(problems, feesyncDiffers(c.name, fg, mine)...)
		total.charges += fg.charges
		total.charged, total.holds, total.alma = add(total.charged, fg.charged), add(total.holds, fg.holds), add(total.alma, fg.alma)
	}
	fmt.Fprintf(w, "  %-28s %-7s %-6s %7d %12s %12s %12s\n", "the district", "", "", total.charges, amount(total.charged), amount(total.holds), amount(total.alma))
	fmt.Fprintf(w, "  (PeopleSoft: what its business unit still holds; Alma: the balance of the library's transferred fees.)\n")
	fmt.Fprintf(w, "  feesync's reconciliation and daily report show each college's charges, charged and held; checked against PeopleSoft's.\n")
	return problems
}

// feesyncDiffers compares feesync's figures of college (from its
// reconciliation's lines) with PeopleSoft's, and says where they differ.
func feesyncDiffers(college string, ps *collegeFigures, mine []reconcile.CollegeLine) []string {
	i := slices.IndexFunc(mine, func(l reconcile.CollegeLine) bool { return l.College == college })
	if i < 0 {
		if ps.charges == 0 {
			return nil
		}
		return []string{fmt.Sprintf("college %s: feesync's reconciliation has no figures of it, PeopleSoft %d charges", college, ps.charges)}
	}
	l := mine[i]
	if l.Charges != ps.charges || !l.Charged.Equal(ps.charged) || !l.Held.Equal(ps.holds) {
		return []string{fmt.Sprintf("college %s: feesync counts %d charges of %s holding %s, PeopleSoft %d of %s holding %s",
			college, l.Charges, l.Charged, l.Held, ps.charges, ps.charged, ps.holds)}
	}
	return nil
}
