// Package journaltest is the conformance suite of the jobs' journal: any
// [reconcile.Store] (the SQLite journal, in a file or in memory, and a
// journal of another database) must pass it. A store's test only opens
// stores:
//
//	func TestConformance(t *testing.T) {
//		journaltest.Run(t, func(t *testing.T, now func() time.Time) reconcile.Store {
//			j, err := journal.OpenMemory(t.Context(), &journal.Options{Now: now})
//			...
//			return j
//		})
//	}
package journaltest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/reconcile/journal"
)

// Operator is what an operator needs of a store beyond what the jobs
// call: listing the leases held and breaking one left by a process known
// to be gone. Every store must offer it (the suite fails one that does
// not); [journal.Journal] does.
type Operator interface {
	Leases(ctx context.Context) ([]journal.Lease, error)
	BreakLease(ctx context.Context, l journal.Lease) error
}

// Open returns a new, empty store whose clock is now, closed when t ends.
type Open func(t *testing.T, now func() time.Time) reconcile.Store

// Run runs every test of the suite against stores from open.
func Run(t *testing.T, open Open) {
	for _, tc := range []struct {
		name string
		run  func(*testing.T, Open)
	}{
		{"Records", testRecords},
		{"Files", testFiles},
		{"Locks", testLocks},
		{"Leases", testLeases},
		{"Fencing", testFencing},
		{"ClaimIsIdempotent", testClaim},
		{"Hold", testHold},
		{"Refuse", testRefuse},
		{"Insert", testInsert},
		{"Balances", testBalances},
		{"Refunds", testRefunds},
		{"Rollback", testRollback},
		{"Events", testEvents},
		{"EventQueue", testEventQueue},
		{"Report", testReport},
		{"Sightings", testSightings},
		{"HeldLifeCycle", testHeldLifeCycle},
		{"Alerts", testAlerts},
		{"Disagreements", testDisagreements},
		{"Colleges", testColleges},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, open) })
	}
}

var day = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

func usd(s string) fees.Money { return fees.MustParseMoney(s, fees.USD) }

// clock is a settable clock.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// decide runs fn in a view of a new file of job named name, and commits
// it with status.
func decide(t *testing.T, s reconcile.Store, job, name, status string, fn func(v journal.View)) journal.FileRecord {
	t.Helper()
	f := journal.FileRecord{Job: job, Name: name, SHA256: name + "-sha", Status: journal.FileDeciding, Decided: day}
	v, err := s.Begin(t.Context(), f, day)
	must(t, err)
	fn(v)
	f = v.File()
	f.Status = status
	must(t, v.Commit(t.Context(), f))
	return f
}

// charge is the record of a charge of amount under key (a charge key).
func charge(key, user, amount string) journal.Record {
	return journal.Record{Kind: journal.KindCharge, Key: key, Outcome: journal.OutcomeCharged, UserID: user,
		FeeID: "F-" + key, FeeType: fees.TypeOverdueFine, Amount: usd(amount), Line: 1}
}

// claim claims r in v and fails the test unless the answer is want.
func claim(t *testing.T, v journal.View, r journal.Record, want bool) {
	t.Helper()
	got, err := v.Claim(t.Context(), r)
	must(t, err)
	if got != want {
		t.Fatalf("Claim(%s %s line %d) = %v, want %v", r.Kind, r.Key, r.Line, got, want)
	}
}

