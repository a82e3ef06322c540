package main

import (
	"context"
	"fmt"
)

func runJob(name string) func(*Main, context.Context) error {
	return func(m *Main, ctx context.Context) error {
		return fmt.Errorf("%s: %w", name, errNotAvailable)
	}
}

func (m *Main) redrive(ctx context.Context) error {
	return fmt.Errorf("redrive: %w", errNotAvailable)
}

func (m *Main) serve(ctx context.Context) error {
	return fmt.Errorf("serve: %w", errNotAvailable)
}
