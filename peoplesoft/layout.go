package peoplesoft

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/BurntSushi/toml"

	"github.com/feebridge/feebridge/fees"
)

// The file kinds a [Layout] describes.
const (
	KindCharges  = "charges"  // the charge/credit file feebridge sends to PeopleSoft
	KindPayments = "payments" // the payment file PeopleSoft sends back
	KindResults  = "results"  // the results of PeopleSoft's load of a charge file, line by line
)

// The record formats.
const (
	FormatFixed = "fixed" // positional records, one per line
	FormatCSV   = "csv"   // delimited records (RFC 4180 quoting)
)

// The justifications of a fixed-width field.
const (
	JustifyLeft  = "left"
	JustifyRight = "right"
)

// The ways an amount field carries its sign.
const (
	// SignMinus writes a leading "-" on negative amounts and nothing on
	// positive ones. It is the default.
	SignMinus = "minus"
	// SignAlways writes a leading "+" or "-".
	SignAlways = "always"
	// SignNone writes no sign: a negative amount is an error.
	SignNone = "none"
	// SignSeparate puts the sign ("+" or "-") in its own field, named
	// after the amount field with "_SIGN" appended (AMOUNT_SIGN).
	SignSeparate = "separate"
)

// Layout describes one campus's file: its format and its header, detail
// and trailer records. A Layout is plain data that decodes from TOML (see
// [LoadLayout]); build one in Go or start from [ReferenceChargeLayout] or
// [ReferencePaymentLayout].
//
// Call [Layout.Validate] after changing a Layout by hand; the encoders and
// decoders validate it again and refuse an invalid one.
type Layout struct {
	// Name is a label for messages, such as "reference charges".
	Name string `toml:"name,omitempty"`
	// Kind is what the file carries: "charges", "payments" or "results".
	Kind string `toml:"kind,omitempty"`
	// Format is "fixed" or "csv".
	Format string `toml:"format,omitempty"`
	// Delimiter separates CSV fields; the default is ",".
	Delimiter string `toml:"delimiter,omitempty"`
	// LineEnd ends every record written: "\n" (the default) or "\r\n".
	// Decoders accept both.
	LineEnd string `toml:"line_end,omitempty"`
	// Currency of the amounts; the default is USD.
	Currency string `toml:"currency,omitempty"`
	// ColumnNames, for CSV, means the first row holds the detail fields'
	// names. Decoders match columns by name, in any order; extra columns
	// are ignored.
	ColumnNames bool `toml:"column_names,omitempty"`
	// Header, Detail and Trailer are the record specifications. Detail is
	// required; a file has at most one header (its first record) and one
	// trailer (its last record).
	Header  *Record `toml:"header,omitempty"`
	Detail  Record  `toml:"detail,omitempty"`
	Trailer *Record `toml:"trailer,omitempty"`
	// TrailerOptional means a file may end without the trailer: when it
	// has one, its control values are checked as always; when it has
	// none, nothing is. Encoders write an optional trailer only when told
	// to ([PaymentEncoder.WithTrailer]). The reference payment layout's
	// trailer is optional.
	TrailerOptional bool `toml:"trailer_optional,omitempty"`
}

// Record is one record type of a layout: its fields, in order.
//
// In a fixed-width layout the fields must tile the record without gaps or
// overlaps: the first starts at column 1 and each starts where the one
// before it ends. Use a FILLER field for unused columns. In a CSV layout
// the fields are the columns in order and Start is not used.
type Record struct {
	// Length, when set, is the record's width in a fixed-width layout; it
	// must equal the end of the last field.
	Length int     `toml:"length,omitzero"`
	Fields []Field `toml:"fields,omitempty"`
}

