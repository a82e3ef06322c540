package config

import (
	"fmt"
	"regexp"
	"time"

	"github.com/feebridge/feebridge/reconcile"
)

// Wait is a duration that may be zero (off), written as a Go duration
// ("1m", "90s", "0s").
type Wait time.Duration

// D is the wait as a time.Duration.
func (w Wait) D() time.Duration { return time.Duration(w) }

// UnmarshalText parses a Go duration, which must not be negative.
func (w *Wait) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil || v < 0 {
		return fmt.Errorf("%q is not a duration such as 0s, 30s or 2m", b)
	}
	*w = Wait(v)
	return nil
}

// MaxSettle is the longest settle a drop may have.
const MaxSettle = Wait(24 * time.Hour)

// markerRE is what a done_marker may be: a suffix that starts with a dot.
var markerRE = regexp.MustCompile(`^\.[A-Za-z0-9_-][A-Za-z0-9_.-]{0,31}$`)

// checkClaim checks the settle and done_marker of the drop d called key.
func (c *Config) checkClaim(key string, d *DropConfig) error {
	if d.Settle < 0 || d.Settle > MaxSettle {
		return c.errorf(key+".settle", "%s is not from 0s to %s", d.Settle.D(), MaxSettle.D())
	}
	if d.DoneMarker != "" && !markerRE.MatchString(d.DoneMarker) {
		return c.errorf(key+".done_marker", "%q is not a file name suffix that starts with a dot, such as \".done\" (letters, digits, _, - and ., at most 32)", d.DoneMarker)
	}
	return nil
}

// claimRule is the jobs' rule for claiming the files of the drop d.
func claimRule(d DropConfig) reconcile.ClaimRule {
	return reconcile.ClaimRule{Settle: d.Settle.D(), DoneMarker: d.DoneMarker}
}
