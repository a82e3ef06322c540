package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile"
)

// opsFlags are the flags of the operator commands: reconcile's output
// format and whether student ids are shown whole.
type opsFlags struct {
	format  string // reconcile: table, csv or json
	showIDs bool   // reconcile, show: student ids unmasked, for staff
}

// The formats of `feesync reconcile -format`.
const (
	formatTable = "table"
	formatCSV   = "csv"
	formatJSON  = "json"
)

// disagreementHeader names the columns of reconcile's rows.
var disagreementHeader = []string{"STUDENT", "FEE_ID", "FEE_TYPE", "TRANSACTION", "SIDE", "ALMA_STATUS", "ALMA", "BURSAR", "PROBLEM"}

// disagreementRow is one row of `feesync reconcile`, in the JSON format
// too. Side tells which side the row is about: "fee" for one fee Alma and
// the bursar disagree on, "student total" for the bursar's statement of
// a student's total.
type disagreementRow struct {
	Student     string `json:"student"`
	FeeID       string `json:"fee_id"`
	FeeType     string `json:"fee_type"`
	Transaction string `json:"transaction"`
	Side        string `json:"side"`
	AlmaStatus  string `json:"alma_status"`
	Alma        string `json:"alma"`
	Bursar      string `json:"bursar"`
	Problem     string `json:"problem"`
}

func (r disagreementRow) cells() []string {
	return []string{dash(r.Student), dash(r.FeeID), dash(r.FeeType), dash(r.Transaction), r.Side,
		dash(r.AlmaStatus), dash(r.Alma), dash(r.Bursar), oneLine(r.Problem)}
}

func moneyText(m fees.Money) string {
	if !m.Valid() {
		return ""
	}
	return m.String()
}

// rowOf is the row of disagreement d, the student id masked unless show.
func rowOf(d reconcile.Disagreement, show bool) disagreementRow {
	side := "fee"
	if d.FeeID == "" {
		side = "student total"
	}
	status := ""
	if d.AlmaStatus != 0 {
		status = d.AlmaStatus.String()
	}
	return disagreementRow{Student: maskIf(d.UserID, !show), FeeID: d.FeeID, FeeType: string(d.FeeType),
		Transaction: d.TransactionID, Side: side, AlmaStatus: status,
		Alma: moneyText(d.Alma), Bursar: moneyText(d.Bursar), Problem: d.Problem}
}

// checkFormat refuses a -format reconcile does not write.
func checkFormat(f string) error {
	switch f {
	case "", formatTable, formatCSV, formatJSON:
		return nil
	}
	return usagef("reconcile: -format %q is not table, csv or json", f)
}

// printDisagreements writes the disagreements on stdout in the -format
// chosen (a table by default), under a header; student ids are masked
// unless -show-ids or log.show_student_ids.
func (m *Main) printDisagreements(ds []reconcile.Disagreement) {
	if len(ds) == 0 && m.ops.format != formatJSON {
		return
	}
	show := m.ops.showIDs || m.config.Log.ShowStudentIDs
	rows := make([]disagreementRow, 0, len(ds))
	for _, d := range ds {
		rows = append(rows, rowOf(d, show))
	}
	if err := writeRows(m.Stdout, m.ops.format, rows); err != nil {
		m.logger.Error("reconcile: writing the rows", "err", err.Error())
	}
}

// writeRows writes rows to w in format f.
func writeRows(w io.Writer, f string, rows []disagreementRow) error {
	switch f {
	case formatJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	case formatCSV:
		cw := csv.NewWriter(w)
		_ = cw.Write(disagreementHeader)
		for _, r := range rows {
			_ = cw.Write(r.cells())
		}
		cw.Flush()
		return cw.Error()
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for i, h := range disagreementHeader {
		sep := "\t"
		if i == len(disagreementHeader)-1 {
			sep = "\n"
		}
		fmt.Fprint(tw, h, sep)
	}
	for _, r := range rows {
		for i, c := range r.cells() {
			sep := "\t"
			if i == len(disagreementHeader)-1 {
				sep = "\n"
			}
			fmt.Fprint(tw, c, sep)
		}
	}
	return tw.Flush()
}
