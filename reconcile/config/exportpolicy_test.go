package config_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/feebridge/feebridge/alma/exportlint"
	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile/config"
)

func TestExportPolicy(t *testing.T) {
	text := minimalConfig + `[export_policy]
minimum_amount = "5.00"
minimum_age_days = 7
excluded_user_groups = ["STAFF"]
libraries = ["MAIN", "LAW"]
fee_types = ["OVERDUEFINE"]
`
	c, err := config.Parse(strings.NewReader(text), "f.toml")
	if err != nil {
		t.Fatal(err)
	}
	p, ok := c.LintPolicy()
	want := exportlint.Policy{MinimumAmount: fees.MustParseMoney("5.00", fees.USD), MinimumAgeDays: 7,
		ExcludedUserGroups: []string{"STAFF"}, Libraries: []string{"MAIN", "LAW"}, FeeTypes: []fees.Type{fees.TypeOverdueFine}}
	if !ok || !p.MinimumAmount.Equal(want.MinimumAmount) {
		t.Fatalf("LintPolicy = %+v, %v", p, ok)
	}
	p.MinimumAmount, want.MinimumAmount = fees.Money{}, fees.Money{}
	if diff := cmp.Diff(want, p, cmp.AllowUnexported(fees.Money{})); diff != "" {
		t.Errorf("policy (-want +got):\n%s", diff)
	}

	// A whole number is an amount too; no section is no policy.
	c, err = config.Parse(strings.NewReader(minimalConfig+"[export_policy]\nminimum_amount = 5\n"), "f.toml")
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := c.LintPolicy(); p.MinimumAmount.String() != "5.00 USD" {
		t.Errorf("minimum_amount = 5 read as %v", p.MinimumAmount)
	}
	c, err = config.Parse(strings.NewReader(minimalConfig), "f.toml")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.LintPolicy(); ok {
		t.Error("a config without [export_policy] has a policy")
	}
}

func TestExportPolicyErrors(t *testing.T) {
	for _, tc := range []struct{ name, section, want string }{
		{"float amount", "minimum_amount = 5.5\n",
			`f.toml:9: export_policy.minimum_amount: 5.5 is a float: write the amount as a string, such as "5.50", so that no cent is rounded`},
		{"too many decimals", "minimum_amount = \"5.001\"\n",
			`f.toml:9: export_policy.minimum_amount: "5.001" is not a positive amount in USD, such as "5.00"`},
		{"negative amount", "\nminimum_amount = \"-1.00\"\n",
			`f.toml:10: export_policy.minimum_amount: "-1.00" is not a positive amount in USD, such as "5.00"`},
		{"negative age", "minimum_age_days = -1\n",
			"f.toml:9: export_policy.minimum_age_days: -1 is not a number of days from 0 to 3650"},
		{"empty group", "excluded_user_groups = [\"STAFF\", \"\"]\n",
			"f.toml:9: export_policy.excluded_user_groups: entry 2 is empty"},
		{"empty library", "libraries = [\" \"]\n",
			"f.toml:9: export_policy.libraries: entry 1 is empty"},
		{"unknown key", "minimum_fee = \"5.00\"\n",
			"f.toml:9: export_policy.minimum_fee: unknown key"},
		{"a list is not a string", "fee_types = \"OVERDUEFINE\"\n",
			"f.toml:9: export_policy.fee_types: incompatible types: TOML value has type string; destination has type slice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Parse(strings.NewReader(minimalConfig+"[export_policy]\n"+tc.section), "f.toml")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v\nwant %s", err, tc.want)
			}
		})
	}
}

// TestExportPolicyExample: the example config states a policy.
func TestExportPolicyExample(t *testing.T) {
	c, err := config.Load(exampleFile)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := c.LintPolicy()
	if !ok || p.MinimumAmount.String() != "5.00 USD" || p.MinimumAgeDays != 7 || len(p.ExcludedUserGroups) != 2 {
		t.Errorf("example policy = %+v, %v", p, ok)
	}
}