// Field is one field of a record.
//
// Which names a record may use depends on the file kind and the record:
//
//   - charge detail: EMPLID, ITEM_TYPE, ITEM_TERM, DUE_DT, REF1_DESCR,
//     DESCR, AMOUNT (signed: a negative amount is a credit), AMOUNT_SIGN,
//     BUSINESS_UNIT (the college's SF business unit, [Charge.BusinessUnit]);
//   - payment detail: EMPLID, REF1_DESCR, ITEM_TYPE, ITEM_TERM,
//     CHARGE_AMT, PAID_AMT, PAID_DATE, CHANNEL, METHOD, RECEIPT_NBR, and
//     their _SIGN fields for amounts;
//   - results detail: REF1_DESCR, ITEM_TYPE, STATUS (the load's verdict
//     on the line: see Values), MESSAGE (why it was refused), EMPLID,
//     ITEM_TERM, AMOUNT (signed, as sent) and AMOUNT_SIGN;
//   - header: CREATED_DATE, CREATED_TIME (the file's creation time, each
//     in its own Format);
//   - trailer (control values, written by encoders and checked by
//     decoders): RECORD_COUNT (detail records), TOTAL (the signed sum of
//     AMOUNT, or of PAID_AMT in a payment file), TOTAL_SIGN, DEBIT_TOTAL
//     and CREDIT_TOTAL (the sums of the positive and of the negative
//     amounts, both written without a sign);
//   - any record: FILLER (written as pad characters, ignored when read),
//     and any name at all for a field with a Const value.
type Field struct {
	// Name says what the field holds; see the list above.
	Name string `toml:"name,omitempty"`
	// Start is the 1-based column where a fixed-width field begins.
	Start int `toml:"start,omitzero"`
	// Length is a fixed-width field's width. In CSV it is the longest
	// value allowed (0: no limit).
	Length int `toml:"length,omitzero"`
	// Justify is "left" or "right". Text defaults to left, numbers to
	// right.
	Justify string `toml:"justify,omitempty"`
	// Pad is the one character that fills the rest of a fixed-width
	// field. Text defaults to " ", numbers to "0".
	Pad string `toml:"pad,omitempty"`
	// Const, when set, is the field's literal value: written as is and
	// required when read. Record types are told apart by their Const
	// fields (such as "H", "D", "T" in column 1).
	Const string `toml:"const,omitempty"`
	// Format is the Go time layout of a date or time field, such as
	// "20060102", "2006-01-02" or "150405".
	Format string `toml:"format,omitempty"`
	// Decimals is the number of digits after the decimal point of an
	// amount; the default is the currency's minor units (2 for USD).
	Decimals *int `toml:"decimals,omitempty"`
	// ImpliedDecimal writes amounts without a point: 12.50 is "1250" and
	// the last Decimals digits are the fraction.
	ImpliedDecimal bool `toml:"implied_decimal,omitempty"`
	// Sign is how an amount carries its sign: "minus" (the default),
	// "always", "none" or "separate".
	Sign string `toml:"sign,omitempty"`
	// Signs, for a sign field (AMOUNT_SIGN, TOTAL_SIGN, …), are the two
	// characters it writes for a positive and for a negative amount, such
	// as "DC" (debit, credit) or " -"; the default is "+-".
	Signs string `toml:"signs,omitempty"`
	// Values, for a results file's STATUS field, are the two values it
	// holds for a line the load accepted and for one it refused; the
	// default is ["POSTED", "ERROR"]. Any other value is an error.
	Values []string `toml:"values,omitempty"`
	// Truncate lets a text field that is not a key (DESCR only) be cut
	// to Length instead of refusing the record. Keys are never cut.
	Truncate bool `toml:"truncate,omitempty"`
	// Codes, for CHANNEL and METHOD, are the file's own codes for the
	// values feebridge knows, such as { CREDIT_CARD = "CC", CASH = "CA" }:
	// written instead of the name and read back to it. A value left out
	// is written by its name. Each code must differ from the others.
	Codes map[string]string `toml:"codes,omitempty"`
}

// codeNames are the values a field with Codes knows, by field role.
var codeNames = map[role][]string{
	roleChannel: {"ESERVICES", "CASHIER"},
	roleMethod:  {"CREDIT_CARD", "CASH", "CHECK"},
}