func testRecords(t *testing.T, open Open) {
	s := open(t, (&clock{day}).Now)
	ctx := t.Context()
	if _, ok, err := s.Get(ctx, journal.KindPayment, "nope"); err != nil || ok {
		t.Fatalf("Get of a missing key = %v, %v", ok, err)
	}
	r := journal.Record{Kind: journal.KindPayment, Key: "R1/T1", Outcome: journal.OutcomeRejected, UserID: "S1",
		Amount: usd("5.00"), Ref: "T1/OVERDUEFINE", Reason: "above", Code: fees.EOVERPAY, Payload: "{}", Line: 3}
	must(t, s.Put(ctx, r))
	got, ok, err := s.Get(ctx, r.Kind, r.Key)
	if err != nil || !ok || got.Code != fees.EOVERPAY || !got.Amount.Equal(r.Amount) || got.Reason != "above" ||
		got.Line != 3 || got.Ref != r.Ref || got.Payload != "{}" {
		t.Fatalf("Get = %+v, %v, %v; want %+v", got, ok, err, r)
	}
	r.Outcome = journal.OutcomeForwarded
	must(t, s.Put(ctx, r))
	if recs, err := s.Records(ctx, journal.KindPayment, journal.OutcomeForwarded); err != nil || len(recs) != 1 {
		t.Fatalf("Records after a second Put = %+v, %v; want the one record replaced", recs, err)
	}
	if held, err := s.Held(ctx, journal.KindPayment); err != nil || len(held) != 0 {
		t.Errorf("Held = %+v, %v; want none", held, err)
	}
}

func testFiles(t *testing.T, open Open) {
	s := open(t, (&clock{day}).Now)
	ctx := t.Context()
	id1, err := s.AddFile(ctx, journal.FileRecord{Job: "charges", Name: "a.xml", SHA256: "abc", Status: journal.FileFailed})
	must(t, err)
	id2, err := s.AddFile(ctx, journal.FileRecord{Job: "charges", Name: "b.xml", SHA256: "abc", Status: journal.FileDone})
	must(t, err)
	got, err := s.FilesBySHA(ctx, "charges", "abc")
	if err != nil || len(got) != 2 || got[0].ID != id2 || got[1].ID != id1 {
		t.Fatalf("FilesBySHA = %+v, %v; want the done file first", got, err)
	}
	f := got[1]
	f.Status, f.Output, f.Records, f.Total = journal.FilePublished, "out.dat", 2, usd("7.50")
	must(t, s.UpdateFile(ctx, f))
	all, err := s.Files(ctx, "")
	if err != nil || len(all) != 2 || all[0].Status != journal.FilePublished || !all[0].Total.Equal(usd("7.50")) || all[0].Output != "out.dat" {
		t.Fatalf("Files = %+v, %v", all, err)
	}
	if other, err := s.Files(ctx, "payments"); err != nil || len(other) != 0 {
		t.Errorf("Files of another job = %+v, %v", other, err)
	}
}

func testLocks(t *testing.T, open Open) {
	c := &clock{day}
	s := open(t, c.Now)
	ctx := t.Context()
	release, err := s.Lock(ctx, "job:charges", time.Hour)
	must(t, err)
	if _, err := s.Lock(ctx, "job:charges", time.Hour); !errors.Is(err, journal.ErrLocked) {
		t.Fatalf("second Lock = %v, want ErrLocked", err)
	}
	other, err := s.Lock(ctx, "job:payments", time.Hour)
	must(t, err)
	other()
	release()
	again, err := s.Lock(ctx, "job:charges", time.Hour)
	must(t, err)
	// A lease not released is taken over once it expires.
	c.now = c.now.Add(2 * time.Hour)
	takeover, err := s.Lock(ctx, "job:charges", time.Hour)
	must(t, err)
	again() // the old owner's release must not free the new lease
	if _, err := s.Lock(ctx, "job:charges", time.Hour); !errors.Is(err, journal.ErrLocked) {
		t.Fatalf("Lock after the old owner released = %v, want ErrLocked", err)
	}
	takeover()
}

