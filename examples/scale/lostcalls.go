package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/feebridge/feebridge/alma/almatest"
	"github.com/feebridge/feebridge/examples/district"
	"github.com/feebridge/feebridge/fees"
)

// The operations of a lost return, as the fake Alma counts them, and the
// short names the summary gives them.
var lostReturnOps = []struct{ op, name string }{
	{"GET users/{user_id}/loans/{loan_id}", "loan"},
	{"GET users/{user_id}/fees", "fee-list"},
	{"GET users/{user_id}/fees/{fee_id}", "fee-read"},
	{"POST users/{user_id}/fees/{fee_id}?op=waive", "waive"},
	{"GET users/{user_id}", "user-read"},
	{"PUT users/{user_id}", "user-write"},
}

// feeStatusesListed is how many calls Alma's fee list takes to show a
// student's open fees: one per status (ACTIVE, EXPORTED, INDISPUTE), since
// it takes one status a call.
const feeStatusesListed = 3

// callsPerReturn sets the calls the returns made at the fake Alma (st, the
// calls received while the events were handled), per return and by
// operation, the 429s apart, and checks them against the bound of issue 17,
// 2 + fees waived + (2 if the blocks change) per return, and against the
// least Alma allows (see reconcile's loanReturned): 1 + one fee list per
// status + fees waived + the user read and written when blocks are lifted.
// A call beyond the least Alma allows is a problem; the bound is reported.
func (r *result) callsPerReturn(st almatest.CallStats, srv *almatest.Server, returns []district.Return) {
	n := len(returns)
	if n == 0 {
		return
	}
	answered := func(op string) int { return st.ByOp[op] - st.Refused[op] }
	var parts []string
	total := 0
	for _, o := range lostReturnOps {
		total += answered(o.op)
		if c := answered(o.op); c > 0 {
			parts = append(parts, fmt.Sprintf("%s=%.2f", o.name, float64(c)/float64(n)))
		}
	}
	var other []string
	for op := range st.ByOp {
		if !slices.ContainsFunc(lostReturnOps, func(o struct{ op, name string }) bool { return o.op == op }) {
			other = append(other, op)
			total += answered(op)
		}
	}
	if len(other) > 0 {
		slices.Sort(other)
		r.Problems = append(r.Problems, fmt.Sprintf("calls a return should not make: %s", strings.Join(other, ", ")))
	}
	// What each return did: fees waived, blocks lifted.
	waived, lifted := 0, 0
	for _, ret := range returns {
		for _, f := range srv.Fees(ret.User) {
			if f.Item.Barcode != ret.Barcode || f.Status != fees.StatusClosed {
				continue
			}
			for _, t := range srv.Transactions(f.ID) {
				if t.Type == "WAIVE" && t.Reason == district.WaiveReason {
					waived++
				}
			}
		}
		if !slices.ContainsFunc(srv.Blocks(ret.User), func(b almatest.Block) bool { return b.Code == almatest.BlockLostItem }) {
			lifted++
		}
	}
	bound := 2*n + waived + 2*lifted
	least := (1+feeStatusesListed)*n + waived + answered("GET users/{user_id}") + answered("PUT users/{user_id}")
	r.CallsPerReturn = fmt.Sprintf("%.2f (%s; 429s apart)", float64(total)/float64(n), strings.Join(parts, " "))
	verdict := "met"
	if total > bound {
		verdict = fmt.Sprintf("exceeded by %.2f a return: Alma lists one fee status a call", float64(total-bound)/float64(n))
	}
	r.Bound = fmt.Sprintf("%.2f a return, %s", float64(bound)/float64(n), verdict)
	if total > least {
		r.Problems = append(r.Problems, fmt.Sprintf("%d calls answered for %d returns, %d more than the %d Alma allows (%d fees waived, %d students' blocks lifted)",
			total, n, total-least, least, waived, lifted))
	}
}
