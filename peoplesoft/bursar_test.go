package peoplesoft_test

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/peoplesoft"
)

// otherBursars are the built-in bursars other than PeopleSoft, with the
// names of their golden files.
var otherBursars = []struct{ name, charges, payments string }{
	{peoplesoft.BursarBanner, "banner-charges.dat", "banner-payments.dat"},
	{peoplesoft.BursarColleague, "colleague-charges.csv", "colleague-payments.csv"},
}

func mustBursar(t testing.TB, name string) peoplesoft.Bursar {
	t.Helper()
	b, err := peoplesoft.BuiltinBursar(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBuiltinBursars(t *testing.T) {
	want := []string{"banner", "colleague", "peoplesoft"}
	if got := peoplesoft.BuiltinBursars(); !slices.Equal(got, want) {
		t.Fatalf("BuiltinBursars = %q, want %q", got, want)
	}
	for _, name := range want {
		b := mustBursar(t, name)
		if b.Name != name || b.Charges.Kind != peoplesoft.KindCharges || b.Payments.Kind != peoplesoft.KindPayments {
			t.Errorf("%s: got %q with kinds %q and %q", name, b.Name, b.Charges.Kind, b.Payments.Kind)
		}
		if err := b.Mapping.Validate(); err != nil {
			t.Errorf("%s: mapping: %v", name, err)
		}
		// Every fee type maps to its own code, so that payments name
		// their fee.
		for typ, code := range b.Mapping.ItemTypes {
			if got, ok := b.Mapping.FeeTypeOf(code); typ != fees.TypeCredit && (!ok || got != typ) {
				t.Errorf("%s: FeeTypeOf(%q) = %s, %v; want %s", name, code, got, ok, typ)
			}
		}
	}
	pb := mustBursar(t, peoplesoft.BursarPeopleSoft)
	if diff := cmp.Diff(peoplesoft.ReferenceChargeLayout(), pb.Charges); diff != "" {
		t.Errorf("peoplesoft's charge layout is not the reference one:\n%s", diff)
	}
	if _, err := peoplesoft.BuiltinBursar("sap"); err == nil || !strings.Contains(err.Error(), "banner, colleague, peoplesoft") {
		t.Errorf(`BuiltinBursar("sap") = %v`, err)
	}
}

// bursarCharges maps the MIT fees with bursar b's mapping, and adds a
// credit that reverses the lost item replacement fee.
func bursarCharges(t testing.TB, b peoplesoft.Bursar) []peoplesoft.Charge {
	t.Helper()
	var out []peoplesoft.Charge
	for i, mf := range mitFees {
		f, err := fees.NewFee(mf.txn+"-"+string(rune('a'+i)), fees.Type(mf.typ), mf.user, usd(mf.amount), asOf)
		if err != nil {
			t.Fatal(err)
		}
		f.TransactionID, f.Item.Title = mf.txn, mf.title
		ch, err := b.Mapping.ChargeFor(*f, asOf)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ch)
	}
	cr, err := b.Mapping.CreditFor(fees.Credit{Key: "W1", TransactionID: mitFees[2].txn, UserID: mitFees[2].user,
		Type: fees.TypeLostItemReplacementFee, Amount: usd("300")}, asOf)
	if err != nil {
		t.Fatal(err)
	}
	return append(out, cr)
}

// bursarPayments are an eServices payment in full and a partial cashier
// payment of each method, on charges of the MIT fees.
func bursarPayments(b peoplesoft.Bursar) []peoplesoft.Payment {
	paid := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	it := b.Mapping.ItemTypes
	return []peoplesoft.Payment{
		{EmplID: "12345678", Ref: mitFees[0].txn, ItemType: it[fees.TypeOverdueFine], PaidAmt: usd("123.45"), PaidDate: paid,
			Channel: fees.ChannelEServices, Method: fees.MethodCreditCard, Receipt: "E000104233"},
		{EmplID: "09876", Ref: mitFees[4].txn, ItemType: it[fees.TypeLostItemReplacementFee], PaidAmt: usd("40"), PaidDate: paid.AddDate(0, 0, 1),
			Channel: fees.ChannelCashier, Method: fees.MethodCash, Receipt: "C000200017"},
		{EmplID: "09876", Ref: mitFees[5].txn, ItemType: it[fees.TypeOverdueFine], PaidAmt: usd("0.07"), PaidDate: paid.AddDate(0, 0, 1),
			Channel: fees.ChannelCashier, Method: fees.MethodCheck, Receipt: "C000200018"},
	}
}

// TestBursarChargesRoundTrip writes the charges and a credit in each
// bursar's layout, compares the file with its golden one, and reads it
// back to the same charges.
func TestBursarChargesRoundTrip(t *testing.T) {
	for _, ob := range otherBursars {
		b := mustBursar(t, ob.name)
		charges := bursarCharges(t, b)
		data := encodeCharges(t, b.Charges, charges)
		golden(t, ob.charges, data)
		got, errs := decodeAllCharges(t, b.Charges, data)
		if len(errs) > 0 {
			t.Fatalf("%s: %v", ob.name, errs)
		}
		// The layouts cut descriptions to their width.
		for i := range charges {
			if n := len(got[i].Description); n < len(charges[i].Description) {
				charges[i].Description = charges[i].Description[:n]
			}
		}
		if diff := cmp.Diff(charges, got, cmp.Comparer(func(a, b fees.Money) bool { return a.Equal(b) })); diff != "" {
			t.Errorf("%s: charges read back differ (-sent +read):\n%s", ob.name, diff)
		}
	}
}

// TestBursarPaymentsRoundTrip writes payments in each bursar's layout,
// compares the file with its golden one, and reads them back.
func TestBursarPaymentsRoundTrip(t *testing.T) {
	for _, ob := range otherBursars {
		b := mustBursar(t, ob.name)
		want := bursarPayments(b)
		var buf bytes.Buffer
		enc := peoplesoft.NewPaymentEncoder(&buf, b.Payments, created)
		for _, p := range want {
			if err := enc.Encode(p); err != nil {
				t.Fatalf("%s: Encode: %v", ob.name, err)
			}
		}
		if err := enc.Close(); err != nil {
			t.Fatal(err)
		}
		golden(t, ob.payments, buf.Bytes())
		got, errs := decodeAllPayments(t, b.Payments, buf.Bytes(), nil)
		if len(errs) > 0 {
			t.Fatalf("%s: %v", ob.name, errs)
		}
		for i := range got {
			got[i].Line = 0
		}
		if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b fees.Money) bool { return a.Equal(b) })); diff != "" {
			t.Errorf("%s: payments read back differ (-sent +read):\n%s", ob.name, diff)
		}
	}
}