// testLeases lists the leases held and breaks one, as an operator does
// after a run was killed.
func testLeases(t *testing.T, open Open) {
	c := &clock{day}
	s := open(t, c.Now)
	op, ok := s.(Operator)
	if !ok {
		t.Fatalf("%T cannot list or break leases (journaltest.Operator)", s)
	}
	ctx := t.Context()
	leases, err := op.Leases(ctx)
	must(t, err)
	if len(leases) != 0 {
		t.Fatalf("Leases of a new store = %v, want none", leases)
	}
	_, err = s.Lock(ctx, "job:payments", time.Hour)
	must(t, err)
	_, err = s.Lock(ctx, "job:charges", 2*time.Hour)
	must(t, err) // never released: a killed run
	leases, err = op.Leases(ctx)
	must(t, err)
	var names []string
	for _, l := range leases {
		names = append(names, l.Name)
		if l.Owner == "" {
			t.Errorf("lease %s has no owner", l.Name)
		}
	}
	if want := []string{"job:charges", "job:payments"}; !slices.Equal(names, want) {
		t.Fatalf("Leases = %v, want %v (by name)", names, want)
	}
	if got, want := leases[0].Expires, day.Add(2*time.Hour); !got.Equal(want) {
		t.Errorf("lease of job:charges expires %v, want %v", got, want)
	}

	// Broken, the lease no longer blocks the job; breaking it again, or
	// breaking a lease taken over since it was listed, fails.
	must(t, op.BreakLease(ctx, leases[0]))
	if err := op.BreakLease(ctx, leases[0]); !errors.Is(err, journal.ErrNoLease) {
		t.Errorf("second BreakLease = %v, want ErrNoLease", err)
	}
	release, err := s.Lock(ctx, "job:charges", time.Hour)
	must(t, err)
	defer release()
	if err := op.BreakLease(ctx, leases[0]); !errors.Is(err, journal.ErrNoLease) {
		t.Errorf("BreakLease of a lease taken over = %v, want ErrNoLease", err)
	}
	if _, err := s.Lock(ctx, "job:charges", time.Hour); !errors.Is(err, journal.ErrLocked) {
		t.Errorf("Lock after breaking the old owner's lease = %v, want ErrLocked (the new lease holds)", err)
	}
	must(t, op.BreakLease(ctx, leases[1]))
	leases, err = op.Leases(ctx)
	must(t, err)
	if len(leases) != 1 || leases[0].Name != "job:charges" {
		t.Errorf("Leases after breaking job:payments = %v, want only the new job:charges", leases)
	}
}

func testClaim(t *testing.T, open Open) {
	s := open(t, (&clock{day}).Now)
	c := charge("T1/OVERDUEFINE", "S1", "10.00")
	first := decide(t, s, "charges", "a.xml", journal.FilePublishing, func(v journal.View) {
		claim(t, v, c, true)
		claim(t, v, c, true) // the same record again: this file, this line
		dup := c
		dup.Line = 2
		claim(t, v, dup, false) // the same key at another line
	})
	decide(t, s, "charges", "b.xml", journal.FileDone, func(v journal.View) {
		claim(t, v, c, false) // decided into another file
	})
	// A rerun of the first file after a crash claims its own records.
	v, err := s.Begin(t.Context(), first, day)
	must(t, err)
	claim(t, v, c, true)
	v.Rollback()
	got, ok, err := s.Get(t.Context(), c.Kind, c.Key)
	if err != nil || !ok || got.FileID != first.ID || got.Outcome != journal.OutcomeCharged {
		t.Errorf("Get = %+v, %v, %v", got, ok, err)
	}
}

func testHold(t *testing.T, open Open) {
	s := open(t, (&clock{day}).Now)
	p := journal.Record{Kind: journal.KindPayment, Key: "R1/T1", Line: 1, Amount: usd("5.00"), Reason: "no charge",
		Code: fees.ENOTFOUND, Payload: "{}"}
	decide(t, s, "payments", "p1.csv", journal.FileDone, func(v journal.View) {
		if ok, err := v.Hold(t.Context(), p); err != nil || !ok {
			t.Fatalf("Hold = %v, %v", ok, err)
		}
	})
	held, err := s.Held(t.Context(), journal.KindPayment)
	if err != nil || len(held) != 1 || held[0].Code != fees.ENOTFOUND || held[0].File != "p1.csv" {
		t.Fatalf("Held = %+v, %v", held, err)
	}
	// A held record is retried: the next file may claim it, after which
	// holding it elsewhere is a duplicate.
	p.Outcome = journal.OutcomeForwarded
	decide(t, s, "payments", "p2.csv", journal.FilePublishing, func(v journal.View) { claim(t, v, p, true) })
	decide(t, s, "payments", "p3.csv", journal.FileDone, func(v journal.View) {
		if ok, err := v.Hold(t.Context(), p); err != nil || ok {
			t.Fatalf("Hold of a forwarded key = %v, %v; want false", ok, err)
		}
	})
}

