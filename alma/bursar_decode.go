package alma

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/feebridge/feebridge/alma/internal/xmlscan"
	"github.com/feebridge/feebridge/fees"
)

// DecoderOptions tune an [ExportDecoder]. The zero value (or nil) reads an
// export file with dates in UTC.
type DecoderOptions struct {
	// File names the file in errors.
	File string
	// Location is the time zone of dates written without a zone suffix.
	// Nil means UTC.
	Location *time.Location
	// Zones adds or overrides zone suffixes, such as "IST" for India
	// Standard Time. The decoder knows UTC, GMT, the North American
	// zones, BST, CET, CEST, IST (Israel), IDT, AEST and AEDT, and numeric
	// offsets such as "+0530".
	Zones map[string]*time.Location
	// AllowDuplicates accepts several records with one
	// bursarTransactionId and fee type, as in an import file where two
	// payments pay one fee. An export may give one id to several fees of
	// different types (their charge key, [fees.ChargeKey], differs), but
	// never repeats a pair, so by default a repeated pair is an
	// [ErrDuplicateTransactionID].
	AllowDuplicates bool
}

// bursarElem names the elements the decoder gives meaning to, by local
// name; bursarRole is what an element means where it stands.
type bursarElem uint8

const (
	elemOther bursarElem = iota
	elemExportNumber
	elemUserList
	elemUser
	elemType
	elemValue
	elemPatronName
	elemFineFee
	elemFineFeeType
	elemComment
	elemOwner
	elemLibraryCode
	elemLibraryID
	elemLastTransactionDate
	elemItemTitle
	elemItemCallNumber
	elemItemLibrary
	elemItemLocation
	elemItemBarcode
	elemItemDueDate
	elemCompositeSum
	elemCurrency
	elemSum
	elemTransactionID
)

var bursarElems = map[string]bursarElem{
	"exportNumber":             elemExportNumber,
	"userExportedFineFeesList": elemUserList,
	"user":                     elemUser,
	"type":                     elemType,
	"value":                    elemValue,
	"patronName":               elemPatronName,
	"userFineFee":              elemFineFee,
	"fineFeeType":              elemFineFeeType,
	"fineFeeComment":           elemComment,
	"owneredEntity":            elemOwner,
	"libraryCode":              elemLibraryCode,
	"libraryId":                elemLibraryID,
	"lastTransactionDate":      elemLastTransactionDate,
	"itemTitle":                elemItemTitle,
	"itemCallNumebr":           elemItemCallNumber, // sic: Alma's spelling
	"itemCallNumber":           elemItemCallNumber,
	"itemLibrary":              elemItemLibrary,
	"itemLocation":             elemItemLocation,
	"itemBarcode":              elemItemBarcode,
	"itemDueDate":              elemItemDueDate,
	"compositeSum":             elemCompositeSum,
	"currency":                 elemCurrency,
	"sum":                      elemSum,
	"bursarTransactionId":      elemTransactionID,
}

// bursarElemKind classifies element names for the scanner.
func bursarElemKind(local string) uint8 { return uint8(bursarElems[local]) }

type bursarRole uint8

const (
	roleNone bursarRole = iota
	rolePatron
	roleUser
	roleFee
	roleFeeOwner
	roleSum
	// Roles from here on are text fields.
	roleText
	roleExportNumber
	roleUserType
	roleUserValue
	rolePatronName
	roleFeeType
	roleComment
	roleLibraryCode
	roleLibraryID
	roleLastTransaction
	roleItemTitle
	roleItemCallNumber
	roleItemLibrary
	roleItemLocation
	roleItemBarcode
	roleItemDueDate
	roleCurrency
	roleAmount
	roleTransactionID
)

// roleOf returns what an element named kind means inside parent.
func roleOf(parent bursarRole, kind bursarElem) bursarRole {
	switch parent {
	case roleFee:
		switch kind {
		case elemFineFeeType:
			return roleFeeType
		case elemComment:
			return roleComment
		case elemOwner:
			return roleFeeOwner
		case elemLastTransactionDate:
			return roleLastTransaction
		case elemItemTitle:
			return roleItemTitle
		case elemItemCallNumber:
			return roleItemCallNumber
		case elemItemLibrary:
			return roleItemLibrary
		case elemItemLocation:
			return roleItemLocation
		case elemItemBarcode:
			return roleItemBarcode
		case elemItemDueDate:
			return roleItemDueDate
		case elemCompositeSum:
			return roleSum
		case elemTransactionID:
			return roleTransactionID
		}
		return roleNone
	case roleFeeOwner:
		switch kind {
		case elemLibraryCode:
			return roleLibraryCode
		case elemLibraryID:
			return roleLibraryID
		}
		return roleNone
	case roleSum:
		switch kind {
		case elemCurrency:
			return roleCurrency
		case elemSum:
			return roleAmount
		}
		return roleNone
	case roleUser:
		switch kind {
		case elemType:
			return roleUserType
		case elemValue:
			return roleUserValue
		}
		return roleNone
	case rolePatron:
		switch kind {
		case elemUser:
			return roleUser
		case elemPatronName:
			return rolePatronName
		}
	}
	switch kind {
	case elemFineFee:
		return roleFee
	case elemUserList:
		return rolePatron
	case elemExportNumber:
		return roleExportNumber
	}
	return roleNone
}

