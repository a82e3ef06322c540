package almatest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/transport"
)

// bursarNS is the namespace of Alma's bursar files.
const bursarNS = "http://com/exlibris/urm/rep/externalsysfinesfees/xmlbeans"

// bursarDate is how Alma writes dates in bursar files.
const bursarDate = "01/02/2006 15:04:05"

// bursarTime formats t for a bursar file: in UTC with no zone suffix, or in
// Options.BursarLocation followed by its zone abbreviation.
func (s *Server) bursarTime(t time.Time) string {
	if s.opts.BursarLocation == nil {
		return t.UTC().Format(bursarDate)
	}
	return t.In(s.opts.BursarLocation).Format(bursarDate + " MST")
}

// ExportResult is what one run of a bursar export job wrote.
type ExportResult struct {
	// File is the path of the file written in the drop, empty when there
	// was nothing to export (Alma then writes no file).
	File         string
	JobID        string
	ExportNumber string
	Records      []ExportedRecord
	// Total is the sum of the records' amounts (negative for a credit
	// export).
	Total fees.Money
}

// ExportedRecord is one userFineFee of an export file.
type ExportedRecord struct {
	FeeID         string
	TransactionID string // bursarTransactionId
	UserID        string
	Type          fees.Type
	// Amount is compositeSum/sum: the fee's balance in a fee export, minus
	// the amount waived in a credit export.
	Amount fees.Money
	// WaiverID is the id of the WAIVE transaction a credit record stands
	// for; empty in a fee export.
	WaiverID string
}

type exportRec struct {
	res    ExportResult
	credit bool
}

// Exports returns what every export run so far wrote, oldest first.
func (s *Server) Exports() []ExportResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ExportResult, len(s.exports))
	for i, e := range s.exports {
		out[i] = e.res
	}
	return out
}

func (s *Server) profileLocked(name string) (ExportProfile, error) {
	if len(s.opts.Profiles) == 0 {
		return ExportProfile{Name: name}, nil
	}
	for _, p := range s.opts.Profiles {
		if p.Name == name {
			return p, nil
		}
	}
	return ExportProfile{}, fmt.Errorf("almatest: no bursar export profile %q", name)
}

// fileName is Alma's name for a bursar file: <profile>-<jobid>-<Unix time
// of the run in milliseconds>.xml.
func fileName(profile, jobID string, t time.Time) string {
	return fmt.Sprintf("%s-%s-%d.xml", profile, jobID, t.UnixMilli())
}

// Folder is the file server of Alma's integration profile, as the fake
// Alma uses it: it writes its exports there and reads the files it imports.
// A *transport.Drop is one; the fake takes no more than these four
// abilities, so that a test can hand it any folder.
type Folder interface {
	MkdirAll(ctx context.Context, dir string) error
	WriteFile(ctx context.Context, name string, data []byte) error
	List(ctx context.Context, dir string) ([]transport.FileInfo, error)
	ReadFile(ctx context.Context, name string) ([]byte, error)
}

var _ Folder = (*transport.Drop)(nil)

// RunExport is Alma's daily "Export to Bursar" job (18:00 in flow F2):
// every Active fee that the profile selects goes into one export file,
// written atomically to dir in drop (made if missing); then, and only once
// the file is written, each of those fees becomes Transferred (EXPORTED)
// and its balance becomes the transferred balance. When no fee is due, no
// file is written. The file name is <profile>-<jobid>-<millis>.xml.
func (s *Server) RunExport(ctx context.Context, drop Folder, dir, profile string) (ExportResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.profileLocked(profile)
	if err != nil {
		return ExportResult{}, err
	}
	var recs []*feeRec
	for _, id := range s.feeOrder {
		r := s.feeByID[id]
		if r.f.Status == fees.StatusActive && p.matches(&r.f) {
			recs = append(recs, r)
		}
	}
	lines := make([]exportLine, len(recs))
	for i, r := range recs {
		lines[i] = exportLine{fee: &r.f, amount: r.f.Balance, when: r.f.Updated}
	}
	started, fault := s.clock.Now(), s.takeJobEndFaultLocked(false)
	if s.jobFailedLocked(fault, false, profile, started) {
		return ExportResult{}, nil
	}
	res, err := s.writeExportLocked(ctx, drop, dir, profile, lines)
	if err != nil {
		return res, err
	}
	if res.File == "" {
		s.jobEndedLocked(fault, false, profile, res, started)
		return res, nil
	}
	now := s.clock.Now()
	for _, r := range recs {
		if err := r.f.Transfer(now); err != nil {
			return res, fmt.Errorf("almatest: export %s: fee %s: %w", res.File, r.f.ID, err)
		}
	}
	s.exports = append(s.exports, exportRec{res: res})
	s.jobEndedLocked(fault, false, profile, res, started)
	return res, nil
}