// testRefuse: a charge sent and then refused by the bursar's load is
// held over its record, counts no more as held by the bursar, is listed
// for a re-drive with its payload, and goes through again when claimed.
func testRefuse(t *testing.T, open Open) {
	s := open(t, (&clock{day}).Now)
	c := charge("T1/OVERDUEFINE", "S1", "5.00")
	c.Line = 1
	decide(t, s, "charges", "e1.xml", journal.FilePublishing, func(v journal.View) { claim(t, v, c, true) })
	refusedCharge := c
	refusedCharge.Reason, refusedCharge.Code, refusedCharge.Payload = "refused: Invalid Employee ID", journal.CodeBursarRefused, `{"fee":{}}`
	refusedCharge.Output, refusedCharge.Line = "inbound/c1.dat", 3
	decide(t, s, "results", "r1.csv", journal.FileDone, func(v journal.View) {
		whole, ok, err := v.Whole(t.Context(), c.Kind, c.Key)
		if err != nil || !ok || whole.Output != "" || whole.File != "e1.xml" || whole.FeeID != c.FeeID || whole.Outcome != journal.OutcomeCharged {
			t.Errorf("Whole = %+v, %v, %v", whole, ok, err)
		}
		must(t, v.Refuse(t.Context(), refusedCharge))
		if r, ok, err := v.Record(t.Context(), c.Kind, c.Key); err != nil || !ok || r.Outcome != journal.OutcomeRejected {
			t.Errorf("the view after Refuse: %+v, %v, %v", r, ok, err)
		}
	})
	held, err := s.Held(t.Context(), journal.KindCharge)
	if err != nil || len(held) != 1 || held[0].Code != journal.CodeBursarRefused || held[0].File != "r1.csv" ||
		held[0].Output != "inbound/c1.dat" || held[0].Line != 3 {
		t.Fatalf("Held = %+v, %v", held, err)
	}
	out, err := s.Outstanding(t.Context(), "S1")
	if err != nil || len(out) != 0 {
		t.Errorf("Outstanding after the refusal = %+v, %v; want none", out, err)
	}
	// The student is still one the reconciliation compares.
	if active, _, err := s.Students(t.Context(), time.Time{}, false); err != nil || !slices.Contains(active, "S1") {
		t.Errorf("Students after the refusal = %v, %v; want S1", active, err)
	}
	// The re-drive claims it again: sent, and held by the bursar.
	c.Line = 1
	decide(t, s, "redrive-charge", "redrive-1", journal.FilePublishing, func(v journal.View) { claim(t, v, c, true) })
	out, err = s.Outstanding(t.Context(), "S1")
	if err != nil || len(out) != 1 || !out[0].Left.Equal(usd("5.00")) {
		t.Errorf("Outstanding after the re-drive = %+v, %v; want 5.00", out, err)
	}
	if held, err := s.Held(t.Context(), journal.KindCharge); err != nil || len(held) != 0 {
		t.Errorf("Held after the re-drive = %+v, %v", held, err)
	}
}

func testInsert(t *testing.T, open Open) {
	s := open(t, (&clock{day}).Now)
	var recs []journal.Record
	for i := range journal.InsertRows + 3 {
		r := charge(string(rune('A'+i%26))+string(rune('a'+i/26))+"/OVERDUEFINE", "S1", "1.00")
		r.Line = i + 1
		recs = append(recs, r)
	}
	dup := recs[0]
	dup.Line = 999
	recs = append(recs, dup)
	decide(t, s, "charges", "a.xml", journal.FilePublishing, func(v journal.View) {
		done, err := v.Insert(t.Context(), recs)
		must(t, err)
		for i, ok := range done {
			if want := i != len(recs)-1; ok != want {
				t.Errorf("Insert: record %d (%s line %d) inserted %v, want %v", i, recs[i].Key, recs[i].Line, ok, want)
			}
		}
		claim(t, v, dup, false)
	})
	decide(t, s, "charges", "b.xml", journal.FileDone, func(v journal.View) {
		done, err := v.Insert(t.Context(), recs[:2])
		must(t, err)
		if done[0] || done[1] {
			t.Errorf("Insert of known keys = %v, want none", done)
		}
	})
	if all, err := s.Records(t.Context(), journal.KindCharge, ""); err != nil || len(all) != journal.InsertRows+3 {
		t.Errorf("Records = %d, %v; want %d", len(all), err, journal.InsertRows+3)
	}
}