// ExportDecoder reads an Alma bursar file (an export, or an import written
// by [ImportEncoder]) one fine or fee at a time. Its memory does not grow
// with the file, but for about 9.5 bytes a fee to remember its charge key,
// the pair of transaction id and fee type (none with
// [DecoderOptions.AllowDuplicates]).
type ExportDecoder struct {
	s    *xmlscan.Scanner
	opts DecoderOptions
	loc  *time.Location

	roles         []bursarRole
	exportNumber  string
	exportNumbers int // exportNumber elements read

	// parts, when not nil, decodes the file in parts on several cores
	// (NewExportDecoderAt); the fields above are then unused.
	parts *partDecoder
	value []byte // text of the current text field

	inPatron bool
	patron   Patron

	inFee bool
	fee   feeDraft

	seen         bursarTxSet
	sharedValues map[string]string
	// pending holds the collapsed text of the current fee's fields, at
	// spans, until the fee ends: one string for them all.
	pending []byte
	spans   []fieldSpan
	err     error // sticky: a syntax or read error

	// onAmount, when set by a test, sees each amount accepted, with its
	// text as written.
	onAmount func(text string, m fees.Money)
}

// feeDraft collects one userFineFee while it is read.
type feeDraft struct {
	rec                      ExportRecord
	seen                     uint64 // roles already met, as bits
	amount, currency         string
	amountLine, currencyLine int
	date, due                string
	dateLine, dueLine        int
	txLine                   int
	libraryID                string
	err                      error // first problem met
	errLine                  int
}

func (f *feeDraft) fail(line int, err error) {
	if f.err == nil {
		f.err, f.errLine = err, line
	}
}

// NewExportDecoder returns a decoder that reads r. opts may be nil.
func NewExportDecoder(r io.Reader, opts *DecoderOptions) *ExportDecoder {
	return newExportDecoder(xmlscan.New(r, bursarElemKind), opts)
}

// newExportDecoder returns a decoder that reads the tokens of s.
func newExportDecoder(s *xmlscan.Scanner, opts *DecoderOptions) *ExportDecoder {
	d := &ExportDecoder{s: s, roles: make([]bursarRole, 0, xmlscan.MaxDepth)}
	if opts != nil {
		d.opts = *opts
	}
	d.loc = d.opts.Location
	if d.loc == nil {
		d.loc = time.UTC
	}
	return d
}

// ExportNumber returns the file's exportNumber, once the decoder has read
// past it (Alma writes it before the first user). Import files have none.
func (d *ExportDecoder) ExportNumber() string {
	if d.parts != nil {
		return d.parts.exportNumber()
	}
	return d.exportNumber
}

// Decode returns the next fine or fee. At the end of the file it returns
// io.EOF.
//
// A record that breaks a rule (a bad amount or currency, a missing or
// repeated transaction id, …) comes back as a *[ParseError]; the next call
// goes on with the next record, so a caller may collect the errors and
// carry on, or stop at the first. Malformed XML is a *ParseError wrapping
// [ErrSyntax], and a read error is returned as it is; both end the
// decoding: every later call returns the same error.
func (d *ExportDecoder) Decode() (ExportRecord, error) {
	if d.parts != nil {
		return d.parts.next()
	}
	if d.err != nil {
		return ExportRecord{}, d.err
	}
	for {
		tok, err := d.s.Scan()
		if err != nil {
			return ExportRecord{}, d.fatal(err)
		}
		if d.token(tok) {
			return d.finish()
		}
	}
}

