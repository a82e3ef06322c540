package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestConvertPaymentsSizeLimit shows that a payment file above
// peoplesoft.max_payment_file_mib is refused with an error that names the
// file and the limit, and that a negative limit is a config error.
func TestConvertPaymentsSizeLimit(t *testing.T) {
	cfg := strings.Replace(minimalConfig, "path = \"/srv/ps\"\n", "path = \"/srv/ps\"\nmax_payment_file_mib = 1\n", 1)
	path := writeFile(t, "feesync.toml", cfg)

	var b strings.Builder
	b.WriteString("EMPLID,REF1_DESCR,ITEM_TYPE,CHARGE_AMT,PAID_AMT,PAID_DATE,CHANNEL,METHOD,RECEIPT_NBR\n")
	for i := 0; b.Len() < 2<<20; i++ {
		fmt.Fprintf(&b, "12345678,T%d,300000000001,1.00,1.00,2026-03-03,CASHIER,CASH,R%d\n", i, i)
	}
	in := writeFile(t, "payments.csv", b.String())
	out := filepath.Join(t.TempDir(), "import.xml")
	r := runFeesync(t, nil, "convert", "ps-payments", "-config", path, "-in", in, "-out", out)
	if r.code != ExitFailure || !strings.Contains(r.stderr, in) || !strings.Contains(r.stderr, "larger than") {
		t.Fatalf("exit %d, want %d with the file and the limit named:\n%s", r.code, ExitFailure, r.stderr)
	}

	bad := writeFile(t, "bad.toml", strings.Replace(cfg, "max_payment_file_mib = 1", "max_payment_file_mib = -1", 1))
	r = runFeesync(t, nil, "check-config", "-config", bad)
	if r.code != ExitUsage && r.code != ExitFailure || !strings.Contains(r.stderr, "peoplesoft.max_payment_file_mib") {
		t.Fatalf("exit %d:\n%s", r.code, r.stderr)
	}
}
