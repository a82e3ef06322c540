package config_test

import (
	"strings"
	"testing"

	"github.com/feebridge/feebridge/reconcile/config"
)

// Three mistakes in three sections of one file: all three are reported at
// once, each with its file, line and key.
func TestConfigReportsEveryMistake(t *testing.T) {
	text := minimalConfig + "[alma]\nregion = \"mars\"\n[item_types]\nOVERDUEFINE = \"12\"\n[[terms]]\ncode = \"A\"\nstart = 2026-05-01\nend = 2026-01-31\n"
	_, err := config.Parse(strings.NewReader(text), "f.toml")
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`f.toml:9: alma.region: unknown region "mars"`,
		`f.toml:11: item_types.OVERDUEFINE: "12" is not a 12-digit PeopleSoft item type`,
		"f.toml:15: terms[0].end: term A ends (2026-01-31) before it starts (2026-05-01)",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}