// LoadLayout reads a layout written in TOML from r and validates it.
// Unknown keys are errors; errors name the key, and the line when the TOML
// parser reports one.
func LoadLayout(r io.Reader) (*Layout, error) {
	data, err := io.ReadAll(io.LimitReader(r, 1<<20+1))
	if err != nil {
		return nil, fmt.Errorf("peoplesoft: read layout: %w", err)
	}
	if len(data) > 1<<20 {
		return nil, errors.New("peoplesoft: layout: larger than 1 MiB")
	}
	return decodeLayout("layout", data)
}

// LoadLayoutFile reads and validates the TOML layout in the file at path.
func LoadLayoutFile(path string) (*Layout, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("peoplesoft: %w", err)
	}
	return decodeLayout(path, data)
}

func decodeLayout(name string, data []byte) (*Layout, error) {
	var l Layout
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&l)
	if err != nil {
		// The parser's message names the line and the last key.
		return nil, fmt.Errorf("peoplesoft: %s: %w", name, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return nil, fmt.Errorf("peoplesoft: %s: unknown key %s", name, strings.Join(keys, ", "))
	}
	if err := l.Validate(); err != nil {
		return nil, fmt.Errorf("peoplesoft: %s: %w", name, err)
	}
	return &l, nil
}

// Validate checks the layout and returns an error naming the first bad
// key, such as `detail.fields[3] (AMOUNT): overlaps ITEM_TYPE`.
func (l *Layout) Validate() error {
	_, err := compile(l)
	return err
}

// roles of fields, resolved once when a layout is compiled.
type role int

const (
	roleConst role = iota
	roleFiller
	roleEmplID
	roleItemType
	roleTerm
	roleDueDate
	roleRef
	roleDescr
	roleAmount
	roleChargeAmt
	rolePaidAmt
	rolePaidDate
	roleChannel
	roleMethod
	roleReceipt
	roleBusinessUnit
	roleSign
	roleCreated
	roleCount
	roleTotal
	roleDebitTotal
	roleCreditTotal
	roleStatus
	roleMessage
)

type fieldKind int

const (
	kindText fieldKind = iota
	kindKey            // text that identifies something: never cut, never altered
	kindAmount
	kindDate
	kindCount
	kindSign
)

var (
	chargeDetailNames = map[string]role{
		"EMPLID": roleEmplID, "ITEM_TYPE": roleItemType, "ITEM_TERM": roleTerm,
		"DUE_DT": roleDueDate, "REF1_DESCR": roleRef, "DESCR": roleDescr,
		"AMOUNT": roleAmount, "AMOUNT_SIGN": roleSign, "BUSINESS_UNIT": roleBusinessUnit,
	}
	paymentDetailNames = map[string]role{
		"EMPLID": roleEmplID, "REF1_DESCR": roleRef, "ITEM_TYPE": roleItemType,
		"ITEM_TERM": roleTerm, "CHARGE_AMT": roleChargeAmt, "PAID_AMT": rolePaidAmt,
		"PAID_DATE": rolePaidDate, "CHANNEL": roleChannel, "METHOD": roleMethod,
		"RECEIPT_NBR": roleReceipt, "CHARGE_AMT_SIGN": roleSign, "PAID_AMT_SIGN": roleSign,
	}
	resultDetailNames = map[string]role{
		"EMPLID": roleEmplID, "REF1_DESCR": roleRef, "ITEM_TYPE": roleItemType, "ITEM_TERM": roleTerm,
		"AMOUNT": roleAmount, "AMOUNT_SIGN": roleSign, "STATUS": roleStatus, "MESSAGE": roleMessage,
	}
	headerNames = map[string]role{
		"CREATED_DATE": roleCreated, "CREATED_TIME": roleCreated,
	}
	trailerNames = map[string]role{
		"RECORD_COUNT": roleCount, "TOTAL": roleTotal, "TOTAL_SIGN": roleSign,
		"DEBIT_TOTAL": roleDebitTotal, "CREDIT_TOTAL": roleCreditTotal,
	}
	requiredCharge  = []string{"EMPLID", "ITEM_TYPE", "REF1_DESCR", "AMOUNT"}
	requiredPayment = []string{"EMPLID", "REF1_DESCR", "PAID_AMT", "PAID_DATE", "CHANNEL", "METHOD", "RECEIPT_NBR"}
	requiredResult  = []string{"REF1_DESCR", "ITEM_TYPE", "STATUS"}
)

