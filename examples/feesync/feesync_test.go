package main

import (
	"bytes"
	"flag"
	"fmt"
	"log/slog"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/feebridge/feebridge/reconcile/config"
)

func TestVersion(t *testing.T) {
	r := runFeesync(t, nil, "version")
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !strings.HasPrefix(r.stdout, "feesync ") || !strings.Contains(r.stdout, runtime.Version()) {
		t.Errorf("version printed %q", r.stdout)
	}
	// version reads no config, even a broken one named in the environment.
	r = runFeesync(t, map[string]string{"FEEBRIDGE_CONFIG": writeFile(t, "bad.toml", "nonsense")}, "version")
	if r.code != ExitOK {
		t.Errorf("with a broken FEEBRIDGE_CONFIG: exit %d: %s", r.code, r.stderr)
	}
}

func TestHelpAndUsage(t *testing.T) {
	for _, tc := range []struct {
		args       []string
		code       int
		out, inErr string
	}{
		{[]string{"help"}, ExitOK, "Exit codes: 0 done; 3 done", ""},
		{[]string{}, ExitUsage, "", "no command given"},
		{[]string{"frobnicate"}, ExitUsage, "", `unknown command "frobnicate"`},
		{[]string{"run"}, ExitUsage, "", "run: which one?"},
		{[]string{"run", "charges"}, ExitUsage, "", "needs a config file: -config F or FEEBRIDGE_CONFIG"},
		{[]string{"check-config", "-h"}, ExitOK, "", "usage: feesync check-config"},
		{[]string{"version", "-verbose"}, ExitUsage, "", "flag provided but not defined: -verbose"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := runFeesync(t, nil, tc.args...)
			if r.code != tc.code || !strings.Contains(r.stdout, tc.out) || !strings.Contains(r.stderr, tc.inErr) {
				t.Errorf("exit %d (want %d)\nstdout:\n%s\nstderr:\n%s", r.code, tc.code, r.stdout, r.stderr)
			}
		})
	}
}

// exampleEnv is an environment with every secret the example config
// needs.
var exampleEnv = map[string]string{
	"FEEBRIDGE_ALMA_API_KEY":   "l7xx-alma-key-0123456789",
	"FEEBRIDGE_FTP_PASSWORD":   "ftp-pass-word-4321",
	"FEEBRIDGE_WEBHOOK_SECRET": "hook-secret-9876",
}

// exampleFolders is what check-config says of the example config on a
// machine without its PeopleSoft folder (its library drop is FTP, which
// check-config does not log in to).
const exampleFolders = `feesync: feesync.example.toml: config is valid, but: peoplesoft.inbound_folder = "inbound": /srv/peoplesoft/library/inbound does not exist
peoplesoft.outbound_folder = "outbound": /srv/peoplesoft/library/outbound does not exist
`

func TestCheckConfig(t *testing.T) {
	r := runFeesync(t, exampleEnv, "check-config", "-config", "feesync.example.toml")
	if r.code != ExitFailure || r.stdout != "" || r.stderr != exampleFolders {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s\nwant exit 1 and\n%s", r.code, r.stdout, r.stderr, exampleFolders)
	}
	// FEEBRIDGE_CONFIG stands in for -config.
	env := map[string]string{"FEEBRIDGE_CONFIG": "feesync.example.toml"}
	for k, v := range exampleEnv {
		env[k] = v
	}
	if r := runFeesync(t, env, "check-config"); r.code != ExitFailure || r.stderr != exampleFolders {
		t.Errorf("with FEEBRIDGE_CONFIG: exit %d: %s", r.code, r.stderr)
	}
}

// TestCheckConfigError drives the binary on a config with a mistake: the
// error names the file, the line and the key.
func TestCheckConfigError(t *testing.T) {
	path := writeFile(t, "feesync.toml", minimalConfig+"\n[schedules]\ncharges = \"every day at six\"\n")
	r := runFeesync(t, exampleEnv, "check-config", "-config", path)
	want := fmt.Sprintf("feesync: %s:10: schedules.charges: \"every day at six\" is not a cron spec", path)
	if r.code != ExitFailure || !strings.HasPrefix(r.stderr, want) {
		t.Errorf("exit %d, stderr:\n%s\nwant exit 1 and %s", r.code, r.stderr, want)
	}
}

