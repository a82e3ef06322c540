package alma

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ActionJobEnd is the action of the deliveries Alma sends when a job ends
// (the JOB_END event of a webhook integration profile).
const ActionJobEnd = "JOB_END"

// The statuses a job instance ends with (job_instance.status.value), as
// Alma's jobs API lists them.
const (
	JobCompletedSuccess = "COMPLETED_SUCCESS"
	JobCompletedNoBulks = "COMPLETED_NO_BULKS" // nothing to do: no file
	JobCompletedWarning = "COMPLETED_WARNING"
	JobCompletedFailed  = "COMPLETED_FAILED"
	JobFailed           = "FAILED"
	JobCancelled        = "CANCELLED"
	JobSystemCancelled  = "SYSTEM_CANCELLED"
	JobSkipped          = "SKIPPED"
)

// The counters of the bursar export job (job_instance.counter[].type.value),
// named as Alma describes them ("Total number of users", "Total number of
// fines and fees"). The same codes come with the export of credits, which
// is a bursar export job too.
const (
	CounterBursarUsers     = "com.exlibris.external.bursar.report.user_count"
	CounterBursarFinesFees = "com.exlibris.external.bursar.report.fines_fees_count"
)

// Limits on a JOB_END delivery: a job instance with more counters, or a
// counter value out of range, is refused as malformed.
const (
	maxJobCounters = 256
	maxCounterLen  = 200
)

// JobEnd is the job instance a JOB_END delivery reports.
type JobEnd struct {
	InstanceID string // job_instance.id: this run of the job
	JobID      string // job_instance.job_info.id: the job, the same every run
	Name       string // job_instance.name, such as "Export to bursar - BURSAR"
	Status     string // job_instance.status.value, such as COMPLETED_SUCCESS
	StatusDesc string // job_instance.status.desc, Alma's words for it
	Started    time.Time
	Ended      time.Time
	// Counters are the job's counters by their type code (the
	// Counter… constants for the bursar export). A counter given twice
	// keeps its last value.
	Counters map[string]int64
}

// Succeeded reports whether the job ended well: COMPLETED_SUCCESS, or
// COMPLETED_WARNING (it ran to the end; its counters say what it did).
func (e JobEnd) Succeeded() bool {
	return e.Status == JobCompletedSuccess || e.Status == JobCompletedWarning
}

// Failed reports whether the job ended badly: neither it ended well nor
// it had nothing to do (COMPLETED_NO_BULKS). Failed and cancelled runs
// alike.
func (e JobEnd) Failed() bool { return !e.Succeeded() && e.Status != JobCompletedNoBulks }

// Count returns the counter of type code and whether the job sent it.
func (e JobEnd) Count(code string) (int64, bool) {
	n, ok := e.Counters[code]
	return n, ok
}

type jobEndJSON struct {
	ID        flexString    `json:"id"`
	Name      string        `json:"name"`
	Status    codeValue     `json:"status"`
	StartTime string        `json:"start_time"`
	EndTime   string        `json:"end_time"`
	Counter   []counterJSON `json:"counter"`
	JobInfo   *struct {
		ID   flexString `json:"id"`
		Name string     `json:"name"`
	} `json:"job_info"`
}

type counterJSON struct {
	Type  codeValue  `json:"type"`
	Value flexString `json:"value"`
}

// jobEnd checks and converts the job_instance of a JOB_END delivery.
func (j *jobEndJSON) jobEnd() (*JobEnd, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("alma: JOB_END: job_instance: "+format, args...)
	}
	e := &JobEnd{InstanceID: strings.TrimSpace(string(j.ID)), Name: strings.TrimSpace(j.Name),
		Status: strings.TrimSpace(j.Status.Value), StatusDesc: j.Status.Desc}
	if j.JobInfo != nil {
		e.JobID = strings.TrimSpace(string(j.JobInfo.ID))
		if e.Name == "" {
			e.Name = strings.TrimSpace(j.JobInfo.Name)
		}
	}
	switch {
	case e.InstanceID == "":
		return nil, bad("no id")
	case e.Status == "":
		return nil, bad("instance %s: no status", e.InstanceID)
	case len(j.Counter) > maxJobCounters:
		return nil, bad("instance %s: %d counters, more than %d", e.InstanceID, len(j.Counter), maxJobCounters)
	}
	var err error
	if e.Started, err = almaTime(j.StartTime); err != nil {
		return nil, bad("instance %s: start_time: %v", e.InstanceID, err)
	}
	if e.Ended, err = almaTime(j.EndTime); err != nil {
		return nil, bad("instance %s: end_time: %v", e.InstanceID, err)
	}
	e.Counters = make(map[string]int64, len(j.Counter))
	for i, c := range j.Counter {
		code, v := strings.TrimSpace(c.Type.Value), strings.TrimSpace(string(c.Value))
		if code == "" || len(code) > maxCounterLen {
			return nil, bad("instance %s: counter %d: no type, or one too long", e.InstanceID, i+1)
		}
		n, perr := strconv.ParseInt(v, 10, 64)
		if perr != nil || n < 0 {
			return nil, bad("instance %s: counter %s: value %q is not a count", e.InstanceID, code, truncate(v, 40))
		}
		e.Counters[code] = n
	}
	return e, nil
}

// parseJobEnd decodes the job_instance of a JOB_END delivery; raw is nil
// or JSON null when the delivery has none.
func parseJobEnd(raw json.RawMessage) (*JobEnd, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, errors.New("alma: JOB_END: no job_instance")
	}
	var j jobEndJSON
	if err := json.Unmarshal(raw, &j); err != nil {
		return nil, fmt.Errorf("alma: JOB_END: job_instance: %w", err)
	}
	return j.jobEnd()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
