package main

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestExampleConfig(t *testing.T) {
	c, err := LoadConfig("feesync.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Schedules, (SchedulesConfig{
		Charges: DefaultChargesSchedule, Payments: DefaultPaymentsSchedule,
		Credits: DefaultCreditsSchedule, Report: DefaultReportSchedule,
		Reconcile: DefaultReconcileSchedule,
	}); got != want {
		t.Errorf("the example's schedules are not the defaults:\n%s", cmp.Diff(want, got))
	}
	if c.Library.Type != "ftp" || c.Library.TLS != "explicit" || c.PeopleSoft.Path == "" {
		t.Errorf("library/peoplesoft drops not read: %+v %+v", c.Library, c.PeopleSoft)
	}
	if len(c.Terms) != 3 || c.Terms[2].Code != "2267" || c.Terms[2].Start.String() != "2026-08-10" {
		t.Errorf("terms = %+v", c.Terms)
	}
	if c.Location().String() != "America/Los_Angeles" {
		t.Errorf("location = %v", c.Location())
	}
}

// TestExampleConfigDocumentsEveryKey checks that the example shows every
// key of the config model, so that it stays the complete reference.
func TestExampleConfigDocumentsEveryKey(t *testing.T) {
	data, err := os.ReadFile("feesync.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	lines := keyLines(data)
	for _, key := range []string{
		"timezone", "currency", "journal",
		"alma.region", "alma.base_url", "alma.api_key_env", "alma.api_key_file", "alma.rate_per_second", "alma.workers", "alma.timeout",
		"library.type", "library.address", "library.user", "library.tls", "library.password_env", "library.password_file",
		"library.timeout", "library.root", "library.export_folder", "library.credit_folder", "library.import_folder",
		"peoplesoft.type", "peoplesoft.path", "peoplesoft.inbound_folder", "peoplesoft.outbound_folder",
		"seasons[0].name", "seasons[0].start", "seasons[0].end", "seasons[0].suffix", "due_days",
		"layout.charges", "layout.payments", "item_types",
		"terms[0].code", "terms[0].start", "terms[0].end",
		"schedules.charges", "schedules.payments", "schedules.credits", "schedules.reconcile", "schedules.report",
		"waive.reason", "waive.comment", "waive.types",
		"report.folder",
		"webhook.listen", "webhook.path", "webhook.secret_env", "webhook.secret_file",
		"log.level", "log.format", "log.show_student_ids",
	} {
		if _, ok := lines[key]; !ok {
			t.Errorf("feesync.example.toml does not show %s", key)
		}
	}
}

const minimalConfig = `journal = "/tmp/j.db"
[library]
type = "dir"
path = "/srv/lib"
[peoplesoft]
type = "dir"
path = "/srv/ps"
`

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       string // the whole error
	}{
		{"unknown key", minimalConfig + "[alma]\nregoin = \"eu\"\n",
			"f.toml:9: alma.regoin: unknown key"},
		{"bad region", minimalConfig + "[alma]\nregion = \"mars\"\n",
			`f.toml:9: alma.region: unknown region "mars" (want one of na, eu, ap, ca, cn)`},
		{"bad cron", minimalConfig + "[schedules]\n\ncharges = \"61 18 * * *\"\n",
			`f.toml:10: schedules.charges: "61 18 * * *" is not a cron spec (minute hour day month weekday): end of range (61) above maximum (59): 61`},
		{"secret in file", minimalConfig + "[alma]\napi_key = \"s3cret-key\"\n",
			"f.toml:9: alma.api_key: secrets are never written in the config file: use api_key_env or api_key_file"},
		{"ftp password in file", strings.Replace(minimalConfig, "type = \"dir\"\npath = \"/srv/lib\"", "type = \"ftp\"\naddress = \"ftp:21\"\nuser = \"u\"\npassword = \"hunter2\"", 1),
			"f.toml:6: library.password: secrets are never written in the config file: use password_env or password_file"},
		{"syntax", minimalConfig + "[log]\nlevel = debug\n",
			"f.toml:9: log.level: expected value but found \"debug\" instead"},
		{"missing journal", strings.Replace(minimalConfig, `journal = "/tmp/j.db"`, "", 1),
			"f.toml: journal: missing: the path of the journal file"},
		{"missing drop", strings.Replace(minimalConfig, "[peoplesoft]\ntype = \"dir\"\npath = \"/srv/ps\"\n", "", 1),
			`f.toml: peoplesoft.type: missing: "dir" or "ftp"`},
		{"dir without path", strings.Replace(minimalConfig, "path = \"/srv/ps\"\n", "", 1),
			`f.toml: peoplesoft.path: missing: a "dir" drop needs the folder's path`},
		{"bad item type", minimalConfig + "[item_types]\nOVERDUEFINE = \"12\"\n",
			`f.toml:9: item_types.OVERDUEFINE: "12" is not a 12-digit PeopleSoft item type`},
		{"overlapping terms", minimalConfig + "[[terms]]\ncode = \"A\"\nstart = 2026-01-01\nend = 2026-05-31\n[[terms]]\ncode = \"B\"\nstart = 2026-05-01\nend = 2026-08-01\n",
			"f.toml:12: terms[1]: term B overlaps term A"},
		{"term ends before start", minimalConfig + "[[terms]]\ncode = \"A\"\nstart = 2026-05-01\nend = 2026-01-31\n",
			"f.toml:11: terms[0].end: term A ends (2026-01-31) before it starts (2026-05-01)"},
		{"bad date", minimalConfig + "[[terms]]\ncode = \"A\"\nstart = \"May 1\"\nend = 2026-01-31\n",
			`f.toml:10: terms.start: "May 1" is not a date (YYYY-MM-DD)`},
		{"secret value in _env", minimalConfig + "[webhook]\nsecret_env = \"abc def!\"\n",
			`f.toml:9: webhook.secret_env: "abc def!" is not an environment variable name (a secret is never written here, only the name of the variable that holds it)`},
		{"bad timezone", "timezone = \"Mars/Olympus\"\n" + minimalConfig,
			`f.toml:1: timezone: unknown time zone "Mars/Olympus"`},
		{"bad tls", strings.Replace(minimalConfig, "type = \"dir\"\npath = \"/srv/lib\"", "type = \"ftp\"\naddress = \"ftp:21\"\nuser = \"u\"\ntls = \"maybe\"", 1),
			`f.toml:6: library.tls: "maybe" is not "explicit", "implicit" or "none"`},
		{"unknown key in array", minimalConfig + "[[terms]]\ncode = \"A\"\n[[terms]]\ncode = \"B\"\nstrat = 2026-01-01\n",
			"f.toml:12: terms.strat: unknown key"},
		{"rate", minimalConfig + "[alma]\nrate_per_second = 100\n",
			"f.toml:9: alma.rate_per_second: 100 is outside 1..25 (Alma refuses more than 25 calls a second)"},
		{"workers", minimalConfig + "[alma]\nworkers = 40\n",
			"f.toml:9: alma.workers: 40 is outside 1..16"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig("f.toml", []byte(tc.text))
			if err == nil {
				t.Fatal("no error")
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("error\n got: %s\nwant: %s", got, tc.want)
			}
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Errorf("error is %T, want *ConfigError", err)
			}
			if strings.Contains(err.Error(), "s3cret-key") || strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error shows the secret: %v", err)
			}
		})
	}
}