func kindOf(r role) fieldKind {
	switch r {
	case roleEmplID, roleItemType, roleTerm, roleRef, roleChannel, roleMethod, roleReceipt, roleBusinessUnit, roleStatus, roleConst:
		return kindKey
	case roleAmount, roleChargeAmt, rolePaidAmt, roleTotal, roleDebitTotal, roleCreditTotal:
		return kindAmount
	case roleDueDate, rolePaidDate, roleCreated:
		return kindDate
	case roleCount:
		return kindCount
	case roleSign:
		return kindSign
	}
	return kindText
}

// cfield is a validated field, ready for the codecs.
type cfield struct {
	name     string
	role     role
	kind     fieldKind
	start    int // 0-based
	length   int
	right    bool
	pad      byte
	konst    string
	format   string
	decimals int // digits after the point as written
	scale    int // decimals - currency minor units (≥ 0)
	implied  bool
	sign     string
	truncate bool
	plus     byte // a sign field's marks
	minus    byte
	values   [2]string // a STATUS field's values: accepted, refused
	signOf   int       // for a sign field: index of its amount field; for an amount with a separate sign: index of the sign field
	// codes (name → the file's code) and names (code → name) of a
	// CHANNEL or METHOD field with Codes; nil without.
	codes, names map[string]string
}

// crecord is a validated record.
type crecord struct {
	length int // fixed: record width
	fields []cfield
	consts []int // indexes of Const fields, which identify the record
	index  map[role]int
}

func (r *crecord) has(ro role) bool { _, ok := r.index[ro]; return ok }

// compiled is a validated layout.
type compiled struct {
	fixed       bool
	columnNames bool
	delim       rune
	lineEnd     string
	currency    fees.Currency
	minor       int
	header      *crecord
	detail      *crecord
	trailer     *crecord
	// trailerOptional: a file may end without its trailer.
	trailerOptional bool
}

// compile validates l: first its file-wide settings, then its records.
func compile(l *Layout) (*compiled, error) {
	if l == nil {
		return nil, errors.New("no layout")
	}
	c := &compiled{columnNames: l.ColumnNames}
	if err := c.settings(l); err != nil {
		return nil, err
	}
	if err := c.records(l); err != nil {
		return nil, err
	}
	return c, nil
}

// settings checks and keeps the file-wide settings of l: format,
// delimiter, line end, currency and the row of column names.
func (c *compiled) settings(l *Layout) error {
	switch l.Format {
	case FormatFixed:
		c.fixed = true
	case FormatCSV:
	default:
		return fmt.Errorf("format: %q: want %q or %q", l.Format, FormatFixed, FormatCSV)
	}
	switch l.Kind {
	case KindCharges, KindPayments, KindResults:
	default:
		return fmt.Errorf("kind: %q: want %q, %q or %q", l.Kind, KindCharges, KindPayments, KindResults)
	}
	c.delim = ','
	if l.Delimiter != "" {
		r, n := utf8.DecodeRuneInString(l.Delimiter)
		if c.fixed || n != len(l.Delimiter) || r == '"' || r == '\r' || r == '\n' || r == utf8.RuneError {
			return fmt.Errorf("delimiter: %q: want one character other than a quote or line end, in a CSV layout", l.Delimiter)
		}
		c.delim = r
	}
	switch l.LineEnd {
	case "", "\n":
		c.lineEnd = "\n"
	case "\r\n":
		c.lineEnd = "\r\n"
	default:
		return fmt.Errorf("line_end: %q: want \"\\n\" or \"\\r\\n\"", l.LineEnd)
	}
	c.currency = fees.USD
	if l.Currency != "" {
		cur, err := fees.ParseCurrency(l.Currency)
		if err != nil {
			return fmt.Errorf("currency: %w", err)
		}
		c.currency = cur
	}
	c.minor, _ = c.currency.MinorUnits()
	if l.ColumnNames && c.fixed {
		return errors.New("column_names: only for CSV layouts")
	}
	if l.ColumnNames && l.Header != nil {
		return errors.New("column_names: a CSV layout has either a row of column names or a header record, not both")
	}
	return nil
}

