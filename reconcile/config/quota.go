package config

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/reconcile"
)

// ReserveSpec is alma.daily_reserve as written: a TOML integer (2000) or
// a string ("5%", "2000"). Validate reads it ([reconcile.ParseReserve]).
type ReserveSpec string

// UnmarshalTOML takes an integer or a string; anything else is left for
// Validate to name, with its line.
func (r *ReserveSpec) UnmarshalTOML(v any) error {
	switch x := v.(type) {
	case int64:
		*r = ReserveSpec(strconv.FormatInt(x, 10))
	case float64:
		*r = ReserveSpec(strconv.FormatFloat(x, 'f', -1, 64))
	case string:
		*r = ReserveSpec(x)
	default:
		*r = ReserveSpec(fmt.Sprint(v))
	}
	return nil
}

// checkAlmaQuota reads alma.daily_reserve (default 5%) and alma.time_zone
// (default timezone).
func (c *Config) checkAlmaQuota() error {
	c.reserve = reconcile.DefaultReserve
	if c.Alma.DailyReserve != "" || c.defined("alma.daily_reserve") {
		r, err := reconcile.ParseReserve(string(c.Alma.DailyReserve))
		if err != nil {
			return c.errorf("alma.daily_reserve", "%v", err)
		}
		c.reserve = r
	}
	c.almaLoc = c.loc
	if c.Alma.TimeZone != "" {
		loc, err := time.LoadLocation(c.Alma.TimeZone)
		if err != nil {
			return c.errorf("alma.time_zone", "unknown time zone %q (want an IANA name such as America/Chicago)", c.Alma.TimeZone)
		}
		c.almaLoc = loc
	}
	return nil
}

// AlmaLocation is Alma's time zone (alma.time_zone, or timezone), where
// its daily quota starts again at midnight; set when the config is
// validated.
func (c *Config) AlmaLocation() *time.Location {
	if c.almaLoc == nil {
		return c.loc
	}
	return c.almaLoc
}

// DailyReserve is alma.daily_reserve, read; set when the config is
// validated.
func (c *Config) DailyReserve() reconcile.Reserve { return c.reserve }

// observeAlma is the observer of the client Open builds: the run's tally
// and the quota gate, then Options.AlmaObserve.
func (o *Options) observeAlma() func(ctx context.Context, c alma.Call) {
	next, gate := o.AlmaObserve, o.quota
	return ObserveAlma(func(ctx context.Context, c alma.Call) {
		gate.Observe(ctx, c.Remaining)
		if next != nil {
			next(ctx, c)
		}
	})
}
