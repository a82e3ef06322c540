package pstest_test

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/feebridge/feebridge/peoplesoft"
	"github.com/feebridge/feebridge/peoplesoft/pstest"
)

// readResults decodes a results file the ledger wrote.
func readResults(t *testing.T, data []byte) []peoplesoft.Result {
	t.Helper()
	dec := peoplesoft.NewResultDecoder(bytes.NewReader(data), peoplesoft.ReferenceResultLayout(), nil)
	var out []peoplesoft.Result
	for {
		r, err := dec.Decode()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("the results file does not read: %v\n%s", err, data)
		}
		out = append(out, r)
	}
}

// The ledger refuses the lines of a student it does not know and of an
// item type not set up, loads the rest of the file, and reports every
// line in its results file; once the registrar adds the student, the line
// sent again is loaded.
func TestLoadRefusesUnknownStudentsAndItemTypes(t *testing.T) {
	l := pstest.NewLedger(pstest.Options{Now: clock(), ItemTypes: []string{"300000000001"}})
	l.MarkUnknown("S2")
	res := load(t, l, "c1.dat", chargeFile(t,
		charge("S1", "T1", "5.00"),
		charge("S2", "T2", "7.00"),
		withType(charge("S1", "T3", "9.00"), "300000000009"),
		credit("S1", "T4", "1.00"),
	))
	if res.Charges != 1 || len(res.Exceptions) != 3 || len(res.Results) != 4 {
		t.Fatalf("load: %+v", res)
	}
	if !res.Exceptions[0].Setup || !res.Exceptions[1].Setup || res.Exceptions[2].Setup {
		t.Errorf("Setup marks: %+v", res.Exceptions)
	}
	if _, ok := l.Item("T2"); ok {
		t.Errorf("the ledger holds the charge of an unknown student")
	}
	var b bytes.Buffer
	if err := l.WriteResults(&b, res); err != nil {
		t.Fatal(err)
	}
	got := readResults(t, b.Bytes())
	want := []struct {
		ref     string
		refused bool
		msg     string
	}{
		{"T1", false, ""},
		{"T2", true, "Invalid Employee ID: S2 is not a student"},
		{"T3", true, "Invalid Item Type: 300000000009 is not set up"},
		{"T4", true, "Cannot reverse this charge: credit for reference T4"},
	}
	if len(got) != len(want) {
		t.Fatalf("results: %+v", got)
	}
	for i, w := range want {
		if g := got[i]; g.Ref != w.ref || g.Refused != w.refused || !strings.HasPrefix(g.Message, w.msg) {
			t.Errorf("result %d = %+v, want %s refused=%v %q…", i, g, w.ref, w.refused, w.msg)
		}
	}
	if !got[3].Credit() || got[1].Credit() {
		t.Errorf("the credit line's amount lost its sign: %+v", got[3])
	}
	if u := l.Unknown(); len(u) != 1 || u[0] != "S2" {
		t.Errorf("Unknown() = %v", u)
	}
	l.AddStudent("S2")
	res = load(t, l, "c2.dat", chargeFile(t, charge("S2", "T2", "7.00")))
	if res.Charges != 1 || len(res.Exceptions) != 0 || res.Results[0].Refused {
		t.Fatalf("after AddStudent: %+v", res)
	}
	if it, ok := l.Item("T2"); !ok || !it.Balance.Equal(usd("7.00")) {
		t.Errorf("T2 after AddStudent: %+v, %v", it, ok)
	}
	checkTotals(t, l)
}
