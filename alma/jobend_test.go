package alma_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/feebridge/feebridge/alma"
)

// jobEndBody is the sample JOB_END delivery of the bursar export
// (testdata/webhooks/PROVENANCE says where its shape comes from).
func jobEndBody(t testing.TB) string {
	t.Helper()
	return string(readTestdata(t, "webhooks/job_end_bursar_export.json"))
}

func TestWebhookJobEnd(t *testing.T) {
	body := jobEndBody(t)
	rec := &recorder{}
	w := post(alma.NewWebhookHandler(webhookSecret, rec.handle, nil), body, alma.Sign(webhookSecret, []byte(body)))
	if w.Code != http.StatusOK || len(rec.events) != 1 {
		t.Fatalf("status %d, %d callbacks; want 200 and one", w.Code, len(rec.events))
	}
	ev := rec.events[0]
	if ev.Action != alma.ActionJobEnd || ev.ID != "6718331580006761" || ev.JobEnd == nil {
		t.Fatalf("event %+v", ev)
	}
	want := alma.JobEnd{
		InstanceID: "60000000070006761", JobID: "S7210493750006761", Name: "Export to Bursar - BURSAR",
		Status: alma.JobCompletedSuccess, StatusDesc: "Completed Successfully",
		Started:  time.Date(2026, 9, 15, 18, 0, 0, 102e6, time.UTC),
		Ended:    time.Date(2026, 9, 15, 18, 2, 10, 977e6, time.UTC),
		Counters: map[string]int64{alma.CounterBursarUsers: 14, alma.CounterBursarFinesFees: 20},
	}
	if diff := cmp.Diff(want, *ev.JobEnd); diff != "" {
		t.Errorf("job end (-want +got):\n%s", diff)
	}
	if !ev.JobEnd.Succeeded() || ev.JobEnd.Failed() {
		t.Errorf("COMPLETED_SUCCESS: succeeded %v, failed %v", ev.JobEnd.Succeeded(), ev.JobEnd.Failed())
	}
}

func TestWebhookJobEndUnsigned(t *testing.T) {
	body := jobEndBody(t)
	rec := &recorder{}
	h := alma.NewWebhookHandler(webhookSecret, rec.handle, nil)
	for _, sig := range []string{"", alma.Sign([]byte("other"), []byte(body))} {
		if w := post(h, body, sig); w.Code != http.StatusUnauthorized {
			t.Errorf("signature %q: status %d, want 401", sig, w.Code)
		}
	}
	if len(rec.events) != 0 {
		t.Errorf("%d callbacks for unsigned deliveries", len(rec.events))
	}
}

func TestJobEndStatuses(t *testing.T) {
	for _, tt := range []struct {
		status            string
		succeeded, failed bool
	}{
		{alma.JobCompletedSuccess, true, false},
		{alma.JobCompletedWarning, true, false},
		{alma.JobCompletedNoBulks, false, false},
		{alma.JobCompletedFailed, false, true},
		{alma.JobCancelled, false, true},
		{alma.JobSystemCancelled, false, true},
	} {
		e := alma.JobEnd{Status: tt.status}
		if e.Succeeded() != tt.succeeded || e.Failed() != tt.failed {
			t.Errorf("%s: succeeded %v failed %v, want %v %v", tt.status, e.Succeeded(), e.Failed(), tt.succeeded, tt.failed)
		}
	}
}

// TestJobEndHostile: a JOB_END that cannot be trusted is refused as
// malformed (400), never handed to the callback with made-up counts.
func TestJobEndHostile(t *testing.T) {
	good := jobEndBody(t)
	for name, body := range map[string]string{
		"no job_instance":  `{"id":"1","action":"JOB_END","time":"2026-09-15T18:00:00Z"}`,
		"null instance":    `{"id":"1","action":"JOB_END","job_instance":null}`,
		"no instance id":   `{"id":"1","action":"JOB_END","job_instance":{"status":{"value":"COMPLETED_SUCCESS"}}}`,
		"no status":        `{"id":"1","action":"JOB_END","job_instance":{"id":"9"}}`,
		"negative count":   strings.Replace(good, `"value": "20"`, `"value": "-20"`, 1),
		"count not number": strings.Replace(good, `"value": "20"`, `"value": "20.5"`, 1),
		"count overflow":   strings.Replace(good, `"value": "20"`, `"value": "99999999999999999999"`, 1),
		"counter no type":  strings.Replace(good, `"value": "com.exlibris.external.bursar.report.user_count"`, `"value": ""`, 1),
		"bad end time":     strings.Replace(good, `"end_time": "2026-09-15T18:02:10.977Z"`, `"end_time": "at six"`, 1),
		"instance array":   `{"id":"1","action":"JOB_END","job_instance":[1,2]}`,
		"too many counters": `{"id":"1","action":"JOB_END","job_instance":{"id":"9","status":{"value":"COMPLETED_SUCCESS"},"counter":[` +
			strings.Repeat(`{"type":{"value":"x"},"value":"1"},`, 300) + `{"type":{"value":"x"},"value":"1"}]}}`,
	} {
		t.Run(name, func(t *testing.T) {
			rec := &recorder{}
			w := post(alma.NewWebhookHandler(webhookSecret, rec.handle, nil), body, alma.Sign(webhookSecret, []byte(body)))
			if w.Code != http.StatusBadRequest || len(rec.events) != 0 {
				t.Errorf("status %d, %d callbacks; want 400 and none", w.Code, len(rec.events))
			}
		})
	}
}

// TestJobEndNumericFields: Alma's ids and counts may come as JSON
// numbers as well as strings.
func TestJobEndNumericFields(t *testing.T) {
	ev, err := alma.ParseEvent([]byte(`{"id":1,"action":"JOB_END","job_instance":{"id":60000000070006761,` +
		`"status":{"value":"COMPLETED_FAILED","desc":"Completed with errors"},"counter":[{"type":{"value":"` +
		alma.CounterBursarFinesFees + `"},"value":7}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := ev.JobEnd.Count(alma.CounterBursarFinesFees); !ok || n != 7 || ev.JobEnd.InstanceID != "60000000070006761" || !ev.JobEnd.Failed() {
		t.Errorf("job end %+v", ev.JobEnd)
	}
	if _, ok := ev.JobEnd.Count(alma.CounterBursarUsers); ok {
		t.Error("a counter Alma did not send is reported")
	}
}