// RunCreditExport is Alma's hourly export of waivers (flow F4): every
// waiver of a fee that was Transferred when it was waived, and not yet
// exported, becomes one credit record with the original fee's
// bursarTransactionId, its fineFeeType and item, and a negative sum equal
// to the amount waived. Every refund of such a fee (R8, see refunds.go)
// becomes one record too, of the refund type (LOSTITEMREPLACEMENTFEEREFUND
// for a LOSTITEMREPLACEMENTFEE), with the same bursarTransactionId and a
// negative sum equal to the amount refunded. The file is written as
// RunExport writes its file; the waivers and refunds are marked exported
// once it is written.
func (s *Server) RunCreditExport(ctx context.Context, drop Folder, dir, profile string) (ExportResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.profileLocked(profile)
	if err != nil {
		return ExportResult{}, err
	}
	type waiver struct {
		r  *feeRec
		id string
	}
	var ws []waiver
	var lines []exportLine
	for _, id := range s.feeOrder {
		r := s.feeByID[id]
		if !p.matches(&r.f) {
			continue
		}
		for _, t := range r.txns {
			if (t.Type == "WAIVE" || t.Type == "REFUND") && t.Transferred && !r.credited[t.ID] {
				ws = append(ws, waiver{r, t.ID})
				lines = append(lines, exportLine{fee: creditedFee(r, t), amount: t.Amount.Neg(), when: t.Time, waiverID: t.ID})
			}
		}
	}
	started, fault := s.clock.Now(), s.takeJobEndFaultLocked(true)
	if s.jobFailedLocked(fault, true, profile, started) {
		return ExportResult{}, nil
	}
	res, err := s.writeExportLocked(ctx, drop, dir, profile, lines)
	if err != nil {
		return res, err
	}
	if res.File == "" {
		s.jobEndedLocked(fault, true, profile, res, started)
		return res, nil
	}
	for _, w := range ws {
		w.r.credited[w.id] = true
	}
	s.exports = append(s.exports, exportRec{res: res, credit: true})
	s.jobEndedLocked(fault, true, profile, res, started)
	return res, nil
}

type exportLine struct {
	fee      *fees.Fee
	amount   fees.Money
	when     time.Time
	waiverID string
}

// writeExportLocked writes lines, grouped by user, as one export file.
func (s *Server) writeExportLocked(ctx context.Context, drop Folder, dir, profile string, lines []exportLine) (ExportResult, error) {
	res := ExportResult{Total: fees.Zero(s.opts.Currency)}
	if len(lines) == 0 {
		return res, nil
	}
	if drop == nil {
		return res, errors.New("almatest: export: no drop to write to")
	}
	now := s.clock.Now()
	res.JobID = s.newID(kindExport)
	res.ExportNumber = s.newID(kindExport)
	name := fileName(profile, res.JobID, now)
	if dir != "" && dir != "." {
		name = path.Join(dir, name)
	}
	data := s.exportXMLLocked(lines, &res)
	if dir != "" && dir != "." {
		if err := drop.MkdirAll(ctx, dir); err != nil {
			return ExportResult{}, fmt.Errorf("almatest: export %s: %w", name, err)
		}
	}
	if err := drop.WriteFile(ctx, name, data); err != nil {
		return ExportResult{}, fmt.Errorf("almatest: export %s: %w", name, err)
	}
	res.File = name
	return res, nil
}

