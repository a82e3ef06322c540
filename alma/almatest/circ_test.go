package almatest_test

import (
	"errors"
	"testing"
	"time"

	"github.com/feebridge/feebridge/alma/almatest"
	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/transport/memdrop"
)

func TestManualClock(t *testing.T) {
	c := almatest.NewManualClock(start)
	if got := c.Advance(90 * time.Minute); !got.Equal(start.Add(90*time.Minute)) || !c.Now().Equal(got) {
		t.Errorf("Advance: %v, Now %v", got, c.Now())
	}
	c.Set(start)
	if !c.Now().Equal(start) {
		t.Errorf("Set: %v", c.Now())
	}
}

// TestOverdueFines charges whole overdue days, once each, by the daily
// run and at the return.
func TestOverdueFines(t *testing.T) {
	w := newWorld(t, &almatest.Options{OverdueFinePerDay: usd("0.50")})
	due := start.Add(7 * 24 * time.Hour)
	if _, err := w.srv.CheckOut("0123456", "31234000555666", due); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		at   time.Time
		want []string // amounts of the fines created by this run
	}{
		{due.Add(23 * time.Hour), nil},
		{due.Add(3*24*time.Hour + time.Hour), []string{"1.50"}},
		{due.Add(3*24*time.Hour + 5*time.Hour), nil},
		{due.Add(5 * 24 * time.Hour), []string{"1.00"}},
	} {
		w.clock.Set(tc.at)
		got, err := w.srv.AssessOverdueFines()
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(tc.want) {
			t.Fatalf("at %v: %d fines, want %d", tc.at, len(got), len(tc.want))
		}
		for i, f := range got {
			if f.Type != fees.TypeOverdueFine || !f.Original.Equal(usd(tc.want[i])) || f.Item.Barcode != "31234000555666" || !f.Item.DueDate.Equal(due) {
				t.Errorf("at %v: fine %+v, want %s", tc.at, f, tc.want[i])
			}
		}
	}
	w.clock.Set(due.Add(7*24*time.Hour + 2*time.Hour))
	if _, err := w.srv.Return("31234000555666"); err != nil {
		t.Fatal(err)
	}
	all := w.srv.Fees("0123456")
	if len(all) != 3 || !all[2].Original.Equal(usd("1.00")) {
		t.Errorf("after a return two days later: %+v", all)
	}
	if _, err := w.srv.AssessOverdueFines(); err != nil {
		t.Fatal(err)
	}
	if n := len(w.srv.Fees("0123456")); n != 3 {
		t.Errorf("a returned loan was fined again: %d fees", n)
	}
}

// TestLostPolicy checks the lost-item job's threshold, the item's own
// replacement cost, a policy without process fee, and the refusals of
// circulation calls.
func TestLostPolicy(t *testing.T) {
	w := newWorld(t, &almatest.Options{Policy: almatest.LostPolicy{ProcessFee: usd("-1.00"), LostAfterDays: 10}})
	due := start.Add(24 * time.Hour)
	loan, err := w.srv.CheckOut("0123456", "31234000333444", due)
	if err != nil {
		t.Fatal(err)
	}
	w.clock.Set(due.Add(10*24*time.Hour - time.Second))
	if fs := w.srv.RunLostItemJob(); len(fs) != 0 {
		t.Fatalf("lost a second early: %+v", fs)
	}
	w.clock.Advance(time.Second)
	fs := w.srv.RunLostItemJob()
	if len(fs) != 1 || fs[0].Type != fees.TypeLostItemReplacementFee || !fs[0].Original.Equal(usd("85.50")) {
		t.Fatalf("fees %+v, want one replacement fee of the item's cost 85.50", fs)
	}
	if fs := w.srv.RunLostItemJob(); len(fs) != 0 {
		t.Errorf("lost twice: %+v", fs)
	}
	if l, _ := w.srv.Loan(loan); l.ProcessStatus != "LOST" || !l.LostDate.Equal(w.clock.Now()) {
		t.Errorf("loan %+v", l)
	}

	var ae *almatest.Error
	for _, tc := range []struct {
		name string
		err  error
		code string
	}{
		{"declare lost twice", second(w.srv.DeclareLost(loan)), almatest.CodeGeneralError},
		{"declare lost an unknown loan", second(w.srv.DeclareLost("1")), almatest.CodeLoanNotFound},
		{"check out a loaned item", second(w.srv.CheckOut("0987654", "31234000333444", due)), almatest.CodeGeneralError},
		{"check out to an unknown user", second(w.srv.CheckOut("nobody", "31234000111222", due)), almatest.CodeUserNotFound},
		{"check out an unknown item", second(w.srv.CheckOut("0123456", "nope", due)), almatest.CodeItemNotFound},
		{"return an item not on loan", second(w.srv.Return("31234000111222")), almatest.CodeLoanNotFound},
		{"fee for an unknown item", second(w.srv.AddFee("0123456", almatest.FeeSpec{Type: fees.TypeOther, Amount: usd("1.00"), Barcode: "nope"})), "4019993"},
		{"fee without type", second(w.srv.AddFee("0123456", almatest.FeeSpec{Amount: usd("1.00")})), "4019991"},
		{"fee of nothing", second(w.srv.AddFee("0123456", almatest.FeeSpec{Type: fees.TypeOther, Amount: usd("0.00")})), almatest.CodeInvalidParameter},
	} {
		if !errors.As(tc.err, &ae) || ae.Code != tc.code {
			t.Errorf("%s: %v, want code %s", tc.name, tc.err, tc.code)
		}
	}
}

func second[T any](_ T, err error) error { return err }

// TestExportProfiles exports only what a profile selects.
func TestExportProfiles(t *testing.T) {
	w := newWorld(t, &almatest.Options{Profiles: []almatest.ExportProfile{
		{Name: "LOST", Types: []fees.Type{fees.TypeLostItemReplacementFee, fees.TypeLostItemProcessFee}},
		{Name: "SCIENCE", Owners: []string{"SCI"}},
	}})
	ctx := t.Context()
	drop := memdrop.New()
	w.lose(t, "0123456", "31234000111222")
	sci, err := w.srv.AddFee("0987654", almatest.FeeSpec{Type: fees.TypeOverdueFine, Amount: usd("2.00"), Owner: "SCI"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.srv.RunExport(ctx, drop, "", "UNKNOWN"); err == nil {
		t.Error("an unknown profile was accepted")
	}
	res, err := w.srv.RunExport(ctx, drop, "", "LOST")
	if err != nil || len(res.Records) != 2 {
		t.Fatalf("LOST profile: %+v, %v", res, err)
	}
	if f, _ := w.srv.Fee(sci.ID); f.Status != fees.StatusActive {
		t.Errorf("the SCI fee was exported by the LOST profile")
	}
	res, err = w.srv.RunExport(ctx, drop, "", "SCIENCE")
	if err != nil || len(res.Records) != 1 || res.Records[0].FeeID != sci.ID {
		t.Fatalf("SCIENCE profile: %+v, %v", res, err)
	}
	if got := len(w.srv.Exports()); got != 2 {
		t.Errorf("%d exports recorded, want 2", got)
	}
}
