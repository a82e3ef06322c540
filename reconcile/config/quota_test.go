package config_test

import (
	"strings"
	"testing"

	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/reconcile/config"
)

func TestDailyReserve(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       reconcile.Reserve
		zone       string
	}{
		{"default", "", reconcile.Reserve{Percent: 5}, "America/Los_Angeles"},
		{"calls", "daily_reserve = 2000\n", reconcile.Reserve{Calls: 2000}, "America/Los_Angeles"},
		{"calls as text", "daily_reserve = \"2500\"\n", reconcile.Reserve{Calls: 2500}, "America/Los_Angeles"},
		{"none kept", "daily_reserve = 0\n", reconcile.Reserve{}, "America/Los_Angeles"},
		{"percent", "daily_reserve = \"2.5%\"\n", reconcile.Reserve{Percent: 2.5}, "America/Los_Angeles"},
		{"Alma's zone", "daily_reserve = \"10 %\"\ntime_zone = \"Europe/Amsterdam\"\n", reconcile.Reserve{Percent: 10}, "Europe/Amsterdam"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := config.Parse(strings.NewReader("timezone = \"America/Los_Angeles\"\n"+minimalConfig+"[alma]\n"+tc.text), "f.toml")
			if err != nil {
				t.Fatal(err)
			}
			if got := c.DailyReserve(); got != tc.want {
				t.Errorf("DailyReserve = %+v, want %+v", got, tc.want)
			}
			if got := c.AlmaLocation().String(); got != tc.zone {
				t.Errorf("AlmaLocation = %s, want %s", got, tc.zone)
			}
		})
	}
}

func TestDailyReserveErrors(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"daily_reserve = \"5 percent\"\n",
			`f.toml:10: alma.daily_reserve: "5 percent" is not a number of calls (such as 2000) or a percentage of the daily quota (such as "5%")`},
		{"daily_reserve = -3\n",
			`f.toml:10: alma.daily_reserve: "-3" is not a number of calls (such as 2000) or a percentage of the daily quota (such as "5%")`},
		{"daily_reserve = 12.5\n",
			`f.toml:10: alma.daily_reserve: "12.5" is not a number of calls (such as 2000) or a percentage of the daily quota (such as "5%")`},
		{"daily_reserve = \"150%\"\n",
			`f.toml:10: alma.daily_reserve: "150%" is not a percentage above 0% and at most 100%`},
		{"daily_reserve = \"0%\"\n",
			`f.toml:10: alma.daily_reserve: "0%" is not a percentage above 0% and at most 100%`},
		{"daily_reserve = \"\"\n",
			`f.toml:10: alma.daily_reserve: "" is not a number of calls (such as 2000) or a percentage of the daily quota (such as "5%")`},
		{"daily_reserve = true\n",
			`f.toml:10: alma.daily_reserve: "true" is not a number of calls (such as 2000) or a percentage of the daily quota (such as "5%")`},
		{"time_zone = \"Mars/Olympus\"\n",
			`f.toml:10: alma.time_zone: unknown time zone "Mars/Olympus" (want an IANA name such as America/Chicago)`},
	} {
		_, err := config.Parse(strings.NewReader(minimalConfig+"\n[alma]\n"+tc.text), "f.toml")
		if err == nil || err.Error() != tc.want {
			t.Errorf("%q: err = %v\nwant %s", tc.text, err, tc.want)
		}
	}
}