// token takes in the next token, and reports whether it ends a fee.
func (d *ExportDecoder) token(tok *xmlscan.Token) (feeEnded bool) {
	switch tok.Kind {
	case xmlscan.Start:
		d.start(tok)
	case xmlscan.Text:
		if len(d.roles) > 0 && d.roles[len(d.roles)-1] > roleText {
			d.value = append(d.value, tok.Text...)
		}
	case xmlscan.End:
		role := d.roles[len(d.roles)-1]
		d.roles = d.roles[:len(d.roles)-1]
		if role > roleText {
			d.setField(role)
			return false
		}
		switch role {
		case rolePatron:
			d.inPatron = false
		case roleFee:
			d.inFee = false
			return true
		}
	}
	return false
}

// fatal turns a scanner error into the sticky error.
func (d *ExportDecoder) fatal(err error) error {
	var se *xmlscan.SyntaxError
	switch {
	case err == io.EOF:
		d.err = io.EOF
	case errors.As(err, &se):
		pe := &ParseError{File: d.opts.File, Line: se.Line, Err: fmt.Errorf("%w: %s", ErrSyntax, se.Msg)}
		if d.inPatron {
			pe.User = d.patron.ID
		}
		if d.inFee {
			d.flushFields()
			pe.TransactionID = d.fee.rec.TransactionID
		}
		d.err = pe
	default:
		if d.opts.File != "" {
			err = fmt.Errorf("alma: reading bursar file %s: %w", d.opts.File, err)
		}
		d.err = err
	}
	return d.err
}

func (d *ExportDecoder) start(tok *xmlscan.Token) {
	parent := roleNone
	if len(d.roles) > 0 {
		parent = d.roles[len(d.roles)-1]
	}
	role := roleOf(parent, bursarElem(tok.Name.Tag))
	if parent > roleText {
		// An element inside a text field: the field is not plain text.
		if d.inFee {
			d.fee.fail(tok.Line, fmt.Errorf("%w: <%s> inside a text field", ErrStructure, tok.Name.QName))
		}
		role = roleNone
	}
	d.roles = append(d.roles, role)
	switch {
	case role > roleText:
		d.value = d.value[:0]
		if d.inFee && role != roleExportNumber {
			bit := uint64(1) << role
			if d.fee.seen&bit != 0 {
				d.fee.fail(tok.Line, fmt.Errorf("%w: <%s> twice in one userFineFee", ErrStructure, tok.Name.QName))
			}
			d.fee.seen |= bit
			switch role {
			case roleAmount:
				d.fee.amountLine = tok.Line
			case roleCurrency:
				d.fee.currencyLine = tok.Line
			case roleLastTransaction:
				d.fee.dateLine = tok.Line
			case roleItemDueDate:
				d.fee.dueLine = tok.Line
			case roleTransactionID:
				d.fee.txLine = tok.Line
			}
		}
	case role == rolePatron:
		d.inPatron = true
		d.patron = Patron{}
	case role == roleFee:
		if d.inFee {
			d.fee.fail(tok.Line, fmt.Errorf("%w: userFineFee inside userFineFee", ErrStructure))
			d.roles[len(d.roles)-1] = roleNone
			return
		}
		d.inFee = true
		d.fee = feeDraft{rec: ExportRecord{Line: tok.Line}}
		d.spans, d.pending = d.spans[:0], d.pending[:0]
	}
}

// setField stores the text of the field that just ended.
func (d *ExportDecoder) setField(role bursarRole) {
	var v string
	switch role {
	case roleFeeType, roleLibraryCode, roleLibraryID, roleItemLibrary, roleItemLocation, roleCurrency, roleUserType:
		// Values that repeat from fee to fee are shared, not allocated
		// again for every fee.
		v = d.shared(collapseSpaceInPlace(d.value))
	case roleExportNumber, roleUserValue, rolePatronName:
		v = collapseSpace(d.value)
	default:
		if !d.inFee {
			v = collapseSpace(d.value)
			break
		}
		// A field of the fee: its text joins the fee's other fields in
		// one buffer, made one string when the fee ends (pending).
		from := len(d.pending)
		d.pending = appendCollapsed(d.pending, d.value)
		d.spans = append(d.spans, fieldSpan{role: role, from: from, to: len(d.pending)})
		return
	}
	d.assign(role, v)
}

// fieldSpan is where the text of a fee's field lies in the pending buffer.
type fieldSpan struct {
	role     bursarRole
	from, to int
}

// flushFields sets the fee's pending fields, all from one string.
func (d *ExportDecoder) flushFields() {
	if len(d.spans) == 0 {
		return
	}
	s := string(d.pending)
	for _, sp := range d.spans {
		d.assign(sp.role, s[sp.from:sp.to])
	}
	d.spans, d.pending = d.spans[:0], d.pending[:0]
}

