package main

import (
	"fmt"

	"github.com/feebridge/feebridge/reconcile"
)

// adapters fills deps with the file formats: Alma's export and import,
// PeopleSoft's charge and payment files.
func (m *Main) adapters(deps *reconcile.Deps) error {
	return fmt.Errorf("the adapters between the file formats and the jobs: %w", errNotAvailable)
}

// almaAPI is the Alma REST client, as the jobs use it.
func (m *Main) almaAPI() (reconcile.AlmaAPI, error) {
	return nil, fmt.Errorf("the Alma API adapter for the jobs: %w", errNotAvailable)
}
