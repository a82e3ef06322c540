package alma_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/fees"
)

const mitFixture = "testdata/bursar/mit-bursar-export.xml"

// exportFile wraps users in the frame of an Alma export file.
func exportFile(users ...string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<xb:xml-fragment xmlns:xb="http://com/exlibris/urm/rep/externalsysfinesfees/xmlbeans">
	<xb:userExportedFineFees>
		<xb:exportNumber>42</xb:exportNumber>
	</xb:userExportedFineFees>
	<xb:userExportedFineFees>
		<xb:userExportedList>
` + strings.Join(users, "\n") + `
		</xb:userExportedList>
	</xb:userExportedFineFees>
</xb:xml-fragment>
`
}

// user is one userExportedFineFeesList holding fees.
func user(id, name string, fees ...string) string {
	return `			<xb:userExportedFineFeesList>
				<xb:user>
					<xb:type>02</xb:type>
					<xb:value>` + id + `</xb:value>
					<xb:owneredEntity><xb:InstitutionId>6761</xb:InstitutionId></xb:owneredEntity>
				</xb:user>
				<xb:patronName>` + name + `</xb:patronName>
				<xb:finefeeList>
` + strings.Join(fees, "\n") + `
				</xb:finefeeList>
			</xb:userExportedFineFeesList>`
}

const omit = "\x00omit"

// fee is one userFineFee. kv overrides the default text of the fields
// type, comment, owner (raw XML inside owneredEntity), date, title, call,
// barcode, due, currency, sum and tx; the value omit leaves the element
// out. Values are raw XML.
func fee(kv ...string) string {
	v := map[string]string{
		"comment":  `<xb:fineFeeComment xsi:nil="true" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>`,
		"type":     "OVERDUEFINE",
		"owner":    `<xb:InstitutionId>6761</xb:InstitutionId><xb:libraryId>161686070006761</xb:libraryId><xb:libraryCode>RTC</xb:libraryCode>`,
		"date":     "09/12/2023 15:22:06",
		"title":    "Ecology of the saguaro /",
		"call":     "QK495.C11 S64 1977",
		"barcode":  "39080036507785",
		"due":      `<xb:itemDueDate xsi:nil="true" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>`,
		"currency": "USD",
		"sum":      "1.00",
		"tx":       "1001",
	}
	for i := 0; i+1 < len(kv); i += 2 {
		v[kv[i]] = kv[i+1]
	}
	var b strings.Builder
	el := func(name, key string) {
		if v[key] == omit {
			return
		}
		fmt.Fprintf(&b, "\t\t\t\t\t\t<xb:%s>%s</xb:%s>\n", name, v[key], name)
	}
	b.WriteString("\t\t\t\t\t<xb:userFineFee>\n")
	if v["comment"] != omit {
		if strings.HasPrefix(v["comment"], "<") {
			b.WriteString("\t\t\t\t\t\t" + v["comment"] + "\n")
		} else {
			el("fineFeeComment", "comment")
		}
	}
	el("fineFeeType", "type")
	el("owneredEntity", "owner")
	el("lastTransactionDate", "date")
	el("itemTitle", "title")
	el("itemCallNumebr", "call")
	b.WriteString("\t\t\t\t\t\t<xb:itemLibrary>Hayden Library</xb:itemLibrary>\n")
	b.WriteString("\t\t\t\t\t\t<xb:itemLocation>Stacks</xb:itemLocation>\n")
	if v["due"] != omit {
		if strings.HasPrefix(v["due"], "<") {
			b.WriteString("\t\t\t\t\t\t" + v["due"] + "\n")
		} else {
			el("itemDueDate", "due")
		}
	}
	el("itemBarcode", "barcode")
	b.WriteString("\t\t\t\t\t\t<xb:compositeSum>\n")
	el("currency", "currency")
	el("sum", "sum")
	b.WriteString("\t\t\t\t\t\t</xb:compositeSum>\n")
	el("bursarTransactionId", "tx")
	b.WriteString("\t\t\t\t\t</xb:userFineFee>")
	return b.String()
}

// decoded is everything a decoder gave back for a file.
type decoded struct {
	recs         []alma.ExportRecord
	errs         []error // record errors, in order
	fatal        error   // the error that ended decoding, nil at io.EOF
	exportNumber string
}

func decodeAll(t *testing.T, r io.Reader, opts *alma.DecoderOptions) decoded {
	t.Helper()
	d := alma.NewExportDecoder(r, opts)
	var out decoded
	for range 1_000_000 {
		rec, err := d.Decode()
		switch {
		case err == io.EOF:
			out.exportNumber = d.ExportNumber()
			return out
		case errors.Is(err, alma.ErrSyntax):
			out.fatal = err
			if _, again := d.Decode(); again != err {
				t.Errorf("a second Decode after %v returned %v, want the same error", err, again)
			}
			return out
		case err != nil:
			var pe *alma.ParseError
			if !errors.As(err, &pe) {
				out.fatal = err
				return out
			}
			out.errs = append(out.errs, err)
		default:
			out.recs = append(out.recs, rec)
		}
	}
	t.Fatal("decoder did not stop")
	return out
}

func decodeString(t *testing.T, src string, opts *alma.DecoderOptions) decoded {
	t.Helper()
	return decodeAll(t, strings.NewReader(src), opts)
}

func usd(s string) fees.Money { return fees.MustParseMoney(s, fees.USD) }

func openFixture(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(mitFixture)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var ignoreLine = cmpopts.IgnoreFields(alma.ExportRecord{}, "Line")

func TestDecodeMITFixture(t *testing.T) {
	src := openFixture(t)
	got := decodeAll(t, bytes.NewReader(src), &alma.DecoderOptions{File: "mit.xml"})
	if got.fatal != nil {
		t.Fatal(got.fatal)
	}
	if got.exportNumber != "15216075870006761" {
		t.Errorf("ExportNumber = %q", got.exportNumber)
	}
	first := alma.ExportRecord{
		Patron:        alma.Patron{ID: "12345678", IDType: "02", Name: "Transfer, Bursar"},
		Type:          fees.TypeOverdueFine,
		Amount:        usd("123.45"),
		TransactionID: "15216075630006761",
		Item: fees.Item{Barcode: "39080036507785", Title: "Ecology of the saguaro /",
			CallNumber: "QK495.C11 S64 1977", Library: "Hayden Library.", Location: "Stacks"},
		Owner:           "RTC",
		LastTransaction: time.Date(2023, 9, 12, 15, 22, 6, 0, time.UTC),
		Line:            18,
	}
	if len(got.recs) != 10 || len(got.errs) != 0 {
		t.Fatalf("got %d records and errors %v, want 10 and none", len(got.recs), got.errs)
	}
	if diff := cmp.Diff(first, got.recs[0]); diff != "" {
		t.Errorf("first record (-want +got):\n%s", diff)
	}
	if title := got.recs[4].Item.Title; title != "Case studies of child play areas and child support facilities : travel and field research report /" {
		t.Errorf("wrapped title read as %q", title)
	}
	// Five fees of the second user share one bursarTransactionId, each
	// with its own fee type: five charge keys, all taken.
	var shared []string
	for _, r := range got.recs {
		if r.TransactionID == "15216075690006761" {
			if r.Patron.ID != "09876" {
				t.Errorf("shared id on user %q", r.Patron.ID)
			}
			shared = append(shared, fees.ChargeKey(r.TransactionID, r.Type))
		}
	}
	want := []string{
		"15216075690006761/OVERDUEFINE",
		"15216075690006761/OTHER",
		"15216075690006761/DAMAGEDITEMFINE",
		"15216075690006761/RECALLEDOVERDUEFINE",
		"15216075690006761/LOSTITEMPROCESSFEE",
	}
	if diff := cmp.Diff(want, shared); diff != "" {
		t.Errorf("charge keys of the shared id (-want +got):\n%s", diff)
	}
}

// TestDecodeSharedTransactionID checks that one id on fees of different
// types is taken, and that the same id and type twice is refused.
func TestDecodeSharedTransactionID(t *testing.T) {
	src := exportFile(user("U1", "One, A",
		fee("tx", "5", "type", "OVERDUEFINE"),
		fee("tx", "5", "type", "LOSTITEMPROCESSFEE"),
		fee("tx", "5", "type", "OVERDUEFINE"),
		fee("tx", "05", "type", "OVERDUEFINE"),
		fee("tx", "A5", "type", "OVERDUEFINE"),
		fee("tx", "A5", "type", "OTHER"),
		fee("tx", "A5", "type", "OTHER"),
	))
	got := decodeString(t, src, &alma.DecoderOptions{File: "x.xml"})
	if got.fatal != nil {
		t.Fatal(got.fatal)
	}
	var keys []string
	for _, r := range got.recs {
		keys = append(keys, fees.ChargeKey(r.TransactionID, r.Type))
	}
	want := []string{"5/OVERDUEFINE", "5/LOSTITEMPROCESSFEE", "05/OVERDUEFINE", "A5/OVERDUEFINE", "A5/OTHER"}
	if diff := cmp.Diff(want, keys); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
	if len(got.errs) != 2 {
		t.Fatalf("errors: %v", got.errs)
	}
	for i, err := range got.errs {
		if !errors.Is(err, alma.ErrDuplicateTransactionID) {
			t.Errorf("error %d = %v, want a duplicate", i, err)
		}
	}
	got = decodeString(t, src, &alma.DecoderOptions{AllowDuplicates: true})
	if len(got.recs) != 7 || len(got.errs) != 0 {
		t.Errorf("AllowDuplicates: %d records, errors %v", len(got.recs), got.errs)
	}
}

// TestDecodeMITFixtureAgainstMITConverter checks the fixture against what
// MIT's own converter made of it: same users, names and amounts, in order.
func TestDecodeMITFixtureAgainstMITConverter(t *testing.T) {
	got := decodeAll(t, bytes.NewReader(openFixture(t)), &alma.DecoderOptions{AllowDuplicates: true})
	if got.fatal != nil || len(got.errs) != 0 {
		t.Fatal(got.fatal, got.errs)
	}
	f, err := os.Open("testdata/bursar/mit-bursar-export.expected.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	rows = rows[1:]
	if len(rows) != len(got.recs) {
		t.Fatalf("%d records, MIT's converter made %d", len(got.recs), len(rows))
	}
	total := fees.Zero(fees.USD)
	for i, row := range rows {
		rec := got.recs[i]
		want := usd(row[4])
		if rec.Patron.ID != row[0] || rec.Patron.Name != row[1] || !rec.Amount.Equal(want) {
			t.Errorf("record %d = %s %q %s, MIT: %v", i, rec.Patron.ID, rec.Patron.Name, rec.Amount, row)
		}
		if !strings.HasPrefix(row[3], "Library") || !strings.Contains(rec.Item.Barcode, strings.Fields(row[3])[2][:13]) {
			t.Errorf("record %d barcode %s, MIT: %q", i, rec.Item.Barcode, row[3])
		}
		total, _ = total.Add(rec.Amount)
	}
	if !total.Equal(usd("579.72")) {
		t.Errorf("total %s, want 579.72", total)
	}
}

// TestDecodeChunkBoundaries reads the fixture through readers that hand
// out one byte, or half the asked bytes, at a time: every token then
// crosses a buffer boundary somewhere.
func TestDecodeChunkBoundaries(t *testing.T) {
	for file, src := range map[string][]byte{"fixture": openFixture(t), "generated": generateExport(t, 300)} {
		checkChunkBoundaries(t, file, src)
	}
}

func checkChunkBoundaries(t *testing.T, file string, src []byte) {
	want := decodeAll(t, bytes.NewReader(src), nil)
	for name, r := range map[string]io.Reader{
		"one byte": iotest.OneByteReader(bytes.NewReader(src)),
		"half":     iotest.HalfReader(bytes.NewReader(src)),
		"data+err": iotest.DataErrReader(bytes.NewReader(src)),
	} {
		t.Run(file+"/"+name, func(t *testing.T) {
			got := decodeAll(t, r, nil)
			if diff := cmp.Diff(want.recs, got.recs); diff != "" {
				t.Errorf("records (-whole +%s):\n%s", name, diff)
			}
			if len(got.errs) != len(want.errs) || got.fatal != nil {
				t.Errorf("errors %v %v, want %v", got.errs, got.fatal, want.errs)
			}
		})
	}
}

func TestDecodeQuirks(t *testing.T) {
	ist := time.FixedZone("IST", 2*3600)
	base := alma.ExportRecord{
		Patron:        alma.Patron{ID: "12345678", IDType: "02", Name: "Transfer, Bursar"},
		Type:          fees.TypeOverdueFine,
		Amount:        usd("1.00"),
		TransactionID: "1001",
		Item: fees.Item{Barcode: "39080036507785", Title: "Ecology of the saguaro /",
			CallNumber: "QK495.C11 S64 1977", Library: "Hayden Library", Location: "Stacks"},
		Owner:           "RTC",
		LastTransaction: time.Date(2023, 9, 12, 15, 22, 6, 0, time.UTC),
	}
	with := func(change func(r *alma.ExportRecord)) alma.ExportRecord {
		r := base
		change(&r)
		return r
	}
	tests := []struct {
		name string
		src  string
		opts *alma.DecoderOptions
		want alma.ExportRecord
	}{
		{"fixture-like fee", exportFile(user("12345678", "Transfer, Bursar", fee())), nil, base},
		{"call number spelled right", exportFile(user("12345678", "Transfer, Bursar", strings.Replace(fee(), "itemCallNumebr", "itemCallNumber", 2))), nil, base},
		{"empty elements", exportFile(user("12345678", "Transfer, Bursar", fee("comment", "<xb:fineFeeComment></xb:fineFeeComment>", "due", "<xb:itemDueDate/>", "title", "", "call", omit))),
			nil, with(func(r *alma.ExportRecord) { r.Item.Title, r.Item.CallNumber = "", "" })},
		{"comment and due date", exportFile(user("12345678", "Transfer, Bursar", fee("comment", "Lost in the  flood\n\t again", "due", "01/05/2024"))),
			nil, with(func(r *alma.ExportRecord) {
				r.Comment = "Lost in the flood again"
				r.Item.DueDate = time.Date(2024, 1, 5, 0, 0, 0, 0, time.UTC)
			})},
		{"InstitutionId null, owner by libraryId", exportFile(user("12345678", "Transfer, Bursar", fee("owner", "<xb:InstitutionId>null</xb:InstitutionId><xb:libraryId>1616</xb:libraryId>"))),
			nil, with(func(r *alma.ExportRecord) { r.Owner = "1616" })},
		{"no owner", exportFile(user("12345678", "Transfer, Bursar", fee("owner", omit))),
			nil, with(func(r *alma.ExportRecord) { r.Owner = "" })},
		{"non-numeric ids", exportFile(user("INST00019145", "Transfer, Bursar", fee("tx", "INST00019145-7"))),
			nil, with(func(r *alma.ExportRecord) { r.Patron.ID, r.TransactionID = "INST00019145", "INST00019145-7" })},
		{"amount without decimals", exportFile(user("12345678", "Transfer, Bursar", fee("sum", "300"))),
			nil, with(func(r *alma.ExportRecord) { r.Amount = usd("300") })},
		{"amount with one decimal", exportFile(user("12345678", "Transfer, Bursar", fee("sum", "0.8"))),
			nil, with(func(r *alma.ExportRecord) { r.Amount = usd("0.80") })},
		{"yen", exportFile(user("12345678", "Transfer, Bursar", fee("currency", "JPY", "sum", "1500"))),
			nil, with(func(r *alma.ExportRecord) { r.Amount = fees.MustParseMoney("1500", "JPY") })},
		{"date with zone suffix", exportFile(user("12345678", "Transfer, Bursar", fee("date", "03/11/2013 10:16:12 IST"))),
			nil, with(func(r *alma.ExportRecord) { r.LastTransaction = time.Date(2013, 3, 11, 10, 16, 12, 0, ist) })},
		{"zone overridden", exportFile(user("12345678", "Transfer, Bursar", fee("date", "03/11/2013 10:16:12 IST"))),
			&alma.DecoderOptions{Zones: map[string]*time.Location{"IST": time.FixedZone("IST", 5*3600+1800)}},
			with(func(r *alma.ExportRecord) {
				r.LastTransaction = time.Date(2013, 3, 11, 4, 46, 12, 0, time.UTC)
			})},
		{"numeric zone", exportFile(user("12345678", "Transfer, Bursar", fee("date", "03/11/2013 10:16:12 -05:00"))),
			nil, with(func(r *alma.ExportRecord) { r.LastTransaction = time.Date(2013, 3, 11, 15, 16, 12, 0, time.UTC) })},
		{"date in a given location", exportFile(user("12345678", "Transfer, Bursar", fee())),
			&alma.DecoderOptions{Location: time.FixedZone("PST", -8*3600)},
			with(func(r *alma.ExportRecord) { r.LastTransaction = time.Date(2023, 9, 12, 23, 22, 6, 0, time.UTC) })},
		{"credit by type", exportFile(user("12345678", "Transfer, Bursar", fee("type", "CREDIT", "sum", "5"))),
			nil, with(func(r *alma.ExportRecord) { r.Type, r.Amount = fees.TypeCredit, usd("5") })},
		{"credit by negative sum", exportFile(user("12345678", "Transfer, Bursar", fee("sum", "-5.25"))),
			nil, with(func(r *alma.ExportRecord) { r.Amount = usd("-5.25") })},
		{"entities and non-ASCII", exportFile(user("12345678", "O&apos;Brien, S&#233;amus &amp; Zo&#xEB; Łukasz",
			fee("title", "Kafka &lt;Der Proze&#223;&gt; &quot;1925&quot;", "call", "<![CDATA[PT2621.A26 <P7>]]>"))),
			nil, with(func(r *alma.ExportRecord) {
				r.Patron.Name = "O'Brien, Séamus & Zoë Łukasz"
				r.Item.Title = `Kafka <Der Prozeß> "1925"`
				r.Item.CallNumber = "PT2621.A26 <P7>"
			})},
		{"comments and processing instructions", strings.Replace(exportFile(user("12345678", "Transfer, Bursar", fee("title", "Ecology <!-- x --> of the <?pi here?>saguaro /"))), "<xb:userExportedList>", "<!-- users --><xb:userExportedList>", 1),
			nil, base},
		{"another prefix", strings.ReplaceAll(exportFile(user("12345678", "Transfer, Bursar", fee())), "xb:", "ns0:"), nil, base},
		{"default namespace", strings.ReplaceAll(strings.ReplaceAll(exportFile(user("12345678", "Transfer, Bursar", fee())), "xb:", ""), "xmlns:xb", "xmlns"), nil, base},
		{"byte order mark", "\ufeff" + exportFile(user("12345678", "Transfer, Bursar", fee())), nil, base},
		{"CRLF line ends", strings.ReplaceAll(exportFile(user("12345678", "Transfer, Bursar", fee())), "\n", "\r\n"), nil, base},
		{"single quotes and spaces in tags", strings.Replace(exportFile(user("12345678", "Transfer, Bursar", fee())), `<xb:userFineFee>`, `<xb:userFineFee a = 'x' >`, 1), nil, base},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := decodeString(t, tt.src, tt.opts)
			if got.fatal != nil || len(got.errs) > 0 {
				t.Fatalf("errors: %v %v", got.fatal, got.errs)
			}
			if len(got.recs) != 1 {
				t.Fatalf("got %d records, want 1", len(got.recs))
			}
			if diff := cmp.Diff(tt.want, got.recs[0], ignoreLine); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if !got.recs[0].LastTransaction.Equal(tt.want.LastTransaction) || got.recs[0].LastTransaction.Location().String() != tt.want.LastTransaction.Location().String() && tt.name == "date with zone suffix" {
				t.Errorf("LastTransaction = %v, want %v", got.recs[0].LastTransaction, tt.want.LastTransaction)
			}
			if got.exportNumber != "42" {
				t.Errorf("ExportNumber = %q", got.exportNumber)
			}
		})
	}
}

// TestDecodeRecordErrors puts one bad fee between two good ones: the bad
// one comes back as a *ParseError naming its line, user and transaction,
// and the good ones still come through.
func TestDecodeRecordErrors(t *testing.T) {
	tests := []struct {
		name   string
		bad    string
		cause  error
		line   int // line of the offending element, counted from the bad fee's start tag
		txID   string
		noUser bool
	}{
		{"missing sum", fee("tx", "7", "sum", omit), alma.ErrAmount, 0, "7", false},
		{"empty sum", fee("tx", "7", "sum", ""), alma.ErrAmount, 13, "7", false},
		{"nil sum", strings.Replace(fee("tx", "7"), "<xb:sum>1.00</xb:sum>", `<xb:sum xsi:nil="true" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>`, 1), alma.ErrAmount, 13, "7", false},
		{"letters in sum", fee("tx", "7", "sum", "12,50"), alma.ErrAmount, 13, "7", false},
		{"exponent", fee("tx", "7", "sum", "1e3"), alma.ErrAmount, 13, "7", false},
		{"too many decimals", fee("tx", "7", "sum", "12.345"), alma.ErrAmount, 13, "7", false},
		{"decimals for yen", fee("tx", "7", "currency", "JPY", "sum", "12.5"), alma.ErrAmount, 13, "7", false},
		{"zero", fee("tx", "7", "sum", "0.00"), alma.ErrAmount, 13, "7", false},
		{"negative zero", fee("tx", "7", "sum", "-0"), alma.ErrAmount, 13, "7", false},
		{"space in sum", fee("tx", "7", "sum", "1 000"), alma.ErrAmount, 13, "7", false},
		{"unknown currency", fee("tx", "7", "currency", "XYZ"), alma.ErrCurrency, 12, "7", false},
		{"missing currency", fee("tx", "7", "currency", omit), alma.ErrCurrency, 0, "7", false},
		{"missing transaction id", fee("tx", omit), alma.ErrMissingTransactionID, 0, "", false},
		{"empty transaction id", fee("tx", " "), alma.ErrMissingTransactionID, 0, "", false},
		{"duplicate transaction id", fee("tx", "1"), alma.ErrDuplicateTransactionID, 15, "1", false},
		{"missing fee type", fee("tx", "7", "type", omit), alma.ErrFeeType, 0, "7", false},
		{"bad date", fee("tx", "7", "date", "2023-09-12T15:22:06"), alma.ErrDate, 4, "7", false},
		{"impossible date", fee("tx", "7", "date", "02/30/2023 10:00:00"), alma.ErrDate, 4, "7", false},
		{"unknown zone", fee("tx", "7", "date", "02/03/2023 10:00:00 XYZT"), alma.ErrDate, 4, "7", false},
		{"bad due date", fee("tx", "7", "due", "soon"), alma.ErrDate, 9, "7", false},
		{"element twice", strings.Replace(fee("tx", "7"), "<xb:sum>1.00</xb:sum>", "<xb:sum>1.00</xb:sum><xb:sum>2.00</xb:sum>", 1), alma.ErrStructure, 13, "7", false},
		{"element in a text field", fee("tx", "7", "title", "a <xb:b>c</xb:b>"), alma.ErrStructure, 5, "7", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := exportFile(user("U1", "One, A", fee("tx", "1"), tt.bad, fee("tx", "3")))
			second := strings.Index(src, "<xb:userFineFee>") + 1
			second += strings.Index(src[second:], "<xb:userFineFee>")
			start := 1 + strings.Count(src[:second], "\n")
			got := decodeString(t, src, &alma.DecoderOptions{File: "x.xml"})
			if got.fatal != nil {
				t.Fatal(got.fatal)
			}
			if len(got.recs) != 2 || got.recs[0].TransactionID != "1" || got.recs[1].TransactionID != "3" {
				t.Errorf("good records: %+v", got.recs)
			}
			if len(got.errs) != 1 {
				t.Fatalf("errors: %v", got.errs)
			}
			err := got.errs[0]
			var pe *alma.ParseError
			if !errors.As(err, &pe) || !errors.Is(err, tt.cause) {
				t.Fatalf("error %v, want a *ParseError with %v", err, tt.cause)
			}
			want := alma.ParseError{File: "x.xml", Line: start + tt.line, User: "U1", TransactionID: tt.txID}
			if pe.File != want.File || pe.Line != want.Line || pe.User != want.User || pe.TransactionID != want.TransactionID {
				t.Errorf("error %q: got file %q line %d user %q tx %q, want %+v", err, pe.File, pe.Line, pe.User, pe.TransactionID, want)
			}
			if !strings.Contains(err.Error(), "x.xml") || !strings.Contains(err.Error(), fmt.Sprintf("line %d", want.Line)) {
				t.Errorf("message %q does not name the file and line", err)
			}
		})
	}
}

func TestDecodeAmountErrorKeepsDomainCode(t *testing.T) {
	got := decodeString(t, exportFile(user("U1", "One, A", fee("sum", "12.345"))), nil)
	if len(got.errs) != 1 || fees.ErrorCode(got.errs[0]) != fees.EINVALID {
		t.Errorf("errors %v, want one with code %s", got.errs, fees.EINVALID)
	}
}

func TestDecodeFeeOutsideUser(t *testing.T) {
	src := exportFile(user("", "Nobody", fee("tx", "1")), fee("tx", "2"))
	got := decodeString(t, src, nil)
	if got.fatal != nil || len(got.recs) != 0 || len(got.errs) != 2 {
		t.Fatalf("got %+v", got)
	}
	for _, err := range got.errs {
		if !errors.Is(err, alma.ErrMissingUser) {
			t.Errorf("error %v, want ErrMissingUser", err)
		}
	}
}

func TestDecodeSyntaxErrors(t *testing.T) {
	good := exportFile(user("U1", "One, A", fee("tx", "1")))
	deep := strings.Repeat("<a>", 40) + strings.Repeat("</a>", 40)
	tests := []struct {
		name string
		src  string
		line int
		msg  string
	}{
		{"empty", "", 1, "no root element"},
		{"only a declaration", `<?xml version="1.0"?>` + "\n", 2, "no root element"},
		{"mismatched tag", strings.Replace(good, "</xb:itemTitle>", "</xb:itemtitle>", 1), 21, "does not match <xb:itemTitle> opened on line 21"},
		{"unterminated element", good[:strings.Index(good, "<xb:bursarTransactionId>")], 31, "<xb:userFineFee> opened on line 16 is not closed"},
		{"end of file in a tag", good[:strings.Index(good, "<xb:bursarTransactionId>")+5], 31, "unexpected end of file inside markup"},
		{"unknown entity", strings.Replace(good, "One, A", "One &nbsp; A", 1), 14, "invalid entity reference &nbsp;"},
		{"entity without semicolon", strings.Replace(good, "One, A", "One & A", 1), 14, "unterminated entity"},
		{"NUL reference", strings.Replace(good, "One, A", "One&#0;", 1), 14, "not a legal XML character"},
		{"surrogate reference", strings.Replace(good, "One, A", "One&#xD800;", 1), 14, "not a legal XML character"},
		{"DOCTYPE", `<?xml version="1.0"?>` + "\n" + `<!DOCTYPE x [<!ENTITY a "aaaa">]>` + "\n<x>&a;</x>", 2, "DOCTYPE is not allowed"},
		{"too deep", deep, 1, "nested deeper than 32"},
		{"text outside the root", good + "trailing", 38, "text outside the root element"},
		{"two roots", good + "<x/>", 38, "second root element"},
		{"invalid UTF-8", strings.Replace(good, "One, A", "One \xff", 1), 14, "invalid UTF-8"},
		{"control character", strings.Replace(good, "One, A", "One \x01", 1), 14, "illegal character code U+0001"},
		{"unquoted attribute", strings.Replace(good, "<xb:userFineFee>", "<xb:userFineFee a=b>", 1), 16, "not quoted"},
		{"attribute without value", strings.Replace(good, "<xb:userFineFee>", "<xb:userFineFee checked>", 1), 16, "has no value"},
		{"< in attribute", strings.Replace(good, "<xb:userFineFee>", `<xb:userFineFee a="<">`, 1), 16, "'<' in the value"},
		{"double hyphen in comment", strings.Replace(good, "<xb:userFineFee>", "<!-- a -- b --><xb:userFineFee>", 1), 16, `"--" inside a comment`},
		{"declaration not first", "\n" + good, 2, "XML declaration must come first"},
		{"other encoding", strings.Replace(good, "UTF-8", "ISO-8859-1", 1), 1, `unsupported encoding "ISO-8859-1"`},
		{"bad name", strings.Replace(good, "<xb:userFineFee>", "<1x>", 1), 16, "at the start of a name"},
		{"end tag without start", "<a></a></b>", 1, "end tag </b> without a start tag"},
		{"unknown markup", strings.Replace(good, "<xb:userFineFee>", "<!ELEMENT x>", 1), 16, "unexpected markup"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := decodeString(t, tt.src, &alma.DecoderOptions{File: "bad.xml"})
			var pe *alma.ParseError
			if !errors.As(got.fatal, &pe) || !errors.Is(got.fatal, alma.ErrSyntax) {
				t.Fatalf("got %v, want a syntax error", got.fatal)
			}
			if pe.Line != tt.line || !strings.Contains(pe.Error(), tt.msg) || pe.File != "bad.xml" {
				t.Errorf("got %q (line %d), want line %d and %q", pe, pe.Line, tt.line, tt.msg)
			}
		})
	}
}

func TestDecodeSyntaxErrorAfterGoodRecords(t *testing.T) {
	src := exportFile(user("U1", "One, A", fee("tx", "1"), fee("tx", "2")))
	src = src[:strings.LastIndex(src, "<xb:bursarTransactionId>")] + "<oops"
	got := decodeString(t, src, nil)
	if len(got.recs) != 1 || got.fatal == nil {
		t.Fatalf("got %d records and %v, want 1 record and a syntax error", len(got.recs), got.fatal)
	}
	var pe *alma.ParseError
	if errors.As(got.fatal, &pe); pe.User != "U1" {
		t.Errorf("syntax error %+v does not name the user", pe)
	}
}

func TestDecodeReadError(t *testing.T) {
	boom := errors.New("connection reset")
	src := openFixture(t)
	r := io.MultiReader(bytes.NewReader(src[:5000]), iotest.ErrReader(boom))
	got := decodeAll(t, r, &alma.DecoderOptions{File: "mit.xml"})
	if !errors.Is(got.fatal, boom) || !strings.Contains(got.fatal.Error(), "mit.xml") {
		t.Errorf("got %v, want the read error naming the file", got.fatal)
	}
}

func TestDecodeLongToken(t *testing.T) {
	long := strings.Repeat("x", 2<<20)
	got := decodeString(t, exportFile(user("U1", "One, A", fee("title", long))), nil)
	if got.fatal == nil || !strings.Contains(got.fatal.Error(), "token longer than") {
		t.Errorf("got %v, want a token-too-long error", got.fatal)
	}
	// Text just under the limit is fine.
	ok := strings.Repeat("y", 500<<10)
	got = decodeString(t, exportFile(user("U1", "One, A", fee("title", ok))), nil)
	if got.fatal != nil || len(got.recs) != 1 || got.recs[0].Item.Title != ok {
		t.Errorf("long title: %v", got.fatal)
	}
}

func TestExportRecordFeeAndCredit(t *testing.T) {
	when := time.Date(2024, 1, 15, 18, 0, 3, 0, time.UTC)
	debit := alma.ExportRecord{
		Patron: alma.Patron{ID: "W1234567"}, Type: fees.TypeLostItemReplacementFee, Amount: usd("85.00"),
		TransactionID: "9001", Item: fees.Item{Barcode: "B1"}, Owner: "MAIN", Comment: "lost", LastTransaction: when,
	}
	if debit.IsCredit() {
		t.Error("debit is a credit")
	}
	f, err := debit.Fee()
	if err != nil {
		t.Fatal(err)
	}
	if f.ID != "9001" || f.TransactionID != "9001" || f.UserID != "W1234567" || f.Status != fees.StatusTransferred ||
		!f.Original.Equal(debit.Amount) || !f.Balance.Equal(debit.Amount) || !f.Transferred.Equal(debit.Amount) ||
		f.Item.Barcode != "B1" || f.Owner != "MAIN" || f.Comment != "lost" {
		t.Errorf("Fee() = %+v", f)
	}
	if err := f.Check(); err != nil {
		t.Error(err)
	}
	if _, err := debit.Credit(); fees.ErrorCode(err) != fees.EINVALID {
		t.Errorf("Credit() of a debit: %v", err)
	}

	for _, credit := range []alma.ExportRecord{
		{Patron: alma.Patron{ID: "W1"}, Type: fees.TypeCredit, Amount: usd("5.00"), TransactionID: "c1", Comment: "waived", LastTransaction: when},
		{Patron: alma.Patron{ID: "W1"}, Type: fees.TypeOverdueFine, Amount: usd("-5.00"), TransactionID: "c1", Comment: "waived", LastTransaction: when},
	} {
		if !credit.IsCredit() {
			t.Errorf("%+v is not a credit", credit)
		}
		c, err := credit.Credit()
		if err != nil {
			t.Fatal(err)
		}
		want := fees.Credit{Key: "c1", UserID: "W1", Type: credit.Type, Amount: usd("5.00"), Reason: "waived", Date: when}
		if diff := cmp.Diff(want, c); diff != "" {
			t.Errorf("Credit() (-want +got):\n%s", diff)
		}
		if _, err := credit.Fee(); fees.ErrorCode(err) != fees.EINVALID {
			t.Errorf("Fee() of a credit: %v", err)
		}
	}
}

// sampleRecords are records of every shape an encoder must carry.
func sampleRecords() []alma.ExportRecord {
	when := time.Date(2024, 1, 15, 18, 0, 3, 0, time.UTC)
	return []alma.ExportRecord{
		{Patron: alma.Patron{ID: "W0001", IDType: "02", Name: "Ávila, Zoë"}, Type: fees.TypeOverdueFine, Amount: usd("0.82"),
			TransactionID: "15216075630006761", Item: fees.Item{Barcode: "39080036507785", Title: `Tom & Jerry <"1940">`,
				CallNumber: "QK495.C11 S64 1977", Library: "Hayden Library", Location: "Stacks", DueDate: when.AddDate(0, 0, -30)},
			Owner: "RTC", Comment: "renewed twice", LastTransaction: when},
		{Patron: alma.Patron{ID: "W0001", IDType: "02", Name: "Ávila, Zoë"}, Type: fees.TypeLostItemReplacementFee, Amount: usd("300"),
			TransactionID: "INST00019145", LastTransaction: when.Add(time.Hour)},
		{Patron: alma.Patron{ID: "W0002"}, Type: fees.TypeCredit, Amount: usd("-12.50"), TransactionID: "c-77"},
		{Patron: alma.Patron{ID: "W0001", IDType: "02", Name: "Ávila, Zoë"}, Type: "INSTITUTIONFEE", Amount: fees.MustParseMoney("1500", "JPY"), TransactionID: "9"},
	}
}

func TestExportEncoderRoundTrip(t *testing.T) {
	want := sampleRecords()
	var buf bytes.Buffer
	e := alma.NewExportEncoder(&buf, "77", nil)
	for _, r := range want {
		if err := e.Encode(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "<xb:userExportedFineFeesList>"); n != 3 {
		t.Errorf("%d user elements, want 3 (consecutive records of one patron share one)", n)
	}
	got := decodeAll(t, &buf, nil)
	if got.fatal != nil || len(got.errs) > 0 {
		t.Fatal(got.fatal, got.errs)
	}
	if diff := cmp.Diff(want, got.recs, ignoreLine); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if got.exportNumber != "77" {
		t.Errorf("ExportNumber = %q", got.exportNumber)
	}
}

func TestEncoderLocation(t *testing.T) {
	pst := time.FixedZone("PST", -8*3600)
	r := sampleRecords()[0]
	rec := alma.ImportRecord{Patron: r.Patron, Type: r.Type, Amount: r.Amount, TransactionID: r.TransactionID,
		LastTransaction: r.LastTransaction}
	var buf bytes.Buffer
	e := alma.NewImportEncoder(&buf, &alma.EncoderOptions{Location: pst})
	if err := e.Encode(rec); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "<xb:lastTransactionDate>01/15/2024 10:00:03</xb:lastTransactionDate>") {
		t.Errorf("date not written in the location:\n%s", buf.String())
	}
	got := decodeAll(t, &buf, &alma.DecoderOptions{Location: pst})
	if len(got.recs) != 1 || !got.recs[0].LastTransaction.Equal(rec.LastTransaction) {
		t.Errorf("got %+v", got)
	}
}

func TestImportEncoder(t *testing.T) {
	pay := func(user, tx, amount string) alma.ImportRecord {
		return alma.ImportRecord{Patron: alma.Patron{ID: user, IDType: "02"}, Type: fees.TypeOverdueFine, Amount: usd(amount), TransactionID: tx,
			LastTransaction: time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)}
	}
	undated, far := pay("W1", "100", "1"), pay("W1", "100", "1")
	undated.LastTransaction, far.LastTransaction = time.Time{}, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	var buf bytes.Buffer
	e := alma.NewImportEncoder(&buf, nil)
	for _, r := range []alma.ImportRecord{pay("W1", "100", "5.00"), pay("W1", "100", "2.50"), pay("W2", "200", "10")} {
		if err := e.Encode(r); err != nil {
			t.Fatal(err)
		}
	}
	for _, bad := range []alma.ImportRecord{pay("W1", "100", "-1.00"), pay("", "100", "1"), pay("W1", "", "1"),
		{Patron: alma.Patron{ID: "W1"}, TransactionID: "1", Amount: usd("1")},
		{Patron: alma.Patron{ID: "W1"}, TransactionID: "1", Type: "X"},
		{Patron: alma.Patron{ID: "W1\x00"}, TransactionID: "1", Type: "X", Amount: usd("1")},
		{Patron: alma.Patron{ID: "W1"}, TransactionID: "1", Type: "X", Amount: usd("1"), Comment: "\xff"},
		undated, far, // a date the file cannot carry: never xsi:nil
	} {
		if err := e.Encode(bad); !errors.Is(err, alma.ErrRecord) {
			t.Errorf("Encode(%+v) = %v, want ErrRecord", bad, err)
		}
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if strings.Contains(out, "exportNumber") {
		t.Error("an import file has no export number")
	}
	if n := strings.Count(out, "<xb:userExportedFineFeesList>"); n != 2 {
		t.Errorf("%d user elements, want 2", n)
	}
	// Two payments on one fee are legal in an import file.
	got := decodeAll(t, strings.NewReader(out), &alma.DecoderOptions{AllowDuplicates: true})
	if len(got.recs) != 3 || len(got.errs) != 0 || got.fatal != nil || got.exportNumber != "" {
		t.Fatalf("got %+v", got)
	}
	if !got.recs[1].Amount.Equal(usd("2.50")) || got.recs[1].TransactionID != "100" {
		t.Errorf("second payment: %+v", got.recs[1])
	}
	if err := e.Encode(pay("W3", "300", "1")); err == nil {
		t.Error("Encode after Close succeeded")
	}
}

func TestEncoderEmptyFile(t *testing.T) {
	var buf bytes.Buffer
	if err := alma.NewExportEncoder(&buf, "1", nil).Close(); err != nil {
		t.Fatal(err)
	}
	got := decodeAll(t, &buf, nil)
	if got.fatal != nil || len(got.recs) != 0 || got.exportNumber != "1" {
		t.Errorf("got %+v", got)
	}
}

type failingWriter struct{ after int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.after <= 0 {
		return 0, errors.New("disk full")
	}
	w.after--
	return len(p), nil
}

func TestEncoderWriteError(t *testing.T) {
	e := alma.NewExportEncoder(&failingWriter{}, "1", nil)
	var err error
	for i := range 200 {
		rec := sampleRecords()[0]
		rec.TransactionID = fmt.Sprint(i)
		if err = e.Encode(rec); err != nil {
			break
		}
	}
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Encode: %v, want the write error", err)
	}
	if cerr := e.Close(); cerr == nil || cerr.Error() != "disk full" {
		t.Errorf("Close: %v, want the first write error", cerr)
	}
}

func TestDecodeQuirksFile(t *testing.T) {
	f, err := os.Open("testdata/bursar/quirks.xml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := decodeAll(t, f, nil)
	if got.fatal != nil || len(got.errs) > 0 {
		t.Fatal(got.fatal, got.errs)
	}
	patron := alma.Patron{ID: "INST00019145", IDType: "OTHER_ID_1", Name: "O'Brien, Séamus & Zoë Łukasz"}
	want := []alma.ExportRecord{
		{Patron: patron, Type: fees.TypeLostItemReplacementFee, Amount: usd("300"), TransactionID: "INST00019145-0001",
			Item: fees.Item{Barcode: "39080002699707", Title: `Kafka <Der Prozeß> — a "novel"`, CallNumber: "PT2621.A26 P7",
				DueDate: time.Date(2013, 2, 1, 0, 0, 0, 0, time.UTC)},
			Owner: "161686070006761", Comment: "Lost in the flood",
			LastTransaction: time.Date(2013, 3, 11, 8, 16, 12, 0, time.UTC)},
		{Patron: patron, Type: fees.TypeCredit, Amount: usd("12.50"), TransactionID: "15216075990006761",
			LastTransaction: time.Date(2013, 3, 12, 9, 0, 0, 0, time.UTC)},
		{Patron: patron, Type: fees.TypeOverdueFine, Amount: usd("-0.82"), TransactionID: "15216075980006761",
			LastTransaction: time.Date(2013, 3, 12, 14, 0, 0, 0, time.UTC)},
	}
	if diff := cmp.Diff(want, got.recs, ignoreLine); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for i, r := range got.recs {
		if r.IsCredit() != (i > 0) {
			t.Errorf("record %d: IsCredit() = %v", i, r.IsCredit())
		}
	}
	if got.exportNumber != "1234567890006761" {
		t.Errorf("ExportNumber = %q", got.exportNumber)
	}
}

func TestDecodeBadRecordsFile(t *testing.T) {
	f, err := os.Open("testdata/bursar/bad-records.xml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := decodeAll(t, f, &alma.DecoderOptions{File: "bad-records.xml"})
	if got.fatal != nil {
		t.Fatal(got.fatal)
	}
	var ids []string
	for _, r := range got.recs {
		ids = append(ids, r.TransactionID)
	}
	if diff := cmp.Diff([]string{"1", "8"}, ids); diff != "" {
		t.Errorf("good records (-want +got):\n%s", diff)
	}
	causes := []error{alma.ErrAmount, alma.ErrCurrency, alma.ErrAmount, alma.ErrMissingTransactionID, alma.ErrDuplicateTransactionID, alma.ErrAmount}
	if len(got.errs) != len(causes) {
		t.Fatalf("errors: %v", got.errs)
	}
	for i, err := range got.errs {
		var pe *alma.ParseError
		if !errors.Is(err, causes[i]) || !errors.As(err, &pe) || pe.Line != 11+i || pe.User != "W1" {
			t.Errorf("error %d = %v, want %v on line %d", i, err, causes[i], 11+i)
		}
	}
}

func TestExportEncoderBadExportNumber(t *testing.T) {
	e := alma.NewExportEncoder(io.Discard, "12\x00", nil)
	if err := e.Encode(sampleRecords()[0]); !errors.Is(err, alma.ErrRecord) {
		t.Errorf("Encode: %v, want ErrRecord", err)
	}
	if err := e.Close(); !errors.Is(err, alma.ErrRecord) {
		t.Errorf("Close: %v, want ErrRecord", err)
	}
}

func TestIsFileError(t *testing.T) {
	f, err := os.Open("testdata/bursar/bad-records.xml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := decodeAll(t, f, nil)
	for _, err := range got.errs {
		if alma.IsFileError(err) {
			t.Errorf("record error %v taken for a file error", err)
		}
	}
	syntax := decodeString(t, "<a></b>", nil)
	if !alma.IsFileError(syntax.fatal) {
		t.Errorf("malformed XML: %v is not a file error", syntax.fatal)
	}
	boom := errors.New("connection reset")
	read := decodeAll(t, io.MultiReader(bytes.NewReader(openFixture(t)[:5000]), iotest.ErrReader(boom)), nil)
	if !alma.IsFileError(read.fatal) {
		t.Errorf("read error: %v is not a file error", read.fatal)
	}
	if alma.IsFileError(io.EOF) || alma.IsFileError(nil) {
		t.Error("io.EOF or nil taken for a file error")
	}
}

func TestParseErrorMasksUser(t *testing.T) {
	err := &alma.ParseError{File: "f.xml", Line: 3, User: "12345678", TransactionID: "T1", Err: alma.ErrAmount}
	want := "alma: bursar file f.xml, line 3, user *****678, transaction T1: bad amount"
	if got := err.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

// TestRefundRecordIsACredit: a record of a refund type is money given
// back (R8), never a charge, whatever the sign of its sum.
func TestRefundRecordIsACredit(t *testing.T) {
	for _, sum := range []string{"-30.00", "30.00"} {
		r := alma.ExportRecord{Type: fees.TypeReplacementFeeRefund, Amount: usd(sum), TransactionID: "T1",
			Patron: alma.Patron{ID: "S1"}}
		if !r.IsCredit() {
			t.Errorf("refund of %s is not a credit", sum)
		}
		if _, err := r.Fee(); fees.ErrorCode(err) != fees.EINVALID {
			t.Errorf("refund of %s as a fee: %v", sum, err)
		}
		c, err := r.Credit()
		if err != nil || !c.Amount.Equal(usd("30.00")) || c.Type != fees.TypeReplacementFeeRefund {
			t.Errorf("refund of %s as a credit: %+v, %v", sum, c, err)
		}
	}
}