func TestCheckConfigMissingSecrets(t *testing.T) {
	r := runFeesync(t, map[string]string{"FEEBRIDGE_FTP_PASSWORD": "x"}, "check-config", "-config", "feesync.example.toml")
	if r.code != ExitFailure {
		t.Fatalf("exit %d", r.code)
	}
	for _, want := range []string{
		"alma.api_key: secret not set: set FEEBRIDGE_ALMA_API_KEY, or FEEBRIDGE_ALMA_API_KEY_FILE",
		"webhook.secret: secret not set: set FEEBRIDGE_WEBHOOK_SECRET",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
}

func TestSecretsFromFiles(t *testing.T) {
	env := map[string]string{
		"FEEBRIDGE_ALMA_API_KEY_FILE":   writeFile(t, "key", "from-a-file\n"),
		"FEEBRIDGE_FTP_PASSWORD_FILE":   writeFile(t, "pw", "pw-from-file"),
		"FEEBRIDGE_WEBHOOK_SECRET_FILE": filepath.Join(t.TempDir(), "absent"),
	}
	r := runFeesync(t, env, "check-config", "-config", "feesync.example.toml")
	if r.code != ExitFailure || !strings.Contains(r.stderr, "webhook.secret: read secret file") || strings.Contains(r.stderr, "alma.api_key") {
		t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
}

// TestSecretsNeverFromFlags: no flag takes a secret, and a secret typed on
// the command line by mistake is not echoed back.
func TestSecretsNeverFromFlags(t *testing.T) {
	const typed = "typed-on-the-command-line"
	for _, args := range [][]string{
		{"check-config", "-config", "feesync.example.toml", "-api-key", typed},
		{"check-config", "-config", "feesync.example.toml", "-api-key=" + typed},
		{"run", "charges", "-config", "feesync.example.toml", "-password=" + typed},
		{"serve", "-config", "feesync.example.toml", "-webhook-secret", typed},
		{"convert", "alma-export", "-in", mitExport, "-out", "x", "-ftp-password", typed},
	} {
		r := runFeesync(t, nil, args...)
		if r.code != ExitUsage {
			t.Errorf("%v: exit %d, want %d", args, r.code, ExitUsage)
		}
		if strings.Contains(r.stdout+r.stderr, typed) {
			t.Errorf("%v: the value was echoed:\n%s%s", args, r.stdout, r.stderr)
		}
	}
	// And none of the flags of any command is named like a secret.
	m := &Main{}
	for name, c := range commands() {
		fs := newFlagSet(m, name, c)
		fs.VisitAll(func(f *flag.Flag) {
			for _, bad := range []string{"key", "password", "secret", "token"} {
				if strings.Contains(strings.ToLower(f.Name), bad) {
					t.Errorf("%s has a flag -%s", name, f.Name)
				}
			}
		})
	}
}

// TestSecretsNeverLogged runs commands that load every secret and checks
// that no value reaches stdout, stderr or an error string.
func TestSecretsNeverLogged(t *testing.T) {
	r := runFeesync(t, exampleEnv, "check-config", "-config", "feesync.example.toml")
	for _, v := range exampleEnv {
		if strings.Contains(r.stdout+r.stderr, v) {
			t.Errorf("check-config: a secret reached the output:\n%s%s", r.stdout, r.stderr)
		}
	}
	// A run that calls Alma with a wrong key fails; neither the key sent
	// nor the webhook secret shows in the error or the log.
	site := newSite(t)
	site.env = map[string]string{"FEEBRIDGE_ALMA_API_KEY": "wrong-key-5555", "FEEBRIDGE_WEBHOOK_SECRET": "hook-secret-9876"}
	r = site.run("reconcile")
	if strings.Contains(r.stdout+r.stderr, "wrong-key-5555") || strings.Contains(r.stdout+r.stderr, "hook-secret-9876") {
		t.Errorf("reconcile: a secret reached the output:\n%s%s", r.stdout, r.stderr)
	}

	s := config.NewSecret("hunter2")
	var buf bytes.Buffer
	log := newLogger(&buf, config.LogConfig{Level: "debug", Format: "json"})
	log.Info("x", "key", s, "password", "plain-string-hunter2", "wrapped", struct{ S config.Secret }{s})
	out := buf.String() + fmt.Sprintf("%v %s %+v %#v %q", s, s, s, s, s) + fmt.Errorf("e: %v", s).Error()
	if strings.Contains(out, "hunter2") {
		t.Errorf("secret printed: %s", out)
	}
}

func TestStudentIDsMasked(t *testing.T) {
	var buf bytes.Buffer
	log := newLogger(&buf, config.LogConfig{Level: "info", Format: "text"})
	log.Info("payment", "emplid", "12345678", slog.Group("fee", "user_id", "0042123"), "student", "ab")
	if got := buf.String(); strings.Contains(got, "12345678") || strings.Contains(got, "0042123") ||
		!strings.Contains(got, "emplid=*****678") || !strings.Contains(got, "fee.user_id=****123") || !strings.Contains(got, "student=**") {
		t.Errorf("log: %s", got)
	}
	buf.Reset()
	log = newLogger(&buf, config.LogConfig{Level: "info", Format: "text", ShowStudentIDs: true})
	log.Info("payment", "emplid", "12345678")
	if !strings.Contains(buf.String(), "emplid=12345678") {
		t.Errorf("show_student_ids: %s", buf.String())
	}
}

// minimalConfig is the smallest config the jobs run with.
const minimalConfig = `journal = "/tmp/j.db"
[library]
type = "dir"
path = "/srv/lib"
[peoplesoft]
type = "dir"
path = "/srv/ps"
`