// assign stores v, the text of a field of the given role.
func (d *ExportDecoder) assign(role bursarRole, v string) {
	f := &d.fee
	switch role {
	case roleExportNumber:
		d.exportNumber = v
		d.exportNumbers++
	case roleUserType:
		d.patron.IDType = v
	case roleUserValue:
		d.patron.ID = v
	case rolePatronName:
		d.patron.Name = v
	case roleFeeType:
		f.rec.Type = fees.Type(v)
	case roleComment:
		f.rec.Comment = v
	case roleLibraryCode:
		f.rec.Owner = v
	case roleLibraryID:
		f.libraryID = v
	case roleLastTransaction:
		f.date = v
	case roleItemTitle:
		f.rec.Item.Title = v
	case roleItemCallNumber:
		f.rec.Item.CallNumber = v
	case roleItemLibrary:
		f.rec.Item.Library = v
	case roleItemLocation:
		f.rec.Item.Location = v
	case roleItemBarcode:
		f.rec.Item.Barcode = v
	case roleItemDueDate:
		f.due = v
	case roleCurrency:
		f.currency = v
	case roleAmount:
		f.amount = v
	case roleTransactionID:
		f.rec.TransactionID = v
	}
}

// finish checks the record that just ended and returns it.
func (d *ExportDecoder) finish() (ExportRecord, error) {
	d.flushFields()
	f := &d.fee
	rec := &f.rec
	if d.inPatron {
		rec.Patron = d.patron
	}
	if rec.Owner == "" {
		rec.Owner = f.libraryID
	}
	if !d.inPatron || rec.Patron.ID == "" {
		f.fail(rec.Line, fmt.Errorf("%w: userFineFee without a user identifier", ErrMissingUser))
	}
	if rec.TransactionID == "" {
		f.fail(rec.Line, ErrMissingTransactionID)
	} else if !d.opts.AllowDuplicates && rec.Type != "" && d.seen.add(rec.TransactionID, rec.Type) {
		f.fail(f.txLine, fmt.Errorf("%w: %s with fee type %s was used by an earlier record", ErrDuplicateTransactionID, rec.TransactionID, rec.Type))
	}
	if rec.Type == "" {
		f.fail(rec.Line, ErrFeeType)
	}
	d.amount(f)
	var err error
	if rec.LastTransaction, err = parseBursarDate(f.date, d.loc, d.opts.Zones); err != nil {
		f.fail(f.dateLine, fmt.Errorf("%w: lastTransactionDate %q: %v", ErrDate, f.date, err))
	}
	if rec.Item.DueDate, err = parseBursarDate(f.due, d.loc, d.opts.Zones); err != nil {
		f.fail(f.dueLine, fmt.Errorf("%w: itemDueDate %q: %v", ErrDate, f.due, err))
	}
	if f.err != nil {
		return ExportRecord{}, &ParseError{File: d.opts.File, Line: f.errLine, User: rec.Patron.ID, TransactionID: rec.TransactionID, Err: f.err}
	}
	return *rec, nil
}

// amount parses compositeSum into the record.
func (d *ExportDecoder) amount(f *feeDraft) {
	line := f.currencyLine
	if line == 0 {
		line = f.rec.Line
	}
	if f.currency == "" {
		f.fail(line, fmt.Errorf("%w: no compositeSum/currency", ErrCurrency))
		return
	}
	c, err := fees.ParseCurrency(f.currency)
	if err != nil {
		f.fail(line, fmt.Errorf("%w: %w", ErrCurrency, err))
		return
	}
	if f.amountLine == 0 {
		f.fail(f.rec.Line, fmt.Errorf("%w: no compositeSum/sum", ErrAmount))
		return
	}
	m, ok := plainMoney(f.amount, c)
	if !ok {
		m, err = fees.ParseMoney(f.amount, c)
	}
	if err != nil {
		f.fail(f.amountLine, fmt.Errorf("%w: %w", ErrAmount, err))
		return
	}
	if m.IsZero() {
		f.fail(f.amountLine, fmt.Errorf("%w: amount %q is zero", ErrAmount, f.amount))
		return
	}
	if d.onAmount != nil {
		d.onAmount(f.amount, m)
	}
	f.rec.Amount = m
}

// shared returns b as a string, the same string for the same bytes as
// long as fewer than bursarMaxShared values were seen.
func (d *ExportDecoder) shared(b []byte) string {
	if v, ok := d.sharedValues[string(b)]; ok {
		return v
	}
	v := string(b)
	if len(d.sharedValues) < bursarMaxShared && len(v) <= 64 {
		if d.sharedValues == nil {
			d.sharedValues = make(map[string]string)
		}
		d.sharedValues[v] = v
	}
	return v
}

