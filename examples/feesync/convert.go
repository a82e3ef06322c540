package main

import (
	"context"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/reconcile/config"
)

// convertMemoryLimit is the soft memory limit of the convert commands
// unless GOMEMLIMIT sets one; exportMemoryLimit that of convert
// alma-export, whose Go heap holds, besides buffers of a few megabytes,
// only the decoder's set of charge keys (2.6 MB at a million fees whose
// ids follow each other, 3.9 MB for Alma ids a thousand apart in random
// order).
// The limit is the collector's target there (limitExportMemory), so it
// sets the peak: the binary's own pages (about 17 MB resident) plus the
// heap up to the limit, under 32 MB resident from 100,000 to 1,000,000
// fees. The runtime's own structures take about 7 MiB of the limit.
const (
	convertMemoryLimit = 40 << 20
	exportMemoryLimit  = 17 << 20
)

// convertAlmaExport turns an Alma bursar export into a PeopleSoft charge
// file by running the charges job over a temporary journal and folders
// (config.ConvertExport): the same adapters and rules as `run charges`,
// streaming record by record. The run is dated -as-of (midnight in the
// config's zone), else now. Bad records are listed and left out; the rest
// is written.
func (m *Main) convertAlmaExport(ctx context.Context) error {
	const cmd = "convert alma-export"
	if m.in == "" || m.out == "" {
		return usagef("%s: -in and -out are required", cmd)
	}
	asOf, err := m.asOfDay()
	if err != nil {
		return err
	}
	now := func() time.Time { return m.Now().In(m.config.Location()) }
	if m.asOf != "" {
		now = func() time.Time { return asOf }
	}
	defer m.limitExportMemory()()
	res, err := config.ConvertExport(ctx, m.config, m.in, m.out, m.convertOptions(cmd, now))
	if err != nil {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	m.listRejections(res)
	m.logger.Info("convert done", "command", cmd, "in", m.in, "out", m.out, "files", 1,
		"records", res.Records, "total", m.total(res), "rejected", len(res.Rejected), "as_of", asOf.Format(time.DateOnly))
	return rejectedErr(cmd, res)
}

// convertPSPayments turns a PeopleSoft payment file into an Alma bursar
// import file by running the payments job over a temporary journal and
// folders (config.ConvertPayments): the same import records and the same
// rules (R4) as `run payments`. The journal knows the charges the payment
// lines name with their amount charged (CHARGE_AMT).
func (m *Main) convertPSPayments(ctx context.Context) error {
	const cmd = "convert ps-payments"
	if m.in == "" || m.out == "" {
		return usagef("%s: -in and -out are required", cmd)
	}
	now := m.Now
	if m.asOf != "" {
		asOf, err := m.asOfDay()
		if err != nil {
			return err
		}
		now = func() time.Time { return asOf }
	}
	defer m.limitMemory(convertMemoryLimit)()
	res, err := config.ConvertPayments(ctx, m.config, m.in, m.out, m.convertOptions(cmd, now))
	if err != nil {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	m.listRejections(res)
	m.logger.Info("convert done", "command", cmd, "in", m.in, "out", m.out, "files", 1,
		"records", res.Records, "total", m.total(res), "rejected", len(res.Rejected))
	return rejectedErr(cmd, res)
}

// convertOptions are the options of conversion cmd on clock now. The jobs
// log only their errors: a conversion lists its rejections, logs its own
// summary line and returns the error of a file that cannot be read.
func (m *Main) convertOptions(cmd string, now func() time.Time) *config.ConvertOptions {
	quiet := m.config.Log
	quiet.Level = "error"
	return &config.ConvertOptions{Now: now, Logger: newLogger(m.Stderr, quiet), Progress: m.progress(cmd)}
}

// progressEvery is how often a long conversion logs how far it got.
const progressEvery = 5 * time.Second

// progress returns a function that logs how many records were read, at
// most every progressEvery.
func (m *Main) progress(cmd string) func(n int) {
	last := m.Now()
	return func(n int) {
		if now := m.Now(); now.Sub(last) >= progressEvery {
			last = now
			m.logger.Info("progress", "command", cmd, "records_read", n)
		}
	}
}

// limitMemory sets a soft memory limit, unless GOMEMLIMIT sets one, and
// returns the function that restores the previous one. What stays in
// memory is the codecs' buffers, the journal's page cache and the export
// decoder's set of charge keys; a soft limit makes the collector keep the
// heap near that rather than let it double between collections.
func (m *Main) limitMemory(limit int64) func() {
	if m.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	old := debug.SetMemoryLimit(limit)
	return func() { debug.SetMemoryLimit(old) }
}

// total is the run's total, zero in the config's currency when nothing
// was written.
func (m *Main) total(res reconcile.RunResult) string {
	if !res.Total.Valid() {
		return fees.Zero(m.config.FeeCurrency()).String()
	}
	return res.Total.String()
}

// listRejections lists the records the run held back on stderr as
// FILE:LINE: KEY: reason, as `run` does, naming the input file.
func (m *Main) listRejections(res reconcile.RunResult) {
	for _, rj := range res.Rejected {
		m.rejected(m.in, rj.Line, rj.Key, rj.Reason)
	}
}

// rejectedErr is nil, or a *RejectedError when the run held records back.
func rejectedErr(cmd string, res reconcile.RunResult) error {
	if len(res.Rejected) == 0 {
		return nil
	}
	return &RejectedError{Command: cmd, Rejected: len(res.Rejected)}
}

// asOfDay is the -as-of day, or today, at midnight in the config's zone.
func (m *Main) asOfDay() (time.Time, error) {
	loc := m.config.Location()
	if m.asOf == "" {
		now := m.Now().In(loc)
		return time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc), nil
	}
	t, err := time.ParseInLocation(time.DateOnly, m.asOf, loc)
	if err != nil {
		return time.Time{}, usagef("-as-of %q: want YYYY-MM-DD", m.asOf)
	}
	return t, nil
}
