package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os/user"
	"strconv"
	"strings"
	"time"

	"github.com/feebridge/feebridge/reconcile"
)

// heldFlags are the flags of `feesync held` and `feesync dismiss`.
type heldFlags struct {
	kind   string // held, dismiss: the kind of record (charge, credit, payment), "" for any
	reason string // dismiss: why
	by     string // dismiss: who; the OS user by default
}

func heldCommands() []command {
	return []command{
		{name: "held", usage: "[-config F] [-kind charge|credit|payment|refund] [-all]", maxArgs: 0,
			flags: func(m *Main, fs *flag.FlagSet) {
				fs.StringVar(&m.configPath, "config", "", "the config `file` (default $FEEBRIDGE_CONFIG)")
				fs.StringVar(&m.held.kind, "kind", "", "list only records of this `kind`: charge, credit or payment")
				fs.BoolVar(&m.all, "all", false, "also list the held records closed (dismissed, superseded), with who closed them, when and why")
			},
			run: (*Main).listHeld, needsConfig: true},
		{name: "dismiss", usage: "KEY -reason TEXT [-by NAME] [-kind K] [-config F]", maxArgs: 1,
			flags: func(m *Main, fs *flag.FlagSet) {
				fs.StringVar(&m.configPath, "config", "", "the config `file` (default $FEEBRIDGE_CONFIG)")
				fs.StringVar(&m.held.kind, "kind", "", "the `kind` of the record, when records of several kinds are held under KEY")
				fs.StringVar(&m.held.reason, "reason", "", "why the record is dismissed (required; kept in the journal)")
				fs.StringVar(&m.held.by, "by", "", "who dismisses it (default: the user running feesync)")
			},
			run: (*Main).dismiss, needsConfig: true},
	}
}

// checkKind refuses a kind that is not one of charge, credit, payment,
// refund.
func checkKind(cmd, kind string) error {
	switch kind {
	case "", reconcile.KindCharge, reconcile.KindCredit, reconcile.KindPayment, reconcile.KindRefund:
		return nil
	}
	return usagef("%s: -kind %q is not charge, credit, payment or refund", cmd, kind)
}

// listHeld prints the records held, newest first, one a line, tab
// separated, under a header: status, kind, key, file, line, student
// (masked unless the log shows student ids), amount, code, reason, and
// when, then (last, so that the columns before keep their places) how
// long ago it was held, for people (AGE, such as "3 d 4 h"). With -all the held records closed follow, newest first, with who
// closed them and why.
func (m *Main) listHeld(ctx context.Context) error {
	if err := checkKind("held", m.held.kind); err != nil {
		return err
	}
	jobs, err := m.openJobs(ctx, false)
	if err != nil {
		return err
	}
	held, err := jobs.ListHeld(ctx, m.held.kind)
	if err != nil {
		return err
	}
	mask := !m.config.Log.ShowStudentIDs
	w := m.Stdout
	fmt.Fprintln(w, "STATUS\tKIND\tKEY\tFILE\tLINE\tSTUDENT\tAMOUNT\tCODE\tREASON\tWHEN\tBY\tWHY\tAGE")
	for _, r := range held {
		fmt.Fprintln(w, strings.Join([]string{"held", r.Kind, r.Key, dash(r.File), lineOf(r.Line),
			dash(maskIf(r.UserID, mask)), amountOf(r.Amount.Valid(), r.Amount.String()), dash(r.Code), oneLine(r.Reason),
			r.Updated.UTC().Format(time.RFC3339), "-", "-", humanAge(m.Now().Sub(r.Updated))}, "\t"))
	}
	if !m.all {
		return nil
	}
	closed, err := jobs.Closures(ctx, m.held.kind)
	if err != nil {
		return err
	}
	for _, c := range closed {
		fmt.Fprintln(w, strings.Join([]string{c.Action, c.Kind, c.Key, dash(c.File), lineOf(c.Line),
			dash(maskIf(c.UserID, mask)), amountOf(c.Amount.Valid(), c.Amount.String()), dash(c.Code), oneLine(c.HeldReason),
			c.At.UTC().Format(time.RFC3339), c.By, oneLine(c.Reason), "-"}, "\t"))
	}
	return nil
}

// dismiss closes the held record KEY with -reason, as -by or the OS user.
func (m *Main) dismiss(ctx context.Context) error {
	if len(m.args) != 1 {
		return usagef("dismiss: which record? give its KEY (see 'feesync held')")
	}
	if err := checkKind("dismiss", m.held.kind); err != nil {
		return err
	}
	if strings.TrimSpace(m.held.reason) == "" {
		return usagef("dismiss: -reason is required: say why the record is dismissed")
	}
	by := m.held.by
	if by == "" {
		if u, err := user.Current(); err == nil {
			by = u.Username
		} else {
			by = m.Getenv("USER")
		}
	}
	if strings.TrimSpace(by) == "" {
		return usagef("dismiss: who dismisses it? the OS user is unknown: give -by NAME")
	}
	jobs, err := m.openJobs(ctx, false)
	if err != nil {
		return err
	}
	key := m.args[0]
	r, err := jobs.Dismiss(ctx, m.held.kind, key, by, m.held.reason)
	if errors.Is(err, reconcile.ErrNotHeld) {
		return fmt.Errorf("dismiss: %w; 'feesync held' lists the records held", err)
	}
	if err != nil {
		return fmt.Errorf("dismiss: %w", err)
	}
	m.logger.Info("held record dismissed", "kind", r.Kind, "key", r.Key, "file", r.File, "line", r.Line, "by", by,
		"reason", m.held.reason)
	fmt.Fprintf(m.Stdout, "dismissed %s %s (%s line %d, held for: %s) by %s: %s\n",
		r.Kind, r.Key, dash(r.File), r.Line, oneLine(r.Reason), by, m.held.reason)
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func lineOf(n int) string {
	if n == 0 {
		return "-"
	}
	return strconv.Itoa(n)
}

func amountOf(valid bool, s string) string {
	if !valid {
		return "-"
	}
	return s
}

// oneLine keeps a text on one line of a tab-separated listing.
func oneLine(s string) string {
	return strings.NewReplacer("\t", " ", "\n", " ", "\r", " ").Replace(s)
}

// humanAge writes d for people: "3 d 4 h", "5 h 20 min", "12 min",
// "under 1 min".
func humanAge(d time.Duration) string {
	if d < time.Minute {
		return "under 1 min"
	}
	days, hours, mins := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case days > 0:
		return fmt.Sprintf("%d d %d h", days, hours)
	case hours > 0:
		return fmt.Sprintf("%d h %d min", hours, mins)
	}
	return fmt.Sprintf("%d min", mins)
}
