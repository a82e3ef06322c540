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
	token := q.Get("token")
	s.mu.Lock()
	if s.reports == nil {
		s.reports = map[string]*reportCursor{}
	}
	first := token == ""
	var c *reportCursor
	if first {
		if q.Get("path") == "" {
			s.mu.Unlock()
			return errParam("path or token is mandatory")
		}
		s.counters[kindReport]++
		token = fmt.Sprintf("%X", 0x5EED0000+s.counters[kindReport])
		if p := q.Get("path"); s.opts.Analytics != nil && p == s.opts.Analytics.FeesReportPath {
			snap := s.analytics
			c = &reportCursor{cols: FeesReportColumns, fees: &snap}
		} else {
			c = &reportCursor{rows: s.reportRowsLocked()}
		}
		s.reports[token] = c
	} else if c = s.reports[token]; c == nil {
		s.mu.Unlock()
		return errParam("token %q is not valid or has expired", token)
	}
	var page [][]string
	n := len(c.rows)
	if c.fees != nil {
		n = len(c.fees.rows)
		page = s.feesReportPageLocked(c.fees, c.next, min(c.next+limit, n))
	} else {
		page = c.rows[c.next:min(c.next+limit, n)]
	}
	cols := c.cols
	if cols == nil {
		cols = ReportColumns
	}
	c.next += len(page)
	finished := c.next >= n
	s.mu.Unlock()

	var b strings.Builder
	b.WriteString("<QueryResult>")
	if first {
		fmt.Fprintf(&b, "<ResumptionToken>%s</ResumptionToken>", token)
	}
	fmt.Fprintf(&b, "<IsFinished>%t</IsFinished><ResultXml>", finished)
	b.WriteString(`<rowset xmlns="urn:schemas-microsoft-com:xml-analysis:rowset">`)
	if first {
		b.WriteString(`<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:saw-sql="urn:saw-sql" targetNamespace="urn:schemas-microsoft-com:xml-analysis:rowset">`)
		b.WriteString(`<xsd:complexType name="Row"><xsd:sequence>`)
		b.WriteString(`<xsd:element name="Column0" type="xsd:string" minOccurs="0" maxOccurs="1" saw-sql:columnHeading="0"/>`)
		for i, h := range cols {
			fmt.Fprintf(&b, `<xsd:element name="Column%d" type="xsd:string" minOccurs="0" maxOccurs="1" saw-sql:columnHeading="%s"/>`, i+1, xmlEscape(h))
		}
		b.WriteString(`</xsd:sequence></xsd:complexType></xsd:schema>`)
	}
	for _, row := range page {
		b.WriteString("<Row><Column0>0</Column0>")
		for i, v := range row {
			fmt.Fprintf(&b, "<Column%d>%s</Column%d>", i+1, xmlEscape(v), i+1)
		}
		b.WriteString("</Row>")
	}
	b.WriteString("</rowset></ResultXml></QueryResult>")

	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, map[string][]string{"anies": {b.String()}})
		return nil
	}
	w.Header().Set("Content-Type", "application/xml;charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, `%s<report>%s</report>`, xml.Header, b.String())
	return nil
}

func xmlEscape(v string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(v))
	return b.String()
}
