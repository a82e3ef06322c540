package alma_test

import (
	"fmt"

	"github.com/feebridge/feebridge/alma"
)

// A JOB_END delivery of the export to bursar: the job instance, how it
// ended, and the counts of what it exported.
func ExampleJobEnd() {
	ev, err := alma.ParseEvent([]byte(`{"id":"1","action":"JOB_END","time":"2026-09-15T18:02:11Z",
		"job_instance":{"id":"60000000070006761","name":"Export to Bursar - BURSAR",
		"status":{"value":"COMPLETED_SUCCESS","desc":"Completed Successfully"},
		"counter":[{"type":{"value":"com.exlibris.external.bursar.report.user_count"},"value":"14"},
		{"type":{"value":"com.exlibris.external.bursar.report.fines_fees_count"},"value":"20"}]}}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	e := ev.JobEnd
	users, _ := e.Count(alma.CounterBursarUsers)
	fines, _ := e.Count(alma.CounterBursarFinesFees)
	fmt.Printf("%s (%s): %s, %d fines and fees of %d users\n", e.Name, e.InstanceID, e.Status, fines, users)
	// Output: Export to Bursar - BURSAR (60000000070006761): COMPLETED_SUCCESS, 20 fines and fees of 14 users
}
