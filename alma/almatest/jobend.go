package almatest

import (
	"encoding/json"
	"slices"
	"time"
)

// EventJobEnd is the webhook event the fake sends when its export jobs
// end, when Options.WebhookEvents lists it (as an Alma webhook profile
// subscribed to "Job end" does).
const EventJobEnd = "JOB_END"

// The job end statuses the fake sends.
const (
	JobCompletedSuccess = "COMPLETED_SUCCESS"
	JobCompletedNoBulks = "COMPLETED_NO_BULKS"
	JobCompletedFailed  = "COMPLETED_FAILED"
)

// The counters of the bursar export in a JOB_END (see alma's Counter…
// constants).
const (
	counterUsers     = "com.exlibris.external.bursar.report.user_count"
	counterFinesFees = "com.exlibris.external.bursar.report.fines_fees_count"
)

// ExportJobName is the name of the fake's export to bursar of profile, as
// its JOB_END gives it; CreditExportJobName that of its export of credits.
func ExportJobName(profile string) string { return "Export to Bursar - " + profile }

// CreditExportJobName is the name of the fake's export of credits of
// profile; see [ExportJobName].
func CreditExportJobName(profile string) string { return "Export credits to Bursar - " + profile }

// JobEndFault makes the next run of an export job end otherwise than well.
type JobEndFault struct {
	// Records and Users are added to the counts the JOB_END announces:
	// a wrong count for a file that is right.
	Records, Users int
	// Status, when set and not COMPLETED_SUCCESS, is the status the job
	// ends with, such as COMPLETED_FAILED: the job then writes no file
	// and transfers no fee, and its JOB_END carries no counts.
	Status string
}

// jobEndFaults are the faults set for the next run of each export job.
type jobEndFaults struct{ export, credit *JobEndFault }

// FailNextExport makes the next run of the export to bursar end as f
// says, once.
func (s *Server) FailNextExport(f JobEndFault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jobEnds.export = &f
}

// FailNextCreditExport makes the next run of the export of credits end
// as f says, once.
func (s *Server) FailNextCreditExport(f JobEndFault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jobEnds.credit = &f
}

// takeJobEndFaultLocked returns the fault set for the next run of the
// export (credit: of credits), and clears it; nil when none.
func (s *Server) takeJobEndFaultLocked(credit bool) *JobEndFault {
	p := &s.jobEnds.export
	if credit {
		p = &s.jobEnds.credit
	}
	f := *p
	*p = nil
	return f
}

// jobFailedLocked tells whether f makes the job fail: then it queues the
// JOB_END of the failed run, and the job writes nothing.
func (s *Server) jobFailedLocked(f *JobEndFault, credit bool, profile string, started time.Time) bool {
	if f == nil || f.Status == "" || f.Status == JobCompletedSuccess {
		return false
	}
	s.queueJobEndLocked(credit, profile, s.newID(kindExport), f.Status, nil, started)
	return true
}

// jobEndedLocked queues the JOB_END of an export run that wrote res
// (nothing, when res.File is empty), with its counts, as f alters them.
func (s *Server) jobEndedLocked(f *JobEndFault, credit bool, profile string, res ExportResult, started time.Time) {
	if !slices.Contains(s.opts.WebhookEvents, EventJobEnd) {
		return
	}
	if res.File == "" {
		s.queueJobEndLocked(credit, profile, s.newID(kindExport), JobCompletedNoBulks,
			map[string]int64{counterUsers: 0, counterFinesFees: 0}, started)
		return
	}
	users := map[string]bool{}
	for _, r := range res.Records {
		users[r.UserID] = true
	}
	counts := map[string]int64{counterUsers: int64(len(users)), counterFinesFees: int64(len(res.Records))}
	if f != nil {
		counts[counterUsers] += int64(f.Users)
		counts[counterFinesFees] += int64(f.Records)
	}
	s.queueJobEndLocked(credit, profile, res.JobID, JobCompletedSuccess, counts, started)
}

type jobEndCounter struct {
	Type  codeDesc `json:"type"`
	Value string   `json:"value"`
}

type jobEndInstance struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Progress  int             `json:"progress"`
	Status    codeDesc        `json:"status"`
	StartTime string          `json:"start_time"`
	EndTime   string          `json:"end_time"`
	JobInfo   nameValueID     `json:"job_info"`
	Counter   []jobEndCounter `json:"counter"`
}

type nameValueID struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type jobEndEvent struct {
	ID          string         `json:"id"`
	Action      string         `json:"action"`
	Institution codeDesc       `json:"institution"`
	Time        string         `json:"time"`
	Event       codeDesc       `json:"event"`
	JobInstance jobEndInstance `json:"job_instance"`
}

var jobStatusDescs = map[string]string{
	JobCompletedSuccess: "Completed Successfully",
	JobCompletedNoBulks: "Completed - no bulks",
	JobCompletedFailed:  "Completed with errors",
}

var counterDescs = map[string]string{
	counterUsers:     "Total number of users",
	counterFinesFees: "Total number of fines and fees",
}

// queueJobEndLocked records a JOB_END about one run (instance) of an
// export job for delivery by RunDue, signed like the loan events, if the
// webhook profile sends JOB_END.
func (s *Server) queueJobEndLocked(credit bool, profile, instance, status string, counts map[string]int64, started time.Time) {
	if !slices.Contains(s.opts.WebhookEvents, EventJobEnd) {
		return
	}
	now := s.clock.Now()
	name, jobID := ExportJobName(profile), "S1"+s.opts.InstitutionID
	if credit {
		name, jobID = CreditExportJobName(profile), "S2"+s.opts.InstitutionID
	}
	ev := jobEndEvent{
		ID: s.newID(kindEvent), Action: EventJobEnd,
		Institution: codeDesc{Value: s.opts.Institution, Desc: s.opts.Institution},
		Time:        now.UTC().Format("2006-01-02T15:04:05.000Z"),
		Event:       codeDesc{Value: EventJobEnd, Desc: "Job end"},
		JobInstance: jobEndInstance{
			ID: instance, Name: name, Progress: 100,
			Status:    codeDesc{Value: status, Desc: jobStatusDescs[status]},
			StartTime: started.UTC().Format("2006-01-02T15:04:05.000Z"),
			EndTime:   now.UTC().Format("2006-01-02T15:04:05.000Z"),
			JobInfo:   nameValueID{ID: jobID, Name: name},
		},
	}
	for _, code := range []string{counterUsers, counterFinesFees} {
		if n, ok := counts[code]; ok {
			ev.JobInstance.Counter = append(ev.JobInstance.Counter, jobEndCounter{
				Type: codeDesc{Value: code, Desc: counterDescs[code]}, Value: itoa(n)})
		}
	}
	body, err := json.Marshal(ev)
	if err != nil {
		panic(err) // plain strings only: cannot fail
	}
	s.hooks = append(s.hooks, &delivery{WebhookDelivery: WebhookDelivery{
		ID: ev.ID, Event: EventJobEnd, Body: body, Signature: Sign(s.opts.WebhookSecret, body),
		State: DeliveryPending, Next: now,
	}})
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// SubscribeJobEnd adds JOB_END to the events the webhook profile sends,
// from the next job on.
func (s *Server) SubscribeJobEnd() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !slices.Contains(s.opts.WebhookEvents, EventJobEnd) {
		events := s.opts.WebhookEvents
		if events == nil {
			events = []string{EventLoanReturned} // the default, kept
		}
		s.opts.WebhookEvents = append(slices.Clone(events), EventJobEnd)
	}
}
