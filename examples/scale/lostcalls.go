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

// callsPerReturn sets the calls the returns made at the fake Alma (st, the
// calls received while the events were handled), per return and by
// operation, the 429s apart, and checks them against the bound of issue 17,
// 2 + fees waived + (2 if the blocks change) per return: one call for the
// loan, one fee list (of the status the journal expects the item's
// lost-item fees in), one per fee waived, and the user read and written
// when blocks are lifted. Exceeding the bound, for the run's population
// (every return a lost book with its fees exported the evening before and
// a block to lift), is a problem: the run fails.
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
	r.CallsPerReturn = fmt.Sprintf("%.2f (%s; 429s apart)", float64(total)/float64(n), strings.Join(parts, " "))
	verdict := "met"
	if total > bound {
		verdict = fmt.Sprintf("exceeded by %.2f a return", float64(total-bound)/float64(n))
		r.Problems = append(r.Problems, fmt.Sprintf("%d calls answered for %d returns, %d more than issue 17's bound of %d (%d fees waived, %d students' blocks lifted)",
			total, n, total-bound, bound, waived, lifted))
	}
	r.Bound = fmt.Sprintf("%.2f a return, %s", float64(bound)/float64(n), verdict)
}
