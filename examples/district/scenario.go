package district

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/feebridge/feebridge/alma/almatest"
	"github.com/feebridge/feebridge/fees"
)

// The mix of a day at the district. Each rate is the share of the charges
// open at the bursar (and not set aside for another flow) that see the
// action that day; every flow happens at least once a day while there are
// charges to act on.
const (
	lostBoundShare = 0.20 // students with a loan that turns lost during the week
	foundShare     = 0.35 // lost items that come back during the week
	staffLostShare = 0.02 // loans that staff declare lost
	deskPayShare   = 0.25 // overdue fines paid at the desk when the item is returned
	onlineShare    = 0.10 // eServices, in full
	cashFullShare  = 0.04 // cashier, in full
	cashPartShare  = 0.04 // cashier, in part
	waiveShare     = 0.015
	planShare      = 0.01
)

type student struct {
	id, first, last string
}

// loan is one loan and what will become of it this week.
type loan struct {
	id, user, barcode string
	due               time.Time
	returnAt          time.Time // an ordinary return; zero: not this week
	declareAt         time.Time // staff declare it lost; zero: never
	foundAt           time.Time // a lost item comes back; zero: never
	lost              bool
	forceFound        bool
	refundDrawn       bool // whether its fees were drawn to be paid before the return (refunds.go)
}

// plan is a settlement for less than the balance of a transferred fee:
// the two-step path of rule R5.
type plan struct {
	ref, user, feeID string
	agreed, rest     fees.Money
	paidBefore       fees.Money // what Alma showed as paid before the agreed payment
	paidAt           time.Time
	done             bool
}

