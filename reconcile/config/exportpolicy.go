package config

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/feebridge/feebridge/alma/exportlint"
	"github.com/feebridge/feebridge/fees"
)

// ExportPolicyConfig is the [export_policy] section: what the district
// means Alma's bursar integration profile to export. feesync never drops
// a fee Alma exported (Alma has marked it Transferred; dropped, it would
// be lost): `feesync lint-export` reads a sample export and names each fee
// this policy would not have sent, so that the profile can be fixed.
//
//	[export_policy]
//	minimum_amount = "5.00"        # in the config's currency
//	minimum_age_days = 7           # from the fee's last transaction to the export
//	excluded_user_groups = ["STAFF", "FACULTY"]
//	libraries = ["MAIN", "LAW"]    # owning libraries billed; empty: all
//	fee_types = ["OVERDUEFINE", "LOSTITEMREPLACEMENTFEE", "LOSTITEMPROCESSFEE"]
//
// Every key is optional; one left out checks nothing.
type ExportPolicyConfig struct {
	// MinimumAmount: a fee below it should not be exported. Written as a
	// string ("5.00") so that no cent is rounded.
	MinimumAmount Amount `toml:"minimum_amount"`
	// MinimumAgeDays: a fee whose last transaction is fewer days before
	// the export should not be exported yet.
	MinimumAgeDays int `toml:"minimum_age_days"`
	// ExcludedUserGroups are Alma user group codes not billed through the
	// bursar.
	ExcludedUserGroups []string `toml:"excluded_user_groups"`
	// Libraries are the codes of the owning libraries whose fees are
	// billed; empty: all, and the institution's own fees.
	Libraries []string `toml:"libraries"`
	// FeeTypes are Alma's fee type codes that are billed; empty: all.
	FeeTypes []string `toml:"fee_types"`
}

// Amount is an amount of money written in the config as a string
// ("5.00") or a whole number (5); a TOML float is refused, since it
// cannot hold every amount exactly. It is parsed in the config's currency
// when the config is validated.
type Amount string

// UnmarshalTOML takes a string or an integer.
func (a *Amount) UnmarshalTOML(v any) error {
	switch v := v.(type) {
	case string:
		*a = Amount(v)
	case int64:
		*a = Amount(strconv.FormatInt(v, 10))
	case float64:
		return fmt.Errorf("%v is a float: write the amount as a string, such as \"%.2f\", so that no cent is rounded", v, v)
	default:
		return fmt.Errorf("want an amount such as \"5.00\", not a %T", v)
	}
	return nil
}

// maxPolicyAgeDays bounds export_policy.minimum_age_days: ten years.
const maxPolicyAgeDays = 3650

// checkExportPolicy checks the [export_policy] section, when there is one.
func (c *Config) checkExportPolicy() error {
	ep := c.ExportPolicy
	if ep == nil {
		return nil
	}
	const sec = "export_policy."
	if ep.MinimumAmount != "" {
		m, err := fees.ParseMoney(string(ep.MinimumAmount), c.cur)
		if err != nil || !m.IsPositive() {
			return c.errorf(sec+"minimum_amount", "%q is not a positive amount in %s, such as \"5.00\"", ep.MinimumAmount, c.cur)
		}
	}
	if ep.MinimumAgeDays < 0 || ep.MinimumAgeDays > maxPolicyAgeDays {
		return c.errorf(sec+"minimum_age_days", "%d is not a number of days from 0 to %d", ep.MinimumAgeDays, maxPolicyAgeDays)
	}
	for _, l := range []struct {
		key  string
		list []string
	}{{"excluded_user_groups", ep.ExcludedUserGroups}, {"libraries", ep.Libraries}, {"fee_types", ep.FeeTypes}} {
		for i, v := range l.list {
			if strings.TrimSpace(v) == "" {
				return c.errorf(sec+l.key, "entry %d is empty", i+1)
			}
		}
	}
	return nil
}

// LintPolicy is the [export_policy] section as the policy that
// `feesync lint-export` checks; ok is false when the config has no such
// section. Call it on a validated config.
func (c *Config) LintPolicy() (p exportlint.Policy, ok bool) {
	ep := c.ExportPolicy
	if ep == nil {
		return exportlint.Policy{}, false
	}
	if ep.MinimumAmount != "" {
		p.MinimumAmount = fees.MustParseMoney(string(ep.MinimumAmount), c.cur)
	}
	p.MinimumAgeDays = ep.MinimumAgeDays
	p.ExcludedUserGroups = ep.ExcludedUserGroups
	p.Libraries = ep.Libraries
	for _, t := range ep.FeeTypes {
		p.FeeTypes = append(p.FeeTypes, fees.Type(t))
	}
	return p, true
}
