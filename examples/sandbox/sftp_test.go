package main

import (
	"bytes"
	"strings"
	"testing"
)

// weekOnly is a sandbox's output without what differs from run to run
// whatever the seed: the servers' addresses, the library's server line,
// the time the run took and Alma's peak calls in a wall-clock second.
func weekOnly(out string) string {
	var keep []string
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "127.0.0.1") || strings.HasPrefix(line, "Simulated ") ||
			strings.Contains(line, "in one second of the wall clock") {
			continue
		}
		keep = append(keep, line)
	}
	return strings.Join(keep, "\n")
}

// TestWeekOverSFTP runs a short week with the library's drop on the
// embedded SFTP server (-transport sftp): it ends reconciled, and prints
// the same week as over FTP, line for line, but for the server's line.
func TestWeekOverSFTP(t *testing.T) {
	s := small(1, 0)
	s.Transport = "sftp"
	out := runSandbox(t, s)
	if !strings.Contains(out, "library SFTP     sftp://127.0.0.1:") {
		t.Errorf("the intro does not name the SFTP server:\n%s", out)
	}
	ftp := runSandbox(t, small(1, 0))
	if a, b := weekOnly(out), weekOnly(ftp); a != b {
		t.Errorf("the week over SFTP differs from the week over FTP:\n--- sftp\n%s\n--- ftp\n%s", a, b)
	}
}

// TestWeekOverSFTPUnderFaults: SFTP connections cut before operations
// and midway through transfers, the SFTP server stalled and restarted,
// Alma failing and jobs killed; the week still ends reconciled, the
// summary counts the SFTP faults, and the SFTP password (the district's
// FTP password) is in no log line.
func TestWeekOverSFTPUnderFaults(t *testing.T) {
	var logs bytes.Buffer
	s := small(2, 0.2)
	s.Students, s.Days, s.Transport, s.Log = 20, 3, "sftp", &logs
	out := runSandbox(t, s)
	if !strings.Contains(out, "SFTP connections cut ") || !strings.Contains(out, "were restarted with the journal reopened") {
		t.Errorf("no SFTP fault summary:\n%s", out)
	}
	pw := s.d.sim.Secrets().FTPPassword
	if len(pw) < 16 {
		t.Fatalf("the password is not a real secret: %q", pw)
	}
	if strings.Contains(logs.String(), pw) || strings.Contains(out, pw) {
		t.Error("the SFTP password is in the log or the output")
	}
}

// TestTransportFlag: -transport takes ftp or sftp, and ftp is the default.
func TestTransportFlag(t *testing.T) {
	s := New(&bytes.Buffer{})
	if err := s.ParseFlags(nil); err != nil || s.Transport != "ftp" {
		t.Errorf("default: transport %q, %v", s.Transport, err)
	}
	if err := New(&bytes.Buffer{}).ParseFlags([]string{"-transport", "sftp"}); err != nil {
		t.Errorf("-transport sftp: %v", err)
	}
	err := New(&bytes.Buffer{}).ParseFlags([]string{"-transport", "scp"})
	if err == nil || !strings.Contains(err.Error(), `-transport is ftp or sftp, not "scp"`) {
		t.Errorf("-transport scp: %v", err)
	}
}
