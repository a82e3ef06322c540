package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/reconcile/config"
)

// The results of PeopleSoft's load: a folder of their own on its drop,
// their layout, their schedule; each mistake named by file, line and key.
func TestResultsConfig(t *testing.T) {
	dir := t.TempDir()
	chargesLayout := filepath.Join(dir, "charges.toml")
	if err := os.WriteFile(chargesLayout, []byte("kind = \"charges\"\nformat = \"csv\"\n[[detail.fields]]\nname = \"EMPLID\"\n[[detail.fields]]\nname = \"ITEM_TYPE\"\n[[detail.fields]]\nname = \"REF1_DESCR\"\n[[detail.fields]]\nname = \"AMOUNT\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, text, want string }{
		{"results in the outbound folder", minimalConfig + "results_folder = \"outbound\"\n",
			`f.toml:8: peoplesoft.results_folder: "outbound" is also another folder of the drop: the results need a folder of their own`},
		{"not a relative folder", minimalConfig + "results_folder = \"../results\"\n",
			`f.toml:8: peoplesoft.results_folder: "../results" is not a relative folder (no leading /, no ..)`},
		{"a layout without the folder", minimalConfig + "[layout]\nresults = \"reference\"\n",
			"f.toml:9: layout.results: set peoplesoft.results_folder too, or the results are never read"},
		{"a schedule without the folder", minimalConfig + "[schedules]\nresults = \"35 * * * *\"\n",
			"f.toml:9: schedules.results: set peoplesoft.results_folder too, or the results are never read"},
		{"a charges layout for the results", minimalConfig + "results_folder = \"results\"\n[layout]\nresults = \"" + chargesLayout + "\"\n",
			"f.toml:10: layout.results: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Parse(strings.NewReader(tc.text), "f.toml")
			var ce *config.Error
			if err == nil || !errors.As(err, &ce) || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("error\n got: %v\nwant: %s…", err, tc.want)
			}
		})
	}
	c, err := config.Parse(strings.NewReader(minimalConfig+"results_folder = \"results\"\n"), "f.toml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Schedules.Results != config.ResultsSchedule {
		t.Errorf("schedules.results = %q, want the default %q", c.Schedules.Results, config.ResultsSchedule)
	}
	found := false
	for _, f := range c.Folders() {
		if f.Key == "peoplesoft.results_folder" {
			found = f.Folder == "results" && f.Inbound == reconcile.JobResults
		}
	}
	if !found {
		t.Errorf("Folders() lacks peoplesoft.results_folder: %+v", c.Folders())
	}
	c, err = config.Parse(strings.NewReader(minimalConfig), "f.toml")
	if err != nil || c.Schedules.Results != "" {
		t.Errorf("without a results folder: schedules.results = %q, %v; want none", c.Schedules.Results, err)
	}
}
