package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/feebridge/feebridge/reconcile"
)

const publishBase = `timezone = "UTC"
journal = "j.db"
[library]
type = "dir"
path = "/srv/library"
[peoplesoft]
type = "dir"
path = "/srv/ps"
`

// The taken folders and expect_files_within reach the jobs' options.
func TestTakenFoldersAndExpectReachTheJobs(t *testing.T) {
	text := strings.Replace(publishBase, `path = "/srv/library"`, `path = "/srv/library"
import_taken_folder = "imports/old"`, 1) + `inbound_taken_folder = "inbound/loaded"
[expect_files_within]
charges = "26h"
credits = "off"
`
	c, err := Parse(strings.NewReader(text), "f.toml")
	if err != nil {
		t.Fatal(err)
	}
	o := c.jobOptions(&Options{})
	if o.Folders.ImportsTaken != "imports/old" || o.Folders.ChargesTaken != "inbound/loaded" {
		t.Errorf("folders %+v", o.Folders)
	}
	want := map[string]time.Duration{reconcile.JobCharges: 26 * time.Hour, reconcile.JobCredits: 0, reconcile.JobPayments: 0}
	for job, d := range want {
		if o.ExpectFilesWithin[job] != d {
			t.Errorf("expect %s = %v, want %v", job, o.ExpectFilesWithin[job], d)
		}
	}
	// Their folder errors name their keys.
	err = c.FolderError(&reconcile.FolderError{Job: reconcile.JobRedrivePayment, Folder: "imports/old", Outbound: true, Err: os.ErrNotExist})
	if !strings.HasPrefix(err.Error(), `library.import_taken_folder = "imports/old": /srv/library/imports/old does not exist`) {
		t.Errorf("folder error: %v", err)
	}
	err = c.FolderError(&reconcile.FolderError{Job: reconcile.JobRedriveCredits, Folder: "inbound", Outbound: true, Err: os.ErrNotExist})
	if !strings.HasPrefix(err.Error(), `peoplesoft.inbound_folder = "inbound": /srv/ps/inbound does not exist`) {
		t.Errorf("folder error of a redrive: %v", err)
	}
}

// Bad values are errors that name the file, the line and the key.
func TestTakenFoldersAndExpectErrors(t *testing.T) {
	for _, tc := range []struct{ add, want string }{
		{`inbound_taken_folder = "../loaded"`, `f.toml:9: peoplesoft.inbound_taken_folder: "../loaded" is not a relative folder`},
		{"[expect_files_within]\ncharges = \"26x\"", `f.toml:10: expect_files_within.charges: "26x" is not a positive duration`},
		{"[expect_files_within]\npayments = \"30s\"", `f.toml:10: expect_files_within.payments: 30s is not from 1m to 8784h`},
		{"[expect_files_within]\nexports = \"26h\"", `f.toml:10: expect_files_within.exports: unknown key`},
	} {
		_, err := Parse(strings.NewReader(publishBase+tc.add+"\n"), "f.toml")
		var ce *Error
		if !errors.As(err, &ce) || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %s…", tc.add, err, tc.want)
		}
	}
}

// check-config checks that a configured taken folder exists, and does not
// need to write into it.
func TestCheckFoldersTaken(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"library/exports", "library/credits", "library/imports", "library/reports", "ps/inbound", "ps/outbound"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	text := strings.NewReplacer("/srv/library", filepath.ToSlash(filepath.Join(dir, "library")), "/srv/ps", filepath.ToSlash(filepath.Join(dir, "ps"))).Replace(publishBase) +
		`inbound_taken_folder = "inbound/loaded"` + "\n"
	c, err := Parse(strings.NewReader(text), "f.toml")
	if err != nil {
		t.Fatal(err)
	}
	err = c.CheckFolders()
	if err == nil || !strings.Contains(err.Error(), `peoplesoft.inbound_taken_folder = "inbound/loaded": `+filepath.Join(dir, "ps", "inbound", "loaded")+" does not exist") {
		t.Errorf("check of a missing taken folder: %v", err)
	}
	if err := os.Mkdir(filepath.Join(dir, "ps", "inbound", "loaded"), 0o555); err != nil {
		t.Fatal(err)
	}
	if err := c.CheckFolders(); err != nil {
		t.Errorf("check with the taken folder made: %v", err)
	}
}