func testBalances(t *testing.T, open Open) {
	s := open(t, (&clock{day}).Now)
	ctx := t.Context()
	c1, c2 := charge("T1/OVERDUEFINE", "S1", "10.00"), charge("T1/LOSTITEMPROCESSFEE", "S1", "20.00")
	c2.FeeType = fees.TypeLostItemProcessFee
	pay := journal.Record{Kind: journal.KindPayment, Key: "R1", Outcome: journal.OutcomeForwarded, Ref: c1.Key,
		Amount: usd("4.00"), Line: 1, Channel: "CASHIER"}
	decide(t, s, "charges", "a.xml", journal.FilePublished, func(v journal.View) {
		claim(t, v, c1, true)
		c2.Line = 2
		claim(t, v, c2, true)
	})
	decide(t, s, "payments", "p.csv", journal.FilePublished, func(v journal.View) {
		must(t, v.Load(ctx, journal.KindPayment, []string{"R1"}, []journal.ChargeRef{{TxID: "T1", Type: fees.TypeOverdueFine}}))
		claim(t, v, pay, true)
		if _, left, ok, err := v.Left(ctx, c1.Key, journal.Record{}); err != nil || !ok || !left.Equal(usd("6.00")) {
			t.Errorf("Left = %s, %v, %v; want 6.00 USD", left, ok, err)
		}
		if _, left, ok, _, err := v.Find(ctx, "T1", fees.TypeOverdueFine, pay); err != nil || !ok || !left.Equal(usd("10.00")) {
			t.Errorf("Find except the payment = %s, %v, %v; want 10.00 USD", left, ok, err)
		}
		if _, _, ok, shared, err := v.Find(ctx, "T1", "", journal.Record{}); err != nil || ok || shared != 2 {
			t.Errorf("Find without a type = %v, %d, %v; want 2 charges, none chosen", ok, shared, err)
		}
		if cands, err := v.StudentCharges(ctx, "S1", "", c2.Barcode, fees.TypeLostItemProcessFee); err != nil || len(cands) != 0 {
			t.Errorf("StudentCharges by an empty barcode = %+v, %v", cands, err)
		}
		if cands, err := v.StudentCharges(ctx, "S1", c2.FeeID, "", ""); err != nil || len(cands) != 1 || cands[0].Key != c2.Key {
			t.Errorf("StudentCharges by fee = %+v, %v", cands, err)
		}
	})
	held, err := s.Outstanding(ctx, "S1")
	if err != nil || len(held) != 2 || held[1].Charge.Key != c1.Key || !held[1].Left.Equal(usd("6.00")) {
		t.Errorf("Outstanding = %+v, %v", held, err)
	}
}

