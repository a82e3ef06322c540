package reconcile

import (
	"fmt"
	"strings"
)

// countMismatchMark is in the reason of every file failed by the count
// check (CountMismatchError), and in no other.
const countMismatchMark = "said it exported"

// countRow is the report's row of a file that the count check sent to
// failed/, and false for another failed file.
func countRow(f FileRecord) (reportRow, bool) {
	if !strings.Contains(f.Reason, countMismatchMark) {
		return reportRow{}, false
	}
	return reportRow{Item: "Export not applied", Type: f.Job, File: f.Name,
		What: fmt.Sprintf("Alma's export %s does not hold what Alma's job said it exported, so nothing of it was sent to the bursar: %s.",
			f.Name, plainReason("", f.Reason)),
		Do: "In Alma (Monitor Jobs) see what the export job did; run it again, and the new file is read on the next run. " +
			"The file is in the failed/ folder with its reason.",
		Details: f.Reason}, true
}

// almaJobRows are the report's rows of Alma's jobs that failed or were
// cancelled.
func (r Report) almaJobRows() []reportRow {
	var out []reportRow
	for _, e := range r.FailedAlmaJobs {
		status := e.StatusDesc
		if status == "" {
			status = e.Status
		}
		do := "Look at the job in Alma (Monitor Jobs, process " + e.InstanceID + ") and run it again once fixed."
		if e.Job != "" {
			do += fmt.Sprintf(" Until it runs well, feesync's %s job has no new file to read.", e.Job)
		}
		out = append(out, reportRow{Item: "Alma job failed", Type: e.Job, Key: e.InstanceID,
			What: fmt.Sprintf("Alma's job %q ended on %s without finishing its work: %s (%s).",
				e.Name, e.Received.Format("Monday 2 January 2006 15:04"), strings.ToLower(status), e.Status),
			Do: do, Details: e.Status})
	}
	return out
}
