package main

import (
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/feebridge/feebridge/internal/pgtest"
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
// twice, none missing. It runs on SQLite, and on PostgreSQL when
// internal/pgtest has one.
func TestTwoInstancesChargeOnceUnderKills(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildFeesync(t)
	t.Run("sqlite", func(t *testing.T) { chargesUnderKills(t, bin, "") })
	t.Run("postgres", func(t *testing.T) { chargesUnderKills(t, bin, pgtest.DSN(t)) })
}

func chargesUnderKills(t *testing.T, bin, dsn string) {
	size := crashSize{exports: 5, feesPerExport: 1500, users: 400}
	root := t.TempDir()
	refAlma, exports := newCrashAlma(t, size, filepath.Join(root, "gen"))
	haAlma, _ := newCrashAlma(t, size, filepath.Join(root, "gen2"))
	genExports := filepath.Join(root, "gen", "exports")
	drop := func(s *crashSite, i int) { copyFiles(t, genExports, s.path("library/exports"), exports[i]) }
	ref := newCrashSite(t, bin, filepath.Join(root, "ref"), refAlma, "")
	ref.refLoop(jobCharges, len(exports), drop)

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
