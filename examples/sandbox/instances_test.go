package main

import (
	"strings"
	"testing"
	"time"

	"github.com/feebridge/feebridge/alma/almatest"
	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/internal/pgtest"
)

// instancesWeek is a short week with two instances, faults at 0.05 and
// kills of the active one.
func instancesWeek(journal string) *Sandbox {
	return &Sandbox{Students: 25, Days: 3, Seed: 1, Faults: 0.05, Instances: 2, Kills: 8, Journal: journal}
}

// TestInstancesKilled runs a short week with two feesync instances whose
// active one is killed as SIGKILL would, on SQLite and on PostgreSQL:
// the week ends reconciled (each event handled once and each return's
// waiver made once, which Run checks), at least three kills fall during
// a job, and each takeover comes when the dead instance's lease expired,
// not before, and within the configured lease.
func TestInstancesKilled(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { checkInstancesWeek(t, instancesWeek("")) })
	t.Run("postgres", func(t *testing.T) { checkInstancesWeek(t, instancesWeek(pgtest.DSN(t))) })
}

func checkInstancesWeek(t *testing.T, s *Sandbox) {
	out := runSandbox(t, s)
	ha := s.d.ha
	if len(ha.kills) < s.Kills-1 {
		t.Errorf("%d kills in the week, want about %d:\n%s", len(ha.kills), s.Kills, out)
	}
	inJobs := 0
	for _, k := range ha.kills {
		switch k.job {
		case "charges", "payments", "credits", "results", "redrive-charge":
			inJobs++
		}
		if k.heir == "" || k.heir == k.victim {
			t.Errorf("kill at %s of %s: taken over by %q", k.at, k.victim, k.heir)
		}
		// The standby takes over by expiry only: never before the dead
		// instance's lease ran out, and within the lease.
		if k.left <= 0 || k.took < k.left || k.took > ha.lease {
			t.Errorf("kill at %s of %s in %s: taken over after %s with %s of its lease left; want at expiry, within %s",
				k.at.Format(time.DateTime), k.victim, k.job, k.took, k.left, ha.lease)
		}
	}
	if inJobs < 3 {
		t.Errorf("%d kills during a job, want at least 3:\n%s", inJobs, out)
	}
	// Both instances journaled webhook deliveries.
	for _, in := range ha.list {
		if ha.delivered[in.name] == 0 {
			t.Errorf("no webhook delivery journaled by %s: %v", in.name, ha.delivered)
		}
	}
	for _, want := range []string{"Instances: 2 feesync instances on one journal", "Worst takeover: "} {
		if !strings.Contains(out, want) {
			t.Errorf("the output has no %q:\n%s", want, out)
		}
	}
}

// TestWaivedTwice: a fee with two waivers of the lost-returns handler,
// as two instances handling one return would make, is named; a fee with
// one, or with a waiver by staff besides, is not.
func TestWaivedTwice(t *testing.T) {
	usd := fees.MustParseMoney("1.00", fees.USD)
	waiver := func(comment string) almatest.Transaction {
		return almatest.Transaction{Type: "WAIVE", Amount: usd, Reason: waiveReason, Comment: comment}
	}
	a := history{
		fees: []fees.Fee{{ID: "f1", UserID: "u1"}, {ID: "f2", UserID: "u2"}, {ID: "f3", UserID: "u3"}},
		txns: map[string][]almatest.Transaction{
			"f1": {waiver(waiveComment)},
			"f2": {waiver(waiveComment), waiver(waiveComment)},
			"f3": {waiver(waiveComment), waiver("waived from the daily report")},
		},
	}
	got := waivedTwice(a)
	if len(got) != 1 || !strings.Contains(got[0], "fee f2 of u2 was waived 2 times") {
		t.Errorf("waivedTwice = %q, want fee f2 alone", got)
	}
}

// history is a feeHistory of fees and their actions.
type history struct {
	fees []fees.Fee
	txns map[string][]almatest.Transaction
}

func (h history) AllFees() []fees.Fee                           { return h.fees }
func (h history) Transactions(id string) []almatest.Transaction { return h.txns[id] }