// testRefunds: View.Paid sums the payments forwarded and the refunds sent
// for a charge (R8), leaving out the record being decided; a refund does
// not change what the bursar holds of the charge.
func testRefunds(t *testing.T, open Open) {
	s := open(t, (&clock{day}).Now)
	ctx := t.Context()
	c := charge("T1/LOSTITEMREPLACEMENTFEE", "S1", "80.00")
	c.FeeType = fees.TypeLostItemReplacementFee
	decide(t, s, "charges", "a.xml", journal.FilePublished, func(v journal.View) { claim(t, v, c, true) })
	decide(t, s, "payments", "p.csv", journal.FilePublished, func(v journal.View) {
		for i, amount := range []string{"30.00", "20.00"} {
			claim(t, v, journal.Record{Kind: journal.KindPayment, Key: fmt.Sprint("R", i), Outcome: journal.OutcomeForwarded,
				Ref: c.Key, Amount: usd(amount), Line: i + 1, Channel: "CASHIER"}, true)
		}
	})
	refund := journal.Record{Kind: journal.KindRefund, Key: c.Key, Ref: c.Key, Outcome: journal.OutcomeRefunded,
		UserID: "S1", FeeType: c.FeeType, Amount: usd("45.00"), Line: 1}
	decide(t, s, "credits", "c.xml", journal.FilePublished, func(v journal.View) {
		if paid, refunded, err := v.Paid(ctx, c.Key, refund); err != nil || !paid.Equal(usd("50.00")) || !refunded.Equal(usd("0.00")) {
			t.Errorf("Paid before the refund = %s, %s, %v; want 50.00 and 0.00", paid, refunded, err)
		}
		claim(t, v, refund, true)
		if paid, refunded, err := v.Paid(ctx, c.Key, journal.Record{}); err != nil || !paid.Equal(usd("50.00")) || !refunded.Equal(usd("45.00")) {
			t.Errorf("Paid after the refund = %s, %s, %v; want 50.00 and 45.00", paid, refunded, err)
		}
		if paid, refunded, err := v.Paid(ctx, c.Key, refund); err != nil || !paid.Equal(usd("50.00")) || !refunded.Equal(usd("0.00")) {
			t.Errorf("Paid except the refund = %s, %s, %v; want 50.00 and 0.00", paid, refunded, err)
		}
		if _, left, ok, err := v.Left(ctx, c.Key, journal.Record{}); err != nil || !ok || !left.Equal(usd("30.00")) {
			t.Errorf("Left after the refund = %s, %v, %v; want 30.00", left, ok, err)
		}
	})
	got, ok, err := s.Get(ctx, journal.KindRefund, c.Key)
	if err != nil || !ok || got.Outcome != journal.OutcomeRefunded || !got.Amount.Equal(usd("45.00")) {
		t.Errorf("refund record = %+v, %v, %v", got, ok, err)
	}
}

func testRollback(t *testing.T, open Open) {
	s := open(t, (&clock{day}).Now)
	v, err := s.Begin(t.Context(), journal.FileRecord{Job: "charges", Name: "a.xml", SHA256: "x", Status: journal.FileDeciding}, day)
	must(t, err)
	claim(t, v, charge("T1/OVERDUEFINE", "S1", "1.00"), true)
	must(t, v.Flush(t.Context()))
	v.Rollback()
	if recs, err := s.Records(t.Context(), "", ""); err != nil || len(recs) != 0 {
		t.Errorf("records after Rollback = %+v, %v", recs, err)
	}
	if files, err := s.Files(t.Context(), ""); err != nil || len(files) != 0 {
		t.Errorf("files after Rollback = %+v, %v", files, err)
	}
}

func testEvents(t *testing.T, open Open) {
	c := &clock{day}
	s := open(t, c.Now)
	ctx := t.Context()
	for _, key := range []string{"E1/F1", "E1/F2", "E10/F3"} {
		must(t, s.Put(ctx, journal.Record{Kind: journal.KindWaiver, Key: key, Outcome: journal.OutcomeWaived, UserID: "S9"}))
	}
	must(t, s.Put(ctx, journal.Record{Kind: journal.KindEvent, Key: "E1", Outcome: journal.OutcomeFailed, Reason: "Alma down"}))
	if n, err := s.Waived(ctx, "E1"); err != nil || n != 2 {
		t.Errorf("Waived(E1) = %d, %v; want 2", n, err)
	}
	failed, err := s.Records(ctx, journal.KindEvent, journal.OutcomeFailed)
	if err != nil || len(failed) != 1 || failed[0].Reason != "Alma down" {
		t.Errorf("failed events = %+v, %v", failed, err)
	}
	active, _, err := s.Students(ctx, day.Add(-time.Hour), true)
	if err != nil || len(active) != 1 || active[0] != "S9" {
		t.Errorf("Students with returns = %v, %v; want S9", active, err)
	}
}

