package reconcile

import "encoding/json"

// ProcessNormal is the process status of a loan that was never lost, as
// Alma's loan webhook carries it (item_loan.process_status).
const ProcessNormal = "NORMAL"

// eventJSON is what the journal keeps of a loan event beyond its columns
// (the record's Payload): the loan's process status before the return.
type eventJSON struct {
	ProcessStatus string `json:"process_status,omitempty"`
}

// eventPayload is the Payload the journal keeps for ev: empty when the
// event says nothing beyond the record's columns.
func eventPayload(ev LoanEvent) string {
	if ev.ProcessStatus == "" {
		return ""
	}
	b, _ := json.Marshal(eventJSON{ProcessStatus: ev.ProcessStatus})
	return string(b)
}

// payloadProcessStatus reads the process status back from a journaled
// event's Payload; empty when there is none or it cannot be read (the
// event is then handled in full, as one that does not say).
func payloadProcessStatus(payload string) string {
	if payload == "" {
		return ""
	}
	var e eventJSON
	if json.Unmarshal([]byte(payload), &e) != nil {
		return ""
	}
	return e.ProcessStatus
}