// exportXMLLocked writes the export file of lines as Alma lays it out,
// one user element per user in the order of their first line, and adds
// each record to res.
func (s *Server) exportXMLLocked(lines []exportLine, res *ExportResult) []byte {
	var order []string
	byUser := map[string][]exportLine{}
	for _, l := range lines {
		if _, ok := byUser[l.fee.UserID]; !ok {
			order = append(order, l.fee.UserID)
		}
		byUser[l.fee.UserID] = append(byUser[l.fee.UserID], l)
	}
	var b bytes.Buffer
	w := &xmlWriter{b: &b}
	b.WriteString(xml.Header)
	fmt.Fprintf(&b, "<xb:xml-fragment xmlns:xb=\"%s\">\n", bursarNS)
	b.WriteString("\t<xb:userExportedFineFees>\n")
	w.field(2, "exportNumber", res.ExportNumber)
	b.WriteString("\t</xb:userExportedFineFees>\n\t<xb:userExportedFineFees>\n\t\t<xb:userExportedList>\n")
	for _, uid := range order {
		s.writeUserLocked(w, uid)
		w.open(4, "finefeeList")
		for _, l := range byUser[uid] {
			s.writeFineFee(w, l)
			f := l.fee
			res.Records = append(res.Records, ExportedRecord{
				FeeID: f.ID, TransactionID: f.TransactionID, UserID: f.UserID,
				Type: f.Type, Amount: l.amount, WaiverID: l.waiverID,
			})
			res.Total, _ = res.Total.Add(l.amount)
		}
		w.close(4, "finefeeList")
		b.WriteString("\t\t\t</xb:userExportedFineFeesList>\n")
	}
	b.WriteString("\t\t</xb:userExportedList>\n\t</xb:userExportedFineFees>\n</xb:xml-fragment>\n")
	return b.Bytes()
}

// writeUserLocked opens a user's list of fees with the user and the
// patron's name.
func (s *Server) writeUserLocked(w *xmlWriter, uid string) {
	u := s.users[uid].u
	w.b.WriteString("\t\t\t<xb:userExportedFineFeesList>\n\t\t\t\t<xb:user>\n")
	w.field(5, "type", u.IDType)
	w.field(5, "value", u.ID)
	w.open(5, "owneredEntity")
	w.field(6, "InstitutionId", s.opts.InstitutionID)
	w.close(5, "owneredEntity")
	w.b.WriteString("\t\t\t\t</xb:user>\n")
	w.field(4, "patronName", u.patronName())
}

// writeFineFee writes one userFineFee, with every element Alma writes.
func (s *Server) writeFineFee(w *xmlWriter, l exportLine) {
	f := l.fee
	w.open(5, "userFineFee")
	w.field(6, "fineFeeComment", f.Comment)
	w.field(6, "fineFeeType", string(f.Type))
	w.open(6, "owneredEntity")
	w.field(7, "InstitutionId", s.opts.InstitutionID)
	w.field(7, "libraryId", libraryID(f.Owner, s.opts.InstitutionID))
	w.field(7, "libraryCode", f.Owner)
	w.close(6, "owneredEntity")
	w.field(6, "lastTransactionDate", s.bursarTime(l.when))
	w.field(6, "itemTitle", f.Item.Title)
	w.field(6, "itemCallNumebr", f.Item.CallNumber) // sic, as Alma spells it
	w.field(6, "itemLibrary", f.Item.Library)
	w.field(6, "itemLocation", f.Item.Location)
	w.field(6, "itemInternalLocation", f.Item.Location)
	due := ""
	if !f.Item.DueDate.IsZero() {
		due = s.bursarTime(f.Item.DueDate)
	}
	w.field(6, "itemDueDate", due)
	w.field(6, "itemBarcode", f.Item.Barcode)
	w.open(6, "compositeSum")
	w.field(7, "currency", string(l.amount.Currency()))
	w.field(7, "sum", l.amount.Decimal().String())
	w.field(7, "vat", "")
	w.close(6, "compositeSum")
	w.field(6, "bursarTransactionId", f.TransactionID)
	w.close(5, "userFineFee")
}