func testReport(t *testing.T, open Open) {
	c := &clock{day}
	s := open(t, c.Now)
	ctx := t.Context()
	ch := charge("T1/OVERDUEFINE", "S1", "10.00")
	decide(t, s, "charges", "a.xml", journal.FilePublishing, func(v journal.View) { claim(t, v, ch, true) })
	if un, err := s.Unpublished(ctx); err != nil || len(un) != 1 || un[0].Key != ch.Key {
		t.Errorf("Unpublished = %+v, %v", un, err)
	}
	pay := journal.Record{Kind: journal.KindPayment, Key: "R1", Outcome: journal.OutcomeForwarded, Ref: ch.Key,
		Amount: usd("10.00"), Line: 1, Channel: "ESERVICES"}
	decide(t, s, "payments", "p.csv", journal.FilePublished, func(v journal.View) { claim(t, v, pay, true) })
	totals, err := s.Totals(ctx, day, day.Add(time.Hour))
	if err != nil || len(totals) != 2 {
		t.Fatalf("Totals = %+v, %v", totals, err)
	}
	unseen, err := s.Unseen(ctx, day)
	if err != nil || len(unseen) != 1 || unseen[0].Charge.Key != ch.Key || !unseen[0].Amount.Equal(usd("10.00")) {
		t.Fatalf("Unseen = %+v, %v", unseen, err)
	}
	must(t, s.MarkSeen(ctx, []string{ch.Key}, day))
	if unseen, err := s.Unseen(ctx, day); err != nil || len(unseen) != 0 {
		t.Errorf("Unseen after MarkSeen = %+v, %v", unseen, err)
	}
	active, quiet, err := s.Students(ctx, day.Add(time.Hour), false)
	if err != nil || len(active) != 0 || len(quiet) != 1 {
		t.Errorf("Students = %v, %v, %v; want S1 quiet (paid in full, unchanged since)", active, quiet, err)
	}
}

// testSightings checks that a sighting is kept per job and name, replaced
// whole, and forgotten.
func testSightings(t *testing.T, open Open) {
	s := open(t, (&clock{day}).Now)
	ctx := t.Context()
	mod := time.Date(2026, 3, 1, 9, 30, 15, 123456789, time.UTC)
	must(t, s.SetSighting(ctx, journal.Sighting{Job: "payments", Name: "a.csv", Size: 10, ModTime: mod, FirstSeen: day}))
	must(t, s.SetSighting(ctx, journal.Sighting{Job: "payments", Name: "b.csv", Size: 0}))
	must(t, s.SetSighting(ctx, journal.Sighting{Job: "charges", Name: "a.csv", Size: 7, ModTime: mod, FirstSeen: day}))
	later := day.Add(time.Minute)
	must(t, s.SetSighting(ctx, journal.Sighting{Job: "payments", Name: "a.csv", Size: 20, ModTime: mod.Add(time.Second), FirstSeen: later}))
	got, err := s.Sightings(ctx, "payments")
	must(t, err)
	want := []journal.Sighting{
		{Job: "payments", Name: "a.csv", Size: 20, ModTime: mod.Add(time.Second), FirstSeen: later},
		{Job: "payments", Name: "b.csv", Size: 0, FirstSeen: day}, // a zero FirstSeen is the store's clock
	}
	if len(got) != len(want) {
		t.Fatalf("Sightings = %+v, want %+v", got, want)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Job != w.Job || g.Name != w.Name || g.Size != w.Size || !g.ModTime.Equal(w.ModTime) || !g.FirstSeen.Equal(w.FirstSeen) {
			t.Errorf("sighting %d = %+v, want %+v", i, g, w)
		}
	}
	must(t, s.ForgetSightings(ctx, "payments", []string{"a.csv", "nope.csv"}))
	if got, err := s.Sightings(ctx, "payments"); err != nil || len(got) != 1 || got[0].Name != "b.csv" {
		t.Errorf("after forgetting a.csv: %+v, %v", got, err)
	}
	if got, err := s.Sightings(ctx, "charges"); err != nil || len(got) != 1 || got[0].Size != 7 {
		t.Errorf("the sighting of another job = %+v, %v", got, err)
	}
}