const bursarMaxShared = 1024

// collapseSpaceInPlace collapses the white space of b as collapseSpace
// does, in b's own memory: collapsing never lengthens, so the output
// never overtakes the input.
func collapseSpaceInPlace(b []byte) []byte { return appendCollapsed(b[:0], b) }

// appendCollapsed appends b to dst with its white space collapsed as
// collapseSpace does.
func appendCollapsed(dst, b []byte) []byte {
	if isCollapsed(b) {
		return append(dst, b...) // most values: in one copy
	}
	start := len(dst)
	space := false
	for _, c := range b {
		if xmlscan.IsSpace(c) {
			space = len(dst) > start
			continue
		}
		if space {
			dst = append(dst, ' ')
			space = false
		}
		dst = append(dst, c)
	}
	return dst
}

// isCollapsed reports whether collapsing the white space of b leaves it
// as it is: no white space but single spaces between other bytes.
func isCollapsed(b []byte) bool {
	for i, c := range b {
		if xmlscan.IsSpace(c) && (c != ' ' || i == 0 || i == len(b)-1 || b[i+1] == ' ') {
			return false
		}
	}
	return true
}

// collapseSpace returns b with leading and trailing white space removed
// and each inner run of white space made one space.
func collapseSpace(b []byte) string {
	clean := true
	start, end := 0, len(b)
	for start < end && xmlscan.IsSpace(b[start]) {
		start++
	}
	for end > start && xmlscan.IsSpace(b[end-1]) {
		end--
	}
	b = b[start:end]
	for i := 0; i < len(b); i++ {
		if c := b[i]; c == '\n' || c == '\t' || c == '\r' || (c == ' ' && i+1 < len(b) && b[i+1] == ' ') {
			clean = false
			break
		}
	}
	if clean {
		return string(b)
	}
	out := make([]byte, 0, len(b))
	space := false
	for _, c := range b {
		if xmlscan.IsSpace(c) {
			space = true
			continue
		}
		if space {
			out = append(out, ' ')
			space = false
		}
		out = append(out, c)
	}
	return string(out)
}

// bursarTxSet remembers the charges of a file: pairs of transaction id
// and fee type (see [fees.ChargeKey]), since Alma gives one id to several
// fees of different types. Alma's ids are numbers of up to 19 digits, kept
// as integers in one bursarNumSet per fee type (a file has a few dozen
// types at most); any other id, and the pairs of types past
// bursarMaxTypeSets, are kept as strings.
type bursarTxSet struct {
	nums map[fees.Type]*bursarNumSet
	strs map[string]struct{}
}

const bursarMaxTypeSets = 64

// add records the pair (id, t) and reports whether it was already there.
func (s *bursarTxSet) add(id string, t fees.Type) bool {
	if len(id) <= 19 && (id[0] != '0' || len(id) == 1) {
		if n, err := strconv.ParseUint(id, 10, 64); err == nil {
			set := s.nums[t]
			if set == nil && len(s.nums) < bursarMaxTypeSets {
				if s.nums == nil {
					s.nums = make(map[fees.Type]*bursarNumSet)
				}
				set = new(bursarNumSet)
				s.nums[t] = set
			}
			if set != nil {
				return set.add(n)
			}
		}
	}
	if s.strs == nil {
		s.strs = make(map[string]struct{})
	}
	key := fees.ChargeKey(id, t)
	if _, ok := s.strs[key]; ok {
		return true
	}
	s.strs[key] = struct{}{}
	return false
}

// ChargeKeySet is the set of charge keys, pairs of bursar transaction id
// and fee type ([fees.ChargeKey]), that an [ExportDecoder] keeps to refuse
// a repeated pair: for a caller that decodes with
// [DecoderOptions.AllowDuplicates] and checks the pairs itself, in
// another goroutine. It takes two to three bytes a pair for Alma's
// numeric ids that follow each other, about four for Alma ids a
// thousand apart added in random order, nine at worst. The zero value is an empty set.
type ChargeKeySet struct{ s bursarTxSet }

// Add records the pair (id, t) and reports whether it was already there.
func (k *ChargeKeySet) Add(id string, t fees.Type) bool {
	if id == "" {
		key := fees.ChargeKey(id, t)
		if k.s.strs == nil {
			k.s.strs = make(map[string]struct{})
		}
		_, ok := k.s.strs[key]
		k.s.strs[key] = struct{}{}
		return ok
	}
	return k.s.add(id, t)
}
