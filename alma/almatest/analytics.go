package almatest

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/feebridge/feebridge/fees"
)

// ReportColumns are the columns of the one Analytics report the fake
// serves, whatever its path: lost-item fees still open whose item is no
// longer lost (the staff's daily fallback report of flow F6). Column0 is
// Alma's leading "0" column; Column1 to Column8 hold these fields, in
// this order.
var ReportColumns = []string{
	"Primary Identifier", "Fine Fee Id", "Fine Fee Type", "Barcode",
	"Title", "Remaining Amount", "Fine Fee Status", "Bursar Transaction Id",
}

type reportCursor struct {
	rows [][]string
	next int
	cols []string // the headings of Column1…; nil means ReportColumns
	// fees, when set, is the open fees snapshot the cursor reads,
	// rendered page by page instead of rows (feesReportPageLocked).
	fees *analyticsState
}

// reportRowsLocked builds the report from the model.
func (s *Server) reportRowsLocked() [][]string {
	var rows [][]string
	for _, id := range s.feeOrder {
		f := &s.feeByID[id].f
		if !f.Type.IsLostItem() || f.Status == fees.StatusClosed || f.Item.Barcode == "" {
			continue
		}
		if it := s.items[f.Item.Barcode]; it != nil && it.ProcessType == "LOST_LOAN" {
			continue
		}
		rows = append(rows, []string{
			f.UserID, f.ID, string(f.Type), f.Item.Barcode, f.Item.Title,
			f.Balance.Amount(), f.Status.AlmaCode(), f.TransactionID,
		})
	}
	return rows
}

// getReport is GET analytics/reports?path=&limit=&token=. The first call
// (with path) takes a snapshot of the report and answers its first page
// with a ResumptionToken; later calls pass token and get the next pages;
// IsFinished is true on the last one. limit is 1 to 1000 (default 25).
// The answer is XML, or {"anies":[xml]} when JSON is asked for, as in
// Alma.
func (s *Server) getReport(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit := 25
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			return errParam("limit %q: must be 1 to 1000", l)
		}
		limit = n
	}
	pg, err := s.reportPage(q.Get("path"), q.Get("token"), limit)
	if err != nil {
		return err
	}
	body := pg.xml()
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, map[string][]string{"anies": {body}})
		return nil
	}
	w.Header().Set("Content-Type", "application/xml;charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, `%s<report>%s</report>`, xml.Header, body)
	return nil
}

// reportPageOut is one answer of the report API: the rows of a page, and
// on the first page the token and the columns' headings.
type reportPageOut struct {
	token    string // set on the first page only
	cols     []string
	rows     [][]string
	finished bool
}

// reportPage opens a run of the report at path (token empty) or goes on
// with the run of token, and takes its next page of at most limit rows.
func (s *Server) reportPage(path, token string, limit int) (reportPageOut, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.reports == nil {
		s.reports = map[string]*reportCursor{}
	}
	var out reportPageOut
	c := s.reports[token]
	switch {
	case token == "" && path == "":
		return out, errParam("path or token is mandatory")
	case token == "":
		s.counters[kindReport]++
		token = fmt.Sprintf("%X", 0x5EED0000+s.counters[kindReport])
		if s.opts.Analytics != nil && path == s.opts.Analytics.FeesReportPath {
			snap := s.analytics
			c = &reportCursor{cols: FeesReportColumns, fees: &snap}
		} else {
			c = &reportCursor{rows: s.reportRowsLocked()}
		}
		s.reports[token] = c
		out.token = token
	case c == nil:
		return out, errParam("token %q is not valid or has expired", token)
	}
	n := len(c.rows)
	if c.fees != nil {
		n = len(c.fees.rows)
		out.rows = s.feesReportPageLocked(c.fees, c.next, min(c.next+limit, n))
	} else {
		out.rows = c.rows[c.next:min(c.next+limit, n)]
	}
	out.cols = c.cols
	if out.cols == nil {
		out.cols = ReportColumns
	}
	c.next += len(out.rows)
	out.finished = c.next >= n
	return out, nil
}

// xml writes the page as Alma's QueryResult.
func (p reportPageOut) xml() string {
	first := p.token != ""
	var b strings.Builder
	b.WriteString("<QueryResult>")
	if first {
		fmt.Fprintf(&b, "<ResumptionToken>%s</ResumptionToken>", p.token)
	}
	fmt.Fprintf(&b, "<IsFinished>%t</IsFinished><ResultXml>", p.finished)
	b.WriteString(`<rowset xmlns="urn:schemas-microsoft-com:xml-analysis:rowset">`)
	if first {
		b.WriteString(`<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:saw-sql="urn:saw-sql" targetNamespace="urn:schemas-microsoft-com:xml-analysis:rowset">`)
		b.WriteString(`<xsd:complexType name="Row"><xsd:sequence>`)
		b.WriteString(`<xsd:element name="Column0" type="xsd:string" minOccurs="0" maxOccurs="1" saw-sql:columnHeading="0"/>`)
		for i, h := range p.cols {
			fmt.Fprintf(&b, `<xsd:element name="Column%d" type="xsd:string" minOccurs="0" maxOccurs="1" saw-sql:columnHeading="%s"/>`, i+1, xmlEscape(h))
		}
		b.WriteString(`</xsd:sequence></xsd:complexType></xsd:schema>`)
	}
	for _, row := range p.rows {
		b.WriteString("<Row><Column0>0</Column0>")
		for i, v := range row {
			fmt.Fprintf(&b, "<Column%d>%s</Column%d>", i+1, xmlEscape(v), i+1)
		}
		b.WriteString("</Row>")
	}
	b.WriteString("</rowset></ResultXml></QueryResult>")
	return b.String()
}

func xmlEscape(v string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(v))
	return b.String()
}