// libraryID makes a numeric library id from a library code, stable for
// a code, since the fake has no library table.
func libraryID(code, inst string) string {
	h := sha256.Sum256([]byte(code))
	n := uint64(0)
	for _, c := range h[:6] {
		n = n<<8 | uint64(c)
	}
	return fmt.Sprintf("%d000%s", n%1_000_000_000+1_000_000_000, inst)
}

// xmlWriter writes the xb: elements of a bursar file, indented with tabs
// as Alma's are; an empty value is written as xsi:nil, as Alma does.
type xmlWriter struct{ b *bytes.Buffer }

const tabs = "\t\t\t\t\t\t\t\t"

func (w *xmlWriter) tag(n int, open, name, end string) {
	w.b.WriteString(tabs[:n])
	w.b.WriteString(open)
	w.b.WriteString(name)
	w.b.WriteString(end)
}

func (w *xmlWriter) field(n int, name, value string) {
	if value == "" {
		w.tag(n, "<xb:", name, " xsi:nil=\"true\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"/>\n")
		return
	}
	w.tag(n, "<xb:", name, ">")
	if strings.ContainsAny(value, "<>&'\"\r\n\t") || !isPlainASCII(value) {
		_ = xml.EscapeText(w.b, []byte(value))
	} else {
		w.b.WriteString(value)
	}
	w.tag(0, "</xb:", name, ">\n")
}

func isPlainASCII(v string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] > 0x7e {
			return false
		}
	}
	return true
}

func (w *xmlWriter) open(n int, name string) { w.tag(n, "<xb:", name, ">\n") }

func (w *xmlWriter) close(n int, name string) { w.tag(n, "</xb:", name, ">\n") }

// ImportResult is what one run of the bursar import job did.
type ImportResult struct {
	Files []ImportedFile
}

// ImportedFile is what the import job did with one file.
type ImportedFile struct {
	Name   string // path in the drop
	SHA256 string // hex
	// Skipped says why the file was not read again: it was imported
	// before (by name, or with the same content under another name).
	Skipped string
	// Err is a failure of the whole file (unreadable, or not a bursar
	// file): nothing of it was applied, and it is not remembered, so the
	// next run tries it again.
	Err      error
	Applied  []ImportedPayment
	Rejected []RejectedRecord
}

// ImportedPayment is one payment the import applied.
type ImportedPayment struct {
	Record        int // 1-based position of the userFineFee in the file
	TransactionID string
	Type          fees.Type // the type of the fee paid
	FeeID         string
	UserID        string
	Amount        fees.Money
	// Balance and Status are the fee's after the payment: a partial
	// payment lowers the balance, a full one closes the fee.
	Balance fees.Money
	Status  fees.Status
}

// RejectedRecord is a record the import refused: unknown
// bursarTransactionId, one shared by fees of several types without a
// fineFeeType naming one of them, another user's fee, a bad amount, a payment above
// the balance, a fee closed or never transferred. Nothing is guessed.
type RejectedRecord struct {
	Record        int
	Line          int
	TransactionID string
	Type          fees.Type // fineFeeType as written, if any
	UserID        string
	Sum           string // compositeSum/sum as written
	Reason        string
	// Err is the domain refusal (a *fees.Error) when there is one.
	Err error
}

// Applied returns every payment applied, in every file.
func (r ImportResult) Applied() []ImportedPayment {
	var out []ImportedPayment
	for _, f := range r.Files {
		out = append(out, f.Applied...)
	}
	return out
}

// Rejected returns every record refused, in every file.
func (r ImportResult) Rejected() []RejectedRecord {
	var out []RejectedRecord
	for _, f := range r.Files {
		out = append(out, f.Rejected...)
	}
	return out
}