func TestDefaultConfig(t *testing.T) {
	c := DefaultConfig()
	if c.Schedules.Charges != DefaultChargesSchedule || c.Layout.Charges != "reference" || c.Currency != "USD" {
		t.Errorf("defaults = %+v", c)
	}
}

func TestKeyLines(t *testing.T) {
	text := "a = 1\n# c = 2\n[t]\nb = \"\"\"\nx = 3\n\"\"\"\n\"q\" . r = 4\n[[arr]]\nk = 1\n[[arr]]\nk = 2\n"
	got := keyLines([]byte(text))
	want := map[string]int{"a": 1, "t": 3, "t.b": 4, "t.q.r": 7, "arr": 8, "arr[0]": 8, "arr[0].k": 9, "arr[1]": 10, "arr[1].k": 11, "arr.k": 9}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("keyLines (-want +got):\n%s", d)
	}
}

// FuzzParseConfig checks that any text gives a config or a *ConfigError,
// never a panic, and that an accepted config's calendar is sound.
func FuzzParseConfig(f *testing.F) {
	example, err := os.ReadFile("feesync.example.toml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(example))
	f.Add(minimalConfig)
	f.Add(minimalConfig + "[[terms]]\ncode = \"A\"\nstart = 2026-01-01\nend = 2026-05-31\n")
	f.Add(minimalConfig + "[alma]\napi_key = \"x\"\n")
	f.Fuzz(func(t *testing.T, text string) {
		c, err := ParseConfig("f.toml", []byte(text))
		if err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %T: %v", err, err)
			}
			return
		}
		if err := c.mapping().Validate(); err != nil {
			t.Fatalf("accepted a config whose mapping is invalid: %v", err)
		}
	})
}