var (
	firstNames = []string{"Ana", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hiro", "Imani", "Jon", "Kira", "Luis", "Maya", "Nikhil", "Olga", "Pablo", "Quinn", "Rosa", "Sam", "Tariq", "Uma", "Victor", "Wen", "Yara", "Zoe"}
	lastNames  = []string{"Alvarez", "Brown", "Chen", "Diallo", "Evans", "Fischer", "Garcia", "Haddad", "Ito", "Johnson", "Kim", "Lopez", "Martin", "Nguyen", "Okafor", "Patel", "Quispe", "Rossi", "Singh", "Tanaka", "Usman", "Vargas", "Wong", "Xu", "Young"}
	titles     = []string{"Organic Chemistry", "Calculus: Early Transcendentals", "Campbell Biology", "Principles of Economics", "The Norton Anthology of American Literature", "Physics for Scientists and Engineers", "Introduction to Algorithms", "Psychology", "A People's History of the United States", "Human Anatomy and Physiology", "Statistics for the Behavioral Sciences", "Criminal Justice Today", "Nursing Fundamentals", "Spanish for Beginners", "World Civilizations"}
)

// money returns cents as an amount in the district's currency.
func (d *District) money(cents int64) fees.Money { return fees.FromMinor(cents, d.cur) }

// setup enrols the students and checks out their loans, forty days before
// the first day, with what will become of each loan drawn from the seed.
func (d *District) setup() error {
	start := d.opt.Start
	item := 0
	newLoan := func(u student, due time.Time) (*loan, error) {
		item++
		barcode := fmt.Sprintf("3%011d", 40000000+item*7)
		cost := d.money(int64(2500+d.rng.IntN(150)*100) + []int64{0, 50, 95}[d.rng.IntN(3)])
		if err := d.alma.AddItem(almatest.Item{Barcode: barcode, Library: libraryOf(item), Title: titles[d.rng.IntN(len(titles))],
			CallNumber:      fmt.Sprintf("QA%d .%c%d", 100+d.rng.IntN(800), 'A'+rune(d.rng.IntN(26)), 10+d.rng.IntN(90)),
			ReplacementCost: cost}); err != nil {
			return nil, err
		}
		id, err := d.alma.CheckOut(u.id, barcode, due)
		if err != nil {
			return nil, err
		}
		l := &loan{id: id, user: u.id, barcode: barcode, due: due}
		d.loans = append(d.loans, l)
		d.byCode[barcode] = l
		return l, nil
	}
	at := func(day, hour int) time.Time { return start.AddDate(0, 0, day-1).Add(time.Duration(hour) * time.Hour) }
	for i := range d.opt.Students {
		u := student{id: fmt.Sprintf("%07d", 1402000+i*37), first: firstNames[d.rng.IntN(len(firstNames))], last: lastNames[d.rng.IntN(len(lastNames))]}
		d.students = append(d.students, u)
		if err := d.alma.AddUser(almatest.User{ID: u.id, FirstName: u.first, LastName: u.last, Email: fmt.Sprintf("s%s@students.example.edu", u.id)}); err != nil {
			return err
		}
		for range 1 + d.rng.IntN(2) {
			due := start.AddDate(0, 0, d.rng.IntN(25)-10).Add(22 * time.Hour)
			l, err := newLoan(u, due)
			if err != nil {
				return err
			}
			if r := 1 + d.rng.IntN(d.opt.Days+4); r <= d.opt.Days {
				l.returnAt = at(r, 9+d.rng.IntN(8))
			}
			if d.rng.Float64() < staffLostShare {
				day := 1 + d.rng.IntN(d.opt.Days)
				if l.returnAt.IsZero() || l.returnAt.After(at(day, 17)) {
					l.declareAt, l.returnAt = at(day, 9+d.rng.IntN(8)), time.Time{}
				}
			}
		}
		// A loan overdue long enough to turn lost at 16:00 on one of the
		// days; the first student's turns lost on the first day and comes
		// back later, so that every week shows flow F5.
		if i == 0 || d.rng.Float64() < lostBoundShare {
			k := d.rng.IntN(d.opt.Days)
			if i == 0 {
				k = 0
			}
			l, err := newLoan(u, start.AddDate(0, 0, k-28).Add(10*time.Hour))
			if err != nil {
				return err
			}
			l.forceFound = i == 0
		}
	}
	d.clock.Set(start)
	return nil
}

// lostAssessed takes note of loans that turned lost, and decides which of
// the items will come back this week. Their fees are set aside: students
// do not pay them, since the return will waive them (flow F5).
func (d *District) lostAssessed(assessed []fees.Fee, byStaff bool) {
	seen := map[string]bool{}
	for _, f := range assessed {
		d.today.lostFees++
		d.today.lostSum = add(d.today.lostSum, f.Original)
		d.stats.lostFees++
		d.stats.lostSum = add(d.stats.lostSum, f.Original)
		l := d.byCode[f.Item.Barcode]
		if l == nil || seen[l.barcode] {
			continue
		}
		seen[l.barcode] = true
		l.lost = true
		// A loan planned to come back as an ordinary return, or to be
		// declared lost by staff, that turned lost first (in a run of more
		// than three weeks) comes back, if it does, as a found lost item.
		l.returnAt, l.declareAt = time.Time{}, time.Time{}
		if byStaff {
			d.today.declared++
		} else {
			d.today.lostLoans++
		}
		day := d.dayNumber()
		if day < d.opt.Days && (l.forceFound || d.rng.Float64() < foundShare) {
			found := day + 1 + d.rng.IntN(d.opt.Days-day)
			l.foundAt = d.opt.Start.AddDate(0, 0, found-1).Add(time.Duration(9+d.rng.IntN(8)) * time.Hour)
			for _, g := range d.lostFees(l.user, l.barcode) {
				d.reserved[g.TransactionID] = "lost item coming back"
			}
		}
	}
}

// action is one thing a student or staff member does at the desk, the
// cashier or online, at an hour of the day.
type action struct {
	hour int
	kind string // online, cashFull, cashPart, waive, plan, damaged, refundFull, refundPart
	ref  string
	user string
}

// planDay draws the day's payments and waivers among the charges open at
// the bursar that nothing else is happening to.
func (d *District) planDay() {
	var open []string
	for _, ref := range d.ledger.Open() {
		if d.reserved[ref] != "" {
			continue
		}
		f, ok := d.feeOf(ref)
		left, _ := d.ledger.Balance(ref)
		if !ok || f.Status != fees.StatusTransferred || !f.Balance.Equal(left) {
			continue // a payment or credit still on its way
		}
		open = append(open, ref)
	}
	d.rng.Shuffle(len(open), func(i, j int) { open[i], open[j] = open[j], open[i] })
	count := func(share float64) int {
		if len(open) == 0 {
			return 0
		}
		return max(1, int(math.Round(share*float64(len(open)))))
	}
	kinds := []struct {
		kind string
		n    int
	}{
		{"plan", count(planShare)}, {"waive", count(waiveShare)}, {"cashPart", count(cashPartShare)},
		{"cashFull", count(cashFullShare)}, {"online", count(onlineShare)},
	}
	d.actions = d.actions[:0]
	for _, k := range kinds {
		for n := 0; n < k.n; n++ {
			i := 0
			if k.kind == "plan" || k.kind == "cashPart" {
				// Settlements and split payments are for balances of
				// 20.00 or more.
				for i < len(open) {
					if f, _ := d.feeOf(open[i]); f.Balance.Decimal().IntPart() >= 20 {
						break
					}
					i++
				}
			}
			if i >= len(open) {
				break
			}
			ref := open[i]
			open = append(open[:i], open[i+1:]...)
			d.reserved[ref] = k.kind
			d.actions = append(d.actions, action{hour: 9 + d.rng.IntN(8), kind: k.kind, ref: ref})
		}
	}
	for range max(1, d.opt.Students/150) {
		u := d.students[d.rng.IntN(len(d.students))]
		d.actions = append(d.actions, action{hour: 9 + d.rng.IntN(8), kind: "damaged", user: u.id})
	}
	d.planRefunds()
}

// desk is one hour at the circulation desk, the cashier and eServices.
func (d *District) desk(ctx context.Context) error {
	if !d.active() {
		return nil
	}
	now := d.clock.Now()
	if now.Hour() == 9 {
		d.planDay()
	}
	for _, l := range d.loans {
		switch {
		case l.returnAt.Equal(now):
			if err := d.returnLoan(l); err != nil {
				return err
			}
		case l.declareAt.Equal(now):
			assessed, err := d.alma.DeclareLost(l.id)
			if err != nil {
				return fmt.Errorf("declare loan %s lost: %w", l.id, err)
			}
			d.lostAssessed(assessed, true)
		case l.foundAt.Equal(now):
			if err := d.lostReturned(ctx, l); err != nil {
				return err
			}
		}
	}
	for _, a := range d.actions {
		if a.hour == now.Hour() {
			if err := d.act(a); err != nil {
				return err
			}
		}
	}
	return nil
}

// returnLoan is an ordinary return; a late one is fined by Alma, and some
// students pay the fine at the desk there and then.
func (d *District) returnLoan(l *loan) error {
	if _, err := d.alma.Return(l.barcode); err != nil {
		return fmt.Errorf("return %s: %w", l.barcode, err)
	}
	d.today.returns++
	for _, f := range d.alma.Fees(l.user) {
		if f.Type != fees.TypeOverdueFine || f.Item.Barcode != l.barcode || f.Status != fees.StatusActive {
			continue
		}
		d.today.late++
		d.today.lateSum = add(d.today.lateSum, f.Balance)
		if d.rng.Float64() < deskPayShare {
			if _, err := d.alma.PayAtDesk(l.user, f.ID, fees.Money{}, "CASH", "paid at the circulation desk"); err != nil {
				return fmt.Errorf("pay fine %s at the desk: %w", f.ID, err)
			}
			d.today.deskPaid++
			d.today.deskPaidSum = add(d.today.deskPaidSum, f.Balance)
			d.stats.deskPaid++
			d.stats.deskPaidSum = add(d.stats.deskPaidSum, f.Balance)
		}
	}
	return nil
}

// lostReturned is a lost item brought back: Alma sends the webhook at once,
// feesync's listener journals it and its jobs waive the lost-item fees
// (flow F5).
func (d *District) lostReturned(ctx context.Context, l *loan) error {
	before := d.lostFees(l.user, l.barcode)
	if _, err := d.alma.Return(l.barcode); err != nil {
		return fmt.Errorf("return lost item %s: %w", l.barcode, err)
	}
	if _, err := d.deliver(ctx, d.feesync); err != nil {
		return err
	}
	d.today.found++
	d.stats.found++
	var n int
	sum := fees.Zero(d.cur)
	for _, f := range before {
		if f.Status == fees.StatusClosed {
			continue
		}
		after, _ := d.alma.Fee(f.ID)
		if after.Status != fees.StatusClosed {
			d.today.webhookPending++
			continue
		}
		n++
		sum = add(sum, f.Balance)
		d.today.foundWaived++
		d.today.foundSum = add(d.today.foundSum, f.Balance)
		d.stats.foundWaived++
		d.stats.foundSum = add(d.stats.foundSum, f.Balance)
		if f.Status == fees.StatusTransferred {
			d.awaitCredit(f.TransactionID, d.clock.Now())
		}
	}
	title := ""
	if it, ok := d.alma.Item(l.barcode); ok {
		title = " (" + it.Title + ")"
	}
	blocked := "block lifted"
	for _, b := range d.alma.Blocks(l.user) {
		if b.Status == "ACTIVE" {
			blocked = "block still on"
		}
	}
	d.today.note("lost-item returns", "returns", d.clock.Now(), fmt.Sprintf("lost item %s%s back from student %s: the webhook had %s waived (%s), %s",
		l.barcode, title, fees.MaskID(l.user), plural(n, "fee", "fees"), amount(sum), blocked))
	return nil
}

// act carries out one of the day's planned actions, if it still makes
// sense (a charge may have been paid since).
func (d *District) act(a action) error {
	if a.kind == "damaged" {
		f, err := d.alma.AddFee(a.user, almatest.FeeSpec{Type: fees.TypeDamagedItemFine, Amount: d.money(int64(1000 + 500*d.rng.IntN(10))), Comment: "water damage",
			Owner: libraryOf(len(d.days) + d.today.damaged)})
		if err != nil {
			return err
		}
		d.today.damaged++
		d.today.damagedSum = add(d.today.damagedSum, f.Original)
		return nil
	}
	// Whether the action still makes sense, not a rule: the ledger and
	// the fake Alma decide R4 and R5 (fees.CheckPayment, Policy.Waive).
	left, ok := d.ledger.Balance(a.ref)
	f, known := d.feeOf(a.ref)
	if !ok || !known || !left.IsPositive() {
		delete(d.reserved, a.ref)
		return nil
	}
	switch a.kind {
	case "online":
		delete(d.reserved, a.ref)
		return d.pay(a.ref, left, fees.ChannelEServices, fees.MethodCreditCard, &d.today.online, &d.today.onlineSum, &d.stats.online, &d.stats.onlineSum)
	case "cashFull":
		delete(d.reserved, a.ref)
		m := []fees.Method{fees.MethodCash, fees.MethodCheck, fees.MethodCreditCard}[d.rng.IntN(3)]
		return d.pay(a.ref, left, fees.ChannelCashier, m, &d.today.cashFull, &d.today.cashFullSum, &d.stats.cashFull, &d.stats.cashFullSum)
	case "cashPart":
		delete(d.reserved, a.ref)
		cents, _ := left.MinorUnits()
		part := d.money(100 * (1 + d.rng.Int64N(max(1, cents/100-1))))
		// The student's choice, not a rule: a part that would leave
		// nothing is paid as a full payment. The ledger decides R4 on
		// every payment (fees.CheckPayment).
		if c, _ := part.Cmp(left); c >= 0 {
			return d.pay(a.ref, left, fees.ChannelCashier, fees.MethodCash, &d.today.cashFull, &d.today.cashFullSum, &d.stats.cashFull, &d.stats.cashFullSum)
		}
		return d.pay(a.ref, part, fees.ChannelCashier, fees.MethodCash, &d.today.cashPart, &d.today.cashPartSum, &d.stats.cashPart, &d.stats.cashPartSum)
	case "waive":
		if f.Status != fees.StatusTransferred || !f.Balance.Equal(left) {
			delete(d.reserved, a.ref)
			return nil
		}
		if _, err := d.alma.Waive(f.UserID, f.ID, f.Balance, "OTHER", "waived by the library"); err != nil {
			return fmt.Errorf("waive fee %s in full: %w", f.ID, err)
		}
		d.today.waived++
		d.today.waivedSum = add(d.today.waivedSum, f.Balance)
		d.stats.waived++
		d.stats.waivedSum = add(d.stats.waivedSum, f.Balance)
		d.awaitCredit(f.TransactionID, d.clock.Now())
	case "plan":
		return d.settle(f, left)
	case "refundFull", "refundPart":
		return d.payBeforeReturn(a, f, left)
	}
	return nil
}

func (d *District) pay(ref string, amount fees.Money, ch fees.Channel, m fees.Method, n *int, sum *fees.Money, total *int, totalSum *fees.Money) error {
	if _, err := d.ledger.Pay(ref, amount, ch, m); err != nil {
		return err
	}
	*n++
	*sum = add(*sum, amount)
	*total++
	*totalSum = add(*totalSum, amount)
	return nil
}

// settle is a student and the library agreeing on less than the balance
// of a transferred fee. Staff first try a partial waiver, which Alma
// refuses (R5); they then follow fees.PlanPartialWaive: the student pays
// the agreed part at the cashier, and once Alma shows it, staff waive the
// rest in full (followPlans).
func (d *District) settle(f fees.Fee, left fees.Money) error {
	if f.Status != fees.StatusTransferred || !f.Balance.Equal(left) {
		delete(d.reserved, f.TransactionID)
		return nil
	}
	cents, _ := f.Balance.MinorUnits()
	agreed := d.money((cents * int64(40+d.rng.IntN(41)) / 100) / 100 * 100)
	rest, _ := f.Balance.Sub(agreed)
	_, err := d.alma.Waive(f.UserID, f.ID, rest, "OTHER", "settlement agreed with the student")
	if fees.ErrorCode(err) != fees.EPARTIALWAIVE {
		return fmt.Errorf("partial waiver of transferred fee %s: got %v, want a refusal by rule R5", f.ID, err)
	}
	p, err := fees.PlanPartialWaive(&f, agreed)
	if err != nil {
		return err
	}
	if len(p.Steps) != 3 || p.Steps[0].Kind != fees.StepPay || p.Steps[0].Channel != fees.ChannelCashier {
		return fmt.Errorf("plan for fee %s: unexpected steps %+v", f.ID, p.Steps)
	}
	if _, err := d.ledger.Pay(f.TransactionID, p.Steps[0].Amount, fees.ChannelCashier, fees.MethodCash); err != nil {
		return err
	}
	d.plans = append(d.plans, &plan{ref: f.TransactionID, user: f.UserID, feeID: f.ID, agreed: agreed, rest: rest,
		paidBefore: f.Paid, paidAt: d.clock.Now()})
	d.stats.refused++
	d.today.note("partial-waiver settlements", "staff", d.clock.Now(), fmt.Sprintf("partial waiver of %s on fee %s (%s left) refused by rule R5; plan: %s at the cashier, wait for Alma, waive %s",
		rest.Amount(), f.ID, f.Balance.Amount(), agreed.Amount(), rest.Amount()))
	return nil
}

// followPlans is staff checking the two-step settlements: once Alma shows
// the agreed payment, the rest is waived in full.
func (d *District) followPlans(context.Context) error {
	for _, p := range d.plans {
		if p.done {
			continue
		}
		f, ok := d.alma.Fee(p.feeID)
		if !ok {
			return fmt.Errorf("plan for fee %s: the fee is gone", p.feeID)
		}
		if c, _ := f.Paid.Cmp(add(p.paidBefore, p.agreed)); c < 0 {
			continue // Alma has not imported the payment yet
		}
		if !f.Balance.Equal(p.rest) {
			return fmt.Errorf("plan for fee %s: Alma shows %s left, the plan expects %s", f.ID, f.Balance, p.rest)
		}
		if _, err := d.alma.Waive(f.UserID, f.ID, f.Balance, "OTHER", "rest waived after the agreed payment"); err != nil {
			return fmt.Errorf("plan for fee %s: waive the rest: %w", f.ID, err)
		}
		p.done = true
		d.stats.settled++
		d.stats.settledPaid = add(d.stats.settledPaid, p.agreed)
		d.stats.settledWaived = add(d.stats.settledWaived, p.rest)
		d.awaitCredit(p.ref, d.clock.Now())
		d.today.note("partial-waiver settlements", "staff", d.clock.Now(), fmt.Sprintf("fee %s: Alma shows the %s paid at %s; the rest (%s) waived in full",
			f.ID, p.agreed.Amount(), p.paidAt.Format("15:04"), p.rest.Amount()))
	}
	return nil
}

// awaitCredit notes a waiver of a transferred fee, whose credit must reach
// PeopleSoft.
func (d *District) awaitCredit(ref string, at time.Time) {
	if d.credits == nil {
		d.credits = map[string]time.Time{}
	}
	d.credits[ref] = at
}

// creditsArrived measures, for each waiver, how long its credit took to
// reach PeopleSoft.
func (d *District) creditsArrived() {
	now := d.clock.Now()
	for ref, at := range d.credits {
		if it, ok := d.ledger.Item(ref); ok && it.Credited.IsPositive() {
			delay := now.Sub(at)
			d.today.creditDelay = max(d.today.creditDelay, delay)
			d.stats.creditDelay = max(d.stats.creditDelay, delay)
			delete(d.credits, ref)
		}
	}
}