// RunImport is Alma's hourly bursar import (flow F3): it reads every .xml
// file in dir, in name order, and applies each userFineFee as a payment of
// compositeSum on the fee with that bursarTransactionId and fineFeeType
// (the fee type may be left out when the id is one fee's alone), as the bursar's
// cashier takes it: a partial payment lowers the (transferred) balance, a
// full one closes the fee. Records it cannot apply are reported in the
// result, never guessed. A file is imported once: a file whose name or
// content (SHA-256) was imported before is skipped. Files are left where
// they are, as Alma leaves them.
func (s *Server) RunImport(ctx context.Context, drop Folder, dir string) (ImportResult, error) {
	var res ImportResult
	if drop == nil {
		return res, errors.New("almatest: import: no drop to read from")
	}
	entries, err := drop.List(ctx, dir)
	if err != nil {
		return res, fmt.Errorf("almatest: import from %q: %w", dir, err)
	}
	slices.SortFunc(entries, func(a, b transport.FileInfo) int { return strings.Compare(a.Name, b.Name) })
	for _, e := range entries {
		if e.IsDir || !strings.EqualFold(path.Ext(e.Name), ".xml") {
			continue
		}
		if err := ctx.Err(); err != nil {
			return res, err
		}
		name := e.Name
		if dir != "" && dir != "." {
			name = path.Join(dir, e.Name)
		}
		res.Files = append(res.Files, s.importFile(ctx, drop, name))
	}
	return res, nil
}

