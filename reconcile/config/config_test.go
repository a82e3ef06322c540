package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/feebridge/feebridge/reconcile/config"
)

// exampleFile is feesync's example config, the complete reference of the
// keys.
const exampleFile = "../../examples/feesync/feesync.example.toml"

func TestExampleConfig(t *testing.T) {
	c, err := config.Load(exampleFile)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Schedules, config.DefaultSchedules(); got != want {
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
		{"serve lease too short", minimalConfig + "[serve]\nlease = \"1s\"\n",
			"f.toml:9: serve.lease: 1s is not a lease from 3s to 1h (it is renewed every third of it)"},
		{"serve instance on two lines", minimalConfig + "[serve]\ninstance = \"a\\nb\"\n",
			`f.toml:9: serve.instance: "a\nb" is not a name of at most 100 printable characters`},
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
			`f.toml: peoplesoft.type: missing: "dir", "ftp" or "sftp"`},
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
			_, err := config.Parse(strings.NewReader(tc.text), "f.toml")
			if err == nil {
				t.Fatal("no error")
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("error\n got: %s\nwant: %s", got, tc.want)
			}
			var ce *config.Error
			if !errors.As(err, &ce) {
				t.Errorf("error is %T, want *config.Error", err)
			}
			if strings.Contains(err.Error(), "s3cret-key") || strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error shows the secret: %v", err)
			}
		})
	}
}

func TestDefault(t *testing.T) {
	c := config.Default()
	if c.Schedules != config.DefaultSchedules() || c.Layout.Charges != "reference" || c.Currency != "USD" {
		t.Errorf("defaults = %+v", c)
	}
}

// FuzzParse checks that any text gives a config or a *config.Error,
// never a panic, and that an accepted config's calendar is sound.
func FuzzParse(f *testing.F) {
	example, err := os.ReadFile(exampleFile)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(example))
	f.Add(minimalConfig)
	f.Add(minimalConfig + "[[terms]]\ncode = \"A\"\nstart = 2026-01-01\nend = 2026-05-31\n")
	f.Add(minimalConfig + "[alma]\napi_key = \"x\"\n")
	f.Fuzz(func(t *testing.T, text string) {
		c, err := config.Parse(strings.NewReader(text), "f.toml")
		if err != nil {
			var ce *config.Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %T: %v", err, err)
			}
			return
		}
		if err := c.Mapping().Validate(); err != nil {
			t.Fatalf("accepted a config whose mapping is invalid: %v", err)
		}
	})
}

func TestDefaultSchedules(t *testing.T) {
	want := config.SchedulesConfig{Charges: "30 18 * * *", Payments: "5 * * * *", Credits: "35 * * * *",
		Reconcile: "30 6 * * *", Report: "0 7 * * *"}
	if got := config.DefaultSchedules(); got != want {
		t.Errorf("schedules (-want +got):\n%s", cmp.Diff(want, got))
	}
	for _, s := range []config.CronSpec{want.Charges, want.Payments, want.Credits, want.Reconcile, want.Report} {
		if _, err := s.Schedule(); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
}

// TestJournalRelativeToFile: a relative journal path is taken in the
// config file's folder, not in the working directory; an absolute one is
// kept.
func TestJournalRelativeToFile(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ journal, want string }{
		{"j.db", filepath.Join(dir, "j.db")},
		{"state/j.db", filepath.Join(dir, "state", "j.db")},
		{"/var/lib/feesync/j.db", "/var/lib/feesync/j.db"},
	} {
		path := filepath.Join(dir, "feesync.toml")
		text := strings.Replace(minimalConfig, `journal = "/tmp/j.db"`, `journal = "`+tc.journal+`"`, 1)
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := config.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		if c.Journal != tc.want {
			t.Errorf("journal %q: got %s, want %s", tc.journal, c.Journal, tc.want)
		}
	}
}