// records compiles the detail record, with the fields its kind requires,
// and the header and trailer when l has them.
func (c *compiled) records(l *Layout) error {
	detailNames, required := chargeDetailNames, requiredCharge
	switch l.Kind {
	case KindPayments:
		detailNames, required = paymentDetailNames, requiredPayment
	case KindResults:
		detailNames, required = resultDetailNames, requiredResult
	}
	var err error
	if c.detail, err = c.record("detail", &l.Detail, detailNames); err != nil {
		return err
	}
	for _, name := range required {
		if !slices.ContainsFunc(c.detail.fields, func(f cfield) bool { return f.name == name }) {
			return fmt.Errorf("detail: no %s field (a %s file needs %s)", name, l.Kind, strings.Join(required, ", "))
		}
	}
	if l.Header != nil {
		if c.header, err = c.record("header", l.Header, headerNames); err != nil {
			return err
		}
		if len(c.header.consts) == 0 {
			return errors.New("header: needs a field with a const value that identifies it")
		}
	}
	if l.Trailer != nil {
		if c.trailer, err = c.record("trailer", l.Trailer, trailerNames); err != nil {
			return err
		}
		if len(c.trailer.consts) == 0 {
			return errors.New("trailer: needs a field with a const value that tells it from a detail record")
		}
		// With column names, the detail's columns are placed by the names
		// row, not the layout: a row whose first field is the trailer's
		// const is the trailer.
		if c.detail.matches(c.trailer, c.fixed) && (c.fixed || !c.columnNames) {
			return errors.New("trailer: its const fields do not tell it from a detail record")
		}
		c.trailerOptional = l.TrailerOptional
	} else if l.TrailerOptional {
		return errors.New("trailer_optional: the layout has no trailer")
	}
	return nil
}

// matches reports whether a record made by r could also pass as other:
// it could unless one of other's const fields is sure to differ from a
// const field of r in the same place (the same columns of a fixed-width
// record, the same CSV column).
func (r *crecord) matches(other *crecord, fixed bool) bool {
	for _, i := range other.consts {
		of := &other.fields[i]
		for _, j := range r.consts {
			f := &r.fields[j]
			if !fixed {
				if f.start == of.start && f.konst != of.konst {
					return false
				}
				continue
			}
			// Compare the columns both fields cover, as written.
			a, b := constColumns(f), constColumns(of)
			for col := max(f.start, of.start); col < min(f.start+f.length, of.start+of.length); col++ {
				if a[col-f.start] != b[col-of.start] {
					return false
				}
			}
		}
	}
	return true
}

// constColumns returns a fixed-width const field as it is written.
func constColumns(f *cfield) []byte {
	out := make([]byte, 0, f.length)
	pad := f.length - len(f.konst)
	if f.right {
		out = appendPad(out, f.pad, pad)
	}
	out = append(out, f.konst...)
	if !f.right {
		out = appendPad(out, f.pad, pad)
	}
	return out
}

