package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/alma/almatest"
)

// The flows the sandbox attributes Alma's calls to: feesync's jobs by the
// name the run history gives them, and the lost-returns handler of the
// webhook events.
const (
	flowLostReturns = "lost returns"
	flowOther       = "other"
)

// flowNames are the flows in the order the table prints them, with the
// words it prints them with.
var flowNames = []struct{ job, words string }{
	{flowLostReturns, "lost returns"},
	{"reconcile", "reconciliation"},
	{"report", "daily report"},
	{"charges", "charges"},
	{"payments", "payments"},
	{"credits", "credits"},
	{flowOther, "other"},
}

type flowKey struct{}

// withFlow marks ctx as that of flow: the calls to Alma made under it
// count for that flow.
func withFlow(ctx context.Context, flow string) context.Context {
	return context.WithValue(ctx, flowKey{}, flow)
}

// flowCalls counts feesync's calls to Alma per flow, each HTTP attempt
// once, as the client's Observe sees them. It is safe for concurrent use.
type flowCalls struct {
	mu     sync.Mutex
	byFlow map[string]int
}

// observe counts one attempt for the flow its context names.
func (f *flowCalls) observe(ctx context.Context, _ alma.Call) {
	flow, _ := ctx.Value(flowKey{}).(string)
	if flow == "" {
		flow = flowOther
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.byFlow == nil {
		f.byFlow = map[string]int{}
	}
	f.byFlow[flow]++
}

func (f *flowCalls) counts() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]int, len(f.byFlow))
	for k, n := range f.byFlow {
		out[k] = n
	}
	return out
}

// printCalls prints the week's calls to Alma: per flow (as feesync's client
// made them), per simulated day from first on and at their peak in one
// second (as the fake Alma received them). Every figure but the peak is the same for the
// same seed; the peak is of the wall clock, and varies with the machine.
func printCalls(w io.Writer, flows map[string]int, st almatest.CallStats, first time.Time) {
	fmt.Fprintf(w, "\nAlma API calls %s\n", strings.Repeat("─", 64))
	var parts, none []string
	for _, f := range flowNames {
		switch n := flows[f.job]; {
		case n > 0:
			parts = append(parts, fmt.Sprintf("%s %d", f.words, n))
		case f.job != flowOther:
			none = append(none, f.words)
		}
	}
	if len(none) > 0 {
		parts = append(parts, "none for "+strings.Join(none, ", "))
	}
	fmt.Fprintf(w, "  by flow   %s\n", strings.Join(parts, "; "))
	// Every day from the first simulated one to the last that made a
	// call, those without a call too.
	days := []string{first.Format(time.DateOnly)}
	if len(st.ByDay) > 0 {
		last := slices.Max(slices.Collect(maps.Keys(st.ByDay)))
		for d := first.AddDate(0, 0, 1); d.Format(time.DateOnly) <= last; d = d.AddDate(0, 0, 1) {
			days = append(days, d.Format(time.DateOnly))
		}
	}
	const perLine = 6
	for i := 0; i < len(days); i += perLine {
		label := "by day"
		if i > 0 {
			label = ""
		}
		var cols []string
		for _, d := range days[i:min(i+perLine, len(days))] {
			name := d
			if t, err := time.Parse(time.DateOnly, d); err == nil {
				name = t.Format("Mon 2")
			}
			cols = append(cols, fmt.Sprintf("%s: %d", name, st.ByDay[d]))
		}
		fmt.Fprintf(w, "  %-9s %s\n", label, strings.Join(cols, "   "))
	}
	// Alma answers a lookup by barcode with a redirect that the client
	// follows: two calls received for one the client counts.
	fmt.Fprintf(w, "  in all    %d calls received by Alma (a lookup by barcode is two: Alma redirects it)\n", st.Total)
	fmt.Fprintf(w, "  peak      %d calls in one second of the wall clock (varies with the machine)\n", st.PeakPerSecond)
}
