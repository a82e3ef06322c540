package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/feebridge/feebridge/alma/almatest"
	"github.com/feebridge/feebridge/examples/district"
	"github.com/feebridge/feebridge/reconcile"
)

// journalExports plays the evening before the returns as a district runs
// it: the bursar export files Alma wrote in the district's library folder
// go to the run's library folder, and feebridge's charges job sends them
// to the bursar. The journal then knows which lost-item fees an export
// carried, which is how the lost-returns handler picks the one fee status
// to list (EXPORTED). It makes no call to Alma and is not measured.
func journalExports(ctx context.Context, jobs *reconcile.Jobs, world *district.District, srv *almatest.Server, dir string, want int) error {
	for _, ex := range srv.Exports() {
		if ex.File == "" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(world.Dir(), "library", filepath.FromSlash(ex.File)))
		if err != nil {
			return fmt.Errorf("the evening's export: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dir, libDir, "exports", filepath.Base(ex.File)), data, 0o644); err != nil {
			return fmt.Errorf("the evening's export: %w", err)
		}
	}
	run, err := jobs.Charges(ctx)
	if err != nil {
		return fmt.Errorf("the evening's charges: %w", err)
	}
	if run.Records != want {
		return fmt.Errorf("the evening's charges: %d records sent, want the %d lost-item fees", run.Records, want)
	}
	return nil
}