// TestLayoutCodes: a CHANNEL or METHOD field with codes writes them and
// reads them back; a value that is neither a code nor a name left
// uncoded is refused on its line, and the file goes on.
func TestLayoutCodes(t *testing.T) {
	l := mustBursar(t, peoplesoft.BursarColleague).Payments
	data := "12345678,01,12345,12/01/26,CC,R1,TXN1,LIBOD,WEB\n" +
		"12345678,01,500,12/01/26,CREDIT_CARD,R2,TXN2,LIBOD,WEB\n" + // the name, coded as CC
		"12345678,01,500,12/01/26,CA,R3,TXN3,LIBOD,KIOSK\n" +
		"12345678,01,700,12/02/26,CK,R4,TXN4,LIBLR,CSH\n"
	got, errs := decodeAllPayments(t, l, []byte(data), nil)
	if len(got) != 2 || got[0].Method != fees.MethodCreditCard || got[0].Channel != fees.ChannelEServices ||
		got[1].Method != fees.MethodCheck || got[1].Channel != fees.ChannelCashier || !got[0].PaidAmt.Equal(usd("123.45")) {
		t.Fatalf("read %+v", got)
	}
	if len(errs) != 2 || !errors.Is(errs[0], peoplesoft.ErrMethod) || !strings.Contains(errs[0].Error(), `"CREDIT_CARD"`) ||
		!errors.Is(errs[1], peoplesoft.ErrChannel) || !strings.Contains(errs[1].Error(), ":3:") {
		t.Errorf("errors %v", errs)
	}
}

// TestLayoutCodesValidate refuses codes that cannot be read back.
func TestLayoutCodesValidate(t *testing.T) {
	for _, tc := range []struct {
		bursar string
		codes  map[string]string
		field  string
		want   string
	}{
		{"colleague", map[string]string{"CASH": "X"}, "RECEIPT_NBR", "only for CHANNEL and METHOD"},
		{"colleague", map[string]string{"BITCOIN": "BT"}, "METHOD", `"BITCOIN": want one of CREDIT_CARD, CASH, CHECK`},
		{"colleague", map[string]string{"CASH": "C", "CHECK": "C"}, "METHOD", `would both be written "C"`},
		{"colleague", map[string]string{"CASH": "CHECK"}, "METHOD", `CASH and CHECK would both be written "CHECK"`},
		{"colleague", map[string]string{"CASH": " CA"}, "METHOD", "without blanks"},
		{"colleague", map[string]string{"CASH": ""}, "METHOD", "want printable ASCII"},
		{"banner", map[string]string{"CASHIER": "C"}, "CHANNEL", `codes.ESERVICES: "ESERVICES" is longer than the field's 1 characters`},
	} {
		l := mustBursar(t, tc.bursar).Payments
		for i := range l.Detail.Fields {
			if f := &l.Detail.Fields[i]; f.Name == tc.field {
				f.Codes = tc.codes
			}
		}
		err := l.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("codes %v on %s: Validate = %v, want %q", tc.codes, tc.field, err, tc.want)
		}
	}
}
