package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// lintConfig is a config with an export policy like Duke's.
const lintConfig = `journal = "j.db"
[library]
type = "dir"
path = "."
[peoplesoft]
type = "dir"
path = "."
[export_policy]
minimum_amount = "5.00"
minimum_age_days = 7
excluded_user_groups = ["STAFF"]
libraries = ["MAIN", "LAW"]
fee_types = ["OVERDUEFINE", "LOSTITEMREPLACEMENTFEE", "LOSTITEMPROCESSFEE"]
`

const (
	lintCases = "../../alma/exportlint/testdata/BURSAR-7210493750006761-1772474400000.xml"
	lintUsers = "../../alma/exportlint/testdata/users.csv"
)

// TestLintExport: each fee the policy would not have sent is listed with
// its file, line, masked user, amount and reasons, the summary counts each
// reason with its hint, the exit code is 3, and the export is untouched.
func TestLintExport(t *testing.T) {
	cfg := writeFile(t, "feesync.toml", lintConfig)
	before, err := os.ReadFile(lintCases)
	if err != nil {
		t.Fatal(err)
	}
	r := runFeesync(t, nil, "lint-export", "-config", cfg, "-in", lintCases, "-users", lintUsers)
	if r.code != ExitRejected {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, ExitRejected, r.stdout, r.stderr)
	}
	for _, want := range []string{
		lintCases + ":21: fee 900002 OVERDUEFINE, user *****345, 2.50 USD: below-minimum: 2.50 USD is below the minimum 5.00 USD\n",
		lintCases + ":29: fee 900003 LOSTITEMREPLACEMENTFEE, user *****345, 80.00 USD: too-recent: last transaction 2026-03-01, 1 day before the export; the minimum is 7\n",
		lintCases + ":59: fee 900012 LOSTITEMPROCESSFEE, user *****890, 15.00 USD: excluded-user-group: user group STAFF is excluded; library-not-billed: owning library BRANCH is not billed (MAIN, LAW)\n",
		lintCases + ":73: fee 900021 DAMAGEDITEMFINE, user *****111, 20.00 USD: fee-type-not-billed",
		lintCases + ": 7 fees read, 1 credit not judged; 6 fees the policy would not have sent\n",
		"  excluded-user-group       2  leave these user groups out of the profile's user groups\n",
		"  not checked: user group not known: 2 fees (their users are not in " + lintUsers + ")\n",
		"  ages counted to the export's day, 2026-03-02\n",
		"fix the profile in Alma, not the file",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "10012345") || strings.Contains(r.stdout, "900001 ") {
		t.Errorf("a whole student id, or a fee within the policy, is listed:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "6 fees the export policy would not have sent") {
		t.Errorf("stderr = %q", r.stderr)
	}
	if after, err := os.ReadFile(lintCases); err != nil || string(after) != string(before) {
		t.Errorf("the export changed: %v", err)
	}
}

// TestLintExportClean: an export within the policy exits 0; MIT's real
// export is, under a policy of a $0.50 minimum and its own library, with
// -as-of a week after its fees.
func TestLintExportClean(t *testing.T) {
	cfg := writeFile(t, "feesync.toml", strings.Replace(lintConfig, `[export_policy]
minimum_amount = "5.00"
minimum_age_days = 7
excluded_user_groups = ["STAFF"]
libraries = ["MAIN", "LAW"]
fee_types = ["OVERDUEFINE", "LOSTITEMREPLACEMENTFEE", "LOSTITEMPROCESSFEE"]
`, "[export_policy]\nminimum_amount = \"0.50\"\nminimum_age_days = 7\nlibraries = [\"RTC\"]\n", 1))
	r := runFeesync(t, nil, "lint-export", "-config", cfg, "-in", mitExport, "-as-of", "2023-09-19")
	if r.code != ExitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if want := mitExport + ": 10 fees read, 0 credits not judged; 0 fees the policy would not have sent\n"; !strings.Contains(r.stdout, want) {
		t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
	}
	// A day after the export every fee is too recent.
	r = runFeesync(t, nil, "lint-export", "-config", cfg, "-in", mitExport, "-as-of", "2023-09-13")
	if r.code != ExitRejected || !strings.Contains(r.stdout, "  too-recent               10  ") {
		t.Errorf("exit %d\n%s", r.code, r.stdout)
	}
}

// TestLintExportErrors: a malformed export names its file and line (exit
// 1); so do a bad users file and a bad record; a config without a policy
// and a missing -in are refused.
func TestLintExportErrors(t *testing.T) {
	cfg := writeFile(t, "feesync.toml", lintConfig)
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.xml")
	if err := os.WriteFile(broken, []byte("<xb:xml-fragment xmlns:xb=\"x\">\n<xb:userExportedFineFees>\n</xb:oops>\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	badUsers := filepath.Join(dir, "users.csv")
	if err := os.WriteFile(badUsers, []byte("id,user_group\n10012345,STAFF\n,GRAD\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	noPolicy := writeFile(t, "nopolicy.toml", lintConfig[:strings.Index(lintConfig, "[export_policy]")])
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"malformed export", []string{"-config", cfg, "-in", broken}, ExitFailure, broken + ", line 3: malformed XML"},
		{"bad records", []string{"-config", cfg, "-in", "../../alma/testdata/bursar/bad-records.xml"}, ExitFailure,
			"bad-records.xml, line 11, user **, transaction 2: bad amount"},
		{"bad users file", []string{"-config", cfg, "-in", lintCases, "-users", badUsers}, ExitFailure, badUsers + ":3: bad users file: no identifier"},
		{"missing export", []string{"-config", cfg, "-in", filepath.Join(dir, "none.xml")}, ExitFailure, "none.xml: no such file"},
		{"no policy", []string{"-config", noPolicy, "-in", lintCases}, ExitFailure, "states no export policy (no [export_policy] section"},
		{"no -in", []string{"-config", cfg}, ExitUsage, "lint-export: -in is required"},
		{"bad -as-of", []string{"-config", cfg, "-in", lintCases, "-as-of", "3/2/2026"}, ExitUsage, `-as-of "3/2/2026": want YYYY-MM-DD`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runFeesync(t, nil, append([]string{"lint-export"}, tc.args...)...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d (want %d), stderr lacks %q:\n%s", r.code, tc.code, tc.want, r.stderr)
			}
		})
	}
}

// TestCheckConfigExportPolicy: check-config names the file, line and key
// of a mistake in [export_policy].
func TestCheckConfigExportPolicy(t *testing.T) {
	cfg := writeFile(t, "feesync.toml", strings.Replace(lintConfig, `minimum_amount = "5.00"`, "minimum_amount = 5.5", 1))
	r := runFeesync(t, nil, "check-config", "-config", cfg)
	if want := cfg + ":9: export_policy.minimum_amount: 5.5 is a float"; r.code != ExitFailure || !strings.Contains(r.stderr, want) {
		t.Errorf("exit %d, stderr lacks %q:\n%s", r.code, want, r.stderr)
	}
}