func (c *compiled) record(where string, r *Record, names map[string]role) (*crecord, error) {
	if len(r.Fields) == 0 {
		return nil, fmt.Errorf("%s: no fields", where)
	}
	cr := &crecord{index: make(map[role]int)}
	seen := make(map[string]int)
	next := 1
	for i, f := range r.Fields {
		at := fmt.Sprintf("%s.fields[%d]", where, i)
		if f.Name != "" {
			at += " (" + f.Name + ")"
		}
		cf, err := c.field(f, names)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", at, err)
		}
		if f.Name != "FILLER" {
			if j, dup := seen[f.Name]; dup {
				return nil, fmt.Errorf("%s: name used twice (also fields[%d])", at, j)
			}
			seen[f.Name] = i
		}
		if c.fixed {
			switch {
			case f.Start < next && i > 0:
				return nil, fmt.Errorf("%s: starts at column %d and overlaps %s, which ends at column %d", at, f.Start, r.Fields[i-1].Name, next-1)
			case f.Start != next:
				return nil, fmt.Errorf("%s: starts at column %d, leaving a gap after column %d (use a FILLER field)", at, f.Start, next-1)
			}
			cf.start = f.Start - 1
			next = f.Start + f.Length
		} else {
			if f.Start != 0 && f.Start != i+1 {
				return nil, fmt.Errorf("%s: start %d: CSV fields are the columns in order (leave start out)", at, f.Start)
			}
			cf.start = i
		}
		if cf.role == roleConst {
			cr.consts = append(cr.consts, i)
		} else if cf.role != roleFiller && cf.role != roleSign {
			cr.index[cf.role] = i
		}
		cr.fields = append(cr.fields, cf)
	}
	if c.fixed {
		cr.length = next - 1
		if r.Length != 0 && r.Length != cr.length {
			return nil, fmt.Errorf("%s: length %d, but the fields end at column %d", where, r.Length, cr.length)
		}
	} else if r.Length != 0 {
		return nil, fmt.Errorf("%s: length: only for fixed-width layouts", where)
	}
	// Pair amounts with separate signs.
	for i := range cr.fields {
		f := &cr.fields[i]
		f.signOf = -1
		if f.role == roleSign {
			base := strings.TrimSuffix(f.name, "_SIGN")
			j := slices.IndexFunc(cr.fields, func(g cfield) bool { return g.name == base })
			if j < 0 {
				return nil, fmt.Errorf("%s: %s has no %s field", where, f.name, base)
			}
			if cr.fields[j].sign != SignSeparate {
				return nil, fmt.Errorf("%s: %s is present but %s has sign %q (want %q)", where, f.name, base, cr.fields[j].sign, SignSeparate)
			}
			f.signOf = j
		}
	}
	for i := range cr.fields {
		f := &cr.fields[i]
		if f.kind == kindAmount && f.sign == SignSeparate {
			j := slices.IndexFunc(cr.fields, func(g cfield) bool { return g.name == f.name+"_SIGN" })
			if j < 0 {
				return nil, fmt.Errorf("%s: %s has sign %q but there is no %s_SIGN field", where, f.name, SignSeparate, f.name)
			}
			f.signOf = j
		}
	}
	return cr, nil
}

// field compiles one field: its role, then its place in the record, its
// alignment and padding, and what its kind allows (a const value, a date
// format, an amount's decimals and sign, a sign's characters, truncation),
// in that order, so that the first problem is the one reported.
func (c *compiled) field(f Field, names map[string]role) (cfield, error) {
	cf := cfield{name: f.Name, length: f.Length}
	var err error
	if cf.role, err = fieldRole(f, names); err != nil {
		return cf, err
	}
	cf.kind = kindOf(cf.role)
	for _, step := range []func(*cfield, Field) error{
		c.fieldPlace, fieldAlign, fieldConst, fieldFormat, c.fieldAmount, c.fieldSign, fieldValues, c.fieldTruncate, c.fieldCodes,
	} {
		if err := step(&cf, f); err != nil {
			return cf, err
		}
	}
	return cf, nil
}

// fieldRole is what a field named f.Name stands for in a record whose
// field names are names.
func fieldRole(f Field, names map[string]role) (role, error) {
	switch {
	case f.Name == "":
		return 0, errors.New("no name")
	case f.Const != "":
		return roleConst, nil
	case f.Name == "FILLER":
		return roleFiller, nil
	}
	r, ok := names[f.Name]
	if !ok {
		known := make([]string, 0, len(names))
		for n := range names {
			known = append(known, n)
		}
		slices.Sort(known)
		return 0, fmt.Errorf("unknown field name (want one of %s, FILLER, or a const field)", strings.Join(known, ", "))
	}
	return r, nil
}

