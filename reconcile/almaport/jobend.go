package almaport

import (
	"time"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/reconcile"
)

// JobEndEvent is the JOB_END delivery ev as the jobs take it: the job
// instance, its status, and the counts of the bursar export's counters
// (alma.CounterBursarUsers, alma.CounterBursarFinesFees; -1 when the job
// did not send them). ev.JobEnd must be set.
func JobEndEvent(ev alma.Event) reconcile.JobEndEvent {
	e := ev.JobEnd
	count := func(code string) int64 {
		if n, ok := e.Count(code); ok {
			return n
		}
		return -1
	}
	return reconcile.JobEndEvent{
		EventID: ev.ID, InstanceID: e.InstanceID, JobID: e.JobID, Name: e.Name,
		Status: e.Status, StatusDesc: e.StatusDesc, Succeeded: e.Succeeded(), Failed: e.Failed(),
		Started: e.Started, Ended: e.Ended,
		Users: count(alma.CounterBursarUsers), Records: count(alma.CounterBursarFinesFees),
		Counters: e.Counters,
	}
}

// FileJobID returns the job instance id and the time that an export
// file's name carries when it is of Alma's form
// <profile>-<id>-<millis>.xml (alma.ParseFileName), else "": for
// reconcile.Options.FileJobID.
func FileJobID(name string) (string, time.Time) {
	_, id, at, err := alma.ParseFileName(name)
	if err != nil {
		return "", time.Time{}
	}
	return id, at
}
