package journal_test

import (
	"testing"
	"time"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile/journal"
)

// TestEachOutstandingAndChangedSince walks every charge by student with
// what is left of it, and finds the students with a record written at or
// after a time, a payment of one of their charges included.
func TestEachOutstandingAndChangedSince(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		ctx := t.Context()
		t0 := time.Date(2026, 3, 2, 18, 0, 0, 0, time.UTC)
		j, err := open(&journal.Options{Now: func() time.Time { return t0 }})
		if err != nil {
			t.Fatal(err)
		}
		defer j.Close()
		usd := func(s string) fees.Money { return fees.MustParseMoney(s, fees.USD) }
		put := func(r journal.Record) {
			t.Helper()
			if err := j.Put(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range []struct{ user, tx, amount string }{{"S2", "20", "5.00"}, {"S1", "11", "7.00"}, {"S1", "10", "3.00"}} {
			put(journal.Record{Kind: journal.KindCharge, Key: fees.ChargeKey(c.tx, fees.TypeOverdueFine), Outcome: journal.OutcomeCharged,
				UserID: c.user, FeeID: "f" + c.tx, FeeType: fees.TypeOverdueFine, Amount: usd(c.amount), Updated: t0})
		}
		// S2's charge is paid 2.00 the next morning; the record carries no
		// student, only its charge.
		put(journal.Record{Kind: journal.KindPayment, Key: "R1", Outcome: journal.OutcomeForwarded, Ref: fees.ChargeKey("20", fees.TypeOverdueFine),
			Amount: usd("2.00"), Updated: t0.Add(14 * time.Hour)})
		var got []string
		err = j.EachOutstanding(ctx, func(h journal.Held) error {
			got = append(got, h.Charge.UserID+" "+h.Charge.Key+" "+h.Left.Amount())
			return nil
		})
		want := []string{"S1 10/OVERDUEFINE 3.00", "S1 11/OVERDUEFINE 7.00", "S2 20/OVERDUEFINE 3.00"}
		if err != nil || len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
			t.Fatalf("EachOutstanding: %q, %v; want %q", got, err, want)
		}
		for _, c := range []struct {
			since time.Time
			want  int
		}{{t0, 2}, {t0.Add(time.Hour), 1}, {t0.Add(15 * time.Hour), 0}} {
			users, err := j.ChangedSince(ctx, c.since)
			if err != nil || len(users) != c.want || (c.want == 1 && users[0] != "S2") {
				t.Errorf("ChangedSince(%v) = %q, %v; want %d students", c.since, users, err, c.want)
			}
		}
	})
}