// testHeldLifeCycle: a held line with a ForKey is superseded when that key
// goes through from another file; a held record is dismissed with who and
// why; both leave ListHeld and Held and stay in the audit trail; a key not
// held cannot be dismissed; a dismissed key is open to the next record.
func testHeldLifeCycle(t *testing.T, open Open) {
	ctx := t.Context()
	s := open(t, (&clock{day}).Now)
	line := journal.Record{Kind: journal.KindPayment, Key: "abcd:2", Line: 2, UserID: "S1", Amount: usd("5.00"),
		Reason: "bad date", Code: fees.EINVALID, ForKey: "R1/T1"}
	over := journal.Record{Kind: journal.KindPayment, Key: "R2/T1", Line: 3, Reason: "too much", Code: fees.EOVERPAY, Payload: "{}"}
	decide(t, s, "payments", "p1.csv", journal.FileDone, func(v journal.View) {
		for _, r := range []journal.Record{line, over} {
			if ok, err := v.Hold(ctx, r); err != nil || !ok {
				t.Fatalf("Hold(%s) = %v, %v", r.Key, ok, err)
			}
		}
	})
	if held, err := s.ListHeld(ctx, ""); err != nil || len(held) != 2 || held[0].ForKey == "" && held[1].ForKey == "" {
		t.Fatalf("ListHeld = %+v, %v", held, err)
	}
	fwd := journal.Record{Kind: journal.KindPayment, Key: "R1/T1", Line: 1, Outcome: journal.OutcomeForwarded, Amount: usd("5.00"),
		Date: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)}
	decide(t, s, "payments", "p2.csv", journal.FilePublishing, func(v journal.View) { claim(t, v, fwd, true) })
	if got, _, _ := s.Get(ctx, journal.KindPayment, "abcd:2"); got.Outcome != journal.OutcomeSuperseded {
		t.Errorf("held line = %+v, want superseded", got)
	}
	if got, _, _ := s.Get(ctx, journal.KindPayment, "R1/T1"); !got.Date.Equal(fwd.Date) {
		t.Errorf("forwarded payment's date = %v, want %v", got.Date, fwd.Date)
	}
	if _, err := s.Dismiss(ctx, "", "R9/none", "jdoe", "why"); !errors.Is(err, journal.ErrNotHeld) {
		t.Errorf("Dismiss of an unknown key = %v, want ErrNotHeld", err)
	}
	if _, err := s.Dismiss(ctx, "", "R2/T1", "jdoe", ""); err == nil {
		t.Error("Dismiss without a reason succeeded")
	}
	if r, err := s.Dismiss(ctx, "", "R2/T1", "jdoe", "refunded"); err != nil || r.Code != fees.EOVERPAY {
		t.Fatalf("Dismiss = %+v, %v", r, err)
	}
	if held, err := s.ListHeld(ctx, ""); err != nil || len(held) != 0 {
		t.Errorf("ListHeld after = %+v, %v", held, err)
	}
	if held, err := s.Held(ctx, journal.KindPayment); err != nil || len(held) != 0 {
		t.Errorf("Held (to re-drive) after = %+v, %v", held, err)
	}
	trail, err := s.Closures(ctx, "")
	must(t, err)
	if len(trail) != 2 {
		t.Fatalf("Closures = %+v", trail)
	}
	byKey := map[string]journal.Closure{trail[0].Key: trail[0], trail[1].Key: trail[1]}
	if c := byKey["R2/T1"]; c.Action != journal.ActionDismissed || c.By != "jdoe" || c.Reason != "refunded" ||
		c.HeldReason != "too much" || c.File != "p1.csv" || c.Line != 3 {
		t.Errorf("dismissal = %+v", c)
	}
	if c := byKey["abcd:2"]; c.Action != journal.ActionSuperseded || c.File != "p1.csv" || !c.Amount.Equal(usd("5.00")) {
		t.Errorf("supersession = %+v", c)
	}
	if _, err := s.Dismiss(ctx, "", "R2/T1", "jdoe", "again"); !errors.Is(err, journal.ErrNotHeld) {
		t.Errorf("second Dismiss = %v, want ErrNotHeld", err)
	}
	// The dismissed key is open to the next record under it.
	again := over
	again.Outcome = journal.OutcomeForwarded
	decide(t, s, "payments", "p3.csv", journal.FilePublishing, func(v journal.View) { claim(t, v, again, true) })
}
