package main

import (
	"context"

	"github.com/feebridge/feebridge/reconcile"
)

// isKind tells whether arg names a kind of held record (or event) rather
// than a key, for `feesync redrive`.
func isKind(arg string) bool {
	switch arg {
	case reconcile.KindCharge, reconcile.KindCredit, reconcile.KindPayment, reconcile.KindEvent, reconcile.KindRefund:
		return true
	}
	return false
}

// redriveKeys re-sends the held records named by their keys (as `feesync
// held` lists them), whatever their kind. A key under which nothing is
// held is an error, found before anything is sent.
func (m *Main) redriveKeys(ctx context.Context, keys []string) error {
	jobs, err := m.openJobs(ctx, false)
	if err != nil {
		return err
	}
	held, err := jobs.ListHeld(ctx, "")
	if err != nil {
		return err
	}
	byKind := map[string][]string{}
	var kinds []string
	for _, k := range keys {
		found := false
		for _, r := range held {
			if r.Key != k {
				continue
			}
			found = true
			if len(byKind[r.Kind]) == 0 {
				kinds = append(kinds, r.Kind)
			}
			byKind[r.Kind] = appendOnce(byKind[r.Kind], k)
		}
		if !found {
			return usagef("redrive: %q is not charge, credit, payment, refund or event, and no record is held under that key; 'feesync held' lists the records held", k)
		}
	}
	return m.redriveKinds(kinds, func(kind string) (reconcile.RunResult, error) {
		return jobs.RedriveKeys(ctx, kind, byKind[kind])
	})
}

func appendOnce(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}
