package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/feebridge/feebridge/alma/exportlint"
)

// lintFlags are the flags of lint-export besides -in and -config.
type lintFlags struct {
	users string // -users: a CSV of users and their groups
}

// lintExportCommand is `feesync lint-export`.
func lintExportCommand() command {
	return command{name: "lint-export", usage: "-in FILE.xml [-config F] [-users FILE.csv] [-as-of YYYY-MM-DD]",
		flags: func(m *Main, fs *flag.FlagSet) {
			fs.StringVar(&m.configPath, "config", "", "the config `file` (default $FEEBRIDGE_CONFIG), whose [export_policy] is checked")
			fs.StringVar(&m.in, "in", "", "a sample of Alma's bursar export `file` (XML); it is only read")
			fs.StringVar(&m.lint.users, "users", "", "a CSV `file` of users with their user group (headings such as \"Primary Identifier\" and \"User Group Code\"), for excluded_user_groups")
			fs.StringVar(&m.asOf, "as-of", "", "the `day` (YYYY-MM-DD) Alma ran the export, from which ages are counted; default: the time stamp in Alma's file name")
		},
		run: (*Main).lintExport, needsConfig: true}
}

// lintExport reads one export and prints each fee that the config's
// export policy would not have sent, then a count per reason with the
// profile option to fix. It only reads.
func (m *Main) lintExport(_ context.Context) error {
	const cmd = "lint-export"
	if m.in == "" {
		return usagef("%s: -in is required", cmd)
	}
	policy, ok := m.config.LintPolicy()
	if !ok || policy.IsZero() {
		return fmt.Errorf("%s: %s states no export policy (no [export_policy] section, or one that sets nothing): nothing to check the export against (see feesync.example.toml)", cmd, m.config.Path())
	}
	opts := &exportlint.Options{File: m.in, Location: m.config.Location()}
	if m.asOf != "" {
		day, err := m.asOfDay()
		if err != nil {
			return err
		}
		opts.ExportedAt = day
	}
	if m.lint.users != "" {
		groups, err := readUserGroups(m.lint.users)
		if err != nil {
			return fmt.Errorf("%s: %w", cmd, err)
		}
		opts.UserGroups = groups
	}
	f, err := os.Open(m.in)
	if err != nil {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	defer f.Close()
	s, err := exportlint.Lint(f, policy, opts, m.printLintWarning)
	if err != nil {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	for _, e := range s.Errors {
		fmt.Fprintf(m.Stderr, "%v\n", e)
	}
	m.printLintSummary(s, policy)
	switch {
	case len(s.Errors) > 0:
		return fmt.Errorf("%s: %d records of %s could not be read (listed above), and were not checked", cmd, len(s.Errors), m.in)
	case s.Warned > 0:
		return &RejectedError{Command: cmd, Rejected: s.Warned, What: "fees the export policy would not have sent"}
	}
	return nil
}

// readUserGroups reads the -users file.
func readUserGroups(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return exportlint.ReadUserGroups(f, path)
}

// printLintWarning prints one fee the policy would not have sent, as
// FILE:LINE: fee ID TYPE, user ID, AMOUNT: reason: detail; reason: detail.
func (m *Main) printLintWarning(w exportlint.Warning) {
	var rs []string
	for _, f := range w.Findings {
		rs = append(rs, string(f.Reason)+": "+f.Detail)
	}
	fmt.Fprintf(m.Stdout, "%s:%d: fee %s %s, user %s, %s: %s\n", w.File, w.Line, w.TransactionID, w.Type,
		maskIf(w.User, !m.config.Log.ShowStudentIDs), w.Amount, strings.Join(rs, "; "))
}

// printLintSummary prints the counts per reason, each with its hint, and
// the checks that could not be made.
func (m *Main) printLintSummary(s exportlint.Summary, p exportlint.Policy) {
	out := m.Stdout
	fmt.Fprintf(out, "%s: %s read, %s not judged; %s the policy would not have sent\n",
		m.in, count(s.Fees, "fee"), count(s.Credits, "credit"), count(s.Warned, "fee"))
	for _, r := range exportlint.Reasons {
		if n := s.ByReason[r]; n > 0 {
			fmt.Fprintf(out, "  %-20s %6d  %s\n", r, n, r.Hint())
		}
	}
	for _, u := range []exportlint.Unchecked{exportlint.NoUserGroup, exportlint.NoDate, exportlint.OtherCurrency} {
		if n := s.Unchecked[u]; n > 0 {
			fmt.Fprintf(out, "  not checked: %s: %s%s\n", u, count(n, "fee"), m.uncheckedHint(u, s))
		}
	}
	if p.MinimumAgeDays > 0 && !s.ExportedAt.IsZero() {
		fmt.Fprintf(out, "  ages counted to the export's day, %s\n", s.ExportedAt.Format(time.DateOnly))
	}
	if s.Warned > 0 {
		fmt.Fprintf(out, "feesync sends every fee Alma exports (Alma has marked it Transferred): fix the profile in Alma, not the file.\n")
	}
}

// uncheckedHint says how to make an unchecked check possible.
func (m *Main) uncheckedHint(u exportlint.Unchecked, s exportlint.Summary) string {
	switch {
	case u == exportlint.NoUserGroup && m.lint.users == "":
		return " (give -users FILE.csv: the export does not carry the user group)"
	case u == exportlint.NoUserGroup:
		return " (their users are not in " + m.lint.users + ")"
	case u == exportlint.NoDate && s.ExportedAt.IsZero():
		return " (the file name has no Alma time stamp: give -as-of)"
	}
	return ""
}

// count is "1 fee", "2 fees".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
