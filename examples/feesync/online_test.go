package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/feebridge/feebridge/transport/ftpdrop/ftptest"
)

// onlineSite is a site whose PeopleSoft drop is an embedded FTP server
// serving the site's PeopleSoft folder, with the Alma fake and a journal.
func onlineSite(t *testing.T) (*site, *ftptest.Server) {
	t.Helper()
	s := newSite(t)
	s.must(os.MkdirAll(filepath.Join(s.libDir, "reports"), 0o755))
	srv, err := ftptest.Start(s.psDir, nil)
	s.must(err)
	t.Cleanup(func() { srv.Close() })
	b, err := os.ReadFile(s.config)
	s.must(err)
	cfg := strings.Replace(string(b), "[peoplesoft]\ntype = \"dir\"\npath = "+quote(s.psDir)+"\n",
		"[peoplesoft]\ntype = \"ftp\"\naddress = "+quote(srv.Addr)+"\nuser = "+quote(srv.User)+"\ntls = \"none\"\npassword_env = \"PS_FTP_PASSWORD\"\n", 1)
	if cfg == string(b) {
		t.Fatal("the site's config has no [peoplesoft] dir drop to replace")
	}
	s.must(os.WriteFile(s.config, []byte(cfg), 0o600))
	s.env["PS_FTP_PASSWORD"] = srv.Password
	return s, srv
}

func quote(s string) string { return `"` + strings.ReplaceAll(s, `\`, `\\`) + `"` }

// check-config -online passes against a site whose drops, Alma key,
// journal and listen address are all right, and leaves no test file.
func TestCheckConfigOnlineOK(t *testing.T) {
	s, _ := onlineSite(t)
	r := s.run("check-config", "-online")
	wantRun(t, r, ExitOK)
	if !strings.Contains(r.stdout, "ok: logged in") {
		t.Errorf("no ok summary:\n%s", r.stdout)
	}
	for _, d := range []string{s.libDir, s.psDir} {
		filepath.WalkDir(d, func(p string, _ os.DirEntry, _ error) error {
			if strings.Contains(filepath.Base(p), "feesync-check") {
				t.Errorf("test file left behind: %s", p)
			}
			return nil
		})
	}
}

// A bad folder, a bad FTP password, a bad Alma key and a missing journal
// folder: all four in one run, each naming its key.
func TestCheckConfigOnlineListsEveryProblem(t *testing.T) {
	s, srv := onlineSite(t)
	s.setConfig("[library]", `credit_folder = "credit"`)
	s.env["PS_FTP_PASSWORD"] = "not-the-password"
	s.env["FEEBRIDGE_ALMA_API_KEY"] = "not-the-key"
	b, err := os.ReadFile(s.config)
	s.must(err)
	missing := filepath.Join(filepath.Dir(s.config), "no-such-folder", "journal.db")
	cfg := strings.Replace(string(b), "journal = "+quote(filepath.Join(filepath.Dir(s.config), "journal.db")), "journal = "+quote(missing), 1)
	s.must(os.WriteFile(s.config, []byte(cfg), 0o600))

	r := s.run("check-config", "-online")
	wantRun(t, r, ExitFailure,
		`library.credit_folder = "credit": `+filepath.Join(s.libDir, "credit")+" does not exist",
		"peoplesoft.user/password: ", "user or password refused by "+srv.Addr,
		"alma.api_key: the Alma API refused a test call",
		`journal = "`+missing+`": its folder `+filepath.Dir(missing)+" does not exist")
	t.Logf("check-config -online:\n%s", r.stderr)
	if strings.Contains(r.stderr, "not-the-password") || strings.Contains(r.stderr, "not-the-key") {
		t.Errorf("check-config shows a secret:\n%s", r.stderr)
	}
}

// Without a journal, check-config -online says to run feesync init.
func TestCheckConfigOnlineNoJournal(t *testing.T) {
	s, _ := onlineSite(t)
	b, err := os.ReadFile(s.config)
	s.must(err)
	j := strings.SplitN(strings.SplitN(string(b), "journal = \"", 2)[1], "\"", 2)[0]
	s.must(os.Remove(j))
	r := s.run("check-config", "-online")
	wantRun(t, r, ExitFailure, "there is no journal yet: run feesync init")
}

// A wrong FTP root names the folder and its key.
func TestCheckConfigOnlineWrongRoot(t *testing.T) {
	s, _ := onlineSite(t)
	s.setConfig("[peoplesoft]", `root = "/no/such/root"`)
	r := s.run("check-config", "-online")
	wantRun(t, r, ExitFailure, "peoplesoft.root: ", `the root folder "/no/such/root" does not exist`)
}

// feesync init with the journal in a missing folder names the path and
// what is wrong, not only SQLite's "unable to open database file (14)".
func TestInitJournalFolderMissing(t *testing.T) {
	s := newSite(t)
	b, err := os.ReadFile(s.config)
	s.must(err)
	missing := filepath.Join(filepath.Dir(s.config), "no-such-folder", "journal.db")
	cfg := strings.Replace(string(b), "journal = "+quote(filepath.Join(filepath.Dir(s.config), "journal.db")), "journal = "+quote(missing), 1)
	s.must(os.WriteFile(s.config, []byte(cfg), 0o600))
	r := s.run("init")
	wantRun(t, r, ExitFailure, missing, "its folder "+filepath.Dir(missing)+" does not exist")
	t.Log(r.stderr)
}

// TestJournalIsAFolder: a journal path that names a folder is refused,
// and the error names the path once.
func TestJournalIsAFolder(t *testing.T) {
	s := newSite(t)
	b, err := os.ReadFile(s.config)
	s.must(err)
	dir := filepath.Join(filepath.Dir(s.config), "a-folder")
	s.must(os.Mkdir(dir, 0o755))
	cfg := strings.Replace(string(b), "journal = "+quote(filepath.Join(filepath.Dir(s.config), "journal.db")), "journal = "+quote(dir), 1)
	s.must(os.WriteFile(s.config, []byte(cfg), 0o600))
	r := s.run("run", "charges")
	wantRun(t, r, ExitFailure, dir+" is not a file")
	if n := strings.Count(r.stderr, dir); n != 1 {
		t.Errorf("the journal's path is named %d times, want once:\n%s", n, r.stderr)
	}
}
