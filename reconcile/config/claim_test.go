package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/feebridge/feebridge/reconcile/config"
)

// TestClaimKeys: settle defaults to a minute per drop, "0s" turns it off,
// and a bad settle or done_marker is an error naming file, line and key.
func TestClaimKeys(t *testing.T) {
	c, err := config.Parse(strings.NewReader(minimalConfig), "f.toml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Library.Settle.D() != time.Minute || c.PeopleSoft.Settle.D() != time.Minute || c.Library.DoneMarker != "" {
		t.Errorf("defaults: library %+v, peoplesoft %+v", c.Library.DropConfig, c.PeopleSoft.DropConfig)
	}
	text := strings.Replace(minimalConfig, "path = \"/srv/ps\"\n", "path = \"/srv/ps\"\nsettle = \"0s\"\ndone_marker = \".done\"\n", 1)
	if c, err = config.Parse(strings.NewReader(text), "f.toml"); err != nil {
		t.Fatal(err)
	}
	if c.PeopleSoft.Settle != 0 || c.PeopleSoft.DoneMarker != ".done" || c.Library.Settle.D() != time.Minute {
		t.Errorf("set: library %+v, peoplesoft %+v", c.Library.DropConfig, c.PeopleSoft.DropConfig)
	}
	for _, tc := range []struct{ name, add, want string }{
		{"negative settle", "settle = \"-1m\"\n", `f.toml:8: peoplesoft.settle: "-1m" is not a duration such as 0s, 30s or 2m`},
		{"settle too long", "settle = \"48h\"\n", `f.toml:8: peoplesoft.settle: 48h0m0s is not from 0s to 24h0m0s`},
		{"not a duration", "settle = 60\n", ``},
		{"marker without dot", "done_marker = \"done\"\n", `f.toml:8: peoplesoft.done_marker: "done" is not a file name suffix that starts with a dot, such as ".done" (letters, digits, _, - and ., at most 32)`},
		{"marker with folder", "done_marker = \".d/x\"\n", `f.toml:8: peoplesoft.done_marker: ".d/x" is not`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Parse(strings.NewReader(minimalConfig+tc.add), "f.toml")
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), "f.toml:8: peoplesoft.") || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error\n got: %s\nwant: %s", err, tc.want)
			}
		})
	}
}