func (s *Server) importFile(ctx context.Context, drop Folder, name string) ImportedFile {
	out := ImportedFile{Name: name}
	s.mu.Lock()
	_, seen := s.imported[name]
	s.mu.Unlock()
	if seen {
		out.Skipped = "already imported"
		out.SHA256 = s.importedSHA(name)
		return out
	}
	data, err := drop.ReadFile(ctx, name)
	if err != nil {
		out.Err = fmt.Errorf("almatest: import %s: %w", name, err)
		return out
	}
	sum := sha256.Sum256(data)
	out.SHA256 = hex.EncodeToString(sum[:])
	recs, err := parseImport(data)
	if err != nil {
		out.Err = fmt.Errorf("almatest: import %s: %w", name, err)
		return out
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if prev, ok := s.importSHA[out.SHA256]; ok {
		out.Skipped = "same content as " + prev + ", already imported"
		return out
	}
	for _, rec := range recs {
		p, rej := s.applyImportLocked(rec)
		if rej != nil {
			out.Rejected = append(out.Rejected, *rej)
			continue
		}
		out.Applied = append(out.Applied, p)
	}
	s.imported[name] = out.SHA256
	s.importSHA[out.SHA256] = name
	return out
}

func (s *Server) importedSHA(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.imported[name]
}

func (s *Server) applyImportLocked(rec importRecord) (ImportedPayment, *RejectedRecord) {
	reject := func(err error, format string, args ...any) (ImportedPayment, *RejectedRecord) {
		return ImportedPayment{}, &RejectedRecord{
			Record: rec.index, Line: rec.line, TransactionID: rec.TxnID, Type: fees.Type(rec.Type), UserID: rec.user,
			Sum: rec.Sum.Sum, Reason: fmt.Sprintf(format, args...), Err: err,
		}
	}
	if rec.TxnID == "" {
		return reject(nil, "record %d (line %d) has no bursarTransactionId", rec.index, rec.line)
	}
	r, why := s.importMatchLocked(rec)
	if r == nil {
		return reject(nil, "%s", why)
	}
	if rec.user != "" && rec.user != r.f.UserID {
		return reject(nil, "bursarTransactionId %s is fee %s of another user, not of %s", rec.TxnID, r.f.ID, rec.user)
	}
	cur, err := fees.ParseCurrency(rec.Sum.Currency)
	if err != nil {
		return reject(err, "bursarTransactionId %s: currency %q: %v", rec.TxnID, rec.Sum.Currency, err)
	}
	amount, err := fees.ParseMoney(rec.Sum.Sum, cur)
	if err != nil {
		return reject(err, "bursarTransactionId %s: sum %q: %v", rec.TxnID, rec.Sum.Sum, err)
	}
	now := s.clock.Now()
	// Fee.Pay decides (R4, by fees.CheckPayment): a sum that is not
	// positive, above the balance, or on a closed fee is refused with its
	// code in RejectedRecord.Err.
	err = r.f.Pay(fees.Payment{
		FeeID: r.f.ID, TransactionID: r.f.TransactionID, UserID: r.f.UserID, Amount: amount,
		Channel: fees.ChannelCashier, Method: fees.MethodCash, Date: now,
	})
	if err != nil {
		return reject(err, "bursarTransactionId %s (fee %s): %v", rec.TxnID, r.f.ID, err)
	}
	r.txns = append(r.txns, Transaction{
		ID: s.newID(kindTxn), Type: "PAYMENT", Amount: amount, Method: "BURSAR",
		Comment: "Payment imported", Time: now, CreatedBy: "Bursar import", Transferred: true,
	})
	return ImportedPayment{
		Record: rec.index, TransactionID: rec.TxnID, Type: r.f.Type, FeeID: r.f.ID, UserID: r.f.UserID,
		Amount: amount, Balance: r.f.Balance, Status: r.f.Status,
	}, nil
}

// importMatchLocked finds the fee an import record pays, by its charge key
// (bursarTransactionId and fineFeeType, see [fees.ChargeKey]). When the id
// is one fee's alone, the id is enough; when fees of several types share
// it, the record must name one of their types, or it is not matched: the
// fake never guesses which fee a payment was for. It returns nil and why
// when nothing matches.
func (s *Server) importMatchLocked(rec importRecord) (*feeRec, string) {
	rs := s.feeByTxn[rec.TxnID]
	typ := fees.Type(rec.Type)
	switch {
	case len(rs) == 0:
		return nil, fmt.Sprintf("no fee has bursarTransactionId %s", rec.TxnID)
	case len(rs) == 1:
		return rs[0], ""
	case typ == "":
		return nil, fmt.Sprintf("bursarTransactionId %s is shared by %d fees and the record has no fineFeeType", rec.TxnID, len(rs))
	}
	for _, r := range rs {
		if r.f.Type == typ {
			return r, ""
		}
	}
	return nil, fmt.Sprintf("no fee has bursarTransactionId %s and fineFeeType %s (%d fees of other types share the id)", rec.TxnID, typ, len(rs))
}

type importRecord struct {
	index int
	line  int
	user  string
	Type  string `xml:"fineFeeType"`
	Sum   struct {
		Currency string `xml:"currency"`
		Sum      string `xml:"sum"`
	} `xml:"compositeSum"`
	TxnID string `xml:"bursarTransactionId"`
}

// parseImport reads the userFineFee records of a bursar file, each with
// the user/value it sits under. It is the fake's own reader, written apart
// from package alma's decoder so that each checks the other.
func parseImport(data []byte) ([]importRecord, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	var recs []importRecord
	user := ""
	root := false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			line, _ := d.InputPos()
			return nil, fmt.Errorf("line %d: malformed XML: %w", line, err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if !root {
			if se.Name.Space != bursarNS {
				return nil, fmt.Errorf("root element %s is not in the bursar namespace", se.Name.Local)
			}
			root = true
		}
		switch se.Name.Local {
		case "user":
			var u struct {
				Value string `xml:"value"`
			}
			if err := d.DecodeElement(&u, &se); err != nil {
				line, _ := d.InputPos()
				return nil, fmt.Errorf("line %d: user: %w", line, err)
			}
			user = strings.TrimSpace(u.Value)
		case "userFineFee":
			line, _ := d.InputPos()
			var r importRecord
			if err := d.DecodeElement(&r, &se); err != nil {
				return nil, fmt.Errorf("line %d: userFineFee: %w", line, err)
			}
			r.index, r.line, r.user = len(recs)+1, line, user
			r.TxnID = strings.TrimSpace(r.TxnID)
			r.Type = strings.TrimSpace(r.Type)
			r.Sum.Sum = strings.TrimSpace(r.Sum.Sum)
			r.Sum.Currency = strings.TrimSpace(r.Sum.Currency)
			recs = append(recs, r)
		case "userExportedFineFeesList":
			user = ""
		}
	}
	if !root {
		return nil, errors.New("empty file")
	}
	return recs, nil
}
