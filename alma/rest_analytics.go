package alma

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// reportPage is how many rows RunReport asks for per call (Alma's
// maximum is 1000).
const reportPage = 1000

// maxEmptyPages bounds how long RunReport waits for a report that Alma is
// still running: each unfinished page without rows costs a call.
const maxEmptyPages = 30

// maxReportPages bounds a run, against a server that never says
// IsFinished: 10,000 pages of 1,000 rows.
const maxReportPages = 10000

// RunReport runs the Analytics report at path (such as
// "/shared/Campus/Reports/Lost items with fees") and calls fn with each
// row, in order, keyed by column heading ("Column1", "Column2"… when the
// report has no heading for a column, or two columns share one). It
// follows Alma's paging: the first answer carries a ResumptionToken, and
// pages are read until IsFinished is true. An error from fn stops the run
// and is returned as it is.
func (c *Client) RunReport(ctx context.Context, path string, fn func(row map[string]string) error) error {
	if path == "" {
		return errors.New("alma: run report: empty path")
	}
	headings := map[string]string{}
	token := ""
	empty := 0
	for page := 1; ; page++ {
		if page > maxReportPages {
			return &Error{Status: http.StatusOK, Method: http.MethodGet, Path: "analytics/reports",
				Message: fmt.Sprintf("report %q: not finished after %d pages", path, maxReportPages)}
		}
		q := url.Values{"path": {path}, "limit": {strconv.Itoa(reportPage)}, "col_names": {"true"}}
		if token != "" {
			q.Set("token", token)
		}
		var body []byte
		err := c.do(ctx, &request{op: "run_report", method: http.MethodGet, path: []string{"analytics", "reports"}, query: q, xml: true, raw: &body})
		if err != nil {
			return err
		}
		res, err := parseReportPage(body, headings, fn)
		if err != nil {
			if res.fnErr {
				return err
			}
			return &Error{Status: http.StatusOK, Method: http.MethodGet, Path: "analytics/reports",
				Message: fmt.Sprintf("report %q page %d: malformed answer", path, page), Err: err}
		}
		if res.finished {
			return nil
		}
		if res.token != "" {
			token = res.token
		}
		if token == "" {
			return &Error{Status: http.StatusOK, Method: http.MethodGet, Path: "analytics/reports",
				Message: fmt.Sprintf("report %q page %d: not finished and no resumption token", path, page)}
		}
		if res.rows > 0 {
			empty = 0
			continue
		}
		// Alma is still running the report: wait a little and ask again.
		if empty++; empty > maxEmptyPages {
			return &Error{Status: http.StatusOK, Method: http.MethodGet, Path: "analytics/reports",
				Message: fmt.Sprintf("report %q: still not finished after %d empty pages", path, empty-1)}
		}
		if err := c.sleep(ctx, c.backoff(min(empty, 4), 0)); err != nil {
			return err
		}
	}
}

type reportResult struct {
	token    string
	finished bool
	rows     int
	fnErr    bool // the error came from the row callback
}

// parseReportPage reads one page of an Analytics answer:
//
//	<report><QueryResult>
//	  <ResumptionToken>…</ResumptionToken><IsFinished>false</IsFinished>
//	  <ResultXml><rowset xmlns="urn:schemas-microsoft-com:xml-analysis:rowset">
//	    <xsd:schema>… <xsd:element name="Column1" saw-sql:columnHeading="Barcode"/> …</xsd:schema>
//	    <Row><Column0>0</Column0><Column1>3900012</Column1></Row> …
//
// Column headings found in the schema (sent on the first page only) are
// added to headings, which carries them to later pages.
func parseReportPage(body []byte, headings map[string]string, fn func(map[string]string) error) (reportResult, error) {
	var res reportResult
	d := xml.NewDecoder(bytes.NewReader(body))
	var row map[string]string
	var field string // element whose text is being read
	var text strings.Builder
	seenResult := false
	used := map[string]int{}
	for _, h := range headings {
		used[h]++
	}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return res, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			name := t.Name.Local
			switch {
			case name == "QueryResult":
				seenResult = true
			case name == "element" && strings.HasPrefix(attr(t, "name"), "Column"):
				col, h := attr(t, "name"), attr(t, "columnHeading")
				if h != "" && headings[col] == "" {
					headings[col] = h
					used[h]++
				}
			case name == "Row":
				row = map[string]string{}
			case name == "ResumptionToken" || name == "IsFinished" || (row != nil && strings.HasPrefix(name, "Column")):
				field = name
				text.Reset()
			}
		case xml.CharData:
			if field != "" {
				text.Write(t)
			}
		case xml.EndElement:
			name := t.Name.Local
			switch {
			case name == field && name == "ResumptionToken":
				res.token = strings.TrimSpace(text.String())
			case name == field && name == "IsFinished":
				res.finished = strings.EqualFold(strings.TrimSpace(text.String()), "true")
			case name == field && row != nil:
				key := name
				if h := headings[name]; h != "" && used[h] == 1 {
					key = h
				}
				row[key] = text.String()
			case name == "Row" && row != nil:
				res.rows++
				if err := fn(row); err != nil {
					res.fnErr = true
					return res, err
				}
				row = nil
			}
			if name == field {
				field = ""
			}
		}
	}
	if !seenResult {
		return res, errors.New("no QueryResult element")
	}
	return res, nil
}

func attr(t xml.StartElement, local string) string {
	for _, a := range t.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}