// fieldPlace checks the field's start and length.
func (c *compiled) fieldPlace(_ *cfield, f Field) error {
	if c.fixed && f.Length <= 0 {
		return fmt.Errorf("length %d: must be positive", f.Length)
	}
	if !c.fixed && f.Length < 0 {
		return fmt.Errorf("length %d: must not be negative", f.Length)
	}
	if c.fixed && f.Start <= 0 {
		return fmt.Errorf("start %d: columns count from 1", f.Start)
	}
	return nil
}

// fieldAlign sets the field's justification and padding: numbers are
// right-justified and zero-padded unless told otherwise.
func fieldAlign(cf *cfield, f Field) error {
	numeric := cf.kind == kindAmount || cf.kind == kindCount
	switch f.Justify {
	case "":
		cf.right = numeric
	case JustifyLeft:
	case JustifyRight:
		cf.right = true
	default:
		return fmt.Errorf("justify %q: want %q or %q", f.Justify, JustifyLeft, JustifyRight)
	}
	switch {
	case f.Pad == "" && numeric:
		cf.pad = '0'
	case f.Pad == "":
		cf.pad = ' '
	case len(f.Pad) == 1 && f.Pad[0] >= 0x20 && f.Pad[0] < 0x7f:
		cf.pad = f.Pad[0]
	default:
		return fmt.Errorf("pad %q: want one printable ASCII character", f.Pad)
	}
	if numeric && cf.pad == '0' && !cf.right {
		return errors.New(`pad "0" on a left-justified number would change its value`)
	}
	return nil
}

// fieldConst keeps the value of a const field.
func fieldConst(cf *cfield, f Field) error {
	if cf.role != roleConst {
		return nil
	}
	cf.konst = f.Const
	if !printableASCII(f.Const) {
		return fmt.Errorf("const %q: want printable ASCII", f.Const)
	}
	if f.Length > 0 && len(f.Const) > f.Length {
		return fmt.Errorf("const %q is longer than the field's %d characters", f.Const, f.Length)
	}
	return nil
}

// fieldFormat keeps the Go time layout of a date or time field.
func fieldFormat(cf *cfield, f Field) error {
	if cf.kind != kindDate {
		if f.Format != "" {
			return errors.New("format: only for date and time fields")
		}
		return nil
	}
	if f.Format == "" {
		return errors.New("a date or time field needs a format (a Go time layout such as \"20060102\")")
	}
	cf.format = f.Format
	return nil
}

// fieldAmount sets an amount field's decimals, implied decimal point and
// sign, within what the layout's currency allows.
func (c *compiled) fieldAmount(cf *cfield, f Field) error {
	if cf.kind != kindAmount {
		if f.Decimals != nil || f.ImpliedDecimal || f.Sign != "" {
			return errors.New("decimals, implied_decimal and sign: only for amount fields")
		}
		return nil
	}
	cf.decimals = c.minor
	if f.Decimals != nil {
		cf.decimals = *f.Decimals
	}
	if cf.decimals < c.minor || cf.decimals > 6 {
		return fmt.Errorf("decimals %d: want %d to 6 for %s", cf.decimals, c.minor, c.currency)
	}
	cf.scale = cf.decimals - c.minor
	cf.implied = f.ImpliedDecimal
	cf.sign = f.Sign
	switch f.Sign {
	case "":
		cf.sign = SignMinus
	case SignMinus, SignAlways, SignNone, SignSeparate:
	default:
		return fmt.Errorf("sign %q: want %q, %q, %q or %q", f.Sign, SignMinus, SignAlways, SignNone, SignSeparate)
	}
	if (cf.role == roleDebitTotal || cf.role == roleCreditTotal) && cf.sign != SignNone {
		return fmt.Errorf("sign %q: %s is written without a sign (use sign = %q)", f.Sign, f.Name, SignNone)
	}
	if c.fixed && f.Length < cf.decimals+2 {
		return fmt.Errorf("length %d: too short for an amount with %d decimals", f.Length, cf.decimals)
	}
	return nil
}

