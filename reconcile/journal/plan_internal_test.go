package journal

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/feebridge/feebridge/internal/pgtest"
)

// TestPostgresBatchReadsProbeTheKeys shows that a view reads a batch of
// records, and of charges, by probing the primary key with each of the
// batch's keys, even when the statistics are wrong: here, as for a
// payments file decided after a journal of charges was analyzed, the
// statistics know no payment while the view's transaction has written
// many. Read as one list, the keys were then filtered out of a read of
// every payment, slower at each batch.
func TestPostgresBatchReadsProbeTheKeys(t *testing.T) {
	ctx := t.Context()
	j, err := Open(ctx, pgtest.DSN(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if _, err := j.db.db.ExecContext(ctx, `INSERT INTO records(kind, key, outcome, created_at, updated_at)
		SELECT 'charge', 'T' || g || '/OVERDUEFINE', 'charged', '', '' FROM generate_series(1, 5000) g`); err != nil {
		t.Fatal(err)
	}
	if _, err := j.db.db.ExecContext(ctx, `ANALYZE records`); err != nil {
		t.Fatal(err)
	}
	v := paymentsView(t, j)
	defer v.Rollback()
	if _, err := v.q.ExecContext(ctx, `INSERT INTO records(kind, key, outcome, ref, created_at, updated_at)
		SELECT 'payment', 'R' || g || '/T' || g, 'forwarded', 'T' || g || '/OVERDUEFINE', '', '' FROM generate_series(1, 5000) g`); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for i := range 256 {
		keys = append(keys, "R"+strings.Repeat("9", i%7+5)+"/x")
	}
	list, err := json.Marshal(keys)
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{KindPayment, KindCharge} {
		from, where := v.underKeys(kind)
		plan := explain(t, v, `SELECT r.key, r.outcome FROM `+from+` WHERE `+where, string(list))
		if strings.Contains(plan, "Filter: (key = ") || !strings.Contains(plan, "Index Cond: ((kind = '"+kind+"'::text) AND (key = ") {
			t.Errorf("the %ss of a batch are not read by primary-key probes:\n%s", kind, plan)
		}
	}
	// What the view reads is right too: a payment written in the
	// transaction is found, an unknown key is not.
	if err := v.readRecords(ctx, KindPayment, []string{"R17/T17", "R0/none"}); err != nil {
		t.Fatal(err)
	}
	if got, want := v.records[recordKey{KindPayment, "R17/T17"}], "T17/OVERDUEFINE"; !got.ok || got.rec.Ref != want {
		t.Errorf("payment R17/T17 read as %+v, want ref %s", got, want)
	}
	if got := v.records[recordKey{KindPayment, "R0/none"}]; got.ok {
		t.Errorf("payment R0/none read as %+v, want none", got)
	}
}

// paymentsView begins the view of a payments file over j.
func paymentsView(t *testing.T, j *Journal) *view {
	t.Helper()
	vi, err := j.Begin(t.Context(), FileRecord{Job: "payments", Name: "payments.csv"}, time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	return vi.(*view)
}

// explain returns the plan of query in v's transaction.
func explain(t *testing.T, v *view, query string, args ...any) string {
	t.Helper()
	rows, err := v.q.QueryContext(t.Context(), `EXPLAIN `+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		b.WriteString(line + "\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestPostgresJITOff shows that the journal's sessions run without JIT
// compilation (compiling a batch's read cost more than running it) unless
// the DSN asks for it.
func TestPostgresJITOff(t *testing.T) {
	getenv := func(string) string { return "" }
	for dsn, want := range map[string]string{
		"postgres://u@127.0.0.1/db":        "off",
		"postgres://u@127.0.0.1/db?jit=on": "on",
	} {
		d, err := parsePostgres(dsn, getenv)
		if err != nil {
			t.Fatal(err)
		}
		if got := d.config.RuntimeParams["jit"]; got != want {
			t.Errorf("%s: jit = %q, want %q", dsn, got, want)
		}
	}
}
