package main

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/feebridge/feebridge/alma/almatest"
	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile/config"
)

// TestTwoInstancesChargeOnceUnderKills (issue 20: "another takes over its
// jobs … with nothing run twice") runs two `feesync serve` processes over
// one journal with the charges job scheduled every second, drops Alma's
// export files one at a time, and SIGKILLs the active instance while its
// charges run works on the file (after it claimed it, a few milliseconds
// in): the standby takes the active lease over and its own charges run
// finishes the file the dead one left. At the end every export is done,
// and PeopleSoft's inbound folder holds the same charge lines as a site
// that ran `feesync run charges` once per file without a kill: none
// twice, none missing. Meanwhile lost books come back, and Alma posts
// each return to one instance or the other (the standby too, which
// journals it for the active one's events worker): every lost-item fee
// ends waived in one waiver of its whole balance. It runs on SQLite, and
// on PostgreSQL when internal/pgtest has one.
func TestTwoInstancesChargeOnceUnderKills(t *testing.T) { onBothJournals(t, chargesUnderKills) }

func chargesUnderKills(t *testing.T, bin, dsn string) {
	size := crashSize{exports: 5, feesPerExport: 1500, users: 400}
	root := t.TempDir()
	refAlma, exports := newCrashAlma(t, size, filepath.Join(root, "gen"))
	haAlma, _ := newCrashAlma(t, size, filepath.Join(root, "gen2"))
	genExports := filepath.Join(root, "gen", "exports")
	drop := func(s *crashSite, i int) { copyFiles(t, genExports, s.path("library/exports"), exports[i]) }
	ref := newCrashSite(t, bin, filepath.Join(root, "ref"), refAlma, "")
	ref.refLoop(jobCharges, len(exports), drop)

	lost := lostBooks(t, haAlma, 2*len(exports))
	site := newCrashSite(t, bin, filepath.Join(root, "ha"), haAlma, dsn)
	p := newHAPair(t, bin, site, "[schedules]\ncharges = \"@every 1s\"\n")
	first, ok := p.active("", 30*time.Second)
	if !ok {
		t.Fatalf("no instance became active\na: %s\nb: %s", p.logs["a"], p.logs["b"])
	}
	holder := first.Instance
	rng := rand.New(rand.NewPCG(crashSeed, 3))
	midRun := 0
	for i, name := range exports {
		// Two lost books come back, their returns posted to either
		// instance; then the export comes.
		for k, to := range []string{holder, other(holder)} {
			returnLost(t, p, lost[2*i+k].barcode, to)
		}
		drop(site, i)
		// The active instance's next charges run claims the file (moves
		// it to processing/); the kill lands a few milliseconds later.
		waitUntil(t, 30*time.Second, "the export "+name+" claimed", func() bool {
			return !slices.Contains(site.files("library/exports"), name)
		})
		time.Sleep(time.Duration(rng.IntN(20)) * time.Millisecond)
		p.kill(holder)
		if !slices.Contains(site.files("library/exports"), "done/"+name) {
			midRun++
		}
		l, ok := p.active(holder, 2*(haLease+haLease/3))
		if !ok {
			t.Fatalf("kill %d of %s: not taken over\nlogs:\n%s", i+1, holder, p.logs[other(holder)])
		}
		p.start(holder) // back as a standby
		holder = l.Instance
	}
	waitUntil(t, 60*time.Second, "every export done", func() bool {
		done := 0
		for _, f := range site.files("library/exports") {
			if filepath.Dir(f) == "done" {
				done++
			}
		}
		return done == len(exports)
	})
	t.Logf("%d kills of the active instance, %d of them before its charges run finished the file", len(exports), midRun)
	if midRun == 0 {
		t.Error("no kill landed in a charges run: the test did not test what it says")
	}
	waitUntil(t, 60*time.Second, "every lost-item fee waived", func() bool {
		for _, b := range lost {
			for _, f := range b.fees {
				if got, _ := haAlma.Fee(f.ID); got.Status != fees.StatusClosed {
					return false
				}
			}
		}
		return true
	})
	for _, b := range lost {
		for _, f := range b.fees {
			var waivers []string
			for _, tx := range haAlma.Transactions(f.ID) {
				if tx.Type == "WAIVE" {
					waivers = append(waivers, tx.Amount.String())
				}
			}
			if len(waivers) != 1 || waivers[0] != f.Balance.String() {
				t.Errorf("lost-item fee %s (balance %s) of %s: waivers %v, want one of the whole balance", f.ID, f.Balance, b.barcode, waivers)
			}
		}
	}
	want, got := chargeLines(t, ref.path("peoplesoft/inbound")), chargeLines(t, site.path("peoplesoft/inbound"))
	if len(want) == 0 {
		t.Fatal("the reference run wrote no charge lines")
	}
	if dup := duplicates(got); len(dup) > 0 {
		t.Errorf("charge lines written twice under kills: %v", dup)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("charge lines after the kills differ from the reference (-want +got):\n%s", diff)
	}
}

// haLostBook is a book a student lost, and the lost-item fees Alma charged.
type haLostBook struct {
	barcode string
	fees    []fees.Fee
}

// lostBooks lends n books to the crash Alma's first users and declares
// them lost.
func lostBooks(t *testing.T, a *almatest.Server, n int) []haLostBook {
	t.Helper()
	var out []haLostBook
	for i := range n {
		b := haLostBook{barcode: fmt.Sprintf("LOST%03d", i)}
		must := func(err error) {
			if err != nil {
				t.Fatal(err)
			}
		}
		must(a.AddItem(almatest.Item{Barcode: b.barcode, Title: "Lost book " + strconv.Itoa(i), ReplacementCost: fees.MustParseMoney("45.00", fees.USD)}))
		loan, err := a.CheckOut(fmt.Sprintf("100%05d", i), b.barcode, time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
		must(err)
		b.fees, err = a.DeclareLost(loan)
		must(err)
		if len(b.fees) == 0 {
			t.Fatalf("no lost-item fee for %s", b.barcode)
		}
		out = append(out, b)
	}
	return out
}

// returnLost returns the book and has Alma post the LOAN_RETURNED to
// instance to's webhook listener, which must answer 200.
func returnLost(t *testing.T, p *haPair, barcode, to string) {
	t.Helper()
	a := p.site.alma
	waitUntil(t, 30*time.Second, "instance "+to+" listening", func() bool {
		return strings.Contains(p.logs[to].String(), "msg=listening addr=")
	})
	// Alma signs an event when it queues it: the hook first.
	a.SetWebhook("http://"+listenAddr(t, p.logs[to].String())+config.DefaultWebhookPath, []byte(haWebhookSecret))
	if _, err := a.Return(barcode); err != nil {
		t.Fatal(err)
	}
	a.RunDue(t.Context())
	h := a.Webhooks()
	if last := h[len(h)-1]; last.State != almatest.DeliveryDelivered {
		t.Fatalf("the return of %s posted to %s: %s after %+v", barcode, to, last.State, last.Attempts)
	}
}

// waitUntil polls cond until it holds, failing the test after guard: a
// guard against a hang, not a measure.
func waitUntil(t *testing.T, guard time.Duration, what string, cond func() bool) {
	t.Helper()
	until := time.Now().Add(guard)
	for !cond() {
		if time.Now().After(until) {
			t.Fatalf("no %s within %s", what, guard)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