// fieldSign sets the two characters of a separate sign field.
func (c *compiled) fieldSign(cf *cfield, f Field) error {
	if cf.kind != kindSign {
		if f.Signs != "" {
			return errors.New("signs: only for sign fields")
		}
		return nil
	}
	if c.fixed && f.Length != 1 {
		return fmt.Errorf("length %d: a sign field is 1 character", f.Length)
	}
	cf.plus, cf.minus = '+', '-'
	if f.Signs != "" {
		if len(f.Signs) != 2 || !printableASCII(f.Signs) || f.Signs[0] == f.Signs[1] {
			return fmt.Errorf("signs %q: want two different printable ASCII characters, for positive and negative", f.Signs)
		}
		cf.plus, cf.minus = f.Signs[0], f.Signs[1]
	}
	return nil
}

// fieldValues keeps the accepted and refused values of a STATUS field.
func fieldValues(cf *cfield, f Field) error {
	if cf.role != roleStatus {
		if f.Values != nil {
			return errors.New("values: only for a results file's STATUS field")
		}
		return nil
	}
	cf.values = [2]string{"POSTED", "ERROR"}
	if f.Values == nil {
		return nil
	}
	if len(f.Values) != 2 || f.Values[0] == "" || f.Values[1] == "" || f.Values[0] == f.Values[1] || !printableASCII(f.Values[0]+f.Values[1]) {
		return fmt.Errorf("values %q: want two different printable ASCII values, for a line accepted and a line refused", f.Values)
	}
	if f.Length > 0 && max(len(f.Values[0]), len(f.Values[1])) > f.Length {
		return fmt.Errorf("values %q: longer than the field's %d characters", f.Values, f.Length)
	}
	cf.values = [2]string{f.Values[0], f.Values[1]}
	return nil
}

// fieldTruncate allows DESCR, and only DESCR, to be cut to its length.
func (c *compiled) fieldTruncate(cf *cfield, f Field) error {
	if !f.Truncate {
		return nil
	}
	if cf.role != roleDescr {
		return errors.New("truncate: only DESCR may be cut; keys and amounts never are")
	}
	if !c.fixed && f.Length == 0 {
		return errors.New("truncate: needs a length")
	}
	cf.truncate = true
	return nil
}

// fieldCodes keeps the file's codes of a CHANNEL or METHOD field: every
// code names one value, and fits the field.
func (c *compiled) fieldCodes(cf *cfield, f Field) error {
	if len(f.Codes) == 0 {
		return nil
	}
	known, ok := codeNames[cf.role]
	if !ok {
		return errors.New("codes: only for CHANNEL and METHOD fields")
	}
	cf.codes = make(map[string]string, len(known))
	cf.names = make(map[string]string, len(known))
	for name, code := range f.Codes {
		if !slices.Contains(known, name) {
			return fmt.Errorf("codes: %q: want one of %s", name, strings.Join(known, ", "))
		}
		if code == "" || !printableASCII(code) || strings.TrimSpace(code) != code {
			return fmt.Errorf("codes.%s: %q: want printable ASCII without blanks at either end", name, code)
		}
	}
	for _, name := range known {
		code, ok := f.Codes[name]
		if !ok {
			code = name
		}
		if other, dup := cf.names[code]; dup {
			return fmt.Errorf("codes: %s and %s would both be written %q", other, name, code)
		}
		if c.fixed && len(code) > f.Length {
			return fmt.Errorf("codes.%s: %q is longer than the field's %d characters", name, code, f.Length)
		}
		cf.codes[name], cf.names[code] = code, name
	}
	return nil
}

// codeFor is what the field writes for name: its code, or name itself.
func (f *cfield) codeFor(name string) string {
	if c, ok := f.codes[name]; ok {
		return c
	}
	return name
}

// valueOf is the value a code read from the field stands for: with
// Codes, the name it codes ("" for a code the field does not know);
// without, the code itself.
func (f *cfield) valueOf(code string) string {
	if f.codes == nil {
		return code
	}
	return f.names[code]
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}
